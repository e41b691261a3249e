/** The client against a scripted peer over real ZeroMQ sockets: signatures, reply matching, buffers, stdin routing. */
import { afterEach, describe, expect, it } from "vitest";
import { Publisher, Router } from "zeromq";
import { Signer, childMessage, parseMessage, serializeMessage, type WireMessage } from "../kernel/wire";
import { KernelClient, KernelClientError } from "./client";
import { newConnectionInfo, endpoint, type ConnectionInfo } from "./connection";

interface Peer {
  info: ConnectionInfo;
  shell: Router;
  stdin: Router;
  iopub: Publisher;
  signer: Signer;
  next(socket: Router): Promise<WireMessage>;
  close(): void;
}

const peers: Peer[] = [];
const clients: KernelClient[] = [];
afterEach(() => {
  clients.splice(0).forEach((c) => c.close());
  peers.splice(0).forEach((p) => p.close());
});

async function peer(): Promise<Peer> {
  const info = await newConnectionInfo("test");
  const shell = new Router({ linger: 0 });
  const control = new Router({ linger: 0 });
  const stdin = new Router({ linger: 0 });
  const iopub = new Publisher({ linger: 0 });
  await shell.bind(endpoint(info, info.shell_port));
  await control.bind(endpoint(info, info.control_port));
  await stdin.bind(endpoint(info, info.stdin_port));
  await iopub.bind(endpoint(info, info.iopub_port));
  const signer = new Signer(info.key);
  const p: Peer = {
    info,
    shell,
    stdin,
    iopub,
    signer,
    async next(socket) {
      const frames = (await socket.receive()) as Buffer[];
      return parseMessage(frames, signer);
    },
    close() {
      [shell, control, stdin, iopub].forEach((s) => s.close());
    },
  };
  peers.push(p);
  return p;
}

function client(info: ConnectionInfo): KernelClient {
  const c = new KernelClient(info);
  clients.push(c);
  return c;
}

describe("KernelClient", () => {
  it("signs requests, matches replies by parent and keeps binary buffers", async () => {
    const k = await peer();
    const c = client(k.info);
    const { msgId, reply } = c.request("shell", "comm_info_request", { target_name: "x" }, { buffers: [Buffer.from([1, 2])] });
    const req = await k.next(k.shell); // parseMessage verifies the signature with the connection key
    expect(req.header.msg_id).toBe(msgId);
    expect(req.header.msg_type).toBe("comm_info_request");
    expect(req.header.version).toBe("5.3");
    expect(req.buffers.map((b) => [...b])).toEqual([[1, 2]]);
    const unrelated = childMessage("comm_info_reply", { status: "ok", comms: { other: {} } }, undefined, "k", { identities: req.identities });
    await k.shell.send(serializeMessage(unrelated, k.signer));
    await k.shell.send(serializeMessage(childMessage("comm_info_reply", { status: "ok", comms: {} }, req, "k", { identities: req.identities, buffers: [Buffer.from("zz")] }), k.signer));
    const r = await reply;
    expect(r.content).toEqual({ status: "ok", comms: {} });
    expect(r.buffers.map((b) => b.toString())).toEqual(["zz"]);
  });

  it("drops messages signed with another key", async () => {
    const k = await peer();
    const c = client(k.info);
    const { reply } = c.request("shell", "kernel_info_request", {}, { timeoutMs: 1_500 });
    const req = await k.next(k.shell);
    const forged = serializeMessage(childMessage("kernel_info_reply", { status: "ok" }, req, "k", { identities: req.identities }), new Signer("not-the-key"));
    await k.shell.send(forged);
    await expect(reply).rejects.toMatchObject({ code: "KERNEL_TIMEOUT" });
    expect(c.rejectedMessages).toBe(1);
  });

  it("routes stdin on the shell's routing id, so the kernel can ask for input", async () => {
    const k = await peer();
    const c = client(k.info);
    const seen: WireMessage[] = [];
    c.onStdin((m) => seen.push(m as WireMessage));
    c.request("shell", "execute_request", { code: "input()", allow_stdin: true });
    const req = await k.next(k.shell);
    // The kernel answers on the stdin socket with the identities of the shell request.
    await k.stdin.send(serializeMessage(childMessage("input_request", { prompt: "? ", password: false }, req, "k", { identities: req.identities }), k.signer));
    await expect.poll(() => seen.length, { timeout: 5_000 }).toBe(1);
    expect(seen[0].content).toEqual({ prompt: "? ", password: false });
  });

  it("rejects pending requests when closed", async () => {
    const k = await peer();
    const c = client(k.info);
    const { reply } = c.request("shell", "kernel_info_request", {});
    c.close();
    await expect(reply).rejects.toBeInstanceOf(KernelClientError);
    await expect(reply).rejects.toMatchObject({ code: "KERNEL_CLOSED" });
  });
});
