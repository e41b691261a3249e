/**
 * Rucio authentication chain. In order (unless `authType` pins one method):
 *   1. a token given in the settings (explicit, RUCIO_ACCESS_TOKEN or BEARER_TOKEN): a Rucio token or an IdP
 *      JWT used as-is (the VRE way); a JWT's expiry comes from its `exp` claim (read, not verified);
 *   2. a token file (auth_token_file_path, BEARER_TOKEN_FILE, $XDG_RUNTIME_DIR/bt_u$UID), re-read when the
 *      cached token is rejected or expires, since the hub refreshes it in place;
 *   3. userpass: GET {authHost}/auth/userpass with X-Rucio-Username/-Password; the token is cached until
 *      X-Rucio-Auth-Token-Expires minus a margin;
 *   4. x509: GET {authHost}/auth/x509 (or x509_proxy) over TLS with the client certificate.
 * When the server rejects a token (401 CannotAuthenticate) the base client calls `invalidate()` and asks
 * again: renewable methods fetch a new token, a fixed token falls through to the next method.
 */
import { readFileSync, statSync } from "node:fs";
import type { RucioSettings } from "../config/types";
import { ClientError, ConfigError } from "../errors";
import type { HttpClient } from "../http/client";
import type { Logger } from "../http/log";
import { registerSecret } from "../http/redact";
import { RucioError } from "./errors";
import { parseRucioDate } from "./schemas";

export type AuthMethod = "token" | "token-file" | "userpass" | "x509";

export interface RucioToken {
  value: string;
  /** Epoch ms when the server stops accepting it, if known. */
  expiresAt?: number;
  method: AuthMethod;
  /** Epoch ms when we got it. */
  obtainedAt?: number;
}

export interface AuthOptions {
  /** Renew this long before expiry. Default 5 min. */
  marginMs?: number;
  appId?: string;
  now?: () => number;
  log?: Logger;
}

/** Reads the `exp` claim of a JWT (no signature check: the server does that). */
export function jwtExpiry(token: string): number | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8")) as { exp?: unknown };
    return typeof payload.exp === "number" ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

export function isJwt(token: string): boolean {
  return /^eyJ[\w-]+\.[\w-]+\.[\w-]*$/.test(token);
}

export class RucioAuth {
  private cached?: RucioToken;
  private inflight?: Promise<RucioToken>;
  /** Fixed-token methods whose token the server rejected. */
  private readonly exhausted = new Set<AuthMethod>();
  private readonly marginMs: number;
  private readonly now: () => number;
  private fileStamp?: string;

  constructor(
    private readonly settings: RucioSettings,
    private readonly http: HttpClient,
    private readonly authBase: string,
    private readonly opts: AuthOptions = {},
  ) {
    this.marginMs = opts.marginMs ?? 5 * 60_000;
    this.now = opts.now ?? Date.now;
    registerSecret(settings.password);
    registerSecret(settings.token);
  }

  /** The methods available from the settings, in the order they are tried. */
  methods(): AuthMethod[] {
    const s = this.settings;
    const all: AuthMethod[] = [];
    if (s.token) all.push("token");
    if (s.tokenFile) all.push("token-file");
    if (s.username && s.password) all.push("userpass");
    if (s.clientCert) all.push("x509");
    if (s.authType === "userpass" && all.includes("userpass")) return ["userpass"];
    if ((s.authType === "x509" || s.authType === "x509_proxy") && all.includes("x509")) return ["x509"];
    return all;
  }

  /** The method of the current token, if any. */
  get current(): AuthMethod | undefined {
    return this.cached?.method;
  }

  /** A valid token, obtained or renewed as needed (concurrent callers share one login). */
  async token(signal?: AbortSignal): Promise<string> {
    const c = this.cached;
    if (c && !this.isStale(c)) return c.value;
    this.inflight ??= this.obtain(signal).finally(() => {
      this.inflight = undefined;
    });
    const t = await this.inflight;
    this.cached = t;
    return t.value;
  }

