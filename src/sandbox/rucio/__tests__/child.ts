/**
 * Runs a sandbox as a child process for crash tests: prints one JSON line `{url, password, dataDir}` on stdout
 * once it serves, logs diagnostics on stderr, and runs until killed.
 *   node child.js DATA_DIR [--seed]
 */
import { startSandbox } from "../../index";

async function run(): Promise<void> {
  const dataDir = process.argv[2];
  if (!dataDir) throw new Error("usage: child.js DATA_DIR [--seed]");
  const sandbox = await startSandbox({ dataDir, seed: process.argv.includes("--seed"), log: (m) => process.stderr.write(`${m}\n`) });
  process.stdout.write(`${JSON.stringify({ url: sandbox.url, password: sandbox.profiles.rucio.password, dataDir: sandbox.dataDir })}\n`);
  const stop = () => void sandbox.close().then(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

run().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
