import { existsSync } from "node:fs";
import * as path from "node:path";

/**
 * Where the demo dimuon workflow (reana.yaml + code/dimuon.py, see its README.md) lives: beside the lifecycle
 * example notebook, in notebooks/examples/dimuon, reached the same way from `src/sandbox/reana` and
 * `dist/sandbox/reana`.
 */
export function demoWorkflowDir(): string {
  const candidates = [path.resolve(__dirname, "..", "..", "..", "notebooks", "examples", "dimuon")];
  const found = candidates.find((dir) => existsSync(path.join(dir, "reana.yaml")));
  if (!found) throw new Error(`The demo workflow is not installed (looked in ${candidates.join(", ")}).`);
  return found;
}
