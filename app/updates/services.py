"""Publishing, editing and removing updates, and who may read them. Services flush; the view
commits."""

from __future__ import annotations

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError

from app import clock, events
from app.extensions import db
from app.i18n import N_
from app.moves import move
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge
from app.projects.models import Project
from app.updates.models import Update

# A backer, for updates: their money is in escrow or was paid out (the same people are mailed).
BACKING = (PledgeStatus.HELD, PledgeStatus.COLLECTED)
NUMBER_TRIES = 3


class UpdateRefused(Exception):
    """The message is a catalogue entry."""


def may_post(project: Project) -> bool:
    """Launched: live, or ended (a funded project keeps its backers informed)."""
    return project.is_public and project.launched_at is not None


def publish(
    project: Project, author_id: int, title: str, body: str, public: bool, image: str | None = None
) -> Update:
    """The project's next update, numbered under a lock of the project row (two publishes at
    once get #1 and #2), and its mail written to the outbox in the same transaction."""
    if not may_post(project):
        raise UpdateRefused(N_("Updates can be posted once the project has launched."))
    for _ in range(NUMBER_TRIES):
        # FOR UPDATE on PostgreSQL; on SQLite the unique number and the retry decide.
        db.session.execute(select(Project.id).where(Project.id == project.id).with_for_update())
        last = db.session.scalar(
            select(func.max(Update.number)).where(Update.project_id == project.id)
        )
        update = Update(
            project_id=project.id,
            number=(last or 0) + 1,
            author_id=author_id,
            title=title,
            body=body,
            public=public,
            image=image,
        )
        try:
            with db.session.begin_nested():
                db.session.add(update)
        except IntegrityError:
            continue
        events.publish(events.UpdatePublished(update.id, project.id, public))
        return update
    raise UpdateRefused(N_("Another update was published at the same moment. Try again."))


def edit(update: Update, title: str, body: str, public: bool, image: str | None) -> None:
    """Changed in place and marked edited; nobody is mailed again."""
    update.title, update.body, update.public, update.image = title, body, public, image
    update.edited_at = clock.now()
    db.session.flush()


def remove(update: Update, by_user_id: int, reason: str) -> bool:
    """Removed softly, once (a second tab's removal is refused: False); the reason is kept
    for moderators."""
    won = move(
        Update,
        update.id,
        None,
        where=[Update.deleted_at.is_(None)],
        deleted_at=clock.now(),
        deleted_by_id=by_user_id,
        delete_reason=reason,
    )
    db.session.refresh(update)
    return won


def find(project_id: int, number: int) -> Update | None:
    return db.session.scalar(
        select(Update).where(Update.project_id == project_id, Update.number == number)
    )


def of_project(project_id: int) -> list[Update]:
    """Newest first, removed ones included (the list says they were removed)."""
    return list(
        db.session.scalars(
            select(Update).where(Update.project_id == project_id).order_by(Update.number.desc())
        )
    )


def is_backer(project_id: int, user_id: int) -> bool:
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Pledge.project_id == project_id,
                    Pledge.backer_id == user_id,
                    Pledge.status.in_(BACKING),
                )
            )
        )
    )


def full_readers_check(project: Project, user):
    """A function telling whether ``user`` reads an update of ``project`` in full (public
    ones: everyone; backers-only: backers, the creator and staff). One query at most."""
    insider = None

    def reads(update: Update) -> bool:
        nonlocal insider
        if update.public:
            return True
        if insider is None:
            insider = getattr(user, "is_authenticated", False) and (
                user.id == project.owner_id or user.is_moderator or is_backer(project.id, user.id)
            )
        return bool(insider)

    return reads
