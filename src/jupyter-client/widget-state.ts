/**
 * Records the state of every `jupyter.widget` model from comm traffic, so the saved notebook carries
 * `metadata.widgets["application/vnd.jupyter.widget-state+json"]` and its widgets render again when opened,
 * like nbclient. Binary buffers are stored base64-encoded under the model's `buffers`, with their state path.
 */
import type { WireMessage } from "./messages";

export const WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json";
const WIDGET_TARGET = "jupyter.widget";

interface StoredBuffer {
  data: string;
  encoding: "base64";
  path: (string | number)[];
}

interface ModelRecord {
  state: Record<string, unknown>;
  buffers: Map<string, StoredBuffer>;
}

export interface WidgetStateDocument {
  version_major: 2;
  version_minor: 0;
  state: Record<
    string,
    { model_name: unknown; model_module: unknown; model_module_version: unknown; state: Record<string, unknown>; buffers?: StoredBuffer[] }
  >;
}

export class WidgetStateCollector {
  private readonly models = new Map<string, ModelRecord>();

  /** Feeds one iopub message; everything that is not widget comm traffic is ignored. */
  handle(msg: WireMessage): void {
    const content = msg.content as Record<string, any>;
    const commId = typeof content.comm_id === "string" ? content.comm_id : undefined;
    if (!commId) return;
    switch (msg.header.msg_type) {
      case "comm_open":
        if (content.target_name !== WIDGET_TARGET) return;
        this.models.set(commId, { state: {}, buffers: new Map() });
        this.apply(commId, content.data, msg.buffers);
        return;
      case "comm_msg": {
        const method = content.data?.method;
        if (method === "update" || method === "echo_update") this.apply(commId, content.data, msg.buffers);
        return;
      }
      case "comm_close":
        this.models.delete(commId);
        return;
    }
  }

  private apply(commId: string, data: Record<string, any> | undefined, buffers: Buffer[]): void {
    const model = this.models.get(commId);
    if (!model || !data || typeof data.state !== "object" || data.state === null) return;
    Object.assign(model.state, data.state);
    const paths: unknown[] = Array.isArray(data.buffer_paths) ? data.buffer_paths : [];
    paths.forEach((path, i) => {
      if (!Array.isArray(path) || !buffers[i]) return;
      model.buffers.set(JSON.stringify(path), { data: buffers[i].toString("base64"), encoding: "base64", path: path as (string | number)[] });
    });
  }

  get size(): number {
    return this.models.size;
  }

  /** The widget-state document, or undefined when no widget model is alive. */
  document(): WidgetStateDocument | undefined {
    if (this.models.size === 0) return undefined;
    const state: WidgetStateDocument["state"] = {};
    for (const [id, model] of this.models) {
      state[id] = {
        model_name: model.state._model_name,
        model_module: model.state._model_module,
        model_module_version: model.state._model_module_version,
        state: { ...model.state },
        ...(model.buffers.size ? { buffers: [...model.buffers.values()] } : {}),
      };
    }
    return { version_major: 2, version_minor: 0, state };
  }
}
