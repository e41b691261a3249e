import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { hashPassword, type Catalog } from "./catalog";

/** Userpass secrets of the sandbox's Rucio accounts, kept in `<rucio dir>/secrets.json` (mode 0600). */
export interface RucioSecrets {
  demo: string;
  root: string;
}

export const SANDBOX_RSES = ["SANDBOX-DISK1", "SANDBOX-DISK2"] as const;
export const DEMO_ACCOUNT = "demo";
/** Quota of the demo account on each sandbox RSE. */
export const DEMO_LIMIT_BYTES = 20 * 1024 ** 3;

export function readOrCreateSecrets(dir: string): RucioSecrets {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "secrets.json");
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as Partial<RucioSecrets>;
    if (parsed.demo && parsed.root) return { demo: parsed.demo, root: parsed.root };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT" && !(err instanceof SyntaxError)) throw err;
  }
  const secrets = { demo: randomBytes(18).toString("base64url"), root: randomBytes(18).toString("base64url") };
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(secrets, null, 1), { mode: 0o600 });
  renameSync(tmp, file);
  return secrets;
}

/**
 * The fixed part of every sandbox: account `root` (admin) and `demo` (a user, with the scope `user.demo`), their
 * userpass identities, two disk RSEs backed by folders, and quota for `demo` on both so rules work. Idempotent;
 * returns whether anything changed.
 */
export function bootstrapCatalog(catalog: Catalog, secrets: RucioSecrets): boolean {
  const doc = catalog.doc;
  let changed = false;
  const now = Date.now();
  const ensureAccount = (account: string, type: "USER" | "SERVICE", admin: boolean, email: string) => {
    if (doc.accounts[account]) return;
    doc.accounts[account] = { account, account_type: type, email, status: "ACTIVE", admin, created_at: now, updated_at: now };
    changed = true;
  };
  ensureAccount("root", "SERVICE", true, "root@localhost");
  ensureAccount(DEMO_ACCOUNT, "USER", false, "demo@localhost");
  const ensureIdentity = (identity: string, account: string, password: string) => {
    const rec = doc.identities[identity];
    if (rec && rec.hash === hashPassword(password, rec.salt) && rec.accounts.includes(account)) return;
    const salt = randomBytes(16).toString("hex");
    doc.identities[identity] = { identity, authtype: "USERPASS", salt, hash: hashPassword(password, salt), email: `${identity}@localhost`, accounts: [account] };
    changed = true;
  };
  ensureIdentity("root", "root", secrets.root);
  ensureIdentity(DEMO_ACCOUNT, DEMO_ACCOUNT, secrets.demo);
  if (!doc.scopes[`user.${DEMO_ACCOUNT}`]) {
    doc.scopes[`user.${DEMO_ACCOUNT}`] = { scope: `user.${DEMO_ACCOUNT}`, account: DEMO_ACCOUNT, created_at: now };
    changed = true;
  }
  const sites: Record<string, { city: string; site: string }> = {
    "SANDBOX-DISK1": { city: "Geneva", site: "SANDBOX-CERN" },
    "SANDBOX-DISK2": { city: "Amsterdam", site: "SANDBOX-VRE" },
  };
  for (const rse of SANDBOX_RSES) {
    if (!doc.rses[rse]) {
      catalog.addRse("root", rse, { rse_type: "DISK", deterministic: true, volatile: false, city: sites[rse]!.city });
      const rec = catalog.rse(rse);
      rec.attributes = { site: sites[rse]!.site, tier: 2, type: "DATADISK", sandbox: true, fts: "none" };
      changed = true;
    }
    mkdirSync(catalog.rseFolder(rse), { recursive: true });
    const limits = (doc.limits[DEMO_ACCOUNT] ??= {});
    if (limits[rse] === undefined) {
      limits[rse] = DEMO_LIMIT_BYTES;
      changed = true;
    }
    const rootLimits = (doc.limits.root ??= {});
    if (rootLimits[rse] === undefined) {
      rootLimits[rse] = DEMO_LIMIT_BYTES;
      changed = true;
    }
  }
  return changed;
}
