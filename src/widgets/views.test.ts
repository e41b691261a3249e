import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { DATASET_BROWSER_CSS, DATASET_BROWSER_ESM } from "./dataset-browser-view";
import { DEPOSIT_FORM_CSS, DEPOSIT_FORM_ESM } from "./deposit-form-view";
import { RECORD_CSS, RECORD_ESM } from "./record-view";
import { RUN_MONITOR_CSS, RUN_MONITOR_ESM } from "./run-monitor-view";

// The views run in the browser (ui-tests); here each is loaded as the ES module anywidget loads, so a syntax
// slip in the source (it lives in a string) fails fast and says where.
describe("widget views", () => {
  const dir = mkdtempSync(join(tmpdir(), "vre-ts-views-"));
  for (const [name, esm, css] of [
    ["run monitor", RUN_MONITOR_ESM, RUN_MONITOR_CSS],
    ["dataset browser", DATASET_BROWSER_ESM, DATASET_BROWSER_CSS],
    ["deposit form", DEPOSIT_FORM_ESM, DEPOSIT_FORM_CSS],
    ["research record", RECORD_ESM, RECORD_CSS],
  ] as const) {
    it(`${name}: an ES module whose default export renders, never writing HTML from data`, async () => {
      const file = join(dir, `${name.replace(" ", "-")}.mjs`);
      writeFileSync(file, esm);
      const mod = (await import(pathToFileURL(file).href)) as { default: { render: unknown } };
      expect(typeof mod.default.render).toBe("function");
      expect(esm).not.toMatch(/innerHTML|insertAdjacentHTML|outerHTML/);
      expect(css).not.toMatch(/@import|url\(/); // no request leaves the page for styles
    });
  }
});
