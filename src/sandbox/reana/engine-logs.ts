/**
 * Reading the progress of a real workflow engine from its console output (stdout and stderr merged, in order), the
 * way REANA's engines report it: one job per CWL step / Snakemake rule that runs something, started, finished or
 * failed, with the output printed while it ran as that job's log. Both engines run one job at a time here
 * (cwltool without `--parallel`, snakemake with `--cores 1`), so output between a job's start and end is its own.
 */

export type EngineEvent =
  | { kind: "job-start"; key: string; name: string }
  | { kind: "job-command"; key: string; command: string }
  | { kind: "job-log"; key: string; text: string }
  | { kind: "job-end"; key: string; ok: boolean }
  /** Snakemake's job count, known before the first job starts. */
  | { kind: "total"; counts: Record<string, number> }
  | { kind: "engine-log"; text: string };

export interface EngineLogParser {
  /** Feeds one line (without its newline); returns what it meant. */
  line(text: string): EngineEvent[];
}

// cwltool colours its level names unless told not to; strip ANSI escapes either way.
const ANSI = /\u001b\[[0-9;]*m/g;

/**
 * cwltool 3.1: `INFO [step NAME] start`, `INFO [job NAME] <dir>$ <command, continued with "\" lines>`, the tool's
 * own output, `INFO [job NAME] completed success|permanentFail`, `INFO [step NAME] completed ...`.
 * The job's key is its name (cwltool names scattered jobs `NAME_2`, … so they stay distinct).
 */
export class CwlLogParser implements EngineLogParser {
  private current?: string;
  private commandOf?: string;
  private command: string[] = [];

  line(raw: string): EngineEvent[] {
    const text = raw.replace(ANSI, "");
    if (this.commandOf !== undefined) {
      // Continuation lines ("\" at the end) of the command cwltool prints before running it.
      this.command.push(text.trim());
      if (text.trimEnd().endsWith("\\")) return [];
      const key = this.commandOf;
      const command = this.command.map((c) => c.replace(/\s*\\$/, "")).join(" ").trim();
      this.commandOf = undefined;
      this.command = [];
      return [{ kind: "job-command", key, command }];
    }
    const m = /^(INFO|WARNING|ERROR|DEBUG)\s+\[(job|step|workflow)\s*([^\]]*)\]\s?(.*)$/.exec(text);
    if (m) {
      const [, , what, name, rest] = m;
      if (what === "job") {
        const cmd = /^(\S*)\$ (.*)$/.exec(rest!);
        const events: EngineEvent[] = [{ kind: "engine-log", text }];
        if (cmd) {
          if (this.current !== name) events.push({ kind: "job-start", key: name!, name: baseStepName(name!) });
          this.current = name;
          if (cmd[2]!.trimEnd().endsWith("\\")) {
            this.commandOf = name;
            this.command = [cmd[2]!.trim()];
          } else {
            events.push({ kind: "job-command", key: name!, command: cmd[2]!.trim() });
          }
          return events;
        }
        const done = /^completed (\w+)/.exec(rest!);
        if (done) {
          if (this.current !== name) events.push({ kind: "job-start", key: name!, name: baseStepName(name!) });
          events.push({ kind: "job-end", key: name!, ok: done[1] === "success" });
          if (this.current === name) this.current = undefined;
          return events;
        }
        return events;
      }
      return [{ kind: "engine-log", text }];
    }
    if (/^(INFO|WARNING|ERROR|DEBUG)\s/.test(text) || this.current === undefined) return [{ kind: "engine-log", text }];
    return [{ kind: "job-log", key: this.current, text }];
  }
}

/** `generate_2` (a scattered or repeated job) belongs to step `generate`. */
function baseStepName(name: string): string {
  return name.replace(/_\d+$/, "");
}

