"""Notification fixtures: a funded project's news queued, and the file backend's mbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.extensions import db
from app.notifications import services as notifications
from app.notifications.models import Outbox
from app.notifications.sender import FileBackend
from tests.helpers.notifications import gen_held_pledges, outbox


@pytest.fixture
def queued(app, creator, project) -> list[Outbox]:
    """A funded project's news, committed: one message to the creator, three to backers."""
    gen_held_pledges(project, 3, amount=2500)
    notifications.project_funded(project)
    db.session.commit()
    return outbox()


@pytest.fixture
def mail_file(tmp_path) -> Path:
    return tmp_path / "mail.mbox"


@pytest.fixture
def file_backend(mail_file) -> FileBackend:
    return FileBackend(mail_file)
