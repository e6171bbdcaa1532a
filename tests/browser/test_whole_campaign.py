"""A whole campaign in Chromium (issue 12.9), once in English and once in Chinese.

Cora drafts a project with a cover and a reward tier, Mo the moderator approves it, Cora
launches it; three backers pay through the pay page (Bea by card, then raises her pledge;
Cai through 3-D Secure; Dan after a declined card, then cancels and is refunded). The deadline
passes and settlement runs as the scheduler runs it (the CLI); Cora reads her statement and the
backers read their receipt or refund. Only time and settlement happen outside the browser.
Every label is looked up in the reader's language through the app's own catalogue, so the
Chinese run finds its way by the Chinese words and checks Chinese-formatted money.
"""

from __future__ import annotations

import io
import re

import pytest
from flask_babel import force_locale, gettext
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.accounts.models import Role
from app.audit import books
from app.extensions import db
from app.ledger import services as ledger
from app.money import format_money
from app.payouts.models import Payout
from app.pledges.models import Pledge
from app.projects.models import Category, Project
from tests.helpers import PASSWORD, gen_user
from tests.helpers.browser import needs_chromium, screenshot
from tests.helpers.settling import make_balance_available, ready_account, settle

pytestmark = [
    pytest.mark.browser,
    needs_chromium,
    # A page left while the live server still streams a static file (Chromium moves on)
    # leaves that file to the garbage collector: not the platform's doing.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

VISA = "4242424242424242"
DECLINED = "4000000000000341"  # attaches, then fails to charge
THREE_D_SECURE = "4000002500003155"
TITLE = "Tide Clock"
STORY = (
    "A clock that tells the tides of your own harbour, made of reclaimed oak and brass, "
    "wound by hand and built to last a lifetime at sea or on a shelf."
)
# Browser language -> the app's locale.
LANGUAGES = {"en-GB": "en", "zh-CN": "zh_Hans_CN"}


class Reader:
    """One person's browser profile, reading the site in one language."""

    def __init__(self, app, chromium, live_server, browser_locale: str, problems: list) -> None:
        self.app = app
        self.locale = LANGUAGES[browser_locale]
        self.context = chromium.new_context(base_url=live_server, locale=browser_locale)
        self.context.set_default_timeout(15_000)
        self.page: Page = self.context.new_page()
        self.page.on(
            "pageerror", lambda error: problems.append(f"page error: {error} ({self.page.url})")
        )

    def t(self, message: str, **values) -> str:
        """``message`` as the app says it in this reader's language."""
        with self.app.test_request_context(), force_locale(self.locale):
            return gettext(message, **values)

    def money(self, minor: int, currency: str = "USD") -> str:
        return format_money(minor, currency, self.locale)

    def log_in(self, email: str, name: str) -> None:
        page = self.page
        page.goto("/login")
        page.get_by_label(self.t("Email")).fill(email)
        page.get_by_label(self.t("Password")).fill(PASSWORD)
        page.get_by_role("button", name=self.t("Log in")).click()
        expect(page.get_by_test_id("whoami")).to_contain_text(name)


def fill_card(page: Page, number: str) -> None:
    """The fake card element's five inputs, as a person types them."""
    for placeholder, value in [
        ("number", number),
        ("exp_month", "12"),
        ("exp_year", "34"),
        ("cvc", "123"),
        ("postal_code", "10001"),
    ]:
        page.get_by_placeholder(placeholder, exact=True).fill(value)


def pledge_through_pages(who: Reader, project_id: int, amount: str) -> int:
    """From the project page to the pay page: the reward and an amount; the pledge's id."""
    page = who.page
    page.goto(f"/projects/{project_id}")
    expect(page.get_by_role("heading", name=TITLE, exact=True)).to_be_visible()
    page.get_by_role("link", name=who.t("Back this project")).click()
    page.get_by_role("radio", name=re.compile(r"^Harbour edition\b")).check()
    page.get_by_label(who.t("Pledge amount")).fill(amount)
    page.get_by_role("button", name=who.t("Continue to payment")).click()
    page.wait_for_url(re.compile(r"/pledges/\d+/pay$"))
    return int(re.search(r"/pledges/(\d+)/pay$", page.url).group(1))


def pay(who: Reader, minor: int, card: str) -> None:
    page = who.page
    amount = who.money(minor)
    expect(page.get_by_role("heading", name=who.t("Pay %(amount)s", amount=amount))).to_be_visible()
    fill_card(page, card)
    page.get_by_role("button", name=who.t("Pledge %(amount)s", amount=amount)).click()


def assert_held(who: Reader, pledge_id: int, in_escrow: int) -> None:
    page = who.page
    page.wait_for_url(re.compile(rf"/pledges/{pledge_id}$"))
    expect(page.get_by_test_id("pledge-status")).to_have_text(who.t("held"))
    expect(page.get_by_test_id("in-escrow")).to_have_text(who.money(in_escrow))


@pytest.fixture
def cover_file(tmp_path):
    path = tmp_path / "cover.png"
    image = io.BytesIO()
    Image.new("RGB", (640, 360), (30, 90, 120)).save(image, "PNG")
    path.write_bytes(image.getvalue())
    return path


@pytest.mark.parametrize("browser_locale", list(LANGUAGES))
def test_a_whole_campaign(
    app, stripe_fake, clock, runner, chromium, live_server, cover_file, browser_locale
):
    problems: list[str] = []
    suffix = LANGUAGES[browser_locale]
    cora_user = gen_user("cora@example.com", "Cora")
    gen_user("mo@example.com", "Mo", role=Role.MODERATOR)
    for email, name in [("bea@example.com", "Bea"), ("cai@example.com", "Cai")]:
        gen_user(email, name)
    gen_user("dan@example.com", "Dan")
    ready_account(cora_user, stripe_fake)  # Stripe onboarding done (its own pages, not ours)
    design = db.session.scalar(select(Category).where(Category.slug == "design"))
    design_id = design.id
    db.session.commit()

    def person(email: str, name: str) -> Reader:
        who = Reader(app, chromium, live_server, browser_locale, problems)
        who.log_in(email, name)
        return who

    # -- Cora drafts: the project with its cover, then a reward tier, then submits it.
    cora = person("cora@example.com", "Cora")
    page, t = cora.page, cora.t
    page.goto("/projects/new")
    page.get_by_label(t("Title")).fill(TITLE)
    page.get_by_label(t("Short blurb")).fill("The tides of your harbour, on your wall.")
    page.get_by_label(t("Story")).fill(STORY)
    page.get_by_label(t("Category")).select_option(str(design_id))
    page.get_by_label(t("Currency")).select_option("USD")
    page.get_by_label(t("Goal")).fill("100")
    page.get_by_label(t("Duration in days")).fill("20")
    page.get_by_label(t("Cover image")).set_input_files(cover_file)
    page.get_by_role("button", name=t("Save")).click()
    page.wait_for_url(re.compile(r"/projects/\d+/edit$"))
    project_id = int(re.search(r"/projects/(\d+)/edit$", page.url).group(1))
    expect(page.get_by_role("img", name=t("Current cover"))).to_be_visible()

    page.get_by_role("link", name=t("Add a reward tier")).click()
    page.get_by_label(t("Title")).fill("Harbour edition")
    page.get_by_label(t("What backers get")).fill("One clock, set to your harbour.")
    page.get_by_label(t("Minimum pledge")).fill("25")
    page.get_by_label(t("Estimated delivery")).fill("2027-06")
    page.get_by_role("button", name=t("Save tier")).click()
    page.wait_for_url(re.compile(rf"/projects/{project_id}/edit"))
    expect(page.get_by_text(t("Everything is in place."))).to_be_visible()
    page.get_by_role("button", name=t("Submit for review")).click()
    page.wait_for_url(re.compile(r"/my/projects$"))

    # -- Mo approves it.
    mo = person("mo@example.com", "Mo")
    mo.page.goto(f"/moderation/projects/{project_id}")
    mo.page.get_by_role("button", name=mo.t("Approve"), exact=True).click()
    mo.context.close()

    # -- Cora launches it.
    page.goto("/my/projects")
    page.get_by_role("button", name=t("Launch now")).click()
    page.wait_for_url(re.compile(rf"/projects/{project_id}(-[a-z0-9-]+)?$"))
    db.session.rollback()
    project = db.session.get(Project, project_id)
    assert project.status.value == "live" and project.cover_image

    # -- Bea pays $60 by card, then raises to $80 (a second payment of $20).
    bea = person("bea@example.com", "Bea")
    bea_pledge = pledge_through_pages(bea, project_id, "60")
    pay(bea, 6000, VISA)
    assert_held(bea, bea_pledge, 6000)
    bea.page.get_by_role("link", name=bea.t("Change pledge")).click()
    bea.page.get_by_label(bea.t("Pledge amount")).fill("80")
    bea.page.get_by_role("button", name=bea.t("Save changes")).click()
    bea.page.wait_for_url(re.compile(rf"/pledges/{bea_pledge}/pay$"))
    pay(bea, 2000, VISA)
    assert_held(bea, bea_pledge, 8000)

    # -- Cai pays $50 through 3-D Secure.
    cai = person("cai@example.com", "Cai")
    cai_pledge = pledge_through_pages(cai, project_id, "50")
    pay(cai, 5000, THREE_D_SECURE)
    dialog = cai.page.get_by_role("dialog", name="3D Secure authentication")  # Stripe's own
    dialog.get_by_role("button", name="Complete authentication").click()
    assert_held(cai, cai_pledge, 5000)

    # -- Dan's first card is declined; his second goes through; then he cancels.
    dan = person("dan@example.com", "Dan")
    dan_pledge = pledge_through_pages(dan, project_id, "30")
    pay(dan, 3000, DECLINED)
    expect(dan.page.locator("#card-errors")).not_to_be_empty()
    assert re.search(rf"/pledges/{dan_pledge}/pay$", dan.page.url)
    dan.page.get_by_placeholder("number", exact=True).fill(VISA)
    dan.page.get_by_role("button", name=dan.t("Pledge %(amount)s", amount=dan.money(3000))).click()
    assert_held(dan, dan_pledge, 3000)
    dan.page.get_by_role("link", name=dan.t("Cancel pledge")).click()
    dan.page.get_by_role("button", name=dan.t("Cancel my pledge")).click()
    dan.page.wait_for_url(re.compile(rf"/pledges/{dan_pledge}$"))

    # -- The deadline passes; settlement runs as the scheduler would run it.
    db.session.rollback()
    project = db.session.get(Project, project_id)
    assert (project.pledged_amount, project.backer_count) == (13_000, 2)
    make_balance_available(stripe_fake)
    clock.jump_past(project.deadline)
    settle(runner)

    # -- What the books say.
    db.session.rollback()
    project = db.session.get(Project, project_id)
    assert project.status.value == "paid_out"
    payout = db.session.scalar(select(Payout).where(Payout.project_id == project_id))
    assert payout.gross == 13_000 and payout.fee + payout.net == 13_000 and payout.fee > 0
    statuses = {p.id: p.status.value for p in db.session.scalars(select(Pledge))}
    assert statuses == {bea_pledge: "collected", cai_pledge: "collected", dan_pledge: "refunded"}
    assert ledger.balance(ledger.escrow(project_id)) == 0
    assert books.check() == []

    # -- What Stripe saw: four charges (Bea's two, Cai's, Dan's second card), one refund of
    # Dan's $30, one transfer of the payout to Cora's account.
    succeeded = sorted(
        i["amount"] for i in stripe_fake.objects("payment_intents") if i["status"] == "succeeded"
    )
    assert succeeded == [2000, 3000, 5000, 6000]
    assert [r["amount"] for r in stripe_fake.objects("refunds")] == [3000]
    transfers = stripe_fake.objects("transfers")
    assert [(tr["id"], tr["amount"]) for tr in transfers] == [
        (payout.stripe_transfer_id, payout.net)
    ]

    # -- Cora reads her statement.
    page.goto("/my/projects")
    page.get_by_test_id("statement-link").click()
    page.wait_for_url(re.compile(rf"/projects/{project_id}/statement"))
    expect(page.get_by_test_id("gross")).to_have_text(cora.money(16_000))
    expect(page.get_by_test_id("refunded")).to_have_text(cora.money(3000))
    expect(page.get_by_test_id("fee")).to_have_text(cora.money(payout.fee))
    expect(page.get_by_test_id("payout")).to_have_text(cora.money(payout.net))
    expect(page.get_by_test_id("escrow-left")).to_have_text(cora.money(0))
    expect(page.get_by_test_id("transfer-id")).to_have_text(payout.stripe_transfer_id)
    expect(page.get_by_test_id("balanced")).to_have_text(
        t(
            "Platform fee + processing fees deducted + payout + refunds + escrow left = "
            "charged, to the cent."
        )
    )
    screenshot(page, f"campaign-statement-{suffix}")

    # -- The backers read their receipts, and Dan his refund.
    for who, pledge_id, paid in [(bea, bea_pledge, [6000, 2000]), (cai, cai_pledge, [5000])]:
        who.page.goto(f"/pledges/{pledge_id}")
        expect(who.page.get_by_test_id("pledge-status")).to_have_text(who.t("collected"))
        # Not "in escrow" any more: the money went to Cora.
        expect(who.page.locator("dt", has_text=who.t("Paid to the creator"))).to_be_visible()
        expect(who.page.get_by_text(who.t("In escrow now"))).to_have_count(0)
        receipt = who.page.get_by_test_id("receipt")
        for minor in paid:
            expect(receipt).to_contain_text(who.money(minor))
    screenshot(bea.page, f"campaign-receipt-{suffix}")
    dan.page.goto(f"/pledges/{dan_pledge}")
    expect(dan.page.get_by_test_id("pledge-status")).to_have_text(dan.t("refunded"))
    expect(dan.page.get_by_test_id("receipt")).to_contain_text(f"-{dan.money(3000)}")
    screenshot(dan.page, f"campaign-refund-{suffix}")

    if suffix == "zh_Hans_CN":  # the Chinese words, not just no crash
        expect(page.locator("html")).to_have_attribute("lang", "zh-Hans-CN")
        expect(page.get_by_test_id("fee")).to_contain_text("US$")
        expect(dan.page.locator("main")).to_contain_text("退款")
        accounts = cora.page.get_by_test_id("accounts")
        for words in ("支持者", "托管", "发起人", "平台服务费收入"):  # no bare ledger codes
            expect(accounts).to_contain_text(words)
    for who in (cora, bea, cai, dan):
        who.context.close()
    assert problems == []
