"""Mail about comments: a reply to someone's comment, and the creators' daily digest of new
comments on their projects (a ``digests.Digest``, written as the new-backers digest is: once per
creator and day, recorded in ``mail_digests``, only when there were new comments). Flushes,
never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, Select, func, select

from app.accounts.models import User
from app.comments.models import Comment
from app.extensions import db
from app.notifications import preferences
from app.notifications import services as notifications
from app.notifications.digests import Digest, write_due_of
from app.notifications.services import Kind
from app.projects.models import Project
from app.updates.models import Update

EXCERPT = 500  # characters of a reply quoted in its mail
DIGEST = Kind.NEW_COMMENTS_DIGEST_CREATOR
DIGEST_TOPIC = preferences.Topic.NEW_COMMENTS_DIGEST


def comment_posted(comment_id: int) -> None:
    """A reply: the author of the comment it answers hears, unless they wrote it themselves
    or turned these mails off."""
    reply = db.session.get(Comment, comment_id)
    if reply is None or reply.parent_id is None:
        return
    parent = db.session.get(Comment, reply.parent_id)
    if parent.author_id == reply.author_id or parent.is_deleted:
        return
    if not preferences.wants(parent.author_id, preferences.Topic.COMMENT_REPLIES):
        return
    replier = db.session.scalar(select(User.display_name).where(User.id == reply.author_id))
    on_update = reply.update_id and db.session.scalar(
        select(Update.number).where(Update.id == reply.update_id)
    )
    notifications.to_user(
        Kind.COMMENT_REPLY,
        f"{Kind.COMMENT_REPLY.value}:{reply.id}",
        parent.author_id,
        project_id=reply.project_id,
        data={
            "comment_id": parent.id,
            "reply_id": reply.id,
            "replier": replier,
            "reply": reply.body[:EXCERPT],
            "comment": parent.body[:EXCERPT],
            "update_number": on_update or None,  # the thread is on that update's page
        },
    )


def _new_comments(*conditions):
    """New comments others wrote on a creator's projects (not deleted)."""
    return (
        select(Project.owner_id, Project.id, Project.title, func.count(Comment.id))
        .join(Comment, Comment.project_id == Project.id)
        .where(
            Comment.author_id != Project.owner_id,
            Comment.deleted_at.is_(None),
            *conditions,
        )
        .group_by(Project.owner_id, Project.id, Project.title)
    )


def _digest_owners(start: datetime, end: datetime) -> Select:
    return (
        select(Project.owner_id)
        .join(Comment, Comment.project_id == Project.id)
        .where(
            Comment.author_id != Project.owner_id,
            Comment.deleted_at.is_(None),
            Comment.created_at >= start,
            Comment.created_at < end,
            Project.owner_id.not_in(preferences.opted_out(DIGEST_TOPIC)),
        )
    )


def _digest_lines(owner_id: int, start: datetime, end: datetime) -> Sequence[Row]:
    return db.session.execute(
        _new_comments(
            Project.owner_id == owner_id, Comment.created_at >= start, Comment.created_at < end
        ).order_by(Project.id)
    ).all()


def _digest_data(lines: Sequence[Row]) -> dict:
    return {
        "comments": sum(line[3] for line in lines),
        "projects": [{"id": line[1], "title": line[2], "comments": line[3]} for line in lines],
    }


NEW_COMMENTS = Digest(DIGEST, DIGEST_TOPIC, _digest_owners, _digest_lines, _digest_data)


def write_due_digests(now: datetime) -> int:
    """Write the new-comments digests due at ``now``; how many were written."""
    return write_due_of(NEW_COMMENTS, now)
