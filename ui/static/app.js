// The ai-cli page: models per type, add / activate / remove / check, a streaming chat with a
// session and a preset picker, and the presets (add, remove), kept current by /events. Every string from a model, a server or a user reaches
// the page through textContent (never innerHTML), so it stays text.
//
// The token: the server traded the `?token=` of the address it printed for an HttpOnly cookie
// and sent the browser on to the bare address; every request here carries that cookie. Should
// the address still hold a token (an older bookmark, a proxy that dropped the redirect), it is
// taken out of the address bar and the history at once.
"use strict";

const TYPES = ["general", "coder"];
const state = { sessionId: "", busy: false, images: [] };
const $ = (id) => document.getElementById(id);

function forgetTokenInAddress() {
  const url = new URL(window.location.href);
  if (!url.searchParams.has("token")) return;
  url.searchParams.delete("token");
  history.replaceState(null, "", url.pathname + url.search + url.hash);
}
forgetTokenInAddress();

// A file name with its invisible characters (zero-width, bidi marks and overrides: Unicode's
// format characters) and control characters shown as <U+XXXX>, so one name cannot pass for another.
function shownName(text) {
  return String(text).replace(/[\p{Cf}\p{Cc}\u2028\u2029]/gu,
    (c) => `<U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")}>`);
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

// --- talking to the API -------------------------------------------------------------------

function headers(json) {
  return json ? { "Content-Type": "application/json" } : {};
}

class ApiError extends Error {}

async function api(method, path, body) {
  const changing = method !== "GET";
  const response = await fetch(path, {
    method, headers: headers(changing),
    body: changing ? JSON.stringify(body === undefined ? {} : body) : undefined,
  });
  return answer(response);
}

async function answer(response) {
  if (response.status === 401) askToken();
  const type = response.headers.get("content-type") || "";
  const data = type.includes("application/json") ? await response.json() : null;
  if (!response.ok) {
    throw new ApiError((data && data.error) || `HTTP ${response.status}`);
  }
  return data;
}

function showProblem(error) {
  const box = $("problem");
  box.textContent = error ? String(error.message || error) : "";
  box.hidden = !error;
}

async function attempt(action) {
  try {
    showProblem(null);
    return await action();
  } catch (error) {
    showProblem(error);
    return undefined;
  }
}

function askToken() {
  $("token-form").hidden = false;
}

// Server-Sent Events over fetch (the page reads the error bodies too).
async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trim());
      }
      if (data.length) onEvent(name, JSON.parse(data.join("\n")));
    }
  }
}

// --- models -------------------------------------------------------------------------------

function availability(model) {
  if (model.is_available === true) return el("span", { class: "avail-yes", text: "✓ reachable" });
  if (model.is_available === false) return el("span", { class: "avail-no", text: "✗ unreachable" });
  return el("span", { class: "avail-unknown", text: "unknown" });
}

