// What the <video> element does, turned into playback events, progress reports and the stall
// record the panel and the tests read. Media events fired while the player swaps engines or
// sources (the element is emptied and refilled) are not the viewer's doing and are not reported.

import { record } from "./state.js";

export function watchMedia(player) {
  const { video, state, events, progress } = player;
  let started = false;
  let startRequestedAt = performance.now();
  let pausedByViewer = false;
  let lastPosition = 0;
  let stall = null; // the open stall record, if any
  let stallStart = 0;

  const position = () => video.currentTime;

  const endStall = () => {
    if (!stall) return;
    stall.duration_ms = Math.round(performance.now() - stallStart);
    events.track("buffering_end", position(), { duration_ms: stall.duration_ms, cause: stall.cause });
    stall = null;
  };

  video.addEventListener("loadstart", () => {
    if (!started) startRequestedAt = performance.now();
  });

  video.addEventListener("playing", () => {
    endStall();
    player.controls.showBigPlay(false);
    player.reloading = false;
    player.clearMessage();
    state.phase = "playing";
    if (!started) {
      started = true;
      progress.enabled = true;
      const level = state.levels[state.currentLevel];
      events.track("start", position(), {
        engine: state.engine,
        source: state.activeSource,
        height: level?.height ?? null,
        startup_ms: Math.round(performance.now() - startRequestedAt),
        resumed: state.resume.choice === "resume",
      });
    } else if (pausedByViewer) {
      events.track("resume", position());
    }
    pausedByViewer = false;
  });

  video.addEventListener("pause", () => {
    if (video.ended || player.reloading || !started) return;
    pausedByViewer = true;
    state.phase = "paused";
    events.track("pause", position());
    progress.report("pause");
  });

  video.addEventListener("waiting", () => {
    if (!started || stall) return;
    const cause = player.reloading ? "source" : video.seeking ? "seek" : "stall";
    stall = record(state.stalls, { position_s: player.position(), cause, duration_ms: null });
    stallStart = performance.now();
    events.track("buffering_start", position(), { cause });
  });

  video.addEventListener("timeupdate", () => {
    if (!video.seeking) lastPosition = video.currentTime;
  });

  video.addEventListener("seeking", () => {
    if (!started || player.reloading) return;
    events.track("seek", position(), { from: lastPosition, to: video.currentTime });
  });

  video.addEventListener("seeked", () => {
    lastPosition = video.currentTime;
    if (started && !player.reloading) progress.seeked();
    // A seek inside the buffer ends a stall without a `playing` event when paused.
    if (video.paused) endStall();
  });

  video.addEventListener("ended", () => {
    endStall();
    state.phase = "ended";
    events.track("complete", position(), { duration_s: video.duration });
    progress.report("ended");
    events.flush();
  });

  video.addEventListener("error", () => {
    const error = video.error;
    record(state.errors, {
      source: state.activeSource, kind: "media-element", fatal: true,
      details: error ? `${error.code}: ${error.message}` : "unknown", action: "engine",
    });
  });

  // Frames actually painted, for the panel and the tests (first frame, smoothness).
  if ("requestVideoFrameCallback" in HTMLVideoElement.prototype) {
    const onFrame = (_now, meta) => {
      state.framesPresented = meta.presentedFrames;
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }

  // Leaving: save where the viewer is and send what is queued, with requests that outlive the page.
  const leave = () => {
    progress.report("hidden", { keepalive: true });
    events.flush({ keepalive: true });
  };
  window.addEventListener("pagehide", leave);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") leave();
  });
}
