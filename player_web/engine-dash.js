// DASH through dash.js (the pinned build served at vendor/dash.all.min.js, global `dashjs`).
// Same shape as engine-hls.js: the engine plays one source and reports, through hooks, the
// renditions, the switches and the failures; the player decides about sources.

import { errorCode, hdrPreferred, loadScript, matchAudio, matchCaptions } from "./util.js";

const BUFFER_TARGET_S = 12;

// dash.js error codes (dashjs.MediaPlayer.errors) that mean "this source does not work":
// manifest loading or parsing, segment downloads (after dash.js' own retries), appending.
const SOURCE_FAILURES = new Set([10, 11, 17, 20, 25, 27, 28, 31, 32, 35]);
const DOWNLOAD_FAILURES = new Set([27, 28]); // segments, initialisation segments

/**
 * Every ABR knob of this engine, in one place (issue 17: switch down within 3 s of a collapse
 * without a stall over 1 s; stay on the top rendition on a stable network), as dash.js 5.2's
 * `streaming.abr`. Its strategy stays the default: the throughput rule below
 * `hybridSwitchBufferTime` of buffer, BOLA above it, the insufficient-buffer, switch-history
 * and abandon rules always.
 */
const ABR = {
  rules: {
    // dash.js drops a segment whose download, at the rate measured so far, would take more
    // than abandonDurationMultiplier x its duration. 1.8 (the default) lets a 4 s top-rendition
    // segment crawl for over 7 s after a collapse before anything happens; 1.5 abandons one the
    // network cannot sustain (as the HLS engine's guard does) and still spares a segment that
    // is merely slow. Judged after 6 progress events and 0.75 s from the first byte (0.5 s by
    // default), so that the first burst of a segment is not taken for the rate.
    abandonRequestsRule: {
      active: true,
      parameters: {
        abandonDurationMultiplier: 1.5,
        minSegmentDownloadTimeThresholdInMs: 750,
        minThroughputSamplesThreshold: 6,
      },
    },
  },
  throughput: {
    // Down from 0.9, for the reason the HLS engine gives: capped-CRF segments peak at up to
    // 1.5x their nominal rate, and a rendition chosen at 90 % of a freshly collapsed estimate
    // drains the buffer again.
    bandwidthSafetyFactor: 0.8,
    // Seconds of download time. Faster than the defaults (8 s / 3 s) for the HLS engine's
    // reason: 4 s segments give few samples; dash.js takes the lower of the two averages, so
    // the fast one notices a drop, the slow one keeps a stable network from flapping.
    ewma: { throughputSlowHalfLifeSeconds: 5, throughputFastHalfLifeSeconds: 2 },
  },
};

function settings({ level, patient, estimate, cmcd }) {
  // While another source remains, fail fast (no retry): the next source is the better bet.
  const attempts = patient ? 3 : 0;
  const interval = 500;
  return {
    streaming: {
      // CMCD (CTA-5004) in the query of the MPD and segment requests (dash.js' default
      // `includeInRequests`), `sid` being the playback session; off for sources player.js
      // leaves out.
      cmcd: cmcd
        ? { enabled: true, sid: cmcd.sessionId, cid: cmcd.contentId, mode: "query" }
        : { enabled: false },
      abr: {
        ...ABR,
        autoSwitchBitrate: { video: level < 0 },
        limitBitrateByPortal: true,
        // kbps; -1: dash.js' own guess. A replacement engine starts from the last estimate.
        initialBitrate: { video: estimate ? Math.round(estimate / 1000) : -1 },
      },
      // Captions stay off until the viewer picks one, as with hls.js.
      text: { defaultEnabled: false },
      ...(hdrPreferred() ? { capabilities: hdrCapabilities() } : {}),
      buffer: {
        // A switch up replaces buffered segments of a lower rendition ahead of the playhead
        // (an up-switch is seen within a segment); down-switches never flush.
        fastSwitchEnabled: true,
        bufferTimeDefault: BUFFER_TARGET_S,
        bufferTimeAtTopQuality: BUFFER_TARGET_S,
        bufferTimeAtTopQualityLongForm: BUFFER_TARGET_S,
      },
      manifestRequestTimeout: 4000,
      // dash.js has no time-to-first-byte limit, only a total one (and one between progress
      // events, armed by the first byte): twice a segment's duration catches a hung source
      // without cutting short a segment that is merely slow (ABR switches down first).
      fragmentRequestTimeout: patient ? 30000 : 8000,
      fragmentRequestProgressTimeout: 4000,
      retryAttempts: { MPD: attempts, MediaSegment: attempts, InitializationSegment: attempts },
      retryIntervals: { MPD: interval, MediaSegment: interval, InitializationSegment: interval },
    },
  };
}

function levelOf(rep, index) {
  return {
    index,
    height: rep.height,
    width: rep.width,
    bitrate: rep.bandwidth,
    name: rep.id,
    codecs: rep.codecs ?? null,
    videoRange: rangeOf(rep.mediaInfo),
  };
}

