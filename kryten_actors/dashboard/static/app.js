// kryten-actors dashboard: one server-sent event stream feeds everything on the page.
// Every value from the bus is written with textContent, never as HTML.
"use strict";

const ACTIONS = document.querySelector('meta[name="kryten-actions"]').content === "on";
const TOKEN = document.querySelector('meta[name="kryten-token"]').content;
const STATES = ["running", "starting", "restarting", "failed", "stopped", "inactive"];
const view = { bot: "", member: "", sort: "name", desc: "", offset: 0, limit: 100,
               match: "", state: "", degraded: false };
const perf = { renders: 0, firstRender: null, lastRender: null, messages: 0 };
window.__kryten = perf;  // read by the browser tests
let source = null;
let lastMessageAt = 0;
let fleet = { bots: [], letters: [] };
let shown = null;  // the channel view last rendered: which bot and member it shows

const $ = (id) => document.getElementById(id);
function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}
function td(text, cls, field) {
  const cell = el("td", text, cls);
  if (field) cell.dataset.field = field;
  return cell;
}
const fmtInt = (n) => (n === undefined || n === null ? "–" : Number(n).toLocaleString("en"));
const fmtRate = (n) => (n >= 100 ? Math.round(n).toLocaleString("en") : Number(n || 0).toFixed(1));
function fmtDuration(s) {
  if (!s && s !== 0) return "–";
  if (s < 60) return `${Math.floor(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}
function fmtLatency(s) {
  if (s === null || s === undefined) return "–";
  if (s < 0.001) return `≤${Math.round(s * 1e6)} µs`;
  if (s < 1) return `≤${Math.round(s * 1000)} ms`;
  return `≤${s.toFixed(1)} s`;
}
function badge(text, cls) { return el("span", text, `badge ${cls || text}`); }
function counts(obj) {
  return Object.entries(obj || {}).map(([k, v]) => `${k} ${fmtInt(v)}`).join(", ") || "–";
}

function streamUrl() {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(view)) {
    if (value === "" || value === false) continue;
    params.set(key, value === true ? "1" : String(value));
  }
  return `/api/stream?${params}`;
}
function connect() {
  if (source) source.close();
  source = new EventSource(streamUrl());
  source.onmessage = (event) => {
    lastMessageAt = Date.now();
    perf.messages += 1;
    render(JSON.parse(event.data));
  };
  source.onerror = () => setStatus("stale", "reconnecting…");
}
let reconnectTimer = null;
function changeView(changes, debounce) {
  Object.assign(view, changes);
  clearTimeout(reconnectTimer);
  reconnectTimer = setTimeout(connect, debounce ? 250 : 0);
}
function setStatus(cls, text) {
  const status = $("status");
  status.className = `status ${cls}`;
  status.textContent = text;
}
setInterval(() => {
  if (lastMessageAt && Date.now() - lastMessageAt > 3000) setStatus("stale", "no update for a few seconds");
}, 1000);

function render(message) {
  fleet = message.fleet;
  shown = message.view;
  setStatus("live", "live");
  $("updated").textContent = `updated ${new Date(fleet.time * 1000).toLocaleTimeString()}`;
  $("mode").textContent = ACTIONS ? "actions enabled" : "read-only";
  renderBots(message.view);
  renderTree(message.view);
  renderLetters();
  perf.renders += 1;
  perf.lastRender = performance.now();
  if (perf.firstRender === null && message.view && message.view.items) {
    perf.firstRender = perf.lastRender;
    performance.mark("kryten:first-render");
  }
}

function sparkline(series) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  const width = 120, height = 24;
  svg.setAttribute("class", "spark");
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  const events = series.events || [];
  const step = width / Math.max(1, events.length - 1);
  const top = Math.max(1, ...events);
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("points", events.map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / top) * (height - 4)).toFixed(1)}`).join(" "));
  svg.appendChild(line);
  (series.restarts || []).forEach((v, i) => {
    if (!v) return;
    const bar = document.createElementNS(ns, "rect");
    bar.setAttribute("x", (i * step).toFixed(1));
    bar.setAttribute("y", height - Math.min(height, 4 + 2 * v));
    bar.setAttribute("width", 2);
    bar.setAttribute("height", Math.min(height, 4 + 2 * v));
    svg.appendChild(bar);
  });
  const title = document.createElementNS(ns, "title");
  title.textContent = `events/s peak ${fmtRate(top)}; restarts ${events.length ? (series.restarts || []).reduce((a, b) => a + b, 0) : 0}`;
  svg.appendChild(title);
  return svg;
}

