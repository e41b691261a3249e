/**
 * Our own configuration file: ~/.config/vre-ts/config.json ($XDG_CONFIG_HOME honoured), holding named
 * profiles (like the Rucio JupyterLab extension's `instances`). It can hold tokens, so it is written
 * atomically with mode 0600 inside a 0700 folder.
 *
 *   { "version": 1, "default": "escape",
 *     "profiles": { "escape": { "rucio": {...}, "reana": {...}, "zenodo": {...} } } }
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { z } from "zod";
import { ConfigError } from "../errors";
import type { Env } from "./rucio-cfg";

const Rucio = z
  .object({
    host: z.string(),
    authHost: z.string(),
    account: z.string(),
    vo: z.string(),
    authType: z.enum(["userpass", "x509", "x509_proxy", "oidc", "token"]),
    username: z.string(),
    password: z.string(),
    token: z.string(),
    tokenFile: z.string(),
    caCert: z.string(),
    clientCert: z.string(),
    clientKey: z.string(),
    destinationRse: z.string(),
    mountPath: z.string(),
    pathBeginsAt: z.number().int().nonnegative(),
    sandbox: z.boolean(),
  })
  .partial()
  .strict();

const Reana = z
  .object({ serverUrl: z.string(), accessToken: z.string(), caCert: z.string(), insecure: z.boolean(), sandbox: z.boolean() })
  .partial()
  .strict();

const Zenodo = z.object({ baseUrl: z.string(), token: z.string(), sandbox: z.boolean(), local: z.boolean() }).partial().strict();

export const ProfileSchema = z.object({ rucio: Rucio.optional(), reana: Reana.optional(), zenodo: Zenodo.optional() }).strict();
export const ConfigFileSchema = z.object({
  version: z.literal(1).default(1),
  default: z.string().optional(),
  profiles: z.record(z.string(), ProfileSchema).default({}),
});

export type StoredProfile = z.infer<typeof ProfileSchema>;
export type ConfigFile = z.infer<typeof ConfigFileSchema>;

/** Path of config.json: $XDG_CONFIG_HOME/vre-ts/config.json, else ~/.config/vre-ts/config.json. */
export function configFilePath(env: Env = process.env): string {
  if (env.VRE_TS_CONFIG) return env.VRE_TS_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(base, "vre-ts", "config.json");
}

/** Reads config.json; an absent file is an empty configuration. */
export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, profiles: {} };
    throw new ConfigError({ code: "CONFIG_INVALID", message: `Cannot read ${path}.`, hint: "Check its permissions.", cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError({
      code: "CONFIG_INVALID",
      message: `${path} is not valid JSON (${(e as Error).message}).`,
      hint: "Fix the file by hand, or delete it and save your profiles again.",
    });
  }
  const r = ConfigFileSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ConfigError({
      code: "CONFIG_INVALID",
      message: `${path}: ${issue.path.join(".") || "(root)"}: ${issue.message}.`,
      hint: 'Expected {"default": NAME, "profiles": {NAME: {"rucio": {...}, "reana": {...}, "zenodo": {...}}}}.',
    });
  }
  return r.data;
}

/** Whether the file is readable by others than its owner (it may hold tokens). */
export function isTooOpen(path: string): boolean {
  try {
    return (statSync(path).mode & 0o077) !== 0;
  } catch {
    return false;
  }
}

/** Writes config.json atomically, mode 0600 (folder 0700). */
export function writeConfigFile(path: string, config: ConfigFile): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** Adds or replaces one profile (merging service sections) and optionally makes it the default. */
export function saveProfile(
  name: string,
  profile: StoredProfile,
  opts: { path?: string; makeDefault?: boolean; env?: Env } = {},
): string {
  const path = opts.path ?? configFilePath(opts.env);
  const cfg = readConfigFile(path);
  const prev = cfg.profiles[name] ?? {};
  const merged: StoredProfile = { ...prev };
  for (const k of ["rucio", "reana", "zenodo"] as const) {
    if (profile[k]) merged[k] = { ...(prev[k] ?? {}), ...profile[k] } as never;
  }
  const checked = ProfileSchema.safeParse(merged);
  if (!checked.success) {
    throw new ConfigError({ code: "CONFIG_INVALID", message: `Profile ${name}: ${checked.error.issues[0].message}.` });
  }
  cfg.profiles[name] = checked.data;
  if (opts.makeDefault || !cfg.default) cfg.default = name;
  writeConfigFile(path, cfg);
  return path;
}

/** Removes a profile; returns whether it existed. */
export function removeProfile(name: string, opts: { path?: string; env?: Env } = {}): boolean {
  const path = opts.path ?? configFilePath(opts.env);
  const cfg = readConfigFile(path);
  if (!cfg.profiles[name]) return false;
  delete cfg.profiles[name];
  if (cfg.default === name) cfg.default = Object.keys(cfg.profiles)[0];
  writeConfigFile(path, cfg);
  return true;
}
