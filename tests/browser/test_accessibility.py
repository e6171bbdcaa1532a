"""Every page type, checked by axe-core at WCAG 2.1 A and AA at desktop and phone widths, in
English and in Simplified Chinese, and no page wider than a phone at 375 px (issue 12.6, 12.7).

The rows the pages show are made once for the module (a settled project and its statement take
a few seconds): the tests here only read pages, so they share them. Forms sent with errors are
sent again by every test that needs them, and change nothing.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select, update

from app import clock as app_clock
from app import create_app
from app.accounts import tokens
from app.accounts.models import Role, User
from app.comments import services as comments
from app.comments.models import HiddenBy
from app.extensions import db, limiter
from app.follows import services as follows
from app.fulfilment import services as fulfilment
from app.i18n import HTML_LANG
from app.projects import services as project_services
from app.projects import uploads
from app.projects.domain import ProjectStatus
from app.projects.models import Project
from app.questions import services as questions
from app.reports import services as reports
from app.reports.models import ReportReason
from app.stretch import services as stretch
from app.surveys import services as surveys
from app.surveys.domain import QuestionKind
from app.updates import services as updates
from tests.browser.axe import add_axe, describe, violations
from tests.helpers import PASSWORD, Browser, gen_project, gen_tier, gen_user
from tests.helpers.app import IsolatedClient, empty_tables
from tests.helpers.browser import DESKTOP, PHONE, needs_chromium
from tests.helpers.pledging import latest_pledge, pay_through_pages, start
from tests.helpers.settling import Clock, make_balance_available, ready_account, settle
from tests.helpers.stripe_fake import FakeStripe
from tests.helpers.world import owner_unsubscribe_token

pytestmark = [pytest.mark.browser, needs_chromium]

WIDTHS = {"desktop": DESKTOP, "phone": PHONE}
# The reader's language, as the browser asks for it (Accept-Language and navigator.language).
LANGUAGES = {"en": "en-US", "zh_Hans_CN": "zh-CN"}


@dataclass
class World:
    """The ids the pages are about, and each person's signed-in browser state."""

    ids: dict[str, int] = field(default_factory=dict)
    sessions: dict[str, dict] = field(default_factory=dict)
    covers: list[Path] = field(default_factory=list)


def _cover(project, colour: tuple[int, int, int], world: World) -> None:
    image = io.BytesIO()
    Image.new("RGB", (640, 360), colour).save(image, "PNG")
    project.cover_image = uploads.save_cover(image.getvalue())
    world.covers.append(uploads.upload_dir() / project.cover_image)


UPDATE_BODY = """We made the first **twenty** lamps this week.

- The brass stands arrived.
- The [shipping partner](https://example.com) is booked.
"""


