/**
 * Binary values in widget state travel as message buffers: `removeBuffers` takes them out of a state object
 * (recording where they were as `buffer_paths`), `putBuffers` puts received buffers back. Same rules as
 * ipywidgets' `_remove_buffers` / `_put_buffers`.
 */
export type BufferPath = (string | number)[];

function isBinary(v: unknown): v is ArrayBuffer | ArrayBufferView {
  return v instanceof ArrayBuffer || ArrayBuffer.isView(v);
}

function toBuffer(v: ArrayBuffer | ArrayBufferView): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return Buffer.from(v);
}

/** A copy of `state` without binary values, plus the values and their paths. The input is not modified. */
export function removeBuffers<T>(state: T): { state: T; buffer_paths: BufferPath[]; buffers: Buffer[] } {
  const buffer_paths: BufferPath[] = [];
  const buffers: Buffer[] = [];
  const walk = (value: unknown, path: BufferPath): unknown => {
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      value.forEach((v, i) => {
        if (isBinary(v)) {
          copy ??= [...value];
          copy[i] = null;
          buffer_paths.push([...path, i]);
          buffers.push(toBuffer(v));
        } else if (v !== null && typeof v === "object") {
          const w = walk(v, [...path, i]);
          if (w !== v) (copy ??= [...value])[i] = w;
        }
      });
      return copy ?? value;
    }
    if (value !== null && typeof value === "object" && !isBinary(value)) {
      let copy: Record<string, unknown> | undefined;
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (isBinary(v)) {
          copy ??= { ...(value as Record<string, unknown>) };
          delete copy[k];
          buffer_paths.push([...path, k]);
          buffers.push(toBuffer(v));
        } else if (v !== null && typeof v === "object") {
          const w = walk(v, [...path, k]);
          if (w !== v) (copy ??= { ...(value as Record<string, unknown>) })[k] = w;
        }
      }
      return copy ?? value;
    }
    return value;
  };
  return { state: walk(state, []) as T, buffer_paths, buffers };
}

/** Puts `buffers` into `state` (in place) at `paths`. Buffers arrive as Node Buffers (Uint8Array). */
export function putBuffers(state: Record<string, unknown>, paths: readonly BufferPath[], buffers: readonly Buffer[]): void {
  paths.forEach((path, i) => {
    if (!Array.isArray(path) || path.length === 0 || i >= buffers.length) return;
    let obj: Record<string | number, unknown> = state;
    for (let j = 0; j < path.length - 1; j++) {
      const key = path[j];
      const next = obj[key];
      if (next === null || typeof next !== "object") obj[key] = typeof path[j + 1] === "number" ? [] : {};
      obj = obj[key] as Record<string | number, unknown>;
    }
    obj[path[path.length - 1] as string] = buffers[i];
  });
}
