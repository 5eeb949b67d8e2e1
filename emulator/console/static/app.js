// fcemu's live console: plain JS, no framework. It reads FC's API and fcemu's /_fcemu routes, and re-reads only
// what a task event (server-sent, /_fcemu/events) says has changed.
"use strict";

const V3 = "/2023-03-30";
const state = { functions: [], selected: null, openTask: null, live: null };
const $ = (selector) => document.querySelector(selector);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function say(text, isError = false) {
  const box = $("#message");
  box.textContent = text || "";
  box.className = isError ? "error" : "";
}

class HttpError extends Error {
  constructor(status, body) {
    super((body && (body.Message || body.ErrorMessage || body.detail)) || `HTTP ${status}`);
    this.status = status;
    this.code = (body && (body.Code || body.ErrorCode)) || "";
  }
}

async function call(method, url, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["content-type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const reply = await fetch(url, options);
  const text = await reply.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!reply.ok) throw new HttpError(reply.status, data);
  return data;
}

// The steering and log routes come with other parts of fcemu: a route this build lacks answers 404, or FC's
// PathNotSupported (how fcemu answers an unknown path); a task or function that is not there says "NotFound".
function unavailable(error) {
  if (!(error instanceof HttpError)) return false;
  if (error.code === "PathNotSupported") return true;
  return error.status === 404 && !/NotFound$/.test(error.code);
}

function missing(error, what) {
  if (unavailable(error)) return `${what} is not available in this fcemu build (its route is missing).`;
  return `${what} failed: ${error.message}`;
}

const time = (ms) => (ms ? new Date(ms).toLocaleString(undefined, { hour12: false }) : "—");
const clockTime = (ms) => (ms ? new Date(ms).toLocaleTimeString(undefined, { hour12: false }) : "—");
const enc = encodeURIComponent;

// Coalesces bursts of events into one refresh per view.
function debounced(run, wait) {
  let timer = null;
  let running = false;
  let again = false;
  const fire = async () => {
    timer = null;
    if (running) { again = true; return; }
    running = true;
    try { await run(); } catch (error) { say(error.message, true); }
    running = false;
    if (again) { again = false; schedule(); }
  };
  const schedule = () => { if (timer === null) timer = setTimeout(fire, wait); };
  return schedule;
}

// ---- functions -------------------------------------------------------------------------------------------

async function loadFunctions() {
  state.functions = await call("GET", "/_fcemu/functions");
  const list = $("#function-list");
  list.replaceChildren(...state.functions.map((fn) => el("li", {},
    el("button", {
      type: "button", "data-function": fn.functionName,
      "aria-current": fn.functionName === state.selected ? "true" : "false",
      onclick: () => selectFunction(fn.functionName),
    }, el("span", {}, fn.functionName),
    el("span", { class: "count", title: "warm instances" }, fn.instances.length ? `${fn.instances.length}▲` : "")))));
  if (!state.selected && state.functions.length) {
    const wanted = new URLSearchParams(location.hash.slice(1)).get("function");
    await selectFunction(wanted && state.functions.some((f) => f.functionName === wanted) ? wanted
      : state.functions[0].functionName, false);
  } else {
    renderFunction();
  }
}

async function selectFunction(name, focusList = true) {
  state.selected = name;
  state.openTask = null;
  if (logStream) { logStream.close(); logStream = null; }
  location.hash = `function=${enc(name)}`;
  for (const button of document.querySelectorAll("#function-list button")) {
    button.setAttribute("aria-current", button.dataset.function === name ? "true" : "false");
  }
  renderFunction();
  $("#timeline-panel").replaceChildren(el("p", { class: "hint" }, "Open a task to see its timeline."));
  await Promise.all([loadQueue(), loadTasks()]);
  if (!focusList) return;
}

