// The live connection: one WebSocket to the notifications service (docs/notifications.md),
// opened with a single-use ticket (browsers cannot send headers on a WebSocket), resumed
// after a drop from the last message id seen, so nothing sent meanwhile is missed.

const RETRY_MS = [500, 1000, 2000, 5000, 10000];

export class Live {
  constructor({ api, onMessage, onState }) {
    this.api = api;
    this.onMessage = onMessage;
    this.onState = onState;
    this.lastId = null;
    this.attempt = 0;
    this.stopped = false;
  }

  async start() {
    this.stopped = false;
    try {
      const ticket = await this.api.request("POST", "/v1/ws/tickets", {});
      this.#open(ticket);
    } catch (error) {
      this.onState(`offline (${error.message})`);
      this.#retry();
    }
  }

  stop() {
    this.stopped = true;
    if (this.socket) this.socket.close(1000);
  }

  #open(ticket) {
    const url = new URL(ticket.url || "/v1/ws", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("ticket", ticket.ticket);
    if (this.lastId) url.searchParams.set("last_id", this.lastId);
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempt = 0;
      this.onState("live");
    });
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.id) this.lastId = message.id;
      this.onMessage(message);
    });
    socket.addEventListener("close", (event) => {
      if (this.stopped) return;
      // 1001: the instance is going away; another answers at once.
      this.onState(event.code === 1001 ? "reconnecting" : `offline (${event.code})`);
      this.#retry(event.code === 1001 ? 0 : undefined);
    });
  }

  #retry(delay) {
    if (this.stopped) return;
    const wait = delay ?? RETRY_MS[Math.min(this.attempt, RETRY_MS.length - 1)];
    this.attempt += 1;
    setTimeout(() => this.start(), wait);
  }
}
