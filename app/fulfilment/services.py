"""Marking rewards as shipped (one, a tier, or a CSV), the backer's confirmation or problem,
and the delivered share of a project and of a creator. Services flush; the view commits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from app import clock, events
from app.extensions import db
from app.fulfilment.domain import CsvLine, LineError, clean_problem, share_percent
from app.fulfilment.models import Shipment
from app.i18n import N_
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge
from app.projects.domain import ProjectStatus
from app.projects.models import Project
from app.rewards.models import RewardTier

# Rewards to deliver: pledges whose money went to the creator in a payout.
DELIVERABLE = PledgeStatus.COLLECTED
PAGE_SIZE = 50
MAX_CURSOR = 2**31 - 1


NOT_YET = N_("Rewards can be marked as shipped once the project is paid out.")


class FulfilmentRefused(Exception):
    """The message is a catalogue entry."""


def may_fulfil(project: Project) -> bool:
    """Rewards are marked once the project is paid out: its pledges are then collected."""
    return project.status is ProjectStatus.PAID_OUT


def _lock_project(project_id: int) -> None:
    """Marks of one project serialise on its row (FOR UPDATE on PostgreSQL; on SQLite the
    write lock, and the unique pledge_id as the last word)."""
    db.session.execute(select(Project.id).where(Project.id == project_id).with_for_update())


def _insert(table):
    dialect = db.session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def _upsert(project_id: int, marks: dict[int, str], by_user_id: int) -> list[int]:
    """Mark ``marks`` (pledge id -> tracking number) shipped; the pledges whose backers have
    news (newly shipped, or a changed tracking number)."""
    if not marks:
        return []
    now = clock.now()
    ids = sorted(marks)
    existing = dict(
        db.session.execute(
            select(Shipment.pledge_id, Shipment.tracking_number).where(Shipment.pledge_id.in_(ids))
        ).all()
    )
    news = []
    for pledge_id in ids:
        tracking = marks[pledge_id]
        if pledge_id not in existing:
            db.session.execute(
                _insert(Shipment.__table__)
                .values(
                    pledge_id=pledge_id,
                    project_id=project_id,
                    shipped_at=now,
                    tracking_number=tracking,
                    marked_by_id=by_user_id,
                    notice=1,
                    problem="",
                )
                .on_conflict_do_nothing(index_elements=["pledge_id"])
            )
            news.append(pledge_id)
        elif existing[pledge_id] != tracking:
            db.session.execute(
                update(Shipment)
                .where(Shipment.pledge_id == pledge_id)
                .values(
                    tracking_number=tracking,
                    marked_by_id=by_user_id,
                    shipped_at=now,
                    notice=Shipment.notice + 1,
                )
                .execution_options(synchronize_session=False)
            )
            news.append(pledge_id)
    db.session.flush()
    db.session.expire_all()
    return news


def _deliverable_pledge(project: Project, pledge_id: int) -> Pledge:
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is None or pledge.project_id != project.id:
        raise FulfilmentRefused(N_("This pledge is not one of the project's."))
    if pledge.status is not DELIVERABLE:
        raise FulfilmentRefused(N_("Only collected pledges have a reward to ship."))
    return pledge


def mark_one(project: Project, pledge_id: int, tracking: str, by_user_id: int) -> bool:
    """One pledge shipped (again, with a new tracking number); True if its backer is mailed."""
    if not may_fulfil(project):
        raise FulfilmentRefused(NOT_YET)
    _lock_project(project.id)
    _deliverable_pledge(project, pledge_id)
    news = _upsert(project.id, {pledge_id: tracking}, by_user_id)
    if news:
        events.publish(events.RewardsShipped(project.id, tuple(news)))
    return bool(news)


def mark_tier(project: Project, tier_id: int, by_user_id: int) -> int:
    """Every collected pledge of the tier not yet shipped, in one statement (tracking numbers
    already given are kept); how many were marked."""
    if not may_fulfil(project):
        raise FulfilmentRefused(NOT_YET)
    tier = db.session.get(RewardTier, tier_id)
    if tier is None or tier.project_id != project.id:
        raise FulfilmentRefused(N_("This reward is not one of the project's."))
    _lock_project(project.id)
    now = clock.now()
    rows = select(
        Pledge.id,
        literal(project.id),
        literal(now, Shipment.__table__.c.shipped_at.type),
        literal(""),
        literal(by_user_id),
        literal(1),
        literal(""),
    ).where(
        Pledge.project_id == project.id,
        Pledge.tier_id == tier.id,
        Pledge.status == DELIVERABLE,
        ~exists().where(Shipment.pledge_id == Pledge.id),
    )
    columns = ("pledge_id", "project_id", "shipped_at", "tracking_number", "marked_by_id",
               "notice", "problem")  # fmt: skip
    before = _shipped_count(project.id)
    db.session.execute(
        _insert(Shipment.__table__)
        .from_select(columns, rows)
        .on_conflict_do_nothing(index_elements=["pledge_id"])
    )
    db.session.flush()
    marked = _shipped_count(project.id) - before
    if marked:
        events.publish(events.RewardsShipped(project.id, (), tier_id=tier.id))
    return marked


def check_lines(project: Project, lines: list[CsvLine]) -> list[LineError]:
    """What is wrong with the lines that name a pledge the project cannot ship."""
    ids = [line.pledge_id for line in lines]
    found = {}
    for start in range(0, len(ids), 1000):
        batch = ids[start : start + 1000]
        found.update(
            (r.id, r)
            for r in db.session.execute(
                select(Pledge.id, Pledge.project_id, Pledge.status).where(Pledge.id.in_(batch))
            )
        )
    errors = []
    for line in lines:
        row = found.get(line.pledge_id)
        value = (("id", str(line.pledge_id)),)
        if row is None:
            errors.append(LineError(line.number, N_("There is no pledge %(id)s."), value))
        elif row.project_id != project.id:
            errors.append(
                LineError(line.number, N_("Pledge %(id)s is a pledge to another project."), value)
            )
        elif row.status is not DELIVERABLE:
            errors.append(
                LineError(
                    line.number, N_("Pledge %(id)s was not collected: nothing to ship."), value
                )
            )
    return errors


def mark_lines(project: Project, lines: list[CsvLine], by_user_id: int) -> int:
    """Every line of a checked CSV, all or nothing; how many backers have news."""
    if not may_fulfil(project):
        raise FulfilmentRefused(NOT_YET)
    _lock_project(project.id)
    if check_lines(project, lines):  # checked again under the lock
        raise FulfilmentRefused(N_("The file changed meanwhile: upload it again."))
    news = _upsert(project.id, {line.pledge_id: line.tracking_number for line in lines}, by_user_id)
    if news:
        events.publish(events.RewardsShipped(project.id, tuple(news)))
    return len(news)


def _shipped_count(project_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Shipment).where(Shipment.project_id == project_id)
    )


# ---- the backer ---------------------------------------------------------------------------


def shipment_of(pledge_id: int) -> Shipment | None:
    return db.session.scalar(select(Shipment).where(Shipment.pledge_id == pledge_id))


def confirm_received(shipment: Shipment) -> bool:
    """Received, once (a second confirmation changes nothing: False)."""
    result = db.session.execute(
        update(Shipment)
        .where(Shipment.id == shipment.id, Shipment.received_at.is_(None))
        .values(received_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(shipment)
    return result.rowcount == 1


def report_problem(shipment: Shipment, text: str) -> bool:
    """The backer's problem, once per shipment (False: one was already reported); the
    creator is mailed in the same transaction."""
    text = clean_problem(text)
    if not text:
        raise FulfilmentRefused(N_("Say what went wrong."))
    result = db.session.execute(
        update(Shipment)
        .where(Shipment.id == shipment.id, Shipment.problem_at.is_(None))
        .values(problem=text, problem_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(shipment)
    if result.rowcount != 1:
        return False
    events.publish(events.DeliveryProblemReported(shipment.id))
    return True


# ---- the creator's page -------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    pledge: Pledge
    shipment: Shipment | None


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    next_after: int | None  # the cursor of the next page, None on the last


def page_of(project: Project, after: int | None = None, size: int = PAGE_SIZE) -> Page:
    """The project's collected pledges in id order, ``size`` at a time from ``after``
    (an index range, never an OFFSET), each with its shipment."""
    query = (
        select(Pledge, Shipment)
        .outerjoin(Shipment, Shipment.pledge_id == Pledge.id)
        .where(Pledge.project_id == project.id, Pledge.status == DELIVERABLE)
        .order_by(Pledge.id)
        .limit(size + 1)
    )
    if after is not None:
        query = query.where(Pledge.id > after)
    found = [Row(p, s) for p, s in db.session.execute(query)]
    more = len(found) > size
    found = found[:size]
    return Page(found, found[-1].pledge.id if more and found else None)


@dataclass(frozen=True)
class TierCount:
    tier: RewardTier
    pledges: int
    shipped: int


def tier_counts(project: Project) -> list[TierCount]:
    shipped = aliased(Shipment)
    counts = {
        r.tier_id: (r.pledges, r.shipped)
        for r in db.session.execute(
            select(
                Pledge.tier_id,
                func.count(Pledge.id).label("pledges"),
                func.count(shipped.id).label("shipped"),
            )
            .outerjoin(shipped, shipped.pledge_id == Pledge.id)
            .where(Pledge.project_id == project.id, Pledge.status == DELIVERABLE)
            .group_by(Pledge.tier_id)
        )
    }
    return [TierCount(t, *counts[t.id]) for t in project.tiers if t.id in counts]


# ---- the shares ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """A project's rewards: collected pledges, how many shipped, how many confirmed."""

    project: Project
    total: int
    shipped: int
    received: int
    problems: int = 0

    @property
    def percent(self) -> int:
        return share_percent(self.shipped, self.total)


