"""StripeBilling's API calls, through the official SDK, against a local stand-in of Stripe's API.

Stripe's API cannot be reached from here, and the official stand-in, stripe-mock (a Go
binary shipped through GitHub releases, Homebrew and Docker), cannot be installed here: it is
on neither PyPI, npm nor Debian, and no Go toolchain or module proxy is reachable. The fakes
that are on PyPI are not Stripe's (stripe-mock-server predates PaymentIntents; localstripe is
a third party's reimplementation and would be a new dependency), and these tests need to make
a call fail (5xx, 429) on demand and to see the headers each request carried. So
`StripeStandIn` is ours: a real aiohttp server on a free 127.0.0.1 port, started by the
fixture, which the SDK reaches through ``subscriptions.stripe.api_base``. It implements the
four calls the adapter makes as the API reference documents them (https://docs.stripe.com/api):

- every request: ``Authorization: Bearer sk_test_...`` (else 401), ``Stripe-Version`` (the
  SDK's pinned version); every POST: ``application/x-www-form-urlencoded`` with Stripe's nested
  ``metadata[key]`` syntax and an ``Idempotency-Key``, replayed as Stripe does
  (https://docs.stripe.com/api/idempotent_requests): the same key and parameters get the saved
  answer with ``Idempotent-Replayed: true``, the same key with other parameters a 400
  ``idempotency_error``;
- ``GET /v1/customers/search`` (``metadata['k']:'v'`` queries), ``POST /v1/customers``,
  ``POST /v1/payment_methods/{id}/attach`` (Stripe's test PaymentMethods become new
  ``pm_...``; the declining ones are refused there with a 402, as Stripe checks a card when
  it is attached, except ``pm_card_chargeCustomerFail``), ``POST /v1/payment_intents``
  (``confirm`` and ``off_session`` true; a 402 ``card_error`` with its ``decline_code`` and
  the failed intent for a declining card);
- errors in Stripe's ``{"error": {"type", "code", "decline_code", "message", "param"}}``
  format; any request off that shape is answered 400 and kept in ``problems``, which every test
  checks is empty at the end.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
import stripe
from aiohttp import web

from subscriptions.billing.port import BillingError, InvalidPaymentMethod, ProviderUnavailable
from subscriptions.billing.stripe_billing import StripeBilling

API_KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"
FORM = "application/x-www-form-urlencoded"
# Stripe's test PaymentMethods (https://docs.stripe.com/testing#declined-payments): Stripe
# checks a card when it is attached to a customer, so its declining cards are refused there,
# except pm_card_chargeCustomerFail ("attaching succeeds, charging fails") and cards that only
# fail off session for want of authentication. name: (fails at, code, decline_code, message).
GENERIC = ("card_declined", "generic_decline", "Your card was declined.")
FUNDS = ("card_declined", "insufficient_funds", "Your card has insufficient funds.")
AUTHENTICATION = (
    "authentication_required",
    "authentication_required",
    "Your card was declined. This transaction requires authentication.",
)
TEST_CARDS: dict[str, tuple[str, ...] | None] = {
    "pm_card_visa": None,
    "pm_card_mastercard": None,
    "pm_card_chargeDeclined": ("attach", *GENERIC),
    "pm_card_visa_chargeDeclined": ("attach", *GENERIC),
    "pm_card_chargeDeclinedInsufficientFunds": ("attach", *FUNDS),
    "pm_card_visa_chargeDeclinedInsufficientFunds": ("attach", *FUNDS),
    "pm_card_chargeCustomerFail": ("charge", *GENERIC),
    "pm_card_authenticationRequired": ("charge", *AUTHENTICATION),
}
# The parameters each call may send (the API reference's, those the adapter has a use for).
PARAMS = {
    "customers": {"email", "name", "description", "metadata"},
    "attach": {"customer"},
    "payment_intents": {
        "amount",
        "currency",
        "customer",
        "payment_method",
        "confirm",
        "off_session",
        "description",
        "metadata",
    },
}
FORM_KEY = web.RequestKey("form", dict)  # the POST form the middleware read
SEARCH = re.compile(r"^metadata\['(?P<key>[A-Za-z0-9_]+)'\]:'(?P<value>[^']*)'$")


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def _error(status: int, type_: str, message: str, **fields: Any) -> web.Response:
    return web.json_response(
        {"error": {"type": type_, "message": message, **fields}}, status=status
    )


@dataclass
class StripeStandIn:
    """Customers, payment methods and intents in memory; every request recorded."""

    fail_next: list[int] = field(default_factory=list)  # statuses to answer first, in order
    search_lags: bool = False  # Search has not indexed new customers yet
    intent_status: str | None = None  # force a 200 with this status (e.g. requires_action)
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    methods: dict[str, dict[str, Any]] = field(default_factory=dict)
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    _saved: dict[str, tuple[str, dict[str, str], web.Response]] = field(default_factory=dict)

    @web.middleware
    async def checks(self, request: web.Request, handler: Any) -> web.StreamResponse:
        form = dict(await request.post()) if request.method == "POST" else {}
        record = {
            "method": request.method,
            "path": request.path,
            "query": dict(request.query),
            "form": {k: str(v) for k, v in form.items()},
            "headers": dict(request.headers),
        }
        self.requests.append(record)
        problem = _header_problem(request)
        if problem:
            self.problems.append(problem)
            status = 401 if "Authorization" in problem else 400
            return _error(status, "invalid_request_error", problem)
        if self.fail_next:
            return _error(self.fail_next.pop(0), "api_error", "Something went wrong on Stripe.")
        if request.method != "POST":
            return await handler(request)
        key = request.headers["Idempotency-Key"]
        signature = f"{request.method} {request.path}"
        if key in self._saved:
            saved_signature, saved_form, saved = self._saved[key]
            if (saved_signature, saved_form) != (signature, record["form"]):
                return _error(
                    400,
                    "idempotency_error",
                    "Keys for idempotent requests can only be used with the same parameters "
                    "they were first used with.",
                )
            assert isinstance(saved, web.Response) and isinstance(saved.body, bytes)
            return web.Response(
                body=saved.body,
                status=saved.status,
                content_type="application/json",
                headers={"Idempotent-Replayed": "true"},
            )
        request[FORM_KEY] = record["form"]
        response = await handler(request)
        assert isinstance(response, web.Response)
        self._saved[key] = (signature, record["form"], response)
        return response

    def unknown(self, params: Mapping[str, str], call: str) -> web.Response | None:
        names = {name.split("[", 1)[0] for name in params}
        extra = names - PARAMS[call]
        if not extra:
            return None
        self.problems.append(f"{call}: undocumented parameters {sorted(extra)}")
        return _error(400, "invalid_request_error", f"Received unknown parameter: {min(extra)}")

    async def search_customers(self, request: web.Request) -> web.Response:
        match = SEARCH.match(request.query.get("query", ""))
        if match is None:
            self.problems.append(f"customer search query: {request.query.get('query')!r}")
            return _error(400, "invalid_request_error", "Invalid search query.", param="query")
        found = [
            c
            for c in self.customers.values()
            if not self.search_lags and c["metadata"].get(match["key"]) == match["value"]
        ]
        limit = int(request.query.get("limit", "10"))
        return web.json_response(
            {
                "object": "search_result",
                "url": "/v1/customers/search",
                "has_more": len(found) > limit,
                "next_page": None,
                "data": found[:limit],
            }
        )

    async def create_customer(self, request: web.Request) -> web.Response:
        form = request[FORM_KEY]
        if refused := self.unknown(form, "customers"):
            return refused
        customer = {
            "id": _id("cus"),
            "object": "customer",
            "created": int(time.time()),
            "email": form.get("email"),
            "livemode": False,
            "metadata": _nested(form, "metadata"),
            "invoice_settings": {"default_payment_method": None},
        }
        self.customers[customer["id"]] = customer
        return web.json_response(customer)

    async def attach(self, request: web.Request) -> web.Response:
        form, name = request[FORM_KEY], request.match_info["payment_method"]
        if refused := self.unknown(form, "attach"):
            return refused
        if form.get("customer") not in self.customers:
            return _missing("customer", form.get("customer"), status=400, param="customer")
        if name in TEST_CARDS:
            method = self._new_method(name)
        elif name in self.methods:
            method = self.methods[name]
        else:
            return _missing("PaymentMethod", name, status=404, param="payment_method")
        failure = TEST_CARDS.get(method["_test_name"])
        if failure is not None and failure[0] == "attach":
            _, code, decline, message = failure
            return _error(402, "card_error", message, code=code, decline_code=decline)
        method["customer"] = form["customer"]
        return web.json_response(method)

    def _new_method(self, test_name: str) -> dict[str, Any]:
        method = {
            "id": _id("pm"),
            "object": "payment_method",
            "type": "card",
            "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2034},
            "customer": None,
            "created": int(time.time()),
            "livemode": False,
            "metadata": {},
            "_test_name": test_name,  # which test card it came from (the stand-in's note)
        }
        self.methods[method["id"]] = method
        return method

    async def create_intent(self, request: web.Request) -> web.Response:
        form = request[FORM_KEY]
        if refused := self.unknown(form, "payment_intents"):
            return refused
        problem = _intent_problem(form)
        if problem:
            self.problems.append(f"payment_intents: {problem}")
            return _error(400, "invalid_request_error", problem)
        name = form["payment_method"]
        # A test PaymentMethod's name makes a new, unattached one; an id must be the customer's.
        method = self._new_method(name) if name in TEST_CARDS else self.methods.get(name)
        if method is None or method["customer"] not in (None, form["customer"]):
            return _missing("PaymentMethod", form["payment_method"], 400, "payment_method")
        intent = {
            "id": _id("pi"),
            "object": "payment_intent",
            "amount": int(form["amount"]),
            "amount_received": 0,
            "currency": form["currency"],
            "customer": form["customer"],
            "payment_method": method["id"],
            "description": form.get("description"),
            "metadata": _nested(form, "metadata"),
            "confirmation_method": "automatic",
            "created": int(time.time()),
            "livemode": False,
            "last_payment_error": None,
            "next_action": None,
            "latest_charge": _id("ch"),
        }
        self.intents[intent["id"]] = intent
        failure = TEST_CARDS.get(method["_test_name"])
        if failure is not None:
            _, code, decline, message = failure
            error = {"code": code, "decline_code": decline, "charge": intent["latest_charge"]}
            intent |= {
                "status": "requires_payment_method",
                "last_payment_error": {"type": "card_error", "message": message, **error},
            }
            return _error(402, "card_error", message, payment_intent=intent, **error)
        intent["status"] = self.intent_status or "succeeded"
        if intent["status"] == "succeeded":
            intent["amount_received"] = intent["amount"]
        return web.json_response(intent)


def _header_problem(request: web.Request) -> str | None:
    if not re.fullmatch(r"Bearer sk_test_\w+", request.headers.get("Authorization", "")):
        return "Authorization: expected Bearer sk_test_..."
    if request.headers.get("Stripe-Version") != stripe.api_version:
        return f"Stripe-Version: expected {stripe.api_version}"
    if request.method == "POST":
        if request.content_type != FORM:
            return f"Content-Type: expected {FORM}, got {request.content_type}"
        if not request.headers.get("Idempotency-Key"):
            return "Idempotency-Key: every POST carries one"
    elif request.can_read_body:
        return "GET with a body: parameters go in the query string"
    return None


def _intent_problem(form: Mapping[str, str]) -> str | None:
    for name in ("amount", "currency", "customer", "payment_method"):
        if not form.get(name):
            return f"Missing required param: {name}."
    if not form["amount"].isdigit() or int(form["amount"]) < 1:
        return "amount: a positive integer in the currency's smallest unit"
    if not re.fullmatch(r"[a-z]{3}", form["currency"]):
        return "currency: a lowercase ISO 4217 code"
    if (form.get("confirm"), form.get("off_session")) != ("true", "true"):
        return "a renewal is confirmed at once, off session: confirm=true, off_session=true"
    return None


def _nested(form: Mapping[str, str], name: str) -> dict[str, str]:
    """Stripe's ``name[key]=value`` form encoding, read back."""
    prefix = f"{name}["
    return {k[len(prefix) : -1]: v for k, v in form.items() if k.startswith(prefix)}