function renderFunction() {
  const fn = state.functions.find((f) => f.functionName === state.selected);
  const box = $("#function-detail");
  if (!fn) { box.replaceChildren(el("p", { class: "hint" }, "Choose a function.")); return; }
  const config = fn.asyncConfig || {};
  const destinations = config.destinationConfig || {};
  box.replaceChildren(
    el("h2", {}, fn.functionName),
    el("dl", { class: "settings" },
      el("dt", {}, "runtime"), el("dd", {}, fn.runtime),
      el("dt", {}, "handler"), el("dd", {}, fn.handler),
      el("dt", {}, "memory"), el("dd", {}, `${fn.memorySize} MB`),
      el("dt", {}, "timeout"), el("dd", {}, `${fn.timeout} s`),
      el("dt", {}, "concurrency"), el("dd", {}, `${fn.instanceConcurrency} per instance, ` +
        (fn.reservedConcurrency == null ? "no reserved concurrency" :
          `reserved ${fn.reservedConcurrency} instance${fn.reservedConcurrency === 1 ? "" : "s"}` +
          (fn.reservedConcurrency === 0 ? " (stopped: invokes are throttled)" : ""))),
      el("dt", {}, "async"), el("dd", {},
        `task mode ${config.asyncTask ? "on" : "off"}, ${config.maxAsyncRetryAttempts ?? 3} retries, ` +
        `max age ${config.maxAsyncEventAgeInSeconds ?? 86400} s` +
        (destinations.onSuccess ? `, on success → ${destinations.onSuccess.destination}` : "") +
        (destinations.onFailure ? `, on failure → ${destinations.onFailure.destination}` : "")),
      el("dt", {}, "instances"), el("dd", {}, fn.instances.length ? fn.instances.map((i) =>
        `${i.instanceId} (${i.state}, ${i.active}/${i.capacity} busy)`).join(", ") : "none warm"),
      el("dt", {}, "invocation"), el("dd", { id: "invocation" }, invocationText(fn.invocationRestriction)),
      el("dt", {}, "provisioned"), el("dd", { id: "provision" }, (fn.provisionConfigs || []).length
        ? fn.provisionConfigs.map((p) => `${p.qualifier}: ${p.current} of ${p.target} warm` +
          (p.currentError ? ` (${p.currentError})` : "")).join(", ") : "none"),
    ),
    el("h3", {}, "Versions"),
    (fn.versions || []).length ? el("table", { id: "versions" },
      el("thead", {}, el("tr", {}, el("th", {}, "Version"), el("th", {}, "Description"), el("th", {}, "Created"))),
      el("tbody", {}, [...fn.versions].reverse().map((v) => el("tr", { "data-version": v.versionId },
        el("td", {}, v.versionId), el("td", {}, v.description || "—"), el("td", {}, time(Date.parse(v.createdTime))))))) :
      el("p", { class: "hint" }, "none published"),
    el("h3", {}, "Aliases"),
    (fn.aliases || []).length ? el("ul", { id: "aliases" }, fn.aliases.map((a) =>
      el("li", { "data-alias": a.aliasName }, aliasText(a)))) : el("p", { class: "hint" }, "none"),
    el("h3", {}, "Triggers"),
    fn.triggers.length ? el("ul", {}, fn.triggers.map((t) => el("li", {},
      `${t.triggerName} (${t.triggerType}${t.triggerConfig.cronExpression ? ", " + t.triggerConfig.cronExpression : ""}) `,
      t.triggerType === "timer" ? el("button", { type: "button", onclick: () => fire(fn.functionName, t.triggerName) },
        "Fire now") : null,
      // The function's own origin: its page opens apart from the console (see docs/security.md).
      t.url ? el("a", { href: t.url, target: "_blank", rel: "noopener noreferrer" }, t.url) : null))) :
      el("p", { class: "hint" }, "none"),
  );
}

function invocationText(restriction) {
  if (!restriction || !restriction.disable) return "enabled";
  return `disabled since ${time(Date.parse(restriction.lastModifiedTime))}` +
    (restriction.reason ? `: ${restriction.reason}` : "");
}

// An alias and its canary: "prod → 1 (80%), 2 (20%)".
function aliasText(alias) {
  const extra = Object.entries(alias.additionalVersionWeight || {});
  const share = (weight) => `${Math.round(weight * 1000) / 10}%`;
  const rest = 1 - extra.reduce((sum, [, weight]) => sum + weight, 0);
  return `${alias.aliasName} → ${alias.versionId}` + (extra.length ? ` (${share(rest)}), ` +
    extra.map(([version, weight]) => `${version} (${share(weight)})`).join(", ") : "") +
    (alias.description ? ` — ${alias.description}` : "");
}

// FC's limits refused to run the task for a while: an Enqueued event saying ResourceThrottled.
const throttledEvent = (event) => event.status === "Enqueued" && /^ResourceThrottled/.test(event.eventDetail || "");

// The qualifier the task was invoked with, and the version that ran when another.
function qualifierText(task) {
  const qualifier = task.qualifier || "LATEST";
  return task.versionId && task.versionId !== qualifier ? `${qualifier} → ${task.versionId}` : qualifier;
}

