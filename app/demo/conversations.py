"""The demo's people talking, made through the real services: FAQ entries on some live
projects, a question asked and answered (one published to the FAQ), and followers on the
live and the upcoming projects. Flushes only; the demo command commits."""

from __future__ import annotations

from app.follows import services as follows
from app.projects.models import Project
from app.questions import services as questions

# (question, answer) pairs a creator puts in the FAQ, by project index among the live ones.
FAQ = (
    (
        (
            "Does it ship outside the country?",
            "Yes: the shipping fee for your country is added at checkout.",
        ),
        (
            "When will rewards arrive?",
            "Each reward shows its estimated delivery month; we write when they ship.",
        ),
    ),
    (
        (
            "Can I change my pledge later?",
            "Yes, until the deadline: raise it, lower it or cancel it on your pledge's page.",
        ),
    ),
    (
        ("Is there a digital-only option?", "Yes, the lowest tier is digital and ships nothing."),
        (
            "What happens if the goal is not reached?",
            "Every backer is refunded in full: funding is all or nothing.",
        ),
    ),
)
ASKED = (
    "Will there be a second print run for people who miss this one?",
    "Maybe, but not at these prices: this campaign's rewards are the cheapest they will be.",
)
FOLLOWERS_PER_PROJECT = 4


def talk(projects: list[Project], backer_ids: list[int]) -> None:
    """FAQ entries and an answered question on the first live projects; followers on each
    live or approved project, from the demo backers."""
    live = [p for p in projects if p.is_live]
    for project, entries in zip(live, FAQ, strict=False):
        for question, answer in entries:
            questions.add_entry(project, question, answer)
    for index, project in enumerate(live[:2]):
        asked = questions.ask(project, backer_ids[index], ASKED[0])
        # The first is published to the FAQ, the second answered privately.
        questions.answer(asked, ASKED[1], publish_as=ASKED[0] if index == 0 else None)
    for index, project in enumerate(p for p in projects if p.is_followable):
        start = (index * FOLLOWERS_PER_PROJECT) % len(backer_ids)
        for user_id in (backer_ids * 2)[start : start + FOLLOWERS_PER_PROJECT]:
            follows.follow(project, user_id)