def deliveries(projects: Iterable[Project]) -> list[Delivery]:
    """Each paid-out project's delivery figures, in two aggregate queries."""
    projects = [p for p in projects if may_fulfil(p)]
    if not projects:
        return []
    ids = [p.id for p in projects]
    totals = dict(
        db.session.execute(
            select(Pledge.project_id, func.count())
            .where(Pledge.project_id.in_(ids), Pledge.status == DELIVERABLE)
            .group_by(Pledge.project_id)
        ).all()
    )
    shipped = {
        r.project_id: r
        for r in db.session.execute(
            select(
                Shipment.project_id,
                func.count().label("shipped"),
                func.count(Shipment.received_at).label("received"),
                func.count(Shipment.problem_at).label("problems"),
            )
            .join(Pledge, and_(Pledge.id == Shipment.pledge_id, Pledge.status == DELIVERABLE))
            .where(Shipment.project_id.in_(ids))
            .group_by(Shipment.project_id)
        )
    }
    out = []
    for project in projects:
        total = totals.get(project.id, 0)
        if not total:
            continue  # no reward to deliver
        row = shipped.get(project.id)
        out.append(
            Delivery(
                project,
                total,
                row.shipped if row else 0,
                row.received if row else 0,
                row.problems if row else 0,
            )
        )
    return out


def delivery_of(project: Project) -> Delivery | None:
    found = deliveries([project])
    return found[0] if found else None


@dataclass(frozen=True)
class Record:
    """A creator's delivery record across their paid-out projects."""

    lines: list[Delivery]

    @property
    def total(self) -> int:
        return sum(d.total for d in self.lines)

    @property
    def shipped(self) -> int:
        return sum(d.shipped for d in self.lines)

    @property
    def received(self) -> int:
        return sum(d.received for d in self.lines)

    @property
    def percent(self) -> int:
        return share_percent(self.shipped, self.total)


def record_of(user_id: int) -> Record:
    projects = db.session.scalars(
        select(Project)
        .where(Project.owner_id == user_id, Project.status == ProjectStatus.PAID_OUT)
        .order_by(Project.settled_at.desc(), Project.id.desc())
    )
    return Record(deliveries(projects))
