"""Browser stories: Debian's Chromium, a live project with a real cover, and the steps a
person takes on the pages (log in, choose a reward, see the pledge held)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from app.extensions import db
from app.pledges.models import Pledge
from app.projects import uploads
from app.projects.models import Project
from tests.helpers import PASSWORD, gen_project, gen_user, project_path

CHROMIUM = "/usr/bin/chromium"
# Where the browser tests leave screenshots for a person to look at (git-ignored, as all of
# instance/): the project page at both widths, and more.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "instance" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"needs Debian's chromium at {CHROMIUM}"
)


def live_project_with_cover(currency: str, goal: int, colour: tuple[int, int, int]):
    """Yield a live project by Cora (tiers "Tier 1" and "Tier 2") with a real cover image,
    committed so no transaction is open while the server writes; the cover file is removed
    afterwards. For the test files' own ``project`` fixtures."""
    creator = gen_user("creator@example.com", "Cora")
    project = gen_project(creator, "live", goal=goal, currency=currency, tiers=2)
    image = io.BytesIO()
    Image.new("RGB", (480, 270), colour).save(image, "PNG")
    project.cover_image = uploads.save_cover(image.getvalue())
    cover = uploads.upload_dir() / project.cover_image
    db.session.commit()
    yield project
    cover.unlink(missing_ok=True)


def login(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("whoami")).to_contain_text("Bea")


def start_pledge(page: Page, project: Project, tier: str = "Tier 1", amount: str = "25") -> int:
    """From the project page to the pay page: choose a reward and an amount; the pledge id."""
    page.goto(project_path(project))
    expect(page.get_by_role("heading", name=project.title, exact=True)).to_be_visible()
    page.get_by_role("link", name="Back this project").click()
    expect(page.get_by_role("heading", name="Back this project")).to_be_visible()
    page.get_by_role("radio", name=re.compile(rf"^{tier}\b")).check()
    page.get_by_label("Pledge amount").fill(amount)
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_url(re.compile(r"/pledges/\d+/pay$"))
    return int(re.search(r"/pledges/(\d+)/pay$", page.url).group(1))


def pledge_status(pledge_id: int) -> str:
    db.session.rollback()  # see what the server committed
    return db.session.get(Pledge, pledge_id).status.value


def assert_held(page: Page, pledge_id: int) -> None:
    page.wait_for_url(re.compile(rf"/pledges/{pledge_id}$"))
    expect(page.get_by_role("status").filter(has_text="Your pledge is in.")).to_be_visible()
    expect(page.get_by_test_id("pledge-status")).to_have_text("held")
    assert pledge_status(pledge_id) == "held"


def screenshot(page: Page, name: str) -> Path:
    """The whole page as ``instance/screenshots/<name>.png``; its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path