def _missing(kind: str, value: str | None, status: int, param: str) -> web.Response:
    return _error(
        status,
        "invalid_request_error",
        f"No such {kind}: '{value}'",
        code="resource_missing",
        param=param,
    )


@pytest.fixture
async def api() -> AsyncIterator[tuple[StripeStandIn, str]]:
    state = StripeStandIn()
    app = web.Application(middlewares=[state.checks])
    app.router.add_get("/v1/customers/search", state.search_customers)
    app.router.add_post("/v1/customers", state.create_customer)
    app.router.add_post("/v1/payment_methods/{payment_method}/attach", state.attach)
    app.router.add_post("/v1/payment_intents", state.create_intent)
    runner = web.AppRunner(app)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    site = web.SockSite(runner, sock)
    await site.start()
    yield state, f"http://127.0.0.1:{sock.getsockname()[1]}"
    await runner.cleanup()
    sock.close()
    assert state.problems == []


@pytest.fixture
async def billing(api: tuple[StripeStandIn, str]) -> AsyncIterator[StripeBilling]:
    adapter = StripeBilling(
        api_key=API_KEY, webhook_secret="whsec_x", api_base=api[1], max_network_retries=0
    )
    yield adapter
    await adapter.aclose()


async def _paying_customer(billing: StripeBilling, card: str) -> tuple[str, str]:
    customer = await billing.ensure_customer(uuid.uuid4(), "viewer@example.com")
    return customer, await billing.check_payment_method(customer, card)


