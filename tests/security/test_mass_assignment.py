"""Mass assignment: a form sets its own fields and nothing else, whatever else is posted.

Every form that creates or changes something is posted with its normal fields plus
``sneaky`` ones named after columns (owner, status, money totals, Stripe ids, role, dates,
ids). The whole database is compared before and after: every column that changed on an
existing row must be one the form may legitimately set, and every new row must hold the
values the platform chose, never the posted ones. The form's own fields win over the sneaky
ones of the same name (``amount`` is a pledge form field; ``goal`` is not a live one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.notifications import preferences
from app.projects import services as projects
from app.projects.models import Project
from tests.helpers import gen_project
from tests.helpers.forms import draft_form, live_form, tier_form
from tests.helpers.world import World

LONG_AGO = "2000-01-01T00:00:00"


def sneaky(world: World) -> dict[str, str]:
    """Fields no form has, named after columns an attacker would love to set."""
    someone_else = str(world.user_ids["owner"])
    return {
        "id": "999",
        "status": "live",
        "role": "admin",
        "is_admin": "y",
        "is_moderator": "y",
        "owner_id": someone_else,
        "backer_id": someone_else,
        "user_id": someone_else,
        "actor_id": someone_else,
        "project_id": str(world.ended_project_id),
        "stripe_customer_id": "cus_attacker",
        "stripe_account_id": "acct_attacker",
        "stripe_payment_intent_id": "pi_attacker",
        "password_hash": "pbkdf2:sha256:1$x$y",
        "pledged_amount": "99999999",
        "backer_count": "4242",
        "claimed": "7",
        "quantity_limit": "1",
        "is_closed": "y",
        "fee": "0",
        "net": "99999999",
        "gross": "99999999",
        "goal_amount": "1",
        "goal": "0.01",
        "currency": "JPY",
        "duration_days": "1",
        "ref_tag": "attacker-tag",
        "referrer_host": "attacker.example",
        "ref": "attacker-tag",
        "category_id": "1",
        "amount": "0.01",
        "shipping_fee": "0",
        "destination": "world",
        "shipping_rules": "world",
        "disputed": "y",
        "details_submitted": "y",
        "charges_enabled": "y",
        "payouts_enabled": "y",
        "cover_image": "../../secret_key",
        "to_status": "live",
        "from_status": "draft",
        "deadline": LONG_AGO,
        "launched_at": LONG_AGO,
        "submitted_at": LONG_AGO,
        "ended_at": LONG_AGO,
        "settled_at": LONG_AGO,
        "settlement_lease_until": LONG_AGO,
        "held_at": LONG_AGO,
        "created_at": LONG_AGO,
        "completed_at": LONG_AGO,
        "email": "attacker@example.com",
        "deleted_at": LONG_AGO,
        "disabled_at": LONG_AGO,
        "avatar_image": "../../secret_key",
        "locale": "fr",
        "author_id": someone_else,
        "reporter_id": someone_else,
        "hidden_by_id": someone_else,
        "hidden_by": "moderator",
        "hidden_at": LONG_AGO,
        "edited_at": LONG_AGO,
        "update_id": "7",
        "comment_id": "1",
        "target_type": "project",
        "target_id": "1",
        "email_verified_at": LONG_AGO,
        "reset_serial": "99",
        "new_email": "attacker@example.com",
        "token": "forged",
    }


# ---- comparing the whole database by row and column --------------------------------------


def rows() -> dict[str, dict[tuple, dict]]:
    """Every row of every table as a dict, keyed by table then primary key."""
    db.session.rollback()
    found = {}
    for table in db.metadata.sorted_tables:
        key = [c.name for c in table.primary_key.columns]
        found[table.name] = {
            tuple(r[k] for k in key): dict(r) for r in db.session.execute(select(table)).mappings()
        }
    db.session.rollback()
    return found


@dataclass
class Diff:
    added: dict[str, list[dict]] = field(default_factory=dict)
    removed: dict[str, list[dict]] = field(default_factory=dict)
    changed: dict[str, dict[tuple, dict[str, tuple]]] = field(default_factory=dict)

    def new(self, table: str) -> dict:
        (row,) = self.added.get(table, [])
        return row

    def columns(self, table: str) -> set[str]:
        return {c for cols in self.changed.get(table, {}).values() for c in cols}


def diff(before, after) -> Diff:
    d = Diff()
    for table, old in before.items():
        new = after[table]
        if added := [new[k] for k in new.keys() - old.keys()]:
            d.added[table] = added
        if removed := [old[k] for k in old.keys() - new.keys()]:
            d.removed[table] = removed
        for key in old.keys() & new.keys():
            cols = {c: (old[key][c], new[key][c]) for c in old[key] if old[key][c] != new[key][c]}
            if cols:
                d.changed.setdefault(table, {})[key] = cols
    return d


def assert_only(d: Diff, changed: dict[str, set[str]], added: set[str] = frozenset()) -> None:
    """Changed columns within ``changed``, new rows only in ``added``, nothing removed."""
    for table, by_row in d.changed.items():
        for key, cols in by_row.items():
            extra = {c: v for c, v in cols.items() if c not in changed.get(table, set())}
            assert not extra, f"{table} {key}: columns the form may not set changed: {extra}"
    assert set(d.added) <= set(added), f"unexpected new rows in {set(d.added) - set(added)}"
    assert not d.removed, f"rows removed: {d.removed}"


def post(world: World, visitor: str, url: str, fields: dict):
    """The form's fields win over the sneaky ones of the same name, as a browser sends them."""
    data = {**sneaky(world), **fields, "csrf_token": world.tokens[visitor]}
    return world.clients[visitor].post(url, data=data)


