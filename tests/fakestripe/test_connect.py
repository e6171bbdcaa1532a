"""Connect and balance: Express accounts, onboarding links, transfers, reversals, funds."""

import time

import pytest
import stripe

from tests.helpers.fakestripe import express_account, onboarded_account

RETURN_URL = "http://127.0.0.1:5000/creator/stripe/return"
REFRESH_URL = "http://127.0.0.1:5000/creator/stripe/refresh"


def slow_checks(fake, seconds=3600):
    """Stripe's checks take this long, unless /verify ends them."""
    fake.json("POST", "/_config/settings", {"verification_after": seconds})


def of_type(events, type_):
    return [e for e in events if e["type"] == type_]


def balance(sdk, currency="usd"):
    """(available, pending) for one currency."""
    b = sdk.v1.balance.retrieve()
    available = {f.currency: f.amount for f in b.available}
    pending = {f.currency: f.amount for f in b.pending}
    return available.get(currency, 0), pending.get(currency, 0)


def test_express_account_and_onboarding_through_the_page(sdk, fake):
    slow_checks(fake)
    account = express_account(sdk)
    assert account.id.startswith("acct_") and account.type == "express"
    assert (account.charges_enabled, account.payouts_enabled, account.details_submitted) == (
        False,
        False,
        False,
    )
    assert account.capabilities.to_dict() == {"card_payments": "inactive", "transfers": "inactive"}
    assert sdk.v1.accounts.retrieve(account.id).email == "creator@example.com"
    assert [a.id for a in sdk.v1.accounts.list().data] == [account.id]

    link = sdk.v1.account_links.create(
        {
            "account": account.id,
            "refresh_url": REFRESH_URL,
            "return_url": RETURN_URL,
            "type": "account_onboarding",
        }
    )
    assert link.object == "account_link" and link.expires_at > link.created
    assert link.url.startswith(fake.url + "/connect/onboarding/")

    page = fake.http.get(link.url, timeout=10)
    assert page.status_code == 200 and "Complete onboarding" in page.text
    assert "individual.dob.day" in page.text  # what Stripe asks for
    done = fake.http.post(link.url, {"action": "complete"}, allow_redirects=False, timeout=10)
    assert (done.status_code, done.headers["Location"]) == (302, RETURN_URL)

    # Onboarding now comes in stages (it used to enable everything at once): first the
    # details are submitted and Stripe checks them ...
    account = sdk.v1.accounts.retrieve(account.id)
    assert (account.charges_enabled, account.payouts_enabled, account.details_submitted) == (
        False,
        False,
        True,
    )
    assert account.capabilities.transfers == "pending"
    assert account.requirements.currently_due == []
    assert "individual.dob.day" in account.requirements.pending_verification

    # ... then the checks pass.
    fake.json("POST", f"/_config/accounts/{account.id}/verify")
    account = sdk.v1.accounts.retrieve(account.id)
    assert (account.charges_enabled, account.payouts_enabled, account.details_submitted) == (
        True,
        True,
        True,
    )
    assert account.capabilities.transfers == "active"
    assert account.requirements.pending_verification == []
    assert account.requirements.disabled_reason is None

    # Links are single use: a second visit goes to refresh_url, as on Stripe.
    again = fake.http.get(link.url, allow_redirects=False, timeout=10)
    assert (again.status_code, again.headers["Location"]) == (302, REFRESH_URL)


def test_leaving_onboarding_early_changes_nothing(sdk, fake):
    account = express_account(sdk)
    link = sdk.v1.account_links.create(
        {
            "account": account.id,
            "refresh_url": REFRESH_URL,
            "return_url": RETURN_URL,
            "type": "account_onboarding",
        }
    )
    done = fake.http.post(link.url, {"action": "later"}, allow_redirects=False, timeout=10)
    assert (done.status_code, done.headers["Location"]) == (302, RETURN_URL)
    assert sdk.v1.accounts.retrieve(account.id).details_submitted is False


