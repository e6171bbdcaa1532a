"""Alipay and WeChat Pay: payment methods, intents that need the customer's authorization on
the wallet's page, what authorizing or failing there does, refunds. Objects are checked
against Stripe's contract (../shared/stripe/) where it is there."""

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
import stripe

from tests.fakestripe import contract

RETURN_URL = "http://127.0.0.1:5000/pledges/7/complete?from=alipay"


def conforms(obj):
    """How obj breaks its schema in Stripe's contract ([] when the contract is not here)."""
    if not contract.SCHEMA_FILE.is_file():
        return []
    pytest.importorskip("jsonschema")
    return contract.object_errors(obj)


def types_of(events):
    return [e["type"] for e in events]


def wait_for_types(webhooks, *wanted):
    return webhooks.wait_for(lambda events: set(wanted) <= set(types_of(events)))


def cny_intent(sdk, types=("card", "alipay", "wechat_pay"), amount=2500):
    return sdk.v1.payment_intents.create(
        {"amount": amount, "currency": "cny", "payment_method_types": list(types)}
    )


def confirm_alipay(fake, pi):
    """Confirm as Stripe.js's confirmAlipayPayment does: publishable key, client_secret."""
    response = fake.call(
        "POST",
        f"/v1/payment_intents/{pi.id}/confirm",
        {
            "key": "pk_test_wallets",
            "client_secret": pi.client_secret,
            "payment_method_data[type]": "alipay",
            "return_url": RETURN_URL,
        },
    )
    assert response.status_code == 200, response.text
    return response.json()


