// Scrub previews: a WebVTT storyboard whose cues name a region of a sprite sheet,
// e.g. `sprite_001.jpg#xywh=160,0,160,90`, relative to the VTT's own URL (which carries the
// token, in its path or query, so the sprites inherit it).

function parseTimestamp(text) {
  // hh:mm:ss.ttt or mm:ss.ttt
  const parts = text.trim().split(":").map(Number);
  if (parts.some((p) => !Number.isFinite(p))) return NaN;
  return parts.reduce((acc, part) => acc * 60 + part, 0);
}

/** Cues [{start, end, url, x, y, w, h}] sorted by start; lines that do not parse are skipped. */
export function parseStoryboard(text, baseUrl) {
  const cues = [];
  const blocks = text.replace(/\r\n?/g, "\n").split(/\n{2,}/);
  for (const block of blocks) {
    const lines = block.split("\n").filter((l) => l.trim() !== "");
    const timing = lines.findIndex((l) => l.includes("-->"));
    if (timing < 0 || !lines[timing + 1]) continue;
    const [from, to] = lines[timing].split("-->");
    const start = parseTimestamp(from);
    const end = parseTimestamp(to.trim().split(/\s+/)[0]);
    const target = lines[timing + 1].trim();
    const match = /#xywh=(\d+),(\d+),(\d+),(\d+)$/.exec(target);
    if (!match || !Number.isFinite(start) || !Number.isFinite(end)) continue;
    const url = new URL(target.slice(0, match.index), baseUrl).href;
    const [x, y, w, h] = match.slice(1).map(Number);
    cues.push({ start, end, url, x, y, w, h });
  }
  return cues.sort((a, b) => a.start - b.start);
}

/** The cue showing at `time` (binary search), or the nearest one. */
export function cueAt(cues, time) {
  let lo = 0;
  let hi = cues.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (cues[mid].start <= time) lo = mid;
    else hi = mid - 1;
  }
  return cues[lo] ?? null;
}

export async function loadStoryboard(url) {
  const response = await fetch(url, { signal: AbortSignal.timeout(8000) });
  if (!response.ok) throw new Error(`storyboard: HTTP ${response.status}`);
  return parseStoryboard(await response.text(), response.url || url);
}

/** Paint one cue into the preview element (a div sized to the thumbnail). */
export function paintCue(el, cue) {
  el.style.width = `${cue.w}px`;
  el.style.height = `${cue.h}px`;
  el.style.backgroundImage = `url("${cue.url}")`;
  el.style.backgroundPosition = `-${cue.x}px -${cue.y}px`;
  el.dataset.sprite = cue.url;
}
