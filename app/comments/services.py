"""Posting, editing, deleting and hiding comments, and reading a thread. Services flush; the
view commits."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import joinedload

from app import clock, events
from app.accounts.models import User
from app.comments.models import Comment, HiddenBy
from app.extensions import db
from app.i18n import N_
from app.moves import move
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge
from app.projects.models import Project, ProjectEvent
from app.updates import services as updates
from app.updates.models import Update

# A backer's own cancel ends their pledge with this reason (app/pledges/services/changes.py):
# they are no longer a backer. A refund at the end (failed, cancelled, suspended) keeps them one.
CANCELLED_BY_BACKER = "Cancelled by the backer."
KEPT_STATUSES = (PledgeStatus.HELD, PledgeStatus.COLLECTED)
REFUNDED_STATUSES = (PledgeStatus.REFUNDING, PledgeStatus.REFUNDED, PledgeStatus.REFUND_FAILED)


class CommentRefused(Exception):
    """A comment that may not be posted or changed; the message is a catalogue entry."""


def is_backer(project_id: int, user_id: int) -> bool:
    """A pledge held or collected, or refunded when the project ended."""
    return db.session.scalar(
        select(
            exists().where(
                Pledge.project_id == project_id,
                Pledge.backer_id == user_id,
                Pledge.status.in_(KEPT_STATUSES)
                | (
                    Pledge.status.in_(REFUNDED_STATUSES)
                    & Pledge.held_at.is_not(None)
                    & (Pledge.end_reason != CANCELLED_BY_BACKER)
                ),
            )
        )
    )


def why_not(project: Project, user) -> str | None:
    """Why ``user`` may not post on the project: "login", "closed" or "backers"; None if
    they may (its backers, its creator and staff, once it is public)."""
    if not getattr(user, "is_authenticated", False):
        return "login"
    if not project.is_public:
        return "closed"
    if user.id == project.owner_id or user.is_moderator or is_backer(project.id, user.id):
        return None
    return "backers"


REFUSALS = {
    "login": N_("Log in to comment."),
    "closed": N_("Comments open once the project is live."),
    "backers": N_("Only backers can comment."),
}


def may_read_update(update: Update, user) -> bool:
    """Whether ``user`` sees an update's comments: those who read the update in full (its
    backers only, if it is for them), while it is not removed (moderators still may)."""
    project = db.session.get(Project, update.project_id)
    if update.is_deleted and not getattr(user, "is_moderator", False):
        return False
    return updates.full_readers_check(project, user)(update)


def post(
    project: Project,
    author: User,
    body: str,
    parent_id: int | None = None,
    update: Update | None = None,
) -> Comment:
    """A comment on the project or one of its updates, or a reply to one (a reply to a
    reply answers its comment: one level)."""
    refused = why_not(project, author)
    if refused:
        raise CommentRefused(REFUSALS[refused])
    if update is not None and (
        update.project_id != project.id or update.is_deleted or not may_read_update(update, author)
    ):
        raise CommentRefused(N_("This update cannot be commented on."))
    update_id = update.id if update is not None else None
    if parent_id is not None:
        parent = db.session.get(Comment, parent_id)
        if parent is None or parent.project_id != project.id or parent.update_id != update_id:
            raise CommentRefused(N_("The comment you answered is not on this page."))
        if parent.parent_id is not None:
            parent = db.session.get(Comment, parent.parent_id)
        if not parent.is_shown:
            raise CommentRefused(N_("This comment can no longer be answered."))
        parent_id = parent.id
    comment = Comment(
        project_id=project.id,
        update_id=update_id,
        parent_id=parent_id,
        author_id=author.id,
        body=body,
    )
    db.session.add(comment)
    db.session.flush()
    events.publish(events.CommentPosted(comment.id))
    return comment


def edit_window() -> timedelta:
    return timedelta(minutes=current_app.config["COMMENT_EDIT_MINUTES"])


def may_edit(comment: Comment, user) -> bool:
    return (
        getattr(user, "is_authenticated", False)
        and comment.author_id == user.id
        and comment.is_shown
        and clock.now() - comment.created_at < edit_window()
    )


def edit(comment: Comment, body: str) -> None:
    """The author's new words, while the comment may still be edited."""
    edited = move(
        Comment,
        comment.id,
        None,
        where=[
            Comment.deleted_at.is_(None),
            Comment.hidden_at.is_(None),
            Comment.created_at > clock.now() - edit_window(),
        ],
        body=body,
        edited_at=clock.now(),
    )
    if not edited:
        raise CommentRefused(N_("This comment can no longer be edited."))
    db.session.refresh(comment)


