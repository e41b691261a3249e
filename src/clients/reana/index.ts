/** REANA: typed client for the 0.9.x REST API, reana.yaml loading and offline validation. */
export { ReanaClient } from "./client";
export type {
  ReanaSettings,
  ReanaClientOptions,
  CallOptions,
  ListWorkflowsOptions,
  CreateOptions,
  CreateResult,
  StartOptions,
  RunOptions,
  RunResult,
  UploadProgress,
  ReanaUser,
  SecretInput,
} from "./client";
export { ReanaError, ReanaSpecError, type ReanaErrorCode } from "./errors";
export { loadReanaSpec, parseReanaSpec, describeLocation, type LoadedReanaSpec, type ReanaSpecification, type WorkflowType } from "./spec";
export { validateReanaSpec, assertValid, formatIssues, operationalOptionProblems, serverCompatibilityProblems, DANGEROUS_OPERATIONS, type ValidationIssue, type ValidationReport } from "./validate";
export { expandCommand, expandSerialSpecification, findPlaceholders, ParameterExpansionError } from "./parameters";
export { checkFollowOptions, FOLLOW_INTERVAL_RANGE, followWorkflow, summarizeProgress, type FollowOptions, type WorkflowState, type ProgressSummary } from "./follow";
export { parseLogs, type WorkflowLogs, type JobLog } from "./logs";
export { parseDiff, type WorkflowDiff } from "./diff";
export { checkWithEngine } from "./engine-check";
export { extractZipSafely, type ExtractedFile, type ExtractOptions } from "./zip";
export { collectInputs, type UploadItem } from "./inputs";
export type { DownloadOptions, DownloadResult, UploadResult } from "./transfer";
export { RUN_STATUSES, TERMINAL_STATUSES, type RunStatus, type WorkflowSummary } from "./responses";
export { snakemakeSpecification } from "./snakemake";
