/**
 * An optional process-wide cancel source for every request, on top of each call's own `signal`. The clients
 * know nothing of who provides it; a notebook session sets it to "the running cell's signal" so that a kernel
 * interrupt also cancels requests made from user code that passed no signal.
 */
let provider: (() => AbortSignal | undefined) | undefined;

export function setAmbientSignal(get: (() => AbortSignal | undefined) | undefined): void {
  provider = get;
}

/** `signal` combined with the ambient one (either aborting aborts the result). */
export function withAmbientSignal(signal: AbortSignal | undefined): AbortSignal | undefined {
  let ambient: AbortSignal | undefined;
  try {
    ambient = provider?.();
  } catch {
    ambient = undefined;
  }
  if (!ambient || ambient === signal) return signal;
  if (!signal) return ambient;
  return anySignal(signal, ambient);
}

/** A signal that aborts when any of `signals` does (AbortSignal.any where the runtime has it). */
export function anySignal(...signals: AbortSignal[]): AbortSignal {
  const native = (AbortSignal as unknown as { any?: (s: AbortSignal[]) => AbortSignal }).any;
  if (native) return native.call(AbortSignal, signals);
  const ac = new AbortController();
  for (const s of signals) {
    if (s.aborted) {
      ac.abort(s.reason);
      break;
    }
    s.addEventListener("abort", () => ac.abort(s.reason), { once: true });
  }
  return ac.signal;
}

