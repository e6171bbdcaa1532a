"""Editing one's profile and mail preferences (flushes, never commits)."""

from __future__ import annotations

from sqlalchemy import delete

from app.accounts.models import User
from app.extensions import db
from app.notifications import preferences
from app.notifications.models import MailOptOut


def update_profile(
    user: User,
    *,
    display_name: str,
    bio: str,
    location: str,
    website: str,
    locale: str,
    timezone: str,
) -> None:
    user.display_name = display_name
    user.bio = (bio or "").replace("\r\n", "\n")
    user.location = location or ""
    user.website = website or ""
    user.locale = locale
    user.timezone = timezone
    db.session.flush()


def mail_wanted(user_id: int) -> dict[preferences.Topic, bool]:
    """Each topic of optional mail, and whether the user gets it."""
    return {topic: preferences.wants(user_id, topic) for topic in preferences.Topic}


def set_mail_wanted(user_id: int, wanted: dict[preferences.Topic, bool]) -> list:
    """Turn each topic on or off as ``wanted`` says; the topics whose setting changed."""
    before = mail_wanted(user_id)
    changed = []
    for topic, on in wanted.items():
        if before[topic] == on:
            continue
        changed.append(topic)
        if on:
            db.session.execute(
                delete(MailOptOut).where(
                    MailOptOut.user_id == user_id, MailOptOut.topic == topic.value
                )
            )
        else:
            preferences.turn_off(user_id, topic)
    db.session.flush()
    return changed
