"""Launching before the payout account is ready: a warning that says the payout will wait, or
a refusal when LAUNCH_NEEDS_PAYOUT_ACCOUNT is on (issue 21.6)."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.payouts.models import ConnectedAccount
from tests.helpers import Browser, gen_project, gen_user, parse_forms, project_path


@pytest.fixture
def cora(app):
    creator = gen_user("cora@example.com", "Cora")
    project = gen_project(creator, "approved")
    browser = Browser(app.test_client())
    browser.login("cora@example.com")
    return browser, creator, project


def _launch(browser, project):
    return browser.submit(
        project_path(project),
        action=f"/projects/{project.id}/launch",
        follow_redirects=True,
    )


def _ready(creator):
    db.session.add(
        ConnectedAccount(
            user_id=creator.id,
            stripe_account_id="acct_ready",
            details_submitted=True,
            charges_enabled=True,
            payouts_enabled=True,
        )
    )
    db.session.commit()


def test_the_creator_is_warned_before_and_after_launching(app, cora):
    browser, _creator, project = cora
    page = browser.client.get(project_path(project)).get_data(as_text=True)
    assert "Your payout account is not ready." in page
    assert "the payout waits until you finish setting it up with Stripe" in page
    assert '<a href="/payouts/account">Set up payouts</a>' in page
    done = _launch(browser, project).get_data(as_text=True)
    db.session.refresh(project)
    assert project.status.value == "live"
    assert "Your payout account is not ready yet. If the project is funded" in done


def test_no_warning_when_payouts_are_ready(app, cora):
    browser, creator, project = cora
    _ready(creator)
    page = browser.client.get(project_path(project)).get_data(as_text=True)
    assert 'data-testid="payout-warning"' not in page
    done = _launch(browser, project).get_data(as_text=True)
    assert "Your project is live!" in done
    assert "payout account is not ready" not in done


def test_launch_is_refused_when_the_setting_asks_for_a_payout_account(app, cora):
    browser, creator, project = cora
    app.config["LAUNCH_NEEDS_PAYOUT_ACCOUNT"] = True
    page = browser.client.get(project_path(project)).get_data(as_text=True)
    assert "Set up your payout account to launch." in page
    assert "Launch now" not in page
    # A form sent anyway (a tab opened before the setting changed) is refused with the reason
    # and changes nothing.
    app.config["LAUNCH_NEEDS_PAYOUT_ACCOUNT"] = False
    forms_html = browser.client.get(project_path(project)).get_data(as_text=True)
    app.config["LAUNCH_NEEDS_PAYOUT_ACCOUNT"] = True
    (launch,) = [f for f in parse_forms(forms_html) if f["action"].endswith("/launch")]
    refused = browser.client.post(launch["action"], data=launch["fields"], follow_redirects=True)
    assert "Set up your payout account before you launch" in refused.get_data(as_text=True)
    db.session.refresh(project)
    assert project.status.value == "approved"
    _ready(creator)
    assert "Your project is live!" in _launch(browser, project).get_data(as_text=True)
