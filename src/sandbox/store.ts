import { promises as fs } from "node:fs";
import * as path from "node:path";

/**
 * Durable JSON documents for the sandbox services. A write goes to a temporary file in the same folder, is
 * fsync'ed, then renamed over the target, and the folder is fsync'ed: after a kill at any moment the file holds
 * either the previous or the new document, never a torn one. Writes to one file are serialised.
 */
export class JsonStore<T> {
  private chain: Promise<void> = Promise.resolve();

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

  /** Replaces the whole document; resolves once it is durable on disk. */
  write(value: T): Promise<void> {
    const next = this.chain.then(() => writeFileAtomic(this.file, JSON.stringify(value, null, 1)));
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
