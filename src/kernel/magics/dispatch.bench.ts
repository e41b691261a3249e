/**
 * Magic dispatch overhead (target: < 2 ms per magic).
 *   npx vitest bench --run src/kernel/magics/dispatch.bench.ts      (needs `npm run build` for the kernel part)
 *
 * 1. The preprocessor on a realistic 40-line cell, with and without magic lines (pure CPU, runs on every execute).
 * 2. In the real kernel: a cell of N `%noop` lines against a cell of N `await Promise.resolve()` lines, timed inside
 *    the kernel with performance.now(); the difference per line is what dispatch adds at run time (bridge lookup,
 *    registry, context, the awaited call). The round-trip figures also include type-checking the rewritten lines.
 * 3. Round trip of a one-line `%noop` cell against a one-line TypeScript cell (what a user feels).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { bench, describe } from "vitest";
import { TestKernelClient } from "../testing/client";
import { preprocess } from "./preprocess";

const body = Array.from({ length: 38 }, (_, i) => `const v${i} = [${i}, ${i + 1}].map((x) => x * 2 % 7); // row ${i}`).join("\n");
const withMagics = `%env HOME\n${body}\nconst r = %rucio list-dids user.jdoe:*`;
const known = (n: string) => n === "env" || n === "rucio";

describe("preprocess (per cell)", () => {
  bench("40-line cell without magics", () => {
    preprocess(body.replace(/%/g, "/"), { isKnownMagic: known });
  });
  bench("40-line cell with 2 magic lines and % operators", () => {
    preprocess(withMagics, { isKnownMagic: known });
  });
});

const MAIN = resolve(__dirname, "..", "..", "..", "dist", "cli", "main.js");
const N = 200;
const timed = (line: string) => `const t0 = performance.now();\n${Array(N).fill(line).join("\n")}\n(performance.now() - t0) / ${N}`;
const MAGIC_CELL = timed("%noop arg {t0}");
const BASELINE_CELL = timed("await Promise.resolve(0);");

async function startKernel(): Promise<TestKernelClient> {
  const k = await TestKernelClient.start({ main: MAIN });
  await k.execute(
    'Reflect.get(globalThis, Symbol.for("vre-ts.magics")).set("noop", { name: "noop", kind: "line", summary: "", usage: "", run: () => undefined })',
  );
  return k;
}
const built = existsSync(MAIN);
const kernelStarting = built ? startKernel() : Promise.resolve(undefined);
let kernel: TestKernelClient | undefined;
const perLine = { magic: [] as number[], baseline: [] as number[] };

async function inKernelMs(code: string): Promise<number> {
  kernel ??= await kernelStarting;
  const r = await kernel!.execute(code);
  const out = r.outputs.find((m) => m.header.msg_type === "execute_result");
  if (!out) throw new Error(`no result: ${JSON.stringify(r.reply.content)}`);
  return Number((out.content.data as Record<string, string>)["text/plain"]);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

describe.skipIf(!built)(`kernel: one cell of ${N} lines (execute round trip incl. compile)`, () => {
  bench(`${N} x %noop line magic`, async () => {
    perLine.magic.push(await inKernelMs(MAGIC_CELL));
  }, { iterations: 15, warmupIterations: 2 });
  bench(
    `${N} x await Promise.resolve(0) (baseline)`,
    async () => {
      perLine.baseline.push(await inKernelMs(BASELINE_CELL));
    },
    {
      iterations: 15,
      warmupIterations: 2,
      teardown: async () => {
        if (perLine.magic.length >= 15 && perLine.baseline.length >= 15) {
          const m = median(perLine.magic) * 1000;
          const b = median(perLine.baseline) * 1000;
          console.log(
            `\nmagic dispatch measured in the kernel (median per line): %noop ${m.toFixed(1)} µs, awaited no-op ${b.toFixed(1)} µs, ` +
              `dispatch overhead ${(m - b).toFixed(1)} µs (target < 2000 µs)\n`,
          );
        }
      },
    },
  );
});

describe.skipIf(!built)("kernel: execute round trip of a one-line cell", () => {
  bench("%noop (plain magic cell, no TypeScript)", async () => void (await (await kernelStarting)!.execute("%noop")), { iterations: 30, warmupIterations: 3 });
  bench("%noop {1} (interpolated: compiled as TypeScript)", async () => void (await (await kernelStarting)!.execute("%noop {1}")), { iterations: 30, warmupIterations: 3 });
  bench("undefined (TypeScript baseline)", async () => void (await (await kernelStarting)!.execute("undefined")), { iterations: 30, warmupIterations: 3 });
});

describe("preprocess (large cell)", () => {
  bench(`cell of ${N} magic lines`, () => {
    preprocess(Array(N).fill("%noop arg {t0}").join("\n"), { isKnownMagic: () => true });
  });
  bench("close the benchmark kernel", async () => {}, { iterations: 1, warmupIterations: 0, teardown: async () => void (await (await kernelStarting)?.close()) });
});
