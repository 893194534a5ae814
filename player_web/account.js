// The viewer's sign-in: the auth service's tokens, kept for this tab (sessionStorage, so a reload
// stays signed in and closing the tab forgets them), the access token refreshed with the refresh
// token a minute before it expires, and the profile the viewer chose.
//
// `call(fn)` is how every API request gets its Authorization header: a token the API finds
// expired (401 token_expired) is refreshed once and the request retried. A refresh the auth
// service refuses (signed out from another device, a reused refresh token) signs the tab out.

import { ApiError, requestJson } from "./api.js";

const STORAGE_KEY = "streamcore.auth";
const REFRESH_BEFORE_MS = 60000; // refresh this long before the access token expires
const MIN_REFRESH_DELAY_MS = 5000;
const STALE = new Set(["token_expired", "invalid_token"]);

function load() {
  try {
    return JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? "null");
  } catch {
    return null;
  }
}

/** "Chrome on Linux": how this sign-in is listed among the account's devices. */
export function deviceName() {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chrom(e|ium)\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "Browser";
  const os = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Mac OS X/.test(ua) ? "macOS" : /Windows/.test(ua) ? "Windows" : /Linux/.test(ua) ? "Linux" : "a device";
  return `${browser} on ${os} (web player)`;
}

export class Account {
  constructor(base, state) {
    this.base = base.replace(/\/+$/, "");
    this.state = state; // state.auth, shown by the page and read by the tests
    this.tokens = load(); // {email, access_token, refresh_token, expires_at, device_id, profile_id, profile_name}
    this.refreshing = null;
    this.timer = null;
    this.onSignedOut = () => {};
    this.#publish();
    if (this.tokens) this.#schedule();
  }

  get signedIn() {
    return Boolean(this.tokens?.access_token);
  }

  /** The access token, for the one request that cannot carry a header (a beacon); null when
   * signed out. A stale one is the API's to refuse: a beacon cannot be retried anyway. */
  get accessToken() {
    return this.tokens?.access_token ?? null;
  }

  get profileId() {
    return this.tokens?.profile_id ?? null;
  }

  /** Run `fn(headers)`, with the access token when signed in; refresh once if it went stale. */
  async call(fn) {
    if (!this.signedIn) return fn({});
    if (Date.now() > this.tokens.expires_at - MIN_REFRESH_DELAY_MS) await this.refresh();
    try {
      return await fn(this.#headers());
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401 || !STALE.has(error.code) || !this.signedIn) throw error;
      await this.refresh();
      return fn(this.#headers());
    }
  }

  #headers() {
    return this.signedIn ? { Authorization: `Bearer ${this.tokens.access_token}` } : {};
  }

  #auth(method, path, body) {
    return requestJson(this.base, method, path, { body, headers: this.#headers() });
  }

  async signUp({ email, password, displayName }) {
    await requestJson(this.base, "POST", "/v1/auth/signup", {
      body: { email, password, display_name: displayName },
    });
    return this.signIn({ email, password });
  }

  async signIn({ email, password }) {
    const body = await requestJson(this.base, "POST", "/v1/auth/login", {
      body: { email, password, device_name: deviceName() },
    });
    this.#store({ email, ...this.#tokensOf(body), device_id: body.device_id, profile_id: body.profile_id ?? null, profile_name: null, chosen: false });
    this.state.signIns += 1;
  }

  /** New tokens from the refresh token (rotated); one refresh at a time for every caller. */
  refresh() {
    this.refreshing ??= this.#refresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  async #refresh() {
    const { refresh_token: refreshToken, profile_id: profileId } = this.tokens ?? {};
    if (!refreshToken) return;
    let body;
    try {
      body = await requestJson(this.base, "POST", "/v1/auth/refresh", { body: { refresh_token: refreshToken } });
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 400)) {
        this.#clear(`your sign-in has ended (${error.message})`);
        throw new ApiError(401, "signed_out", "Your sign-in has ended: sign in again.");
      }
      throw error; // the auth service is unreachable: keep the tokens, try again later
    }
    this.#store({ ...this.tokens, ...this.#tokensOf(body), device_id: body.device_id ?? this.tokens.device_id });
    // A refreshed token may be scoped to the account's first profile: back to the chosen one.
    if (profileId && body.profile_id && body.profile_id !== profileId) {
      await this.#scopeTo(profileId, this.tokens.profile_name);
    } else if (body.profile_id) {
      this.tokens.profile_id = body.profile_id;
    }
    this.state.refreshes += 1;
  }

  async signOut() {
    try {
      if (this.signedIn) await this.#auth("POST", "/v1/auth/logout");
    } catch (error) {
      console.warn("sign-out at the API failed; forgetting the tokens anyway:", error.message);
    }
    this.#clear(null);
  }

  profiles() {
    return this.call((headers) => requestJson(this.base, "GET", "/v1/profiles", { headers }));
  }

  devices() {
    return this.call((headers) => requestJson(this.base, "GET", "/v1/devices", { headers }));
  }

  /** Whether the viewer has picked a profile in this tab (or the account has only one). */
  get profileChosen() {
    return Boolean(this.tokens?.chosen);
  }

  /** An access token scoped to `profile` (from GET /v1/profiles). */
  async selectProfile(profile) {
    await this.call(() => this.#scopeTo(profile.id, profile.name));
  }

  async #scopeTo(profileId, name) {
    const body = await this.#auth("POST", `/v1/profiles/${encodeURIComponent(profileId)}/select`);
    this.#store({ ...this.tokens, ...this.#tokensOf(body), profile_id: body.profile_id ?? profileId, profile_name: name ?? null, chosen: true });
  }

  /** Ask again which profile is watching (the token keeps its profile until then). */
  forgetProfileChoice() {
    if (this.tokens) this.#store({ ...this.tokens, chosen: false });
  }

  /** The only profile, or the one the token already has, taken as chosen without asking. */
  keepProfile(profile) {
    this.#store({ ...this.tokens, profile_id: profile.id, profile_name: profile.name, chosen: true });
  }

  #tokensOf(body) {
    const tokens = {
      access_token: body.access_token,
      expires_at: Date.now() + (body.expires_in ?? 900) * 1000,
    };
    if (body.refresh_token) tokens.refresh_token = body.refresh_token;
    return tokens;
  }

  #store(tokens) {
    this.tokens = tokens;
    try {
      sessionStorage.setItem(STORAGE_KEY, JSON.stringify(tokens));
    } catch {
      // storage disabled: signed in for this page load only
    }
    this.#publish();
    this.#schedule();
  }

  #clear(reason) {
    clearTimeout(this.timer);
    this.tokens = null;
    try {
      sessionStorage.removeItem(STORAGE_KEY);
    } catch {
      // nothing stored
    }
    this.#publish();
    if (reason) this.onSignedOut(reason);
  }

  /** Refresh a minute before expiry, so that no request leaves with a token about to die. */
  #schedule() {
    clearTimeout(this.timer);
    if (!this.tokens?.refresh_token) return;
    const delay = Math.max(MIN_REFRESH_DELAY_MS, this.tokens.expires_at - Date.now() - REFRESH_BEFORE_MS);
    this.timer = setTimeout(() => {
      this.refresh().catch((error) => console.warn("token refresh failed:", error.message));
    }, delay);
  }

  #publish() {
    const t = this.tokens;
    Object.assign(this.state, {
      signedIn: this.signedIn,
      email: t?.email ?? null,
      deviceId: t?.device_id ?? null,
      profileId: t?.profile_id ?? null,
      profileName: t?.profile_name ?? null,
      expiresAt: t?.expires_at ?? null,
    });
  }
}