async def _charge(billing: StripeBilling, customer: str, method: str, key: str = "k1") -> Any:
    return await billing.charge(
        customer_id=customer,
        payment_method=method,
        amount_minor=1299,
        currency="USD",
        idempotency_key=key,
        description="StreamCore standard, 2026-12",
        metadata={"subscription_id": str(uuid.UUID(int=7))},
    )


def _posts(state: StripeStandIn, path: str) -> list[dict[str, Any]]:
    return [r for r in state.requests if r["method"] == "POST" and r["path"] == path]


async def test_a_customer_is_made_once_per_account(
    api: tuple[StripeStandIn, str], billing: StripeBilling
) -> None:
    state, account = api[0], uuid.uuid4()
    first = await billing.ensure_customer(account, "viewer@example.com")
    assert await billing.ensure_customer(account, "viewer@example.com") == first
    (create,) = _posts(state, "/v1/customers")
    assert create["form"] == {"metadata[account_id]": str(account), "email": "viewer@example.com"}
    assert create["headers"]["Idempotency-Key"] == f"streamcore-customer-{account}"
    searches = [r for r in state.requests if r["path"] == "/v1/customers/search"]
    assert [s["query"] for s in searches] == [
        {"query": f"metadata['account_id']:'{account}'", "limit": "1"}
    ] * 2
    assert state.customers[first]["metadata"] == {"account_id": str(account)}


