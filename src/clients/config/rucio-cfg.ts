/**
 * Reads an existing rucio.cfg (the file the official Rucio client and the VRE images use):
 * RUCIO_CONFIG, then $RUCIO_HOME/etc/rucio.cfg, then $VIRTUAL_ENV/etc/rucio.cfg, then /opt/rucio/etc/rucio.cfg.
 * Only the [client] section matters to us.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../errors";
import { parseIni } from "./ini";
import type { RucioAuthType, RucioSettings } from "./types";

export type Env = Record<string, string | undefined>;

/** Candidate rucio.cfg paths in the order the official client looks at them. */
export function rucioCfgCandidates(env: Env): string[] {
  const out: string[] = [];
  if (env.RUCIO_CONFIG) out.push(env.RUCIO_CONFIG);
  if (env.RUCIO_HOME) out.push(join(env.RUCIO_HOME, "etc", "rucio.cfg"));
  if (env.VIRTUAL_ENV) out.push(join(env.VIRTUAL_ENV, "etc", "rucio.cfg"));
  out.push("/opt/rucio/etc/rucio.cfg");
  return out;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Expands $VAR, ${VAR} and a leading ~ in path-like values, as the Python client does. */
export function expandPath(value: string, env: Env): string {
  let v = value.replace(/\$\{(\w+)\}|\$(\w+)/g, (m, a: string | undefined, b: string | undefined) => env[(a ?? b)!] ?? m);
  if (v.startsWith("~/") && env.HOME) v = join(env.HOME, v.slice(2));
  return v;
}

const AUTH_TYPES: RucioAuthType[] = ["userpass", "x509", "x509_proxy", "oidc", "token"];

export interface RucioCfgResult {
  path: string;
  settings: Partial<RucioSettings>;
}

/** Finds and reads the first existing rucio.cfg; undefined when there is none. */
export function readRucioCfg(env: Env): RucioCfgResult | undefined {
  const explicit = env.RUCIO_CONFIG;
  for (const path of rucioCfgCandidates(env)) {
    if (!isFile(path)) {
      if (path === explicit) {
        throw new ConfigError({
          code: "CONFIG_INVALID",
          message: `RUCIO_CONFIG points to ${path}, which is not a readable file.`,
          hint: "Fix or unset RUCIO_CONFIG.",
        });
      }
      continue;
    }
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (e) {
      throw new ConfigError({ code: "CONFIG_INVALID", message: `Cannot read ${path}.`, hint: "Check the file permissions.", cause: e });
    }
    return { path, settings: rucioCfgToSettings(parseIni(text).client ?? {}, env) };
  }
  return undefined;
}

/** Maps the [client] keys of rucio.cfg onto RucioSettings. */
export function rucioCfgToSettings(client: Record<string, string>, env: Env): Partial<RucioSettings> {
  const s: Partial<RucioSettings> = {};
  const get = (k: string) => {
    const v = client[k];
    return v === undefined || v === "" ? undefined : v;
  };
  const path = (k: string) => {
    const v = get(k);
    return v === undefined ? undefined : expandPath(v, env);
  };
  s.host = get("rucio_host");
  s.authHost = get("auth_host");
  s.account = get("account");
  s.vo = get("vo");
  const at = get("auth_type")?.toLowerCase();
  if (at && (AUTH_TYPES as string[]).includes(at)) s.authType = at as RucioAuthType;
  s.username = get("username");
  s.password = get("password");
  s.caCert = path("ca_cert");
  s.clientCert = path("client_cert");
  s.clientKey = path("client_key");
  const proxy = path("client_x509_proxy");
  if (s.authType === "x509_proxy" && proxy) {
    s.clientCert = proxy;
    s.clientKey = proxy;
  }
  // In the VRE the hub writes the IdP token into this file; the official client reads OIDC tokens from it.
  const tokenPath = path("auth_token_file_path");
  if (tokenPath) s.tokenFile = tokenPath;
  for (const k of Object.keys(s) as (keyof RucioSettings)[]) if (s[k] === undefined) delete s[k];
  return s;
}
