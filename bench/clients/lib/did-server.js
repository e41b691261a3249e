// Loopback Rucio stand-in for the listing benchmark: answers a DID search with N NDJSON lines, generated on
// the fly in 64 KiB chunks (chunked transfer encoding), and issues a token for /auth/userpass.
"use strict";
const http = require("node:http");

const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  if (url.pathname === "/auth/userpass") {
    res.writeHead(200, { "x-rucio-auth-token": "bench-bench-bench-0123456789abcdef0123456789abcdef", "x-rucio-auth-token-expires": new Date(Date.now() + 3600e3).toUTCString(), "content-length": 0 });
    return res.end();
  }
  if (url.pathname.endsWith("/dids/search")) {
    const n = Number(url.searchParams.get("limit") ?? 1000);
    res.writeHead(200, { "content-type": "application/x-json-stream" });
    let i = 0;
    const pump = () => {
      while (i < n) {
        let chunk = "";
        while (i < n && chunk.length < 65536) {
          chunk += `{"scope": "bench", "name": "file_${String(i).padStart(9, "0")}.root", "did_type": "FILE", "bytes": ${1000 + (i % 9000)}, "length": null}\n`;
          i++;
        }
        if (!res.write(chunk)) return res.once("drain", pump);
      }
      res.end();
    };
    return pump();
  }
  res.writeHead(404);
  res.end();
});
server.listen(0, "127.0.0.1", () => process.send({ url: `http://127.0.0.1:${server.address().port}` }));
