import { parseArgs } from "node:util";
import { defaultSandboxDir, startSandbox, stopSandbox, type Sandbox } from "../sandbox";
import { watchIdle } from "../sandbox/lifecycle";

const USAGE = `usage: vre-ts sandbox [--port P] [--data DIR] [--seed] [--quiet] [--idle-exit S]
       vre-ts sandbox --stop [--data DIR]

Runs the local Rucio, REANA and Zenodo sandbox in the foreground on 127.0.0.1 until interrupted.
  --port P         port to listen on (default: any free port)
  --prefer-port P  listen on P if it is free, else on any free port
  --data DIR       data folder (default: $XDG_DATA_HOME/vre-ts/sandbox or ~/.local/share/vre-ts/sandbox)
  --seed           register the demo dataset (idempotent)
  --quiet          print only the URL lines, no service diagnostics
  --idle-exit S    stop once, for S seconds, no kernel using the folder is alive, no request came and no
                   REANA run is active (how kernels start it)
  --stop           stop the sandbox serving the data folder, and wait until it has`;

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
        "prefer-port": { type: "string" },
        "idle-exit": { type: "string" },
        stop: { type: "boolean", default: false },
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
  const preferPort = values["prefer-port"] === undefined ? undefined : Number(values["prefer-port"]);
  if (preferPort !== undefined && (!Number.isInteger(preferPort) || preferPort <= 0 || preferPort > 65535)) {
    process.stderr.write(`vre-ts sandbox: --prefer-port must be an integer between 1 and 65535, got '${values["prefer-port"]}'\n`);
    return 2;
  }
  const idleExit = values["idle-exit"] === undefined ? undefined : Number(values["idle-exit"]);
  if (idleExit !== undefined && !(idleExit > 0)) {
    process.stderr.write(`vre-ts sandbox: --idle-exit must be a positive number of seconds, got '${values["idle-exit"]}'\n`);
    return 2;
  }
  const dataDir = values.data ?? defaultSandboxDir();
  if (values.stop) {
    try {
      const stopped = await stopSandbox(dataDir);
      process.stdout.write(stopped ? `vre-ts sandbox: stopped the sandbox of ${dataDir}\n` : `vre-ts sandbox: no sandbox is running on ${dataDir}\n`);
      return 0;
    } catch (err) {
      process.stderr.write(`vre-ts sandbox: ${(err as Error).message}\n`);
      return 1;
    }
  }
  const log = values.quiet ? undefined : (m: string) => process.stderr.write(`${m}\n`);
  let sandbox: Sandbox;
  try {
    sandbox = await startSandbox({ port, preferPort, dataDir, seed: values.seed, log });
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
    if (idleExit !== undefined) {
      watchIdle(sandbox, {
        idleMs: idleExit * 1000,
        checkMs: Math.min(2_000, idleExit * 500),
        onIdle: () => {
          process.stdout.write(`vre-ts sandbox: unused for ${idleExit} s\n`);
          resolve();
        },
        // The folder is not ours any more (deleted, or taken over): write nothing there, not even on the way out.
        onLost: (why) => {
          process.stdout.write(`vre-ts sandbox: ${why}; exiting without writing to it\n`);
          process.exit(0);
        },
      });
    }
  });
  process.stdout.write("vre-ts sandbox: stopping\n");
  await sandbox.close();
  return 0;
}
