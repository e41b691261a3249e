/**
 * User-named small files (reana.yaml given with -f, workflow and parameter files, --codemeta, CA files) are read
 * only when regular and small: /dev/zero, a FIFO or a 6 MiB file is refused at once with a clear error.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { HttpClient } from "./http/client";
import { loadReanaSpec, parseReanaSpec } from "./reana/spec";
import { codemetaFileToZenodo } from "./zenodo/codemeta";
import { readSmallFile, readSmallFileSync, SMALL_FILE_MAX_BYTES } from "./small-file";

const dir = mkdtempSync(path.join(tmpdir(), "vre-small-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fifo = path.join(dir, "pipe.yaml");
execFileSync("mkfifo", [fifo]);
const big = path.join(dir, "big.yaml");
writeFileSync(big, "");
truncateSync(big, SMALL_FILE_MAX_BYTES + 1);

const refused = (code: string, text: RegExp) => expect.objectContaining({ code, message: expect.stringMatching(text) });

describe("readSmallFile", () => {
  it("refuses devices, FIFOs and folders without reading (or blocking)", async () => {
    expect(() => readSmallFileSync("/dev/zero", { what: "the REANA specification" })).toThrow(refused("LOCAL_FILE_NOT_REGULAR", /Refusing to read the REANA specification \/dev\/zero: it is a device/));
    expect(() => readSmallFileSync(fifo)).toThrow(refused("LOCAL_FILE_NOT_REGULAR", /named pipe/));
    expect(() => readSmallFileSync(dir)).toThrow(refused("LOCAL_FILE_NOT_REGULAR", /a folder/));
    await expect(readSmallFile("/dev/zero")).rejects.toEqual(refused("LOCAL_FILE_NOT_REGULAR", /device/));
    await expect(readSmallFile(fifo)).rejects.toEqual(refused("LOCAL_FILE_NOT_REGULAR", /named pipe/));
  });

  it("refuses a file over the cap, and reads files that report no size (/proc) up to it", async () => {
    expect(() => readSmallFileSync(big)).toThrow(refused("LOCAL_FILE_TOO_LARGE", /it is 5 MiB, over the 5 MiB/));
    await expect(readSmallFile(big)).rejects.toEqual(refused("LOCAL_FILE_TOO_LARGE", /over the 5 MiB/));
    expect(readSmallFileSync("/proc/self/status")).toMatch(/^Name:/);
    expect(() => readSmallFileSync("/proc/self/status", { maxBytes: 10 })).toThrow(refused("LOCAL_FILE_TOO_LARGE", /larger than the 10 bytes/));
    expect(() => readSmallFileSync(path.join(dir, "missing"))).toThrow(expect.objectContaining({ code: "ENOENT" }));
  });
});

describe("every place a user-named small file is read", () => {
  it("reana.yaml given with -f, the workflow file and the parameter file", () => {
    expect(() => loadReanaSpec("/dev/zero")).toThrow(refused("LOCAL_FILE_NOT_REGULAR", /the REANA specification \/dev\/zero/));
    expect(() => loadReanaSpec(big)).toThrow(refused("LOCAL_FILE_TOO_LARGE", /the REANA specification/));
    const serial = "workflow:\n  type: serial\n  file: pipe.yaml\n";
    expect(() => parseReanaSpec(serial, { baseDir: dir })).toThrow(refused("LOCAL_FILE_NOT_REGULAR", /the workflow file .*pipe\.yaml/));
    writeFileSync(path.join(dir, "Snakefile"), "");
    const snake = "inputs:\n  parameters:\n    input: big.yaml\nworkflow:\n  type: snakemake\n  file: /dev/zero\n";
    expect(() => parseReanaSpec(snake, { baseDir: dir })).toThrow(refused("LOCAL_FILE_NOT_REGULAR", /Snakefile \/dev\/zero/));
    const cwl = "inputs:\n  parameters:\n    input: big.yaml\nworkflow:\n  type: cwl\n  file: w.cwl\n";
    writeFileSync(path.join(dir, "w.cwl"), "cwlVersion: v1.0\nclass: Workflow\ninputs: []\noutputs: []\nsteps: []\n");
    expect(() => parseReanaSpec(cwl, { baseDir: dir })).toThrow(expect.objectContaining({ message: expect.stringMatching(/the parameter file .*big\.yaml.*over the 5 MiB/) }));
  });

  it("--codemeta and the CA file of a client", async () => {
    await expect(codemetaFileToZenodo("/dev/zero")).rejects.toThrow(/device, not a regular file/);
    expect(() => new HttpClient({ service: "rucio", baseUrl: "https://r.example", tls: { caFile: "/dev/zero" } })).toThrow(
      expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringMatching(/the CA certificate file \/dev\/zero: it is a device/) }),
    );
  });
});
