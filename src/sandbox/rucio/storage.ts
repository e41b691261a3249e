import { createReadStream, promises as fs } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as path from "node:path";
import { fsyncDir } from "../store";
import type { Catalog } from "./catalog";
import { Checksummer, u8 } from "./checksum";

/** Temporary files of uploads and transfers in flight; renamed into place only once complete and synced. */
export const PART_SUFFIX = ".part";

/**
 * The data plane of the sandbox RSEs at `/rucio-storage/<RSE>/<path>`: GET/HEAD with byte ranges for downloads,
 * PUT for uploads (written to a temporary file, synced, then renamed, so a reader or a crash never sees a partial
 * file at the final path). Every request needs a valid Rucio token.
 */
export class RseStorage {
  constructor(private readonly catalog: Catalog) {}

  async handle(req: IncomingMessage, res: ServerResponse, subPath: string): Promise<void> {
    const m = /^\/([^/]+)\/(.+)$/.exec(subPath);
    if (!m) return plain(res, 404, "not found\n");
    const rse = decodeURIComponent(m[1]!);
    if (!this.catalog.doc.rses[rse]) return plain(res, 404, `unknown RSE ${rse}\n`);
    let rel: string;
    try {
      rel = m[2]!.split("/").map(decodeURIComponent).join("/");
    } catch {
      return plain(res, 400, "bad path encoding\n");
    }
    if (rel.split("/").some((seg) => seg === "" || seg === "." || seg === ".." || seg.endsWith(PART_SUFFIX))) return plain(res, 400, "invalid path\n");
    const folder = this.catalog.rseFolder(rse);
    const file = path.join(folder, rel);
    if (!file.startsWith(folder + path.sep)) return plain(res, 400, "invalid path\n");
    // Like a token-protected WebDAV door: every access needs a valid Rucio token (header or bearer).
    const token = (req.headers["x-rucio-auth-token"] as string | undefined) ?? /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "")?.[1];
    try {
      this.catalog.validateToken(token);
    } catch {
      res.setHeader("WWW-Authenticate", 'Bearer realm="rucio-storage"');
      return plain(res, 401, "a valid Rucio token is required (X-Rucio-Auth-Token or Authorization: Bearer)\n");
    }
    switch (req.method) {
      case "GET":
      case "HEAD":
        return this.read(req, res, file);
      case "PUT":
        return this.write(req, res, rse, rel, file);
      default:
        res.setHeader("Allow", "GET, HEAD, PUT");
        return plain(res, 405, "method not allowed\n");
    }
  }

  private async read(req: IncomingMessage, res: ServerResponse, file: string): Promise<void> {
    let stat;
    try {
      stat = await fs.stat(file);
    } catch {
      return plain(res, 404, "no such file\n");
    }
    if (!stat.isFile()) return plain(res, 404, "no such file\n");
    const size = stat.size;
    let start = 0;
    let end = size - 1;
    let status = 200;
    const range = req.headers.range;
    if (range) {
      const r = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
      if (!r || (r[1] === "" && r[2] === "")) {
        res.setHeader("Content-Range", `bytes */${size}`);
        return plain(res, 416, "unsupported range\n");
      }
      if (r[1] === "") {
        start = Math.max(0, size - Number(r[2]));
      } else {
        start = Number(r[1]);
        if (r[2] !== "") end = Math.min(Number(r[2]), size - 1);
      }
      if (start >= size || start > end) {
        res.setHeader("Content-Range", `bytes */${size}`);
        return plain(res, 416, "range not satisfiable\n");
      }
      status = 206;
    }
    const headers: Record<string, string | number> = {
      "Content-Type": "application/octet-stream",
      "Content-Length": end - start + 1,
      "Accept-Ranges": "bytes",
      "Last-Modified": stat.mtime.toUTCString(),
      ETag: `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`,
    };
    if (status === 206) headers["Content-Range"] = `bytes ${start}-${end}/${size}`;
    res.writeHead(status, headers);
    if (req.method === "HEAD" || size === 0) {
      res.end();
      return;
    }
    await new Promise<void>((resolve) => {
      const stream = createReadStream(file, { start, end });
      stream.on("error", () => {
        res.destroy();
        resolve();
      });
      res.on("close", () => {
        stream.destroy();
        resolve();
      });
      stream.pipe(res);
    });
  }

  private async write(req: IncomingMessage, res: ServerResponse, rse: string, rel: string, file: string): Promise<void> {
    // Never overwrite the bytes behind an available replica: that would silently corrupt acknowledged data.
    for (const reps of Object.values(this.catalog.doc.replicas)) {
      const rep = reps[rse];
      if (rep && rep.path === rel && rep.state === "AVAILABLE") {
        try {
          await fs.access(file);
          return plain(res, 409, "an available replica already exists at this path\n");
        } catch {
          break;
        }
      }
    }
    await fs.mkdir(path.dirname(file), { recursive: true });
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}${PART_SUFFIX}`);
    const handle = await fs.open(tmp, "w", 0o644);
    const sum = new Checksummer();
    let ok = false;
    try {
      for await (const chunk of req) {
        const bytes = u8(chunk as Buffer);
        sum.update(bytes);
        await handle.write(bytes);
      }
      if (req.readableAborted || !req.complete) throw new Error("upload interrupted");
      await handle.sync();
      ok = true;
    } catch {
      // fall through to cleanup
    } finally {
      await handle.close();
      if (!ok) await fs.rm(tmp, { force: true });
    }
    if (!ok) {
      if (!res.destroyed) plain(res, 400, "upload incomplete\n");
      return;
    }
    await fs.rename(tmp, file);
    await fsyncDir(path.dirname(file));
    const d = sum.digest();
    res.writeHead(201, {
      "Content-Type": "text/plain; charset=utf-8",
      Digest: `adler32=${d.adler32},md5=${Buffer.from(d.md5, "hex").toString("base64")}`,
      "X-Checksum-Adler32": d.adler32,
      "X-Checksum-Md5": d.md5,
    });
    res.end("Created\n");
  }
}

function plain(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

/** Removes temporary files left by uploads or transfers that a crash interrupted; returns how many. */
export async function sweepPartials(root: string): Promise<string[]> {
  const removed: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith(PART_SUFFIX)) {
        await fs.rm(p, { force: true });
        removed.push(p);
      }
    }
  };
  await walk(root);
  return removed;
}
