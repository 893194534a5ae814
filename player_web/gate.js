// What stands between the viewer and playback, drawn over the video: sign in (or sign up), pick
// a profile, choose a stream to stop when the account plays on too many devices, play again
// once a stream was stopped, a locked title's "Subscribe" and the plans to subscribe to. DOM only, text only (textContent): each `ask*` resolves with the
// viewer's choice; signing in itself is account.js' business, called from here.

import { describePlan } from "./subscription.js";
import { formatTime } from "./util.js";

const $ = (id) => document.getElementById(id);
const PANES = ["signin-form", "signup-form", "profiles", "streams", "ended", "locked", "subscribe-form"];

function describeError(error) {
  if (error.status === 429) {
    const wait = error.retryAfter ? ` in ${error.retryAfter} s` : " later";
    return `Too many attempts: try again${wait}.`;
  }
  if (error.code === "invalid_credentials") return "Wrong email or password.";
  if (error.code === "payment_failed") return `The payment failed: ${error.message}`;
  const field = error.error?.details?.[0]?.field;
  if (error.status === 400 && field) return `${field}: ${error.error.details[0].message ?? error.message}`;
  return error.message || "Something went wrong; try again.";
}

function since(iso) {
  const seconds = (Date.now() - Date.parse(iso)) / 1000;
  return Number.isFinite(seconds) ? `for ${formatTime(Math.max(0, seconds))}` : "";
}

export class Gate {
  constructor({ account }) {
    this.account = account;
    this.root = $("gate");
    this.pane = null;
    $("signup-link").addEventListener("click", (e) => {
      e.preventDefault();
      this.#show("signup-form");
    });
    $("signin-link").addEventListener("click", (e) => {
      e.preventDefault();
      this.#show("signin-form");
    });
  }

  /** The pane shown now (null: none), for the state the tests read. */
  get showing() {
    return this.pane;
  }