async def test_racing_first_calls_make_one_customer_while_search_lags(
    api: tuple[StripeStandIn, str], billing: StripeBilling
) -> None:
    state, account = api[0], uuid.uuid4()
    state.search_lags = True
    ids = await asyncio.gather(*(billing.ensure_customer(account, None) for _ in range(3)))
    assert len(set(ids)) == 1 and len(state.customers) == 1
    posts = _posts(state, "/v1/customers")
    # One key for the three: the second and third are answered with the first's customer.
    assert {p["headers"]["Idempotency-Key"] for p in posts} == {f"streamcore-customer-{account}"}
    assert len(posts) == 3


async def test_a_test_payment_method_is_attached_as_a_new_one(
    api: tuple[StripeStandIn, str], billing: StripeBilling
) -> None:
    state = api[0]
    customer, method = await _paying_customer(billing, "pm_card_visa")
    assert method.startswith("pm_") and method != "pm_card_visa"
    (attach,) = _posts(state, "/v1/payment_methods/pm_card_visa/attach")
    assert attach["form"] == {"customer": customer}
    assert state.methods[method]["customer"] == customer


@pytest.mark.parametrize("card", ["pm_does_not_exist", "pm_card_" + "x" * 8])
async def test_an_unknown_payment_method_is_invalid(billing: StripeBilling, card: str) -> None:
    customer = await billing.ensure_customer(uuid.uuid4(), None)
    with pytest.raises(InvalidPaymentMethod, match="No such PaymentMethod"):
        await billing.check_payment_method(customer, card)