function renderBots(current) {
  const body = $("bots").tBodies[0];
  const rows = document.createDocumentFragment();
  const problems = $("problems");
  problems.replaceChildren();
  for (const bot of fleet.bots) {
    const row = el("tr");
    row.dataset.bot = bot.name;
    if (current && current.bot === bot.name) row.classList.add("selected");
    const members = bot.members;
    const bridge = {}, uptime = Math.max(0, ...members.map((m) => m.uptime || 0));
    let restarts = 0;
    for (const m of members) {
      restarts += m.restarts || 0;
      for (const [k, v] of Object.entries(m.bridge || {})) bridge[k] = (bridge[k] || 0) + v;
      for (const p of m.problems || []) problems.appendChild(el("li", `${bot.name}/${m.id}: ${p}`));
      if (m.error) problems.appendChild(el("li", `${bot.name}/${m.id}: ${m.error}`));
    }
    row.append(td(bot.name, "", "name"), td(members.length, "num", "members"));
    const health = td("", "", "health");
    health.appendChild(badge(bot.healthy ? "healthy" : "degraded"));
    row.append(health, td(fmtDuration(uptime), "num", "uptime"),
      td(fmtRate(bot.events_rate), "num", "events_rate"), td(fmtRate(bot.commands_rate), "num", "commands_rate"),
      td(fmtInt(bot.channel_count), "num", "channels"), td(counts(bridge), "", "bridge"),
      td(fmtInt(bot.degraded_count), "num", "degraded"), td(fmtInt(restarts), "num", "restarts"));
    const spark = td("", "", "spark");
    spark.appendChild(sparkline(bot.series));
    row.appendChild(spark);
    row.addEventListener("click", () => changeView({ bot: bot.name, member: "", offset: 0 }));
    rows.appendChild(row);
  }
  body.replaceChildren(rows);
  $("no-bots").hidden = fleet.bots.length > 0;
}

function currentMember(current) {
  if (!current) return null;
  const bot = fleet.bots.find((b) => b.name === current.bot);
  return bot ? { bot, member: bot.members.find((m) => m.id === current.member) } : null;
}

function renderTree(current) {
  const section = $("tree-section");
  section.hidden = !current;
  if (!current) return;
  const found = currentMember(current);
  const member = found && found.member;
  $("tree-title").textContent = `${current.bot} · member ${current.member}`;
  renderMembers(found);
  const summary = member || {};
  const lifecycle = summary.lifecycle || "unknown";
  const rootState = badge(`${lifecycle}, ${summary.state || "?"}`, lifecycle === "running" && summary.state === "connected" ? "running" : "restarting");
  rootState.id = "root-state";
  $("root-state").replaceWith(rootState);
  const routerFailed = (summary.problems || []).some((p) => p.startsWith("router"));
  const routerState = badge(routerFailed ? "failed" : "running");
  routerState.id = "router-state";
  $("router-state").replaceWith(routerState);
  renderGroups(summary);
  renderDelivery(summary.delivery);
  const error = $("view-error");
  error.hidden = !current.error;
  error.textContent = current.error || "";
  $("join").hidden = !(ACTIONS && summary.control);
  document.querySelectorAll(".actions-col").forEach((c) => { c.hidden = !(ACTIONS && summary.control); });
  for (const th of document.querySelectorAll("#channels th[data-sort]")) {
    const sorted = th.dataset.sort === view.sort;
    th.classList.toggle("sorted", sorted);
    const defaultDesc = !["name", "state", "bridge"].includes(view.sort);
    th.classList.toggle("asc", sorted && (view.desc === "" ? !defaultDesc : view.desc === "0"));
  }
  if (current.items) renderChannels(current, summary);
}

