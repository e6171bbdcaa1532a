"""`flask demo seed`: a local site that looks alive, reached through the real services.

The seed makes real pledges through the checkout against the fake Stripe the tests start
(``stripe_fake``), so the totals come from pledges and the ledger check passes.

The seed takes some 25 s (about 200 real pledges), so this module seeds once and its tests only
read: ``app`` and ``stripe_fake`` are per module here (the suite's are per test), the tables
are emptied when the module ends and the fake Stripe when it starts, and the module runs in one
pytest-xdist worker (its ``xdist_group``; scripts/test distributes with ``--dist loadgroup``).
"""

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from markupsafe import escape
from sqlalchemy import func, select

from app import clock, create_app
from app.accounts.models import Role, User
from app.audit import books
from app.demo.data import BACKERS, PROJECTS
from app.demo.pledging import plan
from app.extensions import db, limiter
from app.ledger.models import LedgerTransaction
from app.money import format_money
from app.pledges.domain import PledgeStatus
from app.pledges.models import Payment, PaymentStatus, Pledge
from app.projects.domain import ProjectStatus
from app.projects.models import Project, ProjectEvent
from app.rewards.models import RewardTier
from tests.helpers import Browser, project_path
from tests.helpers.app import IsolatedClient, empty_tables
from tests.helpers.stripe_fake import FakeStripe

pytestmark = pytest.mark.xdist_group("demo-seed")


@pytest.fixture(scope="module")
def app(_migrated, test_config, instance_dir) -> Iterator[Flask]:
    app = create_app(test_config, instance_path=instance_dir)
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
        db.session.remove()
        empty_tables()
        db.engine.dispose()
    limiter.reset()


@pytest.fixture(autouse=True)
def _fresh_session(app) -> Iterator[None]:
    """Each test reads the rows anew (nothing kept in the session from the one before)."""
    yield
    db.session.remove()
    limiter.reset()


@pytest.fixture(scope="module")
def stripe_fake(app, fakestripe_url) -> Iterator[FakeStripe]:
    fake = FakeStripe(fakestripe_url)
    fake.reset()
    yield fake
    fake.http.close()


@pytest.fixture(scope="module")
def seeded(app, stripe_fake):
    """The site after `flask demo seed`: the command's result (its output is read)."""
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    return result


def live_projects() -> list[Project]:
    return list(db.session.scalars(select(Project).where(Project.status == ProjectStatus.LIVE)))


def row_counts() -> dict[str, int]:
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (User, Project, RewardTier, ProjectEvent, Pledge, Payment, LedgerTransaction)
    }


def printed_logins(output: str) -> tuple[list[str], str]:
    password = re.search(r"password for all: (\S+)\)", output).group(1)
    return re.findall(r"\S+@demo\.test", output), password


def held_pledges() -> list[Pledge]:
    return list(db.session.scalars(select(Pledge).where(Pledge.status == PledgeStatus.HELD)))


def test_seed_creates_accounts_of_each_role_and_prints_working_logins(seeded, client):
    roles = Counter(db.session.scalars(select(User.role)))
    assert roles == {Role.USER: 5 + len(BACKERS), Role.MODERATOR: 2, Role.ADMIN: 1}
    emails, password = printed_logins(seeded.output)
    staff = set(db.session.scalars(select(User.email).where(~User.email.like("backer%"))))
    assert staff <= set(emails) and "creator1@demo.test" in emails
    assert {"backer01@demo.test", f"backer{len(BACKERS):02d}@demo.test"} <= set(emails)
    assert {b.email for b in BACKERS} <= set(db.session.scalars(select(User.email)))
    assert len(password) >= 10
    browser = Browser(client)
    response = browser.login("moderator1@demo.test", password)
    assert response.status_code == 302
    queue = client.get("/moderation/")
    assert queue.status_code == 200
    submitted = db.session.scalar(select(Project).where(Project.status == ProjectStatus.SUBMITTED))
    assert str(escape(submitted.title)) in queue.get_data(as_text=True)
    browser.logout()
    assert browser.login(emails[0], password).status_code == 302
    assert "Maren Holt" in client.get("/").get_data(as_text=True)


