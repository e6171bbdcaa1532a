"""Alipay and WeChat Pay, as Stripe offers them for one-off payments.

- PaymentMethods of type ``alipay`` and ``wechat_pay`` (created directly or through
  ``payment_method_data[type]`` at confirm); PaymentIntents whose ``payment_method_types`` name
  them, only in the currencies Stripe presents them in (otherwise 400
  ``payment_intent_invalid_parameter``).
- Confirming with one answers ``requires_action``: ``next_action.alipay_handle_redirect``
  (``url`` to this server's ``/alipay/authorize/<pi>``, ``return_url``) or
  ``next_action.wechat_pay_display_qr_code`` (``data``, a QR code as ``image_data_url``,
  ``image_url_png``, ``image_url_svg``, and ``hosted_instructions_url`` to ``/wechat_pay/<pi>``);
  ``payment_intent.requires_action`` is sent.
- Those pages offer "Authorize test payment" and "Fail test payment", as Stripe's test-mode
  pages do. Authorized: a charge with ``payment_method_details.type`` ``alipay`` or
  ``wechat_pay``, its balance transaction with the fee schedule's fee, ``payment_intent.succeeded``.
  Failed: the intent goes back to ``requires_payment_method`` with ``last_payment_error``
  (``payment_intent_payment_attempt_failed``) and ``payment_intent.payment_failed``. Alipay then
  redirects to the ``return_url`` with ``payment_intent``, ``payment_intent_client_secret`` and
  ``redirect_status``. The fake Stripe.js's WeChat Pay dialog does the same through
  ``POST /v1/payment_intents/<id>/_authenticate`` (``success=true/false``).
"""

import base64
import contextvars
import hashlib
import html
import struct
import zlib
from urllib.parse import urlencode

from aiohttp import web
from localstripe import resources as r

from .core import emit, stripe_error

WALLETS = ("alipay", "wechat_pay")
KNOWN_TYPES = ("card", "sepa_debit", *WALLETS)
# Stripe's presentment currencies for each (docs.stripe.com/payments/alipay, /wechat-pay).
CURRENCIES = {
    "alipay": ("aud", "cad", "cny", "eur", "gbp", "hkd", "jpy", "myr", "nzd", "sgd", "usd"),
    "wechat_pay": (
        "aud",
        "cad",
        "chf",
        "cny",
        "dkk",
        "eur",
        "gbp",
        "hkd",
        "jpy",
        "nok",
        "sek",
        "sgd",
        "usd",
    ),
}
NAMES = {"alipay": "Alipay", "wechat_pay": "WeChat Pay"}
ZERO_DECIMAL = ("jpy", "krw", "vnd", "clp", "isk", "ugx", "xaf", "xof")
SYMBOLS = {"cny": "¥", "jpy": "¥", "usd": "$", "eur": "€", "gbp": "£", "hkd": "HK$"}
ATTEMPT_FAILED = (
    "The latest payment attempt of this PaymentIntent has failed or been canceled, and the"
    " attached payment method has been removed. You can try confirming again with a new payment"
    " method."
)

# This server's own address, for the URLs of its pages (set per API request by middleware.py).
base_url = contextvars.ContextVar("base_url", default="http://127.0.0.1:8420")

_pm_init = r.PaymentMethod.__init__


def pm_init(self, type=None, billing_details=None, metadata=None, alipay=None, wechat_pay=None,
            **kwargs):  # fmt: skip
    """localstripe's card and SEPA PaymentMethods, plus alipay and wechat_pay (no details)."""
    if type not in WALLETS:
        if alipay is not None or wechat_pay is not None:
            name = "alipay" if alipay is not None else "wechat_pay"
            raise stripe_error(
                400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name
            )
        _pm_init(self, type=type, billing_details=billing_details, metadata=metadata, **kwargs)
        return
    if kwargs:
        name = sorted(kwargs)[0]
        raise stripe_error(
            400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name
        )
    if billing_details is not None and not isinstance(billing_details, dict):
        raise stripe_error(400, "Invalid billing_details", param="billing_details")
    r.StripeObject.__init__(self)
    self.type = type
    self.billing_details = billing_details or {}
    setattr(self, type, {})
    self.customer = None
    self.metadata = metadata or {}