function renderMembers(found) {
  const box = $("members");
  box.replaceChildren();
  if (!found || found.bot.members.length < 2) return;
  box.appendChild(el("span", "members: ", "muted"));
  for (const m of found.bot.members) {
    const button = el("button", `${m.id.slice(0, 8)} (${fmtInt(m.channel_count)})`, m.id === (found.member || {}).id ? "active" : "");
    button.type = "button";
    button.addEventListener("click", () => changeView({ bot: found.bot.name, member: m.id, offset: 0 }));
    box.appendChild(button);
  }
}

// delivery: jetstream -- the stream, what was acknowledged/redelivered/skipped, and with
// sharding every member with its channel count and consumer lag
function renderDelivery(delivery) {
  const box = $("delivery");
  box.hidden = !delivery;
  if (!delivery) return;
  const parts = [
    `${delivery.mode} · stream ${delivery.stream}`,
    `consumers ${fmtInt(delivery.consumers)}`,
    `lag ${fmtInt(delivery.lag)}`,
    `acked ${fmtInt(delivery.acked)}`,
    `redelivered ${fmtInt(delivery.redelivered)}`,
    `duplicates skipped ${fmtInt(delivery.duplicates_skipped)}`,
    `dead-lettered ${fmtInt(delivery.dead_lettered)}`,
  ];
  if (delivery.journal_restored) parts.push(`restored from journal ${fmtInt(delivery.journal_restored)}`);
  if (delivery.member) parts.push(`handovers ${fmtInt(delivery.handovers)}`, `fenced ${fmtInt(delivery.fenced)}`);
  $("delivery-text").textContent = parts.join(" · ");
  const shards = $("shards");
  shards.replaceChildren();
  for (const m of delivery.members || []) {
    const line = el("div", `member ${m.member}${m.member === delivery.member ? " (this one)" : ""}: ` +
      `${fmtInt(m.channel_count)} channels, lag ${fmtInt(m.lag)} · ${m.host} pid ${m.pid}`, "shard muted");
    line.dataset.member = m.member;
    shards.appendChild(line);
  }
}

function renderGroups(summary) {
  const groups = $("groups");
  groups.replaceChildren();
  const add = (label, count, active, changes, cls) => {
    const chip = badge(`${label} ${fmtInt(count)}`, `group ${cls}${active ? " active" : ""}`);
    chip.dataset.group = label;
    chip.addEventListener("click", () => changeView({ offset: 0, state: "", degraded: false, ...changes }));
    groups.appendChild(chip);
  };
  add("all", summary.channel_count || 0, !view.state && !view.degraded, {}, "");
  const states = summary.states || {};
  for (const state of [...STATES, ...Object.keys(states).filter((s) => !STATES.includes(s))]) {
    if (states[state]) add(state, states[state], view.state === state, { state }, state);
  }
  add("degraded", summary.degraded_count || 0, view.degraded, { degraded: true }, "degraded");
}

function traceLink(summary, row) {
  if (!summary.trace_ui) return null;
  const tags = JSON.stringify({ "cytube.channel": row.channel });
  const url = `${summary.trace_ui.replace(/\/$/, "")}/search?service=${encodeURIComponent(summary.trace_service)}&tags=${encodeURIComponent(tags)}&lookback=1h&limit=20`;
  const link = el("a", "traces");
  link.href = url;
  link.target = "_blank";
  link.rel = "noopener noreferrer";
  return link;
}

