// The admin dashboard (docs/analytics.md, "Admin dashboard"): signs an admin in, draws the
// analytics service's figures, and refreshes what a live message says changed.

import { Api, ApiError } from "./api.js";
import { Charts, minuteLabel } from "./charts.js";
import { Live } from "./live.js";

const api = new Api();
const charts = new Charts();
const $ = (id) => document.getElementById(id);
const REFRESH_MS = 60000; // the rollups' minute; live messages refresh sooner

function show(view) {
  $("sign-in").hidden = view !== "sign-in";
  $("refused").hidden = view !== "refused";
  $("board").hidden = view !== "board";
  $("sign-out").hidden = view === "sign-in";
}

function bucketLabels(minutes) {
  return minutes.map((m) => minuteLabel(m.bucket));
}

/** Series over the union of several services' minutes, aligned by bucket. */
function aligned(groups, field) {
  const buckets = [...new Set(groups.flatMap((g) => g.minutes.map((m) => m.bucket)))].sort();
  const series = groups.map((g) => {
    const byBucket = new Map(g.minutes.map((m) => [m.bucket, m[field]]));
    return { label: g.service, data: buckets.map((b) => byBucket.get(b) ?? null) };
  });
  return { labels: buckets.map(minuteLabel), series };
}

function drawQoe(qoe) {
  const labels = bucketLabels(qoe.minutes);
  charts.draw("chart-concurrent", {
    labels,
    series: [{ label: "concurrent plays", data: qoe.minutes.map((m) => m.concurrent) }],
  });
  charts.draw("chart-qoe", {
    labels,
    series: [
      { label: "startup time (ms)", data: qoe.minutes.map((m) => m.video_startup_time_ms) },
      { label: "rebuffer %", data: qoe.minutes.map((m) => m.rebuffer_percentage), axis: "pct" },
      { label: "start failures %", data: qoe.minutes.map((m) => m.video_startup_failure_percentage), axis: "pct" },
    ],
    options: { scales: { y: { beginAtZero: true }, pct: { position: "right", beginAtZero: true } } },
  });
}

function drawPlatform(platform) {
  charts.draw("chart-rps", aligned(platform.services, "rps"));
  charts.draw("chart-latency", aligned(platform.services, "latency_ms"));
  charts.draw("chart-cache", {
    labels: bucketLabels(platform.cache_hit_ratio),
    series: [{ label: "hit ratio %", data: platform.cache_hit_ratio.map((m) => (m.ratio == null ? null : m.ratio * 100)) }],
    options: { scales: { y: { min: 0, max: 100 } } },
  });
  charts.draw("chart-recommendations", {
    labels: bucketLabels(platform.recommendation_latency_ms),
    series: [
      { label: "p50", data: platform.recommendation_latency_ms.map((m) => m.p50) },
      { label: "p95", data: platform.recommendation_latency_ms.map((m) => m.p95) },
    ],
  });
  const states = Object.entries(platform.subscriptions.by_state || {});
  charts.draw("chart-subscriptions", {
    type: "doughnut",
    labels: states.map(([state]) => state),
    series: [{ label: "subscriptions", data: states.map(([, n]) => n) }],
  });
  charts.draw("chart-queues", {
    type: "bar",
    labels: platform.queues.map((q) => q.queue),
    series: [
      { label: "waiting", data: platform.queues.map((q) => q.depth) },
      { label: "dead letters", data: platform.queues.map((q) => q.dead_letters) },
    ],
  });
  const rows = platform.instances.map((i) => {
    const row = document.createElement("tr");
    for (const [text, down] of [[i.service], [i.name], [i.status, i.status !== "UP"], [String(i.weight)]]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      if (down) cell.className = "down";
      row.append(cell);
    }
    return row;
  });
  $("instances").tBodies[0].replaceChildren(...rows);
}

function drawTop(top) {
  charts.draw("chart-top", {
    type: "bar",
    labels: top.items.map((t) => t.name || t.key.slice(0, 8)),
    series: [
      { label: "views", data: top.items.map((t) => t.views) },
      { label: "minutes watched", data: top.items.map((t) => Math.round(t.played_ms / 60000)) },
    ],
    options: { indexAxis: "y" },
  });
}

function drawAlerts(alerts) {
  const list = $("alerts");
  const items = alerts.items.map((a) => {
    const item = document.createElement("li");
    item.className = a.severity;
    item.dataset.rule = a.rule;
    item.textContent = `${a.rule}: ${a.summary || a.metric} (${a.value} ${a.metric === "healthy_instances" ? "<" : ">"} ${a.threshold}) since ${new Date(a.fired_at).toLocaleTimeString()}`;
    return item;
  });
  if (!items.length) {
    const none = document.createElement("li");
    none.className = "none";
    none.textContent = "none";
    items.push(none);
  }
  list.replaceChildren(...items);
  list.dataset.count = String(alerts.items.length);
}

async function refreshAlerts() {
  drawAlerts(await api.get("/v1/analytics/alerts", { state: "firing" }));
}

async function refresh() {
  const since = $("range").value;
  const [qoe, platform, top, concurrent] = await Promise.all([
    api.get("/v1/analytics/qoe", { since }),
    api.get("/v1/analytics/platform", { since }),
    api.get("/v1/analytics/top", { since, limit: 10 }),
    api.get("/v1/analytics/concurrent"),
  ]);
  drawQoe(qoe);
  drawPlatform(platform);
  drawTop(top);
  $("concurrent-now").textContent = String(concurrent.now);
  await refreshAlerts();
  $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
}

function liveUpdate(message) {
  const live = $("live");
  live.dataset.updates = String(Number(live.dataset.updates) + 1);
  live.dataset.last = message.kind || message.type || "";
  if (message.type === "resync" || message.kind === "rollup") refresh().catch(failed);
  else if (message.channel === "alerts") refreshAlerts().catch(failed);
}

function failed(error) {
  if (error instanceof ApiError && error.status === 401) {
    api.token = null;
    show("sign-in");
  } else if (error instanceof ApiError && error.status === 403) {
    show("refused");
  } else {
    $("status").textContent = `error: ${error.message}`;
    console.warn("dashboard refresh failed:", error);
  }
}

let live = null;
let timer = null;

async function open() {
  try {
    await refresh();
  } catch (error) {
    failed(error);
    return;
  }
  show("board");
  $("status").textContent = "signed in";
  live = new Live({ api, onMessage: liveUpdate, onState: (state) => ($("live").textContent = `live: ${state}`) });
  live.start();
  timer = setInterval(() => refresh().catch(failed), REFRESH_MS);
}

$("sign-in").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  $("sign-in-error").textContent = "";
  try {
    await api.signIn(form.get("email"), form.get("password"));
  } catch (error) {
    $("sign-in-error").textContent = error.message;
    return;
  }
  await open();
});

$("sign-out").addEventListener("click", () => {
  api.token = null;
  if (live) live.stop();
  clearInterval(timer);
  show("sign-in");
});

$("range").addEventListener("change", () => refresh().catch(failed));

window.addEventListener("load", () => {
  if (api.token) open();
  else show("sign-in");
});