def recent(moment) -> bool:
    return moment is not None and abs(clock.now() - moment) < timedelta(minutes=5)


# ---- accounts ------------------------------------------------------------------------------


def test_register(world):
    before = rows()
    fields = {
        "email": "newcomer@example.com",
        "display_name": "Newcomer",
        "password": "a long enough password",
        "confirm": "a long enough password",
    }
    assert post(world, "anonymous", "/register", fields).status_code == 302
    d = diff(before, rows())
    assert_only(d, changed={}, added={"users", "outbox"})  # nobody signed in: the link is mailed
    user = d.new("users")
    assert (user["email"], user["display_name"], user["role"]) == (
        "newcomer@example.com",
        "Newcomer",
        "user",
    )
    assert user["stripe_customer_id"] is None and user["id"] != 999
    assert user["disabled_at"] is None
    assert user["email_verified_at"] is None and user["reset_serial"] == 0
    mail = d.new("outbox")
    assert (mail["user_id"], mail["kind"], mail["to_address"]) == (
        user["id"],
        "verify_email",
        "newcomer@example.com",
    )
    assert user["password_hash"] != sneaky(world)["password_hash"]
    assert recent(user["created_at"])


def test_edit_the_profile(world):
    before = rows()
    fields = {
        "display_name": "Bea Renamed",
        "bio": "About me.",
        "location": "Oslo",
        "website": "https://example.org/bea",
        "locale": "zh_Hans_CN",
        "timezone": "Europe/Oslo",
    }
    assert post(world, "backer", "/settings/profile", fields).status_code == 302
    d = diff(before, rows())
    profile = {"display_name", "bio", "location", "website", "locale", "timezone"}
    # The request touches the session's last-seen time; nothing else outside the profile.
    assert_only(d, changed={"users": profile, "user_sessions": {"last_seen_at"}})
    (changed,) = d.changed["users"].values()
    assert changed["display_name"][1] == "Bea Renamed"
    assert changed["locale"][1] == "zh_Hans_CN"
    row = after_user(world.user_ids["backer"])
    assert row["email"] == "backer@example.com" and row["role"] == "user"
    assert row["avatar_image"] is None and row["deleted_at"] is None


