/**
 * Built-in magics. Each one is a thin parser over a typed function that TypeScript code can call directly:
 * `%lsmagic` ↔ `lsmagic()`, `%time`/`%%time` ↔ `time(fn)`, `%%bash` ↔ `bash(script)`, `%%html` ↔ `html(s)`,
 * `%%markdown` ↔ `markdown(s)`, `%env` ↔ `env()`/`setEnv()`, `%cd` ↔ `cd(dir)`.
 */
import { spawn } from "node:child_process";
import { homedir } from "node:os";
import { resolve } from "node:path";
import { redact } from "../clients/http/redact";
import { clipEcho } from "./args";
import { listMagics, registerMagic } from "./registry";
import { rich, table, type Displayable } from "./render";
import { UsageError, type MagicContext, type MagicSpec, type MimeBundle } from "./types";

/** What the kernel adds to the public `MagicContext` for its own built-ins. */
export interface KernelMagicContext extends MagicContext {
  /** Runs TypeScript (which may contain line magics) as a top-level cell and returns its last value. */
  executeCell?(code: string): Promise<unknown>;
  kernelInfo?(): { cwd: string; executionCount: number };
}

// ------------------------------------------------------------------ typed equivalents

/** The registered magics as a table (what `%lsmagic` shows). */
export function lsmagic(): Displayable & { name: string; kind: string; summary: string }[] {
  const rows = listMagics().map((m) => ({
    name: m.kind === "cell" ? `%%${m.name}` : m.kind === "both" ? `%${m.name} / %%${m.name}` : `%${m.name}`,
    kind: m.kind,
    summary: m.summary,
  }));
  return table(rows, { columns: [{ key: "name", label: "magic" }, "kind", "summary"], title: `${rows.length} magics (use %name? for help)` });
}

function fmtDuration(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 1) return `${ms.toFixed(1)} ms`;
  return `${Math.round(ms * 1000)} µs`;
}

/** Runs `fn`, prints its CPU and wall time, and returns its value (like IPython's `%time`). */
export async function time<T>(fn: () => T | Promise<T>, print: (text: string) => void = (t) => void process.stdout.write(t)): Promise<T> {
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  try {
    return await fn();
  } finally {
    const wall = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpu = process.cpuUsage(cpu0);
    print(`CPU times: user ${fmtDuration(cpu.user / 1000)}, sys ${fmtDuration(cpu.system / 1000)}\nWall time: ${fmtDuration(wall)}\n`);
  }
}

/** A shell command that exited with a non-zero status (or was killed). */
export class ShellCommandError extends Error {
  override readonly name = "ShellCommandError";
  readonly code = "SHELL_COMMAND_FAILED";
  constructor(
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
  ) {
    super(signal ? `bash was killed by ${signal}` : `bash exited with status ${exitCode}`);
  }
}

