import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { NotebookFormatError, parseNotebook, serializeNotebook, splitLines, writeFileAtomic } from "./notebook";

describe("notebook files", () => {
  it("splits multi-line strings like Python's splitlines(keepends=True)", () => {
    expect(splitLines("a\nb\n")).toEqual(["a\n", "b\n"]);
    expect(splitLines("a\n\nb")).toEqual(["a\n", "\n", "b"]);
    expect(splitLines("")).toEqual([]);
  });

  it("joins list sources on read and writes nbformat's on-disk shape with sorted keys", () => {
    const nb = parseNotebook(
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: { z: 1, a: 2 },
        cells: [{ cell_type: "code", id: "x", source: ["1 +\n", "1"], metadata: {}, outputs: [], execution_count: null }],
      }),
    );
    expect(nb.cells[0].source).toBe("1 +\n1");
    nb.cells[0].outputs = [
      { output_type: "execute_result", execution_count: 1, metadata: {}, data: { "text/plain": "2\nlines", "image/png": "iVBOR\n", "application/json": { a: 1 } } },
      { output_type: "stream", name: "stdout", text: "x\ny\n" },
    ];
    const text = serializeNotebook(nb);
    const disk = JSON.parse(text);
    expect(disk.cells[0].source).toEqual(["1 +\n", "1"]);
    expect(disk.cells[0].outputs[0].data).toEqual({ "application/json": { a: 1 }, "image/png": "iVBOR\n", "text/plain": ["2\n", "lines"] });
    expect(disk.cells[0].outputs[1].text).toEqual(["x\n", "y\n"]);
    expect(Object.keys(disk.metadata)).toEqual(["a", "z"]);
    expect(text).toMatch(/^\{\n "cells": \[/);
    expect(text.endsWith("}\n")).toBe(true);
  });

  it("rejects what is not an nbformat 4 notebook with a clear message", () => {
    expect(() => parseNotebook("{", "x.ipynb")).toThrow(NotebookFormatError);
    expect(() => parseNotebook('{"nbformat": 3, "cells": []}', "old.ipynb")).toThrow(/nbformat 3/);
    expect(() => parseNotebook('{"nbformat": 4, "cells": [{"cell_type": "weird"}]}')).toThrow(/cell 0 has an unknown cell_type/);
  });

  it("writes atomically and leaves no temporary file behind", async () => {
    const dir = await mkdtemp(join(tmpdir(), "nbwrite-"));
    try {
      await writeFileAtomic(join(dir, "out.ipynb"), "{}\n");
      expect(await readFile(join(dir, "out.ipynb"), "utf8")).toBe("{}\n");
      expect(await readdir(dir)).toEqual(["out.ipynb"]);
      await expect(writeFileAtomic(join(dir, "missing", "out.ipynb"), "{}")).rejects.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