// ---- queue -----------------------------------------------------------------------------------------------

function queueTable(title, rows, now, timeLabel) {
  return el("div", {},
    el("h3", {}, `${title} (${rows.length})`),
    rows.length ? el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Task"), el("th", {}, "Status"),
      el("th", {}, timeLabel))),
    el("tbody", {}, rows.map((row) => el("tr", {},
      el("td", { class: "id" }, row.taskId), el("td", { class: `status s-${row.status}` }, row.status),
      el("td", { title: time(row.time) }, relative(row.time - now)))))) : el("p", { class: "hint" }, "empty"));
}

function relative(ms) {
  const s = Math.round(ms / 1000);
  if (Math.abs(s) < 1) return "now";
  const unit = Math.abs(s) >= 3600 ? [3600, "h"] : Math.abs(s) >= 60 ? [60, "min"] : [1, "s"];
  const value = Math.round((s / unit[0]) * 10) / 10;
  return value > 0 ? `in ${value} ${unit[1]}` : `${-value} ${unit[1]} ago`;
}

async function loadQueue() {
  if (!state.selected) return;
  const name = state.selected;
  const queue = await call("GET", `/_fcemu/functions/${enc(name)}/queue`);
  if (name !== state.selected) return;
  $("#queue").replaceChildren(el("div", { class: "queue-grid" },
    queueTable("Due", queue.due, queue.now, "due"),
    queueTable("Deferred / retrying", queue.deferred, queue.now, "due"),
    queueTable("In flight", queue.inflight, queue.now, "lease ends")));
}

// ---- tasks -----------------------------------------------------------------------------------------------

async function loadTasks() {
  if (!state.selected) return;
  const name = state.selected;
  const query = new URLSearchParams({ limit: "100", sortOrderByTime: "desc" });
  const status = $("#status-filter").value;
  const prefix = $("#prefix-filter").value.trim();
  if (status) query.set("status", status);
  if (prefix) query.set("prefix", prefix);
  const reply = await call("GET", `${V3}/functions/${enc(name)}/async-tasks?${query}`);
  if (name !== state.selected) return;
  const focused = document.activeElement && document.activeElement.dataset
    ? document.activeElement.dataset.taskId : undefined;
  const rows = reply.tasks.map((task) => el("tr", {
    tabindex: "0", "data-task-id": task.taskId, "data-status": task.status,
    "data-throttled": (task.events || []).some(throttledEvent) ? "true" : null,
    "aria-selected": task.taskId === state.openTask ? "true" : "false",
    onclick: () => openTask(task.taskId),
    onkeydown: (event) => { if (event.key === "Enter") { event.preventDefault(); openTask(task.taskId, true); } },
  },
  el("td", { class: "id" }, task.taskId),
  el("td", { class: `status s-${task.status}` }, task.status, throttledMark(task)),
  el("td", { class: "qualifier" }, qualifierText(task)),
  el("td", {}, time(task.startedTime)),
  el("td", {}, task.durationMs != null ? `${task.durationMs} ms` : "—"),
  el("td", {}, task.alreadyRetriedTimes ?? 0),
  el("td", {}, task.destinationStatus || "—")));
  $("#task-rows").replaceChildren(...(rows.length ? rows
    : [el("tr", {}, el("td", { colspan: "7", class: "hint" }, "No tasks match."))]));
  if (focused) {
    const again = document.querySelector(`tr[data-task-id="${CSS.escape(focused)}"]`);
    if (again) again.focus();
  }
}

function throttledMark(task) {
  const events = (task.events || []).filter(throttledEvent);
  if (!events.length) return null;
  return el("span", { class: "mark throttled", title: events[events.length - 1].eventDetail },
    events.length > 1 ? `throttled ×${events.length}` : "throttled");
}

async function openTask(taskId, focusPanel = false) {
  state.openTask = taskId;
  for (const row of document.querySelectorAll("#task-rows tr[data-task-id]")) {
    row.setAttribute("aria-selected", row.dataset.taskId === taskId ? "true" : "false");
  }
  await loadTimeline();
  if (focusPanel) $("#timeline-panel").focus();
}

