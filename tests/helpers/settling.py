"""Settlement stories: a movable clock, ready creators, pledges made for real, settling."""

from __future__ import annotations

from datetime import timedelta

from app import clock as app_clock
from app.extensions import db
from app.payments import gateway
from app.payouts.models import ConnectedAccount
from tests.helpers.pledging import new_backer, pay_through_pages


class Clock:
    """Replaces app.clock.now; tests move it forward."""

    def __init__(self) -> None:
        self.offset = timedelta()
        self._real = app_clock.now

    def now(self):
        return self._real() + self.offset

    def advance(self, **kwargs) -> None:
        self.offset += timedelta(**kwargs)

    def jump_past(self, moment, seconds: int = 1) -> None:
        self.offset = (moment - self._real()) + timedelta(seconds=seconds)


def ready_account(user, stripe_fake, complete: bool = True) -> ConnectedAccount:
    """A connected Express account at the fake Stripe, onboarding finished (or not)."""
    user_id, email = user.id, user.email
    db.session.commit()
    account = gateway().create_account(email=email, country="US", key=f"test-acct-{user_id}")
    if complete:  # the form sent, and Stripe's checks passed at once (not on a timer)
        for step in ("complete", "verify"):
            stripe_fake.http.post(
                f"{stripe_fake.url}/_config/accounts/{account.id}/{step}", timeout=10
            ).raise_for_status()
    row = ConnectedAccount(
        user_id=user_id,
        stripe_account_id=account.id,
        details_submitted=complete,
        charges_enabled=complete,
        payouts_enabled=complete,
    )
    db.session.add(row)
    db.session.commit()
    return row


def make_balance_available(stripe_fake) -> None:
    stripe_fake.http.post(
        f"{stripe_fake.url}/_config/balance/make_available", timeout=10
    ).raise_for_status()


def back(app, stripe_fake, target, amounts: list[str]) -> None:
    """One new backer per amount pledges it to ``target`` through the real pages."""
    for i, amount in enumerate(amounts):
        browser = new_backer(app, f"backer{i}@example.com", f"Backer {i}")
        pay_through_pages(browser, stripe_fake, target, amount=amount)


def settle(runner, *args: str):
    result = runner.invoke(args=["projects", "settle", *args])
    assert result.exit_code == 0, result.output
    return result.output