def _build(app, world: World, fake: FakeStripe) -> None:
    cora = gen_user("cora@example.com", "Cora Lind")
    bea_user = gen_user("bea@example.com", "Bea Park")
    cy_user = gen_user("cy@example.com", "Cy Okafor")
    gen_user("mo@example.com", "Mo Reyes", role=Role.MODERATOR)
    gen_user("ad@example.com", "Ad Min", role=Role.ADMIN)

    # Ended and paid out: the creator's statement, and Bea's collected pledge.
    kettle = gen_project(cora, "live", title="Copper Kettle", goal=10_000, duration_days=1)
    _cover(kettle, (150, 90, 40), world)
    db.session.commit()
    ready_account(cora, fake)
    bea = Browser(app.test_client())
    bea.login("bea@example.com")
    collected, _ = pay_through_pages(bea, fake, kettle, amount="120")
    make_balance_available(fake)
    with pytest.MonkeyPatch.context() as patch:
        clock = Clock()
        patch.setattr(app_clock, "now", clock.now)
        clock.jump_past(kettle.deadline)
        assert "paid_out" in settle(app.test_cli_runner())
    kettle = db.session.get(type(kettle), kettle.id)
    fulfilment.mark_one(kettle, collected.id, "LX123456789SE", cora.id)
    db.session.commit()

    # The kettle's survey, sent: Bea answers from her pledge; Cora reads the responses.
    kettle_survey = surveys.start(kettle)
    surveys.set_address(kettle_survey, True)  # nothing ships, but Cora asks all the same
    surveys.add_question(kettle_survey, QuestionKind.CHOICE, "Which handle?", ["Oak", "Brass"],
                         [], True)  # fmt: skip
    surveys.add_question(kettle_survey, QuestionKind.LONG, "Anything else?", [], [], False)
    surveys.send(kettle_survey)
    # A funded lantern (set straight in the table) whose survey Cora is still writing.
    lantern = gen_project(cora, "live", title="Paper Lantern", tiers=2)
    db.session.execute(
        update(Project).where(Project.id == lantern.id).values(status=ProjectStatus.FUNDED)
    )
    lantern_survey = surveys.start(db.session.get(Project, lantern.id))
    surveys.add_question(lantern_survey, QuestionKind.LINE, "Name to print", [],
                         [lantern.tiers[0].id], False)  # fmt: skip
    db.session.commit()

    moon = gen_project(cora, "live", title="Moon Lamp", tiers=2)
    early = gen_tier(moon, "Early bird", minimum=500, quantity_limit=1)  # Cy takes the only one
    gen_tier(moon, "Lamp, shipped", minimum=6_000, ships=True, shipping_fee=1_500)
    boat = gen_project(cora, "live", title="Paper Boat", goal=50_000)
    robot = gen_project(cora, "live", title="Tin Robot", currency="CNY", goal=1_000_000)
    garden = gen_project(cora, "submitted", title="Glass Garden")
    for project, colour in [(moon, (40, 60, 110)), (boat, (30, 110, 90)), (robot, (120, 40, 40))]:
        _cover(project, colour, world)
    # The moon lamp's FAQ, and two questions Cy asked privately, one of them answered.
    questions.add_entry(moon, "Does it ship to Canada?", "Yes, in about two weeks.")
    questions.add_entry(moon, "Is the light dimmable?", "Yes: three levels.")
    answered = questions.ask(moon, cy_user.id, "Which bulb does it take?")
    questions.answer(answered, "An E14 LED, included.")
    questions.ask(moon, cy_user.id, "Can I choose the colour?")
    # The moon lamp's stretch goals: the ladder, one marked reached (as a row), one to go.
    brass = stretch.add_goal(
        moon, {"amount": 150_000, "title": "A brass stand", "description": "For every lamp."}
    )
    stretch.add_goal(moon, {"amount": 300_000, "title": "A second colour", "description": ""})
    brass.reached_at = app_clock.now()
    # Its add-ons: a limited digital one and one that ships, on the back and change forms.
    from app.addons import services as addons
    from app.rewards.domain import Rule

    addons.add_addon(moon, {"title": "Spare bulb", "description": "A second E14 LED.",
                            "price": 800, "quantity_limit": 40})  # fmt: skip
    addons.add_addon(moon, {"title": "Brass stand", "description": "", "price": 2500,
                            "shipping_rules": [Rule("world", 600)]})  # fmt: skip
    follows.follow(boat, cy_user.id)  # Cy saved the paper boat
    # Approved, not launched: its pre-launch page, with the day Cora plans to launch it.
    sundial = gen_project(cora, "approved", title="Sun Dial")
    _cover(sundial, (190, 150, 40), world)
    project_services.plan_launch(sundial, (app_clock.now() + timedelta(days=12)).date())
    follows.follow(sundial, cy_user.id)
    # Two reports of the paper boat, for the moderators' queue.
    reports.report_project(boat, bea_user, ReportReason.SPAM, "The same text as another site.")
    reports.report_project(boat, cy_user, ReportReason.FRAUD, "")
    # The moon lamp's referral tag, on its dashboard with its link (Cy comes through it).
    from app.campaign import referrals

    referrals.add_tag(moon, "newsletter", "April newsletter")
    db.session.commit()

    cy = Browser(app.test_client())
    cy.login("cy@example.com")
    cy.client.get(f"/projects/{moon.id}?ref=newsletter", follow_redirects=True)
    held, _ = pay_through_pages(cy, fake, moon, tier=early, amount="25")
    # After Cy backed it, Cora rewrote a line of the story: backers are told, moderators see it.
    moon = db.session.get(type(moon), moon.id)
    project_services.update_project(
        moon, {"story": moon.story.strip() + "\n\nNow with a brass stand."}, cora.id
    )
    # Two updates: a public one (edited since) and one for backers only, which Cy reads.
    news = updates.publish(moon, cora.id, "The first lamps are made", UPDATE_BODY, True)
    updates.edit(news, news.title, news.body + "\n\nPhotos next week.", True, None)
    updates.publish(moon, cora.id, "A colour vote for backers", "Teal or amber?", False)
    db.session.commit()
    # The moon lamp's comments: Cy (a backer) asks, Cora and Mo (staff) answer, Cy thanks
    # them; a comment Cy deleted (its reply stays), one Cora hid, and Bea's report of Cy's.
    mo = db.session.scalar(select(User).where(User.email == "mo@example.com"))
    asked = comments.post(moon, cy_user, "Will the brass stand fit the first batch?\nThanks!")
    comments.post(moon, cora, "Yes: every lamp ships with it.", parent_id=asked.id)
    comments.post(moon, mo, "Backstage checked the stand's safety papers.", parent_id=asked.id)
    comments.post(moon, cy_user, "Great, thank you both.", parent_id=asked.id)
    gone = comments.post(moon, cy_user, "Oops, wrong project.")
    comments.post(moon, cora, "No problem!", parent_id=gone.id)
    comments.delete(gone)
    hidden = comments.post(moon, cy_user, "Cheap lamps at lamps.example, click here")
    comments.hide(hidden, cora, HiddenBy.CREATOR, "Advertising")
    comments.post(moon, mo, "Shipping news: the lamps leave the workshop in March.")
    reports.report_comment(asked, bea_user, ReportReason.SPAM, "Looks like an advert to me.")
    # Update #1's own thread (Cy asks, Cora replies) and Bea's report of it, for the queue.
    on_news = comments.post(moon, cy_user, "Which colour came first?", update=news)
    comments.post(moon, cora, "Amber.", parent_id=on_news.id, update=news)
    reports.report_update(news, bea_user, ReportReason.SPAM, "It is an advert.")
    db.session.commit()
    assert start(bea, boat, amount="30").status_code == 302
    pending = latest_pledge()
    assert start(bea, robot, amount="88").status_code == 302
    pending_cny = latest_pledge()
    world.ids.update(
        kettle=kettle.id,
        lantern=lantern.id,
        moon=moon.id,
        garden=garden.id,
        sundial=sundial.id,
        collected=collected.id,
        held=held.id,
        pending=pending.id,
        pending_cny=pending_cny.id,
        unsubscribe=owner_unsubscribe_token(app, cora.id),
        cora=cora.id,
        asked=asked.id,
    )
    # Cora's public profile: a picture, a few words about her, where she is, her website.
    cora = db.session.get(type(cora), cora.id)
    avatar = io.BytesIO()
    Image.new("RGB", (300, 300), (200, 120, 60)).save(avatar, "PNG")
    cora.avatar_image = uploads.save_cover(avatar.getvalue())
    world.covers.append(uploads.upload_dir() / cora.avatar_image)
    cora.bio = "I make lamps and kettles in a small workshop.\nEverything is tested by hand."
    cora.location = "Gothenburg, Sweden"
    cora.website = "https://cora-lind.example.org/workshop"
    db.session.commit()
    # Nia signed up and has not opened her link yet; the mailed links of each kind.
    nia = gen_user("nia@example.com", "Nia Berg", verified=False)
    cy_user = db.session.get(User, cy_user.id)
    world.ids.update(
        verify=tokens.verification(nia),
        reset=tokens.reset(cy_user, cy_user.reset_serial),
        email_change=tokens.email_change(cy_user, "cy.new@example.com"),
        undo=tokens.email_undo(cy_user.id, "cy.old@example.com", cy_user.email),
    )


