// The platform's HTTP API as the dashboard uses it: same origin (the gateway), an admin's
// access token from sign-in, JSON errors turned into exceptions that keep their `code`.

const TOKEN_KEY = "streamcore.dashboard.token";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export class Api {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  set token(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  }

  async signIn(email, password) {
    const tokens = await this.request("POST", "/v1/auth/login", {
      email,
      password,
      device_name: "admin dashboard",
    });
    this.token = tokens.access_token;
  }

  get(path, query = {}) {
    const params = new URLSearchParams(Object.entries(query).filter(([, v]) => v != null));
    const suffix = params.toString() ? `?${params}` : "";
    return this.request("GET", `${path}${suffix}`);
  }

  async request(method, path, body) {
    const headers = { Accept: "application/json" };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const json = text ? JSON.parse(text) : null;
    if (!response.ok) {
      const error = (json && json.error) || {};
      throw new ApiError(response.status, error.code || "http_error", error.message || response.statusText);
    }
    return json;
  }
}
