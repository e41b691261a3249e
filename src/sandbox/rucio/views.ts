/** Response dictionaries laid out as Rucio 35.8 sends them (key order and types from the recorded transcript). */
import type { Catalog } from "./catalog";
import type { AccountRecord, DidRecord, LockRecord, RseRecord, RuleRecord } from "./model";
import { isoNoZone, rfc1123 } from "./pyjson";

export function accountView(a: AccountRecord) {
  return {
    account: a.account,
    account_type: a.account_type,
    email: a.email,
    deleted_at: null,
    updated_at: isoNoZone(a.updated_at),
    suspended_at: null,
    status: a.status,
    created_at: isoNoZone(a.created_at),
  };
}

export function rseListView(r: RseRecord) {
  const availability = (r.availability_read ? 4 : 0) + (r.availability_write ? 2 : 0) + (r.availability_delete ? 1 : 0);
  return {
    id: r.id,
    staging_area: r.staging_area,
    longitude: r.longitude,
    deleted_at: null,
    city: r.city,
    latitude: r.latitude,
    created_at: rfc1123(r.created_at),
    rse: r.rse,
    region_code: r.region_code,
    availability,
    updated_at: rfc1123(r.updated_at),
    vo: "def",
    country_name: r.country_name,
    availability_read: r.availability_read,
    rse_type: r.rse_type,
    continent: r.continent,
    availability_write: r.availability_write,
    deterministic: r.deterministic,
    time_zone: r.time_zone,
    availability_delete: r.availability_delete,
    volatile: r.volatile,
    ISP: r.ISP,
    qos_class: r.qos_class,
    ASN: r.ASN,
    deleted: false,
  };
}

export function rseInfoView(r: RseRecord, protocols: unknown[]) {
  const availability = (r.availability_read ? 4 : 0) + (r.availability_write ? 2 : 0) + (r.availability_delete ? 1 : 0);
  return {
    availability_delete: r.availability_delete,
    availability_read: r.availability_read,
    availability_write: r.availability_write,
    credentials: null,
    deterministic: r.deterministic,
    domain: ["lan", "wan"],
    id: r.id,
    lfn2pfn_algorithm: "hash",
    protocols,
    qos_class: r.qos_class,
    rse: r.rse,
    rse_type: r.rse_type,
    sign_url: null,
    staging_area: r.staging_area,
    verify_checksum: true,
    volatile: r.volatile,
    read_protocol: 1,
    write_protocol: 1,
    delete_protocol: 1,
    third_party_copy_read_protocol: 1,
    third_party_copy_write_protocol: 1,
    availability,
  };
}

export function didView(c: Catalog, d: DidRecord, dynamic: boolean) {
  if (d.type === "FILE") {
    return { scope: d.scope, name: d.name, type: d.type, account: d.account, bytes: d.bytes, length: 1, md5: d.md5, adler32: d.adler32 };
  }
  let length = d.length;
  let bytes = d.bytes;
  if (dynamic) {
    // As Rucio's dynamic depth: a container counts the files of all the datasets below it, not its children.
    const files = c.filesOf(d);
    length = files.length;
    bytes = files.reduce((s, f) => s + (f.bytes ?? 0), 0);
  }
  return {
    scope: d.scope,
    name: d.name,
    type: d.type,
    account: d.account,
    open: d.open,
    monotonic: d.monotonic,
    expired_at: rfc1123(d.expired_at),
    length,
    bytes,
  };
}

export function searchLongView(d: DidRecord) {
  return { scope: d.scope, name: d.name, did_type: d.type, bytes: d.bytes, length: d.type === "FILE" ? null : d.length };
}

export function contentView(d: DidRecord) {
  return { scope: d.scope, name: d.name, type: d.type, bytes: d.bytes, adler32: d.adler32, md5: d.md5 };
}

export function fileView(d: DidRecord, long: boolean) {
  const out: Record<string, unknown> = {
    scope: d.scope,
    name: d.name,
    bytes: d.bytes,
    adler32: d.adler32,
    guid: d.columns.guid ?? null,
    events: d.columns.events ?? null,
  };
  if (long) out.lumiblocknr = d.columns.lumiblocknr ?? null;
  return out;
}

/** `GET /dids/{scope}/{name}/meta` with the default DID_COLUMN plugin: every column of the DID table. */
export function metaColumnsView(c: Catalog, d: DidRecord) {
  const col = (k: string) => d.columns[k] ?? null;
  return {
    did_type: d.type,
    suppressed: d.suppressed,
    events: col("events"),
    version: col("version"),
    accessed_at: null,
    is_open: d.type === "FILE" ? null : d.open,
    bytes: d.bytes,
    guid: col("guid"),
    campaign: col("campaign"),
    closed_at: rfc1123(d.closed_at),
    monotonic: d.monotonic,
    length: d.type === "FILE" ? null : d.length,
    project: col("project"),
    task_id: col("task_id"),
    eol_at: col("eol_at"),
    hidden: d.hidden,
    md5: d.md5,
    datatype: col("datatype"),
    panda_id: col("panda_id"),
    is_archive: col("is_archive"),
    obsolete: d.obsolete,
    adler32: d.adler32,
    run_number: col("run_number"),
    lumiblocknr: col("lumiblocknr"),
    constituent: col("constituent"),
    name: d.name,
    complete: col("complete"),
    expired_at: rfc1123(d.expired_at),
    stream_name: col("stream_name"),
    provenance: col("provenance"),
    access_cnt: col("access_cnt"),
    scope: d.scope,
    is_new: d.is_new,
    purge_replicas: true,
    phys_group: col("phys_group"),
    transient: col("transient") ?? false,
    created_at: rfc1123(d.created_at),
    account: d.account,
    availability: c.availability(d),
    deleted_at: null,
    prod_step: col("prod_step"),
    updated_at: rfc1123(d.updated_at),
  };
}

export function ruleView(r: RuleRecord, withBytes: boolean) {
  const count = (s: LockRecord["state"]) => r.locks.filter((l) => l.state === s).length;
  const out: Record<string, unknown> = {
    rse_expression: r.rse_expression,
    source_replica_expression: r.source_replica_expression,
    priority: r.priority,
    updated_at: rfc1123(r.updated_at),
    subscription_id: null,
    copies: r.copies,
    activity: r.activity,
    account: r.account,
    expires_at: rfc1123(r.expires_at),
    grouping: r.grouping,
    comments: r.comments,
    scope: r.scope,
    weight: r.weight,
    notification: r.notification,
    child_rule_id: null,
    name: r.name,
    locked: r.locked,
    stuck_at: rfc1123(r.stuck_at),
    eol_at: null,
    did_type: r.did_type,
    locks_ok_cnt: count("OK"),
    purge_replicas: r.purge_replicas,
    split_container: r.split_container,
    state: r.state,
    locks_replicating_cnt: count("REPLICATING"),
    ignore_availability: r.ignore_availability,
    meta: r.meta,
    id: r.id,
    error: r.error,
    locks_stuck_cnt: count("STUCK"),
    ignore_account_limit: r.ignore_account_limit,
    created_at: rfc1123(r.created_at),
  };
  if (withBytes) out.bytes = null;
  return out;
}

export function lockView(c: Catalog, r: RuleRecord, l: LockRecord) {
  return { scope: l.scope, name: l.name, rse_id: c.doc.rses[l.rse]?.id ?? null, rse: l.rse, state: l.state, rule_id: r.id };
}