function renderChannels(current, summary) {
  const body = $("channels").tBodies[0];
  const rows = document.createDocumentFragment();
  const actions = ACTIONS && summary.control;
  for (const row of current.items) {
    const tr = el("tr");
    tr.dataset.key = row.key;
    const state = td("", "", "state");
    state.appendChild(badge(row.state));
    const bridge = td("", "", "bridge");
    bridge.appendChild(badge(row.bridge_state));
    const error = td(row.last_error || "", "error-text", "last_error");
    error.title = row.degraded || row.last_error || "";
    tr.append(td(row.key, "", "key"), state, bridge, td(fmtInt(row.restarts), "num", "restarts"),
      td(fmtInt(row.mailbox_depth), "num", "mailbox_depth"), td(fmtInt(row.mailbox_high_water), "num", "mailbox_high_water"),
      td(fmtLatency(row.latency_p99), "num", "latency_p99"), td(fmtInt(row.processed), "num", "processed"),
      td(fmtInt(row.dropped), "num", "dropped"), error);
    const traces = td("", "", "traces");
    const link = traceLink(summary, row);
    if (link) traces.appendChild(link);
    tr.appendChild(traces);
    if (actions) {
      const cell = td("", "", "actions");
      for (const action of ["restart", "stop", "leave"]) {
        const button = el("button", action);
        button.type = "button";
        button.dataset.action = action;
        button.addEventListener("click", () => act(action, row));
        cell.appendChild(button);
      }
      tr.appendChild(cell);
    }
    rows.appendChild(tr);
  }
  body.replaceChildren(rows);
  const first = current.total ? current.offset + 1 : 0;
  $("range").textContent = `${fmtInt(first)}–${fmtInt(current.offset + current.returned)} of ${fmtInt(current.total)}`;
  $("prev").disabled = current.offset === 0;
  $("next").disabled = current.next_offset === null || current.next_offset === undefined;
}

function renderLetters() {
  const body = $("letters").tBodies[0];
  const rows = document.createDocumentFragment();
  for (const letter of fleet.letters) {
    const tr = el("tr");
    tr.dataset.reason = letter.reason;
    const time = letter.time ? new Date(letter.time * 1000).toLocaleTimeString() : "–";
    const preview = td(letter.preview || "", "preview", "preview");
    preview.title = `${letter.size === null || letter.size === undefined ? "?" : letter.size} bytes; ${letter.subject || ""}`;
    tr.append(td(time, "", "time"), td(letter.bot, "", "bot"), td(letter.channel || letter.recipient || "–", "", "channel"),
      td(letter.reason, "", "reason"), td(letter.event || "", "", "event"), td(letter.error || "", "error-text", "error"), preview);
    rows.appendChild(tr);
  }
  body.replaceChildren(rows);
  $("no-letters").hidden = fleet.letters.length > 0;
}

function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 5000);
}

async function act(action, row, domain) {
  if ((action === "stop" || action === "leave") && !confirm(`${action} ${row.key}?`)) return;
  if (!shown) return;
  const body = { bot: shown.bot, member: shown.member, action, channel: row.key || row.channel, domain };
  try {
    const response = await fetch("/api/action", {
      method: "POST", headers: { "Content-Type": "application/json", "X-Kryten-Token": TOKEN },
      body: JSON.stringify(body),
    });
    const reply = await response.json().catch(() => ({ error: response.statusText }));
    toast(response.ok ? `${action} ${reply.channel}: ${reply.state}` : `${action} failed: ${reply.error}`);
  } catch (err) {
    toast(`${action} failed: ${err}`);
  }
}

$("filter").addEventListener("input", (e) => changeView({ match: e.target.value.trim(), offset: 0 }, true));
$("page-size").addEventListener("change", (e) => changeView({ limit: Number(e.target.value), offset: 0 }));
$("prev").addEventListener("click", () => changeView({ offset: Math.max(0, view.offset - view.limit) }));
$("next").addEventListener("click", () => changeView({ offset: view.offset + view.limit }));
for (const th of document.querySelectorAll("#channels th[data-sort]")) {
  th.addEventListener("click", () => {
    const same = view.sort === th.dataset.sort;
    const defaultDesc = !["name", "state", "bridge"].includes(th.dataset.sort);
    const desc = same ? (view.desc === "" ? (defaultDesc ? "0" : "1") : (view.desc === "1" ? "0" : "1")) : "";
    changeView({ sort: th.dataset.sort, desc, offset: 0 });
  });
}
$("join").addEventListener("submit", (e) => {
  e.preventDefault();
  const channel = $("join-channel").value.trim();
  if (channel) act("join", { channel }, $("join-domain").value.trim() || undefined);
});
connect();
