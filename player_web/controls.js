// The viewer's controls: play/pause, the seek bar with storyboard previews, the time, the
// quality and engine choices, the resume prompt and the status message. DOM only: what to do
// with a choice is passed in as callbacks.

import { cueAt, paintCue } from "./storyboard.js";
import { audioLabel, captionLabel, formatTime, levelLabel } from "./util.js";

const $ = (id) => document.getElementById(id);

export class Controls {
  constructor({ video, onLevel, onAudio, onCaptions, onEngine, onSeek, onPlayToggle }) {
    this.video = video;
    this.cues = [];
    this.scrubbing = false;
    this.el = {
      play: $("play"),
      bigPlay: $("big-play"),
      seek: $("seek"),
      seekWrap: $("seek-wrap"),
      buffered: $("seek-buffered"),
      preview: $("preview"),
      previewImage: $("preview-image"),
      previewTime: $("preview-time"),
      time: $("time"),
      quality: $("quality"),
      audio: $("audio"),
      audioChoice: $("audio-choice"),
      captions: $("captions"),
      captionsChoice: $("captions-choice"),
      engine: $("engine"),
      message: $("message"),
      prompt: $("resume-prompt"),
      resume: $("resume"),
      startOver: $("start-over"),
    };
    const { el } = this;
    el.play.addEventListener("click", onPlayToggle);
    el.bigPlay.addEventListener("click", onPlayToggle);
    el.quality.addEventListener("change", () => onLevel(Number(el.quality.value)));
    el.audio.addEventListener("change", () => onAudio(Number(el.audio.value)));
    el.captions.addEventListener("change", () => onCaptions(Number(el.captions.value)));
    el.engine.addEventListener("change", () => onEngine(el.engine.value));
    el.seek.addEventListener("input", () => {
      this.scrubbing = true;
      this.#preview(Number(el.seek.value));
    });
    el.seek.addEventListener("change", () => {
      this.scrubbing = false;
      el.preview.hidden = true;
      onSeek(Number(el.seek.value));
    });
    el.seekWrap.addEventListener("pointermove", (e) => this.#hover(e));
    el.seekWrap.addEventListener("pointerleave", () => {
      if (!this.scrubbing) el.preview.hidden = true;
    });
  }

  setEngine(name) {
    this.el.engine.value = name;
  }

  setLevels(levels) {
    const select = this.el.quality;
    select.replaceChildren(new Option("Auto", "-1"));
    // Highest first, as quality menus usually are.
    for (const level of [...levels].reverse()) {
      select.append(new Option(levelLabel(level), String(level.index)));
    }
  }

  /** The audio menu: shown when there is a choice to make (two tracks or more). */
  setAudioTracks(tracks, current) {
    const { audio, audioChoice } = this.el;
    audio.replaceChildren(...tracks.map((t) => new Option(audioLabel(t), String(t.index))));
    audioChoice.hidden = tracks.length < 2;
    this.setAudioTrack(current);
  }

  setAudioTrack(index) {
    if (index >= 0) this.el.audio.value = String(index);
  }

  /** The captions menu: "Off" and every caption track; shown when there is one at least. */
  setCaptionTracks(tracks, current) {
    const { captions, captionsChoice } = this.el;
    const options = tracks.map((t) => new Option(captionLabel(t), String(t.index)));
    captions.replaceChildren(new Option("Off", "-1"), ...options);
    captionsChoice.hidden = tracks.length === 0;
    this.setCaptionTrack(current);
  }

  setCaptionTrack(index) {
    this.el.captions.value = String(index >= 0 ? index : -1);
  }

  setStoryboard(cues) {
    this.cues = cues;
  }

  /** Ask whether to resume; resolves to "resume" or "start-over". */
  askResume(position) {
    const { prompt, resume, startOver } = this.el;
    resume.textContent = `Resume from ${formatTime(position)}`;
    prompt.hidden = false;
    resume.focus();
    return new Promise((resolve) => {
      const choose = (choice) => {
        prompt.hidden = true;
        resolve(choice);
      };
      resume.addEventListener("click", () => choose("resume"), { once: true });
      startOver.addEventListener("click", () => choose("start-over"), { once: true });
    });
  }

  showMessage(text) {
    this.el.message.textContent = text;
    this.el.message.hidden = !text;
  }

  showBigPlay(visible) {
    this.el.bigPlay.hidden = !visible;
  }

  /** Called on every stats tick and media event. */
  update(state) {
    const { el, video } = this;
    const duration = Number.isFinite(video.duration) ? video.duration : state.duration;
    el.play.textContent = video.paused ? "Play" : "Pause";
    el.play.setAttribute("aria-label", video.paused ? "Play" : "Pause");
    el.seek.max = String(duration || 0);
    if (!this.scrubbing) el.seek.value = String(video.currentTime);
    el.time.textContent = `${formatTime(video.currentTime)} / ${formatTime(duration)}`;
    el.quality.value = state.autoLevel ? "-1" : String(state.loadingLevel);
    const auto = el.quality.options[0];
    const current = state.levels[state.currentLevel];
    auto.textContent = state.autoLevel && current ? `Auto (${current.height}p)` : "Auto";
    this.#paintBuffered(duration);
  }

  #paintBuffered(duration) {
    const { buffered } = this.video;
    if (!duration || !buffered.length) {
      this.el.buffered.style.background = "none";
      return;
    }
    const stops = [];
    for (let i = 0; i < buffered.length; i += 1) {
      const a = (buffered.start(i) / duration) * 100;
      const b = (buffered.end(i) / duration) * 100;
      stops.push(`transparent ${a}%, var(--buffered) ${a}%, var(--buffered) ${b}%, transparent ${b}%`);
    }
    this.el.buffered.style.background = `linear-gradient(to right, ${stops.join(", ")})`;
  }

  #hover(event) {
    const rect = this.el.seek.getBoundingClientRect();
    const duration = Number(this.el.seek.max);
    if (!duration || !rect.width) return;
    const ratio = Math.min(1, Math.max(0, (event.clientX - rect.left) / rect.width));
    this.#preview(ratio * duration);
  }

  #preview(time) {
    const { preview, previewImage, previewTime, seek } = this.el;
    const duration = Number(seek.max);
    previewTime.textContent = formatTime(time);
    const cue = this.cues.length ? cueAt(this.cues, time) : null;
    previewImage.hidden = !cue;
    if (cue) paintCue(previewImage, cue);
    preview.dataset.time = time.toFixed(2);
    preview.hidden = false;
    // Centred on the pointer, kept inside the bar.
    const width = preview.offsetWidth;
    const barWidth = seek.offsetWidth;
    const x = duration ? (time / duration) * barWidth : 0;
    preview.style.left = `${Math.min(Math.max(0, x - width / 2), Math.max(0, barWidth - width))}px`;
  }
}
