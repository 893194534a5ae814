// What the <video> element does, turned into playback events, progress reports and the stall
// record the panel and the tests read. Media events fired while the player swaps engines or
// sources (the element is emptied and refilled) are not the viewer's doing and are not reported.
//
// Events (README.md, "Playback events"): `start` when playback is requested (player.js calls
// `requested`), `first_frame` once a frame is on screen, `pause` / `resume`, `seek`,
// `buffering_start` / `buffering_end` (`cause: "seek"` after a seek), `complete`, `error`, and
// a `heartbeat` every 10 s while playing and right before a pause, the end and page hide,
// with the media time really played since the previous heartbeat (or the first frame).

import { renditionOf } from "./renditions.js";
import { record } from "./state.js";

const HEARTBEAT_EVERY_MS = 10000;
const MAX_STEP_S = 2; // a playhead step larger than this between timeupdates is a jump, not play

export function watchMedia(player) {
  const { video, state, events, progress } = player;
  let requested = false; // `start` tracked for this playback session
  let started = false; // its first frame was shown
  let pausedByViewer = false;
  let lastPosition = 0;
  let stall = null; // the open stall record, if any
  let stallStart = 0;
  let played = 0; // media seconds played since the last heartbeat
  let playhead = null; // the playhead at the last sample while playing; null: not playing

  const position = () => video.currentTime;

  /** Add what was played since the last sample; `playing`: whether to keep sampling. */
  const sample = (playing) => {
    const now = video.currentTime;
    if (playhead !== null && !player.reloading) {
      const step = now - playhead;
      if (step > 0 && step < MAX_STEP_S) played += step;
    }
    playhead = playing && !player.reloading ? now : null;
  };

  const heartbeat = () => {
    if (!started) return;
    sample(!video.paused && !video.ended && !video.seeking);
    events.track("heartbeat", position(), {
      ...renditionOf(state.levels[state.currentLevel]),
      played_ms: Math.round(played * 1000),
    });
    played = 0;
  };

  const firstFrame = () => {
    if (!requested || started) return;
    started = true;
    state.firstFrameAt = Date.now();
    progress.enabled = true;
    played = 0;
    playhead = video.paused ? null : video.currentTime;
    events.track("first_frame", position());
  };

  const endStall = () => {
    if (!stall) return;
    stall.duration_ms = Math.round(performance.now() - stallStart);
    const detail = { duration_ms: stall.duration_ms };
    if (stall.cause === "seek") detail.cause = "seek";
    events.track("buffering_end", position(), detail);
    stall = null;
  };

  video.addEventListener("playing", () => {
    endStall();
    player.controls.showBigPlay(false);
    player.reloading = false;
    player.clearMessage();
    state.phase = "playing";
    firstFrame();
    if (pausedByViewer) events.track("resume", position());
    pausedByViewer = false;
    playhead = video.currentTime;
  });

  video.addEventListener("canplay", () => {
    if (!video.paused || video.seeking) return; // playing: `playing` follows and ends it
    endStall();
  });

  video.addEventListener("pause", () => {
    if (video.ended || player.reloading || !started) return;
    heartbeat();
    playhead = null;
    pausedByViewer = true;
    state.phase = "paused";
    events.track("pause", position());
    progress.report("pause");
  });

  video.addEventListener("waiting", () => {
    sample(false);
    if (!started || stall) return;
    const cause = player.reloading ? "source" : video.seeking ? "seek" : "stall";
    stall = record(state.stalls, { position_s: player.position(), cause, duration_ms: null });
    stallStart = performance.now();
    events.track("buffering_start", position(), cause === "seek" ? { cause } : {});
  });

  video.addEventListener("timeupdate", () => {
    if (!video.seeking) lastPosition = video.currentTime;
    if (started && !video.paused && !video.seeking) sample(true);
  });

  video.addEventListener("seeking", () => {
    playhead = null;
    if (!started || player.reloading) return;
    events.track("seek", video.currentTime, { from_s: lastPosition, to_s: video.currentTime });
  });

  video.addEventListener("seeked", () => {
    lastPosition = video.currentTime;
    if (!video.paused) playhead = video.currentTime;
    if (started && !player.reloading) progress.seeked();
    // A seek inside the buffer ends a stall without a `playing` event when paused.
    if (video.paused) endStall();
  });

  video.addEventListener("ended", () => {
    endStall();
    heartbeat();
    playhead = null;
    state.phase = "ended";
    events.track("complete", position());
    progress.report("ended");
    events.flush();
  });

  video.addEventListener("error", () => {
    const error = video.error;
    const details = error ? `${error.code}: ${error.message}` : "unknown";
    record(state.errors, {
      source: state.activeSource, kind: "media-element", fatal: true, details, action: "engine",
    });
    events.track("error", position(), {
      fatal: true, code: `media_element_${error?.code ?? "unknown"}`, message: details,
    });
  });

  // Frames actually painted, for the panel and the tests (first frame, smoothness).
  if ("requestVideoFrameCallback" in HTMLVideoElement.prototype) {
    const onFrame = (_now, meta) => {
      state.framesPresented = meta.presentedFrames;
      if (meta.presentedFrames > 0 && !player.reloading) firstFrame();
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }

  setInterval(() => {
    if (!video.paused && !video.ended && !player.reloading) heartbeat();
  }, HEARTBEAT_EVERY_MS);

  // Leaving: save where the viewer is and send what is queued, with requests that outlive the
  // page (a beacon for the events).
  const leave = () => {
    if (!video.ended && (played > 0 || !video.paused)) heartbeat();
    progress.report("hidden", { keepalive: true });
    events.flush({ beacon: true });
  };
  window.addEventListener("pagehide", leave);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") leave();
  });

  return {
    /** Playback of a (new) playback session was asked for: `start`, and wait for its frame. */
    requested({ engine, autoplay }) {
      requested = true;
      started = false;
      played = 0;
      playhead = null;
      events.track("start", player.position(), { engine, autoplay });
    },
  };
}
