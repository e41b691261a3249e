import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { installKernelSpec, kernelJson, kernelsDir, PACKAGE_ROOT } from "./install";

const built = existsSync(join(PACKAGE_ROOT, "dist", "cli", "main.js"));

describe("kernelspec", () => {
  it("points at this node and this package's CLI with signal interrupts", () => {
    const spec = kernelJson();
    expect(spec.argv).toEqual([process.execPath, join(PACKAGE_ROOT, "dist", "cli", "main.js"), "kernel", "{connection_file}"]);
    expect(spec).toMatchObject({ language: "typescript", interrupt_mode: "signal", display_name: "TypeScript (vre-ts)" });
  });

  it("chooses the destination like jupyter kernelspec install", () => {
    expect(kernelsDir({ prefix: "/opt/env" })).toBe("/opt/env/share/jupyter/kernels");
    expect(kernelsDir({ env: { JUPYTER_DATA_DIR: "/data/jup" } })).toBe("/data/jup/kernels");
  });

  it.skipIf(!built)("writes kernel.json and both logos under --prefix, with a custom name", () => {
    const prefix = mkdtempSync(join(tmpdir(), "vre-prefix-"));
    const dest = installKernelSpec({ prefix, name: "vre-ts-test" });
    expect(dest).toBe(join(prefix, "share", "jupyter", "kernels", "vre-ts-test"));
    expect(JSON.parse(readFileSync(join(dest, "kernel.json"), "utf8")).interrupt_mode).toBe("signal");
    for (const logo of ["logo-32x32.png", "logo-64x64.png"]) {
      expect(readFileSync(join(dest, logo)).subarray(1, 4).toString()).toBe("PNG");
    }
    expect(() => installKernelSpec({ prefix, name: "bad name" })).toThrow(/invalid kernel name/);
  });
});
