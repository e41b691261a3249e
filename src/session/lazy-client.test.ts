import { describe, expect, it } from "vitest";
import { lazyClient } from "./lazy-client";

class Fake {
  calls = 0;
  async whoami() {
    this.calls++;
    return { account: "demo" };
  }
  async *list(n: number) {
    for (let i = 0; i < n; i++) yield i;
  }
  array() {
    return [1, 2];
  }
}

describe("lazyClient", () => {
  it("awaits methods once the client exists", async () => {
    const real = new Fake();
    const c = lazyClient(async () => real);
    expect(await c.whoami()).toEqual({ account: "demo" });
    expect(real.calls).toBe(1);
  });

  it("iterates async generators and arrays before the client exists", async () => {
    const c = lazyClient(async () => new Fake());
    const seen: number[] = [];
    for await (const x of c.list(3) as AsyncIterable<number>) seen.push(x);
    for await (const x of c.array() as unknown as AsyncIterable<number>) seen.push(x);
    expect(seen).toEqual([0, 1, 2, 1, 2]);
  });

  it("is not itself a thenable and names unknown methods", async () => {
    const c = lazyClient(async () => new Fake()) as unknown as Record<string, () => Promise<unknown>>;
    expect((c as { then?: unknown }).then).toBeUndefined();
    await expect(c.nope()).rejects.toThrow(/Fake\.nope is not a method/);
  });

  it("passes on the creation error", async () => {
    const c = lazyClient<Fake>(async () => {
      throw new Error("no sandbox");
    });
    await expect(c.whoami()).rejects.toThrow("no sandbox");
  });
});

describe("lazyClient resources", () => {
  it("replays property chains on the real client with the right `this`", async () => {
    class Dids {
      constructor(private readonly prefix: string) {}
      async *search(q: string) {
        yield `${this.prefix}:${q}1`;
        yield `${this.prefix}:${q}2`;
      }
    }
    const c = lazyClient(async () => ({ dids: new Dids("open") }));
    const seen: string[] = [];
    for await (const d of c.dids.search("x") as AsyncIterable<string>) seen.push(d);
    expect(seen).toEqual(["open:x1", "open:x2"]);
    await expect((c as unknown as { dids: { nope(): Promise<void> } }).dids.nope()).rejects.toThrow(/dids\.nope is not a method/);
  });
});
