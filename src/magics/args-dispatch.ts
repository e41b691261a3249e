/**
 * Builds a MagicSpec from a verb table: `%name VERB args...` → parse against the verb's spec → run → value.
 * Owns what every domain magic shares: help (`%name`, `%name help VERB`, `%name VERB --help`), `--json`,
 * cell-body rules, verbs that are announced but not available yet, and turning failures into one clear
 * paragraph (service errors without a stack trace; programming errors keep theirs).
 */
import { ClientError } from "../clients/errors";
import { redact } from "../clients/http/redact";
import { describeRetry, withRetryListener } from "../clients/http/retry-events";
import { HelpText, clipEcho, closest, magicHelp, parseVerb, tokenize, usageLine, verbHelp, type VerbCall, type VerbSpec } from "./args";
import { asJson } from "./vre-format";
import { UsageError, type MagicContext, type MagicSpec } from "./types";

export interface Verb<Env> extends VerbSpec {
  run(call: VerbCall, ctx: MagicContext, env: Env, body?: string): unknown | Promise<unknown>;
}

export interface VerbMagicOptions<Env> {
  name: string;
  summary: string;
  verbs: Verb<Env>[];
  /** Verbs announced by the issue tracker but not built yet: verb → what to use meanwhile. */
  unavailable?: Record<string, string>;
  /** Resolves what the verbs need (the session) once per call. */
  env: () => Env;
  /** Extra text at the end of the overview help (e.g. the TypeScript mapping). */
  footer?: string;
}

/** An error from a service, shown as one paragraph: ename = the client error class, evalue = message + hint. */
export class MagicServiceError extends Error {
  readonly code: string;
  constructor(err: ClientError | { name: string; message: string; code?: string; hint?: string }) {
    const text = err instanceof ClientError ? err.describe() : err.hint ? `${err.message}\n${err.hint}` : err.message;
    super(redact(text));
    this.name = err.name;
    this.code = err.code ?? "UNKNOWN";
    // Expected failures carry no stack frames: the traceback is the message itself.
    this.stack = `${this.name}: ${this.message}`;
  }
}

/** The user interrupted the operation (kernel interrupt). */
export class MagicInterrupted extends Error {
  override readonly name = "InterruptError";
  constructor(what: string) {
    super(`${what} interrupted.`);
    this.stack = `${this.name}: ${this.message}`;
  }
}

/** Maps a failure of a verb to what the kernel should show. */
export function toMagicError(err: unknown, what: string, signal?: AbortSignal): unknown {
  if (err instanceof UsageError || err instanceof MagicServiceError || err instanceof MagicInterrupted) return err;
  const code = (err as { code?: unknown })?.code;
  if (signal?.aborted || code === "HTTP_ABORTED" || (err as Error)?.name === "AbortError") return new MagicInterrupted(what);
  if (err instanceof ClientError) return new MagicServiceError(err);
  // Client errors from another copy of the package (instanceof fails across copies): same duck type.
  if (err instanceof Error && typeof code === "string" && typeof (err as { service?: unknown }).service === "string") {
    return new MagicServiceError({ name: err.name, message: err.message, code, hint: (err as { hint?: string }).hint });
  }
  return err;
}

export function verbMagic<Env>(options: VerbMagicOptions<Env>): MagicSpec {
  const { name, verbs } = options;
  const byName = new Map(verbs.map((v) => [v.name, v] as const));
  const byAlias = new Map(verbs.flatMap((v) => (v.aliases ?? []).map((a) => [a, v] as const)));
  const overview = () => magicHelp(name, options.summary, verbs, options.footer);
  const hasCellVerbs = verbs.some((v) => (v.body ?? "none") !== "none");
  const allNames = () => [...byName.keys(), ...Object.keys(options.unavailable ?? {})];

  const findVerb = (word: string): Verb<Env> => {
    const verb = byName.get(word) ?? byAlias.get(word);
    if (verb) return verb;
    const later = options.unavailable?.[word];
    if (later !== undefined) throw new UsageError(`%${name} ${word} is not available yet. ${later}`);
    const near = closest(word, allNames());
    throw new UsageError(
      `%${name}: unknown verb ${clipEcho(JSON.stringify(word))}.${near ? ` Did you mean ${near}?` : ""} Verbs: ${allNames().join(", ")}.\n` +
        `Run %${name} help for the list, %${name} help VERB for details.`,
    );
  };

  return {
    name,
    kind: hasCellVerbs ? "both" : "line",
    summary: options.summary,
    // `%name?` prints its own title line (name and summary), so the usage starts below ours.
    get usage() {
      return overview().split("\n").slice(2).join("\n");
    },
    examples: verbs.flatMap((v) => (v.examples ?? []).slice(0, 1)).slice(0, 8),
    async run(args: string, ctx: MagicContext, body?: string): Promise<unknown> {
      const words = tokenize(args);
      if (words.length === 0 || ["help", "-h", "--help", "?"].includes(words[0])) {
        if (words.length > 1) {
          const verb = findVerb(words[1]);
          return new HelpText(verbHelp(name, verb));
        }
        if (body !== undefined && body.trim() !== "") throw new UsageError(`%%${name} needs a verb, e.g. ${verbs.find((v) => v.body && v.body !== "none")?.name ?? "run"}.\n${overview()}`);
        return new HelpText(overview());
      }
      const verb = findVerb(words[0]);
      const call = parseVerb(name, verb, words.slice(1));
      if (call.flag("help")) return new HelpText(verbHelp(name, verb));
      const bodyRule = verb.body ?? "none";
      const hasBody = body !== undefined;
      if (hasBody && bodyRule === "none") {
        throw new UsageError(`%${name} ${verb.name} takes no cell body; use it as a line magic: ${usageLine(name, verb)}`);
      }
      if (!hasBody && bodyRule === "required") {
        throw new UsageError(`%${name} ${verb.name} needs a cell body (use %%${name} on the first line of the cell).\nUsage: ${usageLine(name, verb)}`);
      }
      const what = `%${name} ${verb.name}`;
      try {
        const env = options.env();
        // A request that waits through retries says so in the cell (stderr) instead of staying silent.
        const value = await withRetryListener(
          (event) => ctx.printError(`${redact(describeRetry(event))}\n`),
          () => verb.run(call, ctx, env, body),
        );
        return call.json ? asJson(value) : value;
      } catch (err) {
        throw toMagicError(err, what, ctx.signal);
      }
    },
  };
}