/** SDR, PQ or HLG, from the set's CICP transfer characteristics (packager/dash.py). */
function rangeOf(mediaInfo) {
  const transfer = "urn:mpeg:mpegB:cicp:TransferCharacteristics";
  const values = [...(mediaInfo?.essentialProperties ?? []), ...(mediaInfo?.supplementalProperties ?? [])]
    .filter((p) => p.schemeIdUri === transfer)
    .map((p) => String(p.value));
  if (values.includes("16")) return "PQ";
  if (values.includes("18")) return "HLG";
  return "SDR";
}

/**
 * dash.js skips an AdaptationSet whose EssentialProperty it does not list as supported; by
 * default that is BT.2020 primaries, so the HDR set is left out. Where the display and the
 * decoder can show HDR, BT.2020, PQ and HLG are added, and dash.js asks MediaCapabilities
 * about the set's colorimetry before it keeps it (filterVideoColorimetryEssentialProperties).
 */
function hdrCapabilities() {
  const cicp = "urn:mpeg:mpegB:cicp:";
  return {
    filterVideoColorimetryEssentialProperties: true,
    supportedEssentialProperties: [
      { schemeIdUri: `${cicp}ColourPrimaries`, value: /^(1|5|6|7|9)$/ },
      { schemeIdUri: `${cicp}MatrixCoefficients`, value: /^(0|1|5|6|9)$/ },
      { schemeIdUri: `${cicp}TransferCharacteristics`, value: /^(1|6|13|14|15|16|18)$/ },
    ],
  };
}

/** The audio menu's entries from dash.js' audio tracks (one per AdaptationSet). */
function audioTracksOf(tracks) {
  return tracks.map((track, index) => {
    const configuration = track.audioChannelConfiguration?.[0];
    const channels = Number.parseInt(configuration?.value ?? configuration ?? "2", 10) || 2;
    return {
      index,
      language: track.lang ?? "und",
      label: track.labels?.[0]?.text ?? track.lang ?? `Audio ${index + 1}`,
      channels,
    };
  });
}

/** The captions menu's entries, one per text AdaptationSet (Role caption or subtitle). */
function captionTracksOf(tracks) {
  return tracks.map((track, index) => ({
    index,
    language: track.lang ?? "und",
    label: track.labels?.[0]?.text ?? track.lang ?? `Captions ${index + 1}`,
    kind: (track.roles ?? []).some((role) => (role.value ?? role) === "caption")
      ? "captions"
      : "subtitles",
  }));
}

function failureOf(event) {
  const error = event.error ?? {};
  const data = error.data ?? {};
  const request = data.request ?? data.response?.request ?? null;
  const response = data.response ?? null;
  const status = response?.status ?? request?.status ?? data.status ?? null;
  const body = response?.data ?? request?.response ?? null;
  // Messages embed the URL, token included: keep it out of the text shown.
  const message = String(error.message ?? "error").replace(/https?:\/\/\S+/g, "<url>");
  return {
    kind: "dash",
    details: `dash.js ${error.code ?? "?"}: ${message}`,
    dashCode: error.code ?? null,
    fatal: SOURCE_FAILURES.has(error.code),
    status: typeof status === "number" ? status : null,
    code: errorCode(body),
    url: request?.url ?? data.url ?? null,
  };
}

export class DashEngine {
  static async create(options) {
    await loadScript("vendor/dash.all.min.js");
    if (!window.dashjs?.supportsMediaSource()) {
      throw new Error("this browser cannot play DASH through MSE");
    }
    return new DashEngine(options);
  }

