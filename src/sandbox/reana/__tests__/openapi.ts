import Ajv from "ajv";
import spec from "./reana_server-0.9.11.json";

/**
 * Checks answers of the emulated REANA server against the REANA 0.9.11 OpenAPI (Swagger 2.0) document, a copy of
 * reana-commons' `reana_server.json`: the documented status code must exist, the body must validate against its
 * schema (`x-nullable` honoured), and every documented property must be present unless listed as optional.
 */

type Schema = Record<string, unknown>;
const paths = (spec as unknown as { paths: Record<string, Record<string, { responses: Record<string, { schema?: Schema }> }>> }).paths;

function nullable(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(nullable);
  if (!schema || typeof schema !== "object") return schema;
  const out: Schema = {};
  for (const [k, v] of Object.entries(schema as Schema)) out[k] = k === "properties" ? Object.fromEntries(Object.entries(v as Schema).map(([p, s]) => [p, nullable(s)])) : nullable(v);
  if ((schema as Schema)["x-nullable"] === true && typeof out.type === "string") out.type = [out.type, "null"];
  if (out.type === "file") delete out.type;
  return out;
}

function missing(schema: Schema | undefined, value: unknown, at: string, optional: string[], out: string[]): void {
  if (!schema || value === null || value === undefined) return;
  if (schema.type === "object" && schema.properties && typeof value === "object" && !Array.isArray(value)) {
    for (const [name, sub] of Object.entries(schema.properties as Record<string, Schema>)) {
      const where = at ? `${at}.${name}` : name;
      if (!(name in (value as Schema))) {
        if (!optional.includes(where)) out.push(where);
      } else missing(sub, (value as Schema)[name], where, optional, out);
    }
  }
  if (schema.type === "array" && schema.items && Array.isArray(value)) {
    for (const item of value) missing(schema.items as Schema, item, `${at}[]`, optional, out);
  }
}

const ajv = new Ajv({ strict: false, allErrors: true });

/** Returns a list of problems (empty when the answer matches the document). */
export function checkResponse(method: string, path: string, status: number, body: unknown, optional: string[] = []): string[] {
  const op = paths[path]?.[method.toLowerCase()];
  if (!op) return [`${method} ${path} is not in the OpenAPI document`];
  const response = op.responses[String(status)];
  if (!response) return [`status ${status} is not documented for ${method} ${path} (documented: ${Object.keys(op.responses).join(", ")})`];
  if (!response.schema) return [];
  const problems: string[] = [];
  const validate = ajv.compile(nullable(response.schema) as object);
  if (!validate(body)) problems.push(...(validate.errors ?? []).map((e) => `${e.instancePath || "(body)"} ${e.message ?? ""}`));
  const absent: string[] = [];
  missing(response.schema, body, "", optional, absent);
  problems.push(...absent.map((p) => `documented property ${p} is missing`));
  return problems;
}
