// Premium titles and subscribing, as the player needs them: whether the asset is locked to the
// viewer (the catalog's `locked`: premium, and the viewer's plan does not include premium
// titles), the plans (GET /v1/plans) and subscribing to one (POST /v1/subscription {plan,
// payment_method}, or change-plan for a viewer who has one) with the signed-in viewer's token. The gateway routes /v1/assets to the
// catalog and /v1/plans, /v1/subscription to the subscriptions service.

import { ApiError, requestJson } from "./api.js";

export class SubscriptionApi {
  /** `account`: the sign-in (account.js), which authorises each call. */
  constructor(base, account) {
    this.base = base.replace(/\/+$/, "");
    this.account = account;
  }

  #request(method, path, options = {}) {
    return this.account.call((headers) => requestJson(this.base, method, path, { ...options, headers }));
  }

  /** Whether the catalog marks the asset locked to this viewer; null when it cannot say (the
   * streaming service decides anyway: 403 not_entitled). */
  async locked(assetId) {
    try {
      const asset = await this.#request("GET", `/v1/assets/${encodeURIComponent(assetId)}`);
      return typeof asset?.locked === "boolean" ? asset.locked : null;
    } catch (error) {
      console.warn("cannot tell whether the title is locked:", error.message);
      return null;
    }
  }

  /** [{name, price, currency, interval, interval_count, streams, max_height, premium}], as the
   * API lists them. */
  async plans() {
    const body = await this.#request("GET", "/v1/plans");
    return Array.isArray(body) ? body : (body?.items ?? []);
  }

  /** 201: the subscription; 402 payment_failed, 400 invalid_* and the like are ApiErrors. A
   * viewer who already has a subscription (409 subscription_exists: a plan without premium
   * titles) changes its plan instead: an upgrade, which takes effect at once. */
  async subscribe(plan, paymentMethod) {
    try {
      return await this.#request("POST", "/v1/subscription", { body: { plan, payment_method: paymentMethod } });
    } catch (error) {
      if (error instanceof ApiError && error.code === "subscription_exists") {
        return this.#request("POST", "/v1/subscription/change-plan", { body: { plan } });
      }
      throw error;
    }
  }
}

/** "Premium · $15.99 / month · 4 screens · up to 1080p · premium titles" */
export function describePlan(plan) {
  let price = `${plan.price} ${plan.currency ?? ""}`.trim();
  try {
    price = new Intl.NumberFormat(undefined, { style: "currency", currency: plan.currency }).format(Number(plan.price));
  } catch {
    // an unknown currency code: shown as sent
  }
  const screens = `${plan.streams} screen${Number(plan.streams) === 1 ? "" : "s"}`;
  const count = Number(plan.interval_count ?? 1);
  const period = plan.interval ? ` / ${count === 1 ? plan.interval : `${count} ${plan.interval}s`}` : "";
  const premium = plan.premium ? "premium titles" : "no premium titles";
  return `${plan.display_name ?? plan.name} · ${price}${period} · ${screens} · up to ${plan.max_height}p · ${premium}`;
}
