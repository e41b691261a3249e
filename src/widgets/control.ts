/**
 * The `jupyter.widget.control` target: a frontend that reloads asks for every live model's state at once
 * (`request_states` → `update_states`), so widgets survive a page reload. Buffer paths are relative to the whole
 * `states` object (`[model_id, "state", key, …]`), as ipywidgets sends them.
 */
import type { CommManager } from "../kernel/comm/manager";
import { removeBuffers } from "./buffers";
import { widgetRegistry } from "./widget";

export const CONTROL_TARGET = "jupyter.widget.control";

export function registerWidgetControl(comms: CommManager): () => void {
  return comms.registerTarget(CONTROL_TARGET, (comm) => {
    comm.onMessage((m) => {
      if ((m.data as { method?: string }).method !== "request_states") return;
      const states: Record<string, unknown> = {};
      for (const [id, w] of widgetRegistry()) states[id] = w.fullState();
      const { state, buffer_paths, buffers } = removeBuffers(states);
      comm.send({ method: "update_states", states: state, buffer_paths }, { buffers });
    });
  });
}
