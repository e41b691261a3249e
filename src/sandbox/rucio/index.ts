import type { ServiceContext } from "../service";
import { RucioService, type RucioServiceOptions } from "./service";

export { RucioService } from "./service";
export type { RucioServiceOptions } from "./service";
export { Catalog, hashPath } from "./catalog";

/** The sandbox's Rucio server: call `start()` before serving requests. */
export function createRucioService(ctx: ServiceContext, options: RucioServiceOptions = {}): RucioService {
  return new RucioService(ctx, options);
}
