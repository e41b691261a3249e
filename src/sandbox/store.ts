import { promises as fs, readFileSync } from "node:fs";
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
  /** The owner's start time as the kernel counts it (Linux), so a recycled pid is not taken for the owner. */
  pid_start?: string;
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

/**
 * When process `pid` started, in clock ticks since boot (field 22 of /proc/<pid>/stat); undefined where there is no
 * /proc. Together with the pid it names one process: after a kill the pid can be reused, the start time cannot.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces; count fields after its closing one.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** Whether the process recorded as (`pid`, `start`) is still the one running under that pid. */
export function processAlive(pid: number, start?: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || !pidAlive(pid)) return false;
  if (start === undefined) return true;
  const now = processStartTime(pid);
  return now === undefined || now === start;
}

/** Reads the owner record of a data folder if the process that wrote it is still alive. */
export async function readDataDirOwner(dataDir: string): Promise<DataDirOwner | undefined> {
  try {
    const owner = JSON.parse(await fs.readFile(path.join(dataDir, "sandbox.lock"), "utf8")) as DataDirOwner;
    return typeof owner.pid === "number" && processAlive(owner.pid, owner.pid_start) ? owner : undefined;
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
  const record: DataDirOwner = { pid: process.pid, url, started_at: new Date().toISOString(), pid_start: processStartTime(process.pid) };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await fs.open(file, "wx", 0o644);
      try {
        await handle.writeFile(JSON.stringify(record));
        await handle.sync();
      } finally {
        await handle.close();
      }
      // Two processes that both found the same stale lock may both have removed it; the later rm may have taken
      // the other's fresh lock. Whoever's record is in the file after a moment owns the folder.
      await new Promise((r) => setTimeout(r, 30));
      const now = await readDataDirOwner(dataDir);
      if (now && now.pid !== process.pid) throw new DataDirInUseError(dataDir, now);
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