async def test_a_paid_charge(api: tuple[StripeStandIn, str], billing: StripeBilling) -> None:
    state = api[0]
    customer, method = await _paying_customer(billing, "pm_card_visa")
    charge = await _charge(billing, customer, method, key="sub-7-2026-12")
    assert charge.paid and charge.id in state.intents
    assert (charge.amount_minor, charge.currency, charge.failure_code) == (1299, "USD", None)
    (post,) = _posts(state, "/v1/payment_intents")
    assert post["headers"]["Idempotency-Key"] == "sub-7-2026-12"
    assert post["form"] == {
        "amount": "1299",
        "currency": "usd",
        "customer": customer,
        "payment_method": method,
        "confirm": "true",
        "off_session": "true",
        "description": "StreamCore standard, 2026-12",
        "metadata[subscription_id]": str(uuid.UUID(int=7)),
    }
    assert state.intents[charge.id]["metadata"] == {"subscription_id": str(uuid.UUID(int=7))}


@pytest.mark.parametrize(
    ("card", "code", "message"),
    [
        ("pm_card_chargeDeclined", "card_declined", GENERIC[2]),
        ("pm_card_visa_chargeDeclinedInsufficientFunds", "insufficient_funds", FUNDS[2]),
        ("pm_card_chargeCustomerFail", "card_declined", GENERIC[2]),
        ("pm_card_authenticationRequired", "authentication_required", AUTHENTICATION[2]),
    ],
)
async def test_a_declined_charge_is_a_charge_not_an_error(
    api: tuple[StripeStandIn, str], billing: StripeBilling, card: str, code: str, message: str
) -> None:
    state = api[0]
    customer, method = await _paying_customer(billing, card)
    charge = await _charge(billing, customer, method)
    assert not charge.paid
    assert (charge.failure_code, charge.failure_message) == (code, message)
    assert charge.id in state.intents  # the failed intent Stripe sends in the 402
    assert state.intents[charge.id]["status"] == "requires_payment_method"


@pytest.mark.parametrize(
    "card", ["pm_card_chargeDeclined", "pm_card_chargeDeclinedInsufficientFunds"]
)
async def test_a_card_declined_as_it_is_attached_goes_back_unattached(
    api: tuple[StripeStandIn, str], billing: StripeBilling, card: str
) -> None:
    state = api[0]
    customer = await billing.ensure_customer(uuid.uuid4(), None)
    assert await billing.check_payment_method(customer, card) == card
    assert all(m["customer"] is None for m in state.methods.values())
    assert len(_posts(state, f"/v1/payment_methods/{card}/attach")) == 1


async def test_a_card_that_attaches_is_attached(
    api: tuple[StripeStandIn, str], billing: StripeBilling
) -> None:
    customer, method = await _paying_customer(billing, "pm_card_chargeCustomerFail")
    assert method != "pm_card_chargeCustomerFail"
    assert api[0].methods[method]["customer"] == customer


async def test_an_intent_that_needs_action_is_declined_with_its_status(
    api: tuple[StripeStandIn, str], billing: StripeBilling
) -> None:
    api[0].intent_status = "requires_action"
    customer, method = await _paying_customer(billing, "pm_card_visa")
    charge = await _charge(billing, customer, method)
    assert not charge.paid and charge.failure_code == "requires_action"


async def test_charging_a_payment_method_of_no_customer_is_invalid(
    billing: StripeBilling,
) -> None:
    customer = await billing.ensure_customer(uuid.uuid4(), None)
    with pytest.raises(InvalidPaymentMethod, match="No such PaymentMethod"):
        await _charge(billing, customer, "pm_1NotAttachedAnywhere")


