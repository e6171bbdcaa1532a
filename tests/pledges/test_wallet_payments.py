"""Alipay and WeChat Pay for CNY projects: the PaymentIntent allows them beside the card, the
pay page offers the choice, and the return page books what Stripe says (never what the
redirect's query string claims)."""

from urllib.parse import urlsplit

import pytest

from app.extensions import db
from app.ledger import services as ledger
from app.pledges import checkout
from app.projects.models import Project
from tests.helpers import gen_project
from tests.helpers.pledging import assert_books_balance, latest_pledge, open_payment_of, start

NOT_COMPLETED = "The Alipay payment was not completed, so nothing was charged."


@pytest.fixture
def cny_project(creator):
    return gen_project(creator, "live", goal=1_000_000, currency="CNY", tiers=2)


def created_intent_params(stripe_fake):
    creates = [
        r
        for r in stripe_fake.requests("/v1/payment_intents", "POST")
        if r["path"] == "/v1/payment_intents"
    ]
    assert len(creates) == 1
    return creates[0]["params"]


def begin(backer, project, amount="25"):
    response = start(backer, project, amount=amount)
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    pledge = latest_pledge()
    return pledge, open_payment_of(pledge.id)


def confirm_with(stripe_fake, payment, kind, return_url=None):
    """What Stripe.js's confirmAlipayPayment / confirmWechatPayPayment send."""
    data = {
        "key": "pk_test_offline",
        "client_secret": payment.client_secret,
        "payment_method_data[type]": kind,
    }
    if kind == "alipay":
        data["return_url"] = return_url
    else:
        data["payment_method_options[wechat_pay][client]"] = "web"
    response = stripe_fake.http.post(
        f"{stripe_fake.url}/v1/payment_intents/{payment.stripe_payment_intent_id}/confirm",
        data=data,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def alipay_round_trip(backer, stripe_fake, pledge, payment, action):
    """Confirm with Alipay, choose on the fake's Alipay page, follow it back to our return
    page; the answer of our return page."""
    return_url = f"http://localhost/pledges/{pledge.id}/complete"
    intent = confirm_with(stripe_fake, payment, "alipay", return_url)
    assert intent["next_action"]["type"] == "alipay_handle_redirect"
    page_url = intent["next_action"]["alipay_handle_redirect"]["url"]
    answer = stripe_fake.http.post(
        page_url, data={"action": action}, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302
    back = urlsplit(answer.headers["Location"])
    assert back.path == f"/pledges/{pledge.id}/complete"
    return backer.client.get(f"{back.path}?{back.query}", follow_redirects=True)


def test_a_cny_pledge_allows_card_alipay_and_wechat_pay(app, backer, cny_project, stripe_fake):
    pledge, payment = begin(backer, cny_project)
    assert payment.currency == "CNY"
    params = created_intent_params(stripe_fake)
    assert params["currency"] == "cny"
    assert params["payment_method_types"] == ["card", "alipay", "wechat_pay"]
    page = backer.client.get(f"/pledges/{pledge.id}/pay").get_data(as_text=True)
    assert "<legend" in page and "Pay with" in page
    for kind, label in (("card", "Card"), ("alipay", "Alipay"), ("wechat_pay", "WeChat Pay")):
        assert f'id="method-{kind}"' in page
        assert f'for="method-{kind}"' in page
        assert f">{label}</span>" in page
    assert 'value="card" aria-describedby="method-card-hint" checked' in page


def test_other_currencies_stay_card_only(app, backer, project, stripe_fake):
    pledge, _ = begin(backer, project)
    assert created_intent_params(stripe_fake)["payment_method_types"] == ["card"]
    page = backer.client.get(f"/pledges/{pledge.id}/pay").get_data(as_text=True)
    assert "Pay with" not in page and 'id="method-alipay"' not in page
    assert '<input type="hidden" name="payment_method" value="card">' in page
    assert "Card details go straight to our payment provider" in page


def test_the_return_page_books_an_authorized_alipay_payment(app, backer, cny_project, stripe_fake):
    pledge, payment = begin(backer, cny_project, amount="88")
    done = alipay_round_trip(backer, stripe_fake, pledge, payment, "authorize")
    assert "Your pledge is in." in done.get_data(as_text=True)
    pledge = latest_pledge()
    assert pledge.status.value == "held"
    payment = open_payment_of(pledge.id)
    assert payment.status.value == "succeeded" and payment.stripe_charge_id
    project = db.session.get(Project, cny_project.id)
    assert (project.pledged_amount, project.backer_count) == (8800, 1)
    assert ledger.balance(ledger.escrow(project.id)) == 8800
    assert_books_balance()
    charge = stripe_fake.http.get(
        f"{stripe_fake.url}/v1/charges/{payment.stripe_charge_id}",
        auth=("sk_test_offline", ""),
        timeout=10,
    ).json()
    assert charge["payment_method_details"]["type"] == "alipay"
    # Coming back again (a reload) counts nothing twice.
    backer.client.get(f"/pledges/{pledge.id}/complete")
    db.session.refresh(project)
    assert project.pledged_amount == 8800


def test_a_failed_alipay_payment_leaves_the_pledge_payable(app, backer, cny_project, stripe_fake):
    pledge, payment = begin(backer, cny_project)
    done = alipay_round_trip(backer, stripe_fake, pledge, payment, "fail")
    body = done.get_data(as_text=True)
    assert NOT_COMPLETED in body
    assert 'id="payment-form"' in body  # back on the pay page, which offers the choice again
    assert latest_pledge().status.value == "pending"
    payment = open_payment_of(pledge.id)
    assert payment.status.value == "pending"
    assert payment.failure_message.startswith(NOT_COMPLETED)
    # The backer then pays by card instead.
    stripe_fake.pay(payment.stripe_payment_intent_id, "pm_card_visa")
    done = backer.client.get(f"/pledges/{pledge.id}/complete", follow_redirects=True)
    assert "Your pledge is in." in done.get_data(as_text=True)
    assert latest_pledge().status.value == "held"
    assert_books_balance()


def test_wechat_pay_authorized_in_the_dialog_is_held(app, backer, cny_project, stripe_fake):
    pledge, payment = begin(backer, cny_project)
    intent = confirm_with(stripe_fake, payment, "wechat_pay")
    assert intent["next_action"]["type"] == "wechat_pay_display_qr_code"
    stripe_fake.authenticate(payment.stripe_payment_intent_id, payment.client_secret, True)
    done = backer.client.get(f"/pledges/{pledge.id}/complete", follow_redirects=True)
    assert "Your pledge is in." in done.get_data(as_text=True)
    assert latest_pledge().status.value == "held"
    assert_books_balance()


def test_a_failed_wallet_payment_webhook_says_what_happened(app, backer, cny_project, stripe_fake):
    pledge, payment = begin(backer, cny_project)
    event = {
        "id": payment.stripe_payment_intent_id,
        "object": "payment_intent",
        "status": "requires_payment_method",
        "last_payment_error": {
            "type": "invalid_request_error",
            "code": "payment_intent_payment_attempt_failed",
            "message": "The latest payment attempt of this PaymentIntent has failed.",
            "payment_method": {"id": "pm_1", "object": "payment_method", "type": "wechat_pay"},
        },
    }
    assert checkout.handle_event("evt_wechat_failed", "payment_intent.payment_failed", event)
    payment = open_payment_of(pledge.id)
    assert payment.failure_message.startswith(
        "The WeChat Pay payment was not completed, so nothing was charged."
    )
    assert latest_pledge().status.value == "pending"