function modelRow(model) {
  const row = el("tr", { class: model.is_active ? "active" : "", "data-model-id": model.model_id,
                         "data-active": String(model.is_active) });
  row.append(
    el("td", { class: "mark", text: model.is_active ? "●" : "", title: model.is_active ? "active" : "" }),
    el("td", { text: model.model_name }),
    // host:port (and a proxy's path) as the terminal shows it; the whole URL on hover
    el("td", { class: "server", text: model.url.replace(/^https?:\/\//, ""), title: model.url }),
    el("td", {}, availability(model)),
    el("td", { class: "actions" },
      model.is_active ? null : el("button", { type: "button", text: "Use", "data-action": "use",
        onclick: () => attempt(() => api("PUT", `/models/${encodeURIComponent(model.model_id)}/activate`).then(refresh)) }),
      el("button", { type: "button", text: "Check", "data-action": "check",
        onclick: () => attempt(() => api("POST", "/models/check", { model_id: model.model_id }).then(refresh)) }),
      el("button", { type: "button", text: "Remove", "data-action": "remove",
        onclick: () => confirm(`Remove ${model.model_name} (${model.model_id})?`) &&
          attempt(() => api("DELETE", `/models/${encodeURIComponent(model.model_id)}`).then(refresh)) })),
  );
  return row;
}

function routeLine(route) {
  if (!route) return null;
  const text = route.model
    ? `now used: ${route.model.model_name} (${route.via})${route.notice ? " — " + route.notice : ""}`
    : route.notice || "no model";
  return el("p", { class: "route-line", text });
}

function renderModels(models, status) {
  const holder = $("model-types");
  holder.replaceChildren();
  for (const type of TYPES) {
    const mine = models.filter((m) => m.model_type === type);
    holder.append(el("h3", { class: "type-title", text: type }));
    holder.append(routeLine(status && status.routes && status.routes[type]));
    if (!mine.length) {
      holder.append(el("p", { class: "empty", text: `No ${type} models. Add one below.` }));
      continue;
    }
    const table = el("table", { "data-type": type },
      el("thead", {}, el("tr", {}, el("th", { text: "" }), el("th", { text: "model" }),
        el("th", { text: "server" }), el("th", { text: "availability" }), el("th", { text: "" }))));
    const body = el("tbody");
    mine.forEach((m) => body.append(modelRow(m)));
    table.append(body);
    holder.append(table);
  }
  if (status && status.features) {
    const on = Object.entries(status.features).filter(([, v]) => v).map(([k]) => k);
    $("features").textContent = "features on: " + (on.join(", ") || "none");
  }
}

let refreshing = null;
async function refresh() {
  if (refreshing) return refreshing;  // one refresh at a time; events may arrive in bursts
  refreshing = (async () => {
    try {
      const [models, status] = await Promise.all([api("GET", "/models"), api("GET", "/models/status")]);
      renderModels(models, status);
      presetModels(models);
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

// --- presets --------------------------------------------------------------------------------

function presetRow(preset) {
  const options = Object.entries(preset.options || {}).map(([k, v]) => `${k}=${v}`).join(" ");
  const detail = [preset.model || "(route)", options, preset.problem || ""].filter(Boolean).join(" · ");
  return el("li", { class: preset.problem ? "problem" : "", "data-preset": preset.name },
    el("span", { class: "name", text: shownName(preset.name) }),
    el("span", { class: "detail", text: detail }),
    el("button", { type: "button", text: "Remove", "data-action": "remove-preset",
      onclick: () => confirm(`Remove preset ${preset.name}?`) &&
        attempt(() => api("DELETE", `/presets/${encodeURIComponent(preset.name)}`).then(loadPresets)) }));
}

let loadingPresets = null;
async function loadPresets() {
  if (loadingPresets) return loadingPresets;
  loadingPresets = (async () => {
    try {
      const presets = await api("GET", "/presets");
      $("preset-list").replaceChildren(...presets.map(presetRow));
      if (!presets.length) $("preset-list").append(el("li", { class: "empty", text: "No presets." }));
      const picker = $("preset");
      const chosen = picker.value;
      picker.replaceChildren(el("option", { value: "", text: "no preset" }),
        ...presets.filter((p) => !p.problem || !p.problem.startsWith("damaged"))
          .map((p) => el("option", { value: p.name, text: shownName(p.name) })));
      picker.value = presets.some((p) => p.name === chosen) ? chosen : "";
    } finally {
      loadingPresets = null;
    }
  })();
  return loadingPresets;
}

function presetModels(models) {
  const select = $("preset-model");
  const chosen = select.value;
  const choices = [["general", "the general route"], ["coder", "the coder route"],
    ["fastest:general", "fastest general model"]];
  for (const m of models) choices.push([m.model_name, `${m.model_name} (${m.model_type})`]);
  select.replaceChildren(...choices.map(([value, text]) => el("option", { value, text: shownName(text) })));
  if (choices.some(([value]) => value === chosen)) select.value = chosen;
}

async function addPreset(event) {
  event.preventDefault();
  const body = { name: $("preset-name").value.trim(), model: $("preset-model").value };
  const system = $("preset-system").value.trim();
  if (system) body.system = system;
  const temperature = $("preset-temperature").value.trim();
  if (temperature) body.options = { temperature: Number(temperature) };
  await api("POST", "/presets", body);
  $("preset-name").value = "";
  $("preset-system").value = "";
  $("preset-temperature").value = "";
  await loadPresets();
}

// --- stats (GET /models/stats) --------------------------------------------------------------

const STAT_COLUMNS = [
  ["requests", (g) => g.requests],
  ["success", (g) => (g.success_rate === null ? "-" : `${Math.round(g.success_rate * 100)}%`)],
  ["broken", (g) => g.failures.broken],
  ["failed over", (g) => g.failures.failed_over],
  ["first token p50", (g) => (g.ttft_ms_p50 === null ? "-" : `${g.ttft_ms_p50} ms`)],
  ["p90", (g) => (g.ttft_ms_p90 === null ? "-" : `${g.ttft_ms_p90} ms`)],
  ["tokens/s p50", (g) => (g.tokens_per_s_p50 === null ? "-" : g.tokens_per_s_p50)],
  ["in flight", (g) => (g.in_flight === null ? "-" : g.in_flight)],
  ["cooling down", (g) => g.cooling_down_until || "-"],
];

function statsTable(kind, groups, name, second) {
  const head = el("tr", {}, el("th", { text: kind }), el("th", { text: second[0] }),
    ...STAT_COLUMNS.map(([title]) => el("th", { text: title })));
  const body = el("tbody");
  for (const g of groups) {
    body.append(el("tr", {}, el("td", { text: shownName(name(g)) }),
      el("td", { text: shownName(second[1](g)) }),
      ...STAT_COLUMNS.map(([, value]) => el("td", { text: String(value(g)) }))));
  }
  return el("table", { "data-stats": kind }, el("thead", {}, head), body);
}

async function loadStats() {
  const stats = await api("GET", "/models/stats");
  const holder = $("stats-tables");
  if (!stats.entries) {
    holder.replaceChildren(el("p", { class: "empty", text: "No answers logged yet." }));
    return;
  }
  holder.replaceChildren(
    statsTable("model", stats.models, (g) => g.model_name, ["hosts", (g) => g.hosts.join(", ")]),
    statsTable("host", stats.hosts, (g) => g.host,
      ["parallel", (g) => (g.parallel === null ? "-" : String(g.parallel))]));
}

async function discover() {
  const url = $("add-url").value.trim();
  const data = await api("POST", "/models/discover", { url });
  const select = $("add-name");
  select.replaceChildren();
  for (const name of data.models) select.append(el("option", { value: name, text: name }));
  if (!data.models.length) select.append(el("option", { value: "", text: "the server has no models" }));
  select.disabled = !data.models.length;
  $("add").disabled = !data.models.length;
}

async function addModel(event) {
  event.preventDefault();
  const type = $("add-type").value;
  const body = { url: $("add-url").value.trim(), model_name: $("add-name").value };
  const timeout = $("add-timeout").value.trim();
  if (timeout) body.timeout = Number(timeout);
  const force = $("add-force").checked ? "?force=true" : "";
  await api("POST", `/models/${type}${force}`, body);
  $("add-name").replaceChildren(el("option", { value: "", text: "discover first" }));
  $("add-name").disabled = true;
  $("add").disabled = true;
  await refresh();
}

// --- live updates ---------------------------------------------------------------------------

async function follow() {
  const live = $("live");
  for (;;) {
    try {
      const response = await fetch("/events", { headers: headers(false) });
      if (!response.ok) await answer(response);
      live.textContent = "live";
      live.className = "live on";
      await refresh();
      await loadPresets();
      await readEvents(response, (name, data) => {
        if (name !== "models") return;
        if (data && data.event) loadPresets().catch(showProblem);  // a preset changed
        else refresh().catch(showProblem);
      });
    } catch (error) {
      if (!(error instanceof TypeError)) showProblem(error);
    }
    live.textContent = "reconnecting…";
    live.className = "live off";
    await new Promise((resolve) => setTimeout(resolve, 3000));
  }
}

// --- sessions and chat ----------------------------------------------------------------------

function message(role, text, who, extra) {
  const item = el("li", { class: role },
    el("span", { class: "who", text: who || (role === "user" ? "you" : "model") }),
    el("span", { class: "thinking", text: (extra && extra.thinking) || "" }),
    el("span", { class: "text", text }),
    el("span", { class: "attachments", text: attachedText((extra && extra.attachments) || []) }));
  $("messages").append(item);
  item.scrollIntoView({ block: "end" });
  return item;
}

function setSession(id) {
  state.sessionId = id || "";
  $("sessions").value = state.sessionId;
  $("continue").textContent = state.sessionId ? `continue in a terminal: ai-cli --session ${state.sessionId}` : "";
}

async function loadSessions() {
  const sessions = await api("GET", "/sessions");
  const select = $("sessions");
  select.replaceChildren(el("option", { value: "", text: "new session" }));
  for (const s of sessions) {
    select.append(el("option", { value: s.session_id,
      text: `${s.title || "(empty)"} — ${s.message_count} messages (${s.session_id})` }));
  }
  select.value = state.sessionId;
}

async function openSession(id) {
  $("messages").replaceChildren();
  $("route").textContent = "";
  setSession(id);
  if (!id) return;
  const session = await api("GET", `/sessions/${encodeURIComponent(id)}`);
  for (const m of session.messages) {
    const who = m.role === "user" ? "you"
      : (m.model_name || "model") + (m.broken ? " (broken off)" : m.interrupted ? " (stopped)" : "");
    const item = message(m.role, m.content, who, m);
    if (m.broken) item.classList.add("broken");
    if (m.interrupted) item.classList.add("stopped");
  }
}

// Images picked or pasted for the next message: {name, size, type, data (base64)}. Sent as
// `images`; the server checks each by its content, as `ai-cli chat -a` does.
const MAX_IMAGE = 20 * 1024 * 1024;

function attachedText(list) {
  return list.map((a) => `📎 ${a.name} (${Math.ceil(a.size / 1024)} KB, ${a.type})`).join("  ");
}

function showAttached() {
  $("attached").textContent = attachedText(state.images);
}

function attach(file) {
  if (!/^image\/(png|jpeg|webp|gif)$/.test(file.type)) {
    showProblem(new ApiError(`${file.name || "the pasted file"} is not a PNG, JPEG, WebP or GIF image.`));
    return;
  }
  if (file.size > MAX_IMAGE) {
    showProblem(new ApiError(`${file.name || "the pasted image"} is over 20 MB.`));
    return;
  }
  const reader = new FileReader();
  reader.onload = () => {
    state.images.push({ name: file.name || "pasted image", size: file.size, type: file.type,
      data: String(reader.result) });
    showAttached();
  };
  reader.readAsDataURL(file);
}

async function send(event) {
  event.preventDefault();
  const box = $("message");
  const text = box.value.trim();
  if (!text || state.busy) return;
  state.busy = true;
  $("send").disabled = true;
  box.value = "";
  const images = state.images;
  state.images = [];
  showAttached();
  message("user", text, "you", { attachments: images });
  const reply = message("assistant streaming", "", "…");
  const replyText = reply.querySelector(".text");
  try {
    const body = { message: text };
    if (state.sessionId) body.session_id = state.sessionId;
    if ($("preset").value) body.preset = $("preset").value;
    if (images.length) body.images = images.map((i) => i.data);
    if ($("think").checked) body.think = true;
    const response = await fetch("/chat", { method: "POST", headers: headers(true), body: JSON.stringify(body) });
    if (!response.ok) await answer(response);
    const fromHeader = response.headers.get("X-Session-Id");
    if (fromHeader) setSession(fromHeader);
    await readEvents(response, (name, data) => {
      if (name === "route") {
        reply.querySelector(".who").textContent = data.model ? data.model.model_name : "model";
        $("route").textContent = data.notice || "";
      } else if (name === "thinking") {
        reply.querySelector(".thinking").textContent += data.text;
        reply.scrollIntoView({ block: "end" });
      } else if (name === "token") {
        replyText.textContent += data.text;
        reply.scrollIntoView({ block: "end" });
      } else if (name === "done") {
        setSession(data.session_id);
        reply.setAttribute("data-done", "true");
      } else if (name === "error") {
        reply.classList.add("error", "broken");  // kept in the session as broken
        const who = reply.querySelector(".who");
        who.textContent = who.textContent + " (broken off)";
        showProblem(new ApiError(data.error));
      }
    });
  } catch (error) {
    reply.classList.add("error");
    replyText.textContent = String(error.message || error);
  } finally {
    reply.classList.remove("streaming");
    state.busy = false;
    $("send").disabled = false;
    loadSessions().catch(() => {});
  }
}

// --- /code: propose, then apply ---------------------------------------------------------------

function diffView(change) {
  const pre = el("pre");
  for (const line of change.diff.split("\n")) {
    let kind = "";
    let shown = line;
    if (line.startsWith("+++") || line.startsWith("---")) { kind = "file"; shown = shownName(line); }
    else if (line.startsWith("@@")) kind = "hunk";
    else if (line.startsWith("+")) kind = "add";
    else if (line.startsWith("-")) kind = "del";
    pre.append(el("span", { class: kind, text: shown + "\n" }));
  }
  return el("div", { class: "diff", "data-path": change.path }, el("h4", { text: shownName(change.summary) }), pre);
}

async function propose(event) {
  event.preventDefault();
  const instruction = $("instruction").value.trim();
  if (!instruction) return;
  $("propose").disabled = true;
  $("apply").hidden = true;
  $("proposal").replaceChildren();
  $("code-answer").textContent = "";
  $("code-result").textContent = "working…";
  try {
    const body = { instruction };
    if (state.sessionId) body.session_id = state.sessionId;
    const proposal = await api("POST", "/code", body);
    $("code-route").textContent = (proposal.route && proposal.route.notice) || "";
    $("code-answer").textContent = proposal.answer || "";
    for (const change of proposal.changes) $("proposal").append(diffView(change));
    state.proposal = proposal.changes.length ? proposal.id : "";
    $("apply").hidden = !state.proposal;
    $("code-result").textContent = proposal.changes.length ? "" : "No file would change.";
  } finally {
    $("propose").disabled = false;
    if ($("code-result").textContent === "working…") $("code-result").textContent = "";
  }
}

async function applyProposal() {
  const done = await api("POST", `/code/${encodeURIComponent(state.proposal)}/apply`);
  state.proposal = "";
  $("apply").hidden = true;
  $("code-result").textContent = "Written: " + done.applied.map(shownName).join(", ");
}

async function undo() {
  const done = await api("POST", "/undo");
  const parts = [];
  if (done.restored.length) parts.push("Restored: " + done.restored.map(shownName).join(", "));
  if (done.deleted && done.deleted.length) parts.push("Deleted: " + done.deleted.map(shownName).join(", "));
  if (done.skipped.length) parts.push("Left alone (changed since): " + done.skipped.map(shownName).join(", "));
  $("code-result").textContent = parts.join(". ") || "Nothing was restored.";
}

// --- start ----------------------------------------------------------------------------------

function start() {
  $("token-form").addEventListener("submit", (event) => {
    // The server trades it for its cookie and sends the page back without it; replace():
    // no history entry holds it.
    event.preventDefault();
    window.location.replace("/?token=" + encodeURIComponent($("token").value));
  });
  $("discover").addEventListener("click", () => attempt(discover));
  $("add-form").addEventListener("submit", (event) => attempt(() => addModel(event)));
  $("check-all").addEventListener("click", () => attempt(() => api("POST", "/models/check").then(refresh)));
  $("sessions").addEventListener("change", (event) => attempt(() => openSession(event.target.value)));
  $("new-session").addEventListener("click", () => attempt(() => openSession("")));
  $("chat-form").addEventListener("submit", send);
  $("images").addEventListener("change", (event) => {
    for (const file of event.target.files) attach(file);
    event.target.value = "";
  });
  $("message").addEventListener("paste", (event) => {
    for (const item of event.clipboardData ? event.clipboardData.items : []) {
      if (item.kind === "file" && item.type.startsWith("image/")) {
        event.preventDefault();
        attach(item.getAsFile());
      }
    }
  });
  $("code-form").addEventListener("submit", (event) => attempt(() => propose(event)));
  $("apply").addEventListener("click", () => attempt(applyProposal));
  $("undo").addEventListener("click", () => attempt(undo));
  $("stats-refresh").addEventListener("click", () => attempt(loadStats));
  $("preset-form").addEventListener("submit", (event) => attempt(() => addPreset(event)));
  $("message").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) send(event);
  });
  attempt(() => Promise.all([refresh(), loadSessions(), loadStats(), loadPresets()]));
  follow();
}

document.addEventListener("DOMContentLoaded", start);