def test_account_link_needs_an_existing_account(sdk):
    with pytest.raises(stripe.InvalidRequestError):
        sdk.v1.account_links.create(
            {
                "account": "acct_missing",
                "refresh_url": REFRESH_URL,
                "return_url": RETURN_URL,
                "type": "account_onboarding",
            }
        )


def test_transfers_and_reversals(sdk, fake):
    account = onboarded_account(sdk, fake)
    fake.json("POST", "/_config/balance", {"available[usd]": 5000})

    transfer = sdk.v1.transfers.create(
        {
            "amount": 3000,
            "currency": "usd",
            "destination": account.id,
            "transfer_group": "project_7",
            "metadata": {"payout_id": "3"},
        }
    )
    assert transfer.id.startswith("tr_") and transfer.destination == account.id
    assert (transfer.amount_reversed, transfer.reversed) == (0, False)
    assert sdk.v1.transfers.retrieve(transfer.id).metadata.payout_id == "3"
    sdk.v1.transfers.create({"amount": 500, "currency": "usd", "destination": account.id})
    assert balance(sdk) == (1500, 0)

    by_group = sdk.v1.transfers.list({"transfer_group": "project_7"}).data
    assert [t.id for t in by_group] == [transfer.id]
    assert len(sdk.v1.transfers.list({"destination": account.id}).data) == 2
    assert sdk.v1.transfers.list({"transfer_group": "other"}).data == []

    reversal = sdk.v1.transfers.reversals.create(transfer.id, {"amount": 1000})
    assert (reversal.object, reversal.amount, reversal.transfer) == (
        "transfer_reversal",
        1000,
        transfer.id,
    )
    transfer = sdk.v1.transfers.retrieve(transfer.id)
    assert (transfer.amount_reversed, transfer.reversed) == (1000, False)
    assert balance(sdk) == (2500, 0)

    sdk.v1.transfers.reversals.create(transfer.id)
    transfer = sdk.v1.transfers.retrieve(transfer.id)
    assert (transfer.amount_reversed, transfer.reversed) == (3000, True)
    assert len(sdk.v1.transfers.reversals.list(transfer.id).data) == 2
    with pytest.raises(stripe.InvalidRequestError):
        sdk.v1.transfers.reversals.create(transfer.id)


def test_transfer_to_an_account_not_onboarded_fails(sdk, fake):
    account = express_account(sdk)
    fake.json("POST", "/_config/balance", {"available[usd]": 5000})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.transfers.create({"amount": 100, "currency": "usd", "destination": account.id})
    assert caught.value.code == "insufficient_capabilities_for_transfer"
    with pytest.raises(stripe.InvalidRequestError):
        sdk.v1.transfers.create({"amount": 100, "currency": "usd", "destination": "acct_nope"})
    assert balance(sdk) == (5000, 0)


def test_balance_follows_charges_refunds_and_transfers(sdk, fake, pay):
    account = onboarded_account(sdk, fake)
    pi = pay(amount=5000)
    pay(amount=700, currency="eur")
    # Net of Stripe's fees: 5000 - (2.9 % + 30) = 4825; 700 - (1.5 % + 25) = 664.
    assert balance(sdk) == (0, 4825)
    assert balance(sdk, "eur") == (0, 664)

    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.transfers.create({"amount": 1000, "currency": "usd", "destination": account.id})
    error = caught.value
    assert (error.http_status, error.code, error.error.type) == (
        400,
        "balance_insufficient",
        "invalid_request_error",
    )
    assert error.user_message.startswith("You have insufficient available funds")

    fake.json("POST", "/_config/balance/make_available", {"currency": "usd"})
    assert balance(sdk) == (4825, 0)
    assert balance(sdk, "eur") == (0, 664)
    sdk.v1.transfers.create({"amount": 1000, "currency": "usd", "destination": account.id})
    assert balance(sdk) == (3825, 0)
    sdk.v1.refunds.create({"payment_intent": pi.id, "amount": 1000})  # the fee is not returned
    assert balance(sdk) == (2825, 0)

    fake.json("POST", "/_config/balance/make_available")
    assert balance(sdk, "eur") == (664, 0)
    fake.json("POST", "/_config/balance", {"available[usd]": 0, "pending[usd]": 250})
    assert balance(sdk) == (0, 250)


