/**
 * The notebook session: one per process (shared by every copy of the package through a global symbol). It resolves
 * each service's profile and hands out ready clients; a service that is not configured at all is served by the
 * embedded local sandbox (a process of its own, shared by the kernels on its folder), joined on first use and
 * announced once ("using the local sandbox").
 * Secrets given to `login()` stay in memory only. The session also keeps the notebook's provenance log.
 */
import { readConfigFile, configFilePath, resolveProfile, type ResolvedProfile, type ServiceName, type SettingsOf } from "../clients/config";
import { registerSecret } from "../clients/http/redact";
import { setAmbientSignal } from "../clients/http/ambient-signal";
import { getBridge } from "../kernel/bridge";
import { RucioClient } from "../clients/rucio";
import { ReanaClient } from "../clients/reana";
import { ZenodoClient } from "../clients/zenodo";
import { ProvenanceLog } from "./provenance";
import type { SandboxHandle } from "../sandbox";

export type { ServiceName } from "../clients/config";

export interface ClientsOf {
  rucio: RucioClient;
  reana: ReanaClient;
  zenodo: ZenodoClient;
}

export type ProfileKind = "sandbox" | "real";

export interface ProfileInfo {
  /**
   * Profile name: a config.json profile, "environment" (environment variables), "rucio.cfg (PATH)", "login"
   * (credentials given to this kernel), or "sandbox" (the embedded sandbox, and only it).
   */
  name: string;
  service: ServiceName;
  active: boolean;
  kind: ProfileKind;
  /** Where the service is reached (no credentials in it). */
  endpoint: string;
  /** Where the endpoint comes from, e.g. "config.json (~/.config/vre-ts/config.json)", "environment (RUCIO_HOST)". */
  source: string;
}

export interface ActiveSettings<K extends ServiceName> {
  settings: SettingsOf[K];
  kind: ProfileKind;
  /** "sandbox", a config.json profile name, "environment", "rucio.cfg (PATH)" or "login" (see ProfileInfo.name). */
  profile: string;
  /** Where the endpoint comes from (see ProfileInfo.source). */
  source: string;
}

const SERVICES: ServiceName[] = ["rucio", "reana", "zenodo"];

const ENDPOINT_KEY: Record<ServiceName, string> = { rucio: "host", reana: "serverUrl", zenodo: "baseUrl" };

/**
 * Names a resolved profile by where its endpoint comes from, so that a label never claims more than it knows: the
 * config.json profile, rucio.cfg with its path, the environment variable, or a login in this kernel.
 */
export function describeProfile(service: ServiceName, resolved: ResolvedProfile<unknown>, configPath: string): { name: string; source: string } {
  const sources = resolved.sources as Record<string, string | undefined>;
  // Zenodo's endpoint may be the default (zenodo.org) with only the token configured: name it by the token's origin.
  const from = sources[ENDPOINT_KEY[service]] ?? (service === "zenodo" ? sources.token : undefined) ?? "";
  if (from.startsWith("config.json:")) return { name: resolved.profile ?? from.slice("config.json:".length), source: `config.json (${configPath})` };
  if (from.startsWith("rucio.cfg:")) {
    const path = from.slice("rucio.cfg:".length);
    return { name: `rucio.cfg (${path})`, source: `rucio.cfg (${path})` };
  }
  if (from.startsWith("env:")) return { name: "environment", source: `environment (${from.slice(4)})` };
  if (from === "explicit") return { name: "login", source: "credentials given to this kernel (%vre login)" };
  if (resolved.profile) return { name: resolved.profile, source: `config.json (${configPath})` };
  return { name: "environment", source: "environment" };
}

/** Settings that point at a local sandbox (the embedded one, or `vre-ts sandbox` reached through a profile). */
function isSandboxSettings(service: ServiceName, settings: unknown): boolean {
  const s = settings as { sandbox?: boolean; local?: boolean } | undefined;
  return service === "zenodo" ? s?.local === true : s?.sandbox === true;
}

function endpointOf(service: ServiceName, settings: SettingsOf[ServiceName] | undefined): string {
  if (!settings) return "";
  if (service === "rucio") return (settings as SettingsOf["rucio"]).host;
  if (service === "reana") return (settings as SettingsOf["reana"]).serverUrl;
  return (settings as SettingsOf["zenodo"]).baseUrl;
}

