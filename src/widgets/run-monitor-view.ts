/**
 * The run monitor's view (anywidget ESM) and style. It only draws the model (run-monitor.ts keeps it up to date)
 * and sends the user's requests back as custom messages: `{ action: "refresh" | "stop" }`, `{ action: "select",
 * step }`. Text from the server goes in through textContent only, never as HTML. Stopping a run asks for a
 * second click, as the run cannot be resumed. Steps are listed in the model's order (DAG order when the
 * kernel knows the specification), the ones not started yet included, with their durations.
 */

import { VIEW_CSS, VIEW_HELPERS } from "./view-helpers";

export const RUN_MONITOR_ESM = `${VIEW_HELPERS}
const TERMINAL = new Set(["finished", "failed", "stopped", "deleted"]);
const KEYS = ["name", "status", "total", "finished", "running", "failed", "step", "started", "ended", "jobs", "steps", "selected", "log", "polling", "busy", "error", "updated", "files", "files_total", "ui_url"];
const TONES = { finished: "ok", running: "busy", pending: "idle", queued: "idle", created: "idle", failed: "bad", stopped: "warn", deleted: "warn", skipped: "idle" };

function seconds(from, to) {
  const a = Date.parse(from);
  const b = to ? Date.parse(to) : Date.now();
  return isNaN(a) || isNaN(b) ? undefined : Math.max(0, (b - a) / 1000);
}

/** Steps with their jobs' times: the model's DAG steps when it has them, else one row per step of the jobs. */
function stepRows(model) {
  const jobs = model.get("jobs") || [];
  const steps = model.get("steps") || [];
  const names = steps.length ? steps.map((s) => s.name) : [...new Set(jobs.map((j) => j.step))];
  return names.map((name) => {
    const mine = jobs.filter((j) => j.step === name);
    const step = steps.find((s) => s.name === name);
    const started = mine.map((j) => j.started).filter(Boolean).sort()[0] || "";
    const done = mine.length > 0 && mine.every((j) => j.finished);
    const finished = done ? mine.map((j) => j.finished).sort().pop() : "";
    const status = step ? step.status : mine.length ? mine[mine.length - 1].status : "pending";
    const count = step ? step.finished + "/" + step.jobs : mine.length > 1 ? mine.filter((j) => j.status === "finished").length + "/" + mine.length : "";
    return { name, status: status || "pending", started, finished, count };
  });
}

function render({ model, el }) {
  const root = h("div", "vre-run");
  const head = h("div", "vre-run-head");
  const title = h("span", "vre-run-name");
  const statusBox = h("span", "vre-run-status");
  const live = h("span", "vre-run-live");
  const ui = h("a", "vre-run-ui", "Open in REANA");
  ui.target = "_blank";
  ui.rel = "noopener";
  head.append(title, statusBox, live, ui);
  const barBox = h("div", "vre-run-barbox");
  const counts = h("div", "vre-run-counts");
  const times = h("div", "vre-run-times");
  const stepsBox = h("div", "vre-table-box");
  const logTitle = h("div", "vre-run-log-title");
  const log = h("pre", "vre-run-log");
  const filesBox = h("details", "vre-run-files");
  const error = h("div", "vre-run-error");
  error.setAttribute("role", "alert");
  const buttons = h("div", "vre-run-buttons");
  const refresh = button("Refresh", "vre-run-refresh", "reject");
  const stop = button("Stop run", "vre-run-stop", "warn");
  buttons.append(refresh, stop);
  root.append(head, barBox, counts, times, stepsBox, logTitle, log, filesBox, error, buttons);
  el.append(root);
  const link = notebookLink(model, root, { title: "REANA run monitor" });

  let confirming = false;
  let confirmTimer;
  refresh.addEventListener("click", () => model.send({ action: "refresh" }));
  stop.addEventListener("click", () => {
    if (!confirming) {
      confirming = true;
      stop.textContent = "Click again to stop";
      clearTimeout(confirmTimer);
      confirmTimer = setTimeout(() => {
        confirming = false;
        update();
      }, 4000);
      return;
    }
    confirming = false;
    model.send({ action: "stop" });
  });
  let filesOpen = false;
  filesBox.addEventListener("toggle", () => (filesOpen = filesBox.open));

  function drawSteps() {
    const rows = stepRows(model);
    stepsBox.replaceChildren();
    if (!rows.length) return;
    const selected = model.get("selected");
    const table = h("table", "vre-table vre-run-steps");
    const hr = h("tr");
    for (const [c, num] of [["step", false], ["status", false], ["jobs", true], ["started", false], ["duration", true]]) hr.append(h("th", num ? "vre-num" : "", c));
    const thead = h("thead");
    thead.append(hr);
    const tbody = h("tbody");
    for (const r of rows) {
      const tr = h("tr", "vre-run-job" + (r.name === selected ? " vre-run-selected" : ""));
      tr.dataset.status = r.status;
      const nameCell = h("td");
      const hasLog = (model.get("jobs") || []).some((j) => j.step === r.name);
      if (hasLog) {
        const name = h("button", "vre-link-button vre-run-job-name", r.name || "(unnamed step)");
        name.type = "button";
        name.title = "Show this step's log";
        name.addEventListener("click", () => model.send({ action: "select", step: r.name }));
        nameCell.append(name);
      } else nameCell.append(h("span", "vre-run-job-name vre-muted", r.name));
      const st = h("td");
      st.append(pill(r.status, TONES[r.status] || "idle", "vre-run-pill"));
      tr.append(nameCell, st, h("td", "vre-num", r.count), h("td", "vre-run-when", formatClock(r.started)), h("td", "vre-num vre-run-duration", r.started ? formatDuration(seconds(r.started, r.finished || (TERMINAL.has(model.get("status")) ? model.get("ended") : ""))) : ""));
      tbody.append(tr);
    }
    table.append(thead, tbody);
    stepsBox.append(table);
  }

  function drawFiles() {
    const files = model.get("files") || [];
    const total = model.get("files_total") || files.length;
    filesBox.replaceChildren();
    filesBox.hidden = files.length === 0;
    if (!files.length) return;
    filesBox.open = filesOpen;
    filesBox.append(h("summary", "", "Workspace (" + total + " file" + (total === 1 ? "" : "s") + (total > files.length ? ", first " + files.length + " shown" : "") + ")"));
    const table = h("table", "vre-table");
    const hr = h("tr");
    for (const [c, num] of [["file", false], ["size", true], ["modified", false]]) hr.append(h("th", num ? "vre-num" : "", c));
    const thead = h("thead");
    thead.append(hr);
    const tbody = h("tbody");
    for (const f of files) {
      const tr = h("tr");
      tr.append(h("td", "vre-mono vre-run-file", f.name), h("td", "vre-num", formatSize(f.bytes)), h("td", "vre-run-when", formatTime(f.modified)));
      tbody.append(tr);
    }
    table.append(thead, tbody);
    const box = h("div", "vre-table-box");
    box.append(table);
    filesBox.append(box, h("div", "vre-muted", "Fetch them with %reana download -w " + model.get("name") + " PATH"));
  }

  function update() {
    const status = model.get("status") || "";
    const total = model.get("total") || 0;
    const finished = model.get("finished") || 0;
    const failed = model.get("failed") || 0;
    const ended = TERMINAL.has(status);
    title.textContent = model.get("name");
    statusBox.replaceChildren(status ? pill(status, TONES[status] || "idle", "vre-run-pill") : spinner("Reading the run…"));
    live.replaceChildren();
    if (model.get("polling") && !link.stale) live.append(spinner("following"));
    ui.hidden = !model.get("ui_url");
    if (model.get("ui_url")) ui.href = model.get("ui_url");
    const tone = failed || status === "failed" ? "bad" : ended ? (status === "finished" ? "ok" : "warn") : "busy";
    barBox.replaceChildren(progressBar(total ? finished : ended ? 1 : 0, total || (ended ? 1 : 0), tone, "vre-run-bar"));
    const step = model.get("step");
    counts.textContent = total
      ? finished + " of " + total + " jobs finished" + (failed ? ", " + failed + " failed" : "") + (step ? " · now: " + step : "")
      : step ? "now: " + step : "";
    const started = model.get("started");
    const endedAt = model.get("ended");
    const took = started ? seconds(started, endedAt || (ended ? "" : undefined)) : undefined;
    times.textContent = [started && "started " + formatTime(started), endedAt && "ended " + formatTime(endedAt), took !== undefined && (endedAt || !ended) ? (endedAt ? "took " : "running for ") + formatDuration(took) : ""].filter(Boolean).join(" · ");
    drawSteps();
    const selected = model.get("selected");
    logTitle.textContent = selected ? "Log of " + selected + (model.get("log") ? "" : " (empty so far)") : "";
    // Follow the end of a growing log unless the reader scrolled up.
    const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    const text = model.get("log") || "";
    if (log.textContent !== text) {
      log.textContent = text;
      if (atEnd) log.scrollTop = log.scrollHeight;
    }
    log.hidden = !text;
    drawFiles();
    error.textContent = model.get("error") || "";
    error.hidden = !model.get("error");
    const busy = model.get("busy");
    stop.disabled = ended || Boolean(busy) || !status;
    if (!confirming) stop.textContent = busy === "stopping" ? "Stopping…" : "Stop run";
    refresh.disabled = Boolean(busy);
    link.freeze();
  }

  const stopRedraw = redrawOn(model, KEYS, update);
  update();
  return () => {
    clearTimeout(confirmTimer);
    stopRedraw();
    link.dispose();
  };
}

export default { render };
`;