# ---- onboarding in stages -------------------------------------------------------------------


def test_a_new_account_lists_what_is_due(sdk):
    account = express_account(sdk)
    req = account.requirements
    for field in ("business_type", "external_account", "individual.dob.day", "tos_acceptance.ip"):
        assert field in req.currently_due
    assert req.past_due == req.currently_due == req.eventually_due
    assert (req.pending_verification, req.errors, req.current_deadline) == ([], [], None)
    assert req.disabled_reason == "requirements.past_due"
    assert "individual.ssn_last_4" in req.currently_due
    german = sdk.v1.accounts.create({"type": "express", "country": "DE"})
    assert "individual.id_number" in german.requirements.currently_due
    assert "individual.ssn_last_4" not in german.requirements.currently_due


def test_details_submitted_then_verified_with_events(sdk, fake, webhooks):
    slow_checks(fake)
    account = express_account(sdk)
    submitted = fake.json("POST", f"/_config/accounts/{account.id}/complete")
    assert submitted["details_submitted"] is True
    assert (submitted["charges_enabled"], submitted["payouts_enabled"]) == (False, False)
    assert submitted["capabilities"] == {"card_payments": "pending", "transfers": "pending"}
    req = submitted["requirements"]
    assert req["currently_due"] == req["past_due"] == req["eventually_due"] == []
    assert "external_account" in req["pending_verification"]
    assert "individual.dob.day" in req["pending_verification"]
    assert "tos_acceptance.date" not in req["pending_verification"]  # accepted at once
    assert req["disabled_reason"] == "requirements.pending_verification"

    events = webhooks.wait_for(lambda events: len(of_type(events, "account.updated")) >= 1)
    (first,) = of_type(events, "account.updated")
    previous = first["data"]["previous_attributes"]
    assert previous["details_submitted"] is False
    assert "business_type" in previous["requirements"]["currently_due"]
    assert previous["capabilities"] == {"card_payments": "inactive", "transfers": "inactive"}
    assert "charges_enabled" not in previous and "payouts_enabled" not in previous
    assert of_type(events, "capability.updated") == []

    verified = fake.json("POST", f"/_config/accounts/{account.id}/verify")
    assert (verified["charges_enabled"], verified["payouts_enabled"]) == (True, True)
    assert verified["capabilities"] == {"card_payments": "active", "transfers": "active"}
    assert verified["requirements"]["pending_verification"] == []
    assert verified["requirements"]["disabled_reason"] is None

    events = webhooks.wait_for(
        lambda events: (
            len(of_type(events, "account.updated")) >= 2
            and len(of_type(events, "capability.updated")) >= 2
        )
    )
    capabilities = {e["data"]["object"]["id"]: e["data"]["object"] for e in events
                    if e["type"] == "capability.updated"}  # fmt: skip
    assert set(capabilities) == {"card_payments", "transfers"}
    for capability in capabilities.values():
        assert (capability["object"], capability["account"]) == ("capability", account.id)
        assert (capability["status"], capability["requested"]) == ("active", True)
        assert capability["requirements"]["currently_due"] == []
    second = of_type(events, "account.updated")[1]["data"]["previous_attributes"]
    assert (second["charges_enabled"], second["payouts_enabled"]) == (False, False)
    assert second["capabilities"] == {"card_payments": "pending", "transfers": "pending"}
    assert "individual.dob.day" in second["requirements"]["pending_verification"]

    # Verifying or completing again changes nothing and sends nothing.
    fake.json("POST", f"/_config/accounts/{account.id}/verify")
    fake.json("POST", f"/_config/accounts/{account.id}/complete")
    assert len(sdk.v1.events.list({"type": "account.updated"}).data) == 2


