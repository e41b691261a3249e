/**
 * A name that is `.` or `..` must never make a client reach another endpoint: `%reana status -w ../../rucio/ping`,
 * `%rucio stat ..:ping`, a Zenodo file listed as "..". The HTTP core refuses such paths before sending
 * (HTTP_INVALID_ARGUMENT, as the service's own error class), for every client.
 */
import { afterEach, describe, expect, it } from "vitest";
import { clearSecrets } from "../../src/clients/http/redact";
import { json, type Loopback, startLoopback } from "../../src/clients/http/__tests__/loopback";
import { ReanaClient, ReanaError } from "../../src/clients/reana";
import { RucioClient, RucioError } from "../../src/clients/rucio";
import { ZenodoClient, ZenodoError } from "../../src/clients/zenodo";

let lb: Loopback | undefined;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  await lb?.close();
  lb = undefined;
  clearSecrets();
});

async function failure<E>(p: Promise<unknown>, cls: new (...a: never[]) => E): Promise<E & { code: string }> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(cls);
    return e as E & { code: string };
  }
  throw new Error("expected a failure");
}

describe("dot segments in names", () => {
  it("REANA: a workflow named ../../rucio/ping or .. is refused; nothing reaches the server", async () => {
    lb = await startLoopback((_q, res) => json(res, 200, { message: "OK", status: "200" }));
    const c = new ReanaClient({ serverUrl: lb.url, accessToken: "reana-token-0123456789" }, { retry: { retries: 0 } });
    closers.push(() => c.close());
    for (const [i, call] of [() => c.status("../../rucio/ping"), () => c.status(".."), () => c.logs("./x/.."), () => c.deleteWorkflow(".")].entries()) {
      const e = await failure(call(), ReanaError);
      expect(e.code, `call ${i}`).toBe("HTTP_INVALID_ARGUMENT");
    }
    expect(lb.requests).toEqual([]);
  });

  it("Rucio: scope `..` (%rucio stat ..:ping) is refused after login; the request never leaves", async () => {
    lb = await startLoopback((req, res) => {
      if (req.url === "/auth/userpass") {
        res.writeHead(200, { "x-rucio-auth-token": `jdoe-jdoe-vre-${"a".repeat(32)}`, "x-rucio-auth-token-expires": new Date(Date.now() + 3_600_000).toUTCString().replace("GMT", "UTC"), "content-length": 0 });
        return res.end();
      }
      json(res, 200, { status: "OK" });
    });
    const c = new RucioClient({ host: lb.url, username: "jdoe", password: "pw-jdoe-123", account: "jdoe" }, { retry: { retries: 0 } });
    closers.push(() => c.close());
    const e = await failure(c.dids.get("..:ping"), RucioError);
    expect(e.code).toBe("HTTP_INVALID_ARGUMENT");
    const e2 = await failure(c.rses.get(".."), RucioError);
    expect(e2.code).toBe("HTTP_INVALID_ARGUMENT");
    expect(lb.requests.filter((r) => r.url !== "/auth/userpass")).toEqual([]);
  });

  it("Zenodo: a file whose id is `..` is never deleted through DELETE …/files/.. (which would be the deposition itself)", async () => {
    lb = await startLoopback((req, res) => {
      if (req.method === "GET" && req.url === "/api/deposit/depositions/7/files") return json(res, 200, [{ id: "..", filename: "notes.txt", filesize: 3 }]);
      json(res, 204, {});
    });
    const c = new ZenodoClient({ baseUrl: `${lb.url}/api`, token: "zenodo-token-0123456789" }, { retry: { retries: 0 } });
    closers.push(() => c.close());
    const e = await failure(c.deleteFile(7, "notes.txt"), ZenodoError);
    expect(e.code).toBe("HTTP_INVALID_ARGUMENT");
    expect(lb.requests.map((r) => `${r.method} ${r.url.split("?")[0]}`)).toEqual(["GET /api/deposit/depositions/7/files"]);
  });
});
