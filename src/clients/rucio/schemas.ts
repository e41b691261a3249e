/**
 * zod schemas of Rucio answers (shapes from a real 35.8.0 server). Objects are loose: unknown keys are
 * kept, so newer servers' extra fields pass through. Dates come as RFC 1123 ("Wed, 25 Nov 2026 02:44:36
 * UTC") or zone-less ISO ("2026-11-25T02:44:29", which is UTC) and both become Date objects; `did_type`
 * may be null or "DIDType.DATASET" on old servers and is normalised to "DATASET".
 */
import { z } from "zod";

const RFC1123 = /^[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} (UTC|GMT)$/;
const ISO_NO_ZONE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?$/;

/** Parses a Rucio date string (RFC 1123 or ISO, zone-less meaning UTC); undefined if unparseable. */
export function parseRucioDate(s: string): Date | undefined {
  let v = s.trim();
  if (ISO_NO_ZONE.test(v)) v = `${v.replace(" ", "T")}Z`;
  else if (RFC1123.test(v)) v = v.replace(/ UTC$/, " GMT");
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : new Date(t);
}

export const RucioDate = z.string().transform((s, ctx) => {
  const d = parseRucioDate(s);
  if (!d) {
    ctx.addIssue({ code: "custom", message: "not an RFC 1123 or ISO date" });
    return z.NEVER;
  }
  return d;
});
export const OptDate = RucioDate.nullable().optional();

export type DidType = "FILE" | "DATASET" | "CONTAINER" | "ARCHIVE" | "DELETED_FILE" | "DELETED_DATASET" | "DELETED_CONTAINER";

export const DidTypeSchema = z
  .string()
  .nullable()
  .optional()
  .transform((v) => (v == null ? null : (v.replace(/^DIDType\./, "").toUpperCase() as DidType)));

const num = z.number().nullable().optional();
const str = z.string().nullable().optional();

export const PingSchema = z.looseObject({ version: z.string() });

export const AccountSchema = z.looseObject({
  account: z.string(),
  account_type: z.string().optional(),
  status: z.string().optional(),
  email: str,
  created_at: OptDate,
  updated_at: OptDate,
  suspended_at: OptDate,
  deleted_at: OptDate,
});

export const StringList = z.array(z.string());

/** A line of /dids/{scope}/dids/search: a bare name, or with long=True an object. */
export const DidSearchLine = z.union([
  z.string(),
  z.looseObject({ scope: z.string(), name: z.string(), did_type: DidTypeSchema, bytes: num, length: num }),
]);

export const DidSchema = z.looseObject({
  scope: z.string(),
  name: z.string(),
  type: DidTypeSchema,
  account: z.string().optional(),
  open: z.boolean().nullable().optional(),
  monotonic: z.boolean().nullable().optional(),
  expired_at: OptDate,
  length: num,
  bytes: num,
  md5: str,
  adler32: str,
});

export const DidContentLine = z.looseObject({
  scope: z.string(),
  name: z.string(),
  type: DidTypeSchema,
  bytes: num,
  adler32: str,
  md5: str,
});

export const DidFileLine = z.looseObject({
  scope: z.string(),
  name: z.string(),
  bytes: num,
  adler32: str,
  md5: str,
  guid: str,
  events: num,
});

export const DidParentLine = z.looseObject({ scope: z.string(), name: z.string(), type: DidTypeSchema });

export const ScopeDidLine = z.looseObject({
  scope: z.string(),
  name: z.string(),
  type: DidTypeSchema,
  parent: z.unknown().optional(),
  level: num,
  bytes: num,
});

/** DID metadata: ~45 DID columns; dates converted, everything else kept as sent. */
export const DidMetaSchema = z.record(z.string(), z.unknown()).transform((m) => {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) {
    if (k === "did_type") out[k] = v == null ? null : String(v).replace(/^DIDType\./, "");
    else if (typeof v === "string" && /_at$/.test(k)) out[k] = parseRucioDate(v) ?? v;
    else out[k] = v;
  }
  return out;
});

const PfnInfo = z.looseObject({
  rse_id: z.string().optional(),
  rse: z.string(),
  type: z.string().optional(),
  volatile: z.boolean().optional(),
  domain: z.string().optional(),
  priority: z.number().optional(),
  client_extract: z.boolean().optional(),
});

