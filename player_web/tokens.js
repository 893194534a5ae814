// Renewed playback tokens, applied to the media requests already under way.
//
// A playback token lives a few minutes and is renewed by each stream-slot heartbeat. hls.js and
// dash.js keep requesting the URLs of the manifests they loaded first, so every request goes
// through `rewrite(url)` (hls.js: `xhrSetup`; dash.js: a request interceptor), which puts the
// newest token of that host in place of any token this player was given before:
//   - path tokens (the local edge, the origin): `https://host/t/<token>/assets/...`;
//   - query tokens (CloudFront, Cloudflare): the whole query, token and CDN signature together,
//     which the origin copies onto every URI of the manifests it serves.
// A URL with a token we never issued, another host's URL, or anything after the asset's version
// changed (the new token's scope is another folder) is left alone.

const PATH_TOKEN = /\/t\/([^/?#]+)\//;

export class TokenRewriter {
  constructor(stats) {
    this.stats = stats; // state.tokens: {renewals, rewritten}
    this.version = null;
    this.newest = new Map(); // host origin -> {token} or {query}
    this.issued = new Set(); // every token and query this player was given
  }

  /**
   * Take the tokens of a playback body: a heartbeat's renewal (only for the version playing), or,
   * with `reload`, the URLs the engine is about to load (any version: a start, a refresh).
   */
  update(playback, { reload = false } = {}) {
    if (!playback?.sources) return false;
    if (!reload && this.version !== null && playback.version !== this.version) return false;
    this.version = playback.version;
    for (const source of playback.sources) {
      for (const kind of ["hls", "dash"]) {
        const url = parse(source[kind]);
        if (!url) continue;
        const token = url.pathname.match(PATH_TOKEN)?.[1];
        const entry = token ? { token } : url.search ? { query: url.search } : null;
        if (!entry) continue;
        this.newest.set(url.origin, entry);
        this.issued.add(token ?? url.search);
      }
    }
    if (!reload) this.stats.renewals += 1;
    this.stats.expiresAt = playback.expires_at ?? null;
    return true;
  }

  /** `url` with the newest token of its host, if it carries an older one of ours. */
  rewrite(raw) {
    const url = parse(raw);
    const newest = url && this.newest.get(url.origin);
    if (!newest) return raw;
    let next = raw;
    if (newest.token) {
      const old = url.pathname.match(PATH_TOKEN)?.[1];
      if (old && old !== newest.token && this.issued.has(old)) {
        next = raw.replace(`/t/${old}/`, `/t/${newest.token}/`);
      }
    } else if (url.search && url.search !== newest.query && this.issued.has(url.search)) {
      next = raw.replace(url.search, newest.query);
    }
    if (next !== raw) this.stats.rewritten += 1;
    return next;
  }
}

function parse(raw) {
  try {
    return raw ? new URL(raw) : null;
  } catch {
    return null;
  }
}
