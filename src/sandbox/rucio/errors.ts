/** A Rucio exception as the REST layer reports it: HTTP status, `ExceptionClass` and message. */
export class RucioError extends Error {
  constructor(
    readonly status: number,
    readonly exceptionClass: string,
    message: string,
  ) {
    super(message);
    this.name = exceptionClass;
  }
}

export const notFound = (cls: string, message: string) => new RucioError(404, cls, message);
export const conflict = (cls: string, message: string) => new RucioError(409, cls, message);
export const badRequest = (cls: string, message: string) => new RucioError(400, cls, message);
/** Rucio 35.8 answers permission errors with 401, not 403. */
export const accessDenied = (message: string) => new RucioError(401, "AccessDenied", message);
export const cannotAuthenticate = (message = "Cannot authenticate with given credentials") =>
  new RucioError(401, "CannotAuthenticate", message);
export const didNotFound = (scope: string, name: string) =>
  notFound("DataIdentifierNotFound", `Data identifier '${scope}:${name}' not found`);
export const invalidObject = (message: string) => new RucioError(500, "InvalidObject", message);
