import { describe, expect, it } from "vitest";
import { cellSignal, display, input, inKernel, openComm, registerCommTarget, registerMagic, widget } from "./api";
import { getMagic } from "../magics/registry";

describe("kernel API outside a kernel", () => {
  it("reports that there is no kernel", () => {
    expect(inKernel()).toBe(false);
  });

  it("throws clear errors instead of failing obscurely", async () => {
    expect(() => display("x")).toThrow(/needs a running vre-ts kernel/);
    expect(() => openComm("t")).toThrow(/openComm\(\) needs a running vre-ts kernel/);
    expect(() => registerCommTarget("t", () => undefined)).toThrow(/running vre-ts kernel/);
    expect(() => cellSignal()).toThrow(/running vre-ts kernel/);
    expect(() => input("name?")).toThrow(/input\(\) needs a running vre-ts kernel/);
    expect(() => widget({ esm: "export default {}" })).toThrow(/widget\(\) needs a running vre-ts kernel/);
  });

  it("still records magics, so modules can register them before a kernel starts", () => {
    registerMagic({ name: "later", kind: "line", summary: "s", usage: "%later", run: () => 1 });
    expect(getMagic("later")?.summary).toBe("s");
  });
});