def _sign_in(chromium, live_server: str, email: str) -> dict:
    context = chromium.new_context(base_url=live_server)
    page = context.new_page()
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("main form [type=submit]")
    state = context.storage_state()
    context.close()
    return state


@pytest.fixture(scope="module")
def world(_migrated, test_config, instance_dir, fakestripe_url, live_server, chromium):
    app = create_app(test_config, instance_path=instance_dir)
    app.test_client_class = IsolatedClient
    fake = FakeStripe(fakestripe_url)
    fake.reset()
    world = World()
    with app.app_context():
        try:
            _build(app, world, fake)
            for who in ("bea", "cora", "cy", "mo", "nia", "ad"):
                world.sessions[who] = _sign_in(chromium, live_server, f"{who}@example.com")
            yield world
        finally:
            for cover in world.covers:
                cover.unlink(missing_ok=True)
            db.session.remove()
            empty_tables()
            db.engine.dispose()
            limiter.reset()
            fake.http.close()


def _submit(page: Page, form: str = "main form[method=post]") -> None:
    """Send the page's own form as it is (so with errors), without naming a button's words;
    past the browser's own checks of required fields, to see the server's messages."""
    page.locator(form).first.evaluate("f => { f.noValidate = true; }")
    with page.expect_navigation():
        page.locator(f"{form} [type=submit]").last.click()