  /** Whether asking again after a rejection can give a different token. */
  canRenew(): boolean {
    const m = this.cached?.method;
    const rest = this.methods().filter((x) => !this.exhausted.has(x) && x !== m);
    return m === "userpass" || m === "x509" || m === "token-file" || rest.length > 0;
  }

  /** Drops a token the server rejected. */
  invalidate(value: string): void {
    if (this.cached?.value !== value) return;
    if (this.cached.method === "token") this.exhausted.add("token");
    if (this.cached.method === "token-file") this.exhausted.add("token-file");
    this.cached = undefined;
  }

  private isStale(t: RucioToken): boolean {
    if (t.method === "token-file" && this.settings.tokenFile && this.stamp(this.settings.tokenFile) !== this.fileStamp) return true;
    if (t.expiresAt === undefined) return false;
    const left = t.expiresAt - this.now();
    // Renewable tokens are renewed `marginMs` early (at most a quarter of their lifetime early);
    // fixed tokens are used until 30 s before they expire.
    const lifetime = t.expiresAt - (t.obtainedAt ?? this.now());
    const margin = t.method === "userpass" || t.method === "x509" ? Math.min(this.marginMs, lifetime / 4) : 30_000;
    return left <= margin;
  }

  private stamp(path: string): string | undefined {
    try {
      const st = statSync(path);
      return `${st.mtimeMs}:${st.size}`;
    } catch {
      return undefined;
    }
  }

  private async obtain(signal?: AbortSignal): Promise<RucioToken> {
    const methods = this.methods();
    if (methods.length === 0) {
      throw new RucioError({
        code: "RUCIO_AUTH",
        message: "No Rucio credentials are configured.",
        hint: "Set a token (RUCIO_ACCESS_TOKEN or a token file), username/password, or an x509 certificate in your profile or rucio.cfg.",
      });
    }
    let lastError: ClientError | undefined;
    for (const m of methods) {
      if (this.exhausted.has(m)) {
        // A fixed token the server rejected: only a changed file can help.
        if (m === "token-file" && this.settings.tokenFile && this.stamp(this.settings.tokenFile) !== this.fileStamp) {
          this.exhausted.delete(m);
        } else continue;
      }
      try {
        if (m === "token") return this.fixedToken(this.settings.token!, "token");
        if (m === "token-file") return this.fileToken(this.settings.tokenFile!);
        if (m === "userpass") return await this.userpass(signal);
        return await this.x509(signal);
      } catch (e) {
        if (!(e instanceof ClientError)) throw e;
        // Network failures and aborts are not credential problems: do not mask them by trying the next method.
        if (!/^(RUCIO_TOKEN_EXPIRED|CONFIG_)/.test(e.code)) throw e;
        lastError = e;
        this.opts.log?.("info", `Rucio auth method ${m} unusable: ${e.message}`);
      }
    }
    throw (
      lastError ??
      new RucioError({
        code: "RUCIO_AUTH",
        message: "The Rucio server rejected the configured token and no other credentials are configured.",
        hint: "Get a fresh token (in the VRE: restart your server from the hub), or add username/password or a certificate to your profile.",
      })
    );
  }

  private fixedToken(value: string, method: AuthMethod): RucioToken {
    const v = value.trim();
    registerSecret(v);
    const exp = isJwt(v) ? jwtExpiry(v) : undefined;
    if (exp !== undefined && exp <= this.now()) {
      throw new RucioError({
        code: "RUCIO_TOKEN_EXPIRED",
        message: `The Rucio access token (${method === "token-file" ? "from the token file" : "from the settings"}) expired at ${new Date(exp).toISOString()}.`,
        hint: "Get a fresh token (in the VRE: restart your server from the hub, or refresh the token file), then run the command again.",
      });
    }
    return { value: v, expiresAt: exp, method, obtainedAt: this.now() };
  }

