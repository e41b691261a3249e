/**
 * Typed clients for Rucio, REANA and Zenodo over one HTTP core. They know nothing of the kernel:
 * magics and widgets are built on them, and notebook code can use them directly.
 */
export * from "./errors";
export { LocalFileError, readSmallFile, readSmallFileSync, SMALL_FILE_MAX_BYTES } from "./small-file";
export * from "./config";
export * from "./rucio";
export * from "./reana";
export * from "./zenodo";
export type { CallOptions } from "./rucio";
export * as http from "./http";
export {
  HttpClient,
  submitOnce,
  withRetryListener,
  describeRetry,
  registerSecret,
  redact,
  redactUrl,
  checksumFile,
  downloadToFile,
  uploadFile,
  readNdjson,
  parse,
  type HttpClientOptions,
  type HttpRequest,
  type RetryEvent,
  type Logger,
  type LogLevel,
  type TransferProgress,
  type Checksums,
} from "./http";
