import { mkdtempSync, mkdirSync, statSync, writeFileSync, chmodSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { clearSecrets, redact } from "../http/redact";
import { parseIni } from "./ini";
import { resolveAll, resolveProfile } from "./resolve";
import { configFilePath, readConfigFile, saveProfile } from "./store";

afterEach(() => clearSecrets());

function tmp(): string {
  return mkdtempSync(join(tmpdir(), "vre-ts-config-"));
}

const VRE_CFG = `[common]
logdir = /var/log/rucio

[client]
rucio_host = https://vre-rucio.cern.ch
auth_host = https://vre-rucio-auth.cern.ch
ca_cert = /certs/rucio_ca.pem
account = jdoe
auth_type = oidc
auth_token_file_path = %(tmp)s/rucio_oauth.token
tmp = /tmp
request_retries = 3
`;

describe("rucio.cfg", () => {
  it("reads configparser syntax: sections, ':' separators, continuation lines, interpolation", () => {
    const ini = parseIni("[DEFAULT]\nbase = /opt\n[client]\nKey: value\npath = %(base)s/etc\nmulti = a\n  b\n# comment\npct = 100%%\n");
    expect(ini.client).toEqual({ base: "/opt", key: "value", path: "/opt/etc", multi: "a\nb", pct: "100%" });
  });

  it("maps the VRE's rucio.cfg onto the settings (token file, CA, separate auth host)", () => {
    const dir = tmp();
    writeFileSync(join(dir, "rucio.cfg"), VRE_CFG);
    const r = resolveProfile("rucio", { env: { RUCIO_CONFIG: join(dir, "rucio.cfg"), HOME: dir }, uid: 99999 });
    expect(r.configured).toBe(true);
    expect(r.settings).toMatchObject({
      host: "https://vre-rucio.cern.ch",
      authHost: "https://vre-rucio-auth.cern.ch",
      caCert: "/certs/rucio_ca.pem",
      account: "jdoe",
      authType: "oidc",
      tokenFile: "/tmp/rucio_oauth.token",
    });
    expect(r.sources.host).toBe(`rucio.cfg:${join(dir, "rucio.cfg")}`);
    expect(r.missing).toEqual([]);
  });

  it("finds $RUCIO_HOME/etc/rucio.cfg; a RUCIO_CONFIG pointing nowhere is a clear error", () => {
    const dir = tmp();
    mkdirSync(join(dir, "etc"));
    writeFileSync(join(dir, "etc", "rucio.cfg"), "[client]\nrucio_host = https://r.example\nusername = u\npassword = pw123456\n");
    const r = resolveProfile("rucio", { env: { RUCIO_HOME: dir, HOME: dir }, uid: 99999 });
    expect(r.settings?.host).toBe("https://r.example");
    expect(redact("pw123456")).toBe("***"); // resolved passwords are registered as secrets
    expect(() => resolveProfile("rucio", { env: { RUCIO_CONFIG: join(dir, "nope.cfg"), HOME: dir } })).toThrow(/RUCIO_CONFIG points to/);
  });
});

describe("precedence", () => {
  it("explicit > env > rucio.cfg > config.json default profile", () => {
    const dir = tmp();
    writeFileSync(join(dir, "rucio.cfg"), "[client]\nrucio_host = https://from-cfg\naccount = cfg\nvo = cfgvo\n");
    const cfgPath = join(dir, "config.json");
    saveProfile("lab", { rucio: { host: "https://from-json", account: "json", vo: "jsonvo", destinationRse: "JSON-RSE" } }, { path: cfgPath });
    const env = { RUCIO_CONFIG: join(dir, "rucio.cfg"), RUCIO_ACCOUNT: "envacct", HOME: dir };
    const r = resolveProfile("rucio", { env, configPath: cfgPath, explicit: { vo: "explicitvo" }, uid: 99999 });
    expect(r.settings).toMatchObject({ host: "https://from-cfg", account: "envacct", vo: "explicitvo", destinationRse: "JSON-RSE" });
    expect(r.sources).toMatchObject({ host: expect.stringMatching(/^rucio.cfg:/), account: "env:RUCIO_ACCOUNT", vo: "explicit", destinationRse: "config.json:lab" });
  });

  it("a profile named explicitly ranks above the environment and rucio.cfg", () => {
    const dir = tmp();
    const cfgPath = join(dir, "config.json");
    saveProfile("a", { rucio: { host: "https://a" } }, { path: cfgPath });
    saveProfile("b", { rucio: { host: "https://b" } }, { path: cfgPath });
    const env = { RUCIO_HOST: "https://env", HOME: dir };
    expect(resolveProfile("rucio", { env, configPath: cfgPath, uid: 1 }).settings?.host).toBe("https://env");
    expect(resolveProfile("rucio", { env, configPath: cfgPath, profile: "b", uid: 1 }).settings?.host).toBe("https://b");
    expect(() => resolveProfile("rucio", { env, configPath: cfgPath, profile: "zzz" })).toThrow(
      expect.objectContaining({ code: "CONFIG_MISSING", hint: "Known profiles: a, b." }),
    );
  });
});

describe("tokens and other services", () => {
  it("uses RUCIO_ACCESS_TOKEN first, then WLCG discovery (BEARER_TOKEN, BEARER_TOKEN_FILE, $XDG_RUNTIME_DIR/bt_u$UID)", () => {
    const dir = tmp();
    const base = { RUCIO_HOST: "https://r", HOME: dir };
    expect(resolveProfile("rucio", { env: { ...base, RUCIO_ACCESS_TOKEN: "tok-a-123", BEARER_TOKEN: "bt" }, noFiles: true }).sources.token).toBe("env:RUCIO_ACCESS_TOKEN");
    expect(resolveProfile("rucio", { env: { ...base, BEARER_TOKEN: "bt-1234" }, noFiles: true }).settings?.token).toBe("bt-1234");
    expect(resolveProfile("rucio", { env: { ...base, BEARER_TOKEN_FILE: "/x/t" }, noFiles: true }).settings?.tokenFile).toBe("/x/t");
    writeFileSync(join(dir, "bt_u4242"), "eyJ.x.y");
    const r = resolveProfile("rucio", { env: { ...base, XDG_RUNTIME_DIR: dir }, noFiles: true, uid: 4242 });
    expect(r.settings?.tokenFile).toBe(join(dir, "bt_u4242"));
    expect(r.sources.tokenFile).toBe("wlcg:$XDG_RUNTIME_DIR/bt_u$UID");
    // Account falls back to the JupyterHub user, as in the VRE.
    expect(resolveProfile("rucio", { env: { ...base, JUPYTERHUB_USER: "jdoe", RUCIO_ACCESS_TOKEN: "t-12345" }, noFiles: true }).settings?.account).toBe("jdoe");
    expect(resolveProfile("rucio", { env: base, noFiles: true, uid: 4243 }).missing).toEqual(["credentials"]);
  });

  it("REANA from REANA_SERVER_URL / REANA_ACCESS_TOKEN", () => {
    const r = resolveProfile("reana", { env: { REANA_SERVER_URL: "https://reana.cern.ch", REANA_ACCESS_TOKEN: "rtok-9876" }, noFiles: true });
    expect(r.configured).toBe(true);
    expect(r.settings).toEqual({ serverUrl: "https://reana.cern.ch", accessToken: "rtok-9876" });
    expect(redact("x rtok-9876")).toBe("x ***");
    expect(resolveProfile("reana", { env: { REANA_SERVER_URL: "https://r" }, noFiles: true }).missing).toEqual(["accessToken"]);
  });

  it("Zenodo: production by default, ZENODO_SANDBOX switches URL and token, tokens never cross", () => {
    const prod = resolveProfile("zenodo", { env: { ZENODO_TOKEN: "ptok-1234", ZENODO_SANDBOX_TOKEN: "stok-1234" }, noFiles: true });
    expect(prod.settings).toEqual({ baseUrl: "https://zenodo.org/api", token: "ptok-1234", sandbox: false });
    const sb = resolveProfile("zenodo", { env: { ZENODO_SANDBOX: "1", ZENODO_TOKEN: "ptok-1234", ZENODO_SANDBOX_TOKEN: "stok-1234" }, noFiles: true });
    expect(sb.settings).toEqual({ baseUrl: "https://sandbox.zenodo.org/api", token: "stok-1234", sandbox: true });
    const noSbToken = resolveProfile("zenodo", { env: { ZENODO_SANDBOX: "true", ZENODO_TOKEN: "ptok-1234" }, noFiles: true });
    expect(noSbToken.configured).toBe(false);
    expect(noSbToken.settings?.token).toBeUndefined();
    expect(resolveProfile("zenodo", { env: { ZENODO_SANDBOX_TOKEN: "stok-1234" }, noFiles: true }).settings?.sandbox).toBe(true);
  });

  it("reports nothing configured on a bare machine (the session then starts the sandbox)", () => {
    const dir = tmp();
    const all = resolveAll({ env: { HOME: dir }, uid: 99999 });
    expect(all.anyConfigured).toBe(false);
    expect(all.rucio.settings).toBeUndefined();
    expect(all.reana.configured).toBe(false);
    expect(all.zenodo.configured).toBe(false);
  });
});

describe("config.json", () => {
  it("lives under $XDG_CONFIG_HOME, is written 0600 in a 0700 folder, and merges profiles", () => {
    const dir = tmp();
    const env = { XDG_CONFIG_HOME: join(dir, "xdg"), HOME: dir };
    expect(configFilePath(env)).toBe(join(dir, "xdg", "vre-ts", "config.json"));
    const p = saveProfile("escape", { rucio: { host: "https://r", token: "t-0000" } }, { env });
    saveProfile("escape", { zenodo: { baseUrl: "https://sandbox.zenodo.org/api", sandbox: true, token: "z-0000" } }, { env });
    expect(statSync(p).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "xdg", "vre-ts")).mode & 0o777).toBe(0o700);
    const cfg = readConfigFile(p);
    expect(cfg.default).toBe("escape");
    expect(cfg.profiles.escape.rucio?.host).toBe("https://r");
    expect(cfg.profiles.escape.zenodo?.sandbox).toBe(true);
  });

  it("warns when the file is readable by others, and rejects malformed files clearly", () => {
    const dir = tmp();
    const p = join(dir, "config.json");
    saveProfile("x", { reana: { serverUrl: "https://r" } }, { path: p });
    chmodSync(p, 0o644);
    expect(resolveProfile("reana", { configPath: p, env: {} }).warnings[0]).toMatch(/chmod 600/);
    writeFileSync(p, "{ not json");
    expect(() => readConfigFile(p)).toThrow(expect.objectContaining({ code: "CONFIG_INVALID" }));
    writeFileSync(p, JSON.stringify({ profiles: { x: { rucio: { host: 5 } } } }));
    expect(() => readConfigFile(p)).toThrow(/profiles.x.rucio.host/);
    expect(readFileSync(p, "utf8")).toContain("host");
  });
});
