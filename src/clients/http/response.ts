/** A received HTTP answer whose body has not been read yet, with capped, validated readers. */
import type { Readable } from "node:stream";
import type { z } from "zod";
import type { ClientError, ErrorFactory } from "../errors";
import { readNdjsonBatches, type NdjsonOptions } from "./ndjson";
import { parse, parseJsonText } from "./validate";

export type ResponseHeaders = Record<string, string | string[] | undefined>;

export interface ResponseInit {
  status: number;
  headers: ResponseHeaders;
  body: Readable & AsyncIterable<Buffer>;
  method: string;
  /** Redacted request URL, for messages. */
  url: string;
  what: string;
  service: string;
  createError: ErrorFactory;
  maxBodyBytes: number;
  maxLineBytes: number;
  /** Maps a mid-body transport failure to a ClientError. */
  onBodyError: (e: unknown) => ClientError;
}

export class HttpResponse {
  readonly status: number;
  readonly headers: ResponseHeaders;
  readonly body: Readable & AsyncIterable<Buffer>;
  readonly method: string;
  readonly url: string;
  readonly what: string;
  private readonly init: ResponseInit;

  constructor(init: ResponseInit) {
    this.init = init;
    this.status = init.status;
    this.headers = init.headers;
    this.body = init.body;
    this.method = init.method;
    this.url = init.url;
    this.what = init.what;
  }

  /** First value of a header (names are case-insensitive). */
  header(name: string): string | undefined {
    const v = this.headers[name.toLowerCase()];
    return Array.isArray(v) ? v[0] : v;
  }

  /** Declared Content-Length, if any. */
  get contentLength(): number | undefined {
    const v = this.header("content-length");
    return v === undefined || !/^\d+$/.test(v) ? undefined : Number(v);
  }

  private tooLarge(limit: number): ClientError {
    return this.init.createError({
      code: "HTTP_RESPONSE_TOO_LARGE",
      service: this.init.service,
      url: this.url,
      method: this.method,
      status: this.status,
      message: `The answer for ${this.what} is larger than the ${limit}-byte limit.`,
      hint: "Narrow the query, or raise maxBodyBytes in the client options.",
      details: { limit },
    });
  }

  /** Reads the whole body (at most `maxBytes`, default the client's maxBodyBytes). */
  async buffer(maxBytes = this.init.maxBodyBytes): Promise<Buffer> {
    const declared = this.contentLength;
    if (declared !== undefined && declared > maxBytes) {
      this.body.destroy();
      throw this.tooLarge(maxBytes);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for await (const c of this.body) {
        total += c.length;
        if (total > maxBytes) {
          this.body.destroy();
          throw this.tooLarge(maxBytes);
        }
        chunks.push(c);
      }
    } catch (e) {
      if ((e as ClientError)?.code === "HTTP_RESPONSE_TOO_LARGE") throw e;
      throw this.init.onBodyError(e);
    }
    return Buffer.concat(chunks as unknown as Uint8Array[], total);
  }

  async text(maxBytes?: number): Promise<string> {
    return (await this.buffer(maxBytes)).toString("utf8");
  }

  /** Parses the body as JSON whatever its Content-Type (Rucio sends JSON as text/html), then validates it. */
  async json<S extends z.ZodType>(schema: S): Promise<z.output<S>>;
  async json(): Promise<unknown>;
  async json(schema?: z.ZodType): Promise<unknown> {
    const text = await this.text();
    const ctx = { what: this.what, service: this.init.service, url: this.url, createError: this.init.createError };
    const value = parseJsonText(text, ctx);
    return schema ? parse(schema, value, ctx) : value;
  }

  /** Iterates an NDJSON body line by line, in constant memory. */
  ndjson<S extends z.ZodType>(schema: S, opts?: Partial<NdjsonOptions<S>>): AsyncGenerator<z.output<S>, void, undefined>;
  ndjson(): AsyncGenerator<unknown, void, undefined>;
  async *ndjson(schema?: z.ZodType, opts?: Partial<NdjsonOptions<z.ZodType>>): AsyncGenerator<unknown, void, undefined> {
    for await (const batch of this.ndjsonBatches(schema as z.ZodType, opts)) yield* batch;
  }

  /** The same, one array per received chunk (cheaper to pass through layers). */
  async *ndjsonBatches<S extends z.ZodType>(schema?: S, opts?: Partial<NdjsonOptions<S>>): AsyncGenerator<z.output<S>[], void, undefined> {
    const it = readNdjsonBatches(this.body, {
      schema,
      maxLineBytes: this.init.maxLineBytes,
      what: this.what,
      service: this.init.service,
      url: this.url,
      createError: this.init.createError,
      ...opts,
    });
    try {
      while (true) {
        let r: IteratorResult<z.output<S>[]>;
        try {
          r = (await it.next()) as IteratorResult<z.output<S>[]>;
        } catch (e) {
          const code = (e as ClientError)?.code;
          if (code === "HTTP_MALFORMED_RESPONSE" || code === "HTTP_RESPONSE_TOO_LARGE") throw e;
          throw this.init.onBodyError(e);
        }
        if (r.done) return;
        yield r.value;
      }
    } finally {
      // Consumer stopped early or failed: release the connection.
      if (!this.body.readableEnded) this.body.destroy();
    }
  }

  /** Discards the body (releases the connection for reuse). */
  async dump(): Promise<void> {
    try {
      const d = (this.body as unknown as { dump?: (o?: { limit: number }) => Promise<void> }).dump;
      if (d) await d.call(this.body, { limit: 64 * 1024 });
      else this.body.destroy();
    } catch {
      this.body.destroy();
    }
  }
}