def after_user(user_id: int) -> dict:
    return rows()["users"][(user_id,)]


def test_mail_preferences(world):
    before = rows()
    response = post(world, "moderator", "/settings/notifications", {})  # every topic off
    assert response.status_code == 302
    d = diff(before, rows())
    assert_only(d, changed={"user_sessions": {"last_seen_at"}}, added={"mail_opt_outs"})
    added = d.added["mail_opt_outs"]
    assert len(added) == len(preferences.Topic)  # every topic off, for the visitor only
    assert {row["user_id"] for row in added} == {world.user_ids["moderator"]}  # not the posted


def test_delete_the_account_is_the_visitors_own(world):
    before = rows()
    fields = {"password": "correct horse battery", "confirm": "y"}
    assert post(world, "admin", "/settings/account/delete", fields).status_code == 302
    d = diff(before, rows())
    admin = (world.user_ids["admin"],)
    assert set(d.changed["users"]) == {admin}  # not the posted user_id's (the owner's)
    assert d.changed["users"][admin]["email"][1].endswith("@deleted.invalid")
    assert_only(
        d,
        changed={
            "users": {
                "display_name",
                "email",
                "password_hash",
                "deleted_at",
                "disabled_at",
            },
            "user_sessions": {"last_seen_at", "revoked_at", "ip", "device"},
        },
    )


# ---- projects ------------------------------------------------------------------------------


def test_new_project(world):
    before = rows()
    assert post(world, "backer", "/projects/new", draft_form(world)).status_code == 302
    d = diff(before, rows())
    assert_only(d, changed={}, added={"projects"})
    project = d.new("projects")
    assert project["owner_id"] == world.user_ids["backer"]
    assert project["status"] == "draft" and project["id"] != 999
    assert (project["currency"], project["goal_amount"], project["duration_days"]) == (
        "EUR",
        99_900,
        20,
    )
    assert (project["pledged_amount"], project["backer_count"]) == (0, 0)
    assert project["cover_image"] is None
    for column in (
        "deadline",
        "launched_at",
        "submitted_at",
        "ended_at",
        "settled_at",
        "settlement_lease_until",
    ):
        assert project[column] is None, column
    assert recent(project["created_at"])


def test_edit_a_draft(app, world):
    draft_id = gen_project(db.session.get(Project, world.project_id).owner, "draft").id
    before = rows()
    response = post(world, "owner", f"/projects/{draft_id}/edit", draft_form(world))
    assert response.status_code == 302
    d = diff(before, rows())
    assert_only(d, changed={"projects": set(projects.DRAFT_FIELDS)})
    assert set(d.changed["projects"]) == {(draft_id,)}
    assert d.columns("projects") >= {"title", "currency", "goal_amount"}  # the form worked


def test_edit_a_live_project_keeps_its_terms(world):
    """Goal, currency, duration and category are fixed once live, even if posted."""
    before = rows()
    response = post(world, "owner", f"/projects/{world.project_id}/edit", live_form(world))
    assert response.status_code == 302
    d = diff(before, rows())
    # A live project's change is kept as revisions (made by the server, never from the form).
    assert_only(d, changed={"projects": set(projects.LIVE_FIELDS)}, added={"project_revisions"})
    assert d.columns("projects") == {"title", "blurb", "story"}
    assert {r["editor_id"] for r in d.added["project_revisions"]} == {world.user_ids["owner"]}


def test_cancel_a_project(world):
    before = rows()
    response = post(world, "owner", f"/projects/{world.project_id}/cancel", {"reason": "Sorry."})
    assert response.status_code == 302
    d = diff(before, rows())
    assert_only(d, changed={"projects": {"status", "ended_at"}}, added={"project_events"})
    (cols,) = d.changed["projects"].values()
    assert cols["status"][1] == "cancelled"
    assert recent(cols["ended_at"][1])
    event = d.new("project_events")
    assert (event["actor_id"], event["to_status"]) == (world.user_ids["owner"], "cancelled")


