import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

describe("adler32-wasm.ts", () => {
  it("is the assembly of adler32.wat (regenerate with node scripts/build-wasm.mjs)", () => {
    const root = join(__dirname, "..", "..", "..");
    expect(execFileSync(process.execPath, [join(root, "scripts/build-wasm.mjs"), "--check"], { encoding: "utf8" })).toContain("up to date");
  });
});