  #show(pane) {
    this.pane = pane;
    this.root.hidden = pane === null;
    for (const id of PANES) $(id).hidden = id !== pane;
    const first = pane && $(pane).querySelector("input, button");
    first?.focus();
  }

  hide() {
    this.#show(null);
  }

  /**
   * Until the viewer has signed in (or signed up and in): resolves true, or false when they
   * cancel (only `cancellable`: asked from the account bar, not by the API). `reason` is shown
   * above the form.
   */
  askSignIn(reason = "", { cancellable = false } = {}) {
    $("signin-reason").textContent = reason;
    const cancel = $("signin-cancel");
    cancel.hidden = !cancellable;
    this.#show("signin-form");
    return new Promise((resolve) => {
      cancel.onclick = () => {
        for (const [f, , , h] of handlers) f.removeEventListener("submit", h);
        this.hide();
        resolve(false);
      };
      const forms = [
        [$("signin-form"), $("signin-error"), () => this.account.signIn({
          email: $("signin-email").value.trim(), password: $("signin-password").value,
        })],
        [$("signup-form"), $("signup-error"), () => this.account.signUp({
          displayName: $("signup-name").value.trim(), email: $("signup-email").value.trim(),
          password: $("signup-password").value,
        })],
      ];
      const handlers = forms.map(([form, errorLine, submit]) => {
        const onSubmit = async (event) => {
          event.preventDefault();
          errorLine.hidden = true;
          const button = form.querySelector("button[type=submit]");
          button.disabled = true;
          try {
            await submit();
          } catch (error) {
            errorLine.textContent = describeError(error);
            errorLine.hidden = false;
            return;
          } finally {
            button.disabled = false;
          }
          for (const [f, , , h] of handlers) f.removeEventListener("submit", h);
          $("signin-password").value = "";
          $("signup-password").value = "";
          this.hide();
          resolve(true);
        };
        form.addEventListener("submit", onSubmit);
        return [form, errorLine, submit, onSubmit];
      });
    });
  }

  /** "Who's watching?": resolves to the profile picked. */
  askProfile(profiles) {
    const list = $("profile-list");
    this.#show("profiles");
    return new Promise((resolve) => {
      list.replaceChildren(
        ...profiles.map((profile) => {
          const button = document.createElement("button");
          button.type = "button";
          button.className = "profile";
          button.dataset.testid = "profile";
          button.dataset.profileId = profile.id;
          button.dataset.maturity = profile.maturity;
          button.textContent = `${profile.name} · ${profile.maturity}`;
          button.addEventListener("click", () => {
            this.hide();
            resolve(profile);
          });
          return button;
        }),
      );
      list.querySelector("button")?.focus();
    });
  }

  /**
   * The account's streams are all taken: list who holds them (`streams` of the 409, with the
   * devices' names) and resolve to the session id to stop, or null ("not now").
   */
  askStreams(streams, limit) {
    $("streams-text").textContent =
      `Your plan plays on ${limit ?? streams.length} screen${(limit ?? streams.length) === 1 ? "" : "s"} at a time. ` +
      "Stop one of these streams to watch here:";
    const list = $("stream-list");
    this.#show("streams");
    return new Promise((resolve) => {
      const done = (choice) => {
        this.hide();
        resolve(choice);
      };
      list.replaceChildren(
        ...streams.map((stream) => {
          const item = document.createElement("li");
          item.dataset.testid = "stream-holder";
          item.dataset.sessionId = stream.session_id;
          item.dataset.deviceId = stream.device_id ?? "";
          const label = document.createElement("span");
          label.className = "holder";
          label.textContent = `${stream.device_name ?? stream.user_agent ?? "another device"} · playing ${since(stream.started_at)}`;
          const stop = document.createElement("button");
          stop.type = "button";
          stop.dataset.testid = "stop-stream";
          stop.textContent = "Stop that stream";
          stop.addEventListener("click", () => done(stream.session_id));
          item.append(label, stop);
          return item;
        }),
      );
      $("streams-cancel").onclick = () => done(null);
      list.querySelector("button")?.focus();
    });
  }

  /** The stream was stopped (by another device, a sign-out, a plan without this title):
   * resolves on "Play here" (`action`: that button's text, e.g. "See plans"). */
  askPlayAgain(reason, { action = "Play here" } = {}) {
    $("ended-text").textContent = `Playback stopped: ${reason}`;
    $("play-here").textContent = action;
    this.#show("ended");
    return new Promise((resolve) => {
      $("play-here").onclick = () => {
        this.hide();
        resolve();
      };
    });
  }

  /** A locked title: the lock, why, and "Subscribe" instead of playing; resolves on it. */
  askLocked(reason) {
    $("locked-text").textContent = reason;
    this.#show("locked");
    return new Promise((resolve) => {
      $("subscribe-open").onclick = () => {
        this.hide();
        resolve();
      };
    });
  }

  /**
   * The plans and the subscribe form: resolves true once `submit(plan, paymentMethod)` has
   * succeeded, false on "Not now". A refusal (402 payment_failed, 400) is shown in the form,
   * which stays. `loadError`: the plans could not be listed (nothing to submit).
   */
  askSubscribe({ plans, reason, loadError = null, submit }) {
    $("subscribe-reason").textContent = reason;
    const errorLine = $("subscribe-error");
    errorLine.textContent = loadError ? `Plans are unavailable: ${loadError}` : "";
    errorLine.hidden = !loadError;
    const form = $("subscribe-form");
    const button = form.querySelector("button[type=submit]");
    button.disabled = plans.length === 0;
    const best = plans.find((p) => p.premium) ?? plans[0];
    $("plan-list").replaceChildren(...plans.map((plan) => planChoice(plan, plan === best)));
    this.#show("subscribe-form");
    return new Promise((resolve) => {
      const done = (subscribed) => {
        form.onsubmit = null;
        this.hide();
        resolve(subscribed);
      };
      $("subscribe-cancel").onclick = () => done(false);
      form.onsubmit = async (event) => {
        event.preventDefault();
        errorLine.hidden = true;
        button.disabled = true;
        try {
          await submit(form.elements.plan.value, $("payment-method").value.trim());
        } catch (error) {
          errorLine.textContent = describeError(error);
          errorLine.hidden = false;
          return;
        } finally {
          button.disabled = false;
        }
        done(true);
      };
    });
  }
}

function planChoice(plan, checked) {
  const label = document.createElement("label");
  label.className = "plan";
  label.dataset.testid = "plan";
  label.dataset.plan = plan.name;
  const radio = document.createElement("input");
  radio.type = "radio";
  radio.name = "plan";
  radio.value = plan.name;
  radio.checked = checked;
  radio.required = true;
  const text = document.createElement("span");
  text.textContent = describePlan(plan);
  label.append(radio, text);
  return label;
}