async function loadTimeline() {
  const name = state.selected;
  const taskId = state.openTask;
  if (!name || !taskId) return;
  const task = await call("GET", `${V3}/functions/${enc(name)}/async-tasks/${enc(taskId)}`);
  if (taskId !== state.openTask) return;
  const finished = ["Succeeded", "Failed", "Stopped", "Expired", "Invalid"].includes(task.status);
  const payload = el("textarea", { id: "rerun-payload", rows: "4", "aria-label": "payload for a re-run" });
  payload.value = task.taskPayload ?? "";
  const panel = $("#timeline-panel");
  panel.replaceChildren(...[
    el("h2", {}, "Task ", el("span", { class: "id" }, taskId)),
    el("p", {}, el("span", { id: "task-status", class: `status s-${task.status}` }, task.status),
      throttledMark(task), " · ", el("span", { id: "task-qualifier" }, qualifierText(task)),
      ` · attempts ${1 + (task.alreadyRetriedTimes || 0)}`,
      task.instanceId ? ` · instance ${task.instanceId}` : "", ` · request ${task.requestId}`),
    el("div", { class: "actions" },
      el("button", { type: "button", disabled: finished, onclick: () => steer("run-now", name, taskId) }, "Run now"),
      el("button", { type: "button", disabled: finished, onclick: () => stopTask(name, taskId) }, "Stop"),
      el("button", { type: "button", class: "primary", disabled: !finished,
        onclick: () => rerun(name, taskId, payload.value, task.taskPayload ?? "") }, "Re-run")),
    el("h3", {}, "Timeline"),
    el("ol", { id: "timeline", class: "events" }, (task.events || []).map((event) => el("li", {
      class: `event s-${event.status}${throttledEvent(event) ? " throttled" : ""}`, "data-status": event.status,
      "data-throttled": throttledEvent(event) ? "true" : null,
    }, el("span", { class: `status s-${event.status}` }, event.status), " ",
    el("span", { class: "when" }, time(event.timestamp)),
    event.eventDetail ? el("div", {}, event.eventDetail) : null))),
    task.taskErrorMessage ? [el("h3", {}, "Error"), el("pre", { id: "task-error", class: "error" }, task.taskErrorMessage)] : null,
    task.returnPayload ? [el("h3", {}, "Result"), el("pre", { id: "task-result" }, task.returnPayload)] : null,
    el("h3", {}, "Destination"), el("p", {}, task.destinationStatus || "none"),
    el("h3", {}, "Payload (edit to re-run with another)"), payload,
    el("h3", {}, "Logs"), el("div", { id: "task-logs" }, el("p", { class: "hint" }, "loading…")),
  ].flat().filter(Boolean));
  loadLogs(name, taskId, task.requestId);
}

function logLine(entry) {
  return [entry.timestamp ? clockTime(entry.timestamp) : "", entry.message ?? ""].filter(Boolean).join("  ");
}

// The open task's log lines, followed live (GET /_fcemu/logs?follow=true sends the lines kept so far, then each
// new one): Docker copies an instance's output a moment after the task's events, so lines keep arriving.
let logStream = null;

function showLogs(lines) {
  const box = document.getElementById("task-logs");
  if (box) box.replaceChildren(lines.length ? el("pre", {}, lines.join("\n")) : el("p", { class: "hint" }, "no log lines yet"));
}

function loadLogs(name, taskId, requestId) {
  const query = new URLSearchParams({ function: name, follow: "true" });
  query.set(requestId ? "requestId" : "taskId", requestId || taskId);
  // The timeline is redrawn on each of the task's events; its log stream goes on and is drawn again.
  if (logStream && logStream.key === `${query}` && logStream.readyState !== EventSource.CLOSED) {
    showLogs(logStream.lines);
    return;
  }
  if (logStream) logStream.close();
  const stream = logStream = new EventSource(`/_fcemu/logs?${query}`);
  stream.key = `${query}`;
  stream.lines = [];
  showLogs(stream.lines);
  // Each (re)connection is sent the task's kept lines first: a stream that ended (the server restarted, or this
  // page fell behind: `event: behind`) and reconnected starts its list over rather than doubling lines.
  stream.onopen = () => { stream.lines = []; };
  stream.onmessage = (message) => {
    if (stream !== logStream || taskId !== state.openTask) { stream.close(); return; }
    try { stream.lines.push(logLine(JSON.parse(message.data))); } catch { stream.lines.push(message.data); }
    showLogs(stream.lines);
  };
  stream.onerror = () => {
    // EventSource reconnects by itself; a route this build lacks fails at once and is closed.
    if (stream.readyState === EventSource.CLOSED && !stream.lines.length) {
      const box = document.getElementById("task-logs");
      if (box) box.replaceChildren(el("p", { class: "hint" }, "Logs are not available in this fcemu build."));
    }
  };
}

