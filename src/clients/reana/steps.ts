/**
 * The steps of a workflow as a DAG, from the specification REANA returns (`GET /workflows/{w}/specification`):
 * serial steps in sequence, CWL steps linked by the step outputs they read, Snakemake rules by reana-client's
 * `job_dependencies`, Yadage stages by the stages their expressions name. `stepsInOrder` sorts them so that every
 * step comes after the steps it needs (ties keep the specification's order), which is the order a run monitor
 * lists them in, including the steps that have not started yet.
 */

export interface WorkflowStep {
  name: string;
  /** Steps whose results this one reads. */
  needs: string[];
  /** Jobs the step runs when known (serial: one per command), else 1. */
  jobs: number;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function entries(value: unknown): { id: string; value: Json }[] {
  if (Array.isArray(value)) return value.filter(isObject).map((v) => ({ id: String(v.id ?? v.name ?? ""), value: v }));
  // Map form: `in: {data: skim/out}` gives the source as a plain string.
  if (isObject(value)) return Object.entries(value).map(([id, v]) => ({ id, value: isObject(v) ? v : typeof v === "string" || Array.isArray(v) ? { source: v } : {} }));
  return [];
}

/** `#main/fit/result` → `fit/result`; `fit/result` stays. */
function local(id: string, processId: string): string {
  let s = id.includes("#") ? id.slice(id.indexOf("#") + 1) : id;
  const prefix = processId.replace(/^#/, "");
  if (prefix && s.startsWith(`${prefix}/`)) s = s.slice(prefix.length + 1);
  return s;
}

function cwlSteps(spec: Json): WorkflowStep[] {
  const graph = Array.isArray(spec.$graph) ? spec.$graph.filter(isObject) : [spec];
  const main = graph.find((p) => typeof p.id === "string" && /(^|#)main$/.test(p.id)) ?? graph[0];
  if (!main) return [];
  const mainId = String(main.id ?? "");
  if (main.class !== "Workflow") return [{ name: local(mainId, "") || "main", needs: [], jobs: 1 }];
  const steps = entries(main.steps).map((s) => ({ ...s, id: local(s.id, mainId) }));
  const names = new Set(steps.map((s) => s.id));
  return steps.map((s) => {
    const needs = new Set<string>();
    for (const input of entries(s.value.in)) {
      const raw = input.value.source;
      for (const src of Array.isArray(raw) ? raw : [raw]) {
        if (typeof src !== "string") continue;
        const step = local(src, mainId).split("/")[0]!;
        if (names.has(step) && step !== s.id && local(src, mainId).includes("/")) needs.add(step);
      }
    }
    return { name: s.id, needs: [...needs], jobs: 1 };
  });
}

function serialSteps(spec: Json): WorkflowStep[] {
  const steps = Array.isArray(spec.steps) ? spec.steps.filter(isObject) : [];
  return steps.map((s, i) => ({
    name: typeof s.name === "string" && s.name ? s.name : `step ${i + 1}`,
    needs: i > 0 ? [typeof steps[i - 1]!.name === "string" && steps[i - 1]!.name ? String(steps[i - 1]!.name) : `step ${i}`] : [],
    jobs: Array.isArray(s.commands) ? Math.max(1, s.commands.length) : 1,
  }));
}

function snakemakeSteps(spec: Json): WorkflowStep[] {
  const deps = isObject(spec.job_dependencies) ? spec.job_dependencies : {};
  const steps = Array.isArray(spec.steps) ? spec.steps.filter(isObject) : [];
  const names = new Set(steps.map((s) => String(s.name ?? "")));
  return steps.map((s) => {
    const name = String(s.name ?? "");
    const needs = Array.isArray(deps[name]) ? (deps[name] as unknown[]).map(String).filter((n) => names.has(n) && n !== name) : [];
    return { name, needs, jobs: 1 };
  });
}

function yadageSteps(spec: Json): WorkflowStep[] {
  const stages = Array.isArray(spec.stages) ? spec.stages.filter(isObject) : [];
  const names = stages.map((s) => String(s.name ?? ""));
  return stages.map((s) => {
    const text = JSON.stringify(s.dependencies ?? {});
    return { name: String(s.name ?? ""), needs: names.filter((n) => n && n !== s.name && text.includes(`"${n}"`)), jobs: 1 };
  });
}

/** Steps of `workflow.specification` for an engine type, in the specification's order. */
export function workflowSteps(type: string, specification: unknown): WorkflowStep[] {
  if (!isObject(specification)) return [];
  switch (type) {
    case "serial":
      return serialSteps(specification);
    case "cwl":
      return cwlSteps(specification);
    case "snakemake":
      return snakemakeSteps(specification);
    case "yadage":
      return yadageSteps(specification);
    default:
      return [];
  }
}

/** Topological order (a step after the steps it needs), stable by specification order; cycles keep their order. */
export function stepsInOrder(steps: WorkflowStep[]): WorkflowStep[] {
  const byName = new Map(steps.map((s) => [s.name, s]));
  const done = new Set<string>();
  const out: WorkflowStep[] = [];
  const visiting = new Set<string>();
  const visit = (s: WorkflowStep) => {
    if (done.has(s.name) || visiting.has(s.name)) return;
    visiting.add(s.name);
    for (const n of s.needs) {
      const dep = byName.get(n);
      if (dep) visit(dep);
    }
    visiting.delete(s.name);
    done.add(s.name);
    out.push(s);
  };
  for (const s of steps) visit(s);
  return out;
}
