import { existsSync } from "node:fs";
import * as path from "node:path";

/**
 * Where the demo dimuon workflow (reana.yaml + code/dimuon.py, see demo/README.md) lives. The assets are kept as
 * plain files in the source tree; from the compiled package (`dist/sandbox/reana`) they are found in `src/`.
 */
export function demoWorkflowDir(): string {
  const candidates = [path.join(__dirname, "demo"), path.resolve(__dirname, "..", "..", "..", "src", "sandbox", "reana", "demo")];
  const found = candidates.find((dir) => existsSync(path.join(dir, "reana.yaml")));
  if (!found) throw new Error(`The demo workflow is not installed (looked in ${candidates.join(", ")}).`);
  return found;
}