// ---- steering --------------------------------------------------------------------------------------------

async function steer(action, name, taskId) {
  try {
    await call("POST", `/_fcemu/tasks/${enc(name)}/${enc(taskId)}/${action}`);
    say(`${action}: asked for ${taskId}`);
  } catch (error) { say(missing(error, action === "run-now" ? "Run now" : action), true); }
}

async function stopTask(name, taskId) {
  try {
    await call("PUT", `${V3}/functions/${enc(name)}/async-tasks/${enc(taskId)}/stop`);
    say(`stop requested for ${taskId}`);
  } catch (error) { say(`Stop failed: ${error.message}`, true); }
}

async function rerun(name, taskId, edited, original) {
  try {
    const reply = await call("POST", `/_fcemu/tasks/${enc(name)}/${enc(taskId)}/rerun`,
      edited !== original ? { payload: edited } : undefined);
    const newId = reply && reply.taskId;
    say(newId ? `re-run as task ${newId}` : `re-run of ${taskId} queued`);
    await loadTasks();
    if (newId) await openTask(newId);
  } catch (error) { say(missing(error, "Re-run"), true); }
}

async function fire(name, trigger) {
  try {
    await call("POST", `/_fcemu/triggers/${enc(name)}/${enc(trigger)}/fire`);
    say(`fired ${trigger}`);
  } catch (error) { say(missing(error, "Fire trigger"), true); }
}

async function loadClock() {
  try {
    const clock = await call("GET", "/_fcemu/clock");
    const offset = clock.offsetSeconds ?? 0;
    const now = clock.virtualTime;
    $("#clock-now").textContent = `clock: ${now ? clockTime(typeof now === "number" ? now : Date.parse(now)) : "—"}` +
      (offset ? ` (+${offset} s)` : "");
  } catch (error) {
    $("#clock-now").textContent = unavailable(error) ? "clock: host time (no clock route)" : "clock: ?";
  }
}

async function advanceClock() {
  const by = $("#advance-by").value.trim();
  try {
    await call("POST", "/_fcemu/clock/advance", /^\d+$/.test(by) ? { seconds: Number(by) } : { by });
    say(`clock advanced by ${by}`);
    await Promise.all([loadClock(), loadQueue(), loadTasks()]);
  } catch (error) { say(missing(error, "Advancing the clock"), true); }
}

// ---- live updates ----------------------------------------------------------------------------------------

const refreshFunctions = debounced(loadFunctions, 1000);
const refreshQueue = debounced(loadQueue, 200);
const refreshTasks = debounced(loadTasks, 200);
const refreshTimeline = debounced(loadTimeline, 150);

function connect() {
  const live = $("#live");
  const source = new EventSource("/_fcemu/events");
  state.live = source;
  source.onopen = () => { live.textContent = "live"; live.className = "pill on"; };
  source.onerror = () => { live.textContent = "reconnecting…"; live.className = "pill off"; };
  source.addEventListener("task", (message) => {
    const change = JSON.parse(message.data);
    refreshFunctions();
    if (change.function !== state.selected) return;
    refreshQueue();
    refreshTasks();
    if (change.taskId === state.openTask) refreshTimeline();
  });
  source.addEventListener("resync", () => {
    refreshFunctions(); refreshQueue(); refreshTasks(); refreshTimeline();
  });
}

function keys(event) {
  const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
  if (event.key === "/" && !typing) {
    event.preventDefault();
    $("#prefix-filter").focus();
  } else if (event.key === "Escape" && typing) {
    document.activeElement.blur();
  }
}

async function main() {
  document.addEventListener("keydown", keys);
  // The filters apply as they change; Enter in the prefix must not submit (reload) the page.
  $("#filters").addEventListener("submit", (event) => event.preventDefault());
  $("#status-filter").addEventListener("change", () => loadTasks().catch((e) => say(e.message, true)));
  $("#prefix-filter").addEventListener("input", debounced(loadTasks, 200));
  $("#advance").addEventListener("click", advanceClock);
  connect();
  try {
    await Promise.all([loadFunctions(), loadClock()]);
  } catch (error) { say(`Could not load the functions: ${error.message}`, true); }
  setInterval(loadClock, 5000);
}

main();
