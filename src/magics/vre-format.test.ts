import { afterEach, describe, expect, it } from "vitest";
import { clearSecrets, registerSecret } from "../clients/http/redact";
import { asJson, formatBytes, formatDate, formatDuration, formatRate, recordBundle, tableBundle, withDisplay } from "./vre-format";
import { bundleOf } from "./__tests__/harness";

afterEach(() => clearSecrets());

const cols = [
  { label: "name", get: (r: { name: string; bytes: number }) => r.name },
  { label: "size", get: (r: { name: string; bytes: number }) => formatBytes(r.bytes), align: "right" as const },
];

describe("tableBundle", () => {
  it("renders an escaped HTML table and an aligned text table with title and footer", () => {
    const b = tableBundle([{ name: "<script>alert(1)</script>", bytes: 1500 }, { name: "b", bytes: 12 }], cols, { title: "Files", footer: "2 files" });
    const html = String(b["text/html"]);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).not.toContain("<script>");
    expect(html).toContain("<table");
    expect(html).toContain("2 files");
    const text = String(b["text/plain"]).split("\n");
    expect(text[0]).toBe("Files");
    expect(text[1]).toMatch(/^name\s+size$/);
    expect(text[3]).toMatch(/^<script>alert\(1\)<\/script>\s+1\.5 kB$/);
    expect(text[4]).toMatch(/^b\s+12 B$/);
    expect(text[4].length).toBe(text[3].length); // right-aligned sizes
    expect(text.at(-1)).toBe("2 files");
  });
  it("gives each footer line its own line in HTML too, so lines never run together", () => {
    const b = tableBundle([{ name: "a", bytes: 1 }], cols, { footer: "S1 started on fit.ipynb: linux 6.1.0\nKept in fit.provenance.jsonl." });
    const html = String(b["text/html"]);
    expect(html).toContain('<div style="opacity:0.7;font-size:0.85em">S1 started on fit.ipynb: linux 6.1.0</div><div style="opacity:0.7;font-size:0.85em">Kept in fit.provenance.jsonl.</div>');
    expect(html).not.toContain("6.1.0\nKept");
    expect(String(b["text/plain"]).split("\n").slice(-2)).toEqual(["S1 started on fit.ipynb: linux 6.1.0", "Kept in fit.provenance.jsonl."]);
  });
  it("clips long cells in text, keeps them in HTML, and says how many rows were left out", () => {
    const rows = Array.from({ length: 12 }, (_, i) => ({ name: `${"x".repeat(200)}${i}`, bytes: i }));
    const b = tableBundle(rows, cols, { maxRows: 10 });
    expect(String(b["text/plain"])).toContain("…");
    expect(String(b["text/plain"])).not.toContain("x".repeat(100));
    expect(String(b["text/html"])).toContain("x".repeat(200));
    expect(String(b["text/plain"])).toContain("… 2 more rows not shown (the returned value holds all 12)");
  });
  it("keeps wide tables inside the output area: a sideways scroll, one-line columns, shortened hashes with the whole in a tooltip", () => {
    const md5 = "0123456789abcdef0123456789abcdef";
    const b = tableBundle(
      [{ time: "2026-11-25 02:44 UTC", sums: `md5:${md5} adler32:0a1b2c3d` }],
      [
        { label: "time", get: (r: { time: string; sums: string }) => r.time, nowrap: true },
        { label: "checksums", get: (r: { time: string; sums: string }) => r.sums, shorten: 12 },
      ],
    );
    const html = String(b["text/html"]);
    expect(html).toMatch(/<div class="vre-table-scroll" style="max-width:100%;overflow-x:auto"><table/);
    expect(html).toContain('<td style="text-align:left;white-space:nowrap">2026-11-25 02:44 UTC</td>');
    expect(html).toContain(`title="md5:${md5} adler32:0a1b2c3d"><code>md5:0123456789ab… adler32:0a1b2c3d</code>`);
    expect(String(b["text/plain"])).toContain(md5); // the text form keeps the whole value
  });
  it("shows an empty result plainly", () => {
    expect(String(tableBundle([], cols, { title: "Nothing" })["text/plain"])).toContain("(no rows)");
  });
  it("masks registered secrets that reach a cell", () => {
    registerSecret("tok-abcdef-123456");
    const b = recordBundle([["url", "https://x/api?access_token=tok-abcdef-123456"], ["note", "plain"]]);
    expect(JSON.stringify(b)).not.toContain("tok-abcdef-123456");
  });
});

describe("values", () => {
  it("withDisplay keeps the value's data and JSON intact", () => {
    const v = withDisplay([{ a: 1 }], () => ({ "text/plain": "table" }));
    expect(JSON.stringify(v)).toBe('[{"a":1}]');
    expect(Object.keys(v)).toEqual(["0"]);
    expect(bundleOf(v)["text/plain"]).toBe("table");
  });
  it("asJson gives a plain copy rendered as application/json", () => {
    const v = asJson(withDisplay({ when: new Date(0), n: 1 }, () => ({}))) as Record<string, unknown>;
    expect(v).toEqual({ when: "1970-01-01T00:00:00.000Z", n: 1 });
    expect(bundleOf(v)["application/json"]).toEqual(v);
    expect(asJson(undefined)).toBeNull();
  });
  it("formats sizes, durations and dates", () => {
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(85_466)).toBe("85.5 kB");
    expect(formatBytes(2_000_000_000)).toBe("2.0 GB");
    expect(formatBytes(null)).toBe("");
    expect(formatDuration(59.6)).toBe("1m00s");
    expect(formatDuration(3725)).toBe("1h02m");
    expect(formatDate("2026-11-25T02:44:29Z")).toBe("2026-11-25 02:44 UTC");
    expect(formatDate("not a date")).toBe("not a date");
  });
  it("never shows raw floats: three significant digits at most, carried into the next unit", () => {
    expect(formatBytes(198.4126984126984)).toBe("198 B");
    expect(formatRate(198.4126984126984)).toBe("198 B/s");
    expect(formatRate(2.54)).toBe("2.5 B/s");
    expect(formatRate(0.333)).toBe("0.3 B/s");
    expect(formatBytes(12)).toBe("12 B");
    expect(formatBytes(99_960)).toBe("100 kB");
    expect(formatBytes(999_960)).toBe("1.0 MB");
    expect(formatRate(12_345_678.9)).toBe("12.3 MB/s");
    expect(formatRate(undefined)).toBe("");
    for (const n of [0.1, 1.23456, 999.999, 1234.5678, 98_765.4321, 7.77e9]) expect(formatBytes(n)).toMatch(/^\d{1,3}(\.\d)? [kMGTP]?B$/);
  });
});
