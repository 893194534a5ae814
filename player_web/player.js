// StreamCore's web player: the entry point. It takes a stream slot (signing the viewer in and
// picking a profile first when the API asks for it), plays the first source with hls.js (or
// dash.js) with the playback tokens the slot's heartbeats renew, falls back to the next source
// when one fails, and reports progress and playback events. See README.md.

import { Access } from "./access.js";
import { Account } from "./account.js";
import { StreamingApi } from "./api.js";
import { AccountBar } from "./account-bar.js";
import { Controls } from "./controls.js";
import { DashEngine } from "./engine-dash.js";
import { HlsEngine } from "./engine-hls.js";
import { Failover } from "./failover.js";
import { watchMedia } from "./media-events.js";
import { renderPanel } from "./panel.js";
import { Gate } from "./gate.js";
import { Renditions } from "./renditions.js";
import { StreamSlot } from "./slot.js";
import { SubscriptionApi } from "./subscription.js";
import { createState, record } from "./state.js";
import { loadStoryboard } from "./storyboard.js";
import { EventQueue, ProgressReporter } from "./telemetry.js";
import { TokenRewriter } from "./tokens.js";
import { bufferAhead } from "./util.js";
import { Watchdog } from "./watchdog.js";

const ENGINES = { hls: HlsEngine, dash: DashEngine };
const RESUME_MIN_S = 5;
const TICK_MS = 500;
const NOTE_MS = 8000;
// CMCD goes in the query of the media requests to the sources we serve ourselves (the local
// edges, the origin), which carry the token in the path: a CDN's query signature (CloudFront,
// Cloudflare) covers the whole query, and CMCD headers would cost every request a preflight.
const PATH_TOKEN = /\/t\/[^/?#]+\//;

/** Offer to resume past the first seconds and before the very end (the last 5 %, at least 5 s). */
function resumePosition(progress) {
  const position = progress?.position_s;
  if (!Number.isFinite(position) || position <= RESUME_MIN_S) return null;
  const duration = progress.duration_s;
  if (Number.isFinite(duration) && duration - position <= Math.max(5, duration * 0.05)) return null;
  return position;
}

class Player {
  constructor({ params, video }) {
    this.video = video;
    this.assetId = params.get("asset");
    const engine = params.get("engine") === "dash" ? "dash" : "hls";
    this.debug = params.get("debug") === "1"; // the libraries' own logs, in the console
    const base = params.get("api") || window.location.origin;
    // The playback session: this UUID until a stream slot is taken, then the slot's id
    // (useSession). Events, progress, CMCD and the playback token's `sid` all carry it.
    this.state = createState({ assetId: this.assetId, engine, sessionId: crypto.randomUUID() });
    this.account = new Account(base, this.state.auth);
    this.api = new StreamingApi(base, this.account);
    this.api.sessionId = this.state.sessionId;
    this.startedSession = null; // the session whose `start` was tracked
    this.rewriter = new TokenRewriter(this.state.tokens);
    this.slot = new StreamSlot({
      api: this.api, rewriter: this.rewriter, stats: this.state.session,
      position: () => this.position(), onEnded: (reason, code) => this.stopped(reason, code),
    });
    this.gate = new Gate({ account: this.account });
    this.access = new Access({
      player: this, account: this.account, gate: this.gate, slot: this.slot,
      subscriptions: new SubscriptionApi(base, this.account),
    });
    this.accountBar = new AccountBar({ player: this, account: this.account });
    this.account.onSignedOut = (reason) => this.accountBar.render(reason);
    // Read live, not at the last tick: tests time their actions on these.
    Object.defineProperties(this.state, {
      currentTime: { enumerable: true, get: () => video.currentTime },
      bufferAhead: { enumerable: true, get: () => this.engine?.bufferAhead ?? bufferAhead(video) },
    });
    window.streamcorePlayer = this.state;
    this.engine = null;
    this.audioChoice = null; // {language, label, channels} the viewer picked, for new engines
    this.captionsChoice = null; // {language, label, kind}, or null: captions off
    this.generation = 0; // bumped per engine: hooks of a replaced engine are ignored
    this.sources = [];
    this.sourceIndex = 0;
    this.failover = new Failover(this);
    this.watchdog = new Watchdog(this);
    this.reloading = false;
    this.noteTimer = null;
    this.startPosition = 0;
    this.wantPlay = true; // autoplay; the viewer's play/pause changes it
    this.controls = new Controls({
      video,
      onLevel: (index) => this.setLevel(index),
      onAudio: (index) => this.setAudioTrack(index),
      onCaptions: (index) => this.setCaptionTrack(index),
      onEngine: (name) => this.switchEngine(name),
      onSeek: (time) => this.seek(time),
      onPlayToggle: () => this.togglePlay(),
    });
    this.controls.setEngine(engine);
    this.events = new EventQueue({
      api: this.api, assetId: this.assetId, sessionId: this.state.sessionId, stats: this.state.events,
    });
    this.progress = new ProgressReporter({
      api: this.api, assetId: this.assetId, sessionId: this.state.sessionId, video,
      stats: this.state.progress, duration: () => this.state.duration,
    });
    this.renditions = new Renditions({
      state: this.state, events: this.events, position: () => this.position(),
    });
    this.media = watchMedia(this);
    // The slot is freed when the page goes (not when it is merely hidden: a background tab plays).
    window.addEventListener("pagehide", () => this.slot.release());
    setInterval(() => this.tick(), TICK_MS);
  }

  async start() {
    if (!this.assetId) {
      this.fail("Add ?asset=<asset id> to the address to play something.");
      return;
    }
    this.message("Loading…");
    this.accountBar.render();
    // An anonymous viewer id, where anonymous playback is allowed; a profile needs none.
    if (!this.account.signedIn) this.state.viewerId = await this.api.ensureViewer();
    const playback = await this.authorise();
    if (!playback) return;
    this.applyPlayback(playback);
    if (this.account.signedIn) this.state.claim = await this.api.claimViewer();
    let startAt = 0;
    const progress = await this.api.progress(this.assetId);
    if (progress?.duration_s) this.state.duration = progress.duration_s;
    const resumeAt = resumePosition(progress);
    if (resumeAt !== null) {
      this.state.phase = "prompt";
      this.state.resume = { offered: true, position_s: resumeAt, choice: null };
      this.message("");
      const choice = await this.controls.askResume(resumeAt);
      this.state.resume.choice = choice;
      if (choice === "resume") startAt = resumeAt;
    }
    this.renditions.expect("start");
    await this.load(0, startAt);
  }

  /** Playback URLs from a stream slot, after signing in and the like; null if there are none. */
  async authorise() {
    let playback;
    try {
      playback = await this.access.grant(this.assetId);
    } catch (error) {
      this.fail(error.code === "restricted" ? `${error.message} (profile ${this.state.auth.profileName ?? "in use"})` : `Cannot play this asset: ${error.message}`);
      return null;
    } finally {
      this.accountBar.render();
    }
    if (!playback) this.fail("Not playing here: every stream of the account is in use.");
    else this.useSession(this.slot.id ?? this.state.sessionId);
    return playback;
  }

  /** From now on, report under playback session `id` (a stream slot's, once taken). */
  useSession(id) {
    if (id === this.state.sessionId) return;
    this.events.setSession(id);
    this.state.sessionId = id;
    this.api.sessionId = id;
    this.progress.sessionId = id;
  }

  /** CMCD for the media requests of `url`'s source: only for path-token sources (ours). */
  cmcdFor(url) {
    return PATH_TOKEN.test(url ?? "") ? { sessionId: this.state.sessionId, contentId: this.assetId } : null;
  }

  /** Fresh playback URLs (a token expired, every source failed): from the slot, else the API. */
  async freshPlayback() {
    const renewed = await this.slot.beat();
    if (this.state.session.ended) throw new Error(this.state.session.ended);
    return renewed ?? this.api.playback(this.assetId);
  }

  /** The slot was ended by the API (stopped from another device, signed out, expired, the
   * plan no longer includes the title: then the plans are offered next). */
  stopped(reason, code) {
    const position = this.resumeFrom();
    this.generation += 1;
    this.engine?.destroy();
    this.engine = null;
    this.state.ready = false;
    this.state.phase = "stopped";
    this.message("");
    const notEntitled = code === "not_entitled";
    this.gate.askPlayAgain(reason, notEntitled ? { action: "See plans" } : {}).then(() => {
      if (notEntitled) Object.assign(this.access, { subscribed: false, wantsPlans: this.account.signedIn });
      this.playAgain(position);
    });
  }

  async playAgain(position) {
    this.message("Loading…");
    const playback = await this.authorise();
    if (!playback) return;
    this.applyPlayback(playback);
    this.wantPlay = true;
    this.renditions.expect("retry");
    await this.load(this.sourceIndex < this.sources.length ? this.sourceIndex : 0, position);
  }

  applyPlayback(playback) {
    this.rewriter.update(playback, { reload: true });
    this.sources = playback.sources;
    this.state.sources = playback.sources.map((s) => s.name);
    this.state.expiresAt = playback.expires_at;
    // Content steering is announced inside the manifests, which hls.js and dash.js read
    // themselves; the API's copy of the steering URLs is kept for the panel and diagnostics.
    this.state.steeringManifests = playback.steering ?? null;
    const withPoster = playback.sources.find((s) => s.poster);
    if (withPoster && !this.video.poster) {
      this.video.poster = withPoster.poster;
      this.state.poster = withPoster.poster;
    }
    const withStoryboard = playback.sources.find((s) => s.storyboard);
    if (withStoryboard && !this.state.storyboard.url) {
      this.state.storyboard.url = withStoryboard.storyboard;
      loadStoryboard(withStoryboard.storyboard).then(
        (cues) => {
          this.state.storyboard.cues = cues.length;
          this.controls.setStoryboard(cues);
        },
        (error) => console.warn("no scrub previews:", error.message),
      );
    }
  }

  /** Play source `index` from `position` with the current engine, replacing any engine. */
  async load(index, position) {
    const source = this.sources[index];
    const kind = this.state.engine;
    this.sourceIndex = index;
    this.state.activeSource = source.name;
    this.render();
    this.state.ready = false;
    this.reloading = true;
    this.startPosition = position;
    this.engine?.destroy();
    this.engine = null;
    this.watchdog.reset();
    const generation = ++this.generation;
    this.state.audioTrack = -1; // the new engine says which it starts with
    const levelIndex = this.renditions.manualIndex(this.state.levels);
    if (this.startedSession !== this.state.sessionId) {
      this.startedSession = this.state.sessionId;
      this.media.requested({ engine: kind, autoplay: this.wantPlay });
    }
    try {
      this.engine = await ENGINES[kind].create({
        video: this.video,
        url: source[kind],
        startPosition: position,
        level: levelIndex,
        patient: index === this.sources.length - 1,
        estimate: this.state.bandwidthEstimate,
        debug: this.debug,
        hooks: this.hooks(generation),
        rewrite: (url) => this.rewriter.rewrite(url),
        cmcd: this.cmcdFor(source[kind]),
        audio: this.audioChoice,
        captions: this.captionsChoice,
      });
      this.state.bufferTarget = this.engine.bufferTarget;
    } catch (error) {
      this.fail(error.message);
      return;
    }
    if (this.wantPlay) this.play();
  }

  hooks(generation) {
    const current = () => generation === this.generation;
    return {
      levels: (levels) => current() && this.onLevels(levels),
      audioTracks: (tracks, index) => current() && this.onAudioTracks(tracks, index),
      audioSwitched: (index) => current() && this.onAudioSwitched(index),
      captionTracks: (tracks, index) => current() && this.onCaptionTracks(tracks, index),
      captionSwitched: (index) => current() && this.onCaptionSwitched(index),
      switching: (index) => current() && this.renditions.switching(index),
      switched: (index) => current() && this.renditions.switched(index),
      error: (info) => current() && this.onError(info),
      failed: (info) => current() && this.failover.failed(info),
      fragment: (url) => current() && this.failover.segmentFrom(url),
    };
  }

  onLevels(levels) {
    this.renditions.levels(levels);
    this.state.steering = this.engine?.steering ?? false;
    this.controls.setLevels(levels);
    this.state.ready = true;
  }

  /** The engine's audio tracks: on start, and again whenever its list changes (hls.js says so
   * after a level or pathway change too). Which one plays is the switch events' business. */
  onAudioTracks(tracks, index) {
    this.state.audioTracks = tracks;
    if (this.state.audioTrack < 0) this.state.audioTrack = index;
    this.controls.setAudioTracks(tracks, this.state.audioTrack);
  }

  /** The engine plays another audio track; the first one it settles on is no switch. */
  onAudioSwitched(index) {
    const previous = this.state.audioTrack;
    if (index < 0 || index === previous) return;
    this.state.audioTrack = index;
    if (previous >= 0) this.state.audioSwitches += 1;
    this.controls.setAudioTrack(index);
  }

  /** The viewer's audio choice; kept (by label and language) across engine replacements. */
  setAudioTrack(index) {
    const track = this.state.audioTracks[index];
    if (!this.engine || !track) return;
    this.audioChoice = track;
    this.engine.setAudioTrack(index);
  }

  onCaptionTracks(tracks, index) {
    this.state.captionTracks = tracks;
    this.state.captionTrack = index;
    this.controls.setCaptionTracks(tracks, index);
  }

  onCaptionSwitched(index) {
    this.state.captionTrack = index;
    this.controls.setCaptionTrack(index);
  }

  /** The viewer's captions choice (-1: off); kept across engine replacements. */
  setCaptionTrack(index) {
    if (!this.engine) return;
    this.captionsChoice = index >= 0 ? this.state.captionTracks[index] ?? null : null;
    this.engine.setCaptionTrack(index);
    this.onCaptionSwitched(index);
  }

  onError(info) {
    record(this.state.errors, { source: this.state.activeSource, ...info });
    if (info.action === "handled" && !info.fatal) return; // the library's own business
    this.renditions.errorReported();
    this.events.track("error", this.position(), {
      fatal: Boolean(info.fatal),
      code: info.code ?? info.details ?? info.kind ?? "error",
      message: String(info.details ?? info.kind ?? "error"),
    });
  }

  /** The playhead; while an engine is being replaced, where the new one starts. */
  position() {
    return this.reloading ? this.startPosition : this.video.currentTime;
  }

  /** Where a replacement engine should start: the playhead, or where the first one was to start. */
  resumeFrom() {
    if (this.reloading) return this.startPosition;
    const t = this.video.currentTime;
    return t > 0 ? t : (this.state.resume.choice === "resume" ? this.state.resume.position_s : 0);
  }

  setLevel(index) {
    if (!this.engine) return;
    this.renditions.choose(index);
    this.engine.setLevel(index);
  }

  switchEngine(name) {
    if (!ENGINES[name] || name === this.state.engine) return;
    const url = new URL(window.location.href);
    url.searchParams.set("engine", name);
    window.history.replaceState(null, "", url);
    const position = this.resumeFrom();
    this.state.engine = name;
    this.renditions.reset();
    this.renditions.expect("engine");
    this.load(this.sourceIndex, position);
  }

  seek(time) {
    if (Number.isFinite(time)) this.video.currentTime = time;
  }

  togglePlay() {
    if (this.video.paused || this.video.ended) {
      this.wantPlay = true;
      this.play();
    } else {
      this.wantPlay = false;
      this.video.pause();
    }
  }

  play() {
    this.video.play().then(
      () => this.controls.showBigPlay(false),
      (error) => {
        // AbortError: a new load (another source or engine) interrupted it; that one plays.
        if (error.name !== "NotAllowedError" || !this.video.paused) return;
        // Autoplay refused (no gesture yet): the viewer starts it; nothing is stuck meanwhile.
        this.wantPlay = false;
        this.clearMessage();
        this.controls.showBigPlay(true);
      },
    );
  }

  message(text) {
    clearTimeout(this.noteTimer);
    this.noteTimer = null;
    this.state.message = text;
    this.controls.showMessage(text);
  }

  /** A message that stays for a few seconds, whatever playback does meanwhile. */
  note(text) {
    this.message(text);
    this.noteTimer = setTimeout(() => this.message(""), NOTE_MS);
  }

  /** Playback (re)started: clear "Loading…" and the like, but not a note still showing. */
  clearMessage() {
    if (!this.noteTimer && this.state.phase !== "failed") this.message("");
  }

  fail(text) {
    this.state.phase = "failed";
    this.message(text);
  }

  tick() {
    const { state, video, engine } = this;
    if (Number.isFinite(video.duration)) state.duration = video.duration;
    if (engine) {
      state.bandwidthEstimate = Math.round(engine.bandwidthEstimate);
      state.autoLevel = engine.autoLevel;
      state.steering = engine.steering;
      state.pathway = engine.pathway;
    }
    const quality = video.getVideoPlaybackQuality?.();
    if (quality) {
      state.droppedFrames = quality.droppedVideoFrames;
      state.decodedFrames = quality.totalVideoFrames;
    }
    this.watchdog.check();
    this.render();
  }

  render() {
    this.controls.update(this.state);
    renderPanel(this.state);
  }
}

const player = new Player({
  params: new URLSearchParams(window.location.search),
  video: document.getElementById("video"),
});
player.start();
