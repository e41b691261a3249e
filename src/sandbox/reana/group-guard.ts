import { spawn } from "node:child_process";
import type { Socket } from "node:net";

/**
 * Makes a job's process group die with the sandbox, even when the sandbox is killed with SIGKILL: a tiny watchdog
 * (`sh`, in a group of its own) waits on a pipe from the sandbox; when the sandbox dies the pipe closes and the
 * watchdog kills the group. The returned function releases the guard once the job has ended. (After a crash, the
 * restarted sandbox also kills what is left before it reports the runs failed: see recoverInterruptedRuns.)
 */
export function guardProcessGroup(pgid: number | undefined): () => void {
  if (pgid === undefined) return () => undefined;
  const dog = spawn("sh", ["-c", 'read -r _ || kill -9 "-$0" 2>/dev/null', String(pgid)], {
    stdio: ["pipe", "ignore", "ignore"],
    detached: true,
  });
  dog.on("error", () => undefined);
  dog.stdin?.on("error", () => undefined);
  // Neither the watchdog nor its pipe keeps the sandbox alive.
  dog.unref();
  (dog.stdin as unknown as Socket | null)?.unref?.();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    try {
      dog.kill("SIGKILL");
    } catch {
      // already gone
    }
    dog.stdin?.destroy();
  };
}
