/**
 * Profile resolution. For each setting the first layer that defines it wins:
 *   1. explicit options (code, magic arguments)
 *   2. the named profile of config.json, when a profile is asked for by name (option or VRE_TS_PROFILE)
 *   3. environment variables (RUCIO_*, BEARER_TOKEN*, REANA_*, ZENODO_*)
 *   4. existing config files of the ecosystem (rucio.cfg)
 *   5. the default profile of our config.json (~/.config/vre-ts/config.json)
 * A profile named explicitly ranks above the environment: choosing it by name is an explicit choice.
 * `sources` records where each value came from (never the value), for `%rucio config`-style diagnostics.
 */
import { ConfigError } from "../errors";
import { registerSecret } from "../http/redact";
import { reanaFromEnv, rucioFromEnv, zenodoFromEnv, type Sourced } from "./env";
import { readRucioCfg, type Env } from "./rucio-cfg";
import { configFilePath, isTooOpen, readConfigFile, type StoredProfile } from "./store";
import type { ServiceName, SettingsOf } from "./types";
import { ZENODO_PRODUCTION_URL, ZENODO_SANDBOX_URL } from "./types";

export interface ResolveOptions<S> {
  /** Named profile of config.json. Default: $VRE_TS_PROFILE, else the file's default profile. */
  profile?: string;
  /** Environment to read (default process.env). */
  env?: Env;
  /** Values that override everything. */
  explicit?: Partial<S>;
  /** config.json path (default from XDG_CONFIG_HOME / HOME). */
  configPath?: string;
  /** Ignore rucio.cfg and config.json (environment and explicit values only). */
  noFiles?: boolean;
  /** User id for WLCG token discovery (default process.getuid()). */
  uid?: number;
}

export interface ResolvedProfile<S> {
  service: ServiceName;
  /** The config.json profile that contributed, if any. */
  profile?: string;
  /** Complete settings, or undefined when the service is not configured at all. */
  settings?: S;
  /** Whether enough is known to talk to a real service (a host/URL, and for Zenodo a token). */
  configured: boolean;
  /** Where each value came from: "explicit", "env:RUCIO_HOST", "rucio.cfg:/path", "config.json:escape". */
  sources: Partial<Record<keyof S, string>>;
  /** What is still missing to authenticate ("credentials", "accessToken", "token"). */
  missing: string[];
  warnings: string[];
}

const SECRET_FIELDS = ["password", "token", "accessToken"];

function layer<S>(values: Partial<S> | undefined, source: string): Sourced<S> {
  const sources: Partial<Record<keyof S, string>> = {};
  for (const [k, v] of Object.entries(values ?? {})) if (v !== undefined) sources[k as keyof S] = source;
  return { values: values ?? {}, sources };
}

function merge<S>(layers: Sourced<S>[]): Sourced<S> {
  const out: Sourced<S> = { values: {}, sources: {} };
  for (const l of layers) {
    for (const [k, v] of Object.entries(l.values)) {
      if (v === undefined || v === "" || (out.values as Record<string, unknown>)[k] !== undefined) continue;
      (out.values as Record<string, unknown>)[k] = v;
      out.sources[k as keyof S] = l.sources[k as keyof S];
    }
  }
  return out;
}

