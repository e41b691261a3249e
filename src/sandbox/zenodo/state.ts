import { JsonStore } from "../store";

/**
 * Durable state of the sandbox Zenodo. File contents live in immutable blobs (`blobs/<uuid>`) written before the
 * state document that references them, so an entry in a deposition always has its complete bytes on disk.
 */

export interface FileEntry {
  /** File id (old files API). */
  id: string;
  key: string;
  size: number;
  md5: string;
  mimetype: string;
  blob: string;
  /** Object version id (bucket API). */
  version_id: string;
  created: string;
  updated: string;
}

export interface Deposition {
  id: number;
  conceptrecid: number;
  owner: number;
  created: string;
  modified: string;
  bucket: string;
  metadata: Record<string, unknown>;
  files: FileEntry[];
  /** Published at least once (`submitted`). */
  published: boolean;
  /** Published and reopened with actions/edit (`state: inprogress`). */
  editing: boolean;
  /** Deposition id this draft was made from with actions/newversion. */
  new_version_of?: number;
}

export interface RecordDoc {
  id: number;
  conceptrecid: number;
  owner: number;
  created: string;
  updated: string;
  doi: string;
  conceptdoi: string;
  metadata: Record<string, unknown>;
  files: FileEntry[];
  revision: number;
}

export interface ZenodoState {
  version: 1;
  user_id: number;
  next_id: number;
  depositions: Record<string, Deposition>;
  records: Record<string, RecordDoc>;
}

export function zenodoTime(date = new Date()): string {
  return date.toISOString().replace("Z", "+00:00");
}

export class ZenodoStateStore {
  private readonly store: JsonStore<ZenodoState>;
  private current!: ZenodoState;

  constructor(file: string) {
    this.store = new JsonStore<ZenodoState>(file, () => ({ version: 1, user_id: 1, next_id: 100001, depositions: {}, records: {} }));
  }

  async load(): Promise<void> {
    this.current = await this.store.read();
  }

  get state(): ZenodoState {
    return this.current;
  }

  async update<T>(change: (state: ZenodoState) => T): Promise<T> {
    const result = change(this.current);
    await this.store.write(this.current);
    return result;
  }
}
