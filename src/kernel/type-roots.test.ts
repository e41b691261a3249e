/**
 * Automatic type inclusion keeps what the notebook's project depends on: a tool's @types (jQuery's `$`) must
 * neither slow every cell's program nor type-check names that do not exist at run time.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CellCompiler } from "./cell-compiler";
import { checkCell } from "./testing/compile";
import { declaredDependencies, filterTypesListing, includesTypesPackage } from "./type-roots";

const project = mkdtempSync(join(tmpdir(), "vre-ts-type-roots-"));
const write = (path: string, text: string) => {
  mkdirSync(join(project, path, ".."), { recursive: true });
  writeFileSync(join(project, path), text);
};
write("package.json", JSON.stringify({ name: "analysis", dependencies: { "@types/listed": "1.0.0" }, devDependencies: { "@babel/core": "7.0.0" } }));
write("node_modules/@types/listed/package.json", JSON.stringify({ name: "@types/listed", version: "1.0.0", types: "index.d.ts" }));
write("node_modules/@types/listed/index.d.ts", "declare const listedGlobal: number;\n");
write("node_modules/@types/unlisted/package.json", JSON.stringify({ name: "@types/unlisted", version: "1.0.0", types: "index.d.ts" }));
write("node_modules/@types/unlisted/index.d.ts", "export declare const thing: number;\ndeclare global { const unlistedGlobal: string; }\n");
write("node_modules/unlisted/package.json", JSON.stringify({ name: "unlisted", version: "1.0.0", main: "index.js" }));
write("node_modules/unlisted/index.js", "exports.thing = 41;\n");

afterAll(() => rmSync(project, { recursive: true, force: true }));

describe("which @types a project's notebooks include on their own", () => {
  it("reads the project's declared dependencies of every kind", () => {
    expect([...declaredDependencies(join(project, "node_modules", "@types"))!].sort()).toEqual(["@babel/core", "@types/listed"]);
    expect(declaredDependencies(join(project, "node_modules"))).toBeUndefined(); // not a types folder
    expect(declaredDependencies(join(project, "elsewhere", "node_modules", "@types"))).toBeUndefined(); // no package.json
  });

  it("keeps @types/x for a dependency x or @types/x, scoped packages by their double underscore, and node always", () => {
    const declared = new Set(["@types/listed", "@babel/core", "lodash"]);
    expect(includesTypesPackage("listed", declared)).toBe(true);
    expect(includesTypesPackage("babel__core", declared)).toBe(true);
    expect(includesTypesPackage("lodash", declared)).toBe(true);
    expect(includesTypesPackage("node", declared)).toBe(true);
    expect(includesTypesPackage("jquery", declared)).toBe(false);
    expect(filterTypesListing(join(project, "node_modules", "@types"), ["listed", "unlisted", "node"])).toEqual(["listed", "node"]);
    expect(filterTypesListing(join(project, "src"), ["listed", "unlisted"])).toEqual(["listed", "unlisted"]);
  });

  it("type-checks cells with the declared packages' globals only, and still finds an imported package's types", () => {
    process.chdir(project); // tslab's program lives in the process's folder, as the kernel's does
    const compiler = new CellCompiler(project);
    const messages = (src: string) => checkCell(compiler, src);
    try {
      expect(messages("listedGlobal + 1")).toEqual([]);
      expect(messages("unlistedGlobal.length")).toEqual(["Cannot find name 'unlistedGlobal'. Did you mean 'listedGlobal'?"]);
      expect(messages("process.version.length")).toEqual([]);
      expect(messages('import { thing } from "unlisted"; const n: number = thing; n')).toEqual([]);
      expect(messages('const s: string = thing')).toEqual(["Type 'number' is not assignable to type 'string'."]);
    } finally {
      compiler.close();
    }
  }, 120_000);
});
