// The streaming service, as the player uses it: playback URLs, the anonymous viewer, progress,
// events. The page is served through the gateway, which routes these paths to the streaming
// service, so same-origin relative URLs are right (`?api=` names another base). Viewer calls are
// best-effort: when they fail (or the API does not offer them yet) the player plays on without
// resume and analytics.

const VIEWER_KEY = "streamcore.viewer_id";
const TIMEOUT_MS = 8000;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export class StreamingApi {
  constructor(base) {
    this.base = base.replace(/\/+$/, "");
    this.viewerId = null;
  }

  async #request(method, path, { body, keepalive = false, timeoutMs = TIMEOUT_MS } = {}) {
    const headers = {};
    if (this.viewerId) headers["X-Viewer-Id"] = this.viewerId;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers,
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
      throw new ApiError(response.status, error.code ?? "http_error", error.message ?? `HTTP ${response.status}`);
    }
    return response.status === 204 || response.status === 202 ? null : response.json();
  }

  /** Signed playback URLs: {asset_id, version, expires_at, sources: [...]}, primary first. */
  playback(assetId) {
    return this.#request("GET", `/v1/playback/${encodeURIComponent(assetId)}`);
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
        console.warn("no viewer id, so no resume or analytics:", error.message);
        id = null;
      }
    }
    this.viewerId = id;
    return id;
  }

  /** The last position saved for this viewer, or null (none yet, or not available). */
  async progress(assetId) {
    if (!this.viewerId) return null;
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
}
