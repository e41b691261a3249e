import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { setAmbientSignal, withAmbientSignal } from "./ambient-signal";
import { HttpClient } from "./client";

afterEach(() => setAmbientSignal(undefined));

describe("ambient signal", () => {
  it("combines with the call's own signal", () => {
    const ambient = new AbortController();
    const own = new AbortController();
    setAmbientSignal(() => ambient.signal);
    const combined = withAmbientSignal(own.signal)!;
    expect(combined.aborted).toBe(false);
    ambient.abort();
    expect(combined.aborted).toBe(true);
    expect(withAmbientSignal(undefined)).toBe(ambient.signal);
  });

  it("is ignored when its provider throws or gives nothing", () => {
    setAmbientSignal(() => {
      throw new Error("no cell running");
    });
    const own = new AbortController().signal;
    expect(withAmbientSignal(own)).toBe(own);
  });

  it("cancels an in-flight request that passed no signal (a kernel interrupt)", async () => {
    const server = createServer(() => undefined); // never answers
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    const cell = new AbortController();
    setAmbientSignal(() => cell.signal);
    const http = new HttpClient({ service: "test", baseUrl: `http://127.0.0.1:${port}/` });
    const pending = http.text({ method: "GET", path: "slow", what: "wait" });
    setTimeout(() => cell.abort(), 100);
    await expect(pending).rejects.toThrow();
    await http.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
});