def test_live_projects_are_varied_complete_open_and_believable(app, seeded):
    projects = live_projects()
    assert len(projects) >= 8
    assert len({p.category_id for p in projects}) >= 6
    assert len({p.currency for p in projects}) >= 4
    now = clock.now()
    uploads = Path(app.instance_path) / "uploads"
    for project in projects:
        assert project.tiers, project.title
        assert project.cover_image and (uploads / project.cover_image).is_file()
        assert project.deadline > now
        assert len(project.story) >= 100 and "## " in project.story
    assert len({p.cover_image for p in projects}) == len(projects)
    hours_left = sorted((p.deadline - now).total_seconds() / 3600 for p in projects)
    assert hours_left[0] < 24 and hours_left[-1] > 40 * 24
    today = now.date()
    for project in projects:
        assert 2 <= len(project.tiers) <= 4
        for tier in project.tiers:
            assert tier.quantity_limit is None or tier.claimed <= tier.quantity_limit
            assert tier.estimated_delivery.day == 1 and tier.estimated_delivery > today
    tiers = [t for p in projects for t in p.tiers]
    nearly = [t for t in tiers if t.remaining is not None and 1 <= t.remaining <= 3]
    assert nearly and all(t.claimed >= 10 for t in nearly)
    behind = db.session.scalar(
        select(func.count()).where(
            Pledge.tier_id == nearly[0].id, Pledge.status == PledgeStatus.HELD
        )
    )
    assert behind == nearly[0].claimed
    assert any(t.sold_out for t in tiers)
    assert any(t.ships for t in tiers) and any(not t.ships for t in tiers)
    assert sum(p.pledged_amount >= p.goal_amount for p in projects) >= 2
    assert any(p.pledged_amount < p.goal_amount for p in projects)


def test_totals_come_from_real_pledges_paid_at_stripe_and_the_ledger_agrees(seeded, stripe_fake):
    assert books.check() == []
    pledges = held_pledges()
    assert 120 <= len(pledges) <= 250
    assert len(pledges) == sum(len(plan(spec)) for spec in PROJECTS if spec.status == "live")
    # The funded project's pledges were collected when it was paid out.
    collected = db.session.scalar(
        select(func.count()).where(Pledge.status == PledgeStatus.COLLECTED)
    )
    assert collected == sum(len(plan(spec)) for spec in PROJECTS if spec.status == "funded") > 0
    made = len(pledges) + collected
    assert db.session.scalar(select(func.count()).select_from(Pledge)) == made
    assert f"Made {made} pledges" in seeded.output
    # The printed escrow figure is what the held pledges hold, after the payout.
    held = Counter()
    for pledge in pledges:
        held[pledge.currency] += pledge.total
    printed = ", ".join(format_money(held[code], code) for code in sorted(held))
    assert f"held in escrow: {printed}." in seeded.output
    for project in live_projects():
        mine = [p for p in pledges if p.project_id == project.id]
        assert project.pledged_amount == sum(p.total for p in mine) > 0
        assert project.backer_count == len(mine) == len({p.backer_id for p in mine})
        for tier in project.tiers:
            assert tier.claimed == sum(p.tier_id == tier.id for p in mine)
        for pledge in mine:
            assert project.launched_at <= pledge.created_at < project.deadline
            assert pledge.amount >= pledge.tier.minimum_amount
            assert pledge.currency == project.currency
            assert (pledge.shipping_country is not None) == pledge.tier.ships
            fee = pledge.tier.shipping_fee_to(pledge.shipping_country) if pledge.tier.ships else 0
            assert pledge.shipping_fee == fee
            [payment] = pledge.payments
            assert payment.status is PaymentStatus.SUCCEEDED
            assert payment.amount == pledge.total and payment.stripe_charge_id
    assert any(p.amount > p.tier.minimum_amount for p in pledges)
    assert sum(p.amount == p.tier.minimum_amount for p in pledges) > len(pledges) / 2
    # Copperleaf's Standard Edition ships from the US: $8 at home, $14 to Europe, $20 elsewhere.
    standard = [p for p in pledges if p.tier.title == "Standard Edition"]
    assert standard[0].project.country == "US"
    assert {d.destination: d.fee for d in standard[0].tier.shipping_rules} == {
        "domestic": 800, "europe": 1400, "world": 2000,
    }  # fmt: skip
    fees = {"US": 800, "GB": 1400, "CA": 2000, "MX": 2000}
    assert all(p.shipping_fee == fees[p.shipping_country] for p in standard)
    assert len({p.shipping_fee for p in standard}) >= 2
    assert {p.backer.email for p in pledges} <= {b.email for b in BACKERS}

    # ... paid at the fake Stripe, each PaymentIntent created with its idempotency key
    created = stripe_fake.requests("/v1/payment_intents", "POST")
    opened = [r for r in created if r["path"] == "/v1/payment_intents"]
    confirmed = [r for r in created if r["path"].endswith("/confirm")]
    payments_made = db.session.scalars(select(Payment)).all()
    assert len(opened) == len(confirmed) == len(payments_made)
    keys = [r["idempotency_key"] for r in opened]
    assert all(keys) and len(set(keys)) == len(keys)
    assert set(keys) == {p.idempotency_key for p in payments_made}
    assert all(r["status"] == 200 for r in opened + confirmed)
    assert {r["params"]["payment_method"] for r in confirmed} == {"pm_card_visa"}
    customers = stripe_fake.requests("/v1/customers", "POST")
    assert len(customers) == len({p.pledge.backer_id for p in payments_made})