const SNAKEMAKE_STAMP = /^\[(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \w{3}\s+\d{1,2} \d\d:\d\d:\d\d \d{4}\]$/;

/**
 * Snakemake 7.21 (run with `--printshellcmds`): a `Job stats:` table, then per job a block
 * `rule NAME:` / `localrule NAME:` with indented `jobid: N` and a blank line, the shell command, the job's output,
 * then `Finished job N.`, or `Error in rule NAME:` with `jobid: N` on failure. Jobs of rules outside `runnable`
 * (target rules such as `all`, which run nothing) are not reported as jobs, as on REANA.
 */
export class SnakemakeLogParser implements EngineLogParser {
  private block?: { rule: string; jobid?: string };
  private current?: string;
  private awaitingCommand = false;
  private errorRule?: string;
  private stats?: Record<string, number>;
  private readonly rules = new Map<string, string>();

  constructor(private readonly runnable: (rule: string) => boolean) {}

  line(text: string): EngineEvent[] {
    if (this.stats !== undefined) {
      const row = /^(\S+)\s+(\d+)(\s+\d+\s+\d+)?$/.exec(text.trim());
      if (row && row[1] !== "job") {
        if (row[1] === "total") {
          const counts = this.stats;
          this.stats = undefined;
          return [{ kind: "engine-log", text }, { kind: "total", counts }];
        }
        this.stats[row[1]!] = Number(row[2]);
      }
      return [{ kind: "engine-log", text }];
    }
    if (text === "Job stats:") {
      this.stats = {};
      return [{ kind: "engine-log", text }];
    }
    const header = /^(?:local)?rule (\S+):$/.exec(text);
    if (header) {
      this.block = { rule: header[1]! };
      return [{ kind: "engine-log", text }];
    }
    if (this.block) {
      const jobid = /^\s+jobid: (\d+)$/.exec(text);
      if (jobid) this.block.jobid = jobid[1];
      if (text.trim() !== "") return [{ kind: "engine-log", text }];
      const { rule, jobid: id } = this.block;
      this.block = undefined;
      if (id === undefined) return [{ kind: "engine-log", text }];
      this.rules.set(id, rule);
      if (!this.runnable(rule)) return [{ kind: "engine-log", text }];
      this.current = id;
      this.awaitingCommand = true;
      return [{ kind: "engine-log", text }, { kind: "job-start", key: id, name: rule }];
    }
    const errorHeader = /^Error in rule (\S+):$/.exec(text);
    if (errorHeader) {
      this.errorRule = errorHeader[1];
      return [{ kind: "engine-log", text }];
    }
    if (this.errorRule !== undefined) {
      const jobid = /^\s+jobid: (\d+)$/.exec(text);
      if (jobid) {
        const id = jobid[1]!;
        this.errorRule = undefined;
        const events: EngineEvent[] = [{ kind: "engine-log", text }];
        if (this.runnable(this.rules.get(id) ?? "")) events.push({ kind: "job-end", key: id, ok: false });
        if (this.current === id) this.current = undefined;
        return events;
      }
      if (!/^\s/.test(text)) this.errorRule = undefined;
      else return [{ kind: "engine-log", text }];
    }
    const finished = /^Finished job (\d+)\.$/.exec(text);
    if (finished) {
      const id = finished[1]!;
      const events: EngineEvent[] = [{ kind: "engine-log", text }];
      if (this.runnable(this.rules.get(id) ?? "")) events.push({ kind: "job-end", key: id, ok: true });
      if (this.current === id) this.current = undefined;
      return events;
    }
    if (SNAKEMAKE_STAMP.test(text) || /^\d+ of \d+ steps \(\d+%\) done$/.test(text) || /^Select jobs to execute/.test(text)) {
      return [{ kind: "engine-log", text }];
    }
    if (this.current !== undefined) {
      if (this.awaitingCommand) {
        this.awaitingCommand = false;
        return [{ kind: "job-command", key: this.current, command: text }];
      }
      return [{ kind: "job-log", key: this.current, text }];
    }
    return [{ kind: "engine-log", text }];
  }
}