  private fileToken(path: string): RucioToken {
    let text: string;
    const stamp = this.stamp(path);
    try {
      text = readFileSync(path, "utf8");
    } catch (e) {
      throw new ConfigError({
        code: "CONFIG_MISSING",
        message: `Cannot read the Rucio token file ${path}: ${(e as NodeJS.ErrnoException).code ?? "error"}.`,
        hint: "Check auth_token_file_path / BEARER_TOKEN_FILE, or refresh the token.",
        cause: e,
      });
    }
    const value = text.trim().split(/\s+/)[0] ?? "";
    if (!value) {
      throw new ConfigError({ code: "CONFIG_MISSING", message: `The Rucio token file ${path} is empty.`, hint: "Refresh the token." });
    }
    const t = this.fixedToken(value, "token-file");
    this.fileStamp = stamp;
    return t;
  }

  private commonHeaders(): Record<string, string | undefined> {
    return {
      "x-rucio-account": this.settings.account,
      "x-rucio-vo": this.settings.vo,
      "x-rucio-appid": this.opts.appId ?? "vre-ts",
    };
  }

  private async fromResponse(
    method: AuthMethod,
    what: string,
    send: () => Promise<import("../http/response").HttpResponse>,
  ): Promise<RucioToken> {
    const res = await send();
    await res.dump();
    if (res.status === 206) {
      const accounts = res.header("x-rucio-auth-accounts") ?? "";
      throw new RucioError({
        code: "RUCIO_ACCOUNT_AMBIGUOUS",
        status: 206,
        message: `Your identity maps to several Rucio accounts (${accounts}); Rucio needs to know which one to use.`,
        hint: "Set `account` in your profile (or RUCIO_ACCOUNT).",
      });
    }
    const value = res.header("x-rucio-auth-token");
    if (!value) {
      throw new RucioError({
        code: "HTTP_MALFORMED_RESPONSE",
        status: res.status,
        message: `The Rucio auth server answered ${what} without an X-Rucio-Auth-Token header.`,
        hint: "Check auth_host in your profile: it must point at the Rucio auth server.",
      });
    }
    registerSecret(value);
    const expHeader = res.header("x-rucio-auth-token-expires");
    // Expiry relative to the server's own clock (its Date header), so a skewed local clock does not matter.
    let exp = expHeader ? parseRucioDate(expHeader)?.getTime() : undefined;
    const serverNow = res.header("date") ? Date.parse(res.header("date")!) : NaN;
    if (exp !== undefined && !Number.isNaN(serverNow)) exp = this.now() + (exp - serverNow);
    this.opts.log?.("debug", `Rucio ${method} login ok, token valid until ${exp ? new Date(exp).toISOString() : "unknown"}`);
    return { value, expiresAt: exp, method, obtainedAt: this.now() };
  }

  private async userpass(signal?: AbortSignal): Promise<RucioToken> {
    return this.fromResponse("userpass", "userpass login", () =>
      this.http.send({
        method: "GET",
        path: `${this.authBase}auth/userpass`,
        what: "log in with username and password",
        signal,
        expectStatus: [200, 206],
        headers: {
          ...this.commonHeaders(),
          "x-rucio-username": this.settings.username,
          "x-rucio-password": this.settings.password,
        },
      }),
    );
  }

  private async x509(signal?: AbortSignal): Promise<RucioToken> {
    const proxy = this.settings.authType === "x509_proxy";
    return this.fromResponse("x509", "x509 login", () =>
      this.http.send({
        method: "GET",
        path: `${this.authBase}auth/${proxy ? "x509_proxy" : "x509"}`,
        what: "log in with an x509 certificate",
        signal,
        expectStatus: [200, 206],
        headers: { ...this.commonHeaders(), "x-rucio-allow-return-multiple-accounts": "true" },
      }),
    );
  }
}
