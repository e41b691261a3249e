/**
 * Test support: checks HTTP requests against a Swagger 2.0 document (the REANA server OpenAPI file):
 * the path must match a path template, the method must be declared for it, every query parameter must be
 * declared (in: query) with a value of its declared type, required query/body parameters must be present.
 */
import { readFileSync } from "node:fs";

interface SwaggerParameter {
  name: string;
  in: "query" | "path" | "body" | "header" | "formData";
  type?: string;
  required?: boolean;
  items?: { type?: string };
}

interface Operation {
  method: string;
  template: string;
  regex: RegExp;
  pathNames: string[];
  parameters: SwaggerParameter[];
  consumes?: string[];
  literalSegments: number;
}

export interface CheckedRequest {
  method: string;
  path: string;
  operation?: string;
  violations: string[];
}

export class OpenApiRecorder {
  readonly operations: Operation[] = [];
  readonly requests: CheckedRequest[] = [];

  constructor(specFile: string) {
    const spec = JSON.parse(readFileSync(specFile, "utf8")) as { paths: Record<string, Record<string, { parameters?: SwaggerParameter[]; consumes?: string[] }>> };
    for (const [template, ops] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        if (!["get", "post", "put", "delete", "patch"].includes(method)) continue;
        const pathNames: string[] = [];
        let literalSegments = 0;
        const body = template
          .split("/")
          .map((seg) => {
            const m = /^\{(\w+)\}$/.exec(seg);
            if (!m) {
              if (seg) literalSegments++;
              return seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
            }
            pathNames.push(m[1]);
            // Flask's <path:file_name> converter: a workspace path may contain slashes.
            return m[1] === "file_name" ? "(.+)" : "([^/]+)";
          })
          .join("/");
        this.operations.push({
          method: method.toUpperCase(),
          template,
          regex: new RegExp(`^${body}$`),
          pathNames,
          parameters: op.parameters ?? [],
          consumes: op.consumes,
          literalSegments,
        });
      }
    }
    // Literal routes (e.g. /workflows/move_files/{id}) win over parameterised ones, as in Flask.
    this.operations.sort((a, b) => b.literalSegments - a.literalSegments);
  }

  /** Checks one request; returns the matched template ("GET /api/workflows/{workflow_id_or_name}/status"). */
  check(method: string, rawUrl: string, headers: Record<string, string | string[] | undefined>, hasBody: boolean): CheckedRequest {
    const url = new URL(rawUrl, "http://x");
    const violations: string[] = [];
    const candidates = this.operations.filter((o) => o.regex.test(url.pathname));
    const op = candidates.find((o) => o.method === method);
    const record: CheckedRequest = { method, path: url.pathname, violations };
    if (!op) {
      violations.push(candidates.length ? `${method} not declared for ${candidates[0].template}` : `no path template matches ${url.pathname}`);
      this.requests.push(record);
      return record;
    }
    record.operation = `${op.method} ${op.template}`;
    const declared = new Map(op.parameters.filter((p) => p.in === "query").map((p) => [p.name, p]));
    const seen = new Map<string, string[]>();
    for (const [k, v] of url.searchParams) seen.set(k, [...(seen.get(k) ?? []), v]);
    for (const [name, values] of seen) {
      const p = declared.get(name);
      if (!p) {
        violations.push(`query parameter "${name}" is not declared for ${record.operation}`);
        continue;
      }
      if (p.type !== "array" && values.length > 1) violations.push(`query parameter "${name}" repeated but not an array`);
      const itemType = p.type === "array" ? p.items?.type : p.type;
      for (const v of values) {
        if (itemType === "integer" && !/^-?\d+$/.test(v)) violations.push(`query parameter "${name}"=${v} is not an integer`);
        if (itemType === "boolean" && !/^(true|false)$/i.test(v)) violations.push(`query parameter "${name}"=${v} is not a boolean`);
      }
    }
    for (const p of op.parameters) {
      if (p.required && p.in === "query" && !seen.has(p.name)) violations.push(`required query parameter "${p.name}" missing`);
      if (p.required && p.in === "body" && !hasBody) violations.push(`required body "${p.name}" missing`);
    }
    const ct = String(headers["content-type"] ?? "").split(";")[0].trim();
    if (hasBody && op.consumes?.length && !op.consumes.includes(ct)) violations.push(`Content-Type ${ct || "(none)"} not in ${op.consumes.join(", ")}`);
    this.requests.push(record);
    return record;
  }

  get violations(): string[] {
    return this.requests.flatMap((r) => r.violations.map((v) => `${r.method} ${r.path}: ${v}`));
  }

  get exercised(): Set<string> {
    return new Set(this.requests.map((r) => r.operation).filter((o): o is string => !!o));
  }
}
