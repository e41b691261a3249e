/** Logging for the clients: a tiny sink interface; every line is redacted before it reaches the sink. */
import { redact } from "./redact";

export type LogLevel = "debug" | "info" | "warn" | "error";

/** A log sink. Receives text that has already been redacted. */
export type Logger = (level: LogLevel, message: string) => void;

/** Logs nothing (the default: clients are quiet unless asked). */
export const silentLogger: Logger = () => {};

/** Writes to stderr, for VRE_TS_DEBUG=1 style debugging. */
export const stderrLogger: Logger = (level, message) => {
  process.stderr.write(`[vre-ts ${level}] ${message}\n`);
};

/** Wraps a sink so that nothing unredacted can reach it. */
export function safeLogger(sink: Logger | undefined): Logger {
  if (!sink) return silentLogger;
  return (level, message) => {
    try {
      sink(level, redact(message));
    } catch {
      // A broken log sink must never break a request.
    }
  };
}