def test_projects_went_through_review_in_order(seeded):
    statuses = Counter(db.session.scalars(select(Project.status)))
    assert statuses[ProjectStatus.SUBMITTED] == 1
    assert statuses[ProjectStatus.APPROVED] == 1
    assert statuses[ProjectStatus.DRAFT] == 1
    now = clock.now()
    for project in live_projects():
        actions = [e.action for e in project.events]
        assert actions == ["submit", "approve", "launch"]
        times = [project.created_at] + [e.created_at for e in project.events]
        assert times == sorted(times) and times[-1] == project.launched_at <= now
        assert project.events[1].actor.is_moderator


def test_the_site_shows_the_demo_projects(seeded, client):
    discover = client.get("/discover").get_data(as_text=True)
    for project in live_projects():
        assert str(escape(project.title)) in discover
    assert "Ending soon" in client.get("/").get_data(as_text=True)
    project = live_projects()[0]
    page = client.get(project_path(project))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h2>" in html and "<strong>" in html and "<li>" in html
    with client.get(f"/uploads/{project.cover_image}") as cover:
        assert cover.status_code == 200 and cover.mimetype == "image/png"


def test_running_twice_changes_nothing_and_prints_the_logins_again(seeded, runner, stripe_fake):
    before = row_counts()
    calls = len(stripe_fake.requests())
    totals = [(p.pledged_amount, p.backer_count) for p in live_projects()]
    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code == 0, again.output
    assert "Demo data already present" in again.output
    # ... but it prints the logins again: scripts/run seeds on every start
    logins = again.output[again.output.index("Demo accounts") :]
    assert logins == seeded.output[seeded.output.index("Demo accounts") :]
    assert "creator1@demo.test" in logins and "backstage-demo" in logins
    assert row_counts() == before
    assert len(stripe_fake.requests()) == calls
    db.session.expire_all()
    assert [(p.pledged_amount, p.backer_count) for p in live_projects()] == totals
    assert books.check() == []


def test_some_projects_have_a_faq_an_answered_question_and_followers(seeded, client):
    from app.follows.models import Follow
    from app.questions.models import FaqEntry, Question

    live = live_projects()
    with_faq = {e.project_id for e in db.session.scalars(select(FaqEntry))}
    assert 2 <= len(with_faq) < len(live)
    (published, private) = db.session.scalars(select(Question).order_by(Question.id)).all()
    assert published.answer and published.faq_entry_id and private.answer
    assert not private.faq_entry_id
    followed = Counter(f.project_id for f in db.session.scalars(select(Follow)))
    approved = db.session.scalar(select(Project).where(Project.status == ProjectStatus.APPROVED))
    assert followed[approved.id] > 0 and all(followed[p.id] > 0 for p in live)
    # A visitor reads the FAQ and the published answer on the project page.
    project = db.session.get(Project, published.project_id)
    page = client.get(project_path(project)).get_data(as_text=True)
    assert str(escape(published.body)) in page and "Does it ship outside" in page
    # The upcoming project's pre-launch page is public.
    assert "Coming soon" in client.get(project_path(approved)).get_data(as_text=True)


