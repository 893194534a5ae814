// HLS through hls.js (the pinned build served at vendor/hls.min.js, global `Hls`).
// The engine plays one source; deciding what to do when that source fails is the player's job,
// so errors come out as hooks.failed({...}) rather than being handled here, except a fatal
// media error, which hls.js can recover from in place once per window.

import { SlowFragmentGuard } from "./hls-abandon.js";
import { errorCode, hdrPreferred, loadScript, matchAudio, matchCaptions, originOf } from "./util.js";

const BUFFER_TARGET_S = 12;

/**
 * Every ABR knob of this engine, in one place (issue 17: switch down within 3 s of a collapse
 * without a stall over 1 s; stay on the top rendition on a stable network). hls.js 1.7's
 * meanings: the EWMA half-lives are seconds of download time; a rendition is chosen when its
 * bitrate fits estimate x abrBandWidthFactor (staying or going down) or x abrBandWidthUpFactor
 * (going up).
 */
const ABR = {
  config: {
    // Faster than the defaults (3 s / 9 s): 4 s segments give few samples, and a player that
    // stays low for a minute after the network recovers looks broken. The estimate is the
    // lower of the two, so the fast one is what notices a drop.
    abrEwmaFastVoD: 2,
    abrEwmaSlowVoD: 5,
    abrEwmaFastLive: 2,
    abrEwmaSlowLive: 5,
    // Down from 0.95: our rungs are capped CRF whose segments peak at up to 1.5x the nominal
    // rate, so a rendition chosen at 95 % of a freshly collapsed estimate drains the buffer
    // again; 80 % leaves room for the peaks and for the estimate's lag.
    abrBandWidthFactor: 0.8,
    // hls.js' default, said on purpose: going up needs 30 % headroom over the next rendition,
    // so a stable network stays where it is instead of flapping between two rungs (and 0.7
    // is still above the top rung's needs on any network fast enough for it).
    abrBandWidthUpFactor: 0.7,
    // With an empty buffer, accept a rendition whose segment would rebuffer at most 1 s (the
    // issue's stall bound) instead of 4 s.
    maxStarvationDelay: 1,
  },
  // SlowFragmentGuard (hls-abandon.js): drop a segment whose download would take more than
  // 1.5x its duration (a rendition the network cannot sustain; 6 s for a 4 s segment), judged
  // after 0.75 s of data so that the first burst of a segment does not decide; the rendition
  // below is chosen at the same 80 % of the rate measured.
  abandon: { multiplier: 1.5, afterMs: 750, bandwidthFactor: 0.8 },
};

/** The error details of loads that failed (HTTP error, no response, timeout). */
function loadFailures({ ErrorDetails: d }) {
  return new Set([
    d.MANIFEST_LOAD_ERROR, d.MANIFEST_LOAD_TIMEOUT,
    d.LEVEL_LOAD_ERROR, d.LEVEL_LOAD_TIMEOUT,
    d.AUDIO_TRACK_LOAD_ERROR, d.AUDIO_TRACK_LOAD_TIMEOUT,
    d.FRAG_LOAD_ERROR, d.FRAG_LOAD_TIMEOUT,
  ]);
}
const RECOVER_WINDOW_MS = 10000;

/**
 * Load policies. While another source remains, fail fast (no retry on timeouts, one on errors):
 * the next source is a better bet than waiting. On the last source, be patient.
 */
function loadPolicy({ ttfbMs, loadMs, patient }) {
  return {
    default: {
      maxTimeToFirstByteMs: ttfbMs,
      maxLoadTimeMs: loadMs,
      timeoutRetry: { maxNumRetry: patient ? 2 : 0, retryDelayMs: 0, maxRetryDelayMs: 0 },
      errorRetry: {
        maxNumRetry: patient ? 4 : 1,
        retryDelayMs: 500,
        maxRetryDelayMs: patient ? 4000 : 500,
      },
    },
  };
}

function hlsConfig({ startPosition, patient, estimate, debug, rewrite, cmcd }) {
  const manifest = loadPolicy({ ttfbMs: 4000, loadMs: 8000, patient });
  return {
    debug: Boolean(debug),
    // CMCD (CTA-5004) in the query of every playlist and segment request, `sid` being the
    // playback session (player.js decides for which sources). Not headers: those would make
    // every request a CORS preflight.
    ...(cmcd ? { cmcd: { sessionId: cmcd.sessionId, contentId: cmcd.contentId, useHeaders: false } } : {}),
    // Every request (playlists, segments, retries) with the newest playback token (tokens.js).
    // hls.js opens the request itself unless xhrSetup already has: opening it here, on the
    // rewritten URL, is the documented way to change it.
    xhrSetup: (xhr, url) => {
      const next = rewrite(url);
      if (next !== url) xhr.open("GET", next, true);
    },
    // Start from the bandwidth measured on the first (lowest) segment, never above what the
    // element can show; when replacing an engine, from the bandwidth it had measured instead.
    startLevel: -1,
    testBandwidth: !estimate,
    ...(estimate ? { abrEwmaDefaultEstimate: estimate } : {}),
    capLevelToPlayerSize: true,
    // HDR (VIDEO-RANGE PQ or HLG, HEVC Main10) only where the display and the decoder can
    // show it; else hls.js keeps to the SDR variants alone, never mixing the two in ABR.
    videoPreference: { preferHDR: hdrPreferred() },
    startPosition: startPosition > 0 ? startPosition : -1,
    // Three segments ahead: enough to ride out a slow segment or a source failover, short enough
    // that ABR sees a bandwidth drop within a segment and a viewer who leaves costs little.
    maxBufferLength: BUFFER_TARGET_S,
    maxMaxBufferLength: BUFFER_TARGET_S,
    backBufferLength: 30,
    ...ABR.config,
    manifestLoadPolicy: manifest,
    playlistLoadPolicy: manifest,
    // Generous total time: a segment crawling in under a bandwidth cap is the ABR's business
    // (it abandons and switches down), not a failure.
    fragLoadPolicy: loadPolicy({ ttfbMs: 4000, loadMs: 30000, patient }),
  };
}

