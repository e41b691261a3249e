/**
 * The run monitor's view (anywidget ESM) and style. It only draws the model (run-monitor.ts keeps it up to date)
 * and sends the user's requests back as custom messages: `{ action: "refresh" | "stop" }`, `{ action: "select",
 * step }`. Text from the server goes in through textContent only, never as HTML. Stopping a run asks for a
 * second click, as the run cannot be resumed.
 */

import { VIEW_HELPERS } from "./view-helpers";

export const RUN_MONITOR_ESM = `${VIEW_HELPERS}
const TERMINAL = new Set(["finished", "failed", "stopped", "deleted"]);
const KEYS = ["name", "status", "total", "finished", "running", "failed", "step", "started", "ended", "jobs", "selected", "log", "polling", "busy", "error", "updated"];

function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return isNaN(d.getTime()) ? iso : d.toLocaleString();
}

function render({ model, el }) {
  const root = h("div", "vre-run");
  const head = h("div", "vre-run-head");
  const title = h("span", "vre-run-name");
  const pill = h("span", "vre-run-pill");
  const live = h("span", "vre-run-live");
  head.append(title, pill, live);
  const bar = h("div", "vre-run-bar");
  const done = h("div", "vre-run-bar-done");
  const bad = h("div", "vre-run-bar-failed");
  bar.append(done, bad);
  const counts = h("div", "vre-run-counts");
  const times = h("div", "vre-run-times");
  const jobs = h("ol", "vre-run-jobs");
  const logTitle = h("div", "vre-run-log-title");
  const log = h("pre", "vre-run-log");
  const error = h("div", "vre-run-error");
  const buttons = h("div", "vre-run-buttons");
  const refresh = h("button", "vre-run-refresh", "Refresh");
  const stop = h("button", "vre-run-stop", "Stop run");
  buttons.append(refresh, stop);
  root.append(head, bar, counts, times, jobs, logTitle, log, error, buttons);
  el.append(root);

  let confirming = false;
  refresh.addEventListener("click", () => model.send({ action: "refresh" }));
  stop.addEventListener("click", () => {
    if (!confirming) {
      confirming = true;
      stop.textContent = "Click again to stop";
      setTimeout(() => {
        confirming = false;
        update();
      }, 4000);
      return;
    }
    confirming = false;
    model.send({ action: "stop" });
  });

  function update() {
    const status = model.get("status") || "…";
    const total = model.get("total") || 0;
    const finished = model.get("finished") || 0;
    const failed = model.get("failed") || 0;
    const ended = TERMINAL.has(status);
    title.textContent = model.get("name");
    pill.textContent = status;
    pill.dataset.status = status;
    live.textContent = model.get("polling") ? "following" : "";
    done.style.width = total ? (100 * finished) / total + "%" : ended && status === "finished" ? "100%" : "0%";
    bad.style.width = total ? (100 * failed) / total + "%" : "0%";
    const step = model.get("step");
    counts.textContent = total
      ? finished + " of " + total + " jobs finished" + (failed ? ", " + failed + " failed" : "") + (step ? " · now: " + step : "")
      : step ? "now: " + step : "";
    const started = when(model.get("started"));
    const endedAt = when(model.get("ended"));
    times.textContent = [started && "started " + started, endedAt && "ended " + endedAt].filter(Boolean).join(" · ");
    const selected = model.get("selected");
    jobs.replaceChildren(
      ...(model.get("jobs") || []).map((j) => {
        const li = h("li", "vre-run-job" + (j.step === selected ? " vre-run-selected" : ""));
        const name = h("button", "vre-run-job-name", j.step || "(unnamed step)");
        name.addEventListener("click", () => model.send({ action: "select", step: j.step }));
        const st = h("span", "vre-run-pill", j.status || "?");
        st.dataset.status = j.status || "";
        li.append(name, st);
        return li;
      }),
    );
    logTitle.textContent = selected ? "Log of " + selected + (model.get("log") ? "" : " (empty so far)") : "";
    log.textContent = model.get("log") || "";
    log.hidden = !model.get("log");
    error.textContent = model.get("error") || "";
    error.hidden = !model.get("error");
    const busy = model.get("busy");
    stop.disabled = ended || Boolean(busy) || !model.get("status");
    if (!confirming) stop.textContent = busy === "stopping" ? "Stopping…" : "Stop run";
    refresh.disabled = Boolean(busy);
  }

  const stopRedraw = redrawOn(model, KEYS, update);
  update();
  return () => {
    stopRedraw();
  };
}

export default { render };
`;

export const RUN_MONITOR_CSS = `
.vre-run { font-family: var(--jp-ui-font-family, sans-serif); font-size: var(--jp-ui-font-size1, 13px); color: var(--jp-ui-font-color1, #222); max-width: 56em; padding: 4px 0; }
.vre-run-head { display: flex; align-items: center; gap: 8px; margin-bottom: 6px; }
.vre-run-name { font-weight: 600; }
.vre-run-live { color: var(--jp-ui-font-color2, #666); font-size: 0.9em; }
.vre-run-pill { border-radius: 9px; padding: 0 8px; font-size: 0.9em; background: var(--jp-layout-color3, #ddd); }
.vre-run-pill[data-status="running"], .vre-run-pill[data-status="pending"], .vre-run-pill[data-status="queued"] { background: var(--jp-brand-color3, #bbdefb); }
.vre-run-pill[data-status="finished"] { background: var(--jp-success-color3, #c8e6c9); }
.vre-run-pill[data-status="failed"] { background: var(--jp-error-color3, #ffcdd2); }
.vre-run-pill[data-status="stopped"], .vre-run-pill[data-status="deleted"] { background: var(--jp-warn-color3, #ffe0b2); }
.vre-run-bar { display: flex; height: 8px; border-radius: 4px; overflow: hidden; background: var(--jp-layout-color3, #e0e0e0); margin: 4px 0; }
.vre-run-bar-done { background: var(--jp-success-color1, #388e3c); transition: width 0.3s; }
.vre-run-bar-failed { background: var(--jp-error-color1, #d32f2f); transition: width 0.3s; }
.vre-run-counts, .vre-run-times { color: var(--jp-ui-font-color2, #555); margin: 2px 0; }
.vre-run-jobs { margin: 6px 0; padding-left: 1.6em; }
.vre-run-job { margin: 1px 0; }
.vre-run-job-name { background: none; border: none; padding: 0 4px 0 0; color: var(--jp-content-link-color, #1976d2); cursor: pointer; font: inherit; }
.vre-run-selected .vre-run-job-name { font-weight: 600; }
.vre-run-log-title { margin-top: 6px; font-weight: 600; }
.vre-run-log { max-height: 20em; overflow: auto; background: var(--jp-layout-color2, #f5f5f5); padding: 6px; margin: 4px 0; font-family: var(--jp-code-font-family, monospace); font-size: var(--jp-code-font-size, 12px); white-space: pre-wrap; }
.vre-run-error { color: var(--jp-error-color1, #d32f2f); margin: 4px 0; }
.vre-run-buttons { display: flex; gap: 6px; margin-top: 6px; }
`;
