/** Zenodo: typed client for the legacy deposit API and search, offline metadata validation, codemeta conversion. */
export { ZenodoClient, mapZenodoStatus } from "./client";
export type {
  ZenodoSettings,
  ZenodoClientOptions,
  CallOptions,
  DepositionId,
  ListDepositionsOptions,
  SearchRecordsOptions,
  UploadedFile,
  PublishResult,
} from "./client";
export { ZenodoError, type ZenodoErrorCode, type FieldError } from "./errors";
export {
  validateDepositMetadata,
  assertValidMetadata,
  depositSchema,
  UPLOAD_TYPES,
  type DepositMetadata,
  type Creator,
  type UploadType,
  type MetadataIssue,
  type MetadataReport,
} from "./metadata";
export { zenodoInstance, type ZenodoInstance, type ZenodoInstanceKind } from "./instance";
export { checkLicenseId, orcidCheckDigit, orcidProblem, ZENODO_LICENSE_IDS, type LicenseCheck } from "./identifiers";
export { codemetaToZenodo, codemetaFileToZenodo, licenseId, type CodemetaConversion, type CodemetaOptions } from "./codemeta";
export type { Deposition, DepositionFile, ZenodoRecord } from "./responses";
export { resumableDeposit, rememberedDeposit, depositFileProblems, type DepositFileProblem, type DepositState, type DepositFileResult, type DepositProgress, type ResumableDepositOptions, type ResumableDepositResult } from "./resumable";