def delete(comment: Comment) -> bool:
    """The author deletes their words (their replies stay); False if already deleted. A
    hidden comment keeps its words for the moderators."""
    deleted = move(
        Comment,
        comment.id,
        None,
        where=[Comment.deleted_at.is_(None)],
        deleted_at=clock.now(),
        body=case((Comment.hidden_at.is_(None), ""), else_=Comment.body),
    )
    db.session.refresh(comment)
    return deleted


def hider_role(project: Project, user) -> HiddenBy | None:
    """As whom ``user`` may hide the project's comments: a moderator, or the project's creator."""
    if not getattr(user, "is_authenticated", False):
        return None
    if user.is_moderator:
        return HiddenBy.MODERATOR
    if user.id == project.owner_id:
        return HiddenBy.CREATOR
    return None


def hide(comment: Comment, user: User, role: HiddenBy, reason: str) -> bool:
    """Hidden with a reason: the words and the reason stay for moderators. False if it was
    hidden already (two moderators at once, or the creator first)."""
    hidden = move(
        Comment,
        comment.id,
        None,
        where=[Comment.hidden_at.is_(None)],
        hidden_at=clock.now(),
        hidden_by=role,
        hidden_by_id=user.id,
        hidden_reason=reason,
    )
    db.session.refresh(comment)
    if hidden and role is HiddenBy.MODERATOR:  # staff actions are in the project's audit log
        project = db.session.get(Project, comment.project_id)
        db.session.add(
            ProjectEvent(
                project_id=project.id,
                actor_id=user.id,
                action="hide_comment",
                from_status=project.status,
                to_status=project.status,
                reason=f"#{comment.id}: {reason}",
            )
        )
        db.session.flush()
    return hidden


@dataclass(frozen=True)
class Thread:
    """One page of a thread: its top-level comments, newest first, each with every reply,
    oldest first; loaded in a fixed number of queries whatever their number."""

    project: Project
    update_id: int | None
    comments: list[Comment]
    replies: dict[int, list[Comment]] = field(default_factory=dict)
    page: int = 1
    pages: int = 1
    total: int = 0  # comments and replies, deleted and hidden ones included


def _in_thread(project_id: int, update_id: int | None):
    where = Comment.update_id.is_(None) if update_id is None else Comment.update_id == update_id
    return (Comment.project_id == project_id, where)


def thread(project: Project, update_id: int | None = None, page: int = 1) -> Thread:
    per_page = current_app.config["COMMENTS_PER_PAGE"]
    in_thread = _in_thread(project.id, update_id)
    counts = db.session.execute(
        select(
            func.count(Comment.id),
            func.count(Comment.id).filter(Comment.parent_id.is_(None)),
        ).where(*in_thread)
    ).one()
    pages = max(1, math.ceil(counts[1] / per_page))
    page = min(max(page, 1), pages)
    comments = list(
        db.session.scalars(
            select(Comment)
            .options(joinedload(Comment.author))
            .where(*in_thread, Comment.parent_id.is_(None))
            .order_by(Comment.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    replies: dict[int, list[Comment]] = {c.id: [] for c in comments}
    if comments:
        for reply in db.session.scalars(
            select(Comment)
            .options(joinedload(Comment.author))
            .where(Comment.parent_id.in_(list(replies)))
            .order_by(Comment.id)
        ):
            replies[reply.parent_id].append(reply)
    return Thread(project, update_id, comments, replies, page, pages, counts[0])


def new_since(owner_id: int, start, end):
    """Per project of ``owner_id``: how many comments others wrote in [start, end)."""
    return db.session.execute(
        select(Project.id, Project.title, func.count(Comment.id).label("comments"))
        .join(Comment, Comment.project_id == Project.id)
        .where(
            Project.owner_id == owner_id,
            Comment.author_id != owner_id,
            Comment.created_at >= start,
            Comment.created_at < end,
        )
        .group_by(Project.id, Project.title)
        .order_by(Project.id)
    ).all()
