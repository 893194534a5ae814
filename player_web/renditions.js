// Which rendition plays, which one is loading, and why each switch happened.
//
// Engines report switches without a reason; the player knows the reason when it caused the
// switch itself (a manual choice, a new engine after a fallback...) and leaves it pending for
// the next switch. Anything else is the library's ABR, or its reaction to a failed load.

import { record } from "./state.js";

/** How events name a rendition: {rendition: "720p", bitrate_kbps}; nulls when unknown. */
export function renditionOf(level) {
  if (!level) return { rendition: null, bitrate_kbps: null };
  return {
    rendition: level.height ? `${level.height}p` : level.name ?? null,
    bitrate_kbps: Number.isFinite(level.bitrate) ? Math.round(level.bitrate / 1000) : null,
  };
}

const REASON_TTL_MS = 3000; // a pending reason labels the next switch only if it comes soon
const ERROR_SWITCH_MS = 50; // a switch this close before an error report was caused by it

export class Renditions {
  constructor({ state, events, position }) {
    this.state = state;
    this.events = events;
    this.position = position;
    this.pending = null;
    this.manualHeight = null; // a manual choice survives source and engine changes
  }

  /** The next switch happens because of `reason` (start, manual, fallback, token, engine...). */
  expect(reason) {
    this.pending = { reason, at: Date.now() };
  }

  #takeReason() {
    const pending = this.pending;
    this.pending = null;
    return pending && Date.now() - pending.at < REASON_TTL_MS ? pending.reason : "abr";
  }

  /** The index to ask a new engine for: the manual choice by height, else -1 (Auto). */
  manualIndex(levels) {
    if (this.manualHeight === null) return -1;
    return levels.find((l) => l.height === this.manualHeight)?.index ?? -1;
  }

  choose(index) {
    this.manualHeight = index < 0 ? null : this.state.levels[index]?.height ?? null;
    this.state.autoLevel = index < 0;
    this.expect(index < 0 ? "abr" : "manual");
  }

  levels(levels) {
    this.state.levels = levels;
    this.state.autoLevel = this.manualHeight === null;
  }

  reset() {
    this.state.levels = [];
    this.state.currentLevel = -1;
    this.state.loadingLevel = -1;
  }

  /** The engine started loading another rendition. */
  switching(index) {
    const { state } = this;
    if (index < 0 || index === state.loadingLevel) return;
    const level = state.levels[index];
    record(state.switches, {
      kind: "rendition",
      from: state.loadingLevel,
      to: index,
      from_height: state.levels[state.loadingLevel]?.height ?? null,
      height: level?.height ?? null,
      bitrate: level?.bitrate ?? null,
      reason: this.#takeReason(),
      source: state.activeSource,
      position_s: this.position(),
      rendered_at: null,
    });
    state.loadingLevel = index;
  }

  /** Another rendition is on screen. */
  switched(index) {
    const { state } = this;
    const previous = state.currentLevel;
    state.currentLevel = index;
    const entry = state.switches.findLast((s) => s.kind === "rendition" && s.to === index);
    if (entry && !entry.rendered_at) entry.rendered_at = Date.now();
    if (previous < 0 || previous === index) return;
    const to = renditionOf(state.levels[index]);
    const from = renditionOf(state.levels[previous]);
    const detail = { rendition: to.rendition, bitrate_kbps: to.bitrate_kbps };
    if (from.rendition !== null) detail.from_rendition = from.rendition;
    if (from.bitrate_kbps !== null) detail.from_bitrate_kbps = from.bitrate_kbps;
    // The wire knows two reasons: the viewer's quality menu holds a rendition, or ABR chose.
    detail.reason = this.manualHeight !== null ? "manual" : "abr";
    this.events.track("rendition_switch", this.position(), detail);
  }

  /** The library reacts to a failed load before reporting it (e.g. by trying another
   * rendition): a switch it made in the same instant was caused by the error, not by ABR. */
  errorReported() {
    const now = Date.now();
    for (const entry of this.state.switches.slice(-3)) {
      if (entry.kind === "rendition" && entry.reason === "abr" && now - entry.at < ERROR_SWITCH_MS) {
        entry.reason = "error";
      }
    }
  }
}
