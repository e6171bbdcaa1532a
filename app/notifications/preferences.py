"""Mail a user may turn off, and the signed one-click links that turn it off.

Each kind of mail that is not a receipt or about money may name a ``Topic``; a topic is on
for everyone until they turn it off (a ``mail_opt_outs`` row). Messages of a kind with a
topic carry an unsubscribe link in their footer and the ``List-Unsubscribe`` and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` headers (RFC 8058), all pointing at
``/mail/unsubscribe/<token>``. The token is signed with SECRET_KEY and names the user and
the topic, so it is the authorisation: no log in is needed, and it cannot be changed to
turn off another user's mail or another topic. A feature adds a topic here, maps its kinds
to it in ``TOPIC_OF_KIND``, and skips users for whom ``wants`` is false when it enqueues.
"""

from __future__ import annotations

import enum

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import exists, select

from app.extensions import db
from app.i18n import N_
from app.notifications.models import MailOptOut
from app.notifications.services import Kind, _insert_statement

SALT = "mail-unsubscribe"


class Topic(enum.StrEnum):
    NEW_BACKERS_DIGEST = "new_backers_digest"
    FOLLOWED_PROJECTS = "followed_projects"
    QUESTIONS_ASKED = "questions_asked"
    COMMENT_REPLIES = "comment_replies"
    NEW_COMMENTS_DIGEST = "new_comments_digest"
    PROJECT_UPDATES = "project_updates"

    @property
    def label(self) -> str:
        from flask_babel import gettext

        return gettext(TOPIC_LABELS[self])


TOPIC_LABELS = {
    Topic.NEW_BACKERS_DIGEST: N_("the daily e-mail about your projects' new backers"),
    Topic.FOLLOWED_PROJECTS: N_("reminders about projects you follow"),
    Topic.QUESTIONS_ASKED: N_("an e-mail when someone asks a question about one of your projects"),
    Topic.COMMENT_REPLIES: N_("an e-mail when someone replies to your comment"),
    Topic.NEW_COMMENTS_DIGEST: N_("the daily e-mail about new comments on your projects"),
    Topic.PROJECT_UPDATES: N_("updates from projects I back or follow"),
}

# Kinds of mail that may be turned off. Every other kind (receipts, refunds, payouts,
# review decisions) is always sent.
TOPIC_OF_KIND: dict[str, Topic] = {
    Kind.NEW_BACKERS_DIGEST_CREATOR.value: Topic.NEW_BACKERS_DIGEST,
    Kind.FOLLOWED_LAUNCHED.value: Topic.FOLLOWED_PROJECTS,
    Kind.FOLLOWED_ENDING.value: Topic.FOLLOWED_PROJECTS,
    Kind.QUESTION_ASKED_CREATOR.value: Topic.QUESTIONS_ASKED,
    Kind.COMMENT_REPLY.value: Topic.COMMENT_REPLIES,
    Kind.NEW_COMMENTS_DIGEST_CREATOR.value: Topic.NEW_COMMENTS_DIGEST,
    Kind.UPDATE_PUBLISHED.value: Topic.PROJECT_UPDATES,
    Kind.STRETCH_GOAL_REACHED.value: Topic.PROJECT_UPDATES,
}


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def token_for(user_id: int, topic: Topic) -> str:
    return _serializer().dumps([user_id, topic.value])


def read_token(token: str) -> tuple[int, Topic] | None:
    """The user and topic a token names, or None if it is not one we signed."""
    try:
        user_id, topic = _serializer().loads(token)
        return int(user_id), Topic(topic)
    except (BadSignature, ValueError, TypeError):
        return None


def wants(user_id: int, topic: Topic) -> bool:
    return not db.session.scalar(
        select(exists().where(MailOptOut.user_id == user_id, MailOptOut.topic == topic.value))
    )


def opted_out(topic: Topic):
    """A condition on a user id column: true for those who turned ``topic`` off."""
    return select(MailOptOut.user_id).where(MailOptOut.topic == topic.value)


def turn_off(user_id: int, topic: Topic) -> None:
    """Idempotent: a second click (or the mail client's POST after the page's) changes nothing."""
    db.session.execute(
        _insert_statement(MailOptOut.__table__)
        .values(user_id=user_id, topic=topic.value)
        .on_conflict_do_nothing()
    )
    db.session.flush()
