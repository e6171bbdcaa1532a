"""The aiohttp app: localstripe's routes with fakestripe's routes and middlewares in front."""

from pathlib import Path

from aiohttp import web
from localstripe import resources as r
from localstripe import server, webhooks
from localstripe.server import (
    api_create,
    api_extra,
    api_list_all,
    api_retrieve,
    api_update,
    get_post_data,
    json_response,
)

# Importing these patches localstripe's resources.
from . import connect, core, events, money, payments, pending_refunds, wallets  # noqa: F401
from .core import settings, stripe_error
from .middleware import (
    auth,
    cors_headers,
    idempotency,
    inject_faults,
    log_requests,
    request_ids,
    state,
)

STRIPE_JS = Path(__file__).with_name("stripe.js")


async def stripe_js(request):
    """GET /js.stripe.com/v3/: the corrected fake Stripe.js."""
    return web.Response(text=STRIPE_JS.read_text(), content_type="application/javascript")


async def get_balance(request):
    """GET /v1/balance."""
    return json_response(core.ledger.export())


async def reset(request):
    """DELETE /_config/data: localstripe's objects and every addition of fakestripe."""
    r.store.clear()
    core.reset()
    state.reset()
    return web.Response()


async def make_available(request):
    """POST /_config/balance/make_available [currency=usd]: pending funds become available."""
    data = await get_post_data(request) or {}
    currency = data.get("currency") or request.query.get("currency")
    core.ledger.make_available(currency.lower() if currency else None)
    return json_response(core.ledger.export())


async def set_balance(request):
    """POST /_config/balance with available[usd]=N and/or pending[usd]=N."""
    data = await get_post_data(request) or {}
    core.ledger.set(data.get("available"), data.get("pending"))
    return json_response(core.ledger.export())


async def get_settings(request):
    """GET /_config/settings: api_version, available_after, refund_failure_after, ... and fees."""
    return json_response(settings.export())


async def set_settings(request):
    """POST /_config/settings: e.g. available_after=0, webhook_retry=0.5, chaos=true."""
    settings.update(dict(await get_post_data(request) or {}))
    return json_response(settings.export())


async def list_deliveries(request):
    """GET /_config/deliveries: webhook deliveries still to be made, and every attempt made."""
    return json_response(core.deliveries.export())


async def remove_webhook(request):
    """DELETE /_config/webhooks/<id>: stop delivering to that endpoint (pending ones too)."""
    webhooks._webhooks.pop(request.match_info["id"], None)
    return web.Response()


async def get_fees(request):
    """GET /_config/fees: the fee schedule per currency."""
    return json_response(settings.fees)


async def set_fees(request):
    """POST /_config/fees: usd[percent]=2.9&usd[fixed]=30 (one or more currencies), or
    replace=true with the whole schedule, or none=true for no fees at all."""
    data = dict(await get_post_data(request) or {})
    if r.try_convert_to_bool(data.pop("none", None)) is True:
        settings.set_fees(core.NO_FEES, replace=True)
    else:
        replace = r.try_convert_to_bool(data.pop("replace", None)) is True
        settings.set_fees(data, replace=replace)
    return json_response(settings.fees)


async def add_fault(request):
    """POST /_config/faults: path, method, status, count, code, message."""
    data = await get_post_data(request) or {}
    fault = {
        "path": data.get("path") or "/v1/",
        "method": (data.get("method") or "").upper() or None,
        "status": core.to_int(data.get("status", 500), "status", minimum=400),
        "count": core.to_int(data.get("count", 1), "count"),
        "code": data.get("code"),
        "message": data.get("message"),
    }
    state.faults.append(fault)
    return json_response(fault)


async def list_faults(request):
    """GET /_config/faults."""
    return json_response(state.faults)


async def clear_faults(request):
    """DELETE /_config/faults."""
    state.faults.clear()
    return web.Response()


async def list_requests(request):
    """GET /_config/requests: the API calls received since the last reset, oldest first."""
    return json_response(list(state.requests))


def _crud(cls):
    """Stripe's create/retrieve/update/list routes for one resource."""
    base = f"/v1/{cls.object}s"
    return [
        ("POST", base, api_create(cls, base)),
        ("GET", base + "/{id}", api_retrieve(cls, base)),
        ("POST", base + "/{id}", api_update(cls, base)),
        ("GET", base, api_list_all(cls, base)),
    ]


