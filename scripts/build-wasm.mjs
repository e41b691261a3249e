// Assembles src/clients/http/adler32.wat into src/clients/http/adler32-wasm.ts (the bytes, base64).
//   node scripts/build-wasm.mjs          rewrite the generated module
//   node scripts/build-wasm.mjs --check  exit 1 when the committed module differs from the .wat
// The generated file is committed, so building and installing vre-ts never needs wabt; a unit test runs
// --check's comparison so the two cannot drift apart.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import createWabt from "wabt";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const watPath = join(root, "src/clients/http/adler32.wat");
const outPath = join(root, "src/clients/http/adler32-wasm.ts");

export async function assemble() {
  const wabt = await createWabt();
  const features = { simd: true };
  const mod = wabt.parseWat("adler32.wat", readFileSync(watPath, "utf8"), features);
  try {
    mod.validate(features);
    return Buffer.from(mod.toBinary({}).buffer);
  } finally {
    mod.destroy();
  }
}

export function render(bytes) {
  const b64 = bytes.toString("base64");
  const lines = b64.match(/.{1,100}/g).map((l) => `  "${l}"`).join(" +\n");
  return `// Generated from adler32.wat by scripts/build-wasm.mjs; do not edit.\n/** The adler32 WebAssembly module (SIMD; imports its memory as env.memory). */\nexport const ADLER32_WASM_BASE64 =\n${lines};\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = render(await assemble());
  if (process.argv.includes("--check")) {
    const same = readFileSync(outPath, "utf8") === text;
    console.log(same ? "adler32-wasm.ts is up to date" : "adler32-wasm.ts differs from adler32.wat: run node scripts/build-wasm.mjs");
    process.exit(same ? 0 : 1);
  }
  writeFileSync(outPath, text);
  console.log(`wrote ${outPath}`);
}