export const RUN_MONITOR_CSS = `${VIEW_CSS}
.vre-run { font-family: var(--jp-ui-font-family); font-size: var(--jp-ui-font-size1); color: var(--jp-ui-font-color1); max-width: 56em; padding: 4px 0; }
.vre-run-head { display: flex; align-items: center; flex-wrap: wrap; gap: 8px; margin-bottom: 4px; }
.vre-run-name { font-weight: 600; word-break: break-all; }
.vre-run-live { font-size: var(--jp-ui-font-size0, 11px); }
.vre-run-ui { margin-left: auto; color: var(--jp-content-link-color); }
.vre-run-counts, .vre-run-times { color: var(--jp-ui-font-color2); margin: 2px 0; }
.vre-run-steps { margin-top: 6px; }
.vre-run-steps .vre-run-when { white-space: nowrap; color: var(--jp-ui-font-color2); }
.vre-run-steps tr[data-status="pending"] .vre-run-job-name, .vre-run-steps tr[data-status="skipped"] .vre-run-job-name { font-style: italic; }
.vre-run-steps tbody tr.vre-run-selected { background: color-mix(in srgb, var(--jp-brand-color1) 18%, transparent); box-shadow: inset 3px 0 0 var(--jp-brand-color1); }
.vre-run-log-title { margin-top: 6px; font-weight: 600; }
.vre-run-log { max-height: 20em; overflow: auto; background: var(--jp-cell-editor-background, var(--jp-layout-color2)); color: var(--jp-content-font-color1); border: var(--jp-border-width, 1px) solid var(--jp-cell-editor-border-color, var(--jp-border-color2)); padding: 6px; margin: 4px 0; font-family: var(--jp-code-font-family); font-size: var(--jp-code-font-size); white-space: pre-wrap; word-break: break-all; }
.vre-run-files { margin: 6px 0; }
.vre-run-files summary { cursor: pointer; font-weight: 600; }
.vre-run-file { word-break: break-all; }
.vre-run-error { color: var(--jp-error-color1); margin: 4px 0; }
.vre-run-buttons { display: flex; gap: 6px; margin-top: 6px; }
`;
