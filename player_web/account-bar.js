// Who is watching, at the top of the panel: the account and profile, "Switch profile", "Sign
// out", or "Sign in" for an anonymous viewer. Each of these starts the page again (the tokens
// live in sessionStorage, so a reload keeps the sign-in), after freeing the stream slot.

const $ = (id) => document.getElementById(id);

export class AccountBar {
  constructor({ player, account }) {
    this.player = player;
    this.account = account;
    this.el = {
      status: $("account-status"),
      signIn: $("sign-in"),
      signOut: $("sign-out"),
      profile: $("switch-profile"),
    };
    this.el.signIn.addEventListener("click", () => this.#signIn());
    this.el.signOut.addEventListener("click", () => this.#signOut());
    this.el.profile.addEventListener("click", () => this.#switchProfile());
  }

  render(note = "") {
    const { auth } = this.player.state;
    const { el } = this;
    if (auth.signedIn) {
      const profile = auth.profileName ? ` · ${auth.profileName}` : "";
      el.status.textContent = `${auth.email ?? "signed in"}${profile}`;
    } else {
      el.status.textContent = note || "Not signed in";
    }
    el.signIn.hidden = auth.signedIn;
    el.signOut.hidden = !auth.signedIn;
    el.profile.hidden = !auth.signedIn;
  }

  #restart() {
    this.player.slot.release();
    window.location.reload();
  }

  async #signIn() {
    this.player.state.phase = "signin";
    if (await this.player.gate.askSignIn("", { cancellable: true })) this.#restart();
    else this.player.state.phase = this.player.video.paused ? "paused" : "playing";
  }

  async #signOut() {
    this.player.slot.release();
    await this.account.signOut();
    window.location.reload();
  }

  #switchProfile() {
    this.account.forgetProfileChoice();
    this.#restart();
  }
}
