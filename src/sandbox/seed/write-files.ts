/**
 * Writes the sandbox demo dataset to a folder and prints name, size, adler32 and md5 of each file:
 *   node dist/sandbox/seed/write-files.js OUTDIR
 */
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { checksums, u8 } from "../rucio/checksum";
import { generateSeedFiles } from "./generate";

export function writeSeedFiles(out: string): { name: string; bytes: number; adler32: string; md5: string }[] {
  mkdirSync(out, { recursive: true });
  return generateSeedFiles().map((f) => {
    writeFileSync(path.join(out, f.name), u8(f.content));
    return { name: f.name, ...checksums(u8(f.content)) };
  });
}

if (require.main === module) {
  const out = process.argv[2];
  if (!out) {
    process.stderr.write("usage: write-files.js OUTDIR\n");
    process.exit(2);
  }
  for (const f of writeSeedFiles(out)) process.stdout.write(`${f.name}\t${f.bytes}\t${f.adler32}\t${f.md5}\n`);
}