def check_types(payment_method_types, currency):
    """Refuse unknown types, and wallets in a currency Stripe does not present them in."""
    if not isinstance(payment_method_types, list) or not payment_method_types:
        raise stripe_error(
            400, "Invalid array", code="parameter_invalid_empty", param="payment_method_types"
        )
    for kind in payment_method_types:
        if kind not in KNOWN_TYPES:
            raise stripe_error(
                400,
                f'The payment method type "{kind}" is invalid. Please ensure the provided type'
                " is activated in your dashboard and your account is enabled for any preview"
                " features that you are trying to use.",
                code="payment_intent_invalid_parameter",
                param="payment_method_types",
            )
        allowed = CURRENCIES.get(kind)
        if allowed and str(currency).lower() not in allowed:
            raise stripe_error(
                400,
                f"The currency provided ({currency}) is invalid. Payments with {kind} support"
                f" the following currencies: {', '.join(allowed)}.",
                code="payment_intent_invalid_parameter",
                param="currency",
            )


def check_allowed(pi, pm):
    """A PaymentMethod whose type the intent does not allow is refused at confirm."""
    allowed = pi.payment_method_types or ["card"]
    if getattr(pi, "automatic_payment_methods", None) or pm.type in allowed:
        return
    raise stripe_error(
        400,
        f"The PaymentMethod provided ({pm.type}) is not allowed for this PaymentIntent. Please"
        f" attach a PaymentMethod of one of the following types: {', '.join(allowed)}."
        f" Alternatively, update the allowed payment_method_types for this PaymentIntent to"
        f' include "{pm.type}".',
        code="payment_intent_invalid_parameter",
        param="payment_method",
    )


def is_wallet(pm):
    return getattr(pm, "type", None) in WALLETS


def awaiting(pi):
    """The intent waits for its Alipay or WeChat Pay authorization."""
    action = pi.next_action or {}
    return action.get("type") in ("alipay_handle_redirect", "wechat_pay_display_qr_code")


def _wechat_client(pi, options):
    wechat = options.get("wechat_pay") if isinstance(options, dict) else None
    return (wechat or {}).get("client") or _stored_client(pi)


def check_confirm(pi, pm, return_url=None, options=None):
    """What confirming with pm needs, checked before the intent changes at all."""
    check_allowed(pi, pm)
    if pm.type == "alipay" and not return_url:
        raise stripe_error(
            400,
            "A return_url must be specified to confirm a PaymentIntent with an alipay"
            " PaymentMethod.",
            code="parameter_missing",
            param="return_url",
        )
    if pm.type == "wechat_pay":
        client = _wechat_client(pi, options)
        if client != "web":
            raise stripe_error(
                400,
                "payment_method_options[wechat_pay][client] must be web (the only client"
                " fakestripe offers) to confirm with a wechat_pay PaymentMethod.",
                code="parameter_invalid_string" if client else "parameter_missing",
                param="payment_method_options[wechat_pay][client]",
            )


def confirm(pi, pm, return_url=None, options=None):
    """Confirming with a wallet: the customer must now authorize on the wallet's page."""
    base = base_url.get()
    if pm.type == "alipay":
        pi.next_action = {
            "type": "alipay_handle_redirect",
            "alipay_handle_redirect": {
                "native_data": None,
                "native_url": None,
                "return_url": return_url,
                "url": f"{base}/alipay/authorize/{pi.id}",
            },
        }
    else:
        pi.payment_method_options = dict(getattr(pi, "payment_method_options", None) or {})
        pi.payment_method_options["wechat_pay"] = {"app_id": None, "client": "web"}
        data = qr_data(pi)
        pi.next_action = {
            "type": "wechat_pay_display_qr_code",
            "wechat_pay_display_qr_code": {
                "data": data,
                "hosted_instructions_url": f"{base}/wechat_pay/{pi.id}",
                "image_data_url": "data:image/png;base64,"
                + base64.b64encode(qr_png(data)).decode(),
                "image_url_png": f"{base}/wechat_pay/{pi.id}/qr.png",
                "image_url_svg": f"{base}/wechat_pay/{pi.id}/qr.svg",
            },
        }
    pi._return_url = return_url
    emit("payment_intent.requires_action", pi)
    return pi


