/**
 * Re-run verification: what a run read, ran and produced, reduced to a fingerprint that a record session or an
 * RO-Crate both yield, and the differences between two fingerprints (`vre-ts run --verify`).
 *
 * Compared: the parameters injected with `-p`, the Rucio DIDs read and their checksums, and per REANA workflow
 * (by the name it was run under) the specification digest, every uploaded input's sha256, its parameters, its
 * final status and every downloaded output's md5; and the notebook's code digest.
 */
import type { ProvenanceEntry } from "./provenance";
import type { RecordSession, ResearchRecord } from "./record";

export interface WorkflowPrint {
  specification?: string;
  inputs: Record<string, string>;
  parameters: Record<string, string>;
  status?: string;
  outputs: Record<string, string>;
}

export interface RunFingerprint {
  notebookCode?: string;
  parameters: Record<string, string>;
  /** DID of each file read → "adler32:… md5:…". */
  dids: Record<string, string>;
  workflows: Record<string, WorkflowPrint>;
}

export interface Difference {
  /** What differs: parameter, did, notebook code, workflow specification, workflow input, workflow parameter, workflow status, workflow output, workflow. */
  what: string;
  /** Which one: the parameter name, the DID, `workflow: path`. */
  item: string;
  recorded?: string;
  now?: string;
}

