import { describe, expect, it } from "vitest";
import { putBuffers, removeBuffers } from "./buffers";

describe("widget state buffers", () => {
  it("moves binary values (any depth) to buffers with their paths, without touching the input", () => {
    const state = { a: 1, img: new Uint8Array([1, 2]), nested: { list: [0, new Float32Array([1]), { raw: new ArrayBuffer(2) }] } };
    const r = removeBuffers(state);
    expect(r.buffer_paths).toEqual([["img"], ["nested", "list", 1], ["nested", "list", 2, "raw"]]);
    expect(r.buffers.map((b) => b.length)).toEqual([2, 4, 2]);
    expect(r.state).toEqual({ a: 1, nested: { list: [0, null, {}] } });
    expect(state.img).toBeInstanceOf(Uint8Array);
    expect(JSON.stringify(r.state)).not.toContain("1,2");
  });

  it("returns the same object when there is nothing binary", () => {
    const s = { a: [1, { b: 2 }] };
    expect(removeBuffers(s).state).toBe(s);
  });

  it("puts received buffers back at their paths", () => {
    const state: Record<string, unknown> = { a: 1, list: [0, null] };
    putBuffers(state, [["img"], ["list", 1], ["deep", "x"]], [Buffer.from([1]), Buffer.from([2]), Buffer.from([3])]);
    expect(state.img).toEqual(Buffer.from([1]));
    expect((state.list as unknown[])[1]).toEqual(Buffer.from([2]));
    expect((state.deep as Record<string, unknown>).x).toEqual(Buffer.from([3]));
  });
});
