// Shared helpers of the client benchmarks (plain Node, run against dist/ after `npm run build`).
"use strict";
const path = require("node:path");
const { fork } = require("node:child_process");

const dist = path.join(__dirname, "..", "..", "..", "dist");

function requireDist(rel) {
  try {
    return require(path.join(dist, rel));
  } catch (e) {
    console.error(`Cannot load dist/${rel}: run \`npm run build\` first.\n${e.message}`);
    process.exit(2);
  }
}

/** Samples this process's RSS every 50 ms; returns a function giving the peak in MB. */
function rssMeter() {
  let peak = process.memoryUsage().rss;
  const t = setInterval(() => {
    const r = process.memoryUsage().rss;
    if (r > peak) peak = r;
  }, 50);
  t.unref();
  return {
    peakMB() {
      peak = Math.max(peak, process.memoryUsage().rss);
      return peak / 1048576;
    },
    reset() {
      peak = process.memoryUsage().rss;
    },
    stop() {
      clearInterval(t);
    },
  };
}

/** Starts a server script in a child process (so its memory is not counted); resolves with its URL. */
function startServer(script, args = []) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, script), args, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    child.once("message", (m) => resolve({ url: m.url, child, close: () => new Promise((r) => { child.once("exit", r); child.kill(); }) }));
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
  });
}

function fmt(n, d = 1) {
  return Number(n).toFixed(d);
}

module.exports = { requireDist, rssMeter, startServer, fmt, dist };
