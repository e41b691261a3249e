/**
 * Secrets never leak: the whole Rucio client surface runs against a hostile server that echoes the
 * credentials it receives into error messages, bodies and malformed answers. No error (message, hint,
 * stack, JSON form, cause chain) and no log line may contain a password or token, raw or URL-encoded.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientError } from "../../src/clients/errors";
import { HttpClient } from "../../src/clients/http/client";
import { clearSecrets, registerSecret } from "../../src/clients/http/redact";
import { json, type Loopback, reset, startLoopback } from "../../src/clients/http/__tests__/loopback";
import { RucioClient } from "../../src/clients/rucio";

const PASSWORD = "Pw-Secret-4711!";
const ISSUED = "issued.token.value-do-not-print";
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
const JWT = `${b64({ alg: "RS256" })}.${b64({ sub: "jdoe", exp: Math.floor(Date.now() / 1000) + 3600 })}.c2lnbmF0dXJlLXNlY3JldA`;
const SIGNED = "sig-3f9a8c77e1";
const SECRETS = [PASSWORD, ISSUED, JWT, SIGNED];

type Mode = "echo500" | "echo-ok-malformed" | "ndjson-bad" | "reset" | "echo401";
let mode: Mode = "echo500";
let lb: Loopback;
const logs: string[] = [];
const errors: unknown[] = [];

function echo(req: IncomingMessage): string {
  return `headers=${JSON.stringify(req.headers)} url=${req.url}`;
}

function handler(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === "/auth/userpass") {
    if (mode === "echo401") {
      const msg = `Cannot authenticate ${echo(req)}`;
      return json(res, 401, { ExceptionClass: "CannotAuthenticate", ExceptionMessage: msg }, { ExceptionClass: "CannotAuthenticate", ExceptionMessage: msg.slice(0, 120) });
    }
    res.writeHead(200, { "x-rucio-auth-token": ISSUED, "x-rucio-auth-token-expires": new Date(Date.now() + 3600e3).toUTCString(), "content-length": 0 });
    return res.end();
  }
  if (req.url?.startsWith("/replicas/list") && mode !== "echo500") {
    // A replica whose PFN carries a signed-URL secret, on a storage that echoes what it got.
    res.writeHead(200, { "content-type": "application/x-json-stream" });
    return res.end(
      `${JSON.stringify({
        scope: "s",
        name: "f",
        bytes: 10,
        adler32: "00000001",
        pfns: { [`${lbUrl()}/storage/f?authz=${SIGNED}`]: { rse: "R", priority: 1 } },
        rses: {},
        states: {},
      })}\n`,
    );
  }
  switch (mode) {
    case "echo500":
    case "echo401": {
      const msg = `server saw ${echo(req)}`;
      return json(res, 500, { ExceptionClass: "RucioException", ExceptionMessage: msg }, { ExceptionClass: "RucioException", ExceptionMessage: msg.slice(0, 120) });
    }
    case "echo-ok-malformed":
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(`not json ${echo(req)}`);
    case "ndjson-bad":
      res.writeHead(200, { "content-type": "application/x-json-stream" });
      return res.end(`{"scope": "s", "name": ${JSON.stringify(echo(req))}}\n{oops ${echo(req)}\n`);
    case "reset":
      return reset(res);
  }
}

let lbUrlValue = "";
const lbUrl = () => lbUrlValue;

beforeAll(async () => {
  lb = await startLoopback(handler);
  lbUrlValue = lb.url;
});
afterAll(async () => {
  await lb.close();
  clearSecrets();
});

function surface(c: RucioClient, dir: string): (() => Promise<unknown>)[] {
  const drain = async (it: AsyncIterable<unknown>) => {
    for await (const _ of it);
  };
  const file = join(dir, "up.bin");
  writeFileSync(file, "payload");
  return [
    () => c.ping(),
    () => c.whoami(),
    () => c.scopes.list(),
    () => c.scopes.forAccount(),
    () => drain(c.dids.search("s", { name: "x*", filters: "a=1" })),
    () => c.dids.get("s:n"),
    () => c.dids.meta("s:n"),
    () => drain(c.dids.content("s:n")),
    () => drain(c.dids.files("s:n")),
    () => c.dids.addDataset("s:n"),
    () => c.dids.attach("s:n", ["s:f"]),
    () => drain(c.replicas.list("s:n")),
    () => c.replicas.add("R", [{ scope: "s", name: "f", bytes: 1, adler32: "00000001" }]),
    () => c.rules.create({ dids: "s:n", rseExpression: "R", account: "jdoe" }),
    () => c.rules.get("id"),
    () => drain(c.rules.forDid("s:n")),
    () => c.rules.delete("id"),
    () => drain(c.rses.list()),
    () => c.rses.get("R"),
    () => c.rses.lfns2pfns("R", ["s:f"]),
    () => c.download("s:f", { dir: join(dir, "dl") }),
    () => c.upload(file, { rse: "R", scope: "s" }),
    () => c.localPaths("s:n"),
  ];
}

function everything(e: unknown, depth = 0): string {
  if (depth > 5 || e === undefined || e === null) return "";
  if (!(e instanceof Error)) return String(e);
  const parts = [e.message, e.stack ?? "", String(e)];
  if (e instanceof ClientError) parts.push(e.hint ?? "", e.url ?? "", JSON.stringify(e), JSON.stringify(e.details ?? {}), e.describe());
  for (const [k, v] of Object.entries(e)) if (typeof v === "string") parts.push(`${k}=${v}`);
  parts.push(everything((e as { cause?: unknown }).cause, depth + 1));
  return parts.join("\n");
}

describe("no secret in any error, log line or thrown message", () => {
  for (const m of ["echo500", "echo-ok-malformed", "ndjson-bad", "reset", "echo401"] as Mode[]) {
    for (const creds of ["userpass", "jwt"] as const) {
      it(`${m} with ${creds}`, async () => {
        mode = m;
        const dir = mkdtempSync(join(tmpdir(), "vre-ts-secrets-"));
        const settings =
          creds === "userpass"
            ? { host: lb.url, username: "jdoe", password: PASSWORD, account: "jdoe", destinationRse: "R", mountPath: dir }
            : { host: lb.url, token: JWT, account: "jdoe", destinationRse: "R", mountPath: dir };
        const c = new RucioClient(settings, { logger: (l, msg) => logs.push(`${l} ${msg}`), retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 2 } });
        let failures = 0;
        for (const call of surface(c, dir)) {
          try {
            await call();
          } catch (e) {
            failures++;
            errors.push(e);
          }
        }
        await c.close();
        expect(failures).toBeGreaterThan(15);
        const text = errors.map((e) => everything(e)).join("\n") + logs.join("\n");
        for (const s of SECRETS) {
          const at = text.indexOf(s);
          if (at >= 0) console.log("LEAK", JSON.stringify(text.slice(Math.max(0, at - 300), at + 60)));
          expect(text).not.toContain(s);
          expect(text).not.toContain(encodeURIComponent(s));
        }
      });
    }
  }

  it("the errors still say what happened (codes survive redaction)", () => {
    const codes = new Set(errors.map((e) => (e as ClientError).code));
    for (const c of ["RUCIO_SERVER", "HTTP_MALFORMED_RESPONSE", "RUCIO_AUTH"]) expect(codes).toContain(c);
    expect(logs.length).toBeGreaterThan(0);
  });

  it("URLs with secret query parameters are masked in HTTP core errors (REANA's access_token)", async () => {
    mode = "echo500";
    registerSecret("reana-token-abcdef");
    const http = new HttpClient({ service: "reana", baseUrl: lb.url, retry: { retries: 0 } });
    const e = await http.json({ method: "GET", path: "api/workflows", query: { access_token: "reana-token-abcdef", other: "ok" }, what: "list workflows" }).catch((x: unknown) => x);
    await http.close();
    const text = everything(e);
    expect(text).toContain("access_token=***");
    expect(text).not.toContain("reana-token-abcdef");
  });
});
