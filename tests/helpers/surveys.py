"""Survey stories' helpers: a funded project with backers of two tiers, and the creator's
and backers' steps through the pages."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from app.extensions import db
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge
from app.projects.domain import ProjectStatus
from app.projects.models import Project
from app.surveys.models import Survey
from tests.helpers import Browser, gen_project, gen_user, set_shipping


@dataclass
class Funded:
    project_id: int
    tier_ids: list[int]  # $10 (ships, $5), $20 (digital)
    pledges: dict[str, int]  # backer name -> pledge id
    owner: Browser


def browser_of(app, email: str) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(email).status_code == 302
    return browser


def gen_pledge(project_id: int, backer_id: int, tier_id: int, amount: int, status=PledgeStatus.HELD,
               shipping_fee: int = 0, country: str | None = None) -> int:  # fmt: skip
    pledge = Pledge(
        project_id=project_id,
        backer_id=backer_id,
        tier_id=tier_id,
        currency="USD",
        amount=amount,
        shipping_fee=shipping_fee,
        shipping_country=country,
        status=status,
    )
    db.session.add(pledge)
    db.session.flush()
    return pledge.id


def make_funded(app, tag: str = "") -> Funded:
    """Owner Cora's funded project: Ann and Ben back tier 1 (ships), Cal tier 2 (collected),
    Dee's pledge was refunded (never asked)."""
    owner = gen_user(f"{tag}cora@example.com", "Cora")
    project = gen_project(owner, "live", title="Survey Lamp", tiers=2)
    first, second = project.tiers
    set_shipping(first, {"world": 500})
    users = {n: gen_user(f"{tag}{n.lower()}@example.com", n) for n in ("Ann", "Ben", "Cal", "Dee")}
    pid, ids = project.id, {n: u.id for n, u in users.items()}
    pledges = {
        "Ann": gen_pledge(pid, ids["Ann"], first.id, 1500, shipping_fee=500, country="US"),
        "Ben": gen_pledge(pid, ids["Ben"], first.id, 1000, shipping_fee=500, country="GB"),
        "Cal": gen_pledge(pid, ids["Cal"], second.id, 2000, PledgeStatus.COLLECTED),
        "Dee": gen_pledge(pid, ids["Dee"], first.id, 1000, PledgeStatus.REFUNDED),
    }
    db.session.execute(
        update(Project).where(Project.id == project.id).values(status=ProjectStatus.FUNDED)
    )
    db.session.commit()
    return Funded(project.id, [first.id, second.id], pledges, browser_of(app, owner.email))


US_ADDRESS = {
    "country": "US",
    "name": "Ann Example",
    "street_address": "1 Main Street",
    "city": "Springfield",
    "country_area": "IL",
    "postal_code": "62701",
}


def manage_url(funded) -> str:
    return f"/projects/{funded.project_id}/survey"


def build(funded, questions=()) -> None:
    """Through the creator's page: the address setting kept, then each question added."""
    for question in questions:
        response = funded.owner.submit(
            manage_url(funded),
            question,
            action=f"/projects/{funded.project_id}/survey/questions",
        )
        assert response.status_code == 302, response.get_data(as_text=True)


def question(prompt, kind="line", options="", tiers=(), required=False) -> dict:
    data = {"question-kind": kind, "question-prompt": prompt, "question-options": options}
    if tiers:
        data["question-tiers"] = [str(t) for t in tiers]
    if required:
        data["question-required"] = "y"
    return data


def send(funded):
    return funded.owner.submit(
        manage_url(funded), action=f"/projects/{funded.project_id}/survey/send"
    )


def survey_of(funded) -> Survey:
    db.session.expire_all()
    return db.session.scalar(select(Survey).where(Survey.project_id == funded.project_id))


def answer(app, name, pledge_id, data, follow=False):
    browser = browser_of(app, f"{name.lower()}@example.com")
    return browser, browser.submit(f"/pledges/{pledge_id}/survey", data, follow_redirects=follow)
