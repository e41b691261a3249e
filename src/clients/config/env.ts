/**
 * Settings from environment variables, with the variable each value came from. Names follow what the
 * ecosystem already sets: the Rucio client and JupyterLab extension (RUCIO_*), the VRE hub
 * (RUCIO_ACCESS_TOKEN, JUPYTERHUB_USER), WLCG bearer-token discovery (BEARER_TOKEN, BEARER_TOKEN_FILE,
 * $XDG_RUNTIME_DIR/bt_u$UID, /tmp/bt_u$UID), reana-client (REANA_SERVER_URL, REANA_ACCESS_TOKEN) and eOSSR
 * (ZENODO_TOKEN, ZENODO_SANDBOX_TOKEN).
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import type { Env } from "./rucio-cfg";
import type { RucioAuthType, RucioSettings, ReanaSettings, ZenodoSettings } from "./types";
import { ZENODO_PRODUCTION_URL, ZENODO_SANDBOX_URL } from "./types";

export interface Sourced<S> {
  values: Partial<S>;
  /** Field → where it came from ("env:RUCIO_HOST"). Never the value itself. */
  sources: Partial<Record<keyof S, string>>;
}

function pick<S>(out: Sourced<S>, key: keyof S, env: Env, names: string[], map: (v: string) => unknown = (v) => v): void {
  if (out.values[key] !== undefined) return;
  for (const n of names) {
    const v = env[n];
    if (v !== undefined && v.trim() !== "") {
      const mapped = map(v.trim());
      if (mapped === undefined) continue;
      (out.values as Record<string, unknown>)[key as string] = mapped;
      out.sources[key] = `env:${n}`;
      return;
    }
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export function truthy(v: string | undefined): boolean {
  return v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());
}

const AUTH: RucioAuthType[] = ["userpass", "x509", "x509_proxy", "oidc", "token"];

/** WLCG bearer token discovery: BEARER_TOKEN, BEARER_TOKEN_FILE, $XDG_RUNTIME_DIR/bt_u$UID, /tmp/bt_u$UID. */
export function discoverBearerToken(env: Env, uid: number | undefined): { token?: string; tokenFile?: string; source: string } | undefined {
  if (env.BEARER_TOKEN?.trim()) return { token: env.BEARER_TOKEN.trim(), source: "env:BEARER_TOKEN" };
  if (env.BEARER_TOKEN_FILE?.trim()) return { tokenFile: env.BEARER_TOKEN_FILE.trim(), source: "env:BEARER_TOKEN_FILE" };
  if (uid !== undefined) {
    if (env.XDG_RUNTIME_DIR) {
      const p = join(env.XDG_RUNTIME_DIR, `bt_u${uid}`);
      if (isFile(p)) return { tokenFile: p, source: "wlcg:$XDG_RUNTIME_DIR/bt_u$UID" };
    }
    const p = `/tmp/bt_u${uid}`;
    if (isFile(p)) return { tokenFile: p, source: "wlcg:/tmp/bt_u$UID" };
  }
  return undefined;
}

export function rucioFromEnv(env: Env, uid: number | undefined): Sourced<RucioSettings> {
  const out: Sourced<RucioSettings> = { values: {}, sources: {} };
  pick(out, "host", env, ["RUCIO_HOST", "RUCIO_BASE_URL"]);
  pick(out, "authHost", env, ["RUCIO_AUTH_HOST", "RUCIO_AUTH_URL"]);
  pick(out, "account", env, ["RUCIO_ACCOUNT"]);
  pick(out, "vo", env, ["RUCIO_VO"]);
  pick(out, "authType", env, ["RUCIO_AUTH_TYPE", "RUCIO_DEFAULT_AUTH_TYPE"], (v) =>
    (AUTH as string[]).includes(v.toLowerCase()) ? v.toLowerCase() : undefined,
  );
  pick(out, "username", env, ["RUCIO_USERNAME"]);
  pick(out, "password", env, ["RUCIO_PASSWORD"]);
  pick(out, "token", env, ["RUCIO_ACCESS_TOKEN", "RUCIO_AUTH_TOKEN"]);
  pick(out, "tokenFile", env, ["RUCIO_TOKEN_FILE"]);
  if (out.values.token === undefined && out.values.tokenFile === undefined) {
    const bt = discoverBearerToken(env, uid);
    if (bt?.token) {
      out.values.token = bt.token;
      out.sources.token = bt.source;
    } else if (bt?.tokenFile) {
      out.values.tokenFile = bt.tokenFile;
      out.sources.tokenFile = bt.source;
    }
  }
  pick(out, "caCert", env, ["RUCIO_CA_CERT"]);
  if (out.values.authType === "x509_proxy" || env.X509_USER_PROXY) {
    pick(out, "clientCert", env, ["X509_USER_PROXY"]);
    pick(out, "clientKey", env, ["X509_USER_PROXY"]);
  }
  pick(out, "clientCert", env, ["RUCIO_CLIENT_CERT", "X509_USER_CERT"]);
  pick(out, "clientKey", env, ["RUCIO_CLIENT_KEY", "X509_USER_KEY"]);
  pick(out, "destinationRse", env, ["RUCIO_DESTINATION_RSE"]);
  pick(out, "mountPath", env, ["RUCIO_RSE_MOUNT_PATH", "RUCIO_MOUNT_PATH"]);
  pick(out, "pathBeginsAt", env, ["RUCIO_PATH_BEGINS_AT"], (v) => (/^\d+$/.test(v) ? Number(v) : undefined));
  return out;
}

export function reanaFromEnv(env: Env): Sourced<ReanaSettings> {
  const out: Sourced<ReanaSettings> = { values: {}, sources: {} };
  pick(out, "serverUrl", env, ["REANA_SERVER_URL"]);
  pick(out, "accessToken", env, ["REANA_ACCESS_TOKEN"]);
  pick(out, "caCert", env, ["REANA_CA_CERT"]);
  return out;
}

export function zenodoFromEnv(env: Env): Sourced<ZenodoSettings> {
  const out: Sourced<ZenodoSettings> = { values: {}, sources: {} };
  if (env.ZENODO_SANDBOX !== undefined && env.ZENODO_SANDBOX.trim() !== "") {
    out.values.sandbox = truthy(env.ZENODO_SANDBOX);
    out.sources.sandbox = "env:ZENODO_SANDBOX";
  }
  if (out.values.sandbox === undefined && !env.ZENODO_TOKEN?.trim() && env.ZENODO_SANDBOX_TOKEN?.trim()) {
    out.values.sandbox = true;
    out.sources.sandbox = "env:ZENODO_SANDBOX_TOKEN";
  }
  pick(out, "baseUrl", env, ["ZENODO_URL", "ZENODO_API_URL"]);
  // A production token is never sent to the sandbox and vice versa.
  if (out.values.sandbox) pick(out, "token", env, ["ZENODO_SANDBOX_TOKEN"]);
  else pick(out, "token", env, ["ZENODO_TOKEN"]);
  if (out.values.baseUrl === undefined && out.values.sandbox !== undefined) {
    out.values.baseUrl = out.values.sandbox ? ZENODO_SANDBOX_URL : ZENODO_PRODUCTION_URL;
    out.sources.baseUrl = "env:ZENODO_SANDBOX";
  }
  return out;
}
