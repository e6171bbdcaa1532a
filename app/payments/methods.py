"""Which ways to pay a pledge offers, by the project's currency, and what to tell the backer
when a wallet payment did not go through.

Card everywhere; for CNY projects also Alipay and WeChat Pay (Stripe presents both in CNY).
The PaymentIntent is created allowing all of a currency's methods, and the backer picks one
on the pay page: Stripe.js confirms the intent with that method (``confirmCardPayment``,
``confirmAlipayPayment`` or ``confirmWechatPayPayment``), which Stripe allows as long as the
method is among the intent's ``payment_method_types``.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

WALLETS_BY_CURRENCY = {"CNY": ("alipay", "wechat_pay")}


@dataclass(frozen=True)
class Method:
    type: str  # Stripe's payment method type
    label: str  # lazy: shown in the reader's language
    hint: str


METHODS = {
    "card": Method(
        "card", _l("Card"), _l("Visa, Mastercard, American Express, UnionPay and more.")
    ),
    "alipay": Method(
        "alipay",
        _l("Alipay"),
        _l("You go to Alipay to approve the payment, then come back here."),
    ),
    "wechat_pay": Method(
        "wechat_pay",
        _l("WeChat Pay"),
        _l("A QR code appears: scan it with WeChat to approve."),
    ),
}


def payment_method_types(currency: str) -> list[str]:
    """Stripe's payment_method_types for a pledge's PaymentIntent in this currency."""
    return ["card", *WALLETS_BY_CURRENCY.get(currency.upper(), ())]


def choices(currency: str) -> list[Method]:
    return [METHODS[kind] for kind in payment_method_types(currency)]


def wallet_failure_message(payment_method_type: str | None) -> str:
    """What the backer reads when Alipay or WeChat Pay was not approved (or failed)."""
    name = (
        str(METHODS[payment_method_type].label)
        if payment_method_type in METHODS
        else gettext("wallet")
    )
    return gettext(
        "The %(method)s payment was not completed, so nothing was charged. You can try "
        "again, or choose another way to pay.",
        method=name,
    )


def browser_messages() -> dict:
    """What pay.js says when Stripe.js reports a failure, in the reader's language."""
    return {
        "wallet_failed": {kind: wallet_failure_message(kind) for kind in ("alipay", "wechat_pay")},
        "failed": gettext("The payment did not go through."),
        "unreachable": gettext("We could not reach the payment provider. Please try again."),
    }


ATTEMPT_FAILED = "payment_intent_payment_attempt_failed"


def failure_message(code: str | None, message: str, payment_method_type: str | None) -> str:
    """The backer's message for a PaymentIntent's last_payment_error."""
    if code == ATTEMPT_FAILED and payment_method_type in WALLETS_BY_CURRENCY["CNY"]:
        return wallet_failure_message(payment_method_type)
    return message
