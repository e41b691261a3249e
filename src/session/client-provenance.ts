/**
 * Provenance of typed client calls made from notebook code (`await rucio.download(...)`), so the log holds what
 * the notebook did whether it used a magic or the client. The magics record their own entries and use the
 * session's clients directly, so nothing is recorded twice.
 */
import type { ProvenanceLog } from "./provenance";
import { specDigest } from "./provenance";

type Recorder = (log: ProvenanceLog, args: unknown[], result: unknown, endpoint: string) => void;

interface Named {
  [key: string]: unknown;
}

const str = (v: unknown): string => (v === undefined || v === null ? "" : String(v));

const RECORDERS: Record<string, Record<string, Recorder>> = {
  rucio: {
    download: (log, _args, result, endpoint) => {
      for (const f of (result as Named[]) ?? []) {
        log.record({ action: "read", kind: "did", service: "rucio", id: str(f.did), via: "rucio.download()", endpoint, checksums: { adler32: str(f.adler32), ...(f.md5 ? { md5: str(f.md5) } : {}) }, bytes: Number(f.bytes), paths: [str(f.path)] });
      }
    },
    upload: (log, _args, result, endpoint) => {
      const r = result as Named;
      log.record({ action: "write", kind: "did", service: "rucio", id: str(r.did), via: "rucio.upload()", endpoint, checksums: { adler32: str(r.adler32), md5: str(r.md5) }, bytes: Number(r.bytes), details: { rse: str(r.rse), ...(r.dataset ? { dataset: str(r.dataset) } : {}), ...(Array.isArray(r.ruleIds) ? { rules: r.ruleIds.map(str) } : {}) } });
    },
    "rules.update": (log, args, result, endpoint) => {
      const r = result as Named;
      log.record({ action: "write", kind: "rule", service: "rucio", id: str(args[0]), label: r?.scope ? `${str(r.scope)}:${str(r.name)}` : undefined, via: "rucio.rules.update()", endpoint, details: { changes: JSON.parse(JSON.stringify(args[1] ?? {})) } });
    },
    "rules.create": (log, args, result, endpoint) => {
      log.record({ action: "write", kind: "rule", service: "rucio", id: ([] as unknown[]).concat(result).map(str).join(","), via: "rucio.rules.create()", endpoint, details: { request: JSON.parse(JSON.stringify(args[0] ?? {})) } });
    },
  },
  reana: {
    run: (log, args, result, endpoint) => {
      const r = result as Named;
      const spec = (args[0] as Named | undefined)?.specification;
      log.record({ action: "run", kind: "workflow", service: "reana", id: str(r.workflowId), label: str(r.workflowName), via: "reana.run()", endpoint, checksums: spec ? { sha256: specDigest(spec) } : undefined, details: { status: str(r.status) } });
    },
    createWorkflow: (log, args, result, endpoint) => {
      const r = result as Named;
      const first = args[0] as Named | undefined;
      const spec = first && "specification" in first ? first.specification : first;
      log.record({ action: "run", kind: "workflow", service: "reana", id: str(r.workflowId), label: str(r.workflowName), via: "reana.createWorkflow()", endpoint, checksums: spec ? { sha256: specDigest(spec) } : undefined });
    },
    download: (log, args, result, endpoint) => {
      for (const f of ((result as Named).files as Named[]) ?? []) {
        log.record({ action: "read", kind: "file", service: "reana", id: `${str(args[0])}:${str(f.name)}`, label: str(f.name), via: "reana.download()", endpoint, checksums: f.md5 ? { md5: str(f.md5) } : undefined, bytes: Number(f.size), paths: [str(f.path)] });
      }
    },
  },
  zenodo: {
    publish: (log, args, result, endpoint) => {
      const r = result as Named;
      if (r.alreadyPublished) return;
      log.record({ action: "publish", kind: "deposit", service: "zenodo", id: str(r.recordId ?? args[0]), doi: r.doi ? str(r.doi) : undefined, via: "zenodo.publish()", endpoint });
    },
    deposit: (log, _args, result, endpoint) => {
      const r = result as Named;
      const published = r.published as Named | undefined;
      const deposition = r.deposition as Named;
      log.record({
        action: published ? "publish" : "write",
        kind: "deposit",
        service: "zenodo",
        id: str(published?.recordId ?? deposition?.id),
        label: str((deposition?.metadata as Named | undefined)?.title ?? deposition?.title),
        doi: published?.doi ? str(published.doi) : undefined,
        via: "zenodo.deposit()",
        endpoint,
        details: { files: ((r.uploaded as Named[]) ?? []).map((f) => str(f.key ?? f.name)) },
      });
    },
  },
};

/** The recorder for `service` + method path (e.g. "rules.create"), if that call reads, runs or publishes. */
export function provenanceRecorder(service: string, method: string): Recorder | undefined {
  return RECORDERS[service]?.[method];
}
