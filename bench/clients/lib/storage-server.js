// Loopback storage for the transfer benchmark: GET streams a file (Range supported), PUT reads the body and
// discards it (answering with the byte count), so the network path is measured, not the server's disk.
"use strict";
const http = require("node:http");
const fs = require("node:fs");

const file = process.argv[2];
const server = http.createServer((req, res) => {
  if (req.method === "GET") {
    const size = fs.statSync(file).size;
    const m = /bytes=(\d+)-/.exec(req.headers.range || "");
    const start = m ? Number(m[1]) : 0;
    res.writeHead(m ? 206 : 200, {
      "content-length": size - start,
      "accept-ranges": "bytes",
      ...(m ? { "content-range": `bytes ${start}-${size - 1}/${size}` } : {}),
    });
    fs.createReadStream(file, { start, highWaterMark: 1024 * 1024 }).pipe(res);
    return;
  }
  if (req.method === "PUT") {
    let n = 0;
    req.on("data", (c) => (n += c.length));
    req.on("end", () => {
      res.writeHead(201, { "content-type": "text/plain" });
      res.end(`${n}\n`);
    });
    return;
  }
  res.writeHead(405);
  res.end();
});
server.listen(0, "127.0.0.1", () => process.send({ url: `http://127.0.0.1:${server.address().port}` }));
