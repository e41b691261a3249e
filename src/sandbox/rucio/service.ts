import { promises as fs } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as path from "node:path";
import type { ServiceContext, ServiceHandler } from "../service";
import { Catalog, hashPath, type FileInput, type RuleInput } from "./catalog";
import { badRequest, cannotAuthenticate, invalidObject, RucioError } from "./errors";
import { filtersFromQuery, parseFilters, type FilterSet } from "./filters";
import {
  bodyBool,
  checkAccept,
  COMMON_HEADERS,
  NO_CACHE,
  queryBool,
  readJson,
  readJsonObject,
  requireParam,
  sendBare,
  sendCompactJson,
  sendCreated,
  sendError,
  sendJson,
  sendMethodNotAllowed,
  sendNotFoundPage,
  sendOk,
  sendStream,
} from "./http";
import { didKey, type DidRecord, type MetaValue } from "./model";
import { pfnFor, protocolsOf } from "./protocols";
import { rfc1123 } from "./pyjson";
import { RseStorage, sweepPartials } from "./storage";
import { TransferEngine, type TransferOptions } from "./transfers";
import {
  accountView,
  contentView,
  didView,
  fileView,
  lockView,
  metaColumnsView,
  ruleView,
  rseInfoView,
  rseListView,
  searchLongView,
} from "./views";

const JSON_T = ["application/json"];
const STREAM_T = ["application/x-json-stream"];
const RUCIO_VERSION = "35.8.0";

type Handler = (req: IncomingMessage, res: ServerResponse, m: string[], url: URL, account: string) => Promise<void>;
interface Route {
  pattern: RegExp;
  methods: Partial<Record<string, Handler>>;
  /** Routes reachable without a token. */
  public?: boolean;
}

export interface RucioServiceOptions extends TransferOptions {}

/** The Rucio REST API of the sandbox (mounted at `/rucio`) and its RSE data plane (`/rucio-storage`). */
export class RucioService implements ServiceHandler {
  readonly catalog: Catalog;
  readonly transfers: TransferEngine;
  readonly storage: RseStorage;
  private readonly routes: Route[];
  private cleaner: NodeJS.Timeout | null = null;

  constructor(
    private readonly ctx: ServiceContext,
    options: RucioServiceOptions = {},
  ) {
    this.catalog = new Catalog(ctx.dataDir);
    this.transfers = new TransferEngine(this.catalog, { log: ctx.log, ...options });
    this.storage = new RseStorage(this.catalog);
    this.routes = this.buildRoutes();
  }

  /** Loads the catalogue, removes partial files of interrupted uploads/transfers and resumes pending transfers. */
  async start(): Promise<void> {
    await fs.mkdir(this.ctx.dataDir, { recursive: true });
    await this.catalog.load();
    const removed = await sweepPartials(path.join(this.ctx.dataDir, "rse"));
    if (removed.length > 0) this.ctx.log(`removed ${removed.length} incomplete file(s) left by an interrupted upload or transfer`);
    const pending = this.catalog.pendingTransfers();
    if (pending.length > 0) this.ctx.log(`resuming ${pending.length} transfer(s) of replication rules interrupted by the last shutdown`);
    this.transfers.kick();
    this.cleaner = setInterval(() => {
      this.cleanExpired().catch((err: unknown) => this.ctx.log(`rule cleaner: ${(err as Error).message}`));
    }, 30_000);
    this.cleaner.unref();
  }

  async close(): Promise<void> {
    if (this.cleaner) clearInterval(this.cleaner);
    await this.transfers.close();
  }

  private get baseUrl(): URL {
    return new URL(this.ctx.baseUrl);
  }

  private async cleanExpired(): Promise<void> {
    const purge = this.catalog.expireRules();
    if (purge.length === 0) return;
    await this.catalog.commit();
    for (const p of purge) await fs.rm(path.join(this.catalog.rseFolder(p.rse), p.path), { force: true });
  }

  /** Commits the catalogue, then lets the transfer engine look for new work. */
  private async commit(): Promise<void> {
    await this.catalog.commit();
    this.transfers.kick();
  }

  async handle(req: IncomingMessage, res: ServerResponse, pathname: string, url: URL): Promise<void> {
    try {
      for (const route of this.routes) {
        const match = route.pattern.exec(pathname);
        if (!match) continue;
        const method = req.method === "HEAD" ? "GET" : (req.method ?? "GET");
        const handler = route.methods[method];
        if (!handler) {
          if (method === "OPTIONS") {
            res.writeHead(200, { ...COMMON_HEADERS, Allow: Object.keys(route.methods).join(", ") });
            res.end();
            return;
          }
          sendMethodNotAllowed(res, Object.keys(route.methods).flatMap((m) => (m === "GET" ? ["GET", "HEAD"] : [m])));
          return;
        }
        let groups: string[];
        try {
          groups = match.slice(1).map((g) => (g === undefined ? "" : decodeURIComponent(g)));
        } catch {
          throw badRequest("ValueError", "malformed percent-encoding in the URL path");
        }
        let account = "";
        if (!route.public) account = this.catalog.validateToken(header(req, "x-rucio-auth-token")).account;
        await handler(req, res, groups, url, account);
        return;
      }
      sendNotFoundPage(res);
    } catch (err) {
      if (err instanceof RucioError) sendError(res, err);
      else {
        this.ctx.log(`rucio: internal error on ${req.method} ${pathname}: ${(err as Error).stack ?? err}`);
        if (!res.headersSent) sendBare(res, 500, "");
        else res.destroy();
      }
    }
  }

