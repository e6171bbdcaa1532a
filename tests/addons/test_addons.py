"""Add-ons (issue 15.5): a creator offers extras, a backer adds them when backing or changing
a pledge; they are charged and refunded with the pledge, their limits hold, and they show on
the pledge page, in the receipt, the backers' CSV and the statement."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from app.addons import services as addons
from app.addons.models import Addon
from app.extensions import db
from app.notifications.sender import FileBackend
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge
from app.rewards.domain import Rule
from tests.helpers import gen_user
from tests.helpers.notifications import deliver, mail_to, words_of
from tests.helpers.pledging import (
    assert_books_balance,
    latest_pledge,
    new_backer,
    open_payment_of,
)

BEA = "bea@example.com"
X = "\N{MULTIPLICATION SIGN}"  # as the pages write a line: quantity, X, title


def gen_addon(project, title="Extra deck", price=1200, limit=None, shipping=None) -> Addon:
    addon = addons.add_addon(
        project,
        {
            "title": title,
            "description": f"One more {title.lower()}.",
            "price": price,
            "quantity_limit": limit,
            "shipping_rules": [Rule(d, fee) for d, fee in (shipping or {}).items()],
        },
    )
    db.session.commit()
    return addon


def claimed(addon_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Addon, addon_id).claimed


def charged(stripe_fake) -> list[int]:
    intents = stripe_fake.requests("/v1/payment_intents", "POST")
    return [int(r["params"]["amount"]) for r in intents if "amount" in r["params"]]


def refunded(stripe_fake) -> list[int]:
    return [int(r["params"]["amount"]) for r in stripe_fake.requests("/v1/refunds", "POST")]


def back_with(browser, stripe_fake, project, quantities, amount="25", pay=True, **fields):
    data = {f"addon-{a.id}": str(q) for a, q in quantities.items()}
    response = browser.submit(
        f"/projects/{project.id}/back",
        {"tier_id": str(project.tiers[0].id), "amount": amount, **data, **fields},
    )
    if response.status_code != 302 or not pay:
        return response, None
    pledge = latest_pledge()
    stripe_fake.pay(open_payment_of(pledge.id).stripe_payment_intent_id)
    browser.client.get(f"/pledges/{pledge.id}/complete")
    return response, latest_pledge()


def change_to(browser, pledge, quantities, amount="25", **fields):
    data = {f"addon-{a.id}": str(q) for a, q in quantities.items()}
    return browser.submit(
        f"/pledges/{pledge.id}/change",
        {"tier_id": str(pledge.tier_id), "amount": amount, **data, **fields},
    )


@pytest.fixture
def mail_file(tmp_path):
    return tmp_path / "mail.mbox"


@pytest.fixture
def file_backend(mail_file) -> FileBackend:
    return FileBackend(mail_file)


@pytest.fixture
def deck(project):
    return gen_addon(project, "Extra deck", 1200)


@pytest.fixture
def playmat(project):
    project.country = "US"
    return gen_addon(project, "Playmat", 2000, limit=3, shipping={"domestic": 300, "world": 900})


def test_the_creator_adds_an_add_on_through_the_form_and_backers_see_it(
    app, creator, project, backer
):
    project.country = "US"
    db.session.commit()
    from tests.helpers import Browser

    owner = Browser(app.test_client())
    owner.login(creator.email)
    response = owner.submit(
        f"/projects/{project.id}/addons/new",
        {
            "title": "Playmat",
            "description": "Neoprene, 60 by 35 cm.",
            "minimum": "20",
            "quantity_limit": "100",
            "ships": "y",
            "destinations-0-destination": "domestic",
            "destinations-0-fee": "3",
            "destinations-1-destination": "world",
            "destinations-1-fee": "9",
        },
    )
    assert response.status_code == 302
    (addon,) = db.session.scalars(select(Addon).where(Addon.project_id == project.id))
    assert (addon.price, addon.quantity_limit, addon.rules) == (
        2000, 100, (Rule("domestic", 300), Rule("world", 900)),
    )  # fmt: skip
    page = backer.client.get(f"/projects/{project.id}", follow_redirects=True).get_data(
        as_text=True
    )
    assert "Add-ons" in page and "Playmat" in page and "$20.00" in page
    assert "Ships to (per item): United States $3.00 · Rest of the world $9.00" in page
    assert "100 left of 100" in page
    form = backer.client.get(f"/projects/{project.id}/back").get_data(as_text=True)
    assert f'name="addon-{addon.id}"' in form


def test_a_bad_price_or_quantity_is_a_form_error(app, creator, project, backer, deck, stripe_fake):
    from tests.helpers import Browser

    owner = Browser(app.test_client())
    owner.login(creator.email)
    response = owner.submit(
        f"/projects/{project.id}/addons/new", {"title": "Sticker", "minimum": "-1"}
    )
    assert response.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Addon)) == 1
    for bad in ("abc", "-1", "11", "1.5"):
        response, _ = back_with(backer, stripe_fake, project, {deck: bad}, pay=False)
        assert response.status_code == 200, bad
        assert "Enter a whole number from 0 to 10." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Pledge)) == 0
    assert charged(stripe_fake) == []


def test_a_pledge_with_add_ons_charges_them_with_their_shipping_and_shows_them(
    app, backer, project, deck, playmat, stripe_fake, file_backend, mail_file
):
    _, pledge = back_with(
        backer, stripe_fake, project, {deck: 2, playmat: 1}, shipping_country="FR"
    )
    assert pledge.status is PledgeStatus.HELD
    # $25 pledge + 2 decks at $12 + a playmat at $20 with $9 to France
    assert (pledge.amount, pledge.addons_amount, pledge.total) == (2500, 2400 + 2900, 7800)
    assert charged(stripe_fake) == [7800]
    assert (claimed(deck.id), claimed(playmat.id)) == (2, 1)
    db.session.refresh(project)
    assert project.pledged_amount == 7800
    page = backer.client.get(f"/pledges/{pledge.id}").get_data(as_text=True)
    assert (
        f"2 {X} Extra deck ($24.00)" in page and f"1 {X} Playmat ($20.00 + $9.00 shipping)" in page
    )
    assert "$78.00" in page
    deliver(file_backend)
    (receipt,) = mail_to(mail_file, BEA)
    assert f"2 {X} Extra deck ($24.00); 1 {X} Playmat ($20.00 + $9.00 shipping)" in words_of(
        receipt
    )
    assert_books_balance()


def test_an_add_on_that_ships_needs_a_country_it_ships_to(app, backer, project, stripe_fake):
    project.country = "US"
    mat = gen_addon(project, "Playmat", 2000, shipping={"domestic": 300, "europe": 700})
    response, _ = back_with(backer, stripe_fake, project, {mat: 1}, pay=False)
    assert response.status_code == 200
    assert "An add-on you chose ships: choose the country to ship it to." in response.get_data(
        as_text=True
    )
    response, _ = back_with(
        backer, stripe_fake, project, {mat: 1}, pay=False, shipping_country="BR"
    )
    assert "This add-on does not ship to Brazil." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Pledge)) == 0
    assert charged(stripe_fake) == []
    assert claimed(mat.id) == 0


def test_more_add_ons_charge_the_difference_and_claim_at_once(
    app, backer, project, deck, stripe_fake
):
    _, pledge = back_with(backer, stripe_fake, project, {deck: 1})
    response = change_to(backer, pledge, {deck: 3})
    assert response.headers["Location"] == f"/pledges/{pledge.id}/pay"
    assert claimed(deck.id) == 3  # taken while the backer pays
    payment = open_payment_of(pledge.id)
    assert payment.amount == 2400
    stripe_fake.pay(payment.stripe_payment_intent_id)
    backer.client.get(f"/pledges/{pledge.id}/complete")
    pledge = latest_pledge()
    assert [(line.addon_id, line.quantity) for line in pledge.addon_lines] == [(deck.id, 3)]
    assert (pledge.total, pledge.net_collected, claimed(deck.id)) == (6100, 6100, 3)
    assert_books_balance()


def test_an_abandoned_increase_gives_the_items_back(app, backer, project, deck, stripe_fake):
    _, pledge = back_with(backer, stripe_fake, project, {deck: 1})
    change_to(backer, pledge, {deck: 4})
    assert claimed(deck.id) == 4
    backer.submit(f"/pledges/{pledge.id}/pay", action=f"/pledges/{pledge.id}/abandon")
    pledge = latest_pledge()
    assert (claimed(deck.id), pledge.total) == (1, 3700)
    assert [(line.quantity) for line in pledge.addon_lines] == [1]
    assert_books_balance()


def test_fewer_add_ons_refund_the_difference_and_release_at_once(
    app, backer, project, deck, stripe_fake
):
    _, pledge = back_with(backer, stripe_fake, project, {deck: 3})
    response = change_to(backer, pledge, {deck: 1})
    assert response.status_code == 302
    pledge = latest_pledge()
    assert (pledge.total, claimed(deck.id)) == (3700, 1)
    assert refunded(stripe_fake) == [2400]
    db.session.refresh(project)
    assert project.pledged_amount == 3700
    assert_books_balance()


def test_cancelling_releases_every_item_and_refunds_them(app, backer, project, deck, stripe_fake):
    _, pledge = back_with(backer, stripe_fake, project, {deck: 2})
    backer.submit(f"/pledges/{pledge.id}/cancel")
    assert (latest_pledge().status, claimed(deck.id)) == (PledgeStatus.REFUNDED, 0)
    assert refunded(stripe_fake) == [4900]
    assert_books_balance()


def test_a_limited_add_on_is_not_sold_beyond_its_limit(app, backer, project, playmat, stripe_fake):
    _, first = back_with(backer, stripe_fake, project, {playmat: 3}, shipping_country="US")
    assert claimed(playmat.id) == 3
    other = new_backer(app, "cy@example.com", "Cy")
    response, _ = back_with(other, stripe_fake, project, {playmat: 1}, pay=False,
                            shipping_country="US")  # fmt: skip
    assert response.status_code == 200
    assert "This add-on is no longer available." in response.get_data(as_text=True)
    # the first backer keeps theirs and may take fewer, never more
    response = change_to(backer, first, {playmat: 4}, shipping_country="US")
    assert "This add-on is no longer available." in response.get_data(as_text=True)
    assert claimed(playmat.id) == 3 and len(charged(stripe_fake)) == 1


def test_a_closed_add_on_keeps_its_pledges_and_takes_no_more(
    app, backer, project, deck, stripe_fake
):
    _, pledge = back_with(backer, stripe_fake, project, {deck: 1})
    addons.set_closed(deck, True)
    db.session.commit()
    other = new_backer(app, "cy@example.com", "Cy")
    response, _ = back_with(other, stripe_fake, project, {deck: 1}, pay=False)
    assert "This add-on is no longer available." in response.get_data(as_text=True)
    # the backer who holds one keeps it through a change of amount
    response = change_to(backer, pledge, {deck: 1}, amount="20")
    assert response.status_code == 302
    assert [line.quantity for line in latest_pledge().addon_lines] == [1]


def test_the_creator_cannot_raise_the_price_or_delete_one_backers_hold(
    app, backer, project, deck, stripe_fake
):
    back_with(backer, stripe_fake, project, {deck: 2})
    db.session.refresh(deck)
    with pytest.raises(addons.AddonError):
        addons.update_addon(deck, {"price": 1500})
    with pytest.raises(addons.AddonError):
        addons.update_addon(deck, {"quantity_limit": 1})
    with pytest.raises(addons.AddonError):
        addons.delete_addon(deck)
    db.session.rollback()
    addons.update_addon(deck, {"price": 1000})  # cheaper is fine; the pledge keeps its price
    db.session.commit()
    assert latest_pledge().addons_amount == 2400


def test_add_ons_are_in_the_backers_csv_and_the_statement(
    app, creator, backer, project, deck, stripe_fake, clock, runner
):
    from tests.helpers import Browser
    from tests.helpers.settling import settle

    back_with(backer, stripe_fake, project, {deck: 2}, amount="1000")
    clock.jump_past(project.deadline)
    settle(runner)
    owner = Browser(app.test_client())
    owner.login(creator.email)
    response = owner.client.get(f"/projects/{project.id}/statement/backers.csv")
    header, *rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    row = dict(zip(header, rows[0], strict=True))
    assert (row["add_ons"], row["add_ons_amount"], row["total"]) == (
        f"2 {X} Extra deck", "24.00", "1024.00",
    )  # fmt: skip
    page = owner.client.get(f"/projects/{project.id}/statement").get_data(as_text=True)
    assert f"2 {X} Extra deck ($24.00)" in page


def test_someone_else_cannot_edit_a_projects_add_on(app, project, deck):
    gen_user("mallory@example.com", "Mallory")
    mallory = new_backer(app, "mal@example.com", "Mal")
    assert mallory.client.get(f"/addons/{deck.id}/edit").status_code == 403
