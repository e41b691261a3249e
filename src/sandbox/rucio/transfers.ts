import { createReadStream, promises as fs } from "node:fs";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fsyncDir } from "../store";
import type { Catalog } from "./catalog";
import { Checksummer, u8 } from "./checksum";
import { didKey, type LockRecord, type RuleRecord } from "./model";
import { evaluateRseExpression } from "./rse-expression";
import { PART_SUFFIX } from "./storage";

export interface TransferOptions {
  /** Throttle for copies, in bytes per second (0 = unthrottled). Lets tests and demos watch REPLICATING. */
  bytesPerSecond?: number;
  log?: (message: string) => void;
}

/**
 * The sandbox's conveyor: copies the file behind every REPLICATING lock from an available replica to the
 * destination RSE folder, verifies size and adler32 against the catalogue, renames it into place and marks the
 * replica AVAILABLE and the lock OK. A failed copy marks the lock (and so the rule) STUCK with the reason.
 * Pending locks live in the catalogue, so transfers cut short by a crash are picked up again at the next start.
 */
export class TransferEngine {
  private readonly abort = new AbortController();
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly catalog: Catalog,
    private readonly options: TransferOptions = {},
  ) {}

  /** Starts processing pending locks (no-op when already busy; it re-scans when done). */
  kick(): void {
    if (this.abort.signal.aborted) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((err: unknown) => this.options.log?.(`transfer engine paused after an error: ${(err as Error).message}`))
      .finally(() => {
        this.running = null;
        if (this.again && !this.abort.signal.aborted) {
          this.again = false;
          this.kick();
        }
      });
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.running?.catch(() => undefined);
  }

  /** Resolves when no transfer is pending or running (used by tests and the CLI's shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
  }

  private async drain(): Promise<void> {
    for (;;) {
      this.again = false;
      const pending = this.catalog.pendingTransfers();
      if (pending.length === 0 || this.abort.signal.aborted) return;
      for (const { rule, lock } of pending) {
        if (this.abort.signal.aborted) return;
        if (lock.state !== "REPLICATING" || !this.catalog.doc.rules[rule.id]) continue;
        await this.transfer(rule, lock);
      }
    }
  }

  private async transfer(rule: RuleRecord, lock: LockRecord): Promise<void> {
    const key = didKey(lock.scope, lock.name);
    const file = this.catalog.findDid(lock.scope, lock.name);
    const reps = this.catalog.doc.replicas[key] ?? {};
    const dest = reps[lock.rse];
    if (!file || !dest) return this.fail(rule, lock, `no replica record for ${key} on ${lock.rse}`);
    if (dest.state === "AVAILABLE") {
      this.catalog.settleLocks();
      await this.catalog.commit();
      return;
    }
    let sources = Object.entries(reps).filter(([rse, r]) => rse !== lock.rse && r.state === "AVAILABLE").map(([rse]) => rse);
    if (rule.source_replica_expression) {
      try {
        const allowed = new Set(evaluateRseExpression(rule.source_replica_expression, this.catalog.rseViews()));
        sources = sources.filter((s) => allowed.has(s));
      } catch {
        return this.fail(rule, lock, `invalid source_replica_expression ${rule.source_replica_expression}`);
      }
    }
    if (sources.length === 0) return this.fail(rule, lock, `RSE_NOT_FOUND: no available source replica of ${key}`);
    const errors: string[] = [];
    for (const src of sources) {
      const srcPath = path.join(this.catalog.rseFolder(src), reps[src]!.path);
      const dstPath = path.join(this.catalog.rseFolder(lock.rse), dest.path);
      try {
        await this.copy(srcPath, dstPath, file.bytes, file.adler32);
        // The catalogue may have moved on while copying (rule deleted, replica flipped by PUT /replicas).
        const current = this.catalog.doc.replicas[key]?.[lock.rse];
        if (current) {
          current.state = "AVAILABLE";
          current.updated_at = Date.now();
        }
        this.catalog.settleLocks();
        await this.catalog.commit();
        this.options.log?.(`transfer ${key} ${src} -> ${lock.rse} done (rule ${rule.id})`);
        return;
      } catch (err) {
        if (this.abort.signal.aborted) return;
        errors.push(`${src}: ${(err as Error).message}`);
      }
    }
    return this.fail(rule, lock, `TRANSFER_FAILED: ${errors.join("; ")}`);
  }

  private async fail(rule: RuleRecord, lock: LockRecord, reason: string): Promise<void> {
    lock.state = "STUCK";
    lock.error = reason;
    this.catalog.updateRuleState(rule);
    await this.catalog.commit();
    this.options.log?.(`transfer of ${lock.scope}:${lock.name} to ${lock.rse} failed: ${reason}`);
  }

  /** Streams src to a temporary file next to dst, checks size and adler32, syncs, then renames into place. */
  private async copy(src: string, dst: string, bytes: number | null, adler32: string | null): Promise<void> {
    await fs.mkdir(path.dirname(dst), { recursive: true });
    const tmp = path.join(path.dirname(dst), `.${path.basename(dst)}.transfer${PART_SUFFIX}`);
    const handle = await fs.open(tmp, "w", 0o644);
    const sum = new Checksummer();
    const rate = this.options.bytesPerSecond ?? 0;
    const started = Date.now();
    let done = false;
    try {
      const stream = createReadStream(src, { highWaterMark: rate > 0 ? Math.max(1024, Math.min(64 * 1024, Math.floor(rate / 8))) : 256 * 1024 });
      for await (const chunk of stream) {
        if (this.abort.signal.aborted) throw new Error("sandbox shutting down");
        const bytes = u8(chunk as Buffer);
        sum.update(bytes);
        await handle.write(bytes);
        if (rate > 0) {
          const due = started + (sum.bytes / rate) * 1000;
          const wait = due - Date.now();
          if (wait > 0) await sleep(wait, undefined, { signal: this.abort.signal }).catch(() => undefined);
        }
      }
      const d = sum.digest();
      if (bytes !== null && d.bytes !== bytes) throw new Error(`size mismatch: source has ${d.bytes} bytes, catalogue says ${bytes}`);
      if (adler32 && d.adler32 !== adler32.toLowerCase()) throw new Error(`checksum mismatch: adler32 of the copy is ${d.adler32}, catalogue says ${adler32}`);
      await handle.sync();
      done = true;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new Error(e.code === "ENOENT" ? "source file missing on storage" : e.message);
    } finally {
      await handle.close();
      if (!done) await fs.rm(tmp, { force: true });
    }
    await fs.rename(tmp, dst);
    await fsyncDir(path.dirname(dst));
  }
}