export const ReplicaLine = z.looseObject({
  scope: z.string(),
  name: z.string(),
  bytes: num,
  md5: str,
  adler32: str,
  pfns: z.record(z.string(), PfnInfo).default({}),
  rses: z.record(z.string(), z.array(z.string())).default({}),
  states: z.record(z.string(), z.string()).default({}),
});

export const DatasetReplicaLine = z.looseObject({ scope: z.string(), name: z.string(), rse: z.string().optional(), state: str });

export const RuleSchema = z.looseObject({
  id: z.string(),
  scope: z.string(),
  name: z.string(),
  did_type: DidTypeSchema,
  account: z.string(),
  rse_expression: z.string(),
  copies: z.number(),
  state: z.string(),
  locks_ok_cnt: num,
  locks_replicating_cnt: num,
  locks_stuck_cnt: num,
  grouping: str,
  activity: str,
  comments: str,
  error: str,
  locked: z.boolean().nullable().optional(),
  purge_replicas: z.boolean().nullable().optional(),
  notification: str,
  priority: num,
  child_rule_id: str,
  expires_at: OptDate,
  created_at: OptDate,
  updated_at: OptDate,
  stuck_at: OptDate,
});

export const RuleIdList = z.array(z.string());

export const LockLine = z.looseObject({
  scope: z.string(),
  name: z.string(),
  rse_id: z.string().optional(),
  rse: z.string().optional(),
  state: z.string(),
  rule_id: z.string(),
});

export const RseLine = z.looseObject({
  rse: z.string(),
  id: z.string().optional(),
  rse_type: z.string().optional(),
  deterministic: z.boolean().optional(),
  volatile: z.boolean().optional(),
  city: str,
  country_name: str,
  availability_read: z.boolean().optional(),
  availability_write: z.boolean().optional(),
  availability_delete: z.boolean().optional(),
  created_at: OptDate,
  updated_at: OptDate,
});

export const ProtocolSchema = z.looseObject({
  scheme: z.string(),
  hostname: z.string(),
  port: z.number(),
  prefix: z.string().nullable(),
  impl: z.string().optional(),
  domains: z.record(z.string(), z.record(z.string(), z.number().nullable())).optional(),
  extended_attributes: z.unknown().optional(),
});

export const RseInfoSchema = z.looseObject({
  rse: z.string(),
  id: z.string().optional(),
  rse_type: z.string().optional(),
  deterministic: z.boolean().optional(),
  volatile: z.boolean().optional(),
  lfn2pfn_algorithm: str,
  verify_checksum: z.boolean().optional(),
  protocols: z.array(ProtocolSchema).default([]),
});

export const RseAttributes = z.record(z.string(), z.union([z.string(), z.boolean(), z.number(), z.null()]));
export const ProtocolList = z.array(ProtocolSchema);
export const Lfns2PfnsSchema = z.record(z.string(), z.string());
export const AccountLimits = z.record(z.string(), z.number().nullable());
/**
 * A line of `GET /accounts/{account}/usage/local[/{rse}]`: what the account's rules lock on one RSE, against its quota.
 * A missing limit is 0; an infinite one (-1 or a huge float on some servers) passes as a number.
 */
export const AccountUsageLine = z.looseObject({
  rse_id: str,
  rse: z.string(),
  bytes: z.number(),
  files: num,
  bytes_limit: num,
  bytes_remaining: num,
});
/** A line of `GET /rses/{rse}/usage` (per source: rucio, storage, ...). */
export const UsageLine = z.looseObject({}).catchall(z.unknown());

export type Account = z.output<typeof AccountSchema>;
export type AccountUsage = z.output<typeof AccountUsageLine>;
export type Did = z.output<typeof DidSchema>;
export type DidContent = z.output<typeof DidContentLine>;
export type DidFile = z.output<typeof DidFileLine>;
export type DidParent = z.output<typeof DidParentLine>;
export type ScopeDid = z.output<typeof ScopeDidLine>;
export type RawReplica = z.output<typeof ReplicaLine>;
export type Rule = z.output<typeof RuleSchema>;
export type Lock = z.output<typeof LockLine>;
export type Rse = z.output<typeof RseLine>;
export type RseInfo = z.output<typeof RseInfoSchema>;
export type Protocol = z.output<typeof ProtocolSchema>;
