// Playback events, batched, and watch progress, reported to the platform's API.
// Both are no-ops without a viewer id or a signed-in profile.
//
// Events (README.md, "Playback events"): `{viewer_id?, session_id, asset_id, events: [{id, type,
// at, position_s?, detail}]}` to POST /v1/events, at most 100 per request, every 5 s or 20
// events, with fetch and the Authorization header. On page hide they go with
// `navigator.sendBeacon`, which outlives the page but cannot carry headers: the body is a form
// (`application/x-www-form-urlencoded`, CORS-safelisted, so no preflight), `batch=<JSON>` plus
// `access_token=<token>` when signed in (RFC 6750 §2.2); a beacon the browser refuses (its
// queue is full) goes with fetch keepalive instead. Progress is a PUT with the X-Viewer-Id
// header, so it keeps `fetch(..., {keepalive})` on page hide.

const FLUSH_EVERY_MS = 5000;
const FLUSH_AT = 20; // events
const MAX_BATCH = 100; // the API's limit per request
const PROGRESS_EVERY_MS = 10000;
const SEEK_REPORT_GAP_MS = 1000; // dragging the seek bar reports once, when it settles

export class EventQueue {
  constructor({ api, assetId, sessionId, stats }) {
    this.api = api;
    this.assetId = assetId;
    this.sessionId = sessionId;
    this.stats = stats; // state.events
    this.pending = [];
    this.timer = setInterval(() => this.flush(), FLUSH_EVERY_MS);
  }

  /** A new playback session (a stream slot taken): what was queued goes under the old one. */
  setSession(sessionId) {
    if (sessionId === this.sessionId) return;
    this.flush();
    this.sessionId = sessionId;
  }

  track(type, position_s, detail = {}) {
    if (!this.api.canReport) return;
    const event = { id: crypto.randomUUID(), type, at: Date.now(), detail };
    if (Number.isFinite(position_s)) event.position_s = Math.max(0, position_s);
    this.pending.push(event);
    this.stats.queued = this.pending.length;
    this.stats.tracked[type] = (this.stats.tracked[type] ?? 0) + 1;
    if (this.pending.length >= FLUSH_AT) this.flush();
  }

  #batch(events) {
    const batch = { session_id: this.sessionId, asset_id: this.assetId, events };
    if (this.api.viewerId) batch.viewer_id = this.api.viewerId;
    return batch;
  }

  /** Send what is queued; `beacon`: the page is going (hidden or unloading). */
  flush({ beacon = false } = {}) {
    while (this.pending.length && this.api.canReport) {
      const events = this.pending.splice(0, MAX_BATCH);
      this.stats.queued = this.pending.length;
      const batch = this.#batch(events);
      if (beacon && this.api.beaconEvents(batch)) {
        this.stats.beacons += 1;
        this.stats.sent += events.length; // handed to the browser, which sends it
        continue;
      }
      this.api.sendEvents(batch, { keepalive: beacon }).then(
        () => {
          this.stats.sent += events.length;
        },
        (error) => {
          // Dropped, not retried: analytics must never get in the way of playback.
          this.stats.failed += events.length;
          console.warn("playback events not sent:", error.message);
        },
      );
    }
  }

  stop() {
    clearInterval(this.timer);
    this.flush({ beacon: true });
  }
}

export class ProgressReporter {
  constructor({ api, assetId, sessionId, video, stats, duration }) {
    this.api = api;
    this.assetId = assetId;
    this.sessionId = sessionId;
    this.video = video;
    this.stats = stats; // state.progress
    this.duration = duration; // fallback when the element does not know yet
    this.enabled = false; // off until playback has really started (never overwrite with 0)
    this.lastSeekReport = 0;
    this.seekTimer = null;
    this.timer = setInterval(() => {
      if (!this.video.paused && !this.video.ended) this.report("periodic");
    }, PROGRESS_EVERY_MS);
  }

  report(reason, { keepalive = false } = {}) {
    if (!this.enabled || !this.api.canReport) return;
    const duration = Number.isFinite(this.video.duration) ? this.video.duration : this.duration();
    const position = reason === "ended" && duration ? duration : this.video.currentTime;
    const body = {
      position_s: Math.max(0, position),
      duration_s: duration || null,
      session_id: this.sessionId,
      reason,
    };
    this.stats.last = { reason, position_s: body.position_s, at: Date.now() };
    this.api.saveProgress(this.assetId, body, { keepalive }).then(
      () => {
        this.stats.sent += 1;
      },
      (error) => {
        this.stats.failed += 1;
        console.warn("progress not saved:", error.message);
      },
    );
  }

  /** Seeks come in bursts while dragging: report the first, then one when they settle. */
  seeked() {
    clearTimeout(this.seekTimer);
    const wait = this.lastSeekReport + SEEK_REPORT_GAP_MS - Date.now();
    const send = () => {
      this.lastSeekReport = Date.now();
      this.report("seek");
    };
    if (wait <= 0) send();
    else this.seekTimer = setTimeout(send, wait);
  }

  stop() {
    clearInterval(this.timer);
    clearTimeout(this.seekTimer);
  }
}
