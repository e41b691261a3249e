/**
 * Local paths of replicas: the mounted-RSE mapping of the Rucio JupyterLab extension (mount path + the PFN
 * path after its n-th `/`), `file://` PFNs, and safe download targets.
 */
import { isAbsolute, join, normalize, sep } from "node:path";
import { RucioError } from "./errors";

/**
 * Maps a PFN to the path where its RSE is mounted: the PFN's URL path with leading/trailing `/` removed,
 * split at the first `pathBeginsAt` slashes, last part appended to `mountPath` (the extension's rule).
 * VRE example: mount /eos/eulake, pathBeginsAt 5.
 */
export function mountedPath(pfn: string, mountPath: string, pathBeginsAt = 0): string {
  let path: string;
  try {
    path = decodeURIComponent(new URL(pfn).pathname);
  } catch {
    path = pfn;
  }
  const parts = path.replace(/^\/+|\/+$/g, "").split("/");
  const suffix = pathBeginsAt <= 0 ? parts.join("/") : parts.length > pathBeginsAt ? parts.slice(pathBeginsAt).join("/") : parts[parts.length - 1];
  return join(mountPath, suffix);
}

/** The local path of a file:// PFN ("file://localhost/srv/x" → "/srv/x"). */
export function filePfnPath(pfn: string): string | undefined {
  if (!/^file:/i.test(pfn)) return undefined;
  try {
    const u = new URL(pfn);
    if (u.hostname && u.hostname !== "localhost") return undefined;
    return decodeURIComponent(u.pathname);
  } catch {
    return undefined;
  }
}

/** Where a DID is downloaded: dir[/scope]/name, refusing names that would escape dir. */
export function downloadTarget(dir: string, scope: string, name: string, withScope = true): string {
  const rel = withScope ? join(scope, name) : name;
  const norm = normalize(rel);
  if (isAbsolute(name) || norm.split(sep).includes("..") || norm.startsWith(`..${sep}`)) {
    throw new RucioError({
      code: "RUCIO_INVALID_REQUEST",
      message: `The DID name ${scope}:${name} cannot be used as a local file name (it would leave the target folder).`,
      hint: "Download it with an explicit target file name.",
    });
  }
  return join(dir, norm);
}

/** https-style URL for a davs/https/http PFN (davs is WebDAV over TLS); undefined for other schemes. */
export function httpUrlOf(pfn: string): string | undefined {
  if (/^https?:\/\//i.test(pfn)) return pfn;
  if (/^davs:\/\//i.test(pfn)) return `https://${pfn.slice("davs://".length)}`;
  if (/^dav:\/\//i.test(pfn)) return `http://${pfn.slice("dav://".length)}`;
  return undefined;
}