export interface SessionOptions {
  /** Folder of the embedded sandbox (default: $VRE_SANDBOX_DIR, else ~/.local/share/vre-ts/sandbox). */
  sandboxDir?: string;
  /** Environment to resolve profiles from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Where the one-time sandbox notice goes (default: console.log, i.e. the running cell). */
  notice?: (message: string) => void;
}

export class Session {
  /** The notebook's provenance: its record file next to the notebook (when known) is loaded and continued. */
  readonly provenance: ProvenanceLog;
  private profileName: string | undefined;
  /** `%vre use sandbox`: every service goes to the embedded sandbox, whatever is configured. */
  private forceSandbox = false;
  private readonly logins: { [K in ServiceName]?: Partial<SettingsOf[K]> } = {};
  private readonly clients = new Map<ServiceName, Promise<ClientsOf[ServiceName]>>();
  private sandboxStart: Promise<SandboxHandle> | undefined;
  private announced = false;

  constructor(private readonly options: SessionOptions = {}) {
    this.provenance = new ProvenanceLog({ env: options.env });
  }

  private get env(): NodeJS.ProcessEnv {
    return this.options.env ?? process.env;
  }

  /** The profile each service would use now, resolved from options, env, rucio.cfg and config.json. */
  resolved<K extends ServiceName>(service: K): ResolvedProfile<SettingsOf[K]> {
    return resolveProfile(service, {
      env: this.env,
      profile: this.profileName,
      explicit: this.logins[service] as Partial<SettingsOf[K]> | undefined,
    });
  }

  /** The settings the service's client uses: the configured profile, or the embedded sandbox's. */
  async settings<K extends ServiceName>(service: K): Promise<ActiveSettings<K>> {
    const resolved = this.resolved(service);
    if (!this.forceSandbox && resolved.configured && resolved.settings) {
      const { name, source } = describeProfile(service, resolved, configFilePath(this.env));
      return { settings: resolved.settings, kind: isSandboxSettings(service, resolved.settings) ? "sandbox" : "real", profile: name, source };
    }
    const sandbox = await this.sandbox();
    const settings = { ...(sandbox.profiles[service] as unknown as SettingsOf[K]), ...(this.logins[service] ?? {}) };
    return { settings, kind: "sandbox", profile: "sandbox", source: "embedded sandbox" };
  }

  /** Opens (once) the embedded sandbox, seeded with the demo dataset. */
  sandbox(): Promise<SandboxHandle> {
    if (!this.sandboxStart) {
      this.sandboxStart = (async () => {
        const { openSandbox, defaultSandboxDir } = await import("../sandbox");
        const dataDir = this.options.sandboxDir ?? this.env.VRE_SANDBOX_DIR ?? defaultSandboxDir(this.env);
        // Joins the sandbox serving this folder (another kernel's, `vre-ts sandbox`), else starts it as a process of
        // its own that outlives this kernel; if it dies, it is started again and clients are made anew.
        const sandbox = await openSandbox({ dataDir, seed: true, keepAlive: true, onRestart: () => this.clients.clear() });
        for (const service of SERVICES) {
          const p = sandbox.profiles[service] as unknown as Record<string, unknown>;
          for (const key of ["password", "token", "accessToken"]) if (typeof p[key] === "string") registerSecret(p[key] as string);
        }
        return sandbox;
      })();
      this.sandboxStart.catch(() => {
        this.sandboxStart = undefined;
      });
    }
    return this.sandboxStart.then((sandbox) => {
      this.sandboxReady = sandbox;
      if (!this.announced) {
        this.announced = true;
        const unconfigured = SERVICES.filter((s) => this.forceSandbox || !this.resolved(s).configured);
        (this.options.notice ?? console.log)(
          `vre-ts: using the local sandbox for ${unconfigured.join(", ")} at ${sandbox.url} (data in ${sandbox.dataDir}); ` +
            `configure a real service with environment variables, rucio.cfg or %vre use PROFILE.`,
        );
      }
      return sandbox;
    });
  }

  private client<K extends ServiceName>(service: K, make: (s: SettingsOf[K]) => ClientsOf[K]): Promise<ClientsOf[K]> {
    let c = this.clients.get(service) as Promise<ClientsOf[K]> | undefined;
    if (!c) {
      c = this.settings(service).then(({ settings }) => make(settings));
      this.clients.set(service, c);
      c.catch(() => this.clients.delete(service));
    }
    return c;
  }

  rucio(): Promise<RucioClient> {
    return this.client("rucio", (s) => new RucioClient(s));
  }

  reana(): Promise<ReanaClient> {
    return this.client("reana", (s) => new ReanaClient(s));
  }

