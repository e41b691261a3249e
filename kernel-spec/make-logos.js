#!/usr/bin/env node
// Draws the kernel logos (a blue rounded square with "TS" and a small orbit dot) as PNGs, with no dependencies:
// raw RGBA scanlines, zlib-deflated, wrapped in PNG chunks. Run: node kernel-spec/make-logos.js
"use strict";
const { deflateSync } = require("node:zlib");
const { writeFileSync } = require("node:fs");
const { join } = require("node:path");

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
function png(size, pixel) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    for (let x = 0; x < size; x++) {
      const [r, g, b, a] = pixel(x, y, size);
      raw.set([r, g, b, a], y * (size * 4 + 1) + 1 + x * 4);
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

// 5x7 glyphs
const GLYPHS = {
  T: ["#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."],
  S: [".####", "#....", "#....", ".###.", "....#", "....#", "####."],
};
const BLUE = [0x30, 0x78, 0xc6, 255];
const WHITE = [255, 255, 255, 255];
const ORANGE = [0xf2, 0x8c, 0x28, 255];
const CLEAR = [0, 0, 0, 0];

function pixel(x, y, size) {
  const u = (x + 0.5) / size;
  const v = (y + 0.5) / size;
  // rounded square
  const r = 0.18;
  const dx = Math.max(r - u, 0, u - (1 - r));
  const dy = Math.max(r - v, 0, v - (1 - r));
  if (dx * dx + dy * dy > r * r) return CLEAR;
  // orbit dot (top right)
  if ((u - 0.78) ** 2 + (v - 0.22) ** 2 < 0.075 ** 2) return ORANGE;
  // "TS" in the lower right, each glyph 5x7 cells
  const cell = 0.055;
  const top = 0.46;
  const lefts = [0.36, 0.36 + 6 * cell];
  const text = ["T", "S"];
  for (let i = 0; i < 2; i++) {
    const gx = Math.floor((u - lefts[i]) / cell);
    const gy = Math.floor((v - top) / cell);
    if (gx >= 0 && gx < 5 && gy >= 0 && gy < 7 && GLYPHS[text[i]][gy][gx] === "#") return WHITE;
  }
  return BLUE;
}

for (const size of [32, 64]) {
  writeFileSync(join(__dirname, `logo-${size}x${size}.png`), png(size, pixel));
}
