// Getting permission to play: the steps between opening the page and having playback URLs.
//
// Take a stream slot (slot.js). The API may answer that the viewer must sign in first (401: no
// anonymous playback, or a sign-in that ended), that every stream of the account is taken (409
// too_many_streams: stop one, with the devices' names, and try again), or that the profile may
// not watch this title (403 restricted). A signed-in viewer with several profiles picks one
// first. Anonymous playback, where the API allows it, needs none of this.
//
// A premium title the viewer's plan does not include is locked: the catalog says so before
// anything plays (`locked` of GET /v1/assets/{id}), and the streaming service refuses it (403
// not_entitled). Instead of playing, the page shows a lock and "Subscribe"; that leads to
// signing in (an anonymous viewer), then to the plans and a subscribe form. Once subscribed
// (201), playback is asked for again; the catalog's answer may lag by a few seconds then, so
// the streaming service, which asks afresh before refusing, decides from there on.

import { ApiError } from "./api.js";

const LOCKED = "Your plan does not include this title: premium titles need a plan that includes them.";

export class Access {
  constructor({ player, account, gate, slot, subscriptions }) {
    this.player = player;
    this.account = account;
    this.gate = gate;
    this.slot = slot;
    this.subscriptions = subscriptions; // subscription.js
    this.subscribed = false; // in this page: the catalog's `locked` is no longer asked
    this.wantsPlans = false; // the viewer asked for the plans (skip the lock pane once)
  }

  get state() {
    return this.player.state;
  }

  /** The playback body to start with, or null when the viewer chose not to play here. */
  async grant(assetId) {
    for (;;) {
      let refusal = null; // why the title is not playable: offer the plans
      try {
        await this.ensureProfile();
        if (!this.subscribed && (await this.subscriptions.locked(assetId))) refusal = LOCKED;
        else return await this.slot.take(assetId);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        if (error.status === 403 && error.code === "not_entitled") {
          refusal = error.message || LOCKED;
          this.wantsPlans = this.account.signedIn; // refused at play: straight to the plans
        } else if (error.status === 401) {
          await this.signIn(this.account.signedIn || error.code === "signed_out" ? error.message : "Sign in to watch.");
        } else if (error.status === 409 && error.code === "too_many_streams") {
          const stop = await this.#askStreams(error);
          if (!stop) return null;
          await this.#stop(stop);
        } else {
          throw error;
        }
      }
      if (refusal) await this.unlock(refusal);
    }
  }

  /**
   * A locked title: the lock and "Subscribe" until the viewer picks it; then sign in (an
   * anonymous viewer, after which the title is looked at again) or the plans. Returns once
   * signed in or subscribed; "Not now" on the plans goes back to the lock.
   */
  async unlock(reason) {
    const info = this.state.subscription;
    info.locked = true;
    info.reason = reason;
    for (;;) {
      if (!this.wantsPlans || !this.account.signedIn) {
        this.state.phase = "locked";
        this.player.message("");
        await this.gate.askLocked(reason);
      }
      this.wantsPlans = false;
      if (!this.account.signedIn) {
        this.state.phase = "signin";
        if (!(await this.gate.askSignIn("Sign in to subscribe.", { cancellable: true }))) continue;
        this.player.accountBar.render();
        this.wantsPlans = true;
        this.state.phase = "loading";
        return;
      }
      if (await this.#choosePlan(reason)) {
        Object.assign(info, { locked: false, subscribed: true });
        this.subscribed = true;
        this.state.phase = "loading";
        this.player.message("Subscribed: starting…");
        return;
      }
    }
  }

  async #choosePlan(reason) {
    const info = this.state.subscription;
    this.state.phase = "subscribe";
    this.player.message("");
    let plans = [];
    let loadError = null;
    try {
      // The free plan is everyone's already: only paid plans are offered.
      plans = (await this.subscriptions.plans()).filter((p) => Number(p.price) !== 0);
    } catch (error) {
      loadError = error.message;
    }
    info.plans = plans.map((p) => p.name);
    return this.gate.askSubscribe({
      plans, reason, loadError,
      submit: async (plan, paymentMethod) => {
        info.plan = plan;
        try {
          const created = await this.subscriptions.subscribe(plan, paymentMethod);
          Object.assign(info, { id: created?.id ?? null, state: created?.state ?? null, error: null });
        } catch (error) {
          info.error = { status: error.status ?? null, code: error.code ?? null, message: error.message };
          throw error;
        }
      },
    });
  }

  async signIn(reason) {
    this.state.phase = "signin";
    this.player.message("");
    await this.gate.askSignIn(reason);
    this.state.phase = "loading";
    this.player.accountBar.render();
  }

  /** A signed-in viewer plays as a profile: the only one, or the one they pick. */
  async ensureProfile() {
    if (!this.account.signedIn || this.account.profileChosen) return;
    const profiles = (await this.account.profiles())?.items ?? [];
    if (profiles.length === 0) return;
    let profile = profiles[0];
    if (profiles.length > 1) {
      this.state.phase = "profiles";
      this.player.message("");
      profile = await this.gate.askProfile(profiles);
      this.state.phase = "loading";
    }
    if (profile.id === this.account.profileId) this.account.keepProfile(profile);
    else await this.account.selectProfile(profile);
  }

  async #askStreams(error) {
    const streams = error.error.streams ?? [];
    const names = new Map();
    try {
      for (const device of (await this.account.devices())?.items ?? []) names.set(device.id, device.name);
    } catch (failure) {
      console.warn("no device names:", failure.message);
    }
    const holders = streams.map((s) => ({ ...s, device_name: names.get(s.device_id) ?? null }));
    this.state.streams = { holders, limit: error.error.limit ?? null, stopped: null };
    this.state.phase = "streams";
    this.player.message("");
    const choice = await this.gate.askStreams(holders, error.error.limit ?? null);
    this.state.streams.stopped = choice;
    this.state.phase = "loading";
    return choice;
  }

  async #stop(sessionId) {
    this.player.message("Stopping that stream…");
    try {
      await this.player.api.endSession(sessionId);
    } catch (error) {
      if (error.status !== 404) throw error; // 404: it had ended already
    }
  }
}