  zenodo(): Promise<ZenodoClient> {
    return this.client("zenodo", (s) => new ZenodoClient(s));
  }

  /** Every profile known for each service, with the active one marked. */
  profiles(): ProfileInfo[] {
    const out: ProfileInfo[] = [];
    let stored: Record<string, Partial<Record<ServiceName, unknown>>> = {};
    try {
      stored = readConfigFile(configFilePath(this.env)).profiles as typeof stored;
    } catch {
      // an unreadable config.json is reported by resolveProfile's own error when used
    }
    const configPath = configFilePath(this.env);
    for (const service of SERVICES) {
      const resolved = this.resolved(service);
      const rows: ProfileInfo[] = [];
      // What the configuration says, active unless `%vre use sandbox` sent everything to the sandbox.
      if (resolved.configured && resolved.settings) {
        const { name, source } = describeProfile(service, resolved, configPath);
        const settings = resolved.settings as SettingsOf[ServiceName];
        rows.push({ name, service, active: !this.forceSandbox, kind: isSandboxSettings(service, settings) ? "sandbox" : "real", endpoint: endpointOf(service, settings), source });
      }
      for (const [name, profile] of Object.entries(stored)) {
        const settings = profile[service] as SettingsOf[ServiceName] | undefined;
        if (!settings || rows.some((r) => r.name === name)) continue;
        rows.push({ name, service, active: false, kind: isSandboxSettings(service, settings) ? "sandbox" : "real", endpoint: endpointOf(service, settings), source: `config.json (${configPath})` });
      }
      // The embedded sandbox: its own endpoint, never a configured one.
      rows.push({ name: "sandbox", service, active: this.forceSandbox || !resolved.configured, kind: "sandbox", endpoint: this.sandboxUrl(service), source: "embedded sandbox" });
      out.push(...rows);
    }
    return out;
  }

  private sandboxUrl(service: ServiceName): string {
    return this.sandboxReady ? endpointOf(service, this.sandboxReady.profiles[service] as unknown as SettingsOf[ServiceName]) : "(started on first use)";
  }

  private sandboxReady: SandboxHandle | undefined;

  /**
   * Switches every service to a named config.json profile; "sandbox" sends every service to the embedded sandbox
   * and "default" goes back to what the environment and config files say. Clients are recreated on next use.
   */
  use(profile: string): void {
    this.forceSandbox = profile === "sandbox";
    if (profile === "sandbox" || profile === "default") this.profileName = undefined;
    else {
      // resolveProfile throws a ConfigError naming the known profiles when this one does not exist
      for (const service of SERVICES) resolveProfile(service, { env: this.env, profile });
      this.profileName = profile;
    }
    this.clients.clear();
  }

  /** Uses the given credentials for a service from now on (kept in memory only, masked everywhere). */
  async login<K extends ServiceName>(service: K, secrets: Partial<SettingsOf[K]>): Promise<void> {
    for (const value of Object.values(secrets)) if (typeof value === "string") registerSecret(value);
    // Credentials without an endpoint are for the service in use now (e.g. a token for the sandbox's Zenodo),
    // not for the production default that an endpoint-less profile would otherwise resolve to.
    const endpointKey = service === "rucio" ? "host" : service === "reana" ? "serverUrl" : "baseUrl";
    const pinned: Record<string, unknown> = {};
    if ((secrets as Record<string, unknown>)[endpointKey] === undefined && !this.logins[service]) {
      const { settings } = await this.settings(service);
      Object.assign(pinned, settings);
    }
    this.logins[service] = { ...pinned, ...(this.logins[service] ?? {}), ...secrets } as Partial<SettingsOf[K]>;
    this.clients.delete(service);
  }

  /** Leaves the embedded sandbox (it stops by itself once no kernel has used it for a while). */
  async close(): Promise<void> {
    const sandbox = this.sandboxStart;
    this.sandboxStart = undefined;
    this.clients.clear();
    if (sandbox) await (await sandbox).close();
  }
}

const SESSION = Symbol.for("vre-ts.session");

/** The process-wide session (created on first use). */
export function session(): Session {
  const g = globalThis as unknown as Record<symbol, Session | undefined>;
  if (!g[SESSION]) {
    g[SESSION] = new Session();
    // In a kernel, an interrupt cancels the running cell's requests even when the code passed no signal.
    setAmbientSignal(() => getBridge()?.currentSignal());
  }
  return g[SESSION];
}