  constructor({ video, url, startPosition, level, patient, estimate, debug, hooks, rewrite = (u) => u, cmcd = null, audio = null, captions = null }) {
    this.name = "dash";
    this.video = video;
    this.hooks = hooks;
    this.bufferTarget = BUFFER_TARGET_S;
    this.locations = 1; // BaseURLs (service locations) in the MPD: > 1 with content steering
    this.failuresInARow = 0; // download failures since the last segment that loaded
    this.pathway = null;
    this.reps = [];
    const { MediaPlayer } = window.dashjs;
    const player = MediaPlayer().create();
    this.player = player;
    const events = MediaPlayer.events;
    player.updateSettings(settings({ level, patient, estimate, cmcd }));
    if (debug) player.updateSettings({ debug: { logLevel: window.dashjs.Debug.LOG_LEVEL_DEBUG } });
    // Every request (the MPD, segments, retries) with the newest playback token (tokens.js):
    // dash.js 5 hands each request to the interceptors before loading it.
    player.addRequestInterceptor((request) => {
      request.url = rewrite(request.url);
      return Promise.resolve(request);
    });
    player.on(events.STREAM_INITIALIZED, () => {
      this.reps = player.getRepresentationsByType("video");
      if (level >= 0 && level < this.reps.length) this.setLevel(level);
      hooks.levels(this.levels);
      const current = player.getCurrentRepresentationForType("video");
      if (current) hooks.switching(this.#indexOf(current));
      // Audio: one track per AdaptationSet; a replacement engine picks the viewer's choice.
      const tracks = this.audioTracks;
      const wanted = audio ? matchAudio(tracks, audio) : -1;
      if (wanted >= 0) this.setAudioTrack(wanted);
      hooks.audioTracks(tracks, wanted >= 0 ? wanted : this.#audioIndex());
      const texts = this.captionTracks;
      const caption = captions ? matchCaptions(texts, captions) : -1;
      this.setCaptionTrack(caption);
      hooks.captionTracks(texts, caption);
    });
    player.on(events.TRACK_CHANGE_RENDERED, (e) => {
      if (e.mediaType === "audio") hooks.audioSwitched(this.#audioIndex(e.newMediaInfo));
    });
    player.on(events.QUALITY_CHANGE_REQUESTED, (e) => {
      if (e.mediaType === "video") hooks.switching(this.#indexOf(e.newRepresentation));
    });
    player.on(events.QUALITY_CHANGE_RENDERED, (e) => {
      if (e.mediaType === "video") hooks.switched(this.#indexOf(e.newRepresentation));
    });
    player.on(events.MANIFEST_LOADED, (e) => {
      this.locations = Math.max(1, e.data?.BaseURL?.length ?? 1);
    });
    player.on(events.FRAGMENT_LOADING_COMPLETED, (e) => {
      if (e.error || e.request?.mediaType !== "video") return;
      this.failuresInARow = 0;
      this.pathway = e.request.serviceLocation ?? null;
      hooks.fragment(e.request.url);
    });
    player.on(events.ERROR, (e) => this.#onError(e));
    player.on(events.PLAYBACK_ERROR, (e) => {
      const failure = { kind: "media", details: e.error?.message ?? "playback error", fatal: true };
      hooks.error({ ...failure, action: "failover" });
      hooks.failed(failure);
    });
    player.initialize(video, url, false, startPosition > 0 ? startPosition : undefined);
  }

  #audioIndex(track = this.player.getCurrentTrackFor("audio")) {
    const tracks = this.player.getTracksFor("audio");
    return tracks.findIndex((t) => t.id === track?.id && t.index === track?.index);
  }

  get audioTracks() {
    return audioTracksOf(this.player.getTracksFor("audio"));
  }

  get captionTracks() {
    return captionTracksOf(this.player.getTracksFor("text"));
  }

  /** Show caption track `index` (-1: none); dash.js puts its cues on the video's text track. */
  setCaptionTrack(index) {
    this.player.enableText(index >= 0);
    if (index >= 0) this.player.setTextTrack(index);
    this.hooks.captionSwitched(index);
  }

  /** Another audio AdaptationSet: dash.js replaces the audio buffer from the playhead. */
  setAudioTrack(index) {
    const track = this.player.getTracksFor("audio")[index];
    if (track) this.player.setCurrentTrack(track);
  }

  #indexOf(rep) {
    const index = this.reps.findIndex((r) => r.id === rep?.id);
    return index;
  }

  #onError(event) {
    const failure = failureOf(event);
    if (failure.status === 403 && failure.code === "token_expired") {
      this.hooks.error({ ...failure, action: "refresh" });
      this.hooks.failed({ ...failure, tokenExpired: true });
      return;
    }
    // With several service locations, dash.js blacklists the failing one and asks the next:
    // a failure is ours only once every location has failed in a row.
    if (failure.fatal && DOWNLOAD_FAILURES.has(failure.dashCode)) {
      this.failuresInARow += 1;
      if (this.steering && this.failuresInARow < this.locations) {
        this.hooks.error({ ...failure, fatal: false, action: "retry" });
        return;
      }
    }
    this.hooks.error({ ...failure, action: failure.fatal ? "failover" : "handled" });
    if (failure.fatal) this.hooks.failed(failure);
  }

  get steering() {
    return this.locations > 1;
  }

  get levels() {
    return this.reps.map(levelOf);
  }

  get autoLevel() {
    return this.player.getSettings().streaming.abr.autoSwitchBitrate.video;
  }

  get bandwidthEstimate() {
    const kbps = this.player.getAverageThroughput("video");
    return Number.isFinite(kbps) ? kbps * 1000 : 0;
  }

  get bufferAhead() {
    const seconds = this.player.getBufferLength("video");
    return Number.isFinite(seconds) ? seconds : 0;
  }

  setLevel(index) {
    const auto = index < 0;
    this.player.updateSettings({ streaming: { abr: { autoSwitchBitrate: { video: auto } } } });
    if (!auto) this.player.setRepresentationForTypeByIndex("video", index, false);
  }

  /** Seek to `position` again (the watchdog's nudge when nothing moves). */
  kick(position) {
    this.player.seek(position);
  }

  destroy() {
    this.player.destroy();
  }
}
