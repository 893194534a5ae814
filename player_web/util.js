// Small helpers shared by the player's modules: time formatting, buffer maths, script loading.

/** 75.4 -> "1:15", 3725 -> "1:02:05". */
export function formatTime(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return "0:00";
  const total = Math.floor(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** 2482735 -> "2.48 Mbps", 491783 -> "492 kbps". */
export function formatBitrate(bps) {
  if (!Number.isFinite(bps) || bps <= 0) return "–";
  return bps >= 1e6 ? `${(bps / 1e6).toFixed(2)} Mbps` : `${Math.round(bps / 1e3)} kbps`;
}

/** Seconds buffered ahead of the playhead, in the buffered range that contains it. */
export function bufferAhead(video) {
  const t = video.currentTime;
  const ranges = video.buffered;
  for (let i = 0; i < ranges.length; i += 1) {
    // A small tolerance: MSE ranges often start a few ms after the position asked for.
    if (ranges.start(i) <= t + 0.1 && t < ranges.end(i)) return ranges.end(i) - t;
  }
  return 0;
}

/** The buffered ranges as [[start, end], ...], for the seek bar and the tests. */
export function bufferedRanges(video) {
  const out = [];
  for (let i = 0; i < video.buffered.length; i += 1) {
    out.push([video.buffered.start(i), video.buffered.end(i)]);
  }
  return out;
}

const loadedScripts = new Map();

/** Load a classic (UMD) script once; resolves when it has run. */
export function loadScript(src) {
  if (!loadedScripts.has(src)) {
    loadedScripts.set(
      src,
      new Promise((resolve, reject) => {
        const el = document.createElement("script");
        el.src = src;
        el.async = true;
        el.onload = () => resolve();
        el.onerror = () => {
          loadedScripts.delete(src);
          reject(new Error(`could not load ${src}`));
        };
        document.head.append(el);
      }),
    );
  }
  return loadedScripts.get(src);
}

/** "http://host:port" of a URL, or null. */
export function originOf(url) {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

/** Why a load failed, in a few words: "HTTP 503", "no response", "timed out"... */
export function describeFailure(info) {
  if (info.status > 0) return `HTTP ${info.status}`;
  if (info.status === 0) return "no response";
  if (/time ?out/i.test(info.details ?? "")) return "timed out";
  return info.details ?? "error";
}

/** A short, human label for a rendition. */
export function levelLabel(level) {
  if (!level) return "–";
  const hdr = level.videoRange && level.videoRange !== "SDR" ? ` ${level.videoRange}` : "";
  return level.height
    ? `${level.height}p${hdr} · ${formatBitrate(level.bitrate)}`
    : formatBitrate(level.bitrate);
}

/** An audio menu entry: the manifest's name, and its language when the name does not say. */
export function audioLabel(track) {
  const language = track.language && track.language !== "und" ? ` (${track.language})` : "";
  return `${track.label}${language}`;
}

/** A captions menu entry: the manifest's name, and its language when the name does not say. */
export function captionLabel(track) {
  return audioLabel(track);
}

/** Decode an error body (text or ArrayBuffer) and return its JSON `error.code`, if any. */
export function errorCode(body) {
  if (body == null) return null;
  try {
    const text = typeof body === "string" ? body : new TextDecoder().decode(body);
    return JSON.parse(text)?.error?.code ?? null;
  } catch {
    return null;
  }
}

/**
 * The audio track to pick again after an engine change: the same label (its name in the
 * manifest), else the same language with the same channels, else the same language; -1.
 */
export function matchAudio(tracks, wanted) {
  const same = (track) => track.language === wanted.language;
  const found = tracks.find((t) => t.label === wanted.label && same(t))
    ?? tracks.find((t) => same(t) && t.channels === wanted.channels)
    ?? tracks.find(same);
  return found ? found.index : -1;
}

/** The caption track to show again after an engine change: same label, else language and
 * kind, else language; -1. */
export function matchCaptions(tracks, wanted) {
  const same = (track) => track.language === wanted.language;
  const found = tracks.find((t) => t.label === wanted.label && same(t))
    ?? tracks.find((t) => same(t) && t.kind === wanted.kind)
    ?? tracks.find(same);
  return found ? found.index : -1;
}

/**
 * Whether to play the HDR ladder: the display says it shows high dynamic range and the
 * browser decodes HEVC Main10 (the HDR ladder's codec). Everywhere else, the SDR ladder.
 */
export function hdrPreferred() {
  const display = typeof matchMedia === "function" && matchMedia("(dynamic-range: high)").matches;
  const decodes = globalThis.MediaSource?.isTypeSupported?.('video/mp4; codecs="hvc1.2.4.L123.B0"');
  return Boolean(display && decodes);
}
