import { promises as fs } from "node:fs";
import * as path from "node:path";

/**
 * Durable JSON documents for the sandbox services. A write goes to a temporary file in the same folder, is
 * fsync'ed, then renamed over the target, and the folder is fsync'ed: after a kill at any moment the file holds
 * either the previous or the new document, never a torn one. Writes to one file are serialised.
 */
export class JsonStore<T> {
  private chain: Promise<void> = Promise.resolve();
  /** A write queued behind the one in progress; later writes join it (group commit). */
  private queued: Promise<void> | null = null;
  private latest: T | undefined;

  constructor(
    readonly file: string,
    private readonly initial: () => T,
  ) {}

  async read(): Promise<T> {
    try {
      return JSON.parse(await fs.readFile(this.file, "utf8")) as T;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return this.initial();
      throw err;
    }
  }

  /**
   * Replaces the whole document; resolves once it (or a later version) is durable on disk. The document is
   * serialised when its write starts, so writes queued while another is in progress collapse into one.
   */
  write(value: T): Promise<void> {
    this.latest = value;
    if (this.queued) return this.queued;
    const next = this.chain.then(() => {
      this.queued = null;
      return writeFileAtomic(this.file, JSON.stringify(this.latest));
    });
    this.queued = next;
    this.chain = next.catch(() => undefined);
    return next;
  }
}

export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  const handle = await fs.open(tmp, "w", 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(tmp, file);
  await fsyncDir(dir);
}

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** What a running sandbox records in its data folder (no secrets). */
export interface DataDirOwner {
  pid: number;
  url: string;
  started_at: string;
}

export class DataDirInUseError extends Error {
  readonly code = "SANDBOX_DATA_DIR_IN_USE";
  constructor(
    readonly dataDir: string,
    readonly owner: DataDirOwner,
  ) {
    super(`the sandbox data folder ${dataDir} is in use by process ${owner.pid} (serving ${owner.url}); connect to it or stop it first`);
    this.name = "DataDirInUseError";
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Reads the owner record of a data folder if the process that wrote it is still alive. */
export async function readDataDirOwner(dataDir: string): Promise<DataDirOwner | undefined> {
  try {
    const owner = JSON.parse(await fs.readFile(path.join(dataDir, "sandbox.lock"), "utf8")) as DataDirOwner;
    return typeof owner.pid === "number" && pidAlive(owner.pid) ? owner : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One sandbox process per data folder: two writers of the same JSON documents would lose each other's updates.
 * The lock file names the owner; a lock left by a killed process is taken over.
 */
export async function lockDataDir(dataDir: string, url: string): Promise<{ release(): Promise<void> }> {
  const file = path.join(dataDir, "sandbox.lock");
  const record: DataDirOwner = { pid: process.pid, url, started_at: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await fs.open(file, "wx", 0o644);
      try {
        await handle.writeFile(JSON.stringify(record));
        await handle.sync();
      } finally {
        await handle.close();
      }
      return {
        release: async () => {
          const current = await fs.readFile(file, "utf8").catch(() => "");
          if (current.includes(`"pid":${process.pid},`)) await fs.rm(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = await readDataDirOwner(dataDir);
      if (owner) throw new DataDirInUseError(dataDir, owner);
      await fs.rm(file, { force: true });
    }
  }
  throw new Error(`cannot lock the sandbox data folder ${dataDir}`);
}
