/**
 * Which Zenodo a client talks to, read from its base URL (not from flags a profile may set wrongly): the local
 * sandbox, Zenodo's sandbox (sandbox.zenodo.org, test DOIs), Zenodo production (zenodo.org, real DOIs), or another
 * Zenodo-compatible service (an InvenioRDM instance at a custom ZENODO_URL).
 */
import type { ZenodoSettings } from "../config/types";

export type ZenodoInstanceKind = "local" | "sandbox" | "production" | "custom";

export interface ZenodoInstance {
  kind: ZenodoInstanceKind;
  /** Host of the base URL ("zenodo.org", "data.lab.example"). */
  host: string;
  /** Short words for tables: "local sandbox", "Zenodo sandbox", "Zenodo production", "data.lab.example". */
  short: string;
}

export function zenodoInstance(settings: Pick<ZenodoSettings, "baseUrl" | "sandbox" | "local">): ZenodoInstance {
  let host = "";
  try {
    host = new URL(settings.baseUrl).hostname.toLowerCase();
  } catch {
    host = settings.baseUrl;
  }
  if (settings.local) return { kind: "local", host, short: "local sandbox" };
  if (host === "sandbox.zenodo.org") return { kind: "sandbox", host, short: "Zenodo sandbox" };
  if (host === "zenodo.org" || host === "www.zenodo.org") return { kind: "production", host, short: "Zenodo production" };
  return { kind: "custom", host, short: `Zenodo-compatible service at ${host}` };
}
