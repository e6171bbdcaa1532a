"""Money as Stripe keeps it: fees per currency, pending until available_on, refunds keep the fee,
transfers with their own balance transactions, and /v1/balance the sum of it all."""

import time

import pytest
import requests

from tests.helpers.fakestripe import onboarded_account, server


def txn_of(sdk, charge_id):
    charge = sdk.v1.charges.retrieve(charge_id, {"expand": ["balance_transaction"]})
    return charge.balance_transaction


def books(sdk, currency="usd"):
    balance = sdk.v1.balance.retrieve()

    def amount(funds):
        return sum(f.amount for f in funds if f.currency == currency)

    return amount(balance.available), amount(balance.pending)


def sums_by_status(sdk, currency="usd"):
    txns = sdk.v1.balance_transactions.list({"limit": 100, "currency": currency}).data
    return (
        sum(t.net for t in txns if t.status == "available"),
        sum(t.net for t in txns if t.status == "pending"),
    )


@pytest.mark.parametrize(
    ("currency", "amount", "fee"),
    [
        ("usd", 10000, 290 + 30),  # 2.9 % + 30 cents
        ("usd", 1234, 36 + 30),  # 35.786 rounds to 36
        ("eur", 10000, 150 + 25),  # 1.5 % + 0.25 EUR
        ("gbp", 10000, 150 + 20),  # 1.5 % + 20p
        ("jpy", 10000, 360),  # 3.6 %, JPY has no minor unit
        ("cny", 10000, 290 + 200),  # 2.9 % + 2.00 CNY (an assumption)
        ("chf", 10000, 290 + 30),  # any other currency: the default rule
    ],
)
def test_a_charge_pays_the_schedules_fee(sdk, pay, currency, amount, fee):
    pi = pay(amount=amount, currency=currency)
    txn = txn_of(sdk, pi.latest_charge)
    assert (txn.type, txn.reporting_category, txn.amount, txn.fee, txn.net) == (
        "charge",
        "charge",
        amount,
        fee,
        amount - fee,
    )
    assert [d.to_dict() for d in txn.fee_details] == [
        {
            "amount": fee,
            "application": None,
            "currency": currency,
            "description": "Stripe processing fees",
            "type": "stripe_fee",
        }
    ]
    assert txn.source == pi.latest_charge
    assert books(sdk, currency) == (0, amount - fee)


def test_a_payment_intent_expands_its_charges_balance_transaction(sdk, pay):
    """Stripe expands nested paths: one call gives the intent, its charge and the fee."""
    pi = pay(amount=10000)
    got = sdk.v1.payment_intents.retrieve(pi.id, {"expand": ["latest_charge.balance_transaction"]})
    assert got.latest_charge.id == pi.latest_charge
    txn = got.latest_charge.balance_transaction
    assert (txn.object, txn.fee, txn.source) == ("balance_transaction", 320, pi.latest_charge)
    plain = sdk.v1.payment_intents.retrieve(pi.id, {"expand": ["latest_charge"]})
    assert isinstance(plain.latest_charge.balance_transaction, str)  # only when asked


def test_the_fee_schedule_is_configurable(fake, sdk, pay):
    fake.json("POST", "/_config/fees", {"usd[percent]": "1", "usd[fixed]": "5"})
    assert fake.json("GET", "/_config/fees")["usd"] == {"percent": "1", "fixed": 5, "dispute": 1500}
    assert txn_of(sdk, pay(amount=10000).latest_charge).fee == 105
    fake.json("POST", "/_config/fees", {"none": "true"})
    txn = txn_of(sdk, pay(amount=10000).latest_charge)
    assert (txn.fee, txn.fee_details, txn.net) == (0, [], 10000)
    fake.call("DELETE", "/_config/data")  # back to the schedule the server started with
    assert fake.json("GET", "/_config/fees")["usd"]["percent"] == "2.9"