def qr_data(pi):
    return f"weixin://wxpay/bizpayurl?pr=fakestripe_{pi.id}"


def _stored_client(pi):
    options = getattr(pi, "payment_method_options", None) or {}
    return (options.get("wechat_pay") or {}).get("client")


def finish(pi, success):
    """The customer authorized (a charge, succeeded) or failed the payment on the wallet."""
    if not awaiting(pi):
        raise stripe_error(
            400,
            f"This PaymentIntent's status is {pi.status}: it is not waiting for an Alipay or"
            " WeChat Pay authorization.",
            code="payment_intent_unexpected_state",
        )
    pm = r.PaymentMethod._api_retrieve(pi.payment_method)
    pi.next_action = None
    if success:
        pi._create_charge(on_failure_now=pi._report_failure)
        return pi
    pi._wallet_error = {
        "type": "invalid_request_error",
        "code": "payment_intent_payment_attempt_failed",
        "message": ATTEMPT_FAILED,
        "payment_method": pm._export(),
        "payment_method_type": pm.type,
    }
    pi.payment_method = None
    emit("payment_intent.payment_failed", pi)
    return pi


def authenticate(pi, client_secret=None, success=None):
    """POST /v1/payment_intents/<id>/_authenticate for a wallet (the fake Stripe.js's dialog)."""
    if client_secret != pi.client_secret:
        raise stripe_error(
            400,
            "The client_secret provided does not match the client_secret associated with the"
            " PaymentIntent.",
            param="client_secret",
        )
    flag = r.try_convert_to_bool(success)
    if type(flag) is not bool:
        raise stripe_error(400, f"Invalid boolean: {success}", param="success")
    return finish(pi, flag)


def payment_method_details(self):
    """Charge.payment_method_details: the type, with the card's or the wallet's details."""
    pm = r.store.get(f"payment_method:{self.payment_method}")
    if pm is None:
        return None
    if pm.type == "card":
        card = pm.card
        return {
            "type": "card",
            "card": {
                "brand": card.get("brand"),
                "country": card.get("country"),
                "exp_month": card.get("exp_month"),
                "exp_year": card.get("exp_year"),
                "fingerprint": card.get("fingerprint"),
                "funding": card.get("funding"),
                "last4": card.get("last4"),
                "network": card.get("brand"),
            },
        }
    digest = hashlib.sha256(pm.id.encode()).hexdigest()
    details = {"fingerprint": digest[:16], "transaction_id": f"fake{digest[16:40]}"}
    if pm.type == "alipay":
        details["buyer_id"] = f"2088{int(digest[40:52], 16) % 10**12:012d}"
    return {"type": pm.type, pm.type: details}


# ---- the QR code ------------------------------------------------------------------------

QR_SIZE = 25  # modules a side, as a version 2 QR code


def qr_matrix(data):
    """A QR-looking pattern for data: finder and timing patterns, the rest from its hash.

    It is a picture for the test page, not a scannable code (a phone has nothing to open
    here anyway: the page's buttons stand in for the wallet app)."""
    n = QR_SIZE
    bits = []
    seed = data.encode()
    while len(bits) < n * n:
        seed = hashlib.sha256(seed).digest()
        bits.extend((byte >> i) & 1 for byte in seed for i in range(8))
    grid = [[bool(bits[y * n + x]) for x in range(n)] for y in range(n)]
    for oy, ox in ((0, 0), (0, n - 7), (n - 7, 0)):
        for y in range(-1, 8):
            for x in range(-1, 8):
                yy, xx = oy + y, ox + x
                if 0 <= yy < n and 0 <= xx < n:
                    ring = max(abs(y - 3), abs(x - 3))
                    grid[yy][xx] = ring in (0, 1, 3)
    for i in range(8, n - 8):
        grid[6][i] = grid[i][6] = i % 2 == 0
    return grid