def confirm_wechat(fake, pi):
    response = fake.call(
        "POST",
        f"/v1/payment_intents/{pi.id}/confirm",
        {
            "key": "pk_test_wallets",
            "client_secret": pi.client_secret,
            "payment_method_data[type]": "wechat_pay",
            "payment_method_options[wechat_pay][client]": "web",
        },
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("kind", ["alipay", "wechat_pay"])
def test_wallet_payment_methods(fake, sdk, kind):
    pm = sdk.v1.payment_methods.create({"type": kind, "billing_details": {"name": "Li Lei"}})
    assert (pm.type, pm.billing_details.name) == (kind, "Li Lei")
    assert pm.to_dict()[kind] == {}
    assert "card" not in pm.to_dict()
    assert conforms(fake.json("GET", f"/v1/payment_methods/{pm.id}")) == []
    pi = cny_intent(sdk, [kind])
    assert (pi.payment_method_types, pi.status) == ([kind], "requires_payment_method")


def test_wallets_only_in_the_currencies_stripe_presents_them_in(sdk):
    for kind, currency in (("alipay", "brl"), ("wechat_pay", "myr"), ("alipay", "inr")):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            sdk.v1.payment_intents.create(
                {"amount": 1000, "currency": currency, "payment_method_types": ["card", kind]}
            )
        assert caught.value.code == "payment_intent_invalid_parameter"
        assert f"The currency provided ({currency}) is invalid" in caught.value.user_message
    # Alipay takes MYR, WeChat Pay CHF; both take CNY, USD, EUR...
    for kind, currency in (("alipay", "myr"), ("wechat_pay", "chf"), ("alipay", "usd")):
        pi = sdk.v1.payment_intents.create(
            {"amount": 1000, "currency": currency, "payment_method_types": [kind]}
        )
        assert pi.payment_method_types == [kind]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.payment_intents.create(
            {"amount": 1000, "currency": "cny", "payment_method_types": ["bitcoin_wallet"]}
        )
    assert caught.value.code == "payment_intent_invalid_parameter"


def test_alipay_authorized_on_its_page_returns_to_the_return_url(fake, sdk, webhooks):
    pi = cny_intent(sdk)
    body = confirm_alipay(fake, pi)
    assert body["status"] == "requires_action"
    action = body["next_action"]
    assert action["type"] == "alipay_handle_redirect"
    redirect = action["alipay_handle_redirect"]
    assert redirect["return_url"] == RETURN_URL
    assert redirect["url"] == f"{fake.url}/alipay/authorize/{pi.id}"
    assert set(redirect) == {"url", "native_url", "native_data", "return_url"}
    assert conforms(body) == []
    pm = sdk.v1.payment_methods.retrieve(body["payment_method"])
    assert pm.type == "alipay"

    page = fake.call("GET", f"/alipay/authorize/{pi.id}")
    assert page.status_code == 200
    assert "Authorize test payment" in page.text and "Fail test payment" in page.text
    assert "¥25.00 CNY" in page.text

    answer = fake.call(
        "POST", f"/alipay/authorize/{pi.id}", {"action": "authorize"}, allow_redirects=False
    )
    assert answer.status_code == 302
    target = urlsplit(answer.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == RETURN_URL.split("?")[0]
    assert parse_qs(target.query) == {
        "from": ["alipay"],
        "payment_intent": [pi.id],
        "payment_intent_client_secret": [pi.client_secret],
        "redirect_status": ["succeeded"],
    }

    pi = sdk.v1.payment_intents.retrieve(pi.id)
    assert (pi.status, pi.next_action, pi.last_payment_error) == ("succeeded", None, None)
    charge = fake.json("GET", f"/v1/charges/{pi.latest_charge}")
    assert conforms(charge) == []
    details = charge["payment_method_details"]
    assert details["type"] == "alipay"
    assert set(details["alipay"]) == {"buyer_id", "fingerprint", "transaction_id"}
    txn = sdk.v1.balance_transactions.retrieve(charge["balance_transaction"])
    fee = 73 + 200  # CNY 2.9 % of 25.00 (72.5, half up) + 2.00, as for cards
    assert (txn.amount, txn.fee, txn.net, txn.currency) == (2500, fee, 2500 - fee, "cny")

    # Refunds work as for cards.
    refund = sdk.v1.refunds.create({"payment_intent": pi.id, "amount": 1000})
    assert (refund.status, refund.amount) == ("succeeded", 1000)
    refund = sdk.v1.refunds.create({"payment_intent": pi.id})
    assert refund.amount == 1500
    assert sdk.v1.charges.retrieve(pi.latest_charge).refunded is True

    events = wait_for_types(
        webhooks, "payment_intent.requires_action", "payment_intent.succeeded", "charge.refunded"
    )
    succeeded = next(e for e in events if e["type"] == "payment_intent.succeeded")
    assert succeeded["data"]["object"]["id"] == pi.id
    assert conforms(succeeded["data"]["object"]) == []

    # The page no longer offers a choice; posting again changes nothing.
    assert "Authorize test payment" not in fake.call("GET", f"/alipay/authorize/{pi.id}").text
    again = fake.call(
        "POST", f"/alipay/authorize/{pi.id}", {"action": "fail"}, allow_redirects=False
    )
    assert "redirect_status=succeeded" in again.headers["Location"]
    assert sdk.v1.payment_intents.retrieve(pi.id).status == "succeeded"


def test_alipay_failed_on_its_page_can_be_paid_another_way(fake, sdk, card, webhooks):
    pi = cny_intent(sdk)
    confirm_alipay(fake, pi)
    answer = fake.call(
        "POST", f"/alipay/authorize/{pi.id}", {"action": "fail"}, allow_redirects=False
    )
    assert parse_qs(urlsplit(answer.headers["Location"]).query)["redirect_status"] == ["failed"]
    pi = sdk.v1.payment_intents.retrieve(pi.id)
    assert (pi.status, pi.payment_method, pi.latest_charge) == (
        "requires_payment_method",
        None,
        None,
    )
    error = pi.last_payment_error
    assert (error.type, error.code, error.payment_method.type) == (
        "invalid_request_error",
        "payment_intent_payment_attempt_failed",
        "alipay",
    )
    assert conforms(fake.json("GET", f"/v1/payment_intents/{pi.id}")) == []
    events = wait_for_types(webhooks, "payment_intent.payment_failed")
    failed = next(e for e in events if e["type"] == "payment_intent.payment_failed")
    assert failed["data"]["object"]["last_payment_error"]["code"] == (
        "payment_intent_payment_attempt_failed"
    )
    pi = sdk.v1.payment_intents.confirm(pi.id, {"payment_method": card("4242424242424242").id})
    assert (pi.status, pi.last_payment_error) == ("succeeded", None)
    charge = sdk.v1.charges.retrieve(pi.latest_charge)
    assert charge.payment_method_details.type == "card"
    assert charge.payment_method_details.card.last4 == "4242"


def test_wechat_pay_shows_a_qr_code_and_is_authorized_through_stripe_js(fake, sdk, webhooks):
    pi = cny_intent(sdk, ["wechat_pay"], amount=8800)
    body = confirm_wechat(fake, pi)
    assert body["status"] == "requires_action"
    assert body["payment_method_options"]["wechat_pay"]["client"] == "web"
    action = body["next_action"]
    assert action["type"] == "wechat_pay_display_qr_code"
    qr = action["wechat_pay_display_qr_code"]
    assert set(qr) == {
        "data",
        "hosted_instructions_url",
        "image_data_url",
        "image_url_png",
        "image_url_svg",
    }
    assert qr["data"].startswith("weixin://wxpay/bizpayurl?pr=")
    assert qr["hosted_instructions_url"] == f"{fake.url}/wechat_pay/{pi.id}"
    assert conforms(body) == []  # the data URL within the contract's 5000 characters too
    prefix = "data:image/png;base64,"
    assert qr["image_data_url"].startswith(prefix)
    png = base64.b64decode(qr["image_data_url"][len(prefix) :])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    served = fake.call("GET", urlsplit(qr["image_url_png"]).path)
    assert (served.status_code, served.headers["Content-Type"]) == (200, "image/png")
    assert served.content == png
    svg = fake.call("GET", urlsplit(qr["image_url_svg"]).path)
    assert svg.headers["Content-Type"].startswith("image/svg+xml") and "<svg" in svg.text
    page = fake.call("GET", f"/wechat_pay/{pi.id}")
    assert "Authorize test payment" in page.text and qr["image_data_url"] in page.text

    # Stripe.js reads the intent with the publishable key and the client secret ...
    read = fake.call(
        "GET",
        f"/v1/payment_intents/{pi.id}",
        params={"key": "pk_test_wallets", "client_secret": pi.client_secret},
        auth=None,
    )
    assert read.json()["status"] == "requires_action"
    wrong = fake.call(
        "GET",
        f"/v1/payment_intents/{pi.id}",
        params={"key": "pk_test_wallets", "client_secret": "pi_x_secret_y"},
        auth=None,
    )
    assert wrong.status_code == 401
    # ... and its dialog's "Authorize test payment" finishes the payment.
    done = fake.json(
        "POST",
        f"/v1/payment_intents/{pi.id}/_authenticate",
        {"key": "pk_test_wallets", "client_secret": pi.client_secret, "success": "true"},
    )
    assert (done["status"], done["next_action"]) == ("succeeded", None)
    charge = sdk.v1.charges.retrieve(done["latest_charge"])
    assert charge.payment_method_details.type == "wechat_pay"
    assert charge.amount == 8800
    page = fake.call("GET", f"/wechat_pay/{pi.id}")
    assert "This payment is authorized." in page.text
    wait_for_types(webhooks, "payment_intent.requires_action", "payment_intent.succeeded")
    refund = sdk.v1.refunds.create({"payment_intent": pi.id})
    assert (refund.status, refund.amount) == ("succeeded", 8800)


def test_wechat_pay_failed_on_the_hosted_page(fake, sdk):
    pi = cny_intent(sdk)
    confirm_wechat(fake, pi)
    page = fake.call("POST", f"/wechat_pay/{pi.id}", {"action": "fail"})
    assert page.status_code == 200
    assert "not waiting for an authorization" in page.text
    pi = sdk.v1.payment_intents.retrieve(pi.id)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error.payment_method.type == "wechat_pay"


def test_confirm_refusals_leave_the_intent_unchanged(fake, sdk, card):
    pi = cny_intent(sdk, ["alipay"])
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.payment_intents.confirm(pi.id, {"payment_method": card("4242424242424242").id})
    assert caught.value.code == "payment_intent_invalid_parameter"
    assert "The PaymentMethod provided (card) is not allowed" in caught.value.user_message
    alipay = sdk.v1.payment_methods.create({"type": "alipay"})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.payment_intents.confirm(pi.id, {"payment_method": alipay.id})
    assert (caught.value.code, caught.value.param) == ("parameter_missing", "return_url")
    wechat_pi = cny_intent(sdk, ["wechat_pay"])
    wechat = sdk.v1.payment_methods.create({"type": "wechat_pay"})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.payment_intents.confirm(wechat_pi.id, {"payment_method": wechat.id})
    assert caught.value.param == "payment_method_options[wechat_pay][client]"
    for intent in (pi, wechat_pi):
        intent = sdk.v1.payment_intents.retrieve(intent.id)
        assert (intent.status, intent.payment_method) == ("requires_payment_method", None)
    # With what it needs, the SDK confirms server-side too.
    pi = sdk.v1.payment_intents.confirm(
        pi.id, {"payment_method": alipay.id, "return_url": RETURN_URL}
    )
    assert pi.next_action.alipay_handle_redirect.return_url == RETURN_URL
    wechat_pi = sdk.v1.payment_intents.confirm(
        wechat_pi.id,
        {"payment_method": wechat.id, "payment_method_options": {"wechat_pay": {"client": "web"}}},
    )
    assert wechat_pi.next_action.type == "wechat_pay_display_qr_code"


def test_a_wallet_intent_can_be_cancelled_while_it_waits(fake, sdk):
    pi = cny_intent(sdk)
    confirm_alipay(fake, pi)
    pi = sdk.v1.payment_intents.cancel(pi.id)
    assert (pi.status, pi.next_action) == ("canceled", None)
    page = fake.call("GET", f"/alipay/authorize/{pi.id}")
    assert "This payment was canceled." in page.text
    answer = fake.call(
        "POST", f"/alipay/authorize/{pi.id}", {"action": "authorize"}, allow_redirects=False
    )
    # No return_url in next_action any more: the redirect uses the one kept from confirm.
    assert "redirect_status=failed" in answer.headers["Location"]
    assert sdk.v1.payment_intents.retrieve(pi.id).status == "canceled"


def test_unknown_wallet_pages_are_404(fake, sdk):
    assert fake.call("GET", "/alipay/authorize/pi_nothing").status_code == 404
    card_only = sdk.v1.payment_intents.create({"amount": 500, "currency": "usd"})
    assert fake.call("GET", f"/wechat_pay/{card_only.id}").status_code == 404