def _wrong_login(page: Page) -> None:
    # One made-up account per test: failed log ins are limited per account.
    page.fill("#email", f"nobody-{id(page)}@example.com")
    page.fill("#password", "not the password")
    _submit(page)


def _bad_website(page: Page) -> None:
    page.fill("#website", "javascript:alert(1)")
    _submit(page, "main form[enctype]")


def _survey_country(page: Page) -> None:
    """Choose a country without JavaScript's help: "Update fields" shows its fields."""
    page.select_option("#country", "US")
    page.click("#update_fields")
    page.wait_for_load_state()


def _survey_errors(page: Page) -> None:
    _survey_country(page)
    page.click("#submit")
    page.wait_for_load_state()


def _low_pledge(page: Page) -> None:
    page.locator("input[name=tier_id]:enabled").first.check()
    page.fill("#amount", "1")
    _submit(page, "#pledge-form")


@dataclass(frozen=True)
class Visit:
    """A page of the tour: who looks, at which address, and what they do there first (send
    its form with errors)."""

    who: str | None
    path: str
    status: int = 200
    then: Callable[[Page], None] | None = None


TOUR = {
    "home": Visit(None, "/"),
    "discover": Visit(None, "/discover"),
    "project": Visit(None, "/projects/{moon}"),
    "project-ended": Visit(None, "/projects/{kettle}"),
    "project-owner": Visit("cora", "/projects/{moon}"),
    "project-asker": Visit("cy", "/projects/{moon}"),  # "You backed this", and Cy's questions
    "faq-and-questions": Visit("cora", "/projects/{moon}/faq"),
    "prelaunch": Visit(None, "/projects/{sundial}"),
    "prelaunch-follower": Visit("cy", "/projects/{sundial}"),  # saved: "we will remind you"
    "prelaunch-owner": Visit("cora", "/projects/{sundial}"),  # Launch now, the launch date
    "back": Visit("bea", "/projects/{moon}/back"),
    "back-errors": Visit("bea", "/projects/{moon}/back", then=_low_pledge),
    "pay": Visit("bea", "/pledges/{pending}/pay"),
    "pay-wallets": Visit("bea", "/pledges/{pending_cny}/pay"),
    "my-pledges": Visit("bea", "/my/pledges"),
    "settings-sessions": Visit("bea", "/settings/sessions"),
    "settings-profile": Visit("bea", "/settings/profile"),
    "settings-profile-errors": Visit("bea", "/settings/profile", then=_bad_website),
    "settings-notifications": Visit("cora", "/settings/notifications"),
    "settings-account-kept": Visit("bea", "/settings/account"),  # her pledges keep it
    "settings-account": Visit("mo", "/settings/account"),  # the delete form
    "person": Visit(None, "/people/{cora}-cora-lind"),
    "pledge": Visit("bea", "/pledges/{collected}"),  # shipped: received, report a problem
    "fulfilment": Visit("cora", "/projects/{kettle}/fulfilment"),
    "report-delivery-problem": Visit("bea", "/pledges/{collected}/problem"),
    "pledge-held": Visit("cy", "/pledges/{held}"),
    "pledge-change": Visit("cy", "/pledges/{held}/change"),
    "pledge-cancel": Visit("cy", "/pledges/{held}/cancel"),
    "pledge-survey": Visit("bea", "/pledges/{collected}"),  # "Survey: not answered"
    "survey-answer": Visit("bea", "/pledges/{collected}/survey?country=US"),  # its fields
    "survey-answer-errors": Visit("bea", "/pledges/{collected}/survey", then=_survey_errors),
    "survey-responses": Visit("cora", "/projects/{kettle}/survey"),
    "survey-draft": Visit("cora", "/projects/{lantern}/survey"),
    "new-project": Visit("cora", "/projects/new"),
    "new-project-errors": Visit("cora", "/projects/new", then=_submit),
    "edit-project": Visit("cora", "/projects/{moon}/edit"),
    "new-tier": Visit("cora", "/projects/{moon}/tiers/new"),
    "new-addon": Visit("cora", "/projects/{moon}/addons/new"),
    "new-addon-errors": Visit("cora", "/projects/{moon}/addons/new", then=_submit),
    "new-stretch-goal": Visit("cora", "/projects/{moon}/stretch-goals/new"),
    "new-stretch-goal-errors": Visit("cora", "/projects/{moon}/stretch-goals/new", then=_submit),
    "cancel-project": Visit("cora", "/projects/{moon}/cancel"),
    "my-projects": Visit("cora", "/my/projects"),
    "payouts": Visit("cora", "/payouts/account"),
    "statement": Visit("cora", "/projects/{kettle}/statement"),
    "money": Visit(None, "/projects/{kettle}/money"),  # where the money went, for anyone
    "dashboard": Visit("cora", "/projects/{moon}/dashboard"),  # figures, chart, its table
    "dashboard-ended": Visit("cora", "/projects/{kettle}/dashboard"),
    "moderation-queue": Visit("mo", "/moderation/"),
    "platform-books": Visit("ad", "/admin/books"),  # the kettle's payout, the moon's escrow
    "moderation-review": Visit("mo", "/moderation/projects/{garden}"),
    "moderation-review-live": Visit("mo", "/moderation/projects/{moon}"),
    "story-changes": Visit(None, "/projects/{moon}/changes"),
    "report-project": Visit("bea", "/projects/{moon}/report"),
    "reports-queue": Visit("mo", "/moderation/reports"),  # a project's, a comment's, an update's
    "comments": Visit(None, "/projects/{moon}/comments"),  # replies, deleted, hidden, staff
    "comments-backer": Visit("cy", "/projects/{moon}/comments"),  # the form, reply boxes
    "comments-not-backer": Visit("bea", "/projects/{moon}/comments"),  # "Only backers..."
    "comments-moderator": Visit("mo", "/projects/{moon}/comments"),  # the hidden words
    "comment-hide": Visit("cora", "/comments/{asked}/hide"),
    "comment-hide-errors": Visit("cora", "/comments/{asked}/hide", then=_submit),
    "report-comment": Visit("bea", "/comments/{asked}/report"),
    "saved-projects": Visit("cy", "/my/saved"),
    "updates": Visit(None, "/projects/{moon}/updates"),
    "update": Visit(None, "/projects/{moon}/updates/1"),
    "update-backers-only": Visit("cy", "/projects/{moon}/updates/2"),
    "update-teaser": Visit("bea", "/projects/{moon}/updates/2"),
    "write-update": Visit("cora", "/projects/{moon}/updates/new"),
    "write-update-errors": Visit("cora", "/projects/{moon}/updates/new", then=_submit),
    "remove-update": Visit("cora", "/projects/{moon}/updates/1/remove"),
    "edit-update": Visit("cora", "/projects/{moon}/updates/1/edit"),
    "update-with-comments": Visit("cy", "/projects/{moon}/updates/1"),
    "report-update": Visit("bea", "/projects/{moon}/updates/1/report"),
    "unsubscribe": Visit(None, "/mail/unsubscribe/{unsubscribe}"),
    "login": Visit(None, "/login"),
    "login-errors": Visit(None, "/login", then=_wrong_login),
    "register": Visit(None, "/register"),
    "register-errors": Visit(None, "/register", then=_submit),
    "check-inbox-sign-up": Visit(None, "/check-inbox/sign-up"),
    "check-inbox-reset": Visit(None, "/check-inbox/reset"),
    "verify": Visit(None, "/verify/{verify}"),
    "verify-first": Visit("nia", "/projects/new", status=403),
    "link-invalid": Visit(None, "/verify/not-a-link", status=400),
    "forgot": Visit(None, "/password/forgot"),
    "forgot-errors": Visit(None, "/password/forgot", then=_submit),
    "reset": Visit(None, "/password/reset/{reset}"),
    "reset-errors": Visit(None, "/password/reset/{reset}", then=_submit),
    "settings-password": Visit("bea", "/settings/password"),
    "settings-password-errors": Visit("bea", "/settings/password", then=_submit),
    "settings-email": Visit("bea", "/settings/email"),
    "settings-email-unverified": Visit("nia", "/settings/email"),
    "email-confirm": Visit(None, "/settings/email/confirm/{email_change}"),
    "email-undo": Visit(None, "/settings/email/undo/{undo}"),
    "not-found": Visit(None, "/projects/999999", status=404),
    "forbidden": Visit("bea", "/projects/{moon}/edit", status=403),
}


