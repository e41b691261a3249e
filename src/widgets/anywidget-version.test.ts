import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { anywidgetVersionRange, FALLBACK_ANYWIDGET_RANGE, jupyterDataDirs, semverRange } from "./anywidget-version";

describe("anywidget version detection", () => {
  it("reads the installed labextension's version from the Jupyter data dirs", () => {
    const dir = mkdtempSync(join(tmpdir(), "vre-anyw-"));
    mkdirSync(join(dir, "labextensions", "anywidget"), { recursive: true });
    writeFileSync(join(dir, "labextensions", "anywidget", "package.json"), JSON.stringify({ version: "0.9.13" }));
    expect(anywidgetVersionRange({ JUPYTER_PATH: dir, HOME: "/nonexistent" }, false)).toBe("~0.9.*");
  });

  it("falls back to a range that anywidget 0.11.0 satisfies", () => {
    expect(anywidgetVersionRange({ JUPYTER_DATA_DIR: "/nonexistent", HOME: "/nonexistent" }, false)).toBe(FALLBACK_ANYWIDGET_RANGE);
    expect(FALLBACK_ANYWIDGET_RANGE).toBe("~0.11.*");
  });

  it("orders data dirs like Jupyter", () => {
    const dirs = jupyterDataDirs({ JUPYTER_DATA_DIR: "/a", JUPYTER_PATH: "/b:/c", HOME: "/h" });
    expect(dirs.slice(0, 3)).toEqual(["/a", "/b", "/c"]);
    expect(dirs).toContain("/usr/share/jupyter");
  });

  it("builds ~major.minor.* ranges", () => {
    expect(semverRange("0.11.0")).toBe("~0.11.*");
    expect(semverRange("garbage")).toBeUndefined();
  });
});
