"""The ledger: double entry, append only, and a check that finds every disagreement."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.ledger import services as ledger
from app.ledger.models import LedgerEntry, LedgerIsAppendOnly, LedgerTransaction
from app.ledger.services import Transfer
from app.payments.gateway import TransactionOpen
from tests.helpers.pledging import pay_through_pages


@pytest.fixture
def held(app, backer, project, stripe_fake):
    pledge, _ = pay_through_pages(backer, stripe_fake, project, amount="25")
    return pledge


def test_ledger_check_command_passes_on_sound_books(held, runner):
    result = runner.invoke(args=["ledger", "check"])
    assert result.exit_code == 0
    assert "Ledger OK" in result.output


def test_ledger_check_finds_a_project_total_that_lies(held, project, runner):
    project.pledged_amount += 1
    db.session.commit()
    result = runner.invoke(args=["ledger", "check"])
    assert result.exit_code == 1
    assert (
        f"project {project.id}: shows 2501 from 1 backers but held pledges total 2500 from 1"
    ) in result.output


def test_ledger_check_finds_escrow_without_a_pledge(held, project, runner):
    ledger.book(
        Transfer("charge", "manual:1", project.id, None, "backer:999", ledger.escrow(project.id),
                 700, "USD")
    )  # fmt: skip
    db.session.commit()
    result = runner.invoke(args=["ledger", "check", "--project", str(project.id)])
    assert result.exit_code == 1
    assert "escrow balance 3200 but its pledges have 2500 in escrow" in result.output


def test_the_same_source_is_booked_once(held, project):
    again = ledger.book(
        Transfer("charge", f"payment:{held.payments[0].id}", project.id, held.id,
                 ledger.backer(held.backer_id), ledger.escrow(project.id), 2500, "USD")
    )  # fmt: skip
    assert again is False
    assert ledger.balance(ledger.escrow(project.id)) == 2500


def test_entries_cannot_be_changed_or_deleted(held):
    entry = db.session.scalars(select(LedgerEntry)).first()
    entry.amount = 1
    with pytest.raises(LedgerIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.scalars(select(LedgerEntry)).first())
    with pytest.raises(LedgerIsAppendOnly):
        db.session.flush()
    db.session.rollback()


def test_every_transaction_sums_to_zero(held):
    from sqlalchemy import func

    sums = db.session.execute(
        select(LedgerEntry.transaction_id, func.sum(LedgerEntry.amount)).group_by(
            LedgerEntry.transaction_id
        )
    ).all()
    assert sums and all(total == 0 for _, total in sums)


def test_stripe_is_never_called_inside_a_transaction(app, stripe_fake):
    from app.payments import gateway

    db.session.execute(select(1))  # a transaction is now open
    with pytest.raises(TransactionOpen):
        gateway().retrieve_payment_intent("pi_anything")
    db.session.rollback()
    assert stripe_fake.requests() == []


@pytest.mark.parametrize("amount", [0, -700, 7.0, True])
def test_a_transfer_is_a_positive_whole_amount(amount):
    with pytest.raises(ValueError, match="positive whole amount"):
        Transfer("charge", "manual:x", 1, None, "backer:1", "escrow:1", amount, "USD")


def test_single_and_bulk_bookings_are_stamped_by_the_platform_clock(app, project, clock):
    clock.advance(days=40)  # the platform's clock, not the machine's
    before = clock.now()
    one = Transfer("charge", "manual:one", project.id, None, "backer:1", "escrow:1", 5, "USD")
    ledger.book(one)
    ledger.book_all(
        [Transfer("charge", f"manual:{n}", project.id, None, "backer:1", "escrow:1", 5, "USD")
         for n in range(2)]
    )  # fmt: skip
    db.session.commit()
    stamps = set(
        db.session.scalars(
            select(LedgerTransaction.created_at).where(LedgerTransaction.project_id == project.id)
        )
    )
    assert len(stamps) <= 2  # one moment per booking: the bulk one stamps its rows alike
    assert all(before <= stamp <= clock.now() for stamp in stamps)
    assert ledger.balance("escrow:1") == 15
