"""Request log, fault injection, idempotency keys, auth and CORS around localstripe's API."""

import json
import re
import time
from collections import deque

from aiohttp import web
from localstripe import resources as r
from localstripe import server
from localstripe.errors import UserError
from localstripe.server import get_post_data, json_response, unflatten_data

from . import wallets
from .core import current_request, ledger

IDEMPOTENCY_TTL = 24 * 3600
IDEMPOTENCY_MISMATCH = (
    "Keys for idempotent requests can only be used with the same parameters they were first"
    " used with. Try using a key other than '{}' if you meant to execute a different request."
)
# Paths Stripe.js calls with the publishable key in the body (localstripe knows the others).
PUBLISHABLE_OK = re.compile(r"^/v1/(payment_methods|payment_intents/\w+/confirm)$")
# Stripe.js reads an intent with the publishable key and the intent's client_secret.
PUBLISHABLE_READ = re.compile(r"^/v1/payment_intents/(\w+)$")
CORS_HEADERS = (
    "Content-Type, Accept, Authorization, Idempotency-Key, Stripe-Version, Stripe-Account"
)


class State:
    """What the extension remembers besides localstripe's store."""

    def __init__(self):
        self.requests = deque(maxlen=10_000)
        self.faults = []
        self.idempotency = {}  # (api key, Stripe-Account, key) -> entry dict

    def reset(self):
        """Forget everything, as DELETE /_config/data does."""
        self.__init__()


state = State()


async def request_params(request):
    """The request's parameters, unflattened as localstripe reads them."""
    if request.method == "POST":
        return dict(await get_post_data(request, remove_auth=False) or {})
    return unflatten_data(request.query)


def _api(request):
    return request.path.startswith("/v1/")


@web.middleware
async def request_ids(request, handler):
    """Give each API call a Request-Id (Stripe's header), for the events it causes.

    Also lets pending balance transactions whose time has come become available first.
    """
    wallets.base_url.set(f"{request.scheme}://{request.host}")  # for the wallets' page URLs
    if not _api(request):
        return await handler(request)
    ledger.mature()
    key = request.headers.get("Idempotency-Key")
    ids = {"id": "req_" + r.random_id(14), "idempotency_key": key}
    token = current_request.set(ids)
    try:
        response = await handler(request)
    except web.HTTPException as e:
        e.headers["Request-Id"] = ids["id"]
        raise
    finally:
        current_request.reset(token)
    response.headers["Request-Id"] = ids["id"]
    return response


@web.middleware
async def log_requests(request, handler):
    """Record every API call and the status it got, for GET /_config/requests."""
    if not _api(request):
        return await handler(request)
    entry = {
        "method": request.method,
        "path": request.path,
        "idempotency_key": request.headers.get("Idempotency-Key"),
        "params": await request_params(request),
        "status": 500,
        "time": time.time(),
    }
    state.requests.append(entry)
    try:
        response = await handler(request)
    except web.HTTPException as e:
        entry["status"] = e.status
        raise
    entry["status"] = response.status
    return response


def fault_response(fault):
    """A Stripe-shaped error for an injected fault."""
    status = fault["status"]
    if status == 429:
        error = {
            "type": "invalid_request_error",
            "code": "rate_limit",
            "message": "Request rate limit exceeded. Learn more about rate limits here"
            " https://stripe.com/docs/rate-limits.",
        }
    elif status >= 500:
        error = {"type": "api_error", "message": "An unknown error occurred"}
    elif status == 402:
        error = {
            "type": "card_error",
            "code": "card_declined",
            "message": "Your card was declined.",
        }
    else:
        error = {"type": "invalid_request_error", "message": "Injected fault"}
    error.update({k: fault[k] for k in ("code", "message") if fault.get(k)})
    return json_response({"error": error}, status=status)


@web.middleware
async def inject_faults(request, handler):
    """Answer the next matching API calls with the configured error instead of running them."""
    if _api(request):
        for fault in state.faults:
            if request.path.startswith(fault["path"]) and fault["method"] in (None, request.method):
                fault["count"] -= 1
                if fault["count"] <= 0:
                    state.faults.remove(fault)
                return fault_response(fault)
    return await handler(request)


def _worth_keeping(response):
    """Stripe stores a result only once the endpoint ran: not for auth or param errors."""
    if response.status < 400 or response.status == 402:
        return True
    if response.status != 400:
        return False
    code = json.loads(response.body).get("error", {}).get("code") or ""
    return bool(code) and not code.startswith("parameter_")


@web.middleware
async def idempotency(request, handler):
    """Replay the stored response for a POST whose Idempotency-Key was seen in the last 24 h."""
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key or not _api(request):
        return await handler(request)
    now = time.time()
    for old in [k for k, e in state.idempotency.items() if now - e["time"] > IDEMPOTENCY_TTL]:
        del state.idempotency[old]
    scope = (server.get_api_key(request), request.headers.get("Stripe-Account"), key)
    params = json.dumps(await request_params(request), sort_keys=True)
    entry = state.idempotency.get(scope)
    if entry is not None:
        if (entry["path"], entry["params"]) != (request.path, params):
            error = {"type": "idempotency_error", "message": IDEMPOTENCY_MISMATCH.format(key)}
            return json_response({"error": error}, status=400)
        if entry["status"] is None:
            error = {
                "type": "idempotency_error",
                "code": "idempotency_key_in_use",
                "message": "There is currently another in-progress request using this"
                " Idempotent Key (that probably means you submitted twice, and the other request"
                f" is still going through): {key}. Please try again later.",
            }
            return json_response({"error": error}, status=409)
        return web.Response(
            body=entry["body"],
            status=entry["status"],
            content_type="application/json",
            headers={"Idempotent-Replayed": "true", "Idempotency-Key": key},
        )
    entry = {"path": request.path, "params": params, "status": None, "time": now}
    state.idempotency[scope] = entry
    try:
        response = await handler(request)
    except BaseException:
        del state.idempotency[scope]
        raise
    if isinstance(response, web.Response) and _worth_keeping(response):
        entry.update(status=response.status, body=response.body)
    else:
        del state.idempotency[scope]
    return response


@web.middleware
async def auth(request, handler):
    """localstripe's key check, plus CORS preflights, onboarding pages and Stripe.js calls."""
    if request.method == "OPTIONS":
        return web.Response(status=204)
    if request.path.startswith(("/connect/onboarding/", *wallets.PAGES)):
        return await handler(request)
    read = PUBLISHABLE_READ.match(request.path) if request.method == "GET" else None
    if read and str(request.query.get("key", "")).startswith("pk_"):
        pi = r.store.get(f"payment_intent:{read.group(1)}")
        secret = request.query.get("client_secret")
        if pi is None or not secret or secret != pi.client_secret:
            raise UserError(401, "Unauthorized")
        return await handler(request)
    if request.method == "POST" and PUBLISHABLE_OK.match(request.path):
        data = await get_post_data(request, remove_auth=False) or {}
        key = data.get("key")
        if isinstance(key, str) and key.startswith("pk_"):
            if request.path.endswith("/confirm") and not data.get("client_secret"):
                raise UserError(401, "Unauthorized")
            return await handler(request)
    return await server.auth_middleware(request, handler)


async def cors_headers(request, response):
    """Let pages on other origins (the platform) call the API from the browser."""
    origin = request.headers.get("Origin")
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"
