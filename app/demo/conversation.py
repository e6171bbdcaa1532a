"""The demo's comments and updates: backers ask on a few live projects and their creators
reply, and the first live project posts updates (one for backers only) with a comment or two,
through the real services, after the pledges are made (only backers may comment, and an
update's mail goes to its backers)."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import User
from app.comments import services as comments
from app.extensions import db
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge
from app.projects.models import Project
from app.updates import services as updates

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
# (title, Markdown body, public), in the order they are published.
UPDATES = (
    (
        "We are funded: thank you!",
        "You made it happen in **nine days**. Next: the final prototype, then production.\n\n"
        "- Prototype review next week\n- Production slot booked for next month",
        True,
    ),
    (
        "For backers: the prototype, up close",
        "Here is what the workshop looks like this week, and the two colours we are choosing "
        "between. Tell us which one you prefer in the comments.",
        False,
    ),
    (
        "Shipping plan",
        "Rewards ship in the order pledges came in; each gets a tracking number.",
        True,
    ),
)
UPDATE_COMMENT = "Which courier will you use for Europe?"
UPDATE_REPLY = "DHL for Europe; the tracking number comes by e-mail."


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


def add_updates(project_id: int) -> int:
    """The project's updates, and on the first a backer's question and the creator's reply;
    how many updates were published. Flushes; the command commits."""
    project = db.session.get(Project, project_id)
    published = [
        updates.publish(project, project.owner_id, title, body, public)
        for title, body, public in UPDATES
    ]
    backer_id = db.session.scalar(
        select(Pledge.backer_id)
        .where(Pledge.project_id == project_id, Pledge.status == PledgeStatus.HELD)
        .order_by(Pledge.backer_id)
        .limit(1)
    )
    if backer_id is not None:
        first = published[0]
        asked = comments.post(
            project, db.session.get(User, backer_id), UPDATE_COMMENT, update=first
        )
        creator = db.session.get(User, project.owner_id)
        comments.post(project, creator, UPDATE_REPLY, parent_id=asked.id, update=first)
    return len(published)