def qr_png(data, scale=4, border=4):
    """The pattern as a 1-bit greyscale PNG (a few hundred bytes)."""
    grid = qr_matrix(data)
    n = len(grid)
    size = (n + 2 * border) * scale
    rows = []
    for y in range(size):
        my = y // scale - border
        row = bytearray([0])  # filter: none
        byte, count = 0, 0
        for x in range(size):
            mx = x // scale - border
            dark = 0 <= my < n and 0 <= mx < n and grid[my][mx]
            byte = (byte << 1) | (0 if dark else 1)
            count += 1
            if count == 8:
                row.append(byte)
                byte, count = 0, 0
        if count:
            row.append((byte << (8 - count)) | ((1 << (8 - count)) - 1))
        rows.append(bytes(row))

    def chunk(tag, body):
        crc = zlib.crc32(tag + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", size, size, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


def qr_svg(data, border=4):
    grid = qr_matrix(data)
    n = len(grid)
    side = n + 2 * border
    path = "".join(
        f"M{x + border},{y + border}h1v1h-1z" for y in range(n) for x in range(n) if grid[y][x]
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}"'
        f' shape-rendering="crispEdges"><rect width="{side}" height="{side}" fill="#fff"/>'
        f'<path d="{path}" fill="#000"/></svg>'
    )


# ---- the pages standing in for Alipay and WeChat Pay ------------------------------------

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f6f8fa; color: #1a1f36; margin: 0; }}
main {{ max-width: 28rem; margin: 3rem auto; background: #fff; padding: 1.5rem 2rem;
  border-radius: 8px; box-shadow: 0 2px 8px rgba(0,0,0,.12); }}
.badge {{ display: inline-block; background: #ffe8a3; color: #5c4400; font-size: .8rem;
  padding: .15rem .5rem; border-radius: 4px; font-weight: 600; }}
h1 {{ font-size: 1.35rem; margin: .75rem 0; }}
.amount {{ font-size: 1.6rem; font-weight: 700; margin: .5rem 0 1rem; }}
.qr {{ display: block; margin: 0 auto 1rem; width: 200px; height: 200px;
  image-rendering: pixelated; }}
