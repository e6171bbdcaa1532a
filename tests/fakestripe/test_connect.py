"""Connect and balance: Express accounts, onboarding links, transfers, reversals, funds."""

import pytest
import stripe

RETURN_URL = "http://127.0.0.1:5000/creator/stripe/return"
REFRESH_URL = "http://127.0.0.1:5000/creator/stripe/refresh"


def express_account(sdk, email="creator@example.com"):
    return sdk.v1.accounts.create(
        {
            "type": "express",
            "country": "US",
            "email": email,
            "capabilities": {
                "card_payments": {"requested": True},
                "transfers": {"requested": True},
            },
        }
    )


def onboarded_account(sdk, fake):
    account = express_account(sdk)
    fake.json("POST", f"/_config/accounts/{account.id}/complete")
    return account


def balance(sdk, currency="usd"):
    """(available, pending) for one currency."""
    b = sdk.v1.balance.retrieve()
    available = {f.currency: f.amount for f in b.available}
    pending = {f.currency: f.amount for f in b.pending}
    return available.get(currency, 0), pending.get(currency, 0)


def test_express_account_and_onboarding_through_the_page(sdk, fake):
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
    done = fake.http.post(link.url, {"action": "complete"}, allow_redirects=False, timeout=10)
    assert (done.status_code, done.headers["Location"]) == (302, RETURN_URL)

    account = sdk.v1.accounts.retrieve(account.id)
    assert (account.charges_enabled, account.payouts_enabled, account.details_submitted) == (
        True,
        True,
        True,
    )
    assert account.capabilities.transfers == "active"
    assert account.requirements.currently_due == []

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
