/**
 * vre-ts for notebook code: `import { rucio, reana, zenodo, widget, display } from "vre-ts"`.
 *
 * `rucio`, `reana` and `zenodo` are the session's clients, created on first use from the active profile (or the
 * embedded sandbox when a service is not configured). Every method call works as on the client itself:
 * `await rucio.whoami()`, `for await (const did of rucio.listDids(...))`.
 */
import { session } from "./session";
import type { RucioClient } from "./clients/rucio";
import type { ReanaClient } from "./clients/reana";
import type { ZenodoClient } from "./clients/zenodo";
import { lazyClient } from "./session/lazy-client";
import { provenanceRecorder } from "./session/client-provenance";

/** Records what typed calls from notebook code read, run or publish in the session's provenance log. */
function record(service: "rucio" | "reana" | "zenodo") {
  return (client: object, method: string, args: unknown[], result: unknown) => {
    const recorder = provenanceRecorder(service, method);
    if (!recorder) return;
    const settings = (client as { settings?: Record<string, unknown> }).settings ?? {};
    const endpoint = String(settings.host ?? settings.serverUrl ?? settings.baseUrl ?? "");
    recorder(session().provenance, args, result, endpoint);
  };
}

export * from "./kernel/api";
export * from "./clients";
export { session, Session, type ProfileInfo, type ActiveSettings } from "./session";
export { ProvenanceLog } from "./session/provenance";
export { type ResearchRecord, type RecordSession } from "./session/record";
export { buildCrate, writeCrate } from "./session/crate";
export { checkRunCrate } from "./session/crate-profile";
export { runMonitor, type RunMonitorState, type RunMonitorOptions } from "./widgets/run-monitor";
export { datasetBrowser, type DatasetBrowserState, type DatasetBrowserOptions } from "./widgets/dataset-browser";
export { recordWidget, recordSummary, type RecordWidgetState, type RecordWidgetOptions } from "./widgets/record";
export { depositForm, type DepositFormState, type DepositFormOptions } from "./widgets/deposit-form";

/** The session's Rucio client (the `%rucio` magic's typed equivalent). */
export const rucio: RucioClient = lazyClient(() => session().rucio(), record("rucio"));
/** The session's REANA client (the `%reana` magic's typed equivalent). */
export const reana: ReanaClient = lazyClient(() => session().reana(), record("reana"));
/** The session's Zenodo client (the `%zenodo` magic's typed equivalent). */
export const zenodo: ZenodoClient = lazyClient(() => session().zenodo(), record("zenodo"));
