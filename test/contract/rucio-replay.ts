/**
 * A replay server for the recorded Rucio 35.8.0 exchanges (/work/shared/specs/rucio/rucio-35.8.0-transcript.txt,
 * or $VRE_TS_SPECS/rucio/...). It listens on loopback and answers each request with the recorded response
 * bytes: status line and headers exactly as recorded, the body as recorded (chunked NDJSON is re-chunked one
 * line per chunk; the two Content-Length headers made stale by the storage-path rewrite are corrected).
 *
 * Matching: the auth sections by their headers (password, account), every other request by its token
 * (root's, jdoe's, none, or unknown → the recorded 401s), then by method, path, query and JSON body.
 * Repeated identical requests (a rule read before and after its deletion) are served in recorded order.
 * Requests that match nothing recorded get a 599 and are listed in `misses`.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";

export interface Section {
  index: number;
  method: string;
  target: string; // path?query as recorded
  label?: string;
  requestBody?: string;
  statusLine: string;
  status: number;
  headers: [string, string][];
  body: Buffer;
  chunked: boolean;
  /** The identity whose token the request carried. */
  identity: "root" | "jdoe" | "none" | "bad" | "auth";
}

export function transcriptPath(): string {
  const root = process.env.VRE_TS_SPECS ?? "/work/shared/specs";
  return join(root, "rucio", "rucio-35.8.0-transcript.txt");
}

/** Parses the transcript into sections (see /work/shared/specs/README.md for the format). */
export function parseTranscript(raw: Buffer): { sections: Section[]; jdoeToken?: string } {
  const text = raw.toString("latin1"); // byte-preserving
  const starts: number[] = [];
  const re = /^===== /gm;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) starts.push(m.index);
  const sections: Section[] = [];
  let jdoeToken: string | undefined;
  let identity: Section["identity"] = "root";
  for (let i = 0; i < starts.length; i++) {
    const chunk = text.slice(starts[i], i + 1 < starts.length ? starts[i + 1] : text.length);
    const nl = chunk.indexOf("\n");
    const head = chunk.slice(6, nl);
    const rest = chunk.slice(nl + 1);
    const hm = /^(\w+) (\S+)(?: BODY: (.*?))?(?: \((.+)\))?\s*$/.exec(head);
    if (!hm) throw new Error(`cannot parse section header: ${head}`);
    const [, method, target, requestBody, label] = hm;
    if (!rest.startsWith("HTTP/")) {
      const t = /token: (\S+)/.exec(rest);
      if (t) {
        jdoeToken = t[1];
        identity = "jdoe";
      }
      continue;
    }
    const headerEnd = rest.indexOf("\r\n\r\n");
    const headerLines = rest.slice(0, headerEnd).split("\r\n");
    const statusLine = headerLines[0];
    const headers = headerLines.slice(1).map((l) => {
      const c = l.indexOf(":");
      return [l.slice(0, c), l.slice(c + 1).trim()] as [string, string];
    });
    // The body runs to the LF that separates sections.
    let bodyText = rest.slice(headerEnd + 4);
    if (bodyText.endsWith("\n")) bodyText = bodyText.slice(0, -1);
    const body = Buffer.from(bodyText, "latin1");
    const chunked = headers.some(([k, v]) => k.toLowerCase() === "transfer-encoding" && v.toLowerCase() === "chunked");
    const path = target.split("?")[0];
    let id: Section["identity"] = identity;
    if (path === "/auth/userpass") id = "auth";
    else if (label === "no token") id = "none";
    else if (label === "bad token") id = "bad";
    sections.push({
      index: sections.length,
      method,
      target,
      label,
      requestBody,
      statusLine,
      status: Number(statusLine.split(" ")[1]),
      headers,
      body,
      chunked,
      identity: id,
    });
  }
  return { sections, jdoeToken };
}

function normQuery(target: string): Map<string, string[]> {
  const q = target.includes("?") ? target.slice(target.indexOf("?") + 1) : "";
  const out = new Map<string, string[]>();
  // The server reads booleans as true/false/True/False/1/0.
  const bool = (v: string) => (/^(1|true)$/i.test(v) ? "true" : /^(0|false)$/i.test(v) ? "false" : v);
  for (const [k, v] of new URLSearchParams(q)) out.set(k, [...(out.get(k) ?? []), bool(v)]);
  return out;
}

function normPath(target: string): string {
  return decodeURIComponent(target.split("?")[0]);
}

function sameJson(a: string | undefined, b: string | undefined): boolean {
  const parse = (s: string | undefined) => {
    if (s === undefined || s.trim() === "") return undefined;
    try {
      return JSON.parse(s);
    } catch {
      return s;
    }
  };
  const canon = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canon) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, x]) => [k, canon(x)])) : v;
  return JSON.stringify(canon(parse(a))) === JSON.stringify(canon(parse(b)));
}

export interface ReplayRequest {
  method: string;
  target: string;
  headers: Record<string, string>;
  body: string;
  section?: number;
  exact?: boolean;
}

export class RucioReplay {
  readonly sections: Section[];
  readonly rootToken: string;
  readonly jdoeToken: string;
  readonly requests: ReplayRequest[] = [];
  readonly misses: ReplayRequest[] = [];
  private readonly used = new Set<number>();
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  url = "";

  constructor(raw: Buffer = readFileSync(transcriptPath())) {
    const t = parseTranscript(raw);
    this.sections = t.sections;
    const good = this.sections.find((s) => s.target === "/auth/userpass" && s.label === "good")!;
    this.rootToken = good.headers.find(([k]) => k === "X-Rucio-Auth-Token")![1];
    this.jdoeToken = t.jdoeToken!;
  }