  private buildRoutes(): Route[] {
    const r = (pattern: RegExp, methods: Route["methods"], isPublic = false): Route => ({ pattern, methods, public: isPublic });
    const DID = "([^/]+)/(.+)";
    return [
      r(/^\/ping\/?$/, { GET: async (req, res) => (checkAccept(req, JSON_T), sendJson(res, { version: RUCIO_VERSION })) }, true),
      r(/^\/auth\/userpass\/?$/, { GET: (req, res) => this.authUserpass(req, res) }, true),
      r(/^\/auth\/validate\/?$/, { GET: (req, res) => this.authValidate(req, res) }, true),
      r(/^\/auth\/(x509|x509_proxy|x509\/webui|oidc|oidc_token|oidc_code|oidc_redirect|oidc_refresh|ssh|ssh_challenge_token|gss|saml)\/?$/, {
        GET: async (_req, _res, [flow]) => {
          throw cannotAuthenticate(`Cannot authenticate with ${flow}: the vre-ts sandbox supports userpass only (see the credentials file of its data folder)`);
        },
      }, true),
      // accounts
      r(/^\/accounts\/whoami\/?$/, { GET: (req, res, _m, _u, account) => this.whoami(req, res, account) }),
      r(/^\/accounts\/([^/]+)\/scopes\/?$/, { GET: (req, res, [a]) => this.accountScopes(req, res, a!) }),
      r(/^\/accounts\/([^/]+)\/limits\/?$/, { GET: (req, res, [a]) => this.accountLimits(req, res, a!) }),
      r(/^\/accounts\/([^/]+)\/limits\/local\/([^/]+)\/?$/, { GET: (req, res, [a, rse]) => this.accountLimits(req, res, a!, rse) }),
      r(/^\/accounts\/([^/]+)\/rules\/?$/, { GET: (req, res, [a], url) => this.listRules(req, res, url, { account: a }) }),
      r(/^\/accounts\/([^/]+)\/usage\/local\/?([^/]*)\/?$/, { GET: (req, res, [a, rse]) => this.accountUsage(req, res, a!, rse || undefined) }),
      r(/^\/accounts\/([^/]+)\/identities\/?$/, { POST: (req, res, [a], _u, issuer) => this.addIdentity(req, res, a!, issuer) }),
      r(/^\/accounts\/([^/]+)\/?$/, {
        GET: async (req, res, [a]) => (checkAccept(req, JSON_T), sendJson(res, accountView(this.catalog.account(a!)))),
        POST: (req, res, [a], _u, issuer) => this.addAccount(req, res, a!, issuer),
      }),
      r(/^\/accountlimits\/local\/([^/]+)\/([^/]+)\/?$/, {
        POST: async (req, res, [a, rse], _u, issuer) => {
          const body = await readJsonObject(req);
          this.catalog.setAccountLimit(issuer, a!, rse!, Number(requireParam(body, "bytes")));
          await this.commit();
          sendCreated(res);
        },
        DELETE: async (_req, res, [a, rse], _u, issuer) => {
          this.catalog.requireAdmin(issuer, "delete account limits");
          delete this.catalog.doc.limits[a!]?.[rse!];
          await this.commit();
          sendOk(res);
        },
      }),
      // scopes
      r(/^\/scopes\/?$/, { GET: async (req, res) => (checkAccept(req, JSON_T), sendCompactJson(res, Object.keys(this.catalog.doc.scopes).sort())) }),
      r(/^\/scopes\/([^/]+)\/([^/]+)\/?$/, {
        POST: async (_req, res, [a, s], _u, issuer) => {
          this.catalog.addScope(issuer, a!, s!);
          await this.commit();
          sendCreated(res);
        },
      }),
      // RSEs
      r(/^\/rses\/?$/, { GET: (req, res, _m, url) => this.listRses(req, res, url) }),
      r(/^\/rses\/([^/]+)\/attr\/?$/, { GET: async (req, res, [rse]) => (checkAccept(req, JSON_T), sendCompactJson(res, this.catalog.rseAttributes(this.catalog.rse(rse!)))) }),
      r(/^\/rses\/([^/]+)\/attr\/([^/]+)\/?$/, {
        POST: async (req, res, [rse, key], _u, issuer) => {
          const body = await readJsonObject(req);
          const value = requireParam<string | number | boolean>(body, "value");
          this.catalog.setRseAttribute(issuer, rse!, key!, value);
          await this.commit();
          sendCreated(res);
        },
        DELETE: async (_req, res, [rse, key], _u, issuer) => {
          this.catalog.deleteRseAttribute(issuer, rse!, key!);
          await this.commit();
          sendOk(res);
        },
      }),
      r(/^\/rses\/([^/]+)\/protocols\/?$/, {
        GET: async (req, res, [rse]) => {
          checkAccept(req, JSON_T);
          const rec = this.catalog.rse(rse!);
          sendCompactJson(res, protocolsOf(rec, this.catalog.rseFolder(rec.rse), this.baseUrl).map(sortKeys));
        },
      }),
      r(/^\/rses\/([^/]+)\/protocols\/([^/]+)\/?$/, { POST: (req, res, [rse, scheme], _u, issuer) => this.addProtocol(req, res, rse!, scheme!, issuer) }),
      r(/^\/rses\/([^/]+)\/usage\/?$/, { GET: (req, res, [rse]) => this.rseUsage(req, res, rse!) }),
      r(/^\/rses\/([^/]+)\/lfns2pfns\/?$/, { GET: (req, res, [rse], url) => this.lfns2pfns(req, res, rse!, url) }),
      r(/^\/rses\/([^/]+)\/?$/, {
        GET: async (req, res, [rse]) => {
          checkAccept(req, JSON_T);
          const rec = this.catalog.rse(rse!);
          sendJson(res, rseInfoView(rec, protocolsOf(rec, this.catalog.rseFolder(rec.rse), this.baseUrl)));
        },
        POST: async (req, res, [rse], _u, issuer) => {
          const body = await readJsonObject(req, { optional: true });
          this.catalog.addRse(issuer, rse!, body);
          await fs.mkdir(this.catalog.rseFolder(rse!), { recursive: true });
          await this.commit();
          sendCreated(res);
        },
      }),
      // DIDs
      r(/^\/dids\/attachments\/?$/, { POST: (req, res, _m, _u, issuer) => this.attachments(req, res, issuer) }),
      r(/^\/dids\/?$/, { POST: (req, res, _m, _u, issuer) => this.addDidsBulk(req, res, issuer) }),
      r(/^\/dids\/([^/]+)\/dids\/search\/?$/, { GET: (req, res, [scope], url) => this.search(req, res, scope!, url) }),
      r(/^\/dids\/([^/]+)\/?$/, { GET: (req, res, [scope], url) => this.scopeList(req, res, scope!, url) }),
      r(new RegExp(`^/dids/${DID}/dids$`), {
        GET: async (req, res, [s, n]) => {
          checkAccept(req, STREAM_T);
          const d = this.catalog.did(s!, n!);
          await sendStream(res, this.catalog.content(d).map(contentView));
        },
        POST: async (req, res, [s, n], _u, issuer) => {
          const body = await readJsonObject(req);
          const dids = requireParam<FileInput[]>(body, "dids");
          this.catalog.attach(issuer, s!, n!, dids, { rse: body.rse as string | undefined, ignoreDuplicate: bodyBool(body.ignore_duplicate) });
          await this.commit();
          sendCreated(res);
        },
        DELETE: async (req, res, [s, n], _u, issuer) => {
          const body = await readJsonObject(req);
          this.catalog.detach(issuer, s!, n!, requireParam(body, "dids"));
          await this.commit();
          sendOk(res);
        },
      }),
      r(new RegExp(`^/dids/${DID}/files$`), {
        GET: async (req, res, [s, n], url) => {
          checkAccept(req, STREAM_T);
          const long = queryBool(url, "long");
          await sendStream(res, this.catalog.filesOf(this.catalog.did(s!, n!)).map((f) => fileView(f, long)));
        },
      }),
      r(new RegExp(`^/dids/${DID}/parents$`), {
        GET: async (req, res, [s, n]) => {
          checkAccept(req, STREAM_T);
          await sendStream(res, this.catalog.parents(this.catalog.did(s!, n!)).map((p) => ({ scope: p.scope, name: p.name, type: p.type })));
        },
      }),
      r(new RegExp(`^/dids/${DID}/status$`), {
        PUT: async (req, res, [s, n], _u, issuer) => {
          const body = await readJsonObject(req);
          if (!("open" in body)) throw badRequest("ValueError", "The only accepted status is 'open'");
          this.catalog.setStatus(issuer, s!, n!, bodyBool(body.open));
          await this.commit();
          sendOk(res);
        },
      }),
      r(new RegExp(`^/dids/${DID}/meta/([^/]+)$`), {
        POST: async (req, res, [s, n, key], _u, issuer) => {
          const body = await readJsonObject(req);
          const value = requireParam<MetaValue>(body, "value");
          this.catalog.setMetadata(issuer, s!, n!, { [key!]: value }, bodyBool(body.recursive));
          await this.commit();
          sendCreated(res);
        },
      }),
      r(new RegExp(`^/dids/${DID}/meta$`), {
        GET: (req, res, [s, n], url) => this.getMeta(req, res, s!, n!, url),
        POST: async (req, res, [s, n], _u, issuer) => {
          const body = await readJsonObject(req);
          const meta = requireParam<Record<string, MetaValue>>(body, "meta");
          if (meta === null || typeof meta !== "object" || Array.isArray(meta)) throw badRequest("ValueError", "meta must be a dictionary");
          this.catalog.setMetadata(issuer, s!, n!, meta, bodyBool(body.recursive));
          await this.commit();
          sendCreated(res);
        },
        DELETE: async (_req, res, [s, n], url, issuer) => {
          const key = url.searchParams.get("key");
          if (!key) throw badRequest("KeyError", "'key' not defined");
          this.catalog.deleteMetadata(issuer, s!, n!, key);
          await this.commit();
          sendOk(res);
        },
      }),
      r(new RegExp(`^/dids/${DID}/rules$`), {
        GET: async (req, res, [s, n]) => {
          checkAccept(req, STREAM_T);
          const d = this.catalog.did(s!, n!);
          await sendStream(res, this.catalog.rulesFor({ scope: d.scope, name: d.name }).map((x) => ruleView(x, true)));
        },
      }),
      r(new RegExp(`^/dids/${DID}/associated_rules$`), {
        GET: async (req, res, [s, n]) => {
          checkAccept(req, STREAM_T);
          await sendStream(res, this.catalog.associatedRules(this.catalog.did(s!, n!)).map((x) => ruleView(x, true)));
        },
      }),
      r(new RegExp(`^/dids/${DID}$`), {
        GET: async (req, res, [s, n], url) => {
          checkAccept(req, JSON_T);
          const d = this.catalog.did(s!, n!);
          sendJson(res, didView(this.catalog, d, url.searchParams.has("dynamic_depth") || queryBool(url, "dynamic")));
        },
        POST: (req, res, [s, n], _u, issuer) => this.addDid(req, res, s!, n!, issuer),
      }),
      // replicas
      r(/^\/replicas\/list\/?$/, { POST: (req, res, _m, url) => this.listReplicasPost(req, res, url) }),
      r(/^\/replicas\/?$/, {
        POST: (req, res, _m, _u, issuer) => this.addReplicas(req, res, issuer),
        PUT: (req, res, _m, _u, issuer) => this.updateReplicas(req, res, issuer),
        DELETE: (req, res, _m, _u, issuer) => this.deleteReplicas(req, res, issuer),
      }),
      r(new RegExp(`^/replicas/${DID}/datasets$`), {
        GET: async (req, res, [s, n]) => {
          checkAccept(req, STREAM_T);
          this.catalog.did(s!, n!);
          // Dataset replicas are filled by the abacus daemons, which a bare server (and the sandbox) does not run.
          await sendStream(res, []);
        },
      }),
      r(new RegExp(`^/replicas/${DID}$`), { GET: (req, res, [s, n], url) => this.listReplicasGet(req, res, s!, n!, url) }),
      // rules
      r(/^\/rules\/?$/, {
        POST: (req, res, _m, _u, issuer) => this.addRule(req, res, issuer),
        GET: (req, res, _m, url) => this.listRules(req, res, url, {}),
      }),
      r(/^\/rules\/([^/]+)\/locks\/?$/, {
        GET: async (req, res, [id]) => {
          checkAccept(req, STREAM_T);
          const rule = this.catalog.rule(id!);
          await sendStream(res, rule.locks.map((l) => lockView(this.catalog, rule, l)));
        },
      }),
      r(/^\/rules\/([^/]+)\/analysis\/?$/, {
        GET: async (req, res, [id]) => {
          checkAccept(req, JSON_T);
          const rule = this.catalog.rule(id!);
          const stuck = rule.locks.filter((l) => l.state === "STUCK");
          sendJson(res, {
            rule_error: rule.error,
            transfers: Object.fromEntries(stuck.map((l) => [`${l.scope}:${l.name}`, { scope: l.scope, name: l.name, rse: l.rse, last_error: l.error ?? null }])),
          });
        },
      }),
      r(/^\/rules\/([^/]+)\/?$/, {
        GET: async (req, res, [id]) => (checkAccept(req, JSON_T), sendJson(res, ruleView(this.catalog.rule(id!), false))),
        PUT: async (req, res, [id], _u, issuer) => {
          const body = await readJsonObject(req);
          const options = requireParam<Record<string, unknown>>(body, "options");
          this.catalog.updateRule(issuer, id!, options ?? {});
          await this.commit();
          sendOk(res);
        },
        DELETE: async (req, res, [id], _u, issuer) => {
          const body = await readJsonObject(req, { optional: true });
          this.catalog.deleteRule(issuer, id!, body.purge_replicas === undefined ? undefined : bodyBool(body.purge_replicas));
          await this.commit();
          sendOk(res);
        },
      }),
    ];
  }