def test_backers_comment_and_creators_reply_on_live_projects(seeded, client):
    from app.comments.models import Comment

    made = list(
        db.session.scalars(select(Comment).where(Comment.update_id.is_(None)).order_by(Comment.id))
    )
    assert f"Posted {len(made)} comments and creator replies" in seeded.output
    with_comments = {c.project_id for c in made}
    assert len(with_comments) >= 2
    for comment in made:
        project = db.session.get(Project, comment.project_id)
        if comment.parent_id is None:  # a backer asks
            assert comment.author_id != project.owner_id
            assert db.session.scalar(
                select(Pledge.id).where(
                    Pledge.project_id == project.id, Pledge.backer_id == comment.author_id
                )
            )
    replies = [c for c in made if c.parent_id is not None]
    assert any(c.author_id == db.session.get(Project, c.project_id).owner_id for c in replies), (
        "a creator replies"
    )
    project = db.session.get(Project, made[0].project_id)
    html = client.get(f"/projects/{project.id}/comments").get_data(as_text=True)
    assert 'data-testid="creator-badge"' in html
    assert str(escape(made[0].body)) in html


def test_a_live_project_posts_updates_one_for_backers_with_a_conversation(seeded, client):
    from app.comments.models import Comment
    from app.updates.models import Update

    made = list(db.session.scalars(select(Update).order_by(Update.number)))
    assert [u.number for u in made] == [1, 2, 3] and [u.public for u in made] == [1, 0, 1]
    assert f"Published {len(made)} updates" in seeded.output
    first, secret = made[0], made[1]
    html = client.get(f"/projects/{first.project_id}/updates/1").get_data(as_text=True)
    talk = db.session.scalars(select(Comment).where(Comment.update_id == first.id)).all()
    assert len(talk) == 2 and all(str(escape(c.body)) in html for c in talk)
    assert 'data-testid="creator-badge"' in html
    teaser = client.get(f"/projects/{secret.project_id}/updates/2").get_data(as_text=True)
    assert 'data-testid="backers-only"' in teaser and "workshop" not in teaser


def test_a_live_project_has_referral_tags_and_pledges_from_several_sources(seeded, app):
    from app.campaign.models import ReferralTag

    spec = next(s for s in PROJECTS if s.referral_tags)
    project = db.session.scalar(select(Project).where(Project.title == spec.title))
    tags = db.session.scalars(select(ReferralTag.tag).where(ReferralTag.project_id == project.id))
    assert sorted(tags) == sorted(tag for tag, _ in spec.referral_tags)
    pledges = [p for p in held_pledges() if p.project_id == project.id]
    sources = Counter(p.ref_tag or p.referrer_host or "direct" for p in pledges)
    assert set(sources) == {
        "launch-video",
        "newsletter",
        "boardgamegeek.com",
        "www.reddit.com",
        "direct",
    }
    # Its creator reads them on the dashboard, one row per source.
    owner = Browser(app.test_client())
    owner.login(project.owner.email, seeded_password(seeded))
    page = owner.client.get(f"/projects/{project.id}/dashboard").get_data(as_text=True)
    assert page.count('data-testid="source-row"') == 5
    assert "Launch video" in page and "Site www.reddit.com" in page


def seeded_password(result) -> str:
    return printed_logins(result.output)[1]


def test_a_live_project_has_three_stretch_goals_and_its_pledges_reached_one(seeded, client):
    from app.notifications.models import Outbox
    from app.stretch.models import StretchGoal

    made = list(db.session.scalars(select(StretchGoal).order_by(StretchGoal.amount)))
    assert len(made) == 3 and len({g.project_id for g in made}) == 1
    assert [g.reached_at is not None for g in made] == [True, False, False]
    project = db.session.get(Project, made[0].project_id)
    assert made[0].amount <= project.pledged_amount < made[1].amount
    mailed = db.session.scalar(
        select(func.count()).select_from(Outbox).where(Outbox.kind == "stretch_goal_reached")
    )
    assert 0 < mailed <= project.backer_count
    html = client.get(project_path(project)).get_data(as_text=True)
    assert html.count('data-testid="stretch-reached"') == 1
    assert str(escape(made[2].title)) in html


