#!/usr/bin/env node
/**
 * Cell latency as the notebook grows, vre-ts beside plain tslab 1.0.22 and Deno's Jupyter kernel, in one run,
 * over the real protocol (our client in src/jupyter-client, ZeroMQ, signed messages):
 *   1. spawn → first result: kernel_info re-sent until answered, then `1 + 1` at once; until execute_reply + idle;
 *      then a first typed cell (for vre-ts and tslab it waits for the TypeScript program)
 *   2. growth curve: after N earlier cells (N = 10, 100, 300, 1000), each declaring an interface, a typed function
 *      and a value, the median of 15 runs of
 *        - a trivial cell   `let q = 1; q * 2`
 *        - a typed cell     `const t: P<k> = { a: 2, b: "t" }; f<k>(t) + v<k>.a` (uses earlier cells' declarations)
 *        - (vre-ts) a magic-only cell `%env HOME`
 *      All kernels stay alive; the samples of one point are alternated between them.
 *
 *   npm run build && node bench/kernel/growth.mjs [--points 10,100,300,1000] [--repeat 15] [--starts 5]
 *
 * Deno comes from the npm package `deno`, installed into a temporary folder (or DENO_BENCH_DIR, reused when it
 * already holds it); without the registry the Deno column is skipped with a message.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ROOT, execute as run, now, startKernel as start, stop } from "./kernel-driver.mjs";

const { values } = parseArgs({
  options: {
    points: { type: "string", default: "10,100,300,1000" },
    repeat: { type: "string", default: "15" },
    starts: { type: "string", default: "5" },
    kernels: { type: "string", default: "vre-ts,tslab,deno" },
  },
});
const POINTS = values.points.split(",").map(Number).sort((a, b) => a - b);
const REPEAT = Number(values.repeat);
const STARTS = Number(values.starts);
const DENO_VERSION = "2.9.6";

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Installs the `deno` npm package (it ships the binary) into a temporary folder; undefined when unavailable. */
function installDeno() {
  const dir = process.env.DENO_BENCH_DIR ?? mkdtempSync(join(tmpdir(), "vre-ts-bench-deno-"));
  const bin = join(dir, "node_modules", ".bin", "deno");
  try {
    if (!existsSync(bin)) {
      execFileSync("npm", ["install", "--no-save", "--no-audit", "--no-fund", "--prefix", dir, `deno@${DENO_VERSION}`], { stdio: "ignore", timeout: 180_000 });
    }
    execFileSync(bin, ["--version"], { stdio: "ignore" });
    return { bin, cleanup: () => process.env.DENO_BENCH_DIR || rmSync(dir, { recursive: true, force: true }) };
  } catch (e) {
    console.log(`Deno's kernel skipped: npm install deno@${DENO_VERSION} failed (${e.message.split("\n")[0]})`);
    if (!process.env.DENO_BENCH_DIR) rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}

const wanted = new Set(values.kernels.split(","));
const deno = wanted.has("deno") ? installDeno() : undefined;
const KERNELS = {};
if (wanted.has("vre-ts")) KERNELS["vre-ts"] = (cf) => [process.execPath, join(ROOT, "dist/cli/main.js"), "kernel", cf];
if (wanted.has("tslab")) KERNELS["tslab 1.0.22"] = (cf) => [process.execPath, join(ROOT, "node_modules/tslab/bin/tslab"), "kernel", "--config-path", cf];
if (deno) KERNELS[`deno ${DENO_VERSION}`] = (cf) => [deno.bin, "jupyter", "--kernel", "--conn", cf];

const startKernel = (name) => start(name, KERNELS[name], { retryMs: 250, env: { ...process.env, NO_COLOR: "1" } });

/** A cell until its execute_reply and idle; throws when it fails; returns ms. */
async function execute(kernel, code) {
  const [ms, r] = await run(kernel, code);
  if (r.content.status !== "ok") throw new Error(`${kernel.name}: cell failed: ${code}\n${JSON.stringify(r.content).slice(0, 500)}\n${kernel.log()}`);
  return ms;
}

const declCell = (i) =>
  `interface P${i} { a: number; b: string }\n` +
  `function f${i}(p: P${i}): number { return p.a * ${i % 7} + p.b.length; }\n` +
  `const v${i}: P${i} = { a: ${i}, b: "v${i}" };`;
const TRIVIAL = "let q = 1; q * 2";
const typedCell = (k) => `const t: P${k} = { a: 2, b: "t" }; f${k}(t) + v${k}.a`;
const MAGIC = "%env HOME";

console.log(`kernel growth bench: node ${process.version}, points ${POINTS.join("/")}, median of ${REPEAT}, ${STARTS} starts, load ${(await import("node:os")).loadavg().map((x) => x.toFixed(1)).join(" ")}\n`);

// 1. spawn → first result
const first = {};
for (const name of Object.keys(KERNELS)) first[name] = { info: [], result: [], typed: [] };
for (let s = 0; s < STARTS; s++) {
  for (const name of Object.keys(KERNELS)) {
    const k = await startKernel(name);
    await execute(k, "1 + 1");
    first[name].info.push(k.kernelInfoMs);
    first[name].result.push(now() - k.t0);
    await execute(k, "const t0: number = 1; t0 + 1");
    first[name].typed.push(now() - k.t0);
    await stop(k);
  }
}
console.log("spawn → first kernel_info_reply / first result (`1 + 1`) / first typed result (`const t0: number = 1; t0 + 1`, sent next), median ms");
for (const [name, r] of Object.entries(first)) {
  console.log(`  ${name.padEnd(14)} ${[r.info, r.result, r.typed].map((xs) => median(xs).toFixed(0).padStart(6)).join(" /")}   (first results: ${r.result.map((x) => x.toFixed(0)).join(", ")})`);
}

// 2. growth curve
const kernels = [];
for (const name of Object.keys(KERNELS)) kernels.push(await startKernel(name));
const rows = [];
let done = 0;
for (const n of POINTS) {
  for (const k of kernels) for (let i = done; i < n; i++) await execute(k, declCell(i));
  done = n;
  const samples = Object.fromEntries(kernels.map((k) => [k.name, { trivial: [], typed: [], magic: [] }]));
  for (let r = 0; r < REPEAT; r++) {
    for (const k of r % 2 ? kernels : [...kernels].reverse()) {
      samples[k.name].trivial.push(await execute(k, TRIVIAL));
      samples[k.name].typed.push(await execute(k, typedCell(n - 1 - (r % Math.min(n, 5)))));
      if (k.name === "vre-ts") samples[k.name].magic.push(await execute(k, MAGIC));
    }
  }
  for (const k of kernels) {
    const s = samples[k.name];
    rows.push({ n, kernel: k.name, trivial: median(s.trivial), typed: median(s.typed), magic: s.magic.length ? median(s.magic) : undefined });
  }
  console.log(`N = ${n}: ` + kernels.map((k) => `${k.name} ${median(samples[k.name].trivial).toFixed(1)} / ${median(samples[k.name].typed).toFixed(1)} ms`).join(", "));
}
for (const k of kernels) await stop(k);
deno?.cleanup();

console.log("\nmedian execute → reply + idle, ms (trivial / typed [/ magic-only])");
console.log(`| N | ${kernels.map((k) => k.name).join(" | ")} |`);
console.log(`|---|${kernels.map(() => "---").join("|")}|`);
for (const n of POINTS) {
  const cells = kernels.map((k) => {
    const r = rows.find((x) => x.n === n && x.kernel === k.name);
    return `${r.trivial.toFixed(1)} / ${r.typed.toFixed(1)}${r.magic !== undefined ? ` / ${r.magic.toFixed(1)}` : ""}`;
  });
  console.log(`| ${n} | ${cells.join(" | ")} |`);
}
const lo = POINTS[0];
const hi = POINTS[POINTS.length - 1];
console.log(`\ngrowth ratios (N = ${hi} vs N = ${lo}) and vre-ts against the others at N = ${hi}`);
for (const k of kernels) {
  const a = rows.find((x) => x.n === lo && x.kernel === k.name);
  const b = rows.find((x) => x.n === hi && x.kernel === k.name);
  console.log(`  ${k.name.padEnd(14)} trivial ${(b.trivial / a.trivial).toFixed(2)}×, typed ${(b.typed / a.typed).toFixed(2)}×`);
}
const vre = rows.find((x) => x.n === hi && x.kernel === "vre-ts");
if (vre) {
  for (const k of kernels.filter((x) => x.name !== "vre-ts")) {
    const o = rows.find((x) => x.n === hi && x.kernel === k.name);
    console.log(`  vre-ts / ${k.name}: trivial ${(vre.trivial / o.trivial).toFixed(2)}, typed ${(vre.typed / o.typed).toFixed(2)}`);
  }
}
process.exit(0);