function levelsOf(hls) {
  return hls.levels.map((level, index) => ({
    index,
    height: level.height,
    width: level.width,
    bitrate: level.bitrate,
    name: level.name || (level.height ? `${level.height}p` : `${Math.round(level.bitrate / 1000)}k`),
    codecs: level.videoCodec ?? null,
    videoRange: level.videoRange ?? "SDR",
  }));
}

/** The audio menu's entries: {index, language, label, channels}, in the master's order. */
function audioTracksOf(hls) {
  return (hls.audioTracks ?? []).map((track, index) => ({
    index,
    language: track.lang ?? "und",
    label: track.name ?? track.lang ?? `Audio ${index + 1}`,
    channels: Number.parseInt(track.attrs?.CHANNELS ?? "2", 10) || 2,
  }));
}

/** The captions menu's entries: {index, language, label, kind}, from the SUBTITLES group. */
function captionTracksOf(hls) {
  return (hls.subtitleTracks ?? []).map((track, index) => ({
    index,
    language: track.lang ?? "und",
    label: track.name ?? track.lang ?? `Captions ${index + 1}`,
    kind: String(track.attrs?.CHARACTERISTICS ?? "").includes("describes-music-and-sound")
      ? "captions"
      : "subtitles",
  }));
}

function failureOf(data) {
  const xhr = data.networkDetails;
  const body = xhr && "response" in xhr ? xhr.response : null;
  return {
    kind: data.type,
    details: data.details,
    fatal: Boolean(data.fatal),
    status: data.response?.code ?? null,
    code: errorCode(body),
    url: data.frag?.url ?? data.url ?? data.context?.url ?? null,
  };
}

export class HlsEngine {
  static async create(options) {
    await loadScript("vendor/hls.min.js");
    if (!window.Hls?.isSupported()) throw new Error("this browser cannot play HLS through MSE");
    return new HlsEngine(options);
  }