def test_copperleaf_offers_two_add_ons_that_some_backers_took(seeded, client):
    from app.addons.models import Addon, PledgeAddon

    offered = list(db.session.scalars(select(Addon).order_by(Addon.id)))
    assert [a.title for a in offered] == ["Playmat", "Solo campaign (printable)"]
    assert offered[0].ships and not offered[1].ships
    for addon in offered:
        held = db.session.scalar(
            select(func.coalesce(func.sum(PledgeAddon.quantity), 0)).where(
                PledgeAddon.addon_id == addon.id
            )
        )
        assert addon.claimed == held > 0
    project = db.session.get(Project, offered[0].project_id)
    mine = list(db.session.scalars(select(Pledge).where(Pledge.project_id == project.id)))
    assert project.pledged_amount == sum(p.total for p in mine)
    assert sum(p.addons_amount for p in mine) > 0
    html = client.get(project_path(project)).get_data(as_text=True)
    assert 'data-testid="addon"' in html and "Playmat" in html


def test_the_funded_project_is_paid_out_surveyed_and_mostly_delivered(seeded, client, stripe_fake):
    from app.fulfilment.models import Shipment
    from app.payouts.models import Payout
    from app.surveys.models import Survey, SurveyResponse

    [spec] = [s for s in PROJECTS if s.status == "funded"]
    project = db.session.scalar(select(Project).where(Project.title == spec.title))
    assert project.status is ProjectStatus.PAID_OUT and project.currency == "GBP"
    pledges = list(db.session.scalars(select(Pledge).where(Pledge.project_id == project.id)))
    assert len(pledges) == len(plan(spec)) == 14
    assert {p.status for p in pledges} == {PledgeStatus.COLLECTED}
    assert project.pledged_amount == sum(p.total for p in pledges) >= project.goal_amount

    # Paid out at the fake Stripe: one transfer of the net to the creator's own account.
    payout = db.session.scalar(select(Payout).where(Payout.project_id == project.id))
    assert payout.net == payout.gross - payout.fee and payout.fee > 0
    assert payout.gross == project.pledged_amount
    [transfer] = [
        t for t in stripe_fake.objects("transfers") if t["id"] == payout.stripe_transfer_id
    ]
    assert (transfer["amount"], transfer["currency"]) == (payout.net, "gbp")
    pounds = f"£{payout.net // 100:,}.{payout.net % 100:02d}"
    assert (
        f"Ended project {project.id} ({spec.title}): funded and paid out ({pounds} to the "
        "creator); 12 of 14 backers answered its survey; 12 rewards shipped, 4 confirmed "
        "received, 1 problem reported." in seeded.output
    )

    # The survey went to every backer; twelve answered, with an address in their own country.
    survey = db.session.scalar(select(Survey).where(Survey.project_id == project.id))
    responses = list(
        db.session.scalars(select(SurveyResponse).where(SurveyResponse.survey_id == survey.id))
    )
    assert len(responses) == 14
    assert sum(r.answered_at is not None for r in responses) == 12

    shipments = list(db.session.scalars(select(Shipment).where(Shipment.project_id == project.id)))
    assert len(shipments) == 12 and all(s.tracking_number.endswith("GB") for s in shipments)
    assert sum(s.is_received for s in shipments) == 4
    assert [s.problem for s in shipments if s.has_problem] == [
        "The print arrived with a crease across one corner; the notebook is fine."
    ]
    assert books.check() == []

    # What a visitor and the creator see: 12 of 14 delivered is 85%.
    page = client.get(project_path(project)).get_data(as_text=True)
    assert "85% of rewards delivered" in page
    browser = Browser(client)
    browser.login("creator1@demo.test", seeded_password(seeded))
    manage = client.get(f"/projects/{project.id}/fulfilment").get_data(as_text=True)
    assert "85% of rewards delivered: 12 of 14 shipped, 4 confirmed by backers." in manage
    assert "1 problem reported." in manage


def test_no_demo_tier_asks_less_than_the_currencys_floor(app, seeded):
    floors = app.config["MINIMUM_PLEDGE"]
    for tier in db.session.scalars(select(RewardTier)):
        assert tier.minimum_amount >= floors[tier.project.currency], tier.title