@pytest.mark.parametrize(
    ("decision", "status", "columns"),
    [
        ("approve", "approved", {"status"}),
        ("request-changes", "draft", {"status", "submitted_at"}),
        ("reject", "rejected", {"status"}),
        ("suspend", "suspended", {"status", "ended_at"}),
    ],
)
def test_moderation_decisions(world, decision, status, columns):
    owner = db.session.get(Project, world.project_id).owner
    if decision == "suspend":
        project_id = world.project_id  # the live one
    else:
        project_id = gen_project(owner, "submitted", title="Under review").id
    prefix = {"request-changes": "changes"}.get(decision, decision)
    before = rows()
    response = post(
        world,
        "moderator",
        f"/moderation/projects/{project_id}/{decision}",
        {f"{prefix}-reason": "Because."},
    )
    assert response.status_code == 302
    d = diff(before, rows())
    # A review decision is mailed to the creator (an outbox row); suspending is, on settling.
    assert_only(d, changed={"projects": columns}, added={"project_events", "outbox"})
    assert ("outbox" in d.added) is (decision != "suspend")
    assert set(d.changed["projects"]) == {(project_id,)}
    assert d.changed["projects"][(project_id,)]["status"][1] == status
    event = d.new("project_events")
    assert (event["project_id"], event["actor_id"]) == (project_id, world.user_ids["moderator"])
    assert (event["to_status"], event["reason"]) == (status, "Because.")


# ---- reward tiers --------------------------------------------------------------------------


def test_new_tier_that_ships(world):
    """Rows of destination and fee add the tier's rules, for this tier only."""
    before = rows()
    url = f"/projects/{world.project_id}/tiers/new"
    fields = {
        **tier_form(world),
        "ships": "y",
        "destinations-0-destination": "world",
        "destinations-0-fee": "4",
        "destinations-0-tier_id": "999",
        "destinations-0-id": "999",
    }
    assert post(world, "owner", url, fields).status_code == 302
    d = diff(before, rows())
    assert_only(d, changed={}, added={"reward_tiers", "tier_shipping_rules", "project_revisions"})
    tier, rule = d.new("reward_tiers"), d.new("tier_shipping_rules")
    assert (rule["tier_id"], rule["destination"], rule["fee"]) == (tier["id"], "world", 400)
    assert rule["id"] != 999


def test_new_tier(world):
    before = rows()
    url = f"/projects/{world.project_id}/tiers/new"
    fields = {**tier_form(world), "quantity_limit": ""}  # a form field: empty is unlimited
    assert post(world, "owner", url, fields).status_code == 302
    d = diff(before, rows())
    assert_only(d, changed={}, added={"reward_tiers", "project_revisions"})
    tier = d.new("reward_tiers")
    assert tier["project_id"] == world.project_id and tier["id"] != 999
    assert (tier["claimed"], tier["is_closed"], tier["quantity_limit"]) == (0, False, None)
    assert tier["minimum_amount"] == 600  # digital: no tier_shipping_rules row was added


@pytest.mark.parametrize("which", ["backed", "unbacked"])
def test_edit_tier(world, which):
    tier_id = world.backed_tier_id if which == "backed" else world.tier_id
    fields = {**tier_form(world), "minimum": "6", "quantity_limit": "50"}
    before = rows()
    assert post(world, "owner", f"/tiers/{tier_id}/edit", fields).status_code == 302
    d = diff(before, rows())
    allowed = {
        "title",
        "description",
        "minimum_amount",
        "quantity_limit",
        "estimated_delivery",
    }
    assert_only(d, changed={"reward_tiers": allowed}, added={"project_revisions"})
    assert set(d.changed["reward_tiers"]) == {(tier_id,)}
    assert {r["tier_id"] for r in d.added["project_revisions"]} == {tier_id}
    assert d.columns("reward_tiers") >= {"title", "quantity_limit"}  # the form worked


# ---- pledges -------------------------------------------------------------------------------


