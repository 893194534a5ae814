// Which source plays, and what happens when it fails.
//
// The playback API lists sources, primary first, origin last. When the playing source fails
// (the engine says so through hooks.failed), the player moves to the next one at the current
// position; an expired token instead fetches fresh URLs and reloads the same source. When the
// manifests carry content steering, the library may move to another host by itself: the player
// follows by watching which host segments come from, and records that switch too.

import { record } from "./state.js";
import { describeFailure, originOf } from "./util.js";

const REFRESH_GAP_MS = 15000; // at most one playback-URL refresh per this long
const CAUSE_WINDOW_MS = 15000; // a host change this soon after an error there is a fallback

export class Failover {
  constructor(player) {
    this.player = player;
    this.lastRefresh = 0;
  }

  get state() {
    return this.player.state;
  }

  /** The engine gave up on the source (or its token expired). */
  async failed(info) {
    const { player } = this;
    const position = player.resumeFrom();
    player.events.track("error", position, {
      source: this.state.activeSource,
      status: info.status ?? null,
      details: info.details ?? null,
      fatal: Boolean(info.fatal),
    });
    const canRefresh = Date.now() - this.lastRefresh > REFRESH_GAP_MS;
    if (info.tokenExpired && canRefresh) {
      await this.refresh(player.sourceIndex, position, "token", info);
      return;
    }
    const next = player.sourceIndex + 1;
    if (next < player.sources.length) {
      this.switchTo(next, position, "fallback", info);
    } else if (info.fatal && canRefresh) {
      // Every source failed: fresh URLs (a new version, new tokens), from the primary again.
      await this.refresh(0, position, "retry", info);
    } else if (info.fatal) {
      player.fail(`Playback failed: ${describeFailure(info)}`);
    }
  }

  async refresh(index, position, reason, info) {
    const { player } = this;
    this.lastRefresh = Date.now();
    player.generation += 1; // silence the failing engine while the API answers
    try {
      player.applyPlayback(await player.freshPlayback());
    } catch (error) {
      if (this.state.phase === "stopped") return; // the slot ended: the player asks to play again
      player.fail(`Playback failed and new URLs could not be fetched: ${error.message}`);
      return;
    }
    this.switchTo(Math.min(index, player.sources.length - 1), position, reason, info);
  }

  switchTo(index, position, reason, info = {}) {
    const { player } = this;
    const to = player.sources[index].name;
    this.#record(to, reason, info, position);
    if (reason === "fallback") {
      player.note(`${this.state.activeSource} failed (${describeFailure(info)}): playing from ${to}`);
    }
    player.renditions.expect(reason);
    player.load(index, position);
  }

  /** A segment arrived from `url`: if from another source's host, the library moved there. */
  segmentFrom(url) {
    const { player } = this;
    const origin = originOf(url);
    const kind = this.state.engine;
    const index = player.sources.findIndex((s) => originOf(s[kind]) === origin);
    if (index < 0 || index === player.sourceIndex) return;
    const from = this.state.activeSource;
    const cause = this.state.errors.findLast(
      (e) => e.source === from && e.action !== "handled" && Date.now() - e.at < CAUSE_WINDOW_MS,
    );
    const to = player.sources[index].name;
    this.#record(to, cause ? "fallback" : "steering", cause ?? {}, player.position());
    if (cause) player.note(`${from} failed (${describeFailure(cause)}): playing from ${to}`);
    player.sourceIndex = index;
    this.state.activeSource = to;
    player.render();
  }

  #record(to, reason, info, position) {
    record(this.state.switches, {
      kind: "source",
      from: this.state.activeSource,
      to,
      reason,
      status: info.status ?? null,
      details: info.details ?? null,
      position_s: position,
    });
  }
}
