#!/usr/bin/env node
/**
 * Kernel benchmarks, vre-ts side by side with plain tslab 1.0.22 in the same run, over the real protocol:
 *   1. spawn → first kernel_info_reply
 *   2. spawn → first cell result (`1 + 1` sent right after kernel_info)
 *   3. warm trivial-cell latency (execute_request → reply + idle), both kernels alive, cells alternated
 *   4. magic dispatch overhead: a no-op line magic vs the equivalent TypeScript call
 *
 *   npm run build && node bench/kernel/startup.mjs [--starts 5] [--cells 60]
 * Numbers on a shared 2-core machine are noisy; compare the two kernels within one run.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ROOT, execute, now, startKernel as start, stop } from "./kernel-driver.mjs";

const { values } = parseArgs({ options: { starts: { type: "string", default: "5" }, cells: { type: "string", default: "60" } } });
const STARTS = Number(values.starts);
const CELLS = Math.max(50, Number(values.cells));

const KERNELS = {
  "vre-ts": (cf) => [process.execPath, join(ROOT, "dist/cli/main.js"), "kernel", cf],
  "tslab 1.0.22": (cf) => [process.execPath, join(ROOT, "node_modules/tslab/bin/tslab"), "kernel", "--config-path", cf],
};

const startKernel = (name) => start(name, KERNELS[name]);

const median = (xs) => quantile(xs, 0.5);
function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (i - lo);
}
const fmt = (xs) => `${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`;

async function startups() {
  const rows = {};
  for (const name of Object.keys(KERNELS)) rows[name] = { info: [], first: [] };
  for (let i = 0; i < STARTS; i++) {
    for (const name of Object.keys(KERNELS)) {
      const k = await startKernel(name);
      const [, reply] = await execute(k, "1 + 1");
      if (reply.content.status !== "ok") throw new Error(`${name}: first cell failed: ${JSON.stringify(reply.content)}`);
      rows[name].info.push(k.kernelInfoMs);
      rows[name].first.push(now() - k.t0);
      await stop(k);
    }
  }
  return rows;
}

async function warmCells() {
  const kernels = [];
  for (const name of Object.keys(KERNELS)) kernels.push(await startKernel(name));
  const times = Object.fromEntries(kernels.map((k) => [k.name, []]));
  for (const k of kernels) for (let i = 0; i < 10; i++) await execute(k, `let w${i} = ${i}; w${i} * 2`);
  for (let i = 0; i < CELLS; i++) {
    for (const k of i % 2 ? kernels : [...kernels].reverse()) {
      const [ms, reply] = await execute(k, `let v${i} = ${i}; v${i} * 2`);
      if (reply.content.status !== "ok") throw new Error(`${k.name}: cell failed`);
      times[k.name].push(ms);
    }
  }
  return { kernels, times };
}

async function magicOverhead(kernel) {
  const setup = await execute(
    kernel,
    'import { registerMagic } from "vre-ts";\n' +
      'registerMagic({ name: "noop", kind: "line", summary: "does nothing", usage: "%noop", run: () => undefined });\n' +
      "const noop = async (_args: string) => undefined;",
  );
  if (setup[1].content.status !== "ok") throw new Error("magic setup failed");
  // Both cells also hold a TypeScript line, so both are compiled: the difference is the magic rewrite + dispatch.
  // (A cell holding only line magics skips the compiler altogether, which is faster still.)
  const magic = [];
  const call = [];
  const only = [];
  for (let i = 0; i < 10; i++) {
    await execute(kernel, `%noop\nlet wm${i} = ${i};`);
    await execute(kernel, `await noop("");\nlet wc${i} = ${i};`);
  }
  for (let i = 0; i < CELLS; i++) {
    magic.push((await execute(kernel, `%noop\nlet m${i} = ${i};`))[0]);
    call.push((await execute(kernel, `await noop("");\nlet c${i} = ${i};`))[0]);
    only.push((await execute(kernel, "%noop"))[0]);
  }
  return { magic, call, only };
}

async function dispatchPerCall(kernel) {
  let result;
  const off = kernel.client.onIopub((m) => {
    if (m.header.msg_type === "stream" && String(m.content.text).includes("viaMagic")) result = JSON.parse(String(m.content.text).trim().split("\n").pop());
  });
  await execute(
    kernel,
    'const k2: any = Reflect.get(globalThis, Symbol.for("vre-ts.kernel"));\n' +
      'let t2 = performance.now(); for (let i = 0; i < 2000; i++) await k2.line("noop", ""); const viaMagic = (performance.now() - t2) / 2000;\n' +
      't2 = performance.now(); for (let i = 0; i < 2000; i++) await noop(""); const direct = (performance.now() - t2) / 2000;\n' +
      "console.log(JSON.stringify({ viaMagic, direct }));",
  );
  off();
  return result;
}

console.log(`kernel benchmarks: node ${process.version}, ${STARTS} starts per kernel, ${CELLS} warm cells per kernel\n`);
const starts = await startups();
console.log("spawn → first kernel_info_reply");
for (const [name, r] of Object.entries(starts)) console.log(`  ${name.padEnd(14)} ${fmt(r.info)}`);
console.log("spawn → first cell result (`1 + 1`)");
for (const [name, r] of Object.entries(starts)) console.log(`  ${name.padEnd(14)} ${fmt(r.first)}`);

const { kernels, times } = await warmCells();
console.log(`warm trivial cell, execute → reply + idle (n=${CELLS}, alternated)`);
for (const [name, xs] of Object.entries(times)) console.log(`  ${name.padEnd(14)} median ${median(xs).toFixed(1)} ms, p90 ${quantile(xs, 0.9).toFixed(1)} ms`);
const ratio = median(times["vre-ts"]) / median(times["tslab 1.0.22"]);
console.log(`  ratio vre-ts / tslab: ${ratio.toFixed(2)} (target ≤ 1.10)`);

const vre = kernels.find((k) => k.name === "vre-ts");
const { magic, call, only } = await magicOverhead(vre);
const perCall = await dispatchPerCall(vre);
console.log(`magic dispatch (vre-ts, n=${CELLS})`);
console.log(`  cell \`%noop\` + TS line          median ${median(magic).toFixed(1)} ms, p90 ${quantile(magic, 0.9).toFixed(1)} ms`);
console.log(`  cell \`await noop("")\` + TS line median ${median(call).toFixed(1)} ms, p90 ${quantile(call, 0.9).toFixed(1)} ms`);
console.log(`  cell \`%noop\` alone (no compile)  median ${median(only).toFixed(1)} ms, p90 ${quantile(only, 0.9).toFixed(1)} ms`);
const pairDiffs = magic.map((m, i) => m - call[i]);
console.log(`  per-cell overhead       ${median(pairDiffs).toFixed(2)} ms, median of paired differences (target < 2 ms)`);
if (perCall) console.log(`  in-kernel per call      magic ${(perCall.viaMagic * 1000).toFixed(1)} µs vs direct ${(perCall.direct * 1000).toFixed(1)} µs`);
for (const k of kernels) await stop(k);
process.exit(0);
