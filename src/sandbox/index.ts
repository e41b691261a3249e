import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createReanaService } from "./reana";
import type { ServiceContext, ServiceHandler } from "./service";
import { createRucioService, type RucioService } from "./rucio";
import { bootstrapCatalog, DEMO_ACCOUNT, readOrCreateSecrets } from "./rucio/bootstrap";
import { seedSandbox, type SeedSummary } from "./seed";
import { startServer, type MountHandler, type SandboxServer } from "./server";
import { DataDirInUseError, lockDataDir, readDataDirOwner, writeFileAtomic } from "./store";
import { createZenodoService } from "./zenodo";

/** Settings shapes the clients take (kept structurally here: the sandbox shares no code with the clients). */
export interface SandboxRucioProfile {
  host: string;
  authHost: string;
  account: string;
  vo: string;
  authType: "userpass";
  username: string;
  password: string;
  destinationRse: string;
  mountPath: string;
  pathBeginsAt: number;
  sandbox: true;
}
export interface SandboxReanaProfile {
  serverUrl: string;
  accessToken: string;
  sandbox: true;
}
export interface SandboxZenodoProfile {
  baseUrl: string;
  token: string;
  sandbox: true;
  local: true;
  /** Names the sandbox by its data folder: remembered deposits survive a restart on another port. */
  instance: string;
}

export interface Sandbox {
  /** `http://127.0.0.1:PORT` */
  url: string;
  dataDir: string;
  /** Ready-to-use client settings for the three services. */
  profiles: { rucio: SandboxRucioProfile; reana: SandboxReanaProfile; zenodo: SandboxZenodoProfile };
  /** File (mode 0600) holding the same secrets, for people who want to log in with other tools. */
  credentialsFile: string;
  /** What `seed` registered, when it was asked for. */
  seed?: SeedSummary;
  /** The Rucio emulation (tests use it to wait for transfers). */
  rucio: RucioService;
  /** Requests being answered now and when the last one came (for the idle exit of a detached server). */
  activity(): { inFlight: number; lastRequestAt: number };
  close(): Promise<void>;
}

export { DataDirInUseError } from "./store";

export interface SandboxOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** A port to take if it is free, else any free port (a restarted server takes its predecessor's). */
  preferPort?: number;
  dataDir: string;
  /** Register the demo dataset (idempotent). */
  seed?: boolean;
  /** Diagnostics (never receives secrets); default: silent. */
  log?: (message: string) => void;
  /** Throttle for rule transfers in bytes/s (default: `VRE_SANDBOX_TRANSFER_RATE` or unthrottled). */
  transferBytesPerSecond?: number;
}

/** The destination RSE the profile points the dataset browser at (the one a rule copies to). */
export const SANDBOX_DESTINATION_RSE = "SANDBOX-DISK2";

/** `$XDG_DATA_HOME/vre-ts/sandbox`, or `~/.local/share/vre-ts/sandbox`. */
export function defaultSandboxDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(os.homedir(), ".local", "share");
  return path.join(base, "vre-ts", "sandbox");
}

/** The client settings for a sandbox at `url` whose data folder is `dataDir`. */
export function sandboxProfiles(url: string, dataDir: string, secrets: { rucioPassword: string; reanaToken: string; zenodoToken: string }): Sandbox["profiles"] {
  const mountPath = path.join(path.resolve(dataDir), "rucio", "rse", SANDBOX_DESTINATION_RSE);
  return {
    rucio: {
      host: `${url}/rucio`,
      authHost: `${url}/rucio`,
      account: DEMO_ACCOUNT,
      vo: "def",
      authType: "userpass",
      username: DEMO_ACCOUNT,
      password: secrets.rucioPassword,
      destinationRse: SANDBOX_DESTINATION_RSE,
      mountPath,
      // As in the Rucio JupyterLab extension, pathBeginsAt counts segments of the PFN's URL path: for
      // file://localhost/<mountPath>/<scope>/... the part below the mount starts after depth(mountPath) segments.
      pathBeginsAt: mountPath.split(path.sep).filter(Boolean).length,
      sandbox: true,
    },
    reana: { serverUrl: `${url}/reana`, accessToken: secrets.reanaToken, sandbox: true },
    zenodo: { baseUrl: `${url}/zenodo/api`, token: secrets.zenodoToken, sandbox: true, local: true, instance: `local-sandbox:${path.resolve(dataDir)}` },
  };
}

/**
 * Profiles of a sandbox another process is already running on `dataDir` (e.g. `vre-ts sandbox` in a terminal),
 * or undefined when none is running there.
 */
