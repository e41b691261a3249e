/**
 * `GET /api/workflows/{a}/diff/{b}`: REANA answers two JSON-encoded strings — `reana_specification` (section →
 * unified diff lines) and `workspace_listing` (the recursive diff of the workspaces) — that must be parsed again,
 * as reana-client's `diff` does.
 */
import { z } from "zod";
import { ReanaError } from "./errors";

export const DiffAnswer = z.looseObject({
  reana_specification: z.union([z.string(), z.record(z.string(), z.unknown())]),
  workspace_listing: z.union([z.string(), z.record(z.string(), z.unknown())]),
});

export interface WorkflowDiff {
  /** Specification sections (`workflow`, `inputs`, `outputs`, …) → unified diff lines; empty when equal. */
  specification: Record<string, string[]>;
  /** `diff -r` of the two workspaces ("workspace a" / "workspace b"); empty when identical. */
  workspace: string;
}

function decode(value: unknown, what: string): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    throw new ReanaError({ code: "HTTP_MALFORMED_RESPONSE", message: `The server's diff answer has a ${what} that is not JSON.`, hint: "Check the server version (REANA 0.9.x)." });
  }
}

export function parseDiff(answer: z.infer<typeof DiffAnswer>): WorkflowDiff {
  const spec = decode(answer.reana_specification, "reana_specification");
  const specification: Record<string, string[]> = {};
  if (spec && typeof spec === "object" && !Array.isArray(spec)) {
    for (const [section, lines] of Object.entries(spec)) {
      specification[section] = Array.isArray(lines) ? lines.map(String) : typeof lines === "string" ? lines.split("\n") : [];
    }
  }
  const listing = decode(answer.workspace_listing, "workspace_listing");
  const workspace =
    typeof listing === "string" ? listing : listing && typeof listing === "object" ? Object.keys(listing).join("\n") : "";
  return { specification, workspace };
}
