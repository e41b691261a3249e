import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { childMessage, DELIMITER, newHeader, parseMessage, serializeMessage, Signer, WireError, type WireMessage } from "./wire";

const KEY = "a0436f6c-1916-498b-8eb9-e81ab9368e84";

function sample(buffers: Buffer[] = []): WireMessage {
  return {
    identities: [Buffer.from("client-1")],
    header: newHeader("comm_msg", "session-1"),
    parent_header: {},
    metadata: {},
    content: { comm_id: "c1", data: { method: "custom", content: { x: "é" } } },
    buffers,
  };
}

describe("Signer", () => {
  it("signs the four JSON parts with HMAC-SHA256 as the spec defines", () => {
    const parts = ["{}", "{}", "{}", '{"a":1}'].map((s) => Buffer.from(s));
    const expected = createHmac("sha256", KEY).update(Buffer.concat(parts)).digest("hex");
    expect(new Signer(KEY).sign(parts)).toBe(expected);
  });

  it("an empty key disables signing", () => {
    const s = new Signer("");
    expect(s.sign([Buffer.from("x")])).toBe("");
    expect(s.verify("", [Buffer.from("x")])).toBe(true);
  });

  it("supports other hmac schemes", () => {
    const parts = [Buffer.from("a")];
    expect(new Signer(KEY, "hmac-sha512").sign(parts)).toBe(createHmac("sha512", KEY).update("a").digest("hex"));
  });
});

describe("serialize / parse", () => {
  it("round-trips a message with routing ids, unicode and binary buffers", () => {
    const signer = new Signer(KEY);
    const msg = sample([Buffer.from([0, 1, 2, 255]), Buffer.from("second")]);
    const frames = serializeMessage(msg, signer);
    expect(frames[1].toString()).toBe(DELIMITER);
    const back = parseMessage(frames, signer);
    expect(back.identities.map(String)).toEqual(["client-1"]);
    expect(back.header).toEqual(msg.header);
    expect(back.content).toEqual(msg.content);
    expect(back.buffers.map((b) => [...b])).toEqual([[0, 1, 2, 255], [...Buffer.from("second")]]);
  });

  it("does not sign the buffers: changing a buffer keeps the signature valid", () => {
    const signer = new Signer(KEY);
    const a = serializeMessage(sample([Buffer.from([1])]), signer);
    const expectedSig = signer.sign(a.slice(3, 7));
    expect(a[2].toString()).toBe(expectedSig);
    a[7] = Buffer.from([9, 9, 9]);
    expect(parseMessage(a, signer).buffers[0]).toEqual(Buffer.from([9, 9, 9]));
  });

  it("accepts incoming buffers signed the Jupyter way (jupyter_client signs only the 4 parts)", () => {
    const parts = [newHeader("comm_msg", "s"), {}, {}, { comm_id: "x", data: {} }].map((p) => Buffer.from(JSON.stringify(p)));
    const sig = createHmac("sha256", KEY).update(Buffer.concat(parts)).digest("hex");
    const frames = [Buffer.from("id"), Buffer.from(DELIMITER), Buffer.from(sig), ...parts, Buffer.from([7, 7])];
    const msg = parseMessage(frames, new Signer(KEY));
    expect(msg.buffers).toHaveLength(1);
  });

  it("rejects a tampered JSON part", () => {
    const signer = new Signer(KEY);
    const frames = serializeMessage(sample(), signer);
    frames[6] = Buffer.from(JSON.stringify({ comm_id: "evil" }));
    expect(() => parseMessage(frames, signer)).toThrow(WireError);
    try {
      parseMessage(frames, signer);
    } catch (e) {
      expect((e as WireError).code).toBe("WIRE_BAD_SIGNATURE");
    }
  });

  it("rejects a wrong key and malformed frames", () => {
    const frames = serializeMessage(sample(), new Signer(KEY));
    expect(() => parseMessage(frames, new Signer("other"))).toThrow(/signature/);
    expect(() => parseMessage([Buffer.from("x")], new Signer(KEY))).toThrow(/delimiter/);
    expect(() => parseMessage([Buffer.from(DELIMITER), Buffer.from("")], new Signer(KEY))).toThrow(/fewer/);
  });
});

describe("childMessage", () => {
  it("sets the parent header, a fresh id and the kernel session", () => {
    const parent = sample();
    const child = childMessage("status", { execution_state: "busy" }, parent, "kernel-session");
    expect(child.parent_header).toBe(parent.header);
    expect(child.header.session).toBe("kernel-session");
    expect(child.header.msg_id).not.toBe(parent.header.msg_id);
    expect(child.header.version).toBe("5.3");
  });

  it("converts typed arrays and ArrayBuffers to Buffers", () => {
    const m = childMessage("comm_msg", {}, undefined, "s", { buffers: [new Uint16Array([1]), new ArrayBuffer(3)] });
    expect(m.buffers.map((b) => b.length)).toEqual([2, 3]);
    expect(m.parent_header).toEqual({});
  });
});
