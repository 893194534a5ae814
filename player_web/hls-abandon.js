// Abandoning a segment that crawls, for hls.js: the rule dash.js runs (its
// `abandonRequestsRule`), written here because hls.js has none like it.
//
// hls.js abandons a fragment only when it would arrive after the buffer runs dry
// (abr-controller `_abandonRulesCheck`: "only downswitch if the time to finish loading the
// current fragment is greater than the amount of buffer left"). With 12 s buffered, a
// top-rendition segment caught by a bandwidth collapse is left to finish, 8 s and more, and ABR
// may switch down only after it: the buffer drains by that much, and the viewer sees the switch
// late (issue 17). This drops such a segment as soon as its own download rate says it will take
// more than `multiplier` times its duration (the rendition cannot be sustained), provided a
// lower rendition fits that rate, and restarts loading there with the estimate reset to the
// rate measured, all through hls.js' public API. It never touches the lowest rendition, a
// manual choice, or a segment that is merely a little slow.

const CHECK_EVERY_MS = 200;

export class SlowFragmentGuard {
  /**
   * @param {object} hls the hls.js instance
   * @param {{multiplier: number, afterMs: number, bandwidthFactor: number}} rule
   */
  constructor(hls, rule) {
    this.hls = hls;
    this.rule = rule;
    this.frag = null;
    const { Events } = window.Hls;
    hls.on(Events.FRAG_LOADING, (_e, data) => {
      if (data.frag.type === "main") this.frag = data.frag;
    });
    const done = (_e, data) => {
      if (data?.frag === this.frag) this.frag = null;
    };
    hls.on(Events.FRAG_LOADED, done);
    hls.on(Events.FRAG_LOAD_EMERGENCY_ABORTED, done);
    hls.on(Events.ERROR, done);
    this.timer = setInterval(() => this.#check(), CHECK_EVERY_MS);
  }

  #check() {
    const { hls, frag, rule } = this;
    if (!frag || !hls.autoLevelEnabled || frag.level <= hls.minAutoLevel) return;
    const stats = frag.stats;
    if (stats.aborted || !stats.loading.first || (stats.total > 0 && stats.loaded >= stats.total)) {
      return;
    }
    // Measured from the first byte, over long enough that one burst is not the rate.
    const streamingMs = performance.now() - stats.loading.first;
    if (streamingMs < rule.afterMs || stats.loaded <= 0) return;
    const rate = (stats.loaded * 8000) / streamingMs; // bit/s
    const levels = hls.levels;
    const bytes = stats.total > 0 ? stats.total : (frag.duration * levels[frag.level].bitrate) / 8;
    const ttfbS = (stats.loading.first - stats.loading.start) / 1000;
    const projectedS = ttfbS + (bytes * 8) / rate;
    if (projectedS <= frag.duration * rule.multiplier) return;
    const fit = bestFit(levels, hls.minAutoLevel, frag.level - 1, rate * rule.bandwidthFactor);
    this.frag = null;
    // The estimator has not seen this download (aborted loads are not sampled): start it again
    // from the rate measured, or ABR would pick the top rendition again at once.
    hls.bandwidthEstimate = rate;
    // Forced for the next segment only; ABR decides again from the new estimate after it.
    hls.nextAutoLevel = fit;
    const position = hls.media?.currentTime ?? -1;
    hls.stopLoad(); // aborts the loads in flight, keeps the buffer
    hls.startLoad(position, true); // from the buffer's end, without seeking
  }

  destroy() {
    clearInterval(this.timer);
    this.frag = null;
  }
}

/** The highest rendition in [min, max] whose bitrate fits `bps`, else `min`. */
function bestFit(levels, min, max, bps) {
  for (let index = max; index > min; index -= 1) {
    if (levels[index].bitrate <= bps) return index;
  }
  return min;
}
