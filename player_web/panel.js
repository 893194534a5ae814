// The live panel: what plays, from where, how well, and every switch with its reason.
// Text only (textContent), never markup built from data.

import { describeFailure, formatBitrate, formatTime, levelLabel } from "./util.js";

const $ = (id) => document.getElementById(id);
const REASONS = {
  start: "start",
  abr: "ABR",
  manual: "manual",
  fallback: "fallback",
  token: "token refresh",
  error: "error",
  engine: "engine change",
  retry: "retry",
  steering: "steering",
};

function describeSwitch(entry) {
  const at = formatTime(entry.position_s);
  const reason = REASONS[entry.reason] ?? entry.reason;
  if (entry.kind === "source") {
    const why = entry.status !== null || entry.details ? ` (${describeFailure(entry)})` : "";
    return `${at} · source ${entry.from ?? "–"} → ${entry.to} · ${reason}${why}`;
  }
  // Heights, not indexes: the list of renditions changes with the engine.
  const from = entry.from_height ? `${entry.from_height}p` : "–";
  const to = entry.height ? `${entry.height}p` : `#${entry.to}`;
  const shown = entry.rendered_at ? "" : " (loading)";
  return `${at} · ${from} → ${to} · ${reason}${shown}`;
}

function describeError(entry) {
  const status = entry.status !== null && entry.status !== undefined ? `${describeFailure(entry)}, ` : "";
  return `${entry.source ?? "–"}: ${status}${entry.details ?? entry.kind} → ${entry.action ?? ""}`;
}

function fillList(list, entries, describe, limit = 30) {
  const recent = entries.slice(-limit).reverse();
  const texts = recent.map(describe);
  const signature = `${entries.length}|${texts.join("\n")}`;
  if (list.dataset.signature === signature) return; // unchanged: keep the DOM (and any selection)
  list.replaceChildren(
    ...recent.map((entry, i) => {
      const li = document.createElement("li");
      li.textContent = texts[i];
      if (entry.reason) li.dataset.reason = entry.reason;
      if (entry.kind) li.dataset.kind = entry.kind;
      return li;
    }),
  );
  list.dataset.signature = signature;
}

export function renderPanel(state) {
  const levels = state.levels;
  const current = levels[state.currentLevel];
  const loading = state.loadingLevel !== state.currentLevel ? levels[state.loadingLevel] : null;
  $("stat-engine").textContent = state.engine === "dash" ? "DASH · dash.js" : "HLS · hls.js";
  $("active-source").textContent = state.activeSource ?? "–";
  $("stat-steering").textContent = state.steering ? `on · ${state.pathway ?? "–"}` : "off";
  $("active-source").dataset.source = state.activeSource ?? "";
  $("stat-mode").textContent = state.autoLevel ? "Auto (ABR)" : "Manual";
  $("stat-current").textContent = current ? levelLabel(current) : "–";
  $("stat-loading").textContent = loading ? levelLabel(loading) : "–";
  $("stat-bandwidth").textContent = formatBitrate(state.bandwidthEstimate);
  $("stat-buffer").textContent = `${state.bufferAhead.toFixed(1)} s (target ${state.bufferTarget} s)`;
  $("stat-dropped").textContent = `${state.droppedFrames} of ${state.decodedFrames}`;
  fillList($("switches"), state.switches, describeSwitch);
  fillList($("errors"), state.errors, describeError, 10);
}
