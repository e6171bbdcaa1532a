"""Mail about comments: a reply to someone's comment, and the creators' daily digest of new
comments on their projects (written like the new-backers digest in ``digests.py``: once per
creator and day, recorded in ``mail_digests``, only when there were new comments). Flushes,
never commits."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.accounts.models import User
from app.comments.models import Comment
from app.extensions import db
from app.notifications import preferences
from app.notifications import services as notifications
from app.notifications.digests import LOOKBACK, period_end
from app.notifications.models import MailDigest
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


def write_due_digests(now: datetime) -> int:
    """Write the new-comments digests due at ``now``; how many were written."""
    end = period_end(now)
    floor = end - LOOKBACK
    owners = db.session.scalars(
        select(Project.owner_id)
        .join(Comment, Comment.project_id == Project.id)
        .where(
            Comment.author_id != Project.owner_id,
            Comment.deleted_at.is_(None),
            Comment.created_at >= floor,
            Comment.created_at < end,
            Project.owner_id.not_in(preferences.opted_out(DIGEST_TOPIC)),
        )
        .distinct()
    ).all()
    if not owners:
        return 0
    last = dict(
        db.session.execute(
            select(MailDigest.user_id, func.max(MailDigest.period_end))
            .where(MailDigest.kind == DIGEST.value, MailDigest.user_id.in_(owners))
            .group_by(MailDigest.user_id)
        ).all()
    )
    written = 0
    for owner_id in sorted(owners):
        start = max(last.get(owner_id) or end - timedelta(days=1), floor)
        if start < end and _write_digest(owner_id, start, end):
            written += 1
    return written


def _write_digest(owner_id: int, start: datetime, end: datetime) -> bool:
    lines = db.session.execute(
        _new_comments(
            Project.owner_id == owner_id, Comment.created_at >= start, Comment.created_at < end
        ).order_by(Project.id)
    ).all()
    if not lines:
        return False
    digest_id = db.session.scalar(
        notifications._insert_statement(MailDigest.__table__)
        .values(user_id=owner_id, kind=DIGEST.value, period_start=start, period_end=end)
        .on_conflict_do_nothing(index_elements=["user_id", "kind", "period_end"])
        .returning(MailDigest.id)
    )
    if digest_id is None:  # another run wrote this period's digest first
        return False
    notifications.to_user(
        DIGEST,
        f"{DIGEST.value}:{digest_id}",
        owner_id,
        data={
            "start": start.isoformat(),
            "end": end.isoformat(),
            "comments": sum(line[3] for line in lines),
            "projects": [{"id": line[1], "title": line[2], "comments": line[3]} for line in lines],
        },
    )
    return True
