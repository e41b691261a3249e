/**
 * The one place where secrets are scrubbed. Every error message, hint, log line and printed URL of the
 * clients goes through `redact()`.
 *
 * Two mechanisms, both needed:
 *  - patterns: query parameters (access_token, token, password, ...), auth headers written as
 *    "Name: value", bearer tokens and JWT-shaped strings, credentials in URLs (user:pass@host);
 *  - a registry of the secret values loaded at runtime (tokens, passwords, Rucio auth tokens as they are
 *    issued), replaced by `***` wherever they appear, whatever the surrounding text looks like.
 */

export const MASK = "***";

const SECRET_QUERY_PARAMS = [
  "access_token",
  "token",
  "password",
  "passwd",
  "pwd",
  "secret",
  "client_secret",
  "refresh_token",
  "id_token",
  "api_key",
  "apikey",
  "key",
  "signature",
  "sig",
  "x-amz-signature",
  "x-amz-credential",
  "x-amz-security-token",
  "authz",
];

/** Header names whose values are always secret (lower case). */
export const SECRET_HEADERS = new Set([
  "authorization",
  "proxy-authorization",
  "x-rucio-auth-token",
  "x-rucio-password",
  "x-rucio-client-fetch-token",
  "cookie",
  "set-cookie",
  "x-access-token",
  "x-auth-token",
  "private-token",
]);

const secrets = new Set<string>();
let secretPattern: RegExp | undefined;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Registers a secret value loaded at runtime (token, password). From now on it is replaced by `***`
 * in everything that goes through `redact()`. Values shorter than 4 characters are not registered
 * (they would mask ordinary words); such passwords are still removed by the header/query patterns.
 */
export function registerSecret(value: string | undefined | null): void {
  if (!value) return;
  const v = value.trim();
  if (v.length < 4 || secrets.has(v)) return;
  secrets.add(v);
  // URL-encoded forms travel in query strings and error messages quoting URLs.
  const enc = encodeURIComponent(v);
  if (enc !== v) secrets.add(enc);
  // Longest first, so a token containing another secret is masked whole. A short value (a password such as
  // "reset") is masked only as a whole word, so it does not eat parts of other words ("resetting").
  const all = [...secrets].sort((a, b) => b.length - a.length).map((x) => (x.length < SHORT_SECRET ? `(?<![A-Za-z0-9])${escapeRegExp(x)}(?![A-Za-z0-9])` : escapeRegExp(x)));
  secretPattern = new RegExp(all.join("|"), "g");
}

/** Registered values shorter than this are matched as whole words only. */
const SHORT_SECRET = 12;

/** Forgets every registered secret (tests only). */
export function clearSecrets(): void {
  secrets.clear();
  secretPattern = undefined;
}

const QUERY_RE = new RegExp(`([?&;](?:${SECRET_QUERY_PARAMS.map(escapeRegExp).join("|")})=)[^&#\\s"'<>]*`, "gi");
// "Name: value" / "Name=value"; what follows the value decides whether it is one (see maskValue).
const HEADER_LINE_RE = new RegExp(
  `\\b(${[...SECRET_HEADERS].map(escapeRegExp).join("|")})(\\s*[:=]\\s*)("?)((?:(?:Bearer|Basic|token)\\s+)?)([^\\s,;"']+)(?=([^\\n]{0,16}))`,
  "gi",
);
const BEARER_RE = /\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/]+=*/g;
// JWT: three base64url parts, the first two starting with eyJ ('{"').
const JWT_RE = /\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
// Rucio userpass tokens: account-identity-appid-<32 hex>.
const RUCIO_TOKEN_RE = /\b[\w.@]+-[\w.@]+-[\w.@]+-[0-9a-f]{32}\b/g;
const URL_CREDENTIALS_RE = /\b([a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+:[^/\s@]+@/gi;
// Keys whose values are secret in key=value, key: value and JSON/YAML pairs.
const SECRET_KEYS = "password|passwd|access_token|accesstoken|refresh_token|client_secret|api_key|apikey|token";
// A quoted value ("password": "two words") is masked whole.
const KV_QUOTED_RE = new RegExp(`((?:${SECRET_KEYS})["']?\\s*[:=]\\s*)(["'])((?:(?!\\2)[^\\\\]|\\\\.)*)\\2`, "gi");
// An unquoted value: the next word, with what follows it on the line (to tell a value from prose).
const KV_RE = new RegExp(`((?:${SECRET_KEYS})["']?\\s*([:=])\\s*)([^"'\\s,&}]+)(?=([^\\n]{0,16}))`, "gi");

/**
 * Whether the word after "key:" is a value rather than prose. "key=value" always is; after a colon, a word that
 * ends the phrase ("Password: hunter2", "token: abc,") or does not look like a word ("token: 3f1c-9…") is a value,
 * while "Your password: must be changed" or "Invalid token: expired signature" keep their words.
 */
function isValue(separator: string, value: string, rest: string): boolean {
  if (separator === "=") return true;
  if (/[^A-Za-z]/.test(value)) return true;
  // `rest` is at most 16 characters of what follows: shorter means the line ends there.
  return /^\s*[,;&}\])]/.test(rest) || (rest.length < 16 && /^\s*$/.test(rest));
}

/** Scrubs every known secret form from a piece of text. */
export function redact(text: string): string {
  if (typeof text !== "string" || text.length === 0) return text;
  let out = text;
  if (secretPattern) out = out.replace(secretPattern, MASK);
  out = out.replace(QUERY_RE, `$1${MASK}`);
  out = out.replace(HEADER_LINE_RE, (m, name: string, sep: string, quote: string, scheme: string, value: string, rest: string) =>
    scheme || isValue(sep.trim() || ":", value, rest) ? `${name}${sep}${quote}${MASK}` : m,
  );
  out = out.replace(BEARER_RE, `$1 ${MASK}`);
  out = out.replace(JWT_RE, MASK);
  out = out.replace(RUCIO_TOKEN_RE, MASK);
  out = out.replace(URL_CREDENTIALS_RE, `$1${MASK}@`);
  out = out.replace(KV_QUOTED_RE, (_m, head: string, quote: string) => `${head}${quote}${MASK}${quote}`);
  out = out.replace(KV_RE, (m, head: string, sep: string, value: string, rest: string) => (value === MASK || !isValue(sep, value, rest) ? m : `${head}${MASK}`));
  return out;
}

/** A URL safe to print: secret query parameters and credentials masked. */
export function redactUrl(url: string | URL): string {
  return redact(String(url));
}

/** A copy of the headers safe to log: secret headers masked, other values redacted. */
export function redactHeaders(headers: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    out[k] = SECRET_HEADERS.has(k.toLowerCase()) ? MASK : redact(Array.isArray(v) ? v.join(", ") : String(v));
  }
  return out;
}

/**
 * An error safe to attach as `cause`: same name/code, message and stack redacted. Returns the original
 * object when nothing needed scrubbing (keeps `instanceof` for undici's errors).
 */
export function redactError(e: unknown): unknown {
  if (!(e instanceof Error)) return typeof e === "string" ? redact(e) : e;
  const msg = redact(e.message);
  const stack = e.stack === undefined ? undefined : redact(e.stack);
  if (msg === e.message && stack === e.stack) return e;
  const copy = new Error(msg) as Error & { code?: unknown };
  copy.name = e.name;
  copy.stack = stack;
  const code = (e as { code?: unknown }).code;
  if (code !== undefined) copy.code = code;
  return copy;
}
