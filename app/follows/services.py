"""Following and unfollowing. Services flush; the view commits."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.follows.models import Follow
from app.i18n import N_
from app.projects.models import Project


class FollowRefused(Exception):
    """The message is a catalogue entry."""


def follow(project: Project, user_id: int) -> bool:
    """Follow once; False if already followed (a double click)."""
    if project.owner_id == user_id:
        raise FollowRefused(N_("This is your own project."))
    if not project.is_followable:
        raise FollowRefused(N_("Only a live or an upcoming project can be followed."))
    try:
        with db.session.begin_nested():
            db.session.add(Follow(user_id=user_id, project_id=project.id))
    except IntegrityError:
        return False
    return True


def unfollow(project_id: int, user_id: int) -> None:
    db.session.execute(
        delete(Follow).where(Follow.project_id == project_id, Follow.user_id == user_id)
    )


def follows(project_id: int, user_id: int | None) -> bool:
    if user_id is None:
        return False
    return (
        db.session.scalar(
            select(Follow.id).where(Follow.project_id == project_id, Follow.user_id == user_id)
        )
        is not None
    )


def saved(user_id: int) -> list[Follow]:
    """The user's followed projects, the most recently saved first."""
    return list(
        db.session.scalars(
            select(Follow).where(Follow.user_id == user_id).order_by(Follow.id.desc())
        )
    )
