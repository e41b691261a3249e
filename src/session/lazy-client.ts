/**
 * A stand-in for a client that is created asynchronously (the sandbox may have to start first). Calling a method
 * returns a Promise that is also async-iterable, so both `await c.method()` and `for await (const x of c.list())`
 * work before the real client exists. Only methods can be reached this way; properties need the real client
 * (`await session().rucio()`).
 */
export function lazyClient<T extends object>(get: () => Promise<T>): T {
  return new Proxy({} as T, {
    get(_target, prop) {
      if (prop === "then") return undefined; // not a thenable itself: `await rucio` must not hang
      if (typeof prop === "symbol") return undefined;
      return (...args: unknown[]) => deferredCall(get(), prop, args);
    },
  });
}

type Deferred = Promise<unknown> & AsyncIterable<unknown>;

function deferredCall(client: Promise<object>, method: string, args: unknown[]): Deferred {
  const result = client.then((c) => {
    const fn = (c as Record<string, unknown>)[method];
    if (typeof fn !== "function") {
      throw new TypeError(`${c.constructor?.name ?? "client"}.${method} is not a method`);
    }
    return (fn as (...a: unknown[]) => unknown).apply(c, args);
  });
  return Object.assign(result, {
    async *[Symbol.asyncIterator]() {
      const value = await result;
      if (value && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
        yield* value as AsyncIterable<unknown>;
      } else if (value && typeof (value as Iterable<unknown>)[Symbol.iterator] === "function") {
        yield* value as Iterable<unknown>;
      } else {
        throw new TypeError(`${method}() does not return a list; use await instead of for await`);
      }
    },
  });
}