@pytest.fixture(scope="module")
def contexts(world, chromium, live_server) -> Iterator[dict]:
    """One browser context per person, language and width, kept for the module: the pages
    only read, and a new context costs more than checking a page."""
    made: dict[tuple, BrowserContext] = {}
    yield made
    for context in made.values():
        context.close()


@pytest.fixture
def visit(world, contexts, chromium, live_server) -> Iterator[Callable[..., Page]]:
    """Open a page of the tour as its person, in a language, at a width."""
    pages = []

    def open_page(name: str, language: str, width: str) -> Page:
        spot = TOUR[name]
        key = (spot.who, language, width)
        if key not in contexts:
            contexts[key] = chromium.new_context(
                base_url=live_server,
                locale=LANGUAGES[language],
                viewport=WIDTHS[width],
                storage_state=world.sessions[spot.who] if spot.who else None,
            )
            add_axe(contexts[key])
        page = contexts[key].new_page()
        pages.append(page)
        response = page.goto(spot.path.format(**world.ids))
        assert response.status == spot.status, f"{name}: {spot.path} answered {response.status}"
        if spot.then:  # a form sent with errors: they are shown, and tied to their fields
            spot.then(page)
            expect(page.locator("[aria-invalid=true]").first).to_be_attached()
        # In the language asked for (the footer's switch is a form too: never sent here).
        expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[language])
        return page

    yield open_page
    for page in pages:
        page.close()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", TOUR)
def test_page_is_accessible(visit, name, width, language):
    """Zero axe violations at WCAG 2.1 A and AA; on a phone, nothing wider than the screen."""
    page = visit(name, language, width)
    if shots := os.environ.get("PAGE_SHOTS"):  # a folder: every page of the tour, to look at
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{shots}/{name}-{width}-{language}.png", full_page=True)
    where = f"{name} at {width} ({language}, {page.url})"
    found = describe(violations(page), where)
    if width == "phone":
        found += too_wide(page, where)
    assert not found, f"{len(found)} problems:\n" + "\n".join(found)


def too_wide(page: Page, where: str) -> list[str]:
    """The page scrolls sideways: the elements that stick out (not those inside a box that
    scrolls on its own, such as a wide table's)."""
    width, culprits = page.evaluate(
        """() => [document.documentElement.scrollWidth,
                  [...document.querySelectorAll('body *')]
                    .filter(e => e.getBoundingClientRect().right > innerWidth + 0.5
                                 && !e.closest('.table-responsive'))
                    .map(e => e.outerHTML.slice(0, 100))]"""
    )
    if width <= page.viewport_size["width"]:
        return []
    return [f"{where}: the page is {width} px wide, sticking out: {c}" for c in culprits[:5]]
