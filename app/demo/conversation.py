"""The demo's comments: backers ask on a few live projects and their creators reply, through
the real comment services, after the pledges are made (only backers may comment)."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import User
from app.comments import services as comments
from app.extensions import db
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge
from app.projects.models import Project

# (a backer's comment, the creator's reply or None, a backer's thanks or None)
THREADS = (
    (
        "Love this! Will the rewards ship worldwide, or only to some countries?",
        "Thank you! We ship everywhere the post goes; the shipping fee shows when you pick a "
        "reward.",
        "Perfect, thanks for the quick answer.",
    ),
    (
        "Any chance of a progress photo from the workshop?",
        "Yes: we will post one each week until the campaign ends.",
        None,
    ),
    ("Backed on day one. Good luck, hope you make it!", None, None),
)
PROJECTS_WITH_COMMENTS = 4


def add_comments(project_ids: list[int]) -> int:
    """Comments and creator replies on the first few projects that have backers; how many
    were posted. Flushes; the command commits."""
    posted = 0
    for project_id in project_ids[:PROJECTS_WITH_COMMENTS]:
        project = db.session.get(Project, project_id)
        backer_ids = db.session.scalars(
            select(Pledge.backer_id)
            .where(Pledge.project_id == project_id, Pledge.status == PledgeStatus.HELD)
            .distinct()
            .order_by(Pledge.backer_id)
            .limit(len(THREADS))
        ).all()
        creator = db.session.get(User, project.owner_id)
        for backer_id, (question, reply, thanks) in zip(backer_ids, THREADS, strict=False):
            backer = db.session.get(User, backer_id)
            comment = comments.post(project, backer, question)
            posted += 1
            if reply:
                comments.post(project, creator, reply, parent_id=comment.id)
                posted += 1
            if thanks:
                comments.post(project, backer, thanks, parent_id=comment.id)
                posted += 1
    return posted