  constructor({ video, url, startPosition, level, patient, estimate, debug, hooks, rewrite = (u) => u, cmcd = null, audio = null, captions = null }) {
    this.name = "hls";
    this.video = video;
    this.hooks = hooks;
    this.lastRecovery = -Infinity;
    this.failedPathways = new Set();
    this.bufferTarget = BUFFER_TARGET_S;
    const Hls = window.Hls;
    this.loadFailures = loadFailures(Hls);
    const hls = new Hls(hlsConfig({ startPosition, patient, estimate, debug, rewrite, cmcd }));
    this.hls = hls;
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      if (level >= 0 && level < hls.levels.length) hls.nextLevel = level;
      hooks.levels(levelsOf(hls));
    });
    // Audio: every language and channel layout of the master's AUDIO group. A replacement
    // engine (a fallback, the other engine) picks again what the viewer had chosen.
    hls.on(Hls.Events.AUDIO_TRACKS_UPDATED, () => {
      const tracks = audioTracksOf(hls);
      const wanted = audio ? matchAudio(tracks, audio) : -1;
      if (wanted >= 0 && wanted !== hls.audioTrack) hls.audioTrack = wanted;
      hooks.audioTracks(tracks, wanted >= 0 ? wanted : hls.audioTrack);
    });
    // By its place in hls.audioTracks (the event's id counts the tracks of every pathway).
    hls.on(Hls.Events.AUDIO_TRACK_SWITCHED, () => hooks.audioSwitched(hls.audioTrack));
    // Captions: off until the viewer picks one (none is DEFAULT=YES); hls.js puts the chosen
    // track's cues on the video element's own text track, shown by the browser.
    hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, () => {
      const tracks = captionTracksOf(hls);
      const wanted = captions ? matchCaptions(tracks, captions) : -1;
      if (wanted >= 0) this.setCaptionTrack(wanted);
      hooks.captionTracks(tracks, wanted);
    });
    hls.on(Hls.Events.SUBTITLE_TRACK_SWITCH, () => hooks.captionSwitched(hls.subtitleTrack));
    hls.on(Hls.Events.LEVEL_SWITCHING, (_e, data) => hooks.switching(data.level));
    hls.on(Hls.Events.LEVEL_SWITCHED, (_e, data) => hooks.switched(data.level));
    // Where segments really come from: with content steering, hls.js changes pathway (host)
    // by itself, and the player follows by watching the hosts.
    hls.on(Hls.Events.FRAG_LOADED, (_e, data) => {
      if (data.frag.type === "main") hooks.fragment(data.frag.url);
    });
    hls.on(Hls.Events.ERROR, (_e, data) => this.#onError(data));
    this.abandon = new SlowFragmentGuard(hls, ABR.abandon);
    hls.attachMedia(video);
    hls.loadSource(url);
  }

  #onError(data) {
    const Hls = window.Hls;
    const failure = failureOf(data);
    if (failure.status === 403 && failure.code === "token_expired") {
      this.hooks.error({ ...failure, action: "refresh" });
      this.hooks.failed({ ...failure, tokenExpired: true });
      return;
    }
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR && data.fatal) {
      const now = performance.now();
      if (now - this.lastRecovery > RECOVER_WINDOW_MS) {
        this.lastRecovery = now;
        this.hooks.error({ ...failure, action: "recover" });
        this.hls.recoverMediaError();
        return;
      }
    }
    const loadFailed = this.loadFailures.has(data.details);
    if (loadFailed && !data.fatal && this.#steerAwayFrom(failure.url)) {
      this.hooks.error({ ...failure, action: "steer" });
      return;
    }
    // A load that failed after hls.js' own retries means the source is failing (not a request
    // hls.js aborted itself, e.g. to switch down), unless content steering has just moved
    // hls.js to another host (it handles the error before we hear of it).
    const sourceFailure = data.fatal || (loadFailed && !this.#movedAwayFrom(failure.url));
    const action = sourceFailure ? "failover" : loadFailed ? "retry" : "handled";
    this.hooks.error({ ...failure, action });
    if (sourceFailure) this.hooks.failed(failure);
  }

  /**
   * A load failed on the pathway playing now: move to the next pathway of the master playlist
   * at once, keeping position and buffer. hls.js would get there itself, but only after trying
   * every other rendition on the failing host (seconds each when the host hangs).
   * Returns false when there is no other pathway to go to; the player's fallback takes over.
   */
  #steerAwayFrom(url) {
    const current = this.pathway;
    const pathways = this.hls.pathways ?? [];
    if (!current || pathways.length < 2) return false;
    const level = this.hls.levels?.[Math.max(0, this.hls.loadLevel)];
    if (!originOf(url) || originOf(url) !== originOf(level?.uri ?? level?.url?.[0])) {
      return false; // not the pathway playing now: a late answer from one already left
    }
    this.failedPathways.add(current);
    const order = (this.hls.pathwayPriority ?? pathways).filter((p) => pathways.includes(p));
    const healthy = order.filter((p) => !this.failedPathways.has(p));
    if (healthy.length === 0) return false;
    this.hls.pathwayPriority = [...healthy, ...order.filter((p) => this.failedPathways.has(p))];
    return this.pathway !== current;
  }

  #movedAwayFrom(url) {
    const level = this.hls.levels?.[Math.max(0, this.hls.loadLevel)];
    const next = originOf(level?.uri ?? level?.url?.[0]);
    return Boolean(next && originOf(url) && next !== originOf(url));
  }

  get levels() {
    return levelsOf(this.hls);
  }

  get autoLevel() {
    return this.hls.autoLevelEnabled;
  }

  get bandwidthEstimate() {
    return this.hls.bandwidthEstimate || 0;
  }

  /** Seconds of video buffered ahead: what hls.js decides its next load on. */
  get bufferAhead() {
    return this.hls.mainForwardBufferInfo?.len ?? 0;
  }

  get steering() {
    return (this.hls.pathways?.length ?? 0) > 1;
  }

  /** The content steering pathway playing now ("." is the manifest's own). */
  get pathway() {
    return this.hls.levels?.[0]?.pathwayId ?? null;
  }

  get audioTracks() {
    return audioTracksOf(this.hls);
  }

  /** Another audio rendition: hls.js loads it from the playhead and swaps what is buffered. */
  setAudioTrack(index) {
    this.hls.audioTrack = index;
  }

  /** Show caption track `index` (-1: none). */
  setCaptionTrack(index) {
    this.hls.subtitleDisplay = index >= 0;
    this.hls.subtitleTrack = index;
  }

  /** -1: automatic. A manual choice switches at the next segment (no flush of what plays now). */
  setLevel(index) {
    if (index < 0) this.hls.loadLevel = -1;
    else this.hls.nextLevel = index;
  }

  /** Load again from `position` (the watchdog's nudge when nothing moves). */
  kick(position) {
    this.hls.stopLoad();
    this.hls.startLoad(position);
  }

  destroy() {
    this.abandon.destroy();
    this.hls.destroy();
  }
}