.actions {{ display: flex; gap: .75rem; flex-wrap: wrap; margin-top: 1.25rem; }}
button {{ font: inherit; padding: .6rem 1rem; border-radius: 6px; cursor: pointer;
  border: 1px solid #c0c8d2; background: #fff; flex: 1 1 10rem; }}
button.authorize {{ background: {colour}; border-color: {colour}; color: #fff; font-weight: 600; }}
button:focus-visible {{ outline: 3px solid #1a73e8; outline-offset: 2px; }}
.muted {{ color: #545969; font-size: .9rem; }}
</style></head>
<body><main>
<span class="badge">Test mode</span>
<h1>{title}</h1>
{body}
</main></body></html>
"""
COLOURS = {"alipay": "#1677ff", "wechat_pay": "#07883a"}


def _amount(pi):
    currency = pi.currency.lower()
    symbol = SYMBOLS.get(currency, "")
    major = pi.amount if currency in ZERO_DECIMAL else pi.amount / 100
    number = f"{major:,.0f}" if currency in ZERO_DECIMAL else f"{major:,.2f}"
    return f"{symbol}{number} {currency.upper()}"


def _intent_for(request, kind):
    pi = r.store.get(f"payment_intent:{request.match_info['id']}")
    if pi is None or not pi.payment_method_types or kind not in pi.payment_method_types:
        raise web.HTTPNotFound(text=f"No such {NAMES[kind]} payment")
    return pi


def _page(kind, title, body):
    text = PAGE.format(title=html.escape(title), body=body, colour=COLOURS[kind])
    return web.Response(text=text, content_type="text/html")


def _choice(pi, kind):
    """The form with Stripe's two test-mode choices, or what became of the payment."""
    pm = r.store.get(f"payment_method:{pi.payment_method}") if pi.payment_method else None
    if awaiting(pi) and pm is not None and pm.type == kind:
        return (
            '<form method="post" class="actions">'
            '<button class="authorize" type="submit" name="action" value="authorize">'
            "Authorize test payment</button>"
            '<button type="submit" name="action" value="fail">Fail test payment</button>'
            "</form>"
        )
    outcome = {
        "succeeded": "This payment is authorized.",
        "canceled": "This payment was canceled.",
    }.get(pi.status, "This payment is not waiting for an authorization.")
    return f'<p role="status"><strong>{html.escape(outcome)}</strong></p>'


def _description(pi):
    text = getattr(pi, "description", None)
    return f'<p class="muted">{html.escape(text)}</p>' if text else ""


async def alipay_page(request):
    """GET /alipay/authorize/<pi>: what the customer sees instead of Alipay."""
    pi = _intent_for(request, "alipay")
    body = (
        f'<p class="amount">{html.escape(_amount(pi))}</p>{_description(pi)}'
        '<p class="muted">This page stands in for Alipay in test mode: no money moves.'
        " Authorize the payment, or make it fail, to see what your integration does.</p>"
        + _choice(pi, "alipay")
    )
    return _page("alipay", "Alipay test payment page", body)


def _return_to(pi):
    url = getattr(pi, "_return_url", None) or (
        ((pi.next_action or {}).get("alipay_handle_redirect") or {}).get("return_url")
    )
    if not url:
        return None
    status = {"succeeded": "succeeded", "processing": "processing"}.get(pi.status, "failed")
    query = urlencode(
        {
            "payment_intent": pi.id,
            "payment_intent_client_secret": pi.client_secret,
            "redirect_status": status,
        }
    )
    return url + ("&" if "?" in url else "?") + query


async def _act(request, pi):
    action = (await request.post()).get("action")
    if action not in ("authorize", "fail"):
        raise web.HTTPBadRequest(text="Choose authorize or fail")
    if awaiting(pi):
        finish(pi, action == "authorize")


async def alipay_submit(request):
    """POST /alipay/authorize/<pi>: authorize or fail, then back to the return_url."""
    pi = _intent_for(request, "alipay")
    await _act(request, pi)
    target = _return_to(pi)
    if target is None:
        return await alipay_page(request)
    raise web.HTTPFound(target)


async def wechat_page(request):
    """GET /wechat_pay/<pi>: the hosted instructions page with the QR code."""
    pi = _intent_for(request, "wechat_pay")
    action = (pi.next_action or {}).get("wechat_pay_display_qr_code") or {}
    image = action.get("image_data_url")
    qr = (
        f'<img class="qr" src="{html.escape(image)}" width="200" height="200"'
        ' alt="Test WeChat Pay QR code">'
        if image
        else ""
    )
    body = (
        f'<p class="amount">{html.escape(_amount(pi))}</p>{_description(pi)}{qr}'
        '<p class="muted">This page stands in for WeChat Pay in test mode: no money moves,'
        " and the QR code opens nothing. Authorize the payment, or make it fail, as the"
        " customer would in the WeChat app.</p>" + _choice(pi, "wechat_pay")
    )
    return _page("wechat_pay", "WeChat Pay test payment page", body)


async def wechat_submit(request):
    """POST /wechat_pay/<pi>: authorize or fail, then the page says what happened."""
    pi = _intent_for(request, "wechat_pay")
    await _act(request, pi)
    return await wechat_page(request)


async def wechat_qr_png(request):
    pi = _intent_for(request, "wechat_pay")
    return web.Response(body=qr_png(qr_data(pi)), content_type="image/png")


async def wechat_qr_svg(request):
    pi = _intent_for(request, "wechat_pay")
    return web.Response(text=qr_svg(qr_data(pi)), content_type="image/svg+xml")


PAGES = (
    "/alipay/",
    "/wechat_pay/",
)


def routes():
    return [
        ("GET", "/alipay/authorize/{id}", alipay_page),
        ("POST", "/alipay/authorize/{id}", alipay_submit),
        ("GET", "/wechat_pay/{id}", wechat_page),
        ("POST", "/wechat_pay/{id}", wechat_submit),
        ("GET", "/wechat_pay/{id}/qr.png", wechat_qr_png),
        ("GET", "/wechat_pay/{id}/qr.svg", wechat_qr_svg),
    ]


r.PaymentMethod.__init__ = pm_init
r.Charge.payment_method_details = property(payment_method_details)
