/** Small JSON files the clients' callers keep (deposit progress, ...): read if present, written atomically. */
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** Writes JSON atomically (temporary file + rename), creating the folder; mode 0600. */
export function writeJsonAtomic(file: string, data: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${randomUUID().slice(0, 8)}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** Reads a JSON file, or undefined when it does not exist. */
export function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}