  /** Sections of a method + path (for assertions). */
  find(method: string, target: string): Section[] {
    return this.sections.filter((s) => s.method === method && s.target === target);
  }

  select(req: ReplayRequest): { section?: Section; exact: boolean } {
    const path = normPath(req.target);
    if (path === "/auth/userpass") {
      const label = req.headers["x-rucio-password"] !== "secret" ? "bad password" : req.headers["x-rucio-account"] ? "good" : "no account header";
      return { section: this.sections.find((s) => s.target === "/auth/userpass" && s.label === label), exact: true };
    }
    const token = req.headers["x-rucio-auth-token"];
    const identity = token === undefined ? "none" : token === this.rootToken ? "root" : token === this.jdoeToken ? "jdoe" : "bad";
    if (identity === "none" || identity === "bad") {
      const label = identity === "none" ? "no token" : "bad token";
      return { section: this.sections.find((s) => s.label === label), exact: path === "/accounts/whoami" };
    }
    const q = normQuery(req.target);
    const candidates = this.sections.filter((s) => s.method === req.method && normPath(s.target) === path && s.identity === identity);
    let best: Section[] = [];
    let bestScore = -1;
    for (const s of candidates) {
      const sq = normQuery(s.target);
      // A recorded parameter with another value disqualifies; absent/extra parameters only cost a little
      // (the legacy `name=` form and our `filters=` form select the same recorded answer).
      let score = 0;
      let exact = sq.size === q.size;
      for (const [k, v] of sq) {
        if (!q.has(k)) {
          score -= 1;
          exact = false;
        } else if (JSON.stringify(q.get(k)) === JSON.stringify(v)) score += 2;
        else {
          score -= 100;
          exact = false;
        }
      }
      for (const k of q.keys()) if (!sq.has(k)) score -= 1;
      const bodyOk = sameJson(s.requestBody, req.body);
      if (bodyOk) score += 3;
      else exact = false;
      if (exact) score += 10;
      if (score > bestScore) {
        best = [s];
        bestScore = score;
      } else if (score === bestScore) best.push(s);
    }
    if (best.length === 0) return { exact: false };
    const pick = best.find((s) => !this.used.has(s.index)) ?? best[best.length - 1];
    const sq = normQuery(pick.target);
    const exact = sameJson(pick.requestBody, req.body) && sq.size === q.size && [...sq].every(([k, v]) => JSON.stringify(q.get(k)) === JSON.stringify(v));
    return { section: pick, exact };
  }

  /** The recorded response as bytes on the wire. */
  static wire(s: Section): Buffer {
    const lines = [s.statusLine];
    for (const [k, v] of s.headers) {
      // Two bodies were shortened by the storage-path rewrite after recording; keep the framing consistent.
      if (k.toLowerCase() === "content-length") lines.push(`${k}: ${s.body.length}`);
      else lines.push(`${k}: ${v}`);
    }
    const head = Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
    if (!s.chunked) return Buffer.concat([head, s.body]);
    const parts: Buffer[] = [head];
    let start = 0;
    while (start < s.body.length) {
      let end = s.body.indexOf(0x0a, start);
      end = end === -1 ? s.body.length : end + 1;
      const piece = s.body.subarray(start, end);
      parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from("\r\n"));
      start = end;
    }
    parts.push(Buffer.from("0\r\n\r\n"));
    return Buffer.concat(parts);
  }

  async start(): Promise<string> {
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
      socket.on("error", () => {});
      let buf = Buffer.alloc(0);
      socket.on("data", (d) => {
        buf = Buffer.concat([buf, d]);
        const he = buf.indexOf("\r\n\r\n");
        if (he === -1) return;
        const head = buf.subarray(0, he).toString("latin1").split("\r\n");
        const [method, target] = head[0].split(" ");
        const headers: Record<string, string> = {};
        for (const l of head.slice(1)) {
          const c = l.indexOf(":");
          headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim();
        }
        let body: Buffer;
        if (headers["transfer-encoding"]?.includes("chunked")) {
          const raw = buf.subarray(he + 4);
          if (raw.indexOf("0\r\n\r\n") === -1) return;
          const parts: Buffer[] = [];
          let p = 0;
          while (true) {
            const e = raw.indexOf("\r\n", p);
            const n = parseInt(raw.subarray(p, e).toString(), 16);
            if (!n) break;
            parts.push(raw.subarray(e + 2, e + 2 + n));
            p = e + 2 + n + 2;
          }
          body = Buffer.concat(parts);
        } else {
          const len = Number(headers["content-length"] ?? 0);
          if (buf.length < he + 4 + len) return;
          body = buf.subarray(he + 4, he + 4 + len);
        }
        socket.removeAllListeners("data");
        const req: ReplayRequest = { method, target, headers, body: body.toString("utf8") };
        const { section, exact } = this.select(req);
        req.section = section?.index;
        req.exact = exact;
        this.requests.push(req);
        if (!section) {
          this.misses.push(req);
          const msg = Buffer.from(`no recorded exchange for ${method} ${target}`);
          socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 599 REPLAY MISS\r\nContent-Length: ${msg.length}\r\nConnection: close\r\n\r\n`), msg]));
          return;
        }
        this.used.add(section.index);
        socket.end(RucioReplay.wire(section));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    const addr = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${addr.port}`;
    return this.url;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
