"""Pledge stories: backers, and pledging and paying through the real pages as a browser would."""

from __future__ import annotations

from sqlalchemy import select

from app.audit import books
from app.extensions import db
from app.pledges.models import Payment, Pledge
from tests.helpers import Browser, gen_user


def new_backer(app, email="bea@example.com", name="Bea"):
    gen_user(email, name)
    browser = Browser(app.test_client())
    browser.login(email)
    return browser


def start(browser, project, tier=None, amount="25", country=None):
    tier = tier or project.tiers[0]
    fields = {"tier_id": str(tier.id), "amount": amount}
    if country:
        fields["shipping_country"] = country
    return browser.submit(f"/projects/{project.id}/back", fields)


def open_payment_of(pledge_id: int) -> Payment:
    db.session.expire_all()
    return db.session.scalars(
        select(Payment).where(Payment.pledge_id == pledge_id).order_by(Payment.id.desc())
    ).first()


def latest_pledge() -> Pledge:
    db.session.expire_all()
    return db.session.scalars(select(Pledge).order_by(Pledge.id.desc())).first()


def pay_through_pages(browser, stripe_fake, project, card="pm_card_visa", **kwargs):
    """Pledge form, then the card (as Stripe.js would), then the return page."""
    response = start(browser, project, **kwargs)
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    pledge = latest_pledge()
    payment = open_payment_of(pledge.id)
    stripe_fake.pay(payment.stripe_payment_intent_id, card)
    done = browser.client.get(f"/pledges/{pledge.id}/complete", follow_redirects=True)
    return pledge, done


def assert_books_balance():
    assert books.check() == []