export interface BashOptions {
  /** Aborting kills the script (SIGTERM, then SIGKILL after 2 s). */
  signal?: AbortSignal;
  /** Positional parameters ($1, $2, …). */
  args?: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Receives output as it arrives (default: the cell's stdout/stderr). */
  onOutput?: (stream: "stdout" | "stderr", text: string) => void;
}

/** Runs a bash script, streaming its output live. Rejects with `ShellCommandError` on a non-zero exit. */
export function bash(script: string, options: BashOptions = {}): Promise<void> {
  const out = options.onOutput ?? ((s, t) => void (s === "stdout" ? process.stdout : process.stderr).write(t));
  return new Promise<void>((resolvePromise, reject) => {
    if (options.signal?.aborted) return reject(options.signal.reason ?? new Error("aborted"));
    const child = spawn("bash", ["-c", script, "bash", ...(options.args ?? [])], {
      cwd: options.cwd ?? process.cwd(),
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.setEncoding("utf8").on("data", (t: string) => out("stdout", t));
    child.stderr.setEncoding("utf8").on("data", (t: string) => out("stderr", t));
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      child.kill("SIGTERM");
      killTimer = setTimeout(() => child.kill("SIGKILL"), 2000);
      killTimer.unref();
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });
    child.on("error", (e) => {
      options.signal?.removeEventListener("abort", onAbort);
      reject(e);
    });
    child.on("close", (code, sig) => {
      options.signal?.removeEventListener("abort", onAbort);
      if (killTimer) clearTimeout(killTimer);
      if (code === 0) resolvePromise();
      else reject(new ShellCommandError(code, sig));
    });
  });
}

/** HTML shown as rich output. */
export function html(source: string): Displayable {
  return rich({}, { "text/html": source, "text/plain": "<HTML output>" }) as Displayable;
}

/** Markdown shown as rich output. */
export function markdown(source: string): Displayable {
  return rich({}, { "text/markdown": source, "text/plain": source }) as Displayable;
}

const SECRET_NAME = /TOKEN|PASSWORD|PASSWD|SECRET|KEY|CREDENTIAL/i;

/**
 * Masks the value of a variable whose name suggests a secret, and any secret value the session knows (a token, a
 * password, a REANA secret registered in this kernel) wherever it appears, whatever the variable is called.
 */
export function maskEnvValue(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return SECRET_NAME.test(name) ? "<hidden>" : redact(value);
}

/** Environment variables (secret-looking values masked) as a table, or one variable's (masked) value. */
export function env(): Displayable & { name: string; value: string }[];
export function env(name: string): string | undefined;
export function env(name?: string): unknown {
  if (name !== undefined) return maskEnvValue(name, process.env[name]);
  const rows = Object.keys(process.env)
    .sort()
    .map((n) => ({ name: n, value: maskEnvValue(n, process.env[n]) ?? "" }));
  return table(rows, { title: `${rows.length} environment variables` });
}

/** Sets an environment variable for the kernel and the processes it starts. */
export function setEnv(name: string, value: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new UsageError(`invalid environment variable name ${clipEcho(JSON.stringify(name))}`);
  process.env[name] = value;
}

let previousDir: string | undefined;

/** Changes the kernel's working directory (`~` expands, `-` goes back). Returns the new directory. */
export function cd(dir?: string): string {
  let target = dir?.trim() || homedir();
  if (target === "-") {
    if (!previousDir) throw new UsageError("%cd -: no previous directory");
    target = previousDir;
  }
  if (target === "~" || target.startsWith("~/")) target = homedir() + target.slice(1);
  const abs = resolve(process.cwd(), target);
  const before = process.cwd();
  try {
    process.chdir(abs);
  } catch (e) {
    throw new UsageError(`%cd: cannot change to ${clipEcho(abs)}: ${(e as NodeJS.ErrnoException).code ?? clipEcho((e as Error).message)}`);
  }
  previousDir = before;
  return abs;
}

// ------------------------------------------------------------------ magic specs

function unquote(s: string): string {
  const t = s.trim();
  return /^(["']).*\1$/.test(t) ? t.slice(1, -1) : t;
}

function splitArgs(s: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(s); m; m = re.exec(s)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : (m[2] ?? m[3]));
  return out;
}

const BUILTINS: MagicSpec[] = [
  {
    name: "lsmagic",
    kind: "line",
    summary: "List all available magics",
    usage: "%lsmagic",
    run: () => lsmagic(),
  },
  {
    name: "time",
    kind: "both",
    summary: "Time a TypeScript expression (%time) or a whole cell (%%time)",
    usage: "%time EXPRESSION\n%%time\n<TypeScript statements>",
    examples: ["%time [...Array(1e6).keys()].reduce((a, b) => a + b, 0)", "%%time\nconst r = await fetch(url)\nr.status"],
    async run(args, ctx, body) {
      const kctx = ctx as KernelMagicContext;
      if (body === undefined) throw new UsageError("%time needs an expression: %time EXPRESSION");
      if (!kctx.executeCell) throw new UsageError("%%time needs a running kernel");
      if (args.trim()) throw new UsageError("%%time takes no arguments; put the code in the cell body");
      return time(() => kctx.executeCell!(body), (t) => ctx.print(t));
    },
  },
  {
    name: "bash",
    kind: "cell",
    summary: "Run the cell body with bash, streaming its output",
    usage: "%%bash [ARG ...]\n<script>\n\nARGs become the positional parameters $1, $2, … A non-zero exit status is an error.",
    examples: ["%%bash\nls -l | head"],
    async run(args, ctx, body) {
      await bash(body ?? "", { signal: ctx.signal, args: splitArgs(args), cwd: process.cwd() });
    },
  },
  {
    name: "html",
    kind: "cell",
    summary: "Render the cell body as HTML",
    usage: "%%html\n<html>",
    run: (_args, _ctx, body) => html(body ?? ""),
  },
  {
    name: "markdown",
    kind: "cell",
    summary: "Render the cell body as Markdown",
    usage: "%%markdown\n<markdown>",
    run: (_args, _ctx, body) => markdown(body ?? ""),
  },
  {
    name: "env",
    kind: "line",
    summary: "List, get or set environment variables (secret values are masked)",
    usage: "%env               list all variables\n%env NAME          show one variable\n%env NAME=VALUE    set a variable\n%env NAME VALUE    set a variable",
    examples: ["%env", "%env HOME", "%env RUCIO_ACCOUNT=demo"],
    run(args, ctx) {
      const a = args.trim();
      if (!a) return env();
      const eq = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(a) ?? /^([A-Za-z_][A-Za-z0-9_]*)\s+(.+)$/.exec(a);
      if (eq) {
        const value = unquote(eq[2]);
        setEnv(eq[1], value);
        ctx.print(`env: ${eq[1]}=${maskEnvValue(eq[1], value)}`);
        return undefined;
      }
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(a)) throw new UsageError(`%env: cannot parse ${clipEcho(JSON.stringify(a))}; use %env NAME or %env NAME=VALUE`);
      const v = env(a);
      if (v === undefined) throw new UsageError(`environment variable ${a} is not set`);
      return v;
    },
  },
  {
    name: "cd",
    kind: "line",
    summary: "Change the kernel's working directory",
    usage: "%cd [DIR]     (no DIR: home folder; -: previous folder)",
    examples: ["%cd data", "%cd -"],
    run(args, ctx) {
      const dir = cd(unquote(args));
      ctx.print(dir);
      return undefined;
    },
  },
];

/** Registers the built-ins (idempotent; user registrations of the same name made later win). */
export function registerBuiltinMagics(): void {
  for (const spec of BUILTINS) registerMagic(spec);
}

export type { MimeBundle };