def test_checks_end_by_themselves_after_verification_after(sdk, fake, webhooks):
    assert fake.json("GET", "/_config/settings")["verification_after"] == 5.0  # the default
    slow_checks(fake, 0.5)
    account = express_account(sdk)
    fake.json("POST", f"/_config/accounts/{account.id}/complete")
    assert sdk.v1.accounts.retrieve(account.id).payouts_enabled is False
    events = webhooks.wait_for(lambda events: len(of_type(events, "capability.updated")) == 2)
    assert sdk.v1.accounts.retrieve(account.id).payouts_enabled is True
    assert len(of_type(events, "account.updated")) >= 1


def test_capabilities_can_be_read(sdk, fake):
    account = express_account(sdk)
    listed = fake.json("GET", f"/v1/accounts/{account.id}/capabilities")
    assert [c["id"] for c in listed["data"]] == ["card_payments", "transfers"]
    one = fake.json("GET", f"/v1/accounts/{account.id}/capabilities/transfers")
    assert (one["status"], one["account"]) == ("inactive", account.id)
    assert "external_account" in one["requirements"]["currently_due"]
    missing = fake.call("GET", f"/v1/accounts/{account.id}/capabilities/us_bank_account_ach")
    assert missing.status_code == 404


def test_a_field_due_again_by_a_deadline_keeps_the_account_enabled(sdk, fake):
    account = onboarded_account(sdk, fake)
    due = fake.json(
        "POST", f"/_config/accounts/{account.id}/require", {"fields[]": ["individual.id_number"]}
    )
    req = due["requirements"]
    assert req["currently_due"] == req["eventually_due"] == ["individual.id_number"]
    assert req["past_due"] == [] and req["disabled_reason"] is None
    assert req["current_deadline"] > time.time() + 13 * 24 * 3600
    assert (due["charges_enabled"], due["payouts_enabled"]) == (True, True)


def test_a_past_due_field_disables_the_account_until_it_is_given_and_checked(sdk, fake, webhooks):
    slow_checks(fake)
    account = onboarded_account(sdk, fake)
    disabled = fake.json(
        "POST",
        f"/_config/accounts/{account.id}/require",
        {
            "fields": "external_account",
            "past_due": "true",
            "reason": "The bank account could not be verified.",
        },
    )
    req = disabled["requirements"]
    assert req["currently_due"] == req["past_due"] == ["external_account"]
    assert req["disabled_reason"] == "requirements.past_due"
    assert req["errors"] == [
        {
            "code": "verification_failed_other",
            "reason": "The bank account could not be verified.",
            "requirement": "external_account",
        }
    ]
    assert (disabled["charges_enabled"], disabled["payouts_enabled"]) == (False, False)
    assert disabled["capabilities"]["transfers"] == "inactive"
    assert disabled["details_submitted"] is True
    fake.json("POST", "/_config/balance", {"available[usd]": 5000})
    with pytest.raises(stripe.InvalidRequestError):
        sdk.v1.transfers.create({"amount": 100, "currency": "usd", "destination": account.id})

    submitted = fake.json("POST", f"/_config/accounts/{account.id}/complete")
    assert submitted["requirements"]["pending_verification"] == ["external_account"]
    assert submitted["requirements"]["errors"] == []
    assert submitted["capabilities"]["transfers"] == "pending"
    assert fake.json("POST", f"/_config/accounts/{account.id}/verify")["payouts_enabled"]

    webhooks.wait_for(lambda events: len(of_type(events, "capability.updated")) >= 6)
    made = reversed(sdk.v1.events.list({"type": "capability.updated"}).data)  # as made
    statuses = [e.data.object.status for e in made]
    assert statuses == ["active", "active", "inactive", "inactive", "active", "active"]


def test_control_endpoints_refuse_unknown_accounts_and_missing_fields(sdk, fake):
    for action in ("complete", "verify", "require"):
        assert fake.call("POST", f"/_config/accounts/acct_nope/{action}").status_code == 404
    account = express_account(sdk)
    assert fake.call("POST", f"/_config/accounts/{account.id}/require").status_code == 400
