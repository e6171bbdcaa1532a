"""The demo's funded project, carried past its deadline: offline only, against the fake Stripe.

Its pledges were made like a live project's (pledging.py); here its creator finishes Stripe
onboarding (the fake's test-only ``/_config`` routes stand for the form and Stripe's checks),
the fake's pending funds become available, the deadline comes to now (``flask demo end``) and
settlement pays the creator out, all through the platform's own workflows. Then the backer
survey goes out and most backers answer it, the creator marks most rewards shipped with
tracking numbers, one backer confirms receipt and one reports a problem. So the dashboard,
the statement, the survey's response rates, the fulfilment page, the delivered share on the
project page and the creator's delivery record all show real figures from the first start.

Each step commits (no transaction is open while Stripe is called). A step that fails stops
here with a warning; the seed keeps what was done, and the project waits as a real one would
(the scheduler pays it out once it can).
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
from flask import current_app
from sqlalchemy import select

from app import clock
from app.demo import ending
from app.demo import surveys as demo_surveys
from app.extensions import db
from app.fulfilment import services as fulfilment
from app.fulfilment.domain import CsvLine
from app.money import format_money
from app.payments.gateway import GatewayError
from app.payouts import services as payouts
from app.payouts import workflows as payout_workflows
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge
from app.projects.domain import ProjectStatus
from app.projects.models import Project
from app.settlement import runner
from app.workflow import transaction

ANSWERED = 12  # of the project's backers, who answer the survey
NOT_SHIPPED = 2  # the last few collected pledges, still to ship
RECEIVED = 4  # backers who confirm receipt
PROBLEM = "The print arrived with a crease across one corner; the notebook is fine."
SETTLE_TRIES = 3


class DeliveryStopped(Exception):
    """A step could not be done; the message says which, and why."""


@dataclass(frozen=True)
class Delivered:
    project_id: int
    title: str
    paid_out: str  # the payout, formatted
    backers: int
    answered: int
    shipped: int
    received: int
    problems: int


def deliver(project_id: int) -> Delivered:
    """Pay out, survey and ship the funded demo project. Raises DeliveryStopped."""
    if current_app.config["STRIPE_SECRET_KEY"]:
        raise DeliveryStopped(
            "STRIPE_SECRET_KEY is set, so this site talks to Stripe: the funded demo project "
            "is left live (its payout, survey and shipping are shown offline only)."
        )
    with transaction():
        project = db.session.get(Project, project_id)
        owner_id, title, currency = project.owner_id, project.title, project.currency
    try:
        _payouts_ready(owner_id)
        _fake("/_config/balance/make_available", {"currency": currency.lower()})
    except (GatewayError, requests.RequestException) as error:
        raise DeliveryStopped(f"the fake Stripe could not set up the payout: {error}") from None
    with transaction():
        ending.end_now(str(project_id), clock.now())
    for _ in range(SETTLE_TRIES):
        runner.settle_due(project_id)
        with transaction():
            if db.session.get(Project, project_id).status is ProjectStatus.PAID_OUT:
                break
    else:
        raise DeliveryStopped(f"project {project_id} ended but is not paid out yet")
    with transaction():
        payout = payouts.payout_of(project_id)
        paid_out = format_money(payout.net, payout.currency)
        asked, answered = demo_surveys.survey_demo(project_id, answers=ANSWERED)
    with transaction():
        pledge_ids = _collected(project_id)
        shipped = _ship(db.session.get(Project, project_id), pledge_ids, owner_id)
    with transaction():
        received, problems = _backers_answer(pledge_ids)
    return Delivered(project_id, title, paid_out, asked, answered, shipped, received, problems)


def _payouts_ready(user_id: int) -> None:
    """The creator's Stripe account, onboarded and verified, as the platform records it."""
    base = current_app.config["BASE_URL"].rstrip("/")
    links = payouts.Links(
        refresh_url=f"{base}/payouts/account/refresh", return_url=f"{base}/payouts/account/return"
    )
    payout_workflows.connect(user_id, "GB", links)
    with transaction():
        stripe_id = payouts.account_of(user_id).stripe_account_id
    for step in ("complete", "verify"):
        _fake(f"/_config/accounts/{stripe_id}/{step}", {})
    payout_workflows.refresh(user_id)


def _fake(path: str, data: dict[str, str]) -> None:
    """POST to one of the fake Stripe's test-only routes (as `flask payments` does)."""
    base = current_app.config["STRIPE_API_BASE"].rstrip("/")
    requests.post(f"{base}{path}", data=data, timeout=10).raise_for_status()


def _collected(project_id: int) -> list[int]:
    return list(
        db.session.scalars(
            select(Pledge.id)
            .where(Pledge.project_id == project_id, Pledge.status == PledgeStatus.COLLECTED)
            .order_by(Pledge.id)
        )
    )


def _ship(project: Project, pledge_ids: list[int], owner_id: int) -> int:
    """Mark all but the last few collected pledges shipped, as a CSV upload would."""
    lines = [
        CsvLine(number, pledge_id, f"RN{100_000_000 + pledge_id * 7919:09d}GB")
        for number, pledge_id in enumerate(pledge_ids[:-NOT_SHIPPED], start=2)  # line 1: the header
    ]
    fulfilment.mark_lines(project, lines, owner_id)
    return len(lines)


def _backers_answer(pledge_ids: list[int]) -> tuple[int, int]:
    """The first few backers confirm receipt; the next one reports a problem."""
    received = sum(
        fulfilment.confirm_received(fulfilment.shipment_of(pledge_id))
        for pledge_id in pledge_ids[:RECEIVED]
    )
    problem = fulfilment.shipment_of(pledge_ids[RECEIVED])
    return received, int(fulfilment.report_problem(problem, PROBLEM))
