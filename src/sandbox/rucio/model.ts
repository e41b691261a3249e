/** Persistent records of the Rucio sandbox catalogue (one JSON document, written atomically). */

export type DidType = "FILE" | "DATASET" | "CONTAINER";
export type ReplicaState = "AVAILABLE" | "UNAVAILABLE" | "COPYING" | "BEING_DELETED" | "BAD" | "TEMPORARY_UNAVAILABLE";
export type RuleState = "REPLICATING" | "OK" | "STUCK" | "SUSPENDED" | "WAITING_APPROVAL" | "INJECT";
export type LockState = "REPLICATING" | "OK" | "STUCK";
export type Scalar = string | number | boolean | null;
export type MetaValue = Scalar | MetaValue[] | { [key: string]: MetaValue };

export interface AccountRecord {
  account: string;
  account_type: "USER" | "GROUP" | "SERVICE";
  email: string | null;
  status: "ACTIVE" | "SUSPENDED";
  admin: boolean;
  created_at: number;
  updated_at: number;
}

export interface IdentityRecord {
  identity: string;
  authtype: "USERPASS";
  /** scrypt hash, hex; never the password itself. */
  hash: string;
  salt: string;
  email: string | null;
  accounts: string[];
}

export interface TokenRecord {
  account: string;
  identity: string;
  expires: number;
}

export interface ScopeRecord {
  scope: string;
  account: string;
  created_at: number;
}

export interface ProtocolRecord {
  scheme: string;
  hostname: string;
  port: number;
  prefix: string;
  impl: string;
  domains: Record<string, Record<string, number>>;
  extended_attributes: MetaValue;
}

export interface RseRecord {
  id: string;
  rse: string;
  rse_type: "DISK" | "TAPE";
  deterministic: boolean;
  volatile: boolean;
  staging_area: boolean;
  city: string | null;
  region_code: string | null;
  country_name: string | null;
  continent: string | null;
  time_zone: string | null;
  ISP: string | null;
  ASN: string | null;
  longitude: number | null;
  latitude: number | null;
  availability_read: boolean;
  availability_write: boolean;
  availability_delete: boolean;
  qos_class: string | null;
  created_at: number;
  updated_at: number;
  attributes: Record<string, string | number | boolean>;
  /** Protocols added through the API, on top of the built-in `file` and `http` ones every sandbox RSE serves. */
  extra_protocols: ProtocolRecord[];
}

export interface DidRecord {
  scope: string;
  name: string;
  type: DidType;
  account: string;
  open: boolean;
  monotonic: boolean;
  hidden: boolean;
  obsolete: boolean;
  suppressed: boolean;
  is_new: boolean;
  bytes: number | null;
  length: number | null;
  md5: string | null;
  adler32: string | null;
  created_at: number;
  updated_at: number;
  closed_at: number | null;
  expired_at: number | null;
  /** DID-table columns set through metadata (project, datatype, run_number, events, guid, ...). */
  columns: Record<string, MetaValue>;
  /** Free-form metadata (Rucio's JSON plugin). */
  meta: Record<string, MetaValue>;
  /** Attached DIDs (`scope:name`) for datasets and containers, in attach order. */
  children: string[];
}

export interface ReplicaRecord {
  state: ReplicaState;
  bytes: number;
  /** Path under the RSE prefix (deterministic hash layout, or the one given at registration). */
  path: string;
  created_at: number;
  updated_at: number;
}

export interface LockRecord {
  scope: string;
  name: string;
  rse: string;
  state: LockState;
  bytes: number;
  error?: string | null;
}

export interface RuleRecord {
  id: string;
  scope: string;
  name: string;
  did_type: DidType;
  account: string;
  rse_expression: string;
  copies: number;
  grouping: "DATASET" | "ALL" | "NONE";
  state: RuleState;
  error: string | null;
  expires_at: number | null;
  created_at: number;
  updated_at: number;
  stuck_at: number | null;
  activity: string;
  comments: string | null;
  locked: boolean;
  purge_replicas: boolean;
  notification: string;
  priority: number;
  source_replica_expression: string | null;
  weight: string | null;
  ignore_availability: boolean;
  ignore_account_limit: boolean;
  split_container: boolean;
  meta: string | null;
  /** Destination RSEs chosen when the rule was created. */
  rses: string[];
  locks: LockRecord[];
}

export interface CatalogDocument {
  format: 1;
  accounts: Record<string, AccountRecord>;
  identities: Record<string, IdentityRecord>;
  tokens: Record<string, TokenRecord>;
  scopes: Record<string, ScopeRecord>;
  rses: Record<string, RseRecord>;
  /** account → RSE → bytes */
  limits: Record<string, Record<string, number>>;
  /** `scope:name` → DID */
  dids: Record<string, DidRecord>;
  /** `scope:name` → RSE → replica */
  replicas: Record<string, Record<string, ReplicaRecord>>;
  rules: Record<string, RuleRecord>;
}

export function emptyCatalog(): CatalogDocument {
  return { format: 1, accounts: {}, identities: {}, tokens: {}, scopes: {}, rses: {}, limits: {}, dids: {}, replicas: {}, rules: {} };
}

export const didKey = (scope: string, name: string) => `${scope}:${name}`;
export function splitDidKey(key: string): { scope: string; name: string } {
  const i = key.indexOf(":");
  return { scope: key.slice(0, i), name: key.slice(i + 1) };
}

/** DID-table columns that metadata writes go to (everything else is free-form JSON metadata). */
export const DID_META_COLUMNS = new Set([
  "project",
  "datatype",
  "run_number",
  "stream_name",
  "prod_step",
  "version",
  "campaign",
  "task_id",
  "panda_id",
  "lumiblocknr",
  "provenance",
  "phys_group",
  "events",
  "guid",
  "transient",
  "eol_at",
  "is_archive",
  "constituent",
  "complete",
  "access_cnt",
]);