/** Resolves one service's settings from all layers. */
export function resolveProfile<K extends ServiceName>(
  service: K,
  opts: ResolveOptions<SettingsOf[K]> = {},
): ResolvedProfile<SettingsOf[K]> {
  type S = SettingsOf[K];
  const env = opts.env ?? process.env;
  const uid = opts.uid ?? (typeof process.getuid === "function" ? process.getuid() : undefined);
  const warnings: string[] = [];
  const wanted = opts.profile ?? env.VRE_TS_PROFILE;

  let stored: StoredProfile | undefined;
  let storedName: string | undefined;
  if (!opts.noFiles) {
    const path = opts.configPath ?? configFilePath(env);
    const cfg = readConfigFile(path);
    if (isTooOpen(path)) warnings.push(`${path} is readable by other users; run: chmod 600 ${path}`);
    storedName = wanted ?? cfg.default;
    if (storedName !== undefined) {
      stored = cfg.profiles[storedName];
      if (!stored && wanted !== undefined) {
        const known = Object.keys(cfg.profiles);
        throw new ConfigError({
          code: "CONFIG_MISSING",
          message: `There is no profile named "${wanted}" in ${path}.`,
          hint: known.length ? `Known profiles: ${known.join(", ")}.` : `Save one first with saveProfile(NAME, { rucio: {...}, reana: {...}, zenodo: {...} }) from vre-ts, or write it into ${path}; %vre profiles lists them.`,
        });
      }
    }
  }
  const storedLayer = layer<S>(stored?.[service] as Partial<S> | undefined, `config.json:${storedName}`);

  const envLayer = (
    service === "rucio" ? rucioFromEnv(env, uid) : service === "reana" ? reanaFromEnv(env) : zenodoFromEnv(env)
  ) as Sourced<S>;

  const layers: Sourced<S>[] = [layer<S>(opts.explicit, "explicit")];
  if (wanted !== undefined) layers.push(storedLayer);
  layers.push(envLayer);
  if (service === "rucio" && !opts.noFiles) {
    const cfg = readRucioCfg(env);
    if (cfg) layers.push(layer<S>(cfg.settings as Partial<S>, `rucio.cfg:${cfg.path}`));
  }
  if (wanted === undefined) layers.push(storedLayer);
  const merged = merge(layers);
  const v = merged.values as Record<string, unknown>;
  for (const f of SECRET_FIELDS) if (typeof v[f] === "string") registerSecret(v[f] as string);

  const missing: string[] = [];
  let configured = false;
  if (service === "rucio") {
    configured = typeof v.host === "string";
    if (configured && v.account === undefined && env.JUPYTERHUB_USER) {
      v.account = env.JUPYTERHUB_USER;
      (merged.sources as Record<string, string>).account = "env:JUPYTERHUB_USER";
    }
    const hasCreds = v.token || v.tokenFile || (v.username && v.password) || v.clientCert || v.sandbox;
    if (configured && !hasCreds) missing.push("credentials");
    if (v.authType === "userpass" && !(v.username && v.password)) missing.push("username/password");
  } else if (service === "reana") {
    configured = typeof v.serverUrl === "string";
    if (configured && !v.accessToken) missing.push("accessToken");
  } else {
    if (v.sandbox === undefined) v.sandbox = false;
    if (v.baseUrl === undefined) v.baseUrl = v.sandbox ? ZENODO_SANDBOX_URL : ZENODO_PRODUCTION_URL;
    configured = Boolean(v.token) || v.local === true;
    if (!configured) missing.push(v.sandbox ? "token (ZENODO_SANDBOX_TOKEN)" : "token (ZENODO_TOKEN)");
  }
  return {
    service,
    profile: stored ? storedName : undefined,
    settings: configured || (service === "zenodo" && v.baseUrl) ? (v as unknown as S) : undefined,
    configured,
    sources: merged.sources,
    missing,
    warnings,
  };
}

/** Resolves all three services at once (the session uses this to decide whether to start the sandbox). */
export function resolveAll(opts: Omit<ResolveOptions<never>, "explicit"> = {}): {
  rucio: ResolvedProfile<SettingsOf["rucio"]>;
  reana: ResolvedProfile<SettingsOf["reana"]>;
  zenodo: ResolvedProfile<SettingsOf["zenodo"]>;
  anyConfigured: boolean;
} {
  const rucio = resolveProfile("rucio", opts);
  const reana = resolveProfile("reana", opts);
  const zenodo = resolveProfile("zenodo", opts);
  return { rucio, reana, zenodo, anyConfigured: rucio.configured || reana.configured || zenodo.configured };
}

/** Whether a service is configured at all (host/URL known; for Zenodo a token). */
export function isConfigured(service: ServiceName, opts: ResolveOptions<never> = {}): boolean {
  return resolveProfile(service, opts).configured;
}
