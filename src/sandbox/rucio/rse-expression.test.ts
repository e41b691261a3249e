import { describe, expect, it } from "vitest";
import { RucioError } from "./errors";
import { evaluateRseExpression } from "./rse-expression";

const rses = [
  { rse: "POSIX1", attributes: { POSIX1: true, site: "CERN", rse_type: "DISK", tier: 1 } },
  { rse: "POSIX2", attributes: { POSIX2: true, site: "VRE", rse_type: "DISK", tier: 2 } },
  { rse: "TAPE1", attributes: { TAPE1: true, site: "CERN", rse_type: "TAPE", istape: true, tier: 1 } },
];
const ev = (e: string) => evaluateRseExpression(e, rses);

describe("RSE expressions", () => {
  it("resolves names, attributes and *", () => {
    expect(ev("POSIX1")).toEqual(["POSIX1"]);
    expect(ev("site=VRE")).toEqual(["POSIX2"]);
    expect(ev("istape")).toEqual(["TAPE1"]);
    expect(ev("*")).toEqual(["POSIX1", "POSIX2", "TAPE1"]);
    expect(ev("tier<2")).toEqual(["POSIX1", "TAPE1"]);
    expect(ev("NOPE")).toEqual([]);
  });

  it("combines with |, & and \\ left to right, with parentheses", () => {
    expect(ev("rse_type=DISK\\site=VRE")).toEqual(["POSIX1"]);
    expect(ev("site=CERN&rse_type=DISK")).toEqual(["POSIX1"]);
    expect(ev("POSIX1|POSIX2")).toEqual(["POSIX1", "POSIX2"]);
    expect(ev("*\\(site=CERN&istape)")).toEqual(["POSIX1", "POSIX2"]);
  });

  it("rejects malformed expressions with 400 InvalidRSEExpression", () => {
    for (const bad of ["bogus==", "", "a|", "(POSIX1", "POSIX1)", "a b"]) {
      try {
        ev(bad);
        expect.unreachable(bad);
      } catch (err) {
        expect(err).toBeInstanceOf(RucioError);
        expect((err as RucioError).exceptionClass).toBe("InvalidRSEExpression");
        expect((err as RucioError).status).toBe(400);
      }
    }
  });
});