export async function connectSandbox(dataDir: string): Promise<{ url: string; pid: number; profiles: Sandbox["profiles"] } | undefined> {
  const owner = await readDataDirOwner(path.resolve(dataDir));
  if (!owner) return undefined;
  try {
    const creds = JSON.parse(await fs.readFile(path.join(path.resolve(dataDir), "credentials.json"), "utf8")) as {
      rucio: { password: string };
      reana: { access_token: string };
      zenodo: { token: string };
    };
    return {
      url: owner.url,
      pid: owner.pid,
      profiles: sandboxProfiles(owner.url, dataDir, { rucioPassword: creds.rucio.password, reanaToken: creds.reana.access_token, zenodoToken: creds.zenodo.token }),
    };
  } catch {
    return undefined;
  }
}

/**
 * Starts the local Rucio + REANA + Zenodo sandbox on 127.0.0.1. State lives in `dataDir` and survives restarts;
 * credentials are random per data folder and kept there (mode 0600).
 */
export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const dataDir = path.resolve(options.dataDir);
  const log = options.log ?? (() => undefined);
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const owner = await readDataDirOwner(dataDir);
  if (owner) throw new DataDirInUseError(dataDir, owner);
  const mounts = new Map<string, MountHandler>();
  const table = () => mounts;
  let http: SandboxServer;
  try {
    http = await startServer(options.preferPort ?? options.port ?? 0, table, log);
  } catch (err) {
    if (!options.preferPort || (err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    http = await startServer(options.port ?? 0, table, log);
  }
  const started: ServiceHandler[] = [];
  let lock: { release(): Promise<void> } | undefined;
  try {
    lock = await lockDataDir(dataDir, http.url);
    const ctx = (name: string, prefix = name): ServiceContext => ({
      dataDir: path.join(dataDir, name),
      baseUrl: `${http.url}/${prefix}`,
      log: (m) => log(`[${name}] ${m}`),
    });
    const envRate = Number(process.env.VRE_SANDBOX_TRANSFER_RATE ?? "0");
    const rucioCtx = ctx("rucio");
    const rucio = createRucioService(rucioCtx, { bytesPerSecond: options.transferBytesPerSecond ?? (Number.isFinite(envRate) ? envRate : 0) });
    const secrets = readOrCreateSecrets(rucioCtx.dataDir);
    await rucio.start();
    started.push(rucio);
    if (bootstrapCatalog(rucio.catalog, secrets)) await rucio.catalog.commit();
    let seed: SeedSummary | undefined;
    if (options.seed) seed = await seedSandbox(rucio.catalog, log);

    const reana = createReanaService(ctx("reana"));
    started.push(reana);
    await reana.ready;
    const zenodo = createZenodoService(ctx("zenodo"));
    started.push(zenodo);
    await zenodo.ready;

    mounts.set("/rucio", (req, res, p, url) => rucio.handle(req, res, p, url));
    mounts.set("/rucio-storage", (req, res, p) => rucio.storage.handle(req, res, p));
    mounts.set("/reana", (req, res, p, url) => reana.handle(req, res, p, url));
    mounts.set("/zenodo", (req, res, p, url) => zenodo.handle(req, res, p, url));

    const profiles = sandboxProfiles(http.url, dataDir, { rucioPassword: secrets.demo, reanaToken: reana.accessToken, zenodoToken: zenodo.accessToken });
    const credentialsFile = path.join(dataDir, "credentials.json");
    await writeFileAtomic(
      credentialsFile,
      `${JSON.stringify(
        {
          note: "Secrets of this sandbox data folder. The URLs change with the port; `vre-ts sandbox` prints the current one.",
          rucio: { account: DEMO_ACCOUNT, username: DEMO_ACCOUNT, password: secrets.demo, root_password: secrets.root },
          reana: { access_token: reana.accessToken },
          zenodo: { token: zenodo.accessToken },
        },
        null,
        1,
      )}\n`,
    );
    await fs.chmod(credentialsFile, 0o600);
    await writeFileAtomic(path.join(dataDir, "sandbox.port"), `${http.port}\n`);
    let closing: Promise<void> | undefined;
    return {
      url: http.url,
      dataDir,
      profiles,
      credentialsFile,
      seed,
      rucio,
      activity: () => http.activity(),
      close: () =>
        (closing ??= (async () => {
          mounts.clear();
          await Promise.allSettled(started.map((s) => s.close()));
          await http.close();
          await lock?.release();
        })()),
    };
  } catch (err) {
    await Promise.allSettled(started.map((s) => s.close()));
    await http.close();
    await lock?.release();
    throw err;
  }
}

export { openSandbox, stopSandbox, type OpenSandboxOptions, type SandboxHandle } from "./lifecycle";
