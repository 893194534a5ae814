// Getting permission to play: the steps between opening the page and having playback URLs.
//
// Take a stream slot (slot.js). The API may answer that the viewer must sign in first (401: no
// anonymous playback, or a sign-in that ended), that every stream of the account is taken (409
// too_many_streams: stop one, with the devices' names, and try again), or that the profile may
// not watch this title (403 restricted). A signed-in viewer with several profiles picks one
// first. Anonymous playback, where the API allows it, needs none of this.

import { ApiError } from "./api.js";

export class Access {
  constructor({ player, account, gate, slot }) {
    this.player = player;
    this.account = account;
    this.gate = gate;
    this.slot = slot;
  }

  get state() {
    return this.player.state;
  }

  /** The playback body to start with, or null when the viewer chose not to play here. */
  async grant(assetId) {
    for (;;) {
      try {
        await this.ensureProfile();
        return await this.slot.take(assetId);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        if (error.status === 401) {
          await this.signIn(this.account.signedIn || error.code === "signed_out" ? error.message : "Sign in to watch.");
        } else if (error.status === 409 && error.code === "too_many_streams") {
          const stop = await this.#askStreams(error);
          if (!stop) return null;
          await this.#stop(stop);
        } else {
          throw error;
        }
      }
    }
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
