import { parseArgs } from "node:util";
import { defaultSandboxDir, startSandbox } from "../sandbox";

const USAGE = `usage: vre-ts sandbox [--port P] [--data DIR] [--seed] [--quiet]

Runs the local Rucio, REANA and Zenodo sandbox in the foreground on 127.0.0.1 until interrupted.
  --port P    port to listen on (default: any free port)
  --data DIR  data folder (default: $XDG_DATA_HOME/vre-ts/sandbox or ~/.local/share/vre-ts/sandbox)
  --seed      register the demo dataset (idempotent)
  --quiet     print only the URL lines, no service diagnostics`;

/** `vre-ts sandbox`: returns the exit code once the sandbox was stopped by SIGINT/SIGTERM. */
export async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: "string", short: "p" },
        data: { type: "string", short: "d" },
        seed: { type: "boolean", default: false },
        quiet: { type: "boolean", short: "q", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`vre-ts sandbox: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`vre-ts sandbox: --port must be an integer between 0 and 65535, got '${values.port}'\n`);
    return 2;
  }
  const dataDir = values.data ?? defaultSandboxDir();
  const log = values.quiet ? undefined : (m: string) => process.stderr.write(`${m}\n`);
  let sandbox;
  try {
    sandbox = await startSandbox({ port, dataDir, seed: values.seed, log });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === "EADDRINUSE" ? `port ${port} is already in use; pick another with --port or use --port 0` : e.message;
    process.stderr.write(`vre-ts sandbox: cannot start: ${why}\n`);
    return 1;
  }
  const p = sandbox.profiles;
  process.stdout.write(
    [
      `vre-ts sandbox listening on ${sandbox.url} (data: ${sandbox.dataDir})`,
      `  rucio   ${p.rucio.host}  (account ${p.rucio.account}, userpass; RSEs SANDBOX-DISK1, SANDBOX-DISK2)`,
      `  reana   ${p.reana.serverUrl}`,
      `  zenodo  ${p.zenodo.baseUrl}`,
      `  credentials: ${sandbox.credentialsFile}`,
      sandbox.seed ? `  seeded: ${sandbox.seed.scope}:${sandbox.seed.container} (${sandbox.seed.files.length} files on ${sandbox.seed.rse})` : "",
      "Press Ctrl+C to stop.",
      "",
    ]
      .filter((l) => l !== "")
      .join("\n") + "\n",
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  process.stdout.write("vre-ts sandbox: stopping\n");
  await sandbox.close();
  return 0;
}
