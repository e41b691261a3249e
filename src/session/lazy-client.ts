/**
 * A stand-in for a client that is created asynchronously (the sandbox may have to start first). Any chain of
 * property reads ending in a call is replayed on the real client once it exists: `rucio.whoami()`,
 * `rucio.dids.search(...)`. The call returns a Promise that is also async-iterable, so both
 * `await c.method()` and `for await (const x of c.list())` work. Plain property values need the real client
 * (`await session().rucio()`).
 */
export function lazyClient<T extends object>(get: () => Promise<T>, onResult?: ResultHook): T {
  return member(get, [], onResult) as T;
}

/** Called after a call through the stand-in resolved (e.g. to record provenance); never makes the call fail. */
export type ResultHook = (client: object, method: string, args: unknown[], result: unknown) => void;

type Deferred = Promise<unknown> & AsyncIterable<unknown>;

function member(get: () => Promise<object>, path: string[], onResult?: ResultHook): unknown {
  const target = function lazyMember() {} as unknown as object;
  return new Proxy(target, {
    get(_t, prop) {
      // Not a thenable itself (`await rucio` must not hang) and no symbol-keyed protocol.
      if (prop === "then" || typeof prop === "symbol") return undefined;
      return member(get, [...path, prop], onResult);
    },
    apply(_t, _this, args: unknown[]) {
      return deferredCall(get(), path, args, onResult);
    },
  });
}

function deferredCall(client: Promise<object>, path: string[], args: unknown[], onResult?: ResultHook): Deferred {
  const name = path.join(".");
  const result = client.then((c) => {
    let owner: unknown = c;
    for (const key of path.slice(0, -1)) owner = (owner as Record<string, unknown> | undefined)?.[key];
    const fn = (owner as Record<string, unknown> | undefined)?.[path[path.length - 1] ?? ""];
    if (typeof fn !== "function") throw new TypeError(`${c.constructor?.name ?? "client"}.${name} is not a method`);
    const value = (fn as (...a: unknown[]) => unknown).apply(owner, args);
    if (!onResult || !(value instanceof Promise)) return value;
    return value.then((v) => {
      try {
        onResult(c, name, args, v);
      } catch {
        // bookkeeping must never break the user's call
      }
      return v;
    });
  });
  return Object.assign(result, {
    async *[Symbol.asyncIterator]() {
      const value = await result;
      if (value && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
        yield* value as AsyncIterable<unknown>;
      } else if (value && typeof (value as Iterable<unknown>)[Symbol.iterator] === "function") {
        yield* value as Iterable<unknown>;
      } else {
        throw new TypeError(`${name}() does not return a list; use await instead of for await`);
      }
    },
  });
}
