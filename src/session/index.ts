/**
 * The notebook session: one per process (shared by every copy of the package through a global symbol). It resolves
 * each service's profile and hands out ready clients; a service that is not configured at all is served by the
 * embedded local sandbox, started in process on first use and announced once ("using the local sandbox").
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
  /** Profile name: a config.json profile, "environment" (env vars / rucio.cfg), or "sandbox". */
  name: string;
  service: ServiceName;
  active: boolean;
  kind: ProfileKind;
  /** Where the service is reached (no credentials in it). */
  endpoint: string;
}

export interface ActiveSettings<K extends ServiceName> {
  settings: SettingsOf[K];
  kind: ProfileKind;
  /** "sandbox", a config.json profile name, or "environment". */
  profile: string;
}

const SERVICES: ServiceName[] = ["rucio", "reana", "zenodo"];

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
      return { settings: resolved.settings, kind: "real", profile: resolved.profile ?? "environment" };
    }
    const sandbox = await this.sandbox();
    const settings = { ...(sandbox.profiles[service] as unknown as SettingsOf[K]), ...(this.logins[service] ?? {}) };
    return { settings, kind: "sandbox", profile: "sandbox" };
  }

  /** Opens (once) the embedded sandbox, seeded with the demo dataset. */
  sandbox(): Promise<SandboxHandle> {
    if (!this.sandboxStart) {
      this.sandboxStart = (async () => {
        const { openSandbox, defaultSandboxDir } = await import("../sandbox");
        const dataDir = this.options.sandboxDir ?? this.env.VRE_SANDBOX_DIR ?? defaultSandboxDir(this.env);
        // Reuses a sandbox already serving this folder (another kernel, `vre-ts sandbox`), else starts one here.
        const sandbox = await openSandbox({ dataDir, seed: true });
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
    for (const service of SERVICES) {
      const resolved = this.resolved(service);
      const activeName = !this.forceSandbox && resolved.configured ? (resolved.profile ?? "environment") : "sandbox";
      const names = new Set<string>([activeName, "sandbox"]);
      for (const [name, profile] of Object.entries(stored)) if (profile[service]) names.add(name);
      for (const name of names) {
        let endpoint = "";
        if (name === activeName && resolved.configured) endpoint = endpointOf(service, resolved.settings);
        else if (name === "sandbox") endpoint = this.sandboxUrl(service);
        else endpoint = endpointOf(service, stored[name]?.[service] as SettingsOf[ServiceName] | undefined);
        out.push({ name, service, active: name === activeName, kind: name === "sandbox" ? "sandbox" : "real", endpoint });
      }
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

  /** Stops the embedded sandbox if this process started it. */
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
