#!/usr/bin/env node
/**
 * The `vre-ts` command:
 *   vre-ts kernel <connection_file>                      run the Jupyter kernel (used by the kernelspec)
 *   vre-ts install [--user | --prefix DIR] [--name NAME]  install the kernelspec
 *   vre-ts run NOTEBOOK.ipynb ...                         execute a notebook (see `vre-ts run --help`)
 *   vre-ts sandbox [--port P] [--data DIR] [--seed]       start the local Rucio/REANA/Zenodo sandbox
 *   vre-ts validate NOTEBOOK.ipynb ...                    check notebooks against the nbformat 4 schema
 */
import { parseArgs } from "node:util";

const USAGE = `usage: vre-ts <command> [options]

commands:
  kernel <connection_file>                     run the Jupyter kernel (started by Jupyter through the kernelspec)
  install [--user | --prefix DIR] [--name NAME] [--display-name TEXT]
                                               install the "TypeScript (vre-ts)" kernelspec
                                               (default: the user's Jupyter data folder, or $JUPYTER_DATA_DIR)
  run NOTEBOOK.ipynb [-o OUT.ipynb] [-p key=value ...] [--allow-errors] [--timeout S]
                                               execute a notebook and save its outputs
                                               (--verify: compare the re-run with its record)
  crate NOTEBOOK.ipynb [-o DIR]                write the notebook's research record as an RO-Crate
  sandbox [--port P] [--data DIR] [--seed]     start local Rucio, REANA and Zenodo services
  validate NOTEBOOK.ipynb ...                  check notebooks against the nbformat 4 schema (no Python needed)
  help                                         show this help
`;

type SubMain = (argv: string[]) => Promise<number>;

function loadSubcommand(module: "./run" | "./sandbox" | "./validate" | "./crate", command: string): SubMain | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(module) as { main?: SubMain };
    if (typeof mod.main === "function") return mod.main;
    process.stderr.write(`vre-ts ${command}: this installation's ${module}.js has no main(); reinstall vre-ts\n`);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "MODULE_NOT_FOUND" && String(err.message).includes(module.slice(2))) {
      process.stderr.write(`vre-ts ${command}: this command is not available in this build of vre-ts\n`);
    } else {
      process.stderr.write(`vre-ts ${command}: failed to load: ${err.stack ?? err}\n`);
    }
  }
  return undefined;
}

async function kernelCommand(argv: string[]): Promise<number> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: {} });
  if (positionals.length !== 1) {
    process.stderr.write("usage: vre-ts kernel <connection_file>\n");
    return 2;
  }
  const { readConnectionFile } = await import("../kernel/server");
  const { runKernel } = await import("../kernel/kernel");
  await runKernel(readConnectionFile(positionals[0]));
  return -1; // keep running until shutdown_request
}

async function installCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      user: { type: "boolean" },
      prefix: { type: "string" },
      "sys-prefix": { type: "boolean" },
      name: { type: "string" },
      "display-name": { type: "string" },
    },
  });
  if (values.user && values.prefix) {
    process.stderr.write("vre-ts install: use either --user or --prefix DIR, not both\n");
    return 2;
  }
  let prefix = values.prefix;
  if (values["sys-prefix"]) {
    // A Node "sys prefix": the folder holding bin/node (e.g. /usr or ~/.nvm/versions/node/v20).
    const { dirname } = await import("node:path");
    prefix = dirname(dirname(process.execPath));
  }
  const { installKernelSpec } = await import("./install");
  const dest = installKernelSpec({ prefix, name: values.name, displayName: values["display-name"] });
  process.stdout.write(`Installed kernelspec ${values.name ?? "vre-ts"} in ${dest}\n`);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "kernel":
      return kernelCommand(rest);
    case "install":
      return installCommand(rest);
    case "run": {
      const sub = loadSubcommand("./run", "run");
      return sub ? sub(rest) : 1;
    }
    case "sandbox": {
      const sub = loadSubcommand("./sandbox", "sandbox");
      return sub ? sub(rest) : 1;
    }
    case "crate": {
      const sub = loadSubcommand("./crate", "crate");
      return sub ? sub(rest) : 1;
    }
    case "validate": {
      const sub = loadSubcommand("./validate", "validate");
      return sub ? sub(rest) : 1;
    }
    case undefined:
    case "help":
    case "-h":
    case "--help":
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`vre-ts: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code >= 0) process.exitCode = code;
    },
    (e: Error) => {
      process.stderr.write(`vre-ts: ${e.message}\n`);
      process.exitCode = (e as { name?: string }).name === "TypeError" ? 2 : 1;
    },
  );
}