const text = (v: unknown): string => (v === undefined || v === null ? "" : typeof v === "string" ? v : JSON.stringify(v));
const sums = (c: Record<string, string> | undefined) =>
  Object.entries(c ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}:${v}`)
    .join(" ");
const baseName = (wf: string) => wf.replace(/\.\d+(\.\d+)?$/, "");

/** The fingerprint of one session of a record. */
export function fingerprintOfSession(session: RecordSession | undefined, entries: ProvenanceEntry[]): RunFingerprint {
  const fp: RunFingerprint = {
    notebookCode: session?.notebookSha256,
    parameters: Object.fromEntries(Object.entries(session?.parameters ?? {}).map(([k, v]) => [k, text(v)])),
    dids: {},
    workflows: {},
  };
  const byId = new Map<string, WorkflowPrint>();
  for (const e of entries) {
    if (e.service === "rucio" && e.kind === "did" && e.action === "read") {
      // Files read with their checksums (a dataset made available is compared through its files).
      if (e.checksums && Object.keys(e.checksums).length) fp.dids[e.id] = sums(e.checksums);
    } else if (e.service === "reana" && e.kind === "workflow" && e.via !== "%reana follow") {
      const d = (e.details ?? {}) as Record<string, unknown>;
      const name = baseName(String(d.name ?? e.label ?? e.id));
      const inputs = (Array.isArray(d.inputs) ? d.inputs : []) as Array<{ path: string; sha256?: string; md5?: string }>;
      const w: WorkflowPrint = {
        specification: e.checksums?.sha256,
        inputs: Object.fromEntries(inputs.map((i) => [i.path, i.sha256 ?? (i.md5 ? `md5:${i.md5}` : "")])),
        parameters: Object.fromEntries(Object.entries((d.parameters ?? {}) as Record<string, unknown>).map(([k, v]) => [k, text(v)])),
        status: typeof d.status === "string" ? d.status : undefined,
        outputs: {},
      };
      fp.workflows[name] = w;
      byId.set(e.id, w);
    } else if (e.service === "reana" && e.kind === "workflow" && e.via === "%reana follow") {
      const w = byId.get(e.id);
      const status = (e.details as { status?: string } | undefined)?.status;
      if (w && status) w.status = status;
    } else if (e.service === "reana" && e.kind === "file" && e.action === "read") {
      const i = e.id.indexOf(":");
      const wf = fp.workflows[baseName(e.id.slice(0, i))];
      if (wf) wf.outputs[e.id.slice(i + 1)] = e.checksums?.md5 ?? "";
    }
  }
  return fp;
}

/** The fingerprint of a record's session (default: the last one that recorded anything). */
export function fingerprintOfRecord(record: ResearchRecord, session?: string): { fingerprint: RunFingerprint; session?: RecordSession } {
  const withEntries = new Set(record.entries.map((e) => e.session));
  const s = session ? record.sessions.find((x) => x.session === session) : [...record.sessions].reverse().find((x) => withEntries.has(x.session));
  const id = session ?? s?.session;
  return { fingerprint: fingerprintOfSession(s, record.entries.filter((e) => e.session === id)), session: s };
}

type Json = Record<string, any>;

/** The fingerprint of an RO-Crate written by vre-ts (its last notebook run and that run's REANA steps). */
export function fingerprintOfCrate(crate: Json): RunFingerprint {
  const graph = (crate["@graph"] ?? []) as Json[];
  const get = new Map(graph.map((e) => [e["@id"], e]));
  const refs = (v: unknown): Json[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]).map((r: Json) => get.get(r?.["@id"])).filter(Boolean) as Json[];
  const ids = (e: Json | undefined) => Object.fromEntries(refs(e?.identifier).filter((p) => p["@type"] === "PropertyValue").map((p) => [p.propertyID, String(p.value)]));
  const mainId = get.get("./")?.mainEntity?.["@id"];
  const runs = graph.filter((e) => e["@type"] === "CreateAction" && e.instrument?.["@id"] === mainId);
  const run = runs.at(-1);
  const fp: RunFingerprint = { notebookCode: /notebook code sha256 ([0-9a-f]{64})/.exec(String(run?.description ?? ""))?.[1], parameters: {}, dids: {}, workflows: {} };
  for (const o of refs(run?.object)) {
    if (o["@type"] === "PropertyValue") fp.parameters[o.name] = String(o.value);
    else if (String(o["@id"]).startsWith("#did:")) {
      const { ["rucio-did"]: did, ...checksums } = ids(o);
      fp.dids[did ?? String(o.name)] = sums(checksums);
    }
  }
  // The REANA steps orchestrated in the same session.
  const organize = graph.find((e) => e["@type"] === "OrganizeAction" && e.result?.["@id"] === run?.["@id"]);
  for (const control of refs(organize?.object)) {
    const action = get.get(control.object?.["@id"]);
    if (!action) continue;
    const step = get.get(control.instrument?.["@id"]);
    const name = String(step?.name ?? action.name).replace(/^REANA workflow /, "");
    const spec = get.get(action.instrument?.["@id"]);
    const inputs: Record<string, string> = {};
    const parameters: Record<string, string> = {};
    for (const o of refs(action.object)) {
      if (o["@type"] === "PropertyValue") parameters[o.name] = String(o.value);
      else {
        const c = ids(o);
        inputs[String(o.name)] = c.sha256 ?? (c.md5 ? `md5:${c.md5}` : "");
      }
    }
    const outputs = Object.fromEntries(refs(action.result).map((o) => [String(o.name), ids(o).md5 ?? ""]));
    const status = String(action.actionStatus?.["@id"] ?? "");
    fp.workflows[name] = {
      specification: ids(spec)["specification-sha256"],
      inputs,
      parameters,
      status: status.endsWith("CompletedActionStatus") ? "finished" : status.endsWith("FailedActionStatus") ? "failed" : undefined,
      outputs,
    };
  }
  return fp;
}

function compareMaps(out: Difference[], what: string, prefix: string, a: Record<string, string>, b: Record<string, string>): void {
  for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    if (a[key] === b[key]) continue;
    out.push({ what, item: `${prefix}${key}`, recorded: key in a ? a[key] : undefined, now: key in b ? b[key] : undefined });
  }
}

/** Every difference between the recorded run and the re-run, in a stable order. */
export function compareFingerprints(recorded: RunFingerprint, now: RunFingerprint): Difference[] {
  const out: Difference[] = [];
  if (recorded.notebookCode && now.notebookCode && recorded.notebookCode !== now.notebookCode) {
    out.push({ what: "notebook code", item: "sha256 of the code cells", recorded: recorded.notebookCode, now: now.notebookCode });
  }
  compareMaps(out, "parameter", "", recorded.parameters, now.parameters);
  compareMaps(out, "did", "", recorded.dids, now.dids);
  for (const name of [...new Set([...Object.keys(recorded.workflows), ...Object.keys(now.workflows)])].sort()) {
    const a = recorded.workflows[name];
    const b = now.workflows[name];
    if (!a || !b) {
      out.push({ what: "workflow", item: name, recorded: a ? "ran" : undefined, now: b ? "ran" : undefined });
      continue;
    }
    if (a.specification !== b.specification) out.push({ what: "workflow specification", item: `${name}: reana.yaml (sha256 of the specification)`, recorded: a.specification, now: b.specification });
    compareMaps(out, "workflow input", `${name}: `, a.inputs, b.inputs);
    compareMaps(out, "workflow parameter", `${name}: `, a.parameters, b.parameters);
    if ((a.status ?? "") !== (b.status ?? "")) out.push({ what: "workflow status", item: name, recorded: a.status, now: b.status });
    compareMaps(out, "workflow output", `${name}: `, a.outputs, b.outputs);
  }
  return out;
}

/** The difference report as an aligned text table. */
export function formatDifferences(diffs: Difference[], against: string): string {
  if (diffs.length === 0) return `vre-ts run --verify: identical to the recorded run (${against}): same parameters, DIDs and checksums, workflow specifications, inputs, statuses and outputs.`;
  const short = (v: string | undefined) => (v === undefined ? "(absent)" : v === "" ? "(no checksum)" : v.length > 24 ? `${v.slice(0, 23)}…` : v);
  const rows = diffs.map((d) => [d.what, d.item, short(d.recorded), short(d.now)]);
  const head = ["what", "item", "recorded", "now"];
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `  ${r.map((c, i) => c.padEnd(width[i])).join("  ")}`.trimEnd();
  return [`vre-ts run --verify: ${diffs.length} difference${diffs.length === 1 ? "" : "s"} from the recorded run (${against}):`, line(head), line(width.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