  // ----- auth --------------------------------------------------------------------------------------------------

  private async authUserpass(req: IncomingMessage, res: ServerResponse): Promise<void> {
    checkAccept(req, ["application/octet-stream"]);
    const username = header(req, "x-rucio-username");
    const password = header(req, "x-rucio-password");
    const account = header(req, "x-rucio-account") || undefined;
    const appId = (header(req, "x-rucio-appid") || "unknown").replace(/[^A-Za-z0-9_.]/g, "") || "unknown";
    if (!username || !password) throw cannotAuthenticate(`Cannot authenticate to account ${account ?? "None"} with given credentials`);
    const result = this.catalog.authenticate(username, password, account, appId);
    const headers: Record<string, string | number> = {
      ...COMMON_HEADERS,
      "Access-Control-Expose-Headers": "X-Rucio-Auth-Token, X-Rucio-Auth-Token-Expires, X-Rucio-Auth-Account, X-Rucio-Auth-Accounts",
      "Content-Type": "application/octet-stream",
      "Cache-Control": "no-cache, no-store, max-age=0, must-revalidate",
      Pragma: "no-cache",
    };
    if ("accounts" in result) {
      const body = JSON.stringify(result.accounts);
      res.writeHead(206, { ...headers, "X-Rucio-Auth-Accounts": result.accounts.join(","), "Content-Length": Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    await this.catalog.commit();
    res.writeHead(200, {
      ...headers,
      "X-Rucio-Auth-Account": result.account,
      "X-Rucio-Auth-Token": result.token,
      "X-Rucio-Auth-Token-Expires": rfc1123(result.expires)!,
      "Content-Length": 0,
    });
    res.end();
  }

  private async authValidate(req: IncomingMessage, res: ServerResponse): Promise<void> {
    checkAccept(req, ["application/octet-stream"]);
    const rec = this.catalog.validateToken(header(req, "x-rucio-auth-token"));
    const d = new Date(rec.expires);
    const lifetime = `datetime.datetime(${d.getUTCFullYear()}, ${d.getUTCMonth() + 1}, ${d.getUTCDate()}, ${d.getUTCHours()}, ${d.getUTCMinutes()}, ${d.getUTCSeconds()}, ${d.getUTCMilliseconds() * 1000})`;
    // Rucio answers with the repr of a Python dict here, not JSON.
    const body = `{'account': '${rec.account}', 'identity': '${rec.identity}', 'lifetime': ${lifetime}, 'audience': None, 'authz_scope': None, 'vo': 'def'}`;
    res.writeHead(200, {
      ...COMMON_HEADERS,
      "Access-Control-Expose-Headers": "X-Rucio-Auth-Token",
      "Content-Type": "application/octet-stream",
      "Cache-Control": "no-cache, no-store, max-age=0, must-revalidate",
      Pragma: "no-cache",
      "Content-Length": Buffer.byteLength(body),
    });
    res.end(body);
  }

  // ----- accounts ----------------------------------------------------------------------------------------------

  private async whoami(req: IncomingMessage, res: ServerResponse, account: string): Promise<void> {
    checkAccept(req, JSON_T);
    const body = `<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n<p>You should be redirected automatically to the target URL: <a href="${account}">${account}</a>. If not, click the link.\n`;
    res.writeHead(303, { ...COMMON_HEADERS, ...NO_CACHE, "Content-Type": "text/html; charset=utf-8", "Content-Length": Buffer.byteLength(body), Location: account });
    res.end(body);
  }

  private async addAccount(req: IncomingMessage, res: ServerResponse, account: string, issuer: string): Promise<void> {
    const body = await readJsonObject(req);
    this.catalog.addAccount(issuer, account, String(requireParam(body, "type")), (body.email as string | undefined) ?? null);
    await this.commit();
    sendCreated(res);
  }

  private async addIdentity(req: IncomingMessage, res: ServerResponse, account: string, issuer: string): Promise<void> {
    const body = await readJsonObject(req);
    const authtype = String(requireParam(body, "authtype")).toUpperCase();
    if (authtype !== "USERPASS") throw new RucioError(400, "UnsupportedOperation", `The sandbox supports USERPASS identities only, not ${authtype}`);
    const password = body.password;
    if (typeof password !== "string" || password === "") throw badRequest("ValueError", "A password is required for USERPASS identities");
    this.catalog.addUserpassIdentity(issuer, account, String(requireParam(body, "identity")), password, (body.email as string | undefined) ?? null);
    await this.commit();
    sendCreated(res);
  }

  private async accountScopes(req: IncomingMessage, res: ServerResponse, account: string): Promise<void> {
    checkAccept(req, JSON_T);
    this.catalog.account(account);
    const scopes = Object.values(this.catalog.doc.scopes).filter((s) => s.account === account).map((s) => s.scope).sort();
    if (scopes.length === 0) throw new RucioError(404, "ScopeNotFound", `no scopes found for account ID '${account}'`);
    sendCompactJson(res, scopes);
  }

  private async accountLimits(req: IncomingMessage, res: ServerResponse, account: string, rse?: string): Promise<void> {
    checkAccept(req, JSON_T);
    this.catalog.account(account);
    const limits = this.catalog.doc.limits[account] ?? {};
    if (rse !== undefined) {
      this.catalog.rse(rse);
      sendJson(res, { [rse]: limits[rse] ?? null });
      return;
    }
    sendJson(res, limits);
  }

  private async accountUsage(req: IncomingMessage, res: ServerResponse, account: string, rse?: string): Promise<void> {
    checkAccept(req, STREAM_T);
    this.catalog.account(account);
    const usage = this.catalog.accountUsage(account);
    const limits = this.catalog.doc.limits[account] ?? {};
    const rses = rse ? [this.catalog.rse(rse).rse] : [...new Set([...Object.keys(limits), ...usage.keys()])].sort();
    await sendStream(
      res,
      rses.map((name) => {
        const u = usage.get(name) ?? { bytes: 0, files: 0 };
        const limit = limits[name] ?? 0;
        return { rse_id: this.catalog.doc.rses[name]?.id ?? null, rse: name, bytes: u.bytes, files: u.files, bytes_limit: limit, bytes_remaining: limit - u.bytes };
      }),
    );
  }

  // ----- RSEs --------------------------------------------------------------------------------------------------

  private async listRses(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    checkAccept(req, STREAM_T);
    const expression = url.searchParams.get("expression");
    if (expression) {
      const names = this.catalog.resolveRseExpression(expression);
      await sendStream(res, names.map((rse) => ({ rse })));
      return;
    }
    const all = Object.values(this.catalog.doc.rses).sort((a, b) => (a.rse < b.rse ? -1 : 1));
    await sendStream(res, all.map(rseListView));
  }

  private async addProtocol(req: IncomingMessage, res: ServerResponse, rse: string, scheme: string, issuer: string): Promise<void> {
    this.catalog.requireAdmin(issuer, "add protocols to RSE");
    const rec = this.catalog.rse(rse);
    const body = await readJsonObject(req);
    if (rec.extra_protocols.some((p) => p.scheme === scheme && p.hostname === body.hostname && p.port === body.port)) {
      throw new RucioError(409, "Duplicate", `Protocol '${scheme}' on port ${String(body.port)} already registered for  '${rse}' with hostname '${String(body.hostname)}'.`);
    }
    rec.extra_protocols.push({
      scheme,
      hostname: String(body.hostname ?? "localhost"),
      port: Number(body.port ?? 0),
      prefix: String(body.prefix ?? ""),
      impl: String(body.impl ?? ""),
      domains: (body.domains as Record<string, Record<string, number>>) ?? {},
      extended_attributes: (body.extended_attributes as MetaValue) ?? null,
    });
    await this.commit();
    sendCreated(res);
  }

  private async rseUsage(req: IncomingMessage, res: ServerResponse, rse: string): Promise<void> {
    checkAccept(req, STREAM_T);
    const rec = this.catalog.rse(rse);
    const used = this.catalog.rseUsage(rse);
    const folder = this.catalog.rseFolder(rse);
    let total = 0;
    let free = 0;
    try {
      await fs.mkdir(folder, { recursive: true });
      const st = await fs.statfs(folder);
      total = st.blocks * st.bsize;
      free = st.bavail * st.bsize;
    } catch {
      // statfs unavailable: report the catalogue view only
    }
    const now = rfc1123(Date.now());
    await sendStream(res, [
      { rse_id: rec.id, rse, source: "rucio", used: used.bytes, free: null, total: null, files: used.files, updated_at: now },
      { rse_id: rec.id, rse, source: "storage", used: total - free, free, total, files: null, updated_at: now },
    ]);
  }

  private async lfns2pfns(req: IncomingMessage, res: ServerResponse, rse: string, url: URL): Promise<void> {
    checkAccept(req, JSON_T);
    const rec = this.catalog.rse(rse);
    const lfns = [...url.searchParams.getAll("lfns"), ...url.searchParams.getAll("lfn")];
    if (lfns.length === 0) throw badRequest("InvalidPath", "LFNs are required (lfns=scope:name)");
    const scheme = url.searchParams.get("scheme");
    const operation = url.searchParams.get("operation") ?? "write";
    const domain = url.searchParams.get("domain") ?? "wan";
    const protos = protocolsOf(rec, this.catalog.rseFolder(rse), this.baseUrl)
      .filter((p) => (scheme ? p.scheme === scheme : true) && (p.domains[domain]?.[operation] ?? 0) > 0)
      .sort((a, b) => (a.domains[domain]![operation] ?? 99) - (b.domains[domain]![operation] ?? 99));
    const proto = protos[0];
    if (!proto) throw new RucioError(500, "RSEProtocolNotSupported", `RSE ${rse} does not support the requested protocol ${scheme ?? ""} for ${operation} in domain ${domain}`);
    const out: Record<string, string> = {};
    for (const lfn of lfns) {
      const i = lfn.indexOf(":");
      if (i <= 0) throw badRequest("InvalidPath", `LFN '${lfn}' is not of the form scope:name`);
      const scope = lfn.slice(0, i);
      const name = lfn.slice(i + 1);
      const rel = this.catalog.replicasOf(scope, name)[rse]?.path ?? hashPath(scope, name);
      out[lfn] = pfnFor(proto, rel);
    }
    sendJson(res, out);
  }

  // ----- DIDs --------------------------------------------------------------------------------------------------

  private async search(req: IncomingMessage, res: ServerResponse, scope: string, url: URL): Promise<void> {
    checkAccept(req, STREAM_T);
    this.catalog.scope(scope);
    const type = url.searchParams.get("type") ?? "collection";
    const long = queryBool(url, "long");
    const recursive = queryBool(url, "recursive");
    const limitRaw = url.searchParams.get("limit");
    const limit = limitRaw ? Number(limitRaw) : undefined;
    let filters: FilterSet;
    const filterText = url.searchParams.get("filters");
    if (filterText) filters = parseFilters(filterText);
    else {
      const legacy = filtersFromQuery(url.searchParams, new Set(["type", "long", "recursive", "limit", "filters"]));
      filters = legacy.length > 0 ? [legacy] : [];
    }
    const found = this.catalog.search(scope, type, filters, { recursive, limit });
    await sendStream(res, (function* () {
      for (const d of found) yield long ? searchLongView(d) : d.name;
    })());
  }

  private async scopeList(req: IncomingMessage, res: ServerResponse, scope: string, url: URL): Promise<void> {
    checkAccept(req, STREAM_T);
    this.catalog.scope(scope);
    const name = url.searchParams.get("name");
    const recursive = queryBool(url, "recursive");
    const all = Object.values(this.catalog.doc.dids).filter((d) => d.scope === scope).sort((a, b) => (a.name < b.name ? -1 : 1));
    const roots = name ? all.filter((d) => d.name === name) : all.filter((d) => this.catalog.parents(d).length === 0);
    if (name && roots.length === 0) throw new RucioError(404, "DataIdentifierNotFound", `Data identifier '${scope}:${name}' not found`);
    const catalog = this.catalog;
    await sendStream(res, (function* () {
      const walk = function* (d: DidRecord, parent: DidRecord | null, level: number): Generator<unknown> {
        yield { scope: d.scope, name: d.name, type: d.type, parent: parent ? { scope: parent.scope, name: parent.name } : null, level, bytes: d.bytes };
        if (recursive) for (const c of catalog.content(d)) yield* walk(c, d, level + 1);
      };
      for (const r of roots) yield* walk(r, null, 0);
    })());
  }

  private async addDid(req: IncomingMessage, res: ServerResponse, scope: string, name: string, issuer: string): Promise<void> {
    const body = await readJsonObject(req);
    this.createCollection(issuer, { ...body, scope, name });
    await this.commit();
    sendCreated(res);
  }

  private createCollection(issuer: string, body: Record<string, unknown>): void {
    const scope = String(body.scope);
    const name = String(body.name);
    const type = String(requireParam(body, "type"));
    const meta = (body.meta as Record<string, MetaValue> | undefined) ?? {};
    const statuses = (body.statuses as Record<string, unknown> | undefined) ?? {};
    this.catalog.addCollection(issuer, scope, name, type, { meta, lifetime: (body.lifetime as number | null | undefined) ?? null });
    if (Array.isArray(body.dids) && body.dids.length > 0) this.catalog.attach(issuer, scope, name, body.dids as FileInput[], { rse: body.rse as string | undefined });
    if (statuses.monotonic !== undefined) this.catalog.did(scope, name).monotonic = bodyBool(statuses.monotonic);
    if (Array.isArray(body.rules)) {
      for (const rule of body.rules as Record<string, unknown>[]) this.catalog.addRule(issuer, { ...(rule as unknown as RuleInput), dids: [{ scope, name }] });
    }
    if (statuses.open === false) this.catalog.setStatus(issuer, scope, name, false);
  }

  private async addDidsBulk(req: IncomingMessage, res: ServerResponse, issuer: string): Promise<void> {
    const body = await readJson(req);
    if (!Array.isArray(body)) throw invalidObject("Problem validating dids: the body must be a list of DIDs");
    for (const item of body as Record<string, unknown>[]) {
      if (!item || typeof item.scope !== "string" || typeof item.name !== "string") throw invalidObject("Problem validating dids: 'scope' and 'name' are required");
      this.createCollection(issuer, item);
    }
    await this.commit();
    sendCreated(res);
  }

  private async attachments(req: IncomingMessage, res: ServerResponse, issuer: string): Promise<void> {
    const body = await readJsonObject(req);
    const list = requireParam<unknown>(body, "attachments");
    if (!Array.isArray(list)) throw invalidObject("Problem validating attachments: attachments is not of type 'array'");
    for (const a of list as Record<string, unknown>[]) {
      if (!Array.isArray(a?.dids) || a.dids.length === 0) {
        throw invalidObject(`Problem validating attachments: ${JSON.stringify(a?.dids ?? null)} is too short\n\nFailed validating 'minItems' in schema['items']['properties']['dids']:\n    {'description': 'Array of Data Identifiers(DIDs)', 'minItems': 1, 'maxItems': 1000, 'type': 'array'}\n\nOn instance[0]['dids']:\n    []`);
      }
    }
    for (const a of list as { scope: string; name: string; dids: FileInput[]; rse?: string }[]) {
      this.catalog.attach(issuer, a.scope, a.name, a.dids, { rse: a.rse, ignoreDuplicate: bodyBool(body.ignore_duplicate) });
    }
    await this.commit();
    sendCreated(res);
  }

  private async getMeta(req: IncomingMessage, res: ServerResponse, scope: string, name: string, url: URL): Promise<void> {
    checkAccept(req, JSON_T);
    const d = this.catalog.did(scope, name);
    const plugin = (url.searchParams.get("plugin") ?? "DID_COLUMN").toUpperCase();
    if (plugin === "DID_COLUMN") sendJson(res, metaColumnsView(this.catalog, d));
    else if (plugin === "JSON") sendJson(res, d.meta);
    else if (plugin === "ALL") sendJson(res, { ...metaColumnsView(this.catalog, d), ...d.meta });
    else throw new RucioError(400, "InvalidMetadata", `Metadata plugin ${plugin} does not exist`);
  }

  // ----- replicas ----------------------------------------------------------------------------------------------

  private async addReplicas(req: IncomingMessage, res: ServerResponse, issuer: string): Promise<void> {
    const body = await readJsonObject(req);
    const rse = String(requireParam(body, "rse"));
    const files = requireParam<FileInput[]>(body, "files");
    if (!Array.isArray(files)) throw invalidObject("Problem validating files: must be a list");
    this.catalog.addReplicas(issuer, rse, files, { ignoreAvailability: bodyBool(body.ignore_availability) });
    await this.commit();
    sendCreated(res);
  }

  private async updateReplicas(req: IncomingMessage, res: ServerResponse, issuer: string): Promise<void> {
    const body = await readJsonObject(req);
    const rse = String(requireParam(body, "rse"));
    const files = requireParam<{ scope: string; name: string; state?: string }[]>(body, "files");
    if (!Array.isArray(files)) throw invalidObject("Problem validating files: must be a list");
    this.catalog.updateReplicaStates(issuer, rse, files);
    await this.commit();
    sendOk(res);
  }

  private async deleteReplicas(req: IncomingMessage, res: ServerResponse, issuer: string): Promise<void> {
    const body = await readJsonObject(req);
    const rse = String(requireParam(body, "rse"));
    const files = requireParam<{ scope: string; name: string }[]>(body, "files");
    const paths = this.catalog.deleteReplicas(issuer, rse, files);
    await this.commit();
    for (const p of paths) await fs.rm(path.join(this.catalog.rseFolder(rse), p), { force: true });
    sendOk(res);
  }

  private async listReplicasPost(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const type = checkAccept(req, ["application/x-json-stream", "application/metalink4+xml"]);
    const body = await readJsonObject(req);
    const dids = requireParam<{ scope: string; name: string }[]>(body, "dids");
    if (!Array.isArray(dids)) throw invalidObject("Problem validating dids: must be a list");
    await this.sendReplicas(res, type, dids, {
      schemes: Array.isArray(body.schemes) ? (body.schemes as string[]) : undefined,
      rseExpression: typeof body.rse_expression === "string" ? body.rse_expression : undefined,
      allStates: bodyBool(body.all_states),
      limit: url.searchParams.get("limit") ? Number(url.searchParams.get("limit")) : undefined,
    });
  }

  private async listReplicasGet(req: IncomingMessage, res: ServerResponse, scope: string, name: string, url: URL): Promise<void> {
    const type = checkAccept(req, ["application/x-json-stream", "application/metalink4+xml"]);
    const schemes = url.searchParams.getAll("schemes").flatMap((s) => s.split(",")).filter(Boolean);
    await this.sendReplicas(res, type, [{ scope, name }], {
      schemes: schemes.length > 0 ? schemes : undefined,
      rseExpression: url.searchParams.get("rse_expression") ?? undefined,
      allStates: queryBool(url, "all_states"),
      limit: url.searchParams.get("limit") ? Number(url.searchParams.get("limit")) : undefined,
    });
  }

  private async sendReplicas(
    res: ServerResponse,
    type: string,
    dids: { scope: string; name: string }[],
    opts: { schemes?: string[]; rseExpression?: string; allStates: boolean; limit?: number },
  ): Promise<void> {
    const allowedRses = opts.rseExpression ? new Set(this.catalog.resolveRseExpression(opts.rseExpression)) : undefined;
    const files: DidRecord[] = [];
    const seen = new Set<string>();
    for (const ref of dids) {
      const d = this.catalog.findDid(String(ref.scope), String(ref.name));
      // Unknown DIDs give an empty 200, not a 404, as on the real server.
      if (!d) continue;
      for (const f of this.catalog.filesOf(d)) {
        const k = didKey(f.scope, f.name);
        if (!seen.has(k)) {
          seen.add(k);
          files.push(f);
        }
      }
    }
    const base = this.baseUrl;
    const readProtocols = new Map<string, ReturnType<typeof protocolsOf>>();
    const items = files
      .map((f) => {
        const reps = Object.entries(this.catalog.replicasOf(f.scope, f.name))
          .filter(([rse, r]) => (opts.allStates || r.state === "AVAILABLE") && (!allowedRses || allowedRses.has(rse)) && this.catalog.doc.rses[rse])
          .sort(([a, ra], [b, rb]) => Number(rb.state === "AVAILABLE") - Number(ra.state === "AVAILABLE") || (a < b ? -1 : 1));
        const pfns: Record<string, unknown> = {};
        const rses: Record<string, string[]> = {};
        const states: Record<string, string> = {};
        let priority = 0;
        for (const [rse, rep] of reps) {
          const rec = this.catalog.doc.rses[rse]!;
          let protos = readProtocols.get(rse);
          if (!protos) {
            protos = protocolsOf(rec, this.catalog.rseFolder(rse), base)
              .filter((p) => (p.domains.wan?.read ?? 0) > 0 && (!opts.schemes || opts.schemes.includes(p.scheme)))
              .sort((a, b) => a.domains.wan!.read! - b.domains.wan!.read!);
            readProtocols.set(rse, protos);
          }
          const list = protos.slice(0, opts.limit && opts.limit > 0 ? opts.limit : undefined).map((p) => pfnFor(p, rep.path));
          if (list.length === 0) continue;
          for (const pfn of list) {
            pfns[pfn] = { rse_id: rec.id, rse, type: rec.rse_type, volatile: rec.volatile, domain: "wan", priority: ++priority, client_extract: false };
          }
          rses[rse] = list;
          states[rse] = rep.state;
        }
        return { scope: f.scope, name: f.name, bytes: f.bytes, md5: f.md5, adler32: f.adler32, pfns, rses, states };
      })
      .filter((x) => Object.keys(x.rses).length > 0);
    if (type === "application/metalink4+xml") {
      res.writeHead(200, { ...COMMON_HEADERS, "Content-Type": "application/metalink4+xml" });
      res.write('<?xml version="1.0" encoding="UTF-8"?>\n<metalink xmlns="urn:ietf:params:xml:ns:metalink">\n');
      for (const it of items) {
        res.write(` <file name="${xml(it.name)}">\n  <identity>${xml(`${it.scope}:${it.name}`)}</identity>\n`);
        if (it.adler32) res.write(`  <hash type="adler32">${it.adler32}</hash>\n`);
        if (it.md5) res.write(`  <hash type="md5">${it.md5}</hash>\n`);
        res.write(`  <size>${it.bytes}</size>\n  <glfn name="/sandbox/rucio/${xml(`${it.scope}:${it.name}`)}"></glfn>\n`);
        for (const [pfn, info] of Object.entries(it.pfns) as [string, { rse: string; priority: number }][]) {
          res.write(`  <url location="${xml(info.rse)}" domain="wan" priority="${info.priority}" client_extract="false">${xml(pfn)}</url>\n`);
        }
        res.write(" </file>\n");
      }
      res.end("</metalink>\n");
      return;
    }
    await sendStream(res, items, { noCache: false });
  }

  // ----- rules -------------------------------------------------------------------------------------------------

  private async addRule(req: IncomingMessage, res: ServerResponse, issuer: string): Promise<void> {
    const body = await readJsonObject(req);
    for (const key of ["dids", "account", "copies", "rse_expression"]) requireParam(body, key);
    const ids = this.catalog.addRule(issuer, {
      ...(body as unknown as RuleInput),
      copies: Number(body.copies),
      lifetime: body.lifetime === undefined || body.lifetime === null ? null : Number(body.lifetime),
      locked: bodyBool(body.locked),
      purge_replicas: bodyBool(body.purge_replicas),
      ignore_availability: bodyBool(body.ignore_availability),
    });
    await this.commit();
    // Rucio sends this JSON list with a text/html content type.
    const text = JSON.stringify(ids);
    res.writeHead(201, { ...COMMON_HEADERS, "Content-Type": "text/html; charset=utf-8", "Content-Length": Buffer.byteLength(text) });
    res.end(text);
  }

  private async listRules(req: IncomingMessage, res: ServerResponse, url: URL, fixed: { account?: string }): Promise<void> {
    checkAccept(req, STREAM_T);
    if (fixed.account) this.catalog.account(fixed.account);
    const filter: Record<string, string | undefined> = {};
    for (const key of ["scope", "name", "account", "state", "rse_expression", "did_type", "id"]) {
      const v = url.searchParams.get(key);
      if (v !== null) filter[key] = v;
    }
    Object.assign(filter, fixed);
    await sendStream(res, this.catalog.rulesFor(filter).map((x) => ruleView(x, true)));
  }
}

function header(req: IncomingMessage, name: string): string {
  const v = req.headers[name];
  return Array.isArray(v) ? (v[0] ?? "") : (v ?? "");
}

function sortKeys<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1))) as T;
}

function xml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!);
}
