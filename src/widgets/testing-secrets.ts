/**
 * For the widget tests: the embedded sandbox's secrets (its credentials file), to check that none of them
 * reaches what the frontend receives, widget states included (they are saved into the notebook).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export function sandboxSecrets(sandboxDir: string): string[] {
  const creds = JSON.parse(readFileSync(join(sandboxDir, "credentials.json"), "utf8")) as Record<string, Record<string, unknown>>;
  const out: string[] = [];
  for (const service of Object.values(creds)) {
    for (const [key, value] of Object.entries(service)) {
      if (typeof value === "string" && /password|token/i.test(key)) out.push(value);
    }
  }
  if (out.length < 3) throw new Error(`expected the sandbox's password and tokens in ${sandboxDir}/credentials.json`);
  return out;
}

/** Rucio tokens the sandbox issues for the demo account (never configured, so not in the credentials file). */
export const ISSUED_RUCIO_TOKEN = /demo-demo-[\w-]*[0-9a-f]{32}/;
