// The stream slot this player holds while it plays: taken with POST /v1/sessions, kept with a
// heartbeat every `heartbeat_s` (the position, and back come fresh playback tokens, applied to
// the media requests by tokens.js), freed with DELETE when the page goes away. The API ends a
// slot that stops beating, one stopped from another device, or one of a device signed out:
// the next heartbeat answers 409 session_ended and the player stops. So does a heartbeat
// answered 403 not_entitled: the account's plan no longer includes the title (suspended,
// expired, downgraded), and its playback tokens are not renewed.
//
// Without slots (an API that does not take them, or a viewer it does not give one), playback
// URLs come from GET /v1/playback, and nothing beats.

import { ApiError } from "./api.js";

const DEFAULT_HEARTBEAT_S = 10;
// Answers that mean "sessions are not for this caller": play with plain playback URLs instead.
const NO_SLOTS = new Set([400, 404, 405]);

export class StreamSlot {
  constructor({ api, rewriter, stats, position, onEnded }) {
    this.api = api;
    this.rewriter = rewriter;
    this.stats = stats; // state.session
    this.position = position; // () => seconds
    this.onEnded = onEnded; // (reason, code) => void
    this.id = null;
    this.timer = null;
    this.beating = null;
  }

  /** Take a slot for `assetId` and return its playback body; errors (401, 403 restricted,
   * 409 too_many_streams) are the caller's to show. */
  async take(assetId) {
    let session;
    try {
      session = await this.api.startSession(assetId);
    } catch (error) {
      if (!(error instanceof ApiError) || !NO_SLOTS.has(error.status)) throw error;
      Object.assign(this.stats, { id: null, slot: false });
      return this.api.playback(assetId);
    }
    this.id = session.session_id;
    const heartbeatS = Number(session.heartbeat_s) > 0 ? Number(session.heartbeat_s) : DEFAULT_HEARTBEAT_S;
    Object.assign(this.stats, { id: this.id, slot: true, heartbeatS, ended: null, endedCode: null, startedAt: session.started_at });
    clearInterval(this.timer);
    this.timer = setInterval(() => this.beat(), heartbeatS * 1000);
    return session.playback ?? this.api.playback(assetId);
  }

  /** One heartbeat now; resolves to the fresh playback body, if the API sent one. */
  beat() {
    if (!this.id) return Promise.resolve(null);
    this.beating ??= this.#beat().finally(() => {
      this.beating = null;
    });
    return this.beating;
  }

  async #beat() {
    const id = this.id;
    try {
      const body = await this.api.heartbeat(id, this.position());
      this.stats.heartbeats += 1;
      if (body?.playback) this.rewriter.update(body.playback);
      return body?.playback ?? null;
    } catch (error) {
      if (error instanceof ApiError && (error.code === "session_ended" || error.status === 404)) {
        this.#ended(error.message, "session_ended");
      } else if (error instanceof ApiError && error.status === 403) {
        const notEntitled = error.code === "not_entitled";
        this.#ended(notEntitled ? `your plan no longer includes this title (${error.message})` : error.message, error.code);
      } else if (error instanceof ApiError && error.status === 401) {
        this.#ended("you were signed out", "signed_out");
      } else {
        // The API is unreachable: the slot lives on until its timeout; the next beat may work.
        this.stats.failed += 1;
        console.warn("heartbeat failed:", error.message);
      }
      return null;
    }
  }

  #ended(reason, code) {
    this.stop();
    this.stats.ended = reason;
    this.stats.endedCode = code;
    this.onEnded(reason, code);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    this.id = null;
    this.stats.id = null;
  }

  /** Free the slot (page hide, sign-out): a request that outlives the page. */
  release() {
    const id = this.id;
    this.stop();
    if (id) this.api.endSession(id, { keepalive: true }).catch(() => {});
  }
}
