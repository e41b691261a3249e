/**
 * Kernel-side anywidget models. `widget({ esm, css, state })` opens a `jupyter.widget` comm (widget protocol
 * 2.1.0) whose model is anywidget's `AnyModel`/`AnyView`; the frontend loads `_esm` and renders it.
 *
 * Both directions work: `set()` sends an `update`, frontend updates fire `change:<key>` listeners, custom messages
 * go both ways with binary buffers, and `request_state` is answered. The model is shown (as a widget view) when it
 * is a cell's value or passed to `display()`. `close()` closes the comm and aborts `model.signal`, so polls and
 * transfers started for the widget stop with it.
 */
import { createHash, randomUUID } from "node:crypto";
import { getBridge, type MimeBundle } from "../kernel/bridge";
import type { Comm, CommMessage } from "../kernel/comm/manager";
import { anywidgetVersionRange } from "./anywidget-version";
import { putBuffers, removeBuffers, type BufferPath } from "./buffers";

export const WIDGET_TARGET = "jupyter.widget";
export const WIDGET_PROTOCOL_VERSION = "2.1.0";
const DISPLAY = Symbol.for("Jupyter.display");
const REGISTRY_KEY = Symbol.for("vre-ts.widgets");

export type WidgetState = Record<string, unknown>;

export interface WidgetOptions<S extends WidgetState> {
  /** The view: an ES module exporting `render({ model, el })` (and optionally `initialize`), anywidget style. */
  esm: string;
  css?: string;
  /** Initial state; values are synced with the frontend's `model.get/set`. Binary values travel as buffers. */
  state?: S;
  /** Closing happens when this aborts (e.g. tie the widget to a longer-lived task). */
  signal?: AbortSignal;
  /**
   * anywidget's `_anywidget_id`: the frontend keys the widget's stylesheet (and hot reloads) by it, so widgets of
   * one kind share it. Default: derived from the ESM and CSS source.
   */
  id?: string;
  /**
   * A static HTML view of the state (escaped), shown beside the live view in the output's `text/html`, for
   * places that cannot run the widget (a notebook run without a frontend, an export). In JupyterLab the view
   * replaces it with a copy of itself whenever the notebook is saved.
   */
  snapshot?: (state: S) => string;
}

type ChangeListener<V> = (value: V, previous: V) => void;
type CustomListener = (content: unknown, buffers: Uint8Array[]) => void;

/** What `jupyter.widget.control` needs from every live model (kept in a process-wide registry). */
export interface RegisteredWidget {
  readonly id: string;
  fullState(): { model_name: string; model_module: string; model_module_version: string; state: WidgetState };
}

export function widgetRegistry(): Map<string, RegisteredWidget> {
  const g = globalThis as Record<symbol, unknown>;
  return (g[REGISTRY_KEY] ??= new Map<string, RegisteredWidget>()) as Map<string, RegisteredWidget>;
}

export class WidgetModel<S extends WidgetState = WidgetState> implements RegisteredWidget {
  private readonly state: WidgetState;
  private readonly listeners = new Map<string, Set<(...args: never[]) => void>>();
  private readonly comm: Comm;
  private readonly controller = new AbortController();
  private readonly version: string;
  private readonly snapshot?: (state: WidgetState) => string;

  /** @internal use `widget()` */
  constructor(options: WidgetOptions<S>) {
    const bridge = getBridge();
    if (!bridge) throw new Error("widget() needs a running vre-ts kernel (open the notebook with the TypeScript (vre-ts) kernel)");
    if (typeof options.esm !== "string" || !options.esm.trim()) throw new TypeError("widget(): esm must be the source of an ES module");
    for (const k of Object.keys(options.state ?? {})) {
      if (k.startsWith("_")) throw new TypeError(`widget(): state key "${k}" is reserved (keys starting with "_" belong to the protocol)`);
    }
    this.version = anywidgetVersionRange();
    this.snapshot = options.snapshot as ((state: WidgetState) => string) | undefined;
    // The model id is also in the state, so that a view can find its own output in the notebook.
    const commId = randomUUID().replace(/-/g, "");
    this.state = {
      _model_module: "anywidget",
      _model_name: "AnyModel",
      _model_module_version: this.version,
      _view_module: "anywidget",
      _view_name: "AnyView",
      _view_module_version: this.version,
      _view_count: null,
      _esm: options.esm,
      ...(options.css ? { _css: options.css } : {}),
      _anywidget_id: options.id ?? `vre-ts.widget.${createHash("sha256").update(options.esm).update("\0").update(options.css ?? "").digest("hex").slice(0, 16)}`,
      _vre_model_id: commId,
      ...(options.state ?? {}),
    };
    const { state, buffer_paths, buffers } = removeBuffers(this.state);
    this.comm = bridge.comms.open(WIDGET_TARGET, { state, buffer_paths }, { metadata: { version: WIDGET_PROTOCOL_VERSION }, buffers, commId });
    widgetRegistry().set(this.comm.id, this);
    this.comm.onMessage((m) => this.onMessage(m));
    this.comm.onClose(() => this.dispose());
    if (options.signal) {
      if (options.signal.aborted) this.close();
      else {
        const outer = options.signal;
        const onAbort = () => this.close();
        outer.addEventListener("abort", onAbort, { once: true });
        this.controller.signal.addEventListener("abort", () => outer.removeEventListener("abort", onAbort), { once: true });
      }
    }
  }

  get id(): string {
    return this.comm.id;
  }

