"""Express onboarding in stages: what is due, Stripe checking, ready; the creator sees each.

The fake Stripe sends the events a real account would (``account.updated`` when the details
are sent, ``capability.updated`` and ``account.updated`` when Stripe's checks pass); each test
delivers them, signed, to the platform's webhook as Stripe would.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.extensions import db
from app.payouts import services
from app.payouts.models import ConnectedAccount
from app.payouts.services import PayoutStatus
from tests.helpers import Browser, gen_user
from tests.helpers.payouts import ACCOUNT, CONNECT, RETURN, connect, onboard, text
from tests.helpers.webhooks import post, signed

MINE = "/my/projects"


@pytest.fixture
def cora(app, stripe_fake) -> Browser:
    gen_user("cora@example.com", "Cora")
    browser = Browser(app.test_client())
    browser.login("cora@example.com")
    # Stripe's checks end when a test says so (POST .../verify), never on a timer.
    stripe_fake.http.post(
        f"{stripe_fake.url}/_config/settings", data={"verification_after": 3600}, timeout=10
    ).raise_for_status()
    return browser


def the_account() -> ConnectedAccount:
    db.session.expire_all()
    return db.session.scalars(select(ConnectedAccount)).one()


def control(stripe_fake, action: str, **data) -> dict:
    """POST /_config/accounts/<id>/<action> at the fake Stripe."""
    response = stripe_fake.http.post(
        f"{stripe_fake.url}/_config/accounts/{the_account().stripe_account_id}/{action}",
        data=data,
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def deliver_new_events(app, browser: Browser, stripe_fake, seen: set[str]) -> list[str]:
    """Send the fake's events not yet delivered to the platform's webhook, oldest first."""
    types = []
    for event in reversed(stripe_fake.events()):
        if event["id"] in seen or not event["type"].startswith(("account.", "capability.")):
            continue
        seen.add(event["id"])
        answer = post(browser.client, *signed(app, event))
        assert answer.status_code == 200 and answer.json["result"] == "ok", answer.json
        types.append(event["type"])
    return types


def test_a_new_account_shows_what_stripe_needs_in_plain_words(app, cora, stripe_fake):
    connect(cora)
    account = the_account()
    assert "individual.dob.day" in account.requirements_due
    assert account.disabled_reason == "requirements.past_due"
    assert services.status_of(account) is PayoutStatus.INCOMPLETE

    page = text(cora, ACCOUNT)
    assert "Onboarding not finished" in page and "Still needed:" in page
    for label in ("Bank account for payouts", "Date of birth", "Home address", "Legal name"):
        assert f"<li>{label}</li>" in page
    assert page.count("<li>Date of birth</li>") == 1  # day, month and year: one line
    assert "individual.dob" not in page and "external_account" not in page
    assert "Continue onboarding" in page
    assert "Onboarding not finished" in text(cora, MINE)


def test_the_stages_follow_the_webhooks(app, cora, stripe_fake):
    seen: set[str] = set()
    link_url = connect(cora).headers["Location"]
    deliver_new_events(app, cora, stripe_fake, seen)  # none yet: creating sends nothing

    # The creator sends the form on Stripe's page; Stripe starts its checks.
    onboard(link_url, "complete")
    assert deliver_new_events(app, cora, stripe_fake, seen) == ["account.updated"]
    account = the_account()
    assert account.details_submitted and not account.payouts_enabled
    assert account.requirements_due == []
    assert "external_account" in account.pending_verification
    assert account.disabled_reason == "requirements.pending_verification"
    assert account.capabilities == {"transfers": "pending"}
    page = text(cora, ACCOUNT)
    assert "Stripe is checking your details" in page
    assert "you do not need to do anything" in page
    assert "<li>Bank account for payouts</li>" in page and "<li>Date of birth</li>" in page
    assert "Continue onboarding" not in page and "Still needed" not in page
    assert "Stripe is checking your details" in text(cora, MINE)

    # The person comes back from Stripe before the checks end: they are told so.
    back = text(cora, RETURN)
    assert "Stripe has your details and is checking them" in back
    assert services.status_of(the_account()) is PayoutStatus.VERIFYING

    # Stripe's checks pass: a capability.updated, then account.updated.
    control(stripe_fake, "verify")
    assert deliver_new_events(app, cora, stripe_fake, seen) == [
        "capability.updated",
        "account.updated",
    ]
    account = the_account()
    assert account.ready and account.charges_enabled
    assert account.capabilities == {"transfers": "active"}
    assert (account.pending_verification, account.disabled_reason) == ([], "")
    page = text(cora, ACCOUNT)
    assert "Ready for payouts" in page and "Continue onboarding" not in page
    assert "Stripe is checking" not in page
    assert "Payouts ready" in text(cora, MINE)


def test_a_capability_event_alone_records_the_capability(app, cora, stripe_fake):
    connect(cora)
    control(stripe_fake, "complete")
    control(stripe_fake, "verify")
    (capability,) = [e for e in stripe_fake.events() if e["type"] == "capability.updated"]
    assert post(cora.client, *signed(app, capability)).json["result"] == "ok"
    account = the_account()
    assert account.capabilities == {"transfers": "active"}
    assert account.ready  # the account is read again from Stripe: its flags come along

    stray = {**capability, "id": "evt_stray"}
    stray["data"] = {"object": {**capability["data"]["object"], "account": "acct_not_ours"}}
    assert post(cora.client, *signed(app, stray)).json["result"] == "unknown account"
    broken = {**capability, "id": "evt_broken"}
    broken["data"] = {"object": {"object": "capability", "account": account.stripe_account_id}}
    assert post(cora.client, *signed(app, broken)).json["result"] == "malformed"
    assert the_account().capabilities == {"transfers": "active"}


def test_an_old_event_arriving_last_does_not_undo_onboarding(app, cora, stripe_fake):
    """Stripe does not promise the order of events: the first account.updated (details not
    yet checked) delivered after the account became ready leaves it ready."""
    onboard(connect(cora).headers["Location"], "complete")
    control(stripe_fake, "verify")
    events = [e for e in reversed(stripe_fake.events()) if e["type"] == "account.updated"]
    first, last = events[0], events[-1]
    assert not first["data"]["object"]["payouts_enabled"]
    assert post(cora.client, *signed(app, last)).json["result"] == "ok"
    assert the_account().ready
    assert post(cora.client, *signed(app, first)).json["result"] == "ok"
    assert the_account().ready and the_account().pending_verification == []
    assert "Ready for payouts" in text(cora, ACCOUNT)


def test_stripe_unreachable_while_handling_makes_stripe_deliver_again(app, cora, stripe_fake):
    onboard(connect(cora).headers["Location"], "complete")
    control(stripe_fake, "verify")
    (event, *_) = [e for e in stripe_fake.events() if e["type"] == "account.updated"]
    stripe_fake.fault("/v1/accounts/", status=500, count=1, method="GET")
    answer = post(cora.client, *signed(app, event))
    assert answer.status_code == 503  # Stripe retries a 5xx with backoff
    assert not the_account().ready
    again = post(cora.client, *signed(app, event))  # the retry is handled in full
    assert again.status_code == 200 and again.json["result"] == "ok"
    assert the_account().ready


def test_stripe_asking_again_pauses_payouts_and_lists_it(app, cora, stripe_fake):
    seen: set[str] = set()
    connect(cora)
    control(stripe_fake, "complete")
    control(stripe_fake, "verify")
    deliver_new_events(app, cora, stripe_fake, seen)
    assert the_account().ready

    control(
        stripe_fake,
        "require",
        fields="external_account",
        past_due="true",
        reason="The bank account could not be verified.",
    )
    deliver_new_events(app, cora, stripe_fake, seen)
    account = the_account()
    assert not account.ready and account.requirements_due == ["external_account"]
    assert account.disabled_reason == "requirements.past_due"
    page = text(cora, ACCOUNT)
    assert "Stripe needs more details" in page and "paused until you send these details" in page
    assert "<li>Bank account for payouts</li>" in page and "Continue onboarding" in page
    mine = text(cora, MINE)
    assert "Stripe needs more details before it can pay you" in mine
    assert "Onboarding not finished" not in mine and "Continue onboarding" in mine

    # "Continue onboarding" gives a fresh link; sending it starts the checks again.
    link_url = cora.submit(ACCOUNT, action=CONNECT).headers["Location"]
    assert urlsplit(onboard(link_url, "complete")).path == RETURN
    deliver_new_events(app, cora, stripe_fake, seen)
    assert "Stripe is checking your details" in text(cora, ACCOUNT)
    control(stripe_fake, "verify")
    deliver_new_events(app, cora, stripe_fake, seen)
    assert "Ready for payouts" in text(cora, ACCOUNT)


def test_details_due_later_keep_payouts_on_and_say_what_is_needed(app, cora, stripe_fake):
    seen: set[str] = set()
    connect(cora)
    control(stripe_fake, "complete")
    control(stripe_fake, "verify")
    control(stripe_fake, "require", fields="individual.id_number")
    deliver_new_events(app, cora, stripe_fake, seen)
    account = the_account()
    assert account.ready and account.requirements_due == ["individual.id_number"]
    page = text(cora, ACCOUNT)
    assert "Ready for payouts" in page
    assert "Stripe will soon need more details" in page
    assert "<li>Government ID number</li>" in page and "Continue onboarding" in page


def test_unknown_fields_still_read_as_words():
    assert services.describe(["individual.dob.day", "individual.dob.year"]) == ["Date of birth"]
    assert services.describe(["company.structure", "settings.payments.statement_descriptor"]) == [
        "Structure",
        "Statement descriptor",
    ]
