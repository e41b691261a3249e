/**
 * Connection files: the five ports, transport and HMAC key a client and a kernel share.
 * The file lives in a private temporary folder (0700) and is written 0600, because it holds the signing key.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface ConnectionInfo {
  transport: "tcp";
  ip: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  key: string;
  signature_scheme: "hmac-sha256";
  kernel_name?: string;
}

/** Asks the OS for `count` distinct free TCP ports on `ip` (they are free when checked; the kernel binds them soon after). */
export async function freePorts(count: number, ip = "127.0.0.1"): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<import("node:net").Server>((resolve, reject) => {
        const server = createServer();
        server.once("error", reject);
        server.listen(0, ip, () => resolve(server));
      }),
    ),
  );
  const ports = servers.map((s) => (s.address() as import("node:net").AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

export async function newConnectionInfo(kernelName?: string, ip = "127.0.0.1"): Promise<ConnectionInfo> {
  const [shell, iopub, stdin, control, hb] = await freePorts(5, ip);
  return {
    transport: "tcp",
    ip,
    shell_port: shell,
    iopub_port: iopub,
    stdin_port: stdin,
    control_port: control,
    hb_port: hb,
    key: randomBytes(32).toString("hex"),
    signature_scheme: "hmac-sha256",
    ...(kernelName ? { kernel_name: kernelName } : {}),
  };
}

export interface ConnectionFile {
  path: string;
  info: ConnectionInfo;
  /** Deletes the file and its private folder. */
  remove(): Promise<void>;
}

export async function writeConnectionFile(info: ConnectionInfo): Promise<ConnectionFile> {
  const dir = await mkdtemp(join(tmpdir(), "vre-ts-run-"));
  const path = join(dir, `kernel-${randomBytes(6).toString("hex")}.json`);
  await writeFile(path, JSON.stringify(info, null, 1), { mode: 0o600 });
  return { path, info, remove: () => rm(dir, { recursive: true, force: true }) };
}

export function endpoint(info: ConnectionInfo, port: number): string {
  return `${info.transport}://${info.ip}:${port}`;
}