def own_routes():
    """Routes that fakestripe adds or answers instead of localstripe."""
    pi = "/v1/payment_intents/{id}"
    seti = "/v1/setup_intents/{id}"
    confirm_setup = payments.setup_intent_step(r.SetupIntent._api_confirm)
    cancel_setup = payments.setup_intent_step(r.SetupIntent._api_cancel)
    reversals = "/v1/transfers/{id}/reversals"
    txns = "/v1/balance_transactions"
    return [
        ("GET", "/js.stripe.com/v3/", stripe_js),
        ("GET", "/v1/balance", get_balance),
        ("GET", txns, api_list_all(r.BalanceTransaction, txns)),
        ("GET", txns + "/{id}", api_retrieve(r.BalanceTransaction, txns)),
        ("GET", "/v1/disputes", api_list_all(money.Dispute, "/v1/disputes")),
        ("GET", "/v1/disputes/{id}", api_retrieve(money.Dispute, "/v1/disputes")),
        ("POST", pi + "/confirm", api_extra(payments.confirm, pi + "/confirm")),
        ("POST", pi + "/_authenticate", api_extra(payments.authenticate, pi + "/_authenticate")),
        ("POST", pi + "/cancel", api_extra(payments.cancel, pi + "/cancel")),
        ("POST", seti + "/confirm", api_extra(confirm_setup, seti + "/confirm")),
        ("POST", seti + "/cancel", api_extra(cancel_setup, seti + "/cancel")),
        *_crud(connect.Account),
        ("GET", "/v1/accounts/{id}/capabilities", connect.list_capabilities),
        ("GET", "/v1/accounts/{id}/capabilities/{capability}", connect.retrieve_capability),
        ("POST", "/v1/account_links", connect.create_account_link),
        *_crud(connect.Transfer),
        ("POST", reversals, api_extra(connect.create_reversal, reversals)),
        ("GET", reversals, api_extra(connect.list_reversals, reversals)),
        ("GET", "/connect/onboarding/{id}", connect.onboarding_page),
        *wallets.routes(),
        ("POST", "/connect/onboarding/{id}", connect.onboarding_submit),
        ("DELETE", "/_config/data", reset),
        ("POST", "/_config/accounts/{id}/complete", connect.complete_account),
        ("POST", "/_config/accounts/{id}/verify", connect.verify_account),
        ("POST", "/_config/accounts/{id}/require", connect.require_fields),
        ("POST", "/_config/balance/make_available", make_available),
        ("POST", "/_config/balance", set_balance),
        ("GET", "/_config/settings", get_settings),
        ("POST", "/_config/settings", set_settings),
        ("GET", "/_config/deliveries", list_deliveries),
        ("DELETE", "/_config/webhooks/{id}", remove_webhook),
        ("GET", "/_config/fees", get_fees),
        ("POST", "/_config/fees", set_fees),
        ("POST", "/_config/faults", add_fault),
        ("GET", "/_config/faults", list_faults),
        ("DELETE", "/_config/faults", clear_faults),
        ("GET", "/_config/requests", list_requests),
    ]


async def not_found(request):
    """Unknown API paths answer like Stripe rather than with aiohttp's text page."""
    raise stripe_error(404, f"Unrecognized request URL ({request.method}: {request.path}).")


def build_app():
    """A fresh aiohttp app serving localstripe plus fakestripe's fixes and additions."""
    if settings.startup is None:
        settings.remember_startup()
    app = web.Application(
        middlewares=[
            request_ids,
            log_requests,
            inject_faults,
            idempotency,
            server.error_middleware,
            auth,
        ]
    )
    app.on_response_prepare.append(cors_headers)
    app.on_startup.append(connect.resume_verifications)
    mine = own_routes()
    taken = {(method, path) for method, path, _ in mine}
    for method, path, handler in mine:
        app.router.add_route(method, path, handler)
    for route in server.app.router.routes():
        key = (route.method, route.resource.canonical)
        if key not in taken:
            app.router.add_route(*key, route.handler)
    app.router.add_route("*", "/v1/{tail:.*}", not_found)
    return app
