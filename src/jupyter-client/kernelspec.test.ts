import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { KernelSpecError, findKernelSpec, jupyterDataDirs, listKernelSpecs, resolveKernelSpec } from "./kernelspec";

const dirs: string[] = [];
function dataDir(specs: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), "kspec-"));
  dirs.push(dir);
  for (const [name, spec] of Object.entries(specs)) {
    mkdirSync(join(dir, "kernels", name), { recursive: true });
    writeFileSync(join(dir, "kernels", name, "kernel.json"), typeof spec === "string" ? spec : JSON.stringify(spec));
  }
  return dir;
}
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("kernelspec discovery", () => {
  it("searches JUPYTER_PATH before the user data dir; names are case-insensitive", () => {
    const first = dataDir({ "My-TS": { argv: ["a", "{connection_file}"], display_name: "First", language: "typescript", interrupt_mode: "message" } });
    const user = dataDir({ "my-ts": { argv: ["b"], display_name: "User" }, other: { argv: ["c"] } });
    const env = { JUPYTER_PATH: first, JUPYTER_DATA_DIR: user };
    expect(jupyterDataDirs(env).slice(0, 2)).toEqual([first, user]);
    expect([...listKernelSpecs(env).keys()].slice(0, 2)).toEqual(["my-ts", "other"]); // system kernels follow
    const spec = findKernelSpec("MY-TS", env)!;
    expect(spec).toMatchObject({ name: "my-ts", display_name: "First", argv: ["a", "{connection_file}"], interrupt_mode: "message", resource_dir: join(first, "kernels", "My-TS") });
    expect(findKernelSpec("other", env)?.interrupt_mode).toBe("signal");
  });

  it("reports broken and unknown kernelspecs clearly", () => {
    const broken = dataDir({ bad: "{nope", empty: { argv: [] } });
    const env = { JUPYTER_PATH: broken, JUPYTER_DATA_DIR: broken };
    expect(() => findKernelSpec("bad", env)).toThrow(/not valid JSON/);
    expect(() => findKernelSpec("empty", env)).toThrow(/no usable "argv"/);
    try {
      resolveKernelSpec("julia", env);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(KernelSpecError);
      expect((e as KernelSpecError).code).toBe("KERNELSPEC_NOT_FOUND");
      expect((e as Error).message).toMatch(/^No kernelspec named "julia"\. Installed: bad, empty\b/);
    }
  });

  it("falls back to this package's own kernel when vre-ts is not installed", () => {
    const none = dataDir({});
    const spec = resolveKernelSpec(undefined, { JUPYTER_PATH: none, JUPYTER_DATA_DIR: none });
    expect(spec.name).toBe("vre-ts");
    expect(spec.argv[0]).toBe(process.execPath);
    expect(spec.argv.slice(2)).toEqual(["kernel", "{connection_file}"]);
    expect(spec.argv[1]).toMatch(/dist[/\\]cli[/\\]main\.js$/);
  });
});
