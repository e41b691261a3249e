import type { ProtocolRecord, RseRecord } from "./model";

/**
 * Every sandbox RSE is a folder served two ways: a `file` protocol (the folder itself, like a FUSE-mounted EOS in
 * the VRE) and an `http` protocol through the sandbox's own `/rucio-storage/<RSE>/` data plane.
 */
export function builtinProtocols(rse: RseRecord, folder: string, baseUrl: URL): ProtocolRecord[] {
  return [
    {
      scheme: "file",
      hostname: "localhost",
      port: 0,
      prefix: `${folder}/`,
      impl: "rucio.rse.protocols.posix.Default",
      domains: {
        lan: { read: 1, write: 1, delete: 1 },
        wan: { read: 1, write: 1, delete: 1, third_party_copy_read: 1, third_party_copy_write: 1 },
      },
      extended_attributes: null,
    },
    {
      scheme: "http",
      hostname: baseUrl.hostname,
      port: Number(baseUrl.port),
      prefix: `/rucio-storage/${rse.rse}/`,
      impl: "rucio.rse.protocols.webdav.Default",
      domains: {
        lan: { read: 2, write: 2, delete: 2 },
        wan: { read: 2, write: 2, delete: 2, third_party_copy_read: 2, third_party_copy_write: 2 },
      },
      extended_attributes: null,
    },
  ];
}

export function protocolsOf(rse: RseRecord, folder: string, baseUrl: URL): ProtocolRecord[] {
  return [...builtinProtocols(rse, folder, baseUrl), ...rse.extra_protocols];
}

export function pfnFor(proto: ProtocolRecord, relPath: string): string {
  const port = proto.port && proto.port !== 0 ? `:${proto.port}` : "";
  const encoded = proto.scheme === "file" ? relPath : relPath.split("/").map(encodeURIComponent).join("/");
  return `${proto.scheme}://${proto.hostname}${port}${proto.prefix}${encoded}`;
}
