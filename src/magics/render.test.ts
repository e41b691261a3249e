import { describe, expect, it } from "vitest";
import { DISPLAY, escapeHtml, rich, table } from "./render";

describe("table", () => {
  const rows = [
    { name: "<script>alert(1)</script>", size: 1024, rse: "CERN & DESY" },
    { name: "data.root", size: 7, rse: 'say "hi"' },
  ];

  it("stays an array of the rows", () => {
    const t = table(rows);
    expect(Array.isArray(t)).toBe(true);
    expect(t).toHaveLength(2);
    expect(t[0].name).toBe(rows[0].name);
    expect(Object.keys(t)).toEqual(["0", "1"]);
  });

  it("escapes HTML in cells, headers and title", () => {
    const bundle = table(rows, { title: "<b>t</b>", columns: ["name", { key: "rse", label: "<rse>" }] })[DISPLAY]();
    const html = bundle["text/html"] as string;
    expect(html).not.toContain("<script>");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("CERN &amp; DESY");
    expect(html).toContain("say &quot;hi&quot;");
    expect(html).toContain("&lt;rse&gt;");
    expect(html).toContain("&lt;b&gt;t&lt;/b&gt;");
  });

  it("aligns text/plain columns, right-aligning numbers", () => {
    const plain = table(rows, { columns: ["name", "size"] })[DISPLAY]()["text/plain"] as string;
    const lines = plain.split("\n");
    expect(lines[0]).toMatch(/^name\s+size$/);
    expect(lines[1]).toMatch(/^-+\s+-+$/);
    const sizeCol = lines[0].indexOf("size") + 4;
    expect(lines[2].length).toBe(sizeCol);
    expect(lines[3].endsWith("   7")).toBe(true);
  });

  it("shows an empty table clearly", () => {
    const b = table([], { columns: ["a"] })[DISPLAY]();
    expect(b["text/plain"]).toContain("(no rows)");
  });
});

describe("rich and escapeHtml", () => {
  it("attaches a bundle to objects without changing them", () => {
    const o = { a: 1 };
    const r = rich(o, { "text/html": "<i>a</i>" });
    expect(r).toBe(o);
    expect(Object.keys(r)).toEqual(["a"]);
    expect(r[DISPLAY]()["text/html"]).toBe("<i>a</i>");
  });

  it("wraps primitives", () => {
    const r = rich(5, () => ({ "text/plain": "five" }));
    expect(r.value).toBe(5);
    expect(r[DISPLAY]()["text/plain"]).toBe("five");
  });

  it("escapes the five HTML specials", () => {
    expect(escapeHtml(`<a href="x">&'`)).toBe("&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
  });
});