def test_back_a_project(world):
    """The pledge is the visitor's, for this project, pending until Stripe says it is paid."""
    before = rows()
    url = f"/projects/{world.project_id}/back"
    fields = {"tier_id": str(world.tier_id), "amount": "30"}
    assert post(world, "moderator", url, fields).status_code == 302
    d = diff(before, rows())
    assert_only(
        d,
        changed={"reward_tiers": {"claimed"}, "users": {"stripe_customer_id"}},
        added={"pledges", "payments"},
    )
    pledge, payment = d.new("pledges"), d.new("payments")
    assert (pledge["backer_id"], pledge["project_id"]) == (
        world.user_ids["moderator"],
        world.project_id,
    )
    assert (pledge["tier_id"], pledge["currency"], pledge["amount"]) == (world.tier_id, "USD", 3000)
    assert (pledge["status"], pledge["shipping_fee"], pledge["disputed"]) == ("pending", 0, False)
    assert pledge["held_at"] is None and pledge["id"] != 999
    assert (pledge["ref_tag"], pledge["referrer_host"]) == (None, None)  # not the form's to set
    assert (payment["pledge_id"], payment["amount"], payment["status"]) == (
        pledge["id"],
        3000,
        "pending",
    )
    assert payment["stripe_payment_intent_id"].startswith("pi_")
    assert payment["stripe_payment_intent_id"] != "pi_attacker"
    (tier_change,) = d.changed["reward_tiers"].values()
    assert tier_change["claimed"] == (0, 1)  # one place, not the posted 7
    (user_change,) = d.changed["users"].values()
    assert user_change["stripe_customer_id"][1].startswith("cus_")
    assert user_change["stripe_customer_id"][1] != "cus_attacker"
    project = db.session.get(Project, world.project_id)
    assert (project.pledged_amount, project.backer_count) == (2500, 1)  # the held one only


def series_changed(d, columns: set[str]) -> dict:
    """The funding series moves with the total: its hour's row changes (or, in a new hour, is
    added; see ``series_added``)."""
    return {"funding_series": columns} if d.changed.get("funding_series") else {}


def series_added(d) -> set[str]:
    return {"funding_series"} if d.added.get("funding_series") else set()


def series_moved(d) -> int:
    """How much the series' pledged total moved."""
    changed = sum(
        c["pledged"][1] - c["pledged"][0] for c in d.changed.get("funding_series", {}).values()
    )
    return changed + sum(r["pledged"] for r in d.added.get("funding_series", []))


def test_change_a_pledge(world):
    """Down from $25 to $20: the pledge row changes its amount, $5 goes back, nothing else."""
    before = rows()
    fields = {"tier_id": str(world.backed_tier_id), "amount": "20"}
    assert post(world, "backer", f"/pledges/{world.pledge_id}/change", fields).status_code == 302
    d = diff(before, rows())
    assert_only(
        d,
        changed={
            "pledges": {"amount", "version"},  # the version: raised by the server
            "projects": {"pledged_amount"},
            "refunds": {"status", "stripe_refund_id", "completed_at"},
            **series_changed(d, {"pledged", "changed"}),
        },
        added={"refunds", "ledger_transactions", "ledger_entries", "outbox", *series_added(d)},
    )
    assert series_moved(d) == -500
    (refund,) = d.added["refunds"]
    assert (refund["pledge_id"], refund["amount"]) == (world.pledge_id, 500)
    (pledge_change,) = d.changed["pledges"].values()
    assert pledge_change["amount"] == (2500, 2000)
    (project_change,) = d.changed["projects"].values()
    assert project_change["pledged_amount"] == (2500, 2000)


