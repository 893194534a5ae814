// The last line of defence: playback that should be moving and is not.
//
// Timeouts and HTTP errors cover most failures, but a library can also get stuck by itself
// (hls.js 1.7 can drop its first segment when a content steering manifest lands mid-load, and
// then wait forever). When the playhead has not moved for a while although the viewer wants it
// to, first ask the engine to load again from the playhead, then treat it as a source failure.

import { record } from "./state.js";

const KICK_AFTER_MS = 4000;
const FAIL_AFTER_MS = 10000;

export class Watchdog {
  constructor(player) {
    this.player = player;
    this.reset();
  }

  /** Called whenever the player (re)starts, pauses or an engine is replaced. */
  reset() {
    this.lastTime = -1;
    this.since = performance.now();
    this.kicked = false;
  }

  check() {
    const { player } = this;
    const { video, engine, state } = player;
    const waiting =
      player.wantPlay && !video.ended && state.phase !== "prompt" && state.phase !== "failed";
    if (!engine || !waiting || video.currentTime !== this.lastTime) {
      this.lastTime = video.currentTime;
      this.since = performance.now();
      this.kicked = false;
      return;
    }
    const stuck = performance.now() - this.since;
    const details = `no progress for ${Math.round(stuck / 1000)} s`;
    if (stuck > FAIL_AFTER_MS) {
      this.reset();
      player.failover.failed({ kind: "watchdog", details, fatal: true });
    } else if (stuck > KICK_AFTER_MS && !this.kicked) {
      this.kicked = true;
      record(state.errors, { source: state.activeSource, kind: "watchdog", details, action: "kick" });
      engine.kick(player.resumeFrom());
    }
  }
}
