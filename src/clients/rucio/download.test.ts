import { describe, expect, it } from "vitest";
import { expectedChecksums } from "./download";

describe("download verification policy", () => {
  const both = { bytes: 10, adler32: "0a0b0c0d", md5: "0123456789abcdef0123456789abcdef" };

  it("checks adler32 (Rucio's preferred checksum) by default, md5 only with verify: all", () => {
    expect(expectedChecksums(both, "preferred")).toEqual({ bytes: 10, adler32: "0a0b0c0d", md5: undefined });
    expect(expectedChecksums(both, "all")).toEqual(both);
  });

  it("falls back to md5 when the catalogue has no adler32", () => {
    expect(expectedChecksums({ ...both, adler32: null }, "preferred")).toEqual({ bytes: 10, adler32: null, md5: both.md5 });
  });
});