@pytest.mark.parametrize("status", [500, 502, 503, 429])
async def test_stripe_failing_is_provider_unavailable(
    api: tuple[StripeStandIn, str], billing: StripeBilling, status: int
) -> None:
    state = api[0]
    customer, method = await _paying_customer(billing, "pm_card_visa")
    state.fail_next = [status]
    with pytest.raises(ProviderUnavailable):
        await _charge(billing, customer, method)
    assert state.intents == {}
    state.fail_next = [status]
    with pytest.raises(ProviderUnavailable):
        await billing.ensure_customer(uuid.uuid4(), None)


async def test_no_connection_is_provider_unavailable() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    adapter = StripeBilling(
        api_key=API_KEY, webhook_secret="whsec_x", api_base=closed, max_network_retries=0
    )
    try:
        with pytest.raises(ProviderUnavailable):
            await adapter.ensure_customer(uuid.uuid4(), None)
        with pytest.raises(ProviderUnavailable):
            await _charge(adapter, "cus_1", "pm_1")
    finally:
        await adapter.aclose()


async def test_a_refused_api_key_is_provider_unavailable(api: tuple[StripeStandIn, str]) -> None:
    adapter = StripeBilling(api_key="rk_wrong", webhook_secret="whsec_x", api_base=api[1])
    try:
        with pytest.raises(ProviderUnavailable):
            await adapter.ensure_customer(uuid.uuid4(), None)
    finally:
        await adapter.aclose()
    api[0].problems.clear()  # the 401 was the point


async def test_the_sdk_retries_a_500_with_the_same_idempotency_key(
    api: tuple[StripeStandIn, str],
) -> None:
    state, base = api
    adapter = StripeBilling(
        api_key=API_KEY, webhook_secret="whsec_x", api_base=base, max_network_retries=1
    )
    try:
        customer, method = await _paying_customer(adapter, "pm_card_visa")
        state.fail_next = [500]
        charge = await _charge(adapter, customer, method, key="sub-7-2026-12")
    finally:
        await adapter.aclose()
    assert charge.paid and len(state.intents) == 1
    posts = _posts(state, "/v1/payment_intents")
    assert [p["headers"]["Idempotency-Key"] for p in posts] == ["sub-7-2026-12"] * 2


@pytest.mark.parametrize("card", ["pm_card_visa", "pm_card_chargeDeclined"])
async def test_a_retried_charge_with_the_same_key_is_the_same_charge(
    api: tuple[StripeStandIn, str], billing: StripeBilling, card: str
) -> None:
    state = api[0]
    customer, method = await _paying_customer(billing, card)
    first = await _charge(billing, customer, method, key="sub-7-2026-12")
    state.fail_next = [503]
    with pytest.raises(ProviderUnavailable):
        await _charge(billing, customer, method, key="sub-7-2026-12")
    again = await _charge(billing, customer, method, key="sub-7-2026-12")
    assert again == first and len(state.intents) == 1
    posts = _posts(state, "/v1/payment_intents")
    assert [p["headers"]["Idempotency-Key"] for p in posts] == ["sub-7-2026-12"] * 3
    other = await _charge(billing, customer, method, key="sub-7-2027-01")
    assert other.id != first.id and len(state.intents) == 2


async def test_a_key_reused_with_other_parameters_is_refused(
    api: tuple[StripeStandIn, str], billing: StripeBilling
) -> None:
    customer, method = await _paying_customer(billing, "pm_card_visa")
    await _charge(billing, customer, method, key="sub-7-2026-12")
    with pytest.raises(BillingError) as refused:
        await billing.charge(
            customer_id=customer,
            payment_method=method,
            amount_minor=999,  # the plan changed, the key did not: a bug of the caller
            currency="USD",
            idempotency_key="sub-7-2026-12",
            description="StreamCore basic, 2026-12",
            metadata={},
        )
    assert type(refused.value) is BillingError
    assert len(api[0].intents) == 1