def test_cancel_a_pledge(world):
    """The refund is the whole pledge, whatever amount is posted."""
    before = rows()
    assert post(world, "backer", f"/pledges/{world.pledge_id}/cancel", {}).status_code == 302
    d = diff(before, rows())
    assert_only(
        d,
        changed={
            "pledges": {"status", "ended_at", "end_reason", "version"},
            "projects": {"pledged_amount", "backer_count"},
            "reward_tiers": {"claimed"},
            "refunds": {"status", "stripe_refund_id", "completed_at"},
            **series_changed(d, {"pledged", "backers", "cancelled"}),
        },
        added={"refunds", "ledger_transactions", "ledger_entries", "outbox", *series_added(d)},
    )
    assert series_moved(d) == -2500
    (refund,) = d.added["refunds"]
    assert (refund["pledge_id"], refund["amount"]) == (world.pledge_id, 2500)
    (project_change,) = d.changed["projects"].values()
    assert project_change["pledged_amount"] == (2500, 0)
    assert project_change["backer_count"] == (1, 0)


# ---- payouts -------------------------------------------------------------------------------


def test_connect_a_payout_account(world):
    """The account is the visitor's, with Stripe's id and Stripe's flags, not the posted ones."""
    before = rows()
    response = post(world, "backer", "/payouts/account/connect", {"country": "GB"})
    assert response.status_code == 302
    d = diff(before, rows())
    assert_only(d, changed={}, added={"connected_accounts"})
    account = d.new("connected_accounts")
    assert account["user_id"] == world.user_ids["backer"]
    assert account["stripe_account_id"].startswith("acct_")
    assert account["stripe_account_id"] != "acct_attacker"
    flags = ("details_submitted", "charges_enabled", "payouts_enabled")
    assert [account[f] for f in flags] == [False, False, False]


def test_plan_a_launch_date(world):
    from app.accounts.models import User

    owner = db.session.get(User, world.user_ids["owner"])
    upcoming = gen_project(owner, "approved", title="Sun Lamp")
    before = rows()
    day = (clock.now() + timedelta(days=20)).date().isoformat()
    response = post(world, "owner", f"/projects/{upcoming.id}/launch-date", {"launch_on": day})
    assert response.status_code == 302
    d = diff(before, rows())
    assert_only(d, changed={"projects": {"launch_on"}})
    assert db.session.get(Project, upcoming.id).launch_on.isoformat() == day


# ---- comments ---------------------------------------------------------------------------------


def _comment(world: World) -> dict:
    """The backer's comment on the live project, through its form."""
    url = f"/projects/{world.project_id}/comments/new"
    assert post(world, "backer", url, {"body": "Is it dimmable?"}).status_code == 302
    (comment,) = rows()["comments"].values()
    return comment


def test_post_a_comment(world):
    before = rows()
    url = f"/projects/{world.project_id}/comments/new"
    response = post(world, "backer", url, {"body": "Is it dimmable?", "parent_id": ""})
    assert response.status_code == 302
    d = diff(before, rows())
    assert_only(d, changed={}, added={"comments"})
    comment = d.new("comments")
    assert (comment["author_id"], comment["project_id"]) == (
        world.user_ids["backer"],
        world.project_id,
    )
    assert comment["body"] == "Is it dimmable?" and recent(comment["created_at"])
    for column in ("update_id", "parent_id", "hidden_at", "hidden_by", "edited_at"):
        assert comment[column] is None, column


def test_edit_a_comment(world):
    comment = _comment(world)
    before = rows()
    url = f"/comments/{comment['id']}/edit"
    assert post(world, "backer", url, {"body": "Is it dimmable, really?"}).status_code == 302
    d = diff(before, rows())
    assert_only(d, changed={"comments": {"body", "edited_at"}})
    (cols,) = d.changed["comments"].values()
    assert cols["body"][1] == "Is it dimmable, really?" and recent(cols["edited_at"][1])


def test_hide_a_comment(world):
    comment = _comment(world)
    before = rows()
    url = f"/comments/{comment['id']}/hide"
    assert post(world, "owner", url, {"reason": "Off topic."}).status_code == 302
    d = diff(before, rows())
    assert_only(
        d, changed={"comments": {"hidden_at", "hidden_by", "hidden_by_id", "hidden_reason"}}
    )
    (cols,) = d.changed["comments"].values()
    assert cols["hidden_by"][1] == "creator"  # the owner, never the posted "moderator"
    assert cols["hidden_by_id"][1] == world.user_ids["owner"]