  /** Aborted when the widget is closed (by `close()` or by the frontend). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get closed(): boolean {
    return this.controller.signal.aborted;
  }

  get<K extends keyof S & string>(key: K): S[K] {
    return this.state[key] as S[K];
  }

  /** Sets one value (or several) and sends them to the frontend. Fires `change:<key>` listeners. */
  set<K extends keyof S & string>(key: K, value: S[K]): void;
  set(values: Partial<S>): void;
  set(keyOrValues: string | Partial<S>, value?: unknown): void {
    const changes: WidgetState = typeof keyOrValues === "string" ? { [keyOrValues]: value } : { ...keyOrValues };
    for (const k of Object.keys(changes)) {
      if (k.startsWith("_")) throw new TypeError(`widget.set(): "${k}" is reserved`);
    }
    if (this.closed) throw new Error("the widget is closed");
    const { state, buffer_paths, buffers } = removeBuffers(changes);
    this.comm.send({ method: "update", state, buffer_paths }, { buffers });
    this.apply(changes);
  }

  /** Listens for `change:<key>` (frontend or kernel updates), `change` (any) or `msg:custom`. Returns an unsubscribe function. */
  on<K extends keyof S & string>(event: `change:${K}`, listener: ChangeListener<S[K]>): () => void;
  on(event: "change", listener: (changes: Partial<S>) => void): () => void;
  on(event: "msg:custom", listener: CustomListener): () => void;
  on(event: string, listener: (...args: never[]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => this.off(event, listener);
  }

  off(event: string, listener?: (...args: never[]) => void): void {
    if (!listener) this.listeners.delete(event);
    else this.listeners.get(event)?.delete(listener);
  }

  /** Resolves with the next value of `key` (from the frontend or `set`); rejects if the widget closes or `signal` aborts. */
  next<K extends keyof S & string>(key: K, options: { signal?: AbortSignal } = {}): Promise<S[K]> {
    return new Promise((resolve, reject) => {
      const done = () => {
        off();
        this.signal.removeEventListener("abort", onAbort);
        options.signal?.removeEventListener("abort", onAbort);
      };
      const off = this.on(`change:${key}` as `change:${K}`, (v) => {
        done();
        resolve(v);
      });
      const onAbort = () => {
        done();
        reject(options.signal?.aborted ? options.signal.reason : new Error("the widget was closed"));
      };
      if (this.closed || options.signal?.aborted) return onAbort();
      this.signal.addEventListener("abort", onAbort, { once: true });
      options.signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Sends a custom message to the view (`model.on("msg:custom", (content, buffers) => …)` in the ESM). */
  send(content: unknown, buffers: (ArrayBuffer | ArrayBufferView)[] = []): void {
    if (this.closed) throw new Error("the widget is closed");
    this.comm.send({ method: "custom", content }, { buffers });
  }

  close(): void {
    if (this.closed) return;
    this.comm.close();
    this.dispose();
  }

  fullState(): ReturnType<RegisteredWidget["fullState"]> {
    return {
      model_name: "AnyModel",
      model_module: "anywidget",
      model_module_version: this.version,
      state: { ...this.state },
    };
  }

  [DISPLAY](): MimeBundle {
    return {
      "application/vnd.jupyter.widget-view+json": { version_major: 2, version_minor: 1, model_id: this.id },
      ...(this.snapshot ? { "text/html": this.snapshot(this.state) } : {}),
      "text/plain": this.toString(),
    };
  }

  toString(): string {
    const keys = Object.keys(this.state).filter((k) => !k.startsWith("_"));
    return `AnyModel(${keys.join(", ")})`;
  }

  private dispose(): void {
    if (this.closed) return;
    this.controller.abort();
    widgetRegistry().delete(this.comm.id);
  }

  private emit(event: string, ...args: unknown[]): void {
    for (const l of [...(this.listeners.get(event) ?? [])]) (l as (...a: unknown[]) => void)(...args);
  }

  private apply(changes: WidgetState): void {
    const changed: WidgetState = {};
    for (const [k, v] of Object.entries(changes)) {
      const prev = this.state[k];
      this.state[k] = v;
      changed[k] = v;
      this.emit(`change:${k}`, v, prev);
    }
    if (Object.keys(changed).length) this.emit("change", changed);
  }

  private onMessage(m: CommMessage): void {
    const data = m.data as { method?: string; state?: WidgetState; buffer_paths?: BufferPath[]; content?: unknown };
    switch (data.method) {
      case "update": {
        const state = { ...(data.state ?? {}) };
        putBuffers(state, data.buffer_paths ?? [], m.buffers);
        // Protocol keys the frontend reports (e.g. _view_count) are stored without firing user listeners.
        const user: WidgetState = {};
        for (const [k, v] of Object.entries(state)) {
          if (k.startsWith("_")) this.state[k] = v;
          else user[k] = v;
        }
        this.apply(user);
        return;
      }
      case "request_state": {
        const { state, buffer_paths, buffers } = removeBuffers(this.state);
        this.comm.send({ method: "update", state, buffer_paths }, { buffers });
        return;
      }
      case "custom":
        this.emit("msg:custom", data.content, m.buffers.map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)));
        return;
      default:
        return;
    }
  }
}

/** Creates an anywidget model; show it by making it the cell's value or with `display(model)`. */
export function widget<S extends WidgetState>(options: WidgetOptions<S>): WidgetModel<S> {
  return new WidgetModel<S>(options);
}
