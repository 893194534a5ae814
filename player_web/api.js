// The platform's HTTP API, as the player uses it. The page is served through the gateway, which
// routes every path to its service (streaming, auth), so same-origin relative URLs are right
// (`?api=` names another base).
//
// StreamingApi: stream slots (watch sessions) and their heartbeats, playback URLs, the anonymous
// viewer, progress, events. Viewer calls are best-effort: when they fail (or the API does not
// offer them) the player plays on without resume and analytics. Every call carries the signed-in
// person's access token when there is one (account.js), which is refreshed and retried once when
// the API finds it expired.

const VIEWER_KEY = "streamcore.viewer_id";
const TIMEOUT_MS = 8000;

export class ApiError extends Error {
  /** `error` is the whole JSON error object (e.g. `streams` of a 409 too_many_streams). */
  constructor(status, code, message, { error = {}, retryAfter = null } = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.error = error;
    this.retryAfter = retryAfter;
  }
}

/** One JSON request; an HTTP error becomes an ApiError with the body's code and message. */
export async function requestJson(base, method, path, { body, headers = {}, keepalive = false, timeoutMs = TIMEOUT_MS } = {}) {
  const all = { ...headers };
  if (body !== undefined) all["Content-Type"] = "application/json";
  const response = await fetch(`${base}${path}`, {
    method,
    headers: all,
    body: body === undefined ? undefined : JSON.stringify(body),
    keepalive,
    cache: "no-store",
    // keepalive requests outlive the page; a timeout would only cut them short.
    signal: keepalive ? undefined : AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) {
    let payload = null;
    try {
      payload = await response.json();
    } catch {
      // not JSON: the status says enough
    }
    const error = payload?.error ?? {};
    const retryAfter = Number(response.headers.get("Retry-After")) || null;
    throw new ApiError(response.status, error.code ?? "http_error", error.message ?? `HTTP ${response.status}`, {
      error,
      retryAfter,
    });
  }
  return response.status === 204 || response.status === 202 ? null : response.json();
}

export class StreamingApi {
  /** `account`: the sign-in (account.js), which authorises each call. */
  constructor(base, account) {
    this.base = base.replace(/\/+$/, "");
    this.account = account;
    this.viewerId = null;
    // The playback session (player.js): the stream slot's id, else the player's own UUID,
    // which GET /v1/playback signs into the URLs' token (`sid`) for a viewer without a slot.
    this.sessionId = null;
  }

  #request(method, path, options = {}) {
    return this.account.call((auth) => {
      const headers = { ...auth };
      if (this.viewerId) headers["X-Viewer-Id"] = this.viewerId;
      return requestJson(this.base, method, path, { ...options, headers });
    });
  }

  /** Whether progress and events can be reported: as a profile, or an anonymous viewer. */
  get canReport() {
    return Boolean(this.viewerId || this.account.signedIn);
  }

  /** Signed playback URLs: {asset_id, version, expires_at, sources: [...]}, primary first. */
  playback(assetId) {
    const query = this.sessionId ? `?session_id=${encodeURIComponent(this.sessionId)}` : "";
    return this.#request("GET", `/v1/playback/${encodeURIComponent(assetId)}${query}`);
  }

  /** Take a stream slot: {session_id, asset_id, started_at, heartbeat_s, playback}. */
  startSession(assetId) {
    return this.#request("POST", "/v1/sessions", { body: { asset_id: assetId } });
  }

  /** Keep the slot: the session and, while it is held, `playback` with fresh URL tokens. */
  heartbeat(sessionId, position_s) {
    return this.#request("POST", `/v1/sessions/${encodeURIComponent(sessionId)}/heartbeat`, {
      body: { position_s: Math.max(0, position_s || 0) },
    });
  }

  /** Free a slot: this player's own, or one the account holds on another device. */
  endSession(sessionId, { keepalive = false } = {}) {
    return this.#request("DELETE", `/v1/sessions/${encodeURIComponent(sessionId)}`, { keepalive });
  }

  /** The viewer id kept in localStorage, or a new one from the API; null if there is none. */
  async ensureViewer() {
    let id = null;
    try {
      id = localStorage.getItem(VIEWER_KEY);
    } catch {
      // storage disabled: a new viewer per page load
    }
    if (!id) {
      try {
        id = (await this.#request("POST", "/v1/viewers"))?.viewer_id ?? null;
        if (id) localStorage.setItem(VIEWER_KEY, id);
      } catch (error) {
        if (!this.account.signedIn) console.warn("no viewer id, so no resume or analytics:", error.message);
        id = null;
      }
    }
    this.viewerId = id;
    return id;
  }

  /**
   * Signed in: move what this browser watched anonymously (its viewer id's progress and events)
   * to the profile, once. Best effort; the id is forgotten once claimed (here or before).
   */
  async claimViewer() {
    let id = null;
    try {
      id = localStorage.getItem(VIEWER_KEY);
    } catch {
      return null;
    }
    if (!id || !this.account.signedIn) return null;
    try {
      const claim = await this.#request("POST", `/v1/viewers/${encodeURIComponent(id)}/claim`);
      localStorage.removeItem(VIEWER_KEY);
      return claim;
    } catch (error) {
      if (error.status === 409 || error.status === 404) localStorage.removeItem(VIEWER_KEY);
      else console.warn("anonymous progress not moved to the profile:", error.message);
      return null;
    }
  }

  /** The last position saved for this viewer (or profile), or null (none yet, or not available). */
  async progress(assetId) {
    if (!this.canReport) return null;
    try {
      return await this.#request("GET", `/v1/progress/${encodeURIComponent(assetId)}`);
    } catch (error) {
      if (error.status !== 404) console.warn("progress unavailable:", error.message);
      return null;
    }
  }

  saveProgress(assetId, report, { keepalive = false } = {}) {
    return this.#request("PUT", `/v1/progress/${encodeURIComponent(assetId)}`, {
      body: report,
      keepalive,
    });
  }

  sendEvents(batch, { keepalive = false } = {}) {
    return this.#request("POST", "/v1/events", { body: batch, keepalive });
  }

  /**
   * The same request as a beacon (page hide): a form body, since a beacon has no headers;
   * the access token as the RFC 6750 §2.2 form parameter. False: the browser did not queue it.
   */
  beaconEvents(batch) {
    if (typeof navigator.sendBeacon !== "function") return false;
    const form = new URLSearchParams({ batch: JSON.stringify(batch) });
    const token = this.account.accessToken;
    if (token) form.set("access_token", token);
    try {
      return navigator.sendBeacon(`${this.base}/v1/events`, form);
    } catch {
      return false; // e.g. a body over the browser's beacon limit
    }
  }
}