def test_report_a_comment(world):
    comment = _comment(world)
    before = rows()
    url = f"/comments/{comment['id']}/report"
    fields = {"reason": "spam", "details": "An advert."}
    assert post(world, "owner", url, fields).status_code == 302
    d = diff(before, rows())
    assert_only(d, changed={}, added={"reports"})
    report = d.new("reports")
    assert (report["reporter_id"], report["comment_id"], report["target_id"]) == (
        world.user_ids["owner"],
        comment["id"],
        comment["id"],
    )
    assert (report["target_type"], report["status"]) == ("comment", "open")
    assert report["project_id"] == world.project_id and report["decided_by_id"] is None


# ---- updates -------------------------------------------------------------------------------

UPDATE_SNEAKY = {
    "number": "7",
    "author_id": "1",
    "public": "",
    "image": "../../secret_key",
    "published_at": LONG_AGO,
    "edited_at": LONG_AGO,
    "deleted_by_id": "1",
    "delete_reason": "planted",
}
UPDATE_FORM = {"title": "Shipping news", "body": "Boxes.", "audience": "backers"}


def post_update(world: World, url: str, fields: dict):
    return post(world, "owner", url, {**UPDATE_SNEAKY, **fields})


def test_publish_an_update(world):
    before = rows()
    url = f"/projects/{world.project_id}/updates/new"
    assert post_update(world, url, UPDATE_FORM).status_code == 302
    d = diff(before, rows())
    assert_only(d, changed={}, added={"updates", "outbox"})
    update = d.new("updates")
    assert (update["project_id"], update["author_id"]) == (
        world.project_id,
        world.user_ids["owner"],
    )
    assert (update["number"], update["public"], update["image"]) == (2, False, None)
    assert update["deleted_at"] is None and update["delete_reason"] == ""
    assert update["edited_at"] is None and recent(update["published_at"])
    assert {r["user_id"] for r in d.added["outbox"]} == {world.user_ids["backer"]}


def test_edit_an_update(world):
    before = rows()
    url = f"/projects/{world.project_id}/updates/{world.update_number}/edit"
    assert post_update(world, url, {**UPDATE_FORM, "audience": "public"}).status_code == 302
    d = diff(before, rows())
    assert_only(d, changed={"updates": {"title", "body", "public", "edited_at"}})
    (changed,) = d.changed["updates"].values()
    assert recent(changed["edited_at"][1]) and changed["public"] == (False, True)


def test_remove_an_update(world):
    before = rows()
    url = f"/projects/{world.project_id}/updates/{world.update_number}/remove"
    assert post_update(world, url, {"reason": "Wrong date."}).status_code == 302
    d = diff(before, rows())
    assert_only(d, changed={"updates": {"deleted_at", "deleted_by_id", "delete_reason"}})
    (changed,) = d.changed["updates"].values()
    assert changed["deleted_by_id"][1] == world.user_ids["owner"]
    assert changed["delete_reason"][1] == "Wrong date." and recent(changed["deleted_at"][1])


def test_report_an_update(world):
    before = rows()
    url = f"/projects/{world.project_id}/updates/{world.update_number}/report"
    fields = {"reason": "spam", "details": "An advert.", "target_type": "project"}
    sneaky = {"status": "dismissed", "decided_by_id": "1", "comment_id": "1", "target_id": "1"}
    assert post(world, "backer", url, {**sneaky, **fields}).status_code == 302
    d = diff(before, rows())
    assert_only(d, changed={}, added={"reports"})
    report = d.new("reports")
    assert (report["reporter_id"], report["update_id"], report["target_id"]) == (
        world.user_ids["backer"],
        world.update_id,
        world.update_id,
    )
    assert (report["target_type"], report["status"]) == ("update", "open")
    assert report["comment_id"] is None and report["decided_by_id"] is None
