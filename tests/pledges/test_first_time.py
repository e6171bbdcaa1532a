"""What a newcomer meets first on the way to a pledge (issue 21.5)."""

from __future__ import annotations

from datetime import timedelta

from app import clock
from app.extensions import db
from app.templating import duration_text, time_left
from tests.helpers import Browser, gen_project, parse_forms, project_path, set_shipping
from tests.helpers.pledging import latest_pledge, pay_through_pages, start


def _amount_value(html: str) -> str:
    (form,) = [f for f in parse_forms(html) if f["method"] == "post" and "amount" in f["fields"]]
    return form["fields"]["amount"]


def test_a_sold_out_reward_says_so(app, backer, project, stripe_fake):
    tier = project.tiers[1]
    tier.quantity_limit, tier.claimed = 5, 5
    db.session.commit()
    response = start(backer, project, tier=tier, amount="25")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "This reward is sold out. Choose another one." in page
    assert "Not a valid choice" not in page
    assert latest_pledge() is None


def test_a_closed_reward_says_so(app, backer, project, stripe_fake):
    project.tiers[1].is_closed = True
    db.session.commit()
    page = start(backer, project, tier=project.tiers[1], amount="25").get_data(as_text=True)
    assert "This reward is closed to new backers. Choose another one." in page


def test_the_amount_starts_at_the_rewards_minimum_with_the_total(app, backer, project):
    tier = project.tiers[1]  # $20 or more
    set_shipping(tier, {"world": 550})
    db.session.commit()
    page = backer.client.get(f"/projects/{project.id}/back?tier={tier.id}").get_data(as_text=True)
    assert _amount_value(page) == "20.00"
    # The fee depends on the country: none chosen yet, the total is the pledge's.
    assert "Total charged now: $20.00" in page and "+ $5.50 shipping" not in page
    # For back.js, which prices the chosen country as the choice moves.
    assert 'data-minimum="2000" data-shipping="{&#34;world&#34;: 550}"' in page
    # With a country (here on a form refused for its amount), the fee is in the total.
    page = start(backer, project, tier=tier, amount="5", country="FR").get_data(as_text=True)
    assert "This reward needs a pledge of at least $20.00." in page
    assert "Total charged now: $10.50 ($5.00 pledge + $5.50 shipping)" in page


def test_the_total_is_shown_again_after_a_refused_form(app, backer, project):
    page = start(backer, project, amount="35", country="ZZ").get_data(as_text=True)
    assert "Choose a country from the list." in page
    assert "Total charged now: $35.00" in page


def test_a_21_day_project_shows_21_days_to_go_right_after_launch(app, client, creator):
    project = gen_project(creator, "live", duration_days=21)
    project.launched_at = clock.now()
    project.deadline = project.launched_at + timedelta(days=21)
    db.session.commit()
    page = client.get(project_path(project)).get_data(as_text=True)
    assert "21 days to go" in page


def test_countdowns_and_durations_read_as_english():
    now = clock.now()
    assert time_left(now + timedelta(days=1, hours=1, minutes=30)) == "1 day 2 hours to go"
    assert time_left(now + timedelta(seconds=20)) == "1 minute to go"
    assert time_left(now - timedelta(seconds=1)) == "ended"
    assert duration_text(86400 + 3600) == "1 day 1 hour"
    assert duration_text(7200) == "2 hours"
    assert duration_text(60) == "1 minute"


def test_signing_up_from_the_log_in_page_comes_back_to_the_pledge_form(app, client, project):
    target = f"/projects/{project.id}/back"
    login_page = client.get(target, follow_redirects=True).get_data(as_text=True)
    assert f'New here? <a href="/register?next={target}">Create an account</a>' in login_page
    browser = Browser(client)
    response = browser.submit(
        f"/register?next=%2Fprojects%2F{project.id}%2Fback",
        {
            "email": "newbie@example.com",
            "display_name": "Newbie",
            "password": "a long enough password",
            "confirm": "a long enough password",
        },
    )
    assert response.status_code == 302  # to "check your inbox", keeping the way back
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    log_in = f"/login?next={target}"
    assert f'<a href="{log_in}">log in</a>' in page
    fields = {"email": "newbie@example.com", "password": "a long enough password"}
    assert browser.submit(log_in, fields).headers["Location"] == target
    assert client.get(target).status_code == 200


def test_sign_up_ignores_a_next_to_another_site(app, client):
    browser = Browser(client)
    response = browser.submit(
        "/register?next=//evil.example/",
        {
            "email": "newbie@example.com",
            "display_name": "Newbie",
            "password": "a long enough password",
            "confirm": "a long enough password",
        },
    )
    assert response.headers["Location"] == "/check-inbox/sign-up?next=/"


def test_failed_attempts_are_not_listed_as_pledges(app, backer, project, stripe_fake):
    pay_through_pages(backer, stripe_fake, project, card="pm_card_visa")
    held = latest_pledge()
    other = gen_project(project.owner, "live", title="Star Kite")
    start(backer, other, amount="15")
    attempt = latest_pledge()
    stopped = backer.submit(f"/pledges/{attempt.id}/pay", action=f"/pledges/{attempt.id}/abandon")
    assert stopped.status_code == 302
    assert latest_pledge().status.value == "failed"
    page = backer.client.get("/my/pledges").get_data(as_text=True)
    assert page.count('data-testid="pledge-row"') == 1
    assert f'href="/pledges/{held.id}">Receipt' in page
    assert "1 payment attempt that did not go through (nothing was charged)" in page
    assert f'href="/pledges/{attempt.id}">Receipt' not in page
