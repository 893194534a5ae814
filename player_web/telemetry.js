// Playback events, batched, and watch progress, reported to the catalog API.
// Both are no-ops without a viewer id or a signed-in profile. On page hide both flush with `fetch(..., {keepalive})`,
// which, unlike sendBeacon, can PUT and send the X-Viewer-Id header.

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

  track(type, position_s, detail = {}) {
    if (!this.api.canReport) return;
    const position = Number.isFinite(position_s) ? Math.max(0, position_s) : null;
    this.pending.push({ type, position_s: position, at: Date.now(), detail });
    this.stats.queued = this.pending.length;
    if (this.pending.length >= FLUSH_AT) this.flush();
  }

  flush({ keepalive = false } = {}) {
    while (this.pending.length && this.api.canReport) {
      const events = this.pending.splice(0, MAX_BATCH);
      this.stats.queued = this.pending.length;
      const batch = {
        viewer_id: this.api.viewerId,
        session_id: this.sessionId,
        asset_id: this.assetId,
        events,
      };
      this.api.sendEvents(batch, { keepalive }).then(
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
    this.flush({ keepalive: true });
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