def test_the_command_line_sets_fees_and_delays(tmp_path):
    options = ("--fees", "usd=1.2+10,jpy=3", "--available-after", "60")
    options += ("--refund-failure-after", "0.5")
    with server(tmp_path / "state", *options) as run:
        config = requests.get(run.url + "/_config/settings", timeout=10).json()
        # A reset keeps what the command line said.
        requests.delete(run.url + "/_config/data", timeout=10).raise_for_status()
        again = requests.get(run.url + "/_config/settings", timeout=10).json()
    assert config == again
    assert (config["available_after"], config["refund_failure_after"]) == (60, 0.5)
    assert config["fees"]["usd"] == {"percent": "1.2", "fixed": 10, "dispute": 1500}
    assert config["fees"]["jpy"] == {"percent": "3", "fixed": 0, "dispute": 1500}
    assert config["fees"]["eur"]["percent"] == "1.5"  # the others keep Stripe's prices
    with server(tmp_path / "state2", "--fees", "none") as run:
        fees = requests.get(run.url + "/_config/fees", timeout=10).json()
    assert fees == {"default": {"percent": "0", "fixed": 0, "dispute": 0}}


def test_funds_stay_pending_until_available_on(fake, sdk, pay):
    before = int(time.time())
    txn = txn_of(sdk, pay(amount=5000).latest_charge)
    assert txn.status == "pending"
    assert txn.available_on >= before + 2 * 24 * 3600  # Stripe's two days by default
    assert books(sdk) == (0, 4825)

    fake.json("POST", "/_config/settings", {"available_after": "0.5"})
    soon = txn_of(sdk, pay(amount=1000).latest_charge)
    assert soon.available_on <= time.time() + 2  # whole seconds, rounded up
    assert books(sdk) == (0, 4825 + 941)
    time.sleep(1.1)
    assert books(sdk) == (941, 4825)  # its time has come; the first charge's has not
    assert sdk.v1.balance_transactions.retrieve(soon.id).status == "available"
    assert sdk.v1.balance_transactions.retrieve(txn.id).status == "pending"
    assert sums_by_status(sdk) == books(sdk)


def test_make_available_still_moves_everything(fake, sdk, pay):
    first = txn_of(sdk, pay(amount=5000).latest_charge)
    pay(amount=700, currency="eur")
    fake.json("POST", "/_config/balance/make_available", {"currency": "usd"})
    assert books(sdk) == (4825, 0)
    assert books(sdk, "eur") == (0, 664)
    moved = sdk.v1.balance_transactions.retrieve(first.id)
    assert moved.status == "available" and moved.available_on <= time.time()
    assert sums_by_status(sdk) == books(sdk)
    assert sums_by_status(sdk, "eur") == books(sdk, "eur")


def test_a_refund_takes_back_the_gross_amount_and_the_fee_stays(fake, sdk, pay):
    pi = pay(amount=10000)
    fake.json("POST", "/_config/balance/make_available")
    assert books(sdk) == (9680, 0)
    refund = sdk.v1.refunds.create({"payment_intent": pi.id, "expand": ["balance_transaction"]})
    txn = refund.balance_transaction
    assert (txn.type, txn.reporting_category, txn.amount, txn.fee, txn.net, txn.status) == (
        "refund",
        "refund",
        -10000,
        0,
        -10000,
        "available",
    )
    assert txn.source == refund.id
    # All of the refund: the available 9680 and 320 more from pending (the fee Stripe kept).
    assert books(sdk) == (0, -320)
    # The balance moved the shortfall to pending; the transactions' nets add up all the same.
    assert sum(sums_by_status(sdk)) == sum(books(sdk))


def test_transfers_and_reversals_have_balance_transactions(fake, sdk, pay):
    account = onboarded_account(sdk, fake)
    pay(amount=10000)
    fake.json("POST", "/_config/balance/make_available")
    transfer = sdk.v1.transfers.create(
        {
            "amount": 6000,
            "currency": "usd",
            "destination": account.id,
            "expand": ["balance_transaction"],
        }
    )
    txn = transfer.balance_transaction
    assert (txn.type, txn.reporting_category, txn.amount, txn.fee, txn.net) == (
        "transfer",
        "transfer",
        -6000,
        0,
        -6000,
    )
    assert (txn.source, txn.status) == (transfer.id, "available")
    reversal = sdk.v1.transfers.reversals.create(transfer.id, {"amount": 1000})
    back = sdk.v1.balance_transactions.retrieve(reversal.balance_transaction)
    assert (back.type, back.reporting_category, back.amount, back.source) == (
        "transfer_refund",
        "transfer_reversal",
        1000,
        reversal.id,
    )
    assert books(sdk) == (9680 - 6000 + 1000, 0)
    assert sums_by_status(sdk) == books(sdk)
    listed = sdk.v1.balance_transactions.list({"type": "transfer"}).data
    assert [t.id for t in listed] == [txn.id]
