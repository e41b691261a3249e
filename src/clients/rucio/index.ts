/** The Rucio client: `RucioClient` plus its types, errors and helpers. */
export { RucioClient } from "./client";
export { RucioBase, type RucioClientOptions, type CallOptions, didPath } from "./base";
export { RucioAuth, jwtExpiry, isJwt, type AuthMethod, type RucioToken } from "./auth";
export { RucioError, createRucioError, mapRucioStatus, rucioExceptionOf, type RucioErrorCode } from "./errors";
export { parseDid, formatDid, checkedDid, didProblem, type DidRef } from "./did-ref";
export { Dids, type DidSummary, type SearchOptions, type SearchType, type AddCollectionOptions } from "./dids";
export { Replicas, parseMetalink, type Replica, type ReplicaPfn, type ListReplicasOptions, type NewReplica, type MetalinkFile } from "./replicas";
export { Rules, ruleProgress, type NewRule, type RuleFilter, type RuleState, type FollowRuleOptions, type EnsureRuleOptions } from "./rules";
export { Rses } from "./rses";
export { Accounts } from "./accounts";
export { Scopes } from "./scopes";
export { parseFilterExpression, encodeFilters, pyStr, type FilterGroup, type FilterValue } from "./filters";
export { mountedPath, filePfnPath, downloadTarget, httpUrlOf } from "./paths";
export { rankReplicas, type DownloadOptions as RucioDownloadOptions, type DownloadedFile, type DownloadProgress } from "./download";
export { chooseWriteScheme, type UploadOptions as RucioUploadOptions, type UploadResult as RucioUploadResult } from "./upload";
export * from "./schemas";
