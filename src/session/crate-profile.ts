/**
 * Checks an RO-Crate against what RO-Crate 1.1 and the Process / Workflow / Provenance Run Crate profiles (0.5)
 * require (their MUSTs, and the SHOULDs vre-ts promises): the metadata descriptor, the root data entity, data
 * entities reachable from the root, actions with instruments, the workflow as main entity, the engine's
 * OrganizeAction and the steps' ControlActions. Returns the problems; an empty list means the crate conforms.
 */
import { PROFILES, RO_CRATE_1_1 } from "./crate";

type Json = Record<string, unknown>;

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const ids = (v: unknown): string[] => asArray(v as Json | Json[] | undefined).map((x) => (x && typeof x === "object" ? String((x as Json)["@id"] ?? "") : "")).filter(Boolean);
const types = (e: Json | undefined): string[] => asArray(e?.["@type"] as string | string[] | undefined);
const isAbsolute = (id: string) => /^[a-z][a-z0-9+.-]*:/i.test(id);
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

export function checkRunCrate(crate: Json): string[] {
  const problems: string[] = [];
  const graph = asArray(crate["@graph"] as Json[] | undefined);
  const byId = new Map(graph.map((e) => [String(e["@id"]), e]));
  const get = (id: string | undefined) => (id ? byId.get(id) : undefined);

  // RO-Crate 1.1: context, descriptor, root.
  if (!asArray(crate["@context"] as unknown[]).some((c) => c === `${RO_CRATE_1_1}/context`)) problems.push("@context: must reference the RO-Crate 1.1 context");
  const descriptor = get("ro-crate-metadata.json");
  if (!descriptor) problems.push("the metadata descriptor ro-crate-metadata.json is missing");
  else {
    if (!types(descriptor).includes("CreativeWork")) problems.push("metadata descriptor: @type must be CreativeWork");
    if (!ids(descriptor.conformsTo).includes(RO_CRATE_1_1)) problems.push(`metadata descriptor: conformsTo must include ${RO_CRATE_1_1}`);
    if (!ids(descriptor.conformsTo).includes(PROFILES.workflowRoCrate)) problems.push(`metadata descriptor: conformsTo must include ${PROFILES.workflowRoCrate} (Workflow RO-Crate)`);
  }
  const rootId = ids(descriptor?.about)[0];
  const root = get(rootId);
  if (!root) {
    problems.push("the root data entity (the descriptor's about) is missing");
    return problems;
  }
  if (!types(root).includes("Dataset")) problems.push("root: @type must include Dataset");
  for (const prop of ["name", "description", "datePublished", "license"]) if (root[prop] === undefined || root[prop] === "") problems.push(`root: ${prop} is required`);
  if (typeof root.datePublished === "string" && !ISO_DATE.test(root.datePublished)) problems.push("root: datePublished must be an ISO 8601 date");

  // Data entities (local paths) must be reachable from the root through hasPart.
  const reachable = new Set<string>();
  const walk = (id: string) => {
    if (reachable.has(id)) return;
    reachable.add(id);
    for (const part of ids(get(id)?.hasPart)) walk(part);
  };
  walk(String(root["@id"]));
  for (const e of graph) {
    const id = String(e["@id"]);
    if ((types(e).includes("File") || types(e).includes("Dataset")) && !id.startsWith("#") && !isAbsolute(id) && id !== rootId && !reachable.has(id)) {
      problems.push(`data entity ${id}: not reachable from the root's hasPart`);
    }
  }
  // Every local reference resolves to an entity of the crate.
  for (const e of graph) {
    for (const [prop, value] of Object.entries(e)) {
      if (prop === "@id" || prop === "@type" || prop === "conformsTo") continue;
      for (const target of ids(value)) if (!isAbsolute(target) && !byId.has(target)) problems.push(`${String(e["@id"])}: ${prop} refers to ${target}, which is not in the crate`);
    }
  }

  // Process Run Crate: actions with instruments.
  const conforms = ids(root.conformsTo);
  for (const [name, uri] of [["Process Run Crate", PROFILES.process], ["Workflow Run Crate", PROFILES.workflow], ["Provenance Run Crate", PROFILES.provenance]]) {
    if (!conforms.includes(uri)) problems.push(`root: conformsTo must include ${uri} (${name})`);
  }
  const actions = graph.filter((e) => types(e).some((t) => ["CreateAction", "ActivateAction", "UpdateAction"].includes(t)));
  if (actions.length === 0) problems.push("no CreateAction: a run crate describes at least one run");
  for (const a of actions) {
    const id = String(a["@id"]);
    const instrument = ids(a.instrument)[0];
    if (!instrument) problems.push(`${id}: instrument is required (the software or workflow that ran)`);
    else if (!get(instrument)) problems.push(`${id}: instrument ${instrument} is not in the crate`);
    for (const t of ["startTime", "endTime"]) if (a[t] !== undefined && !ISO_DATE.test(String(a[t]))) problems.push(`${id}: ${t} must be an ISO 8601 date-time`);
    if (!ids(root.mentions).includes(id)) problems.push(`${id}: the root should mention every action`);
  }

  // Workflow Run Crate: the main entity is the workflow, and some action ran it.
  const mainId = ids(root.mainEntity)[0];
  const main = get(mainId);
  if (!main) problems.push("root: mainEntity (the workflow) is required and must be in the crate");
  else {
    for (const t of ["File", "SoftwareSourceCode", "ComputationalWorkflow"]) if (!types(main).includes(t)) problems.push(`main entity ${mainId}: @type must include ${t}`);
    if (!ids(main.programmingLanguage).length) problems.push(`main entity ${mainId}: programmingLanguage is required`);
    if (!actions.some((a) => ids(a.instrument)[0] === mainId)) problems.push(`no CreateAction has the main entity ${mainId} as instrument`);
  }

  // Provenance Run Crate: the engine's OrganizeAction, the steps and their ControlActions.
  const organize = graph.filter((e) => types(e).includes("OrganizeAction"));
  if (organize.length === 0) problems.push("no OrganizeAction (the workflow engine's orchestration)");
  for (const o of organize) {
    const id = String(o["@id"]);
    const engine = get(ids(o.instrument)[0]);
    if (!engine || !types(engine).includes("SoftwareApplication")) problems.push(`${id}: instrument must be the engine (a SoftwareApplication)`);
    const result = get(ids(o.result)[0]);
    if (!result || ids(result.instrument)[0] !== mainId) problems.push(`${id}: result must be the CreateAction of the workflow run`);
    for (const c of ids(o.object)) {
      const control = get(c);
      if (!control || !types(control).includes("ControlAction")) problems.push(`${id}: object ${c} must be a ControlAction`);
      else {
        const step = get(ids(control.instrument)[0]);
        if (!step || !types(step).includes("HowToStep")) problems.push(`${c}: instrument must be a HowToStep`);
        else if (main && !ids(main.step).includes(String(step["@id"]))) problems.push(`${c}: the step ${String(step["@id"])} must be one of the main entity's steps`);
        const run = get(ids(control.object)[0]);
        if (!run || !types(run).includes("CreateAction")) problems.push(`${c}: object must be the step's CreateAction`);
      }
    }
  }
  return problems;
}
