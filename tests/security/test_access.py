"""Who may do what: every route of the site, for every kind of visitor, in every project state.

``ACCESS`` is the spec, one table: for each route (endpoint and method, keyed as
``routes_of(app.url_map)`` names them) and each state of the project its URL points at
(``ANY`` where the URL names no project), what each of six visitors gets. Read across, each
cell is one row "route, method, who, state, expected", and each row is one test case. The
test walks ``app.url_map``: a rule and method without a row fails, naming the route.

The world: an owner with a project in each state (two tiers and a real cover file each, its
payout account ready at the fake Stripe), a backer with a held pledge on the live one, a
user with no stake in anything (``other``), a moderator and an admin, each logged in with
their own client. A project is drafted, submitted or rejected in private (404 to all but
its owner, moderators and admins), announced once approved (its pre-launch page and cover are
anyone's, nothing else of it) and public from the moment it goes live. Only its
owner changes it; only moderators and admins moderate; a pledge is its backer's alone.

POSTs carry a valid CSRF token of the visitor's own session and a complete, valid form, so
a refusal is always the access rule at work, never a missing token or a bad field. Every
request but those marked ``DONE`` leaves every row of every table as it was, and a refused
page never shows a project's title. The Stripe webhook has no CSRF token and no user: it is
refused unsigned for everyone (tests/security/test_webhook_signatures.py checks forged and
signed events).

The world is built once per module and shared by the requests that change nothing; a case
that changes something (``DONE``) gets a world of its own in the same database: new users,
the one project it needs, fresh sessions; one that changes only the visitor's session
(logging out, choosing a language) a session of its own. So no case sees another's writes,
and if a request changed what it should not have, the shared world is built again.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

import pytest

from app import create_app
from app.accounts.models import Role
from app.campaign.models import ReferralTag
from app.comments.models import Comment
from app.extensions import db, limiter
from app.people.services import slug_of_person
from app.projects import uploads
from app.projects.models import ProjectRevision
from app.questions.models import FaqEntry, Question
from app.reports.models import Report
from tests.helpers import SharedTemplateCache, gen_project, gen_user
from tests.helpers.app import IsolatedClient, empty_tables
from tests.helpers.images import png_bytes
from tests.helpers.routes import WEBHOOK, Route, post_data, site_routes, url_of
from tests.helpers.rows import changed_tables, snapshot
from tests.helpers.settling import ready_account
from tests.helpers.stripe_fake import FakeStripe
from tests.helpers.webhooks import forged_events
from tests.helpers.world import (
    NO_PLEDGE_START_LIMITS,
    World,
    clear_flashes,
    flashed,
    gen_addon_row,
    gen_stretch_goal_row,
    gen_update_row,
    held_pledge,
    link_tokens,
    newest_session_of,
    owner_unsubscribe_token,
)
from tests.helpers.world import log_in as log_in_as

VISITORS = ("anonymous", "other", "backer", "owner", "moderator", "admin")
ROLES = {
    "other": Role.USER,
    "backer": Role.USER,
    "owner": Role.USER,
    "moderator": Role.MODERATOR,
    "admin": Role.ADMIN,
}
STATES = ("draft", "submitted", "approved", "rejected", "live", "cancelled")
ANY = "any"  # the URL names no project: the live one's world is used

LOGIN = "login"  # 302 to the log in page (with next=); nothing else happens
DONE = "done"  # 302 after the action took effect: the database changed
REFUSED = "refused"  # 302 with a message saying why (danger or warning); nothing changed
REDIRECT = "redirect"  # 302 somewhere else than the log in page; nothing changed

# fmt: off
ACCESS: dict[str, dict[str, tuple]] = {
    # route: {state: (anonymous, other,    backer,   owner,    moderator, admin)}
    "main.index GET": {
        ANY:         (200,      200,      200,      200,      200,       200),
    },
    "accounts.login GET": {
        ANY:         (200,      REDIRECT, REDIRECT, REDIRECT, REDIRECT,  REDIRECT),
    },
    "accounts.login POST": {
        ANY:         (200,      REDIRECT, REDIRECT, REDIRECT, REDIRECT,  REDIRECT),
    },
    "accounts.register GET": {
        ANY:         (200,      REDIRECT, REDIRECT, REDIRECT, REDIRECT,  REDIRECT),
    },
    "accounts.register POST": {
        ANY:         (DONE,     REDIRECT, REDIRECT, REDIRECT, REDIRECT,  REDIRECT),
    },
    # Logging out ends the visitor's own server-side session (its row is revoked).
    "accounts.logout POST": {
        ANY:         (LOGIN,    DONE,     DONE,     DONE,     DONE,      DONE),
    },
    # Settings: the visitor's own sessions only; no URL names another user's.
    "settings.index GET": {
        ANY:         (LOGIN,    REDIRECT, REDIRECT, REDIRECT, REDIRECT,  REDIRECT),
    },
    "settings.sessions GET": {
        ANY:         (LOGIN,    200,      200,      200,      200,       200),
    },
    # The profile and e-mail preferences are the visitor's own: no URL names another user's.
    "settings.profile GET": {
        ANY:         (LOGIN,    200,      200,      200,      200,       200),
    },
    "settings.profile POST": {
        ANY:         (LOGIN,    DONE,     DONE,     DONE,     DONE,      DONE),
    },
    "settings.notifications GET": {
        ANY:         (LOGIN,    200,      200,      200,      200,       200),
    },
    "settings.notifications POST": {
        ANY:         (LOGIN,    DONE,     DONE,     DONE,     DONE,      DONE),
    },
    "settings.account GET": {
        ANY:         (LOGIN,    200,      200,      200,      200,       200),
    },
    # One's own data only, as a file; reading it changes nothing.
    "settings.export GET": {
        ANY:         (LOGIN,    200,      200,      200,      200,       200),
    },
    # Deleting one's own account: the backer has a held pledge and the owner a live project,
    # so theirs are refused, saying which; the others' accounts are deleted.
    "settings.delete_account POST": {
        ANY:         (LOGIN,    DONE,     REFUSED,  REFUSED,  DONE,      DONE),
    },
    # Public profiles (the owner's): anyone's to read, its picture too.
    "people.show GET": {
        ANY:         (200,      200,      200,      200,      200,       200),
    },
    "people.avatar GET": {
        ANY:         (200,      200,      200,      200,      200,       200),
    },
    # The URL names the owner's session: everyone else is told it is not theirs (404).
    "settings.end_session POST": {
        ANY:         (LOGIN,    404,      404,      DONE,     404,       404),
    },
    # Each visitor here is logged in on one device: there is no other session to end.
    "settings.end_other_sessions POST": {
        ANY:         (LOGIN,    REDIRECT, REDIRECT, REDIRECT, REDIRECT,  REDIRECT),
    },
    # Sign-up and "forgot password" end on "check your inbox", whoever asks. The mailed links
    # are the authority, whoever holds them: the page asks, its form (CSRF) acts. Following
    # a sign-up or reset link logs the browser in as that account, whoever was in before.
    "accounts.check_inbox GET reason=reset": {
        ANY:         (200,      200,      200,      200,      200,       200),
    },
    "accounts.check_inbox GET reason=sign-up": {
        ANY:         (200,      200,      200,      200,      200,       200),
    },
    "accounts.verify_email GET": {
        ANY:         (200,      200,      200,      200,      200,       200),
    },
    "accounts.verify_email POST": {
        ANY:         (DONE,     DONE,     DONE,     DONE,     DONE,      DONE),
    },
    # Every visitor here is verified: nothing to send again.
    "accounts.resend_verification POST": {
        ANY:         (LOGIN,    REDIRECT, REDIRECT, REDIRECT, REDIRECT,  REDIRECT),
    },
    "accounts.forgot_password GET": {
        ANY:         (200,      200,      200,      200,      200,       200),
    },
    # An address with no account: the same answer, and nothing written.
    "accounts.forgot_password POST": {
        ANY:         (REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT,  REDIRECT),
    },
    "accounts.reset_password GET": {
        ANY:         (200,      200,      200,      200,      200,       200),
    },
    "accounts.reset_password POST": {
        ANY:         (DONE,     DONE,     DONE,     DONE,     DONE,      DONE),
    },
    # One's own password and address only: no URL names another user.
    "settings.password GET": {
        ANY:         (LOGIN,    200,      200,      200,      200,       200),
    },
    "settings.password POST": {
        ANY:         (LOGIN,    DONE,     DONE,     DONE,     DONE,      DONE),
    },
    "settings.email GET": {
        ANY:         (LOGIN,    200,      200,      200,      200,       200),
    },
    "settings.email POST": {
        ANY:         (LOGIN,    DONE,     DONE,     DONE,     DONE,      DONE),
    },
    "settings.confirm_email GET": {
        ANY:         (200,      200,      200,      200,      200,       200),
    },
    "settings.confirm_email POST": {
        ANY:         (DONE,     DONE,     DONE,     DONE,     DONE,      DONE),
    },
    "settings.undo_email GET": {
        ANY:         (200,      200,      200,      200,      200,       200),
    },
    "settings.undo_email POST": {
        ANY:         (DONE,     DONE,     DONE,     DONE,     DONE,      DONE),
    },
    # The footer's language switch: a visitor's choice lives in the session only; a signed-in
    # one's is saved on the account.
    "accounts.language POST": {
        ANY:         (REDIRECT, DONE,     DONE,     DONE,     DONE,      DONE),
    },

    "projects.discover GET": {
        ANY:         (200,      200,      200,      200,      200,       200),
    },
    "projects.mine GET": {
        ANY:         (LOGIN,    200,      200,      200,      200,       200),
    },
    "projects.new GET": {
        ANY:         (LOGIN,    200,      200,      200,      200,       200),
    },
    "projects.new POST": {
        ANY:         (LOGIN,    DONE,     DONE,     DONE,     DONE,      DONE),
    },
    # Private until live: not found for anyone but the owner, moderators and admins. The URL is
    # the readable one, /projects/<id>-<slug>; the plain /projects/<id> sends those who may
    # see the page there (tests/sharing checks it tells nobody else the title).
    "projects.show GET": {
        "draft":     (404,      404,      404,      200,      200,       200),
        "submitted": (404,      404,      404,      200,      200,       200),
        # Approved: anyone reads its pre-launch page (the owner and staff the full page).
        "approved":  (200,      200,      200,      200,      200,       200),
        "rejected":  (404,      404,      404,      200,      200,       200),
        "live":      (200,      200,      200,      200,      200,       200),
        "cancelled": (200,      200,      200,      200,      200,       200),
    },
    # A cover follows its project: a draft's cover is not served to who may not see the draft;
    # an approved project's is on its pre-launch page.
    "projects.upload GET": {
        "draft":     (404,      404,      404,      200,      200,       200),
        "submitted": (404,      404,      404,      200,      200,       200),
        "approved":  (200,      200,      200,      200,      200,       200),
        "rejected":  (404,      404,      404,      200,      200,       200),
        "live":      (200,      200,      200,      200,      200,       200),
        "cancelled": (200,      200,      200,      200,      200,       200),
    },
    # Sharing (issue 12.8): a public project's QR code is anyone's; a private project has none,
    # not even for its owner (there is nothing to share yet).
    "sharing.qr GET": {
        "draft":     (404,      404,      404,      404,      404,       404),
        "submitted": (404,      404,      404,      404,      404,       404),
        "approved":  (404,      404,      404,      404,      404,       404),
        "rejected":  (404,      404,      404,      404,      404,       404),
        "live":      (200,      200,      200,      200,      200,       200),
        "cancelled": (200,      200,      200,      200,      200,       200),
    },
    # For search engines: public projects only (tests/sharing checks which).
    "sharing.sitemap GET": {
        ANY:         (200,      200,      200,      200,      200,       200),
    },
    "sharing.robots GET": {
        ANY:         (200,      200,      200,      200,      200,       200),
    },
    # Another user's request is a 404 while the project is private, a 403 once it is public;
    # moderators and admins moderate, they do not edit. In review the owner is told why not.
    "projects.edit GET": {
        "draft":     (LOGIN,    404,      404,      200,      403,       403),
        "submitted": (LOGIN,    404,      404,      REFUSED,  403,       403),
        "approved":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "rejected":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "live":      (LOGIN,    403,      403,      200,      403,       403),
        "cancelled": (LOGIN,    403,      403,      REFUSED,  403,       403),
    },
    "projects.edit POST": {
        "draft":     (LOGIN,    404,      404,      DONE,     403,       403),
        "submitted": (LOGIN,    404,      404,      REFUSED,  403,       403),
        "approved":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "rejected":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "live":      (LOGIN,    403,      403,      DONE,     403,       403),
        "cancelled": (LOGIN,    403,      403,      REFUSED,  403,       403),
    },
    "projects.submit POST": {
        "draft":     (LOGIN,    404,      404,      DONE,     403,       403),
        "submitted": (LOGIN,    404,      404,      REFUSED,  403,       403),
        "approved":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "rejected":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "live":      (LOGIN,    403,      403,      REFUSED,  403,       403),
        "cancelled": (LOGIN,    403,      403,      REFUSED,  403,       403),
    },
    "projects.launch POST": {
        "draft":     (LOGIN,    404,      404,      REFUSED,  403,       403),
        "submitted": (LOGIN,    404,      404,      REFUSED,  403,       403),
        "approved":  (LOGIN,    404,      404,      DONE,     403,       403),
        "rejected":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "live":      (LOGIN,    403,      403,      REFUSED,  403,       403),
        "cancelled": (LOGIN,    403,      403,      REFUSED,  403,       403),
    },
    # The planned launch date: the owner's, for an approved project only.
    "projects.plan_launch POST": {
        "draft":     (LOGIN,    404,      404,      REFUSED,  403,       403),
        "submitted": (LOGIN,    404,      404,      REFUSED,  403,       403),
        "approved":  (LOGIN,    404,      404,      DONE,     403,       403),
        "rejected":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "live":      (LOGIN,    403,      403,      REFUSED,  403,       403),
        "cancelled": (LOGIN,    403,      403,      REFUSED,  403,       403),
    },
    # The confirmation page; posting it is what counts.
    "projects.cancel GET": {
        "draft":     (LOGIN,    404,      404,      200,      403,       403),
        "submitted": (LOGIN,    404,      404,      200,      403,       403),
        "approved":  (LOGIN,    404,      404,      200,      403,       403),
        "rejected":  (LOGIN,    404,      404,      200,      403,       403),
        "live":      (LOGIN,    403,      403,      200,      403,       403),
        "cancelled": (LOGIN,    403,      403,      200,      403,       403),
    },
    "projects.cancel POST": {
        "draft":     (LOGIN,    404,      404,      REFUSED,  403,       403),
        "submitted": (LOGIN,    404,      404,      REFUSED,  403,       403),
        "approved":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "rejected":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "live":      (LOGIN,    403,      403,      DONE,     403,       403),
        "cancelled": (LOGIN,    403,      403,      REFUSED,  403,       403),
    },

    "rewards.new GET": {
        "draft":     (LOGIN,    404,      404,      200,      403,       403),
        "submitted": (LOGIN,    404,      404,      200,      403,       403),
        "approved":  (LOGIN,    404,      404,      200,      403,       403),
        "rejected":  (LOGIN,    404,      404,      200,      403,       403),
        "live":      (LOGIN,    403,      403,      200,      403,       403),
        "cancelled": (LOGIN,    403,      403,      200,      403,       403),
    },
    "rewards.new POST": {
        "draft":     (LOGIN,    404,      404,      DONE,     403,       403),
        "submitted": (LOGIN,    404,      404,      REFUSED,  403,       403),
        "approved":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "rejected":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "live":      (LOGIN,    403,      403,      DONE,     403,       403),
        "cancelled": (LOGIN,    403,      403,      REFUSED,  403,       403),
    },
    # The tier in the URL has no backers (the backer's pledge is on the other one).
    "rewards.edit GET": {
        "draft":     (LOGIN,    404,      404,      200,      403,       403),
        "submitted": (LOGIN,    404,      404,      200,      403,       403),
        "approved":  (LOGIN,    404,      404,      200,      403,       403),
        "rejected":  (LOGIN,    404,      404,      200,      403,       403),
        "live":      (LOGIN,    403,      403,      200,      403,       403),
        "cancelled": (LOGIN,    403,      403,      200,      403,       403),
    },
    "rewards.edit POST": {
        "draft":     (LOGIN,    404,      404,      DONE,     403,       403),
        "submitted": (LOGIN,    404,      404,      REFUSED,  403,       403),
        "approved":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "rejected":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "live":      (LOGIN,    403,      403,      DONE,     403,       403),
        "cancelled": (LOGIN,    403,      403,      REFUSED,  403,       403),
    },
    # Each project has two tiers, so a live one may lose one.
    "rewards.delete POST": {
        "draft":     (LOGIN,    404,      404,      DONE,     403,       403),
        "submitted": (LOGIN,    404,      404,      REFUSED,  403,       403),
        "approved":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "rejected":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "live":      (LOGIN,    403,      403,      DONE,     403,       403),
        "cancelled": (LOGIN,    403,      403,      REFUSED,  403,       403),
    },
    # Add-ons change as reward tiers do.
    "addons.new GET": {
        "draft":     (LOGIN,    404,      404,      200,      403,       403),
        "submitted": (LOGIN,    404,      404,      200,      403,       403),
        "approved":  (LOGIN,    404,      404,      200,      403,       403),
        "rejected":  (LOGIN,    404,      404,      200,      403,       403),
        "live":      (LOGIN,    403,      403,      200,      403,       403),
        "cancelled": (LOGIN,    403,      403,      200,      403,       403),
    },
    "addons.new POST": {
        "draft":     (LOGIN,    404,      404,      DONE,     403,       403),
        "submitted": (LOGIN,    404,      404,      REFUSED,  403,       403),
        "approved":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "rejected":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "live":      (LOGIN,    403,      403,      DONE,     403,       403),
        "cancelled": (LOGIN,    403,      403,      REFUSED,  403,       403),
    },
    # The add-on in the URL has no backers.
    "addons.edit GET": {
        "draft":     (LOGIN,    404,      404,      200,      403,       403),
        "submitted": (LOGIN,    404,      404,      200,      403,       403),
        "approved":  (LOGIN,    404,      404,      200,      403,       403),
        "rejected":  (LOGIN,    404,      404,      200,      403,       403),
        "live":      (LOGIN,    403,      403,      200,      403,       403),
        "cancelled": (LOGIN,    403,      403,      200,      403,       403),
    },
    "addons.edit POST": {
        "draft":     (LOGIN,    404,      404,      DONE,     403,       403),
        "submitted": (LOGIN,    404,      404,      REFUSED,  403,       403),
        "approved":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "rejected":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "live":      (LOGIN,    403,      403,      DONE,     403,       403),
        "cancelled": (LOGIN,    403,      403,      REFUSED,  403,       403),
    },
    "addons.delete POST": {
        "draft":     (LOGIN,    404,      404,      DONE,     403,       403),
        "submitted": (LOGIN,    404,      404,      REFUSED,  403,       403),
        "approved":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "rejected":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "live":      (LOGIN,    403,      403,      DONE,     403,       403),
        "cancelled": (LOGIN,    403,      403,      REFUSED,  403,       403),
    },
    "addons.close POST": {
        "draft":     (LOGIN,    404,      404,      DONE,     403,       403),
        "submitted": (LOGIN,    404,      404,      REFUSED,  403,       403),
        "approved":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "rejected":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "live":      (LOGIN,    403,      403,      DONE,     403,       403),
        "cancelled": (LOGIN,    403,      403,      REFUSED,  403,       403),
    },
    # Stretch goals change while the project is a draft or live; in any other state the
    # owner is sent back to the project page, told why.
    "stretch.new GET": {
        "draft":     (LOGIN,    404,      404,      200,      403,       403),
        "submitted": (LOGIN,    404,      404,      REFUSED,  403,       403),
        "approved":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "rejected":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "live":      (LOGIN,    403,      403,      200,      403,       403),
        "cancelled": (LOGIN,    403,      403,      REFUSED,  403,       403),
    },
    "stretch.new POST": {
        "draft":     (LOGIN,    404,      404,      DONE,     403,       403),
        "submitted": (LOGIN,    404,      404,      REFUSED,  403,       403),
        "approved":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "rejected":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "live":      (LOGIN,    403,      403,      DONE,     403,       403),
        "cancelled": (LOGIN,    403,      403,      REFUSED,  403,       403),
    },
    "stretch.edit GET": {
        "draft":     (LOGIN,    404,      404,      200,      403,       403),
        "submitted": (LOGIN,    404,      404,      REFUSED,  403,       403),
        "approved":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "rejected":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "live":      (LOGIN,    403,      403,      200,      403,       403),
        "cancelled": (LOGIN,    403,      403,      REFUSED,  403,       403),
    },
    "stretch.edit POST": {
        "draft":     (LOGIN,    404,      404,      DONE,     403,       403),
        "submitted": (LOGIN,    404,      404,      REFUSED,  403,       403),
        "approved":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "rejected":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "live":      (LOGIN,    403,      403,      DONE,     403,       403),
        "cancelled": (LOGIN,    403,      403,      REFUSED,  403,       403),
    },
    "stretch.delete POST": {
        "draft":     (LOGIN,    404,      404,      DONE,     403,       403),
        "submitted": (LOGIN,    404,      404,      REFUSED,  403,       403),
        "approved":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "rejected":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "live":      (LOGIN,    403,      403,      DONE,     403,       403),
        "cancelled": (LOGIN,    403,      403,      REFUSED,  403,       403),
    },
    "rewards.close POST": {
        "draft":     (LOGIN,    404,      404,      DONE,     403,       403),
        "submitted": (LOGIN,    404,      404,      REFUSED,  403,       403),
        "approved":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "rejected":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "live":      (LOGIN,    403,      403,      DONE,     403,       403),
        "cancelled": (LOGIN,    403,      403,      REFUSED,  403,       403),
    },

    # Anyone logged in may back the project but its owner; the backer already has a pledge
    # and is sent to it. Moderators and admins back projects like anyone else.
    "pledges.back GET": {
        "live":      (LOGIN,    200,      REDIRECT, REFUSED,  200,       200),
    },
    "pledges.back POST": {
        "live":      (LOGIN,    DONE,     REDIRECT, REFUSED,  DONE,      DONE),
    },
    "pledges.mine GET": {
        ANY:         (LOGIN,    200,      200,      200,      200,       200),
    },
    # A pledge is its backer's alone: to everyone else, moderators and admins included, it
    # does not exist. (Moderators see money movements on the review page instead.)
    "pledges.show GET": {
        "live":      (LOGIN,    404,      200,      404,      404,       404),
    },
    "pledges.pay GET": {
        "live":      (LOGIN,    404,      REDIRECT, 404,      404,       404),
    },
    "pledges.complete GET": {
        "live":      (LOGIN,    404,      REDIRECT, 404,      404,       404),
    },
    "pledges.abandon POST": {
        "live":      (LOGIN,    404,      REDIRECT, 404,      404,       404),
    },
    "pledges.change GET": {
        "live":      (LOGIN,    404,      200,      404,      404,       404),
    },
    "pledges.change POST": {
        "live":      (LOGIN,    404,      DONE,     404,      404,       404),
    },
    "pledges.cancel GET": {
        "live":      (LOGIN,    404,      200,      404,      404,       404),
    },
    "pledges.cancel POST": {
        "live":      (LOGIN,    404,      DONE,     404,      404,       404),
    },
    # No CSRF token, no session: Stripe signs instead. Unsigned, it is refused for everyone.
    f"{WEBHOOK} POST": {
        ANY:         (400,      400,      400,      400,      400,       400),
    },

    "moderation.queue GET": {
        ANY:         (LOGIN,    403,      403,      403,      200,       200),
    },
    # The platform's books: admins only, moderators included out.
    "admin.books GET": {
        ANY:         (LOGIN,    403,      403,      403,      403,       200),
    },
    "moderation.review GET": {
        "draft":     (LOGIN,    403,      403,      403,      200,       200),
        "submitted": (LOGIN,    403,      403,      403,      200,       200),
        "approved":  (LOGIN,    403,      403,      403,      200,       200),
        "rejected":  (LOGIN,    403,      403,      403,      200,       200),
        "live":      (LOGIN,    403,      403,      403,      200,       200),
        "cancelled": (LOGIN,    403,      403,      403,      200,       200),
    },
    # Review decisions apply to a submitted project only, suspending to a live one; in any
    # other state moderators are told why not.
    "moderation.decide POST decision=approve": {
        "draft":     (LOGIN,    403,      403,      403,      REFUSED,   REFUSED),
        "submitted": (LOGIN,    403,      403,      403,      DONE,      DONE),
        "approved":  (LOGIN,    403,      403,      403,      REFUSED,   REFUSED),
        "rejected":  (LOGIN,    403,      403,      403,      REFUSED,   REFUSED),
        "live":      (LOGIN,    403,      403,      403,      REFUSED,   REFUSED),
        "cancelled": (LOGIN,    403,      403,      403,      REFUSED,   REFUSED),
    },
    "moderation.decide POST decision=request-changes": {
        "draft":     (LOGIN,    403,      403,      403,      REFUSED,   REFUSED),
        "submitted": (LOGIN,    403,      403,      403,      DONE,      DONE),
        "approved":  (LOGIN,    403,      403,      403,      REFUSED,   REFUSED),
        "rejected":  (LOGIN,    403,      403,      403,      REFUSED,   REFUSED),
        "live":      (LOGIN,    403,      403,      403,      REFUSED,   REFUSED),
        "cancelled": (LOGIN,    403,      403,      403,      REFUSED,   REFUSED),
    },
    "moderation.decide POST decision=reject": {
        "draft":     (LOGIN,    403,      403,      403,      REFUSED,   REFUSED),
        "submitted": (LOGIN,    403,      403,      403,      DONE,      DONE),
        "approved":  (LOGIN,    403,      403,      403,      REFUSED,   REFUSED),
        "rejected":  (LOGIN,    403,      403,      403,      REFUSED,   REFUSED),
        "live":      (LOGIN,    403,      403,      403,      REFUSED,   REFUSED),
        "cancelled": (LOGIN,    403,      403,      403,      REFUSED,   REFUSED),
    },
    "moderation.decide POST decision=suspend": {
        "draft":     (LOGIN,    403,      403,      403,      REFUSED,   REFUSED),
        "submitted": (LOGIN,    403,      403,      403,      REFUSED,   REFUSED),
        "approved":  (LOGIN,    403,      403,      403,      REFUSED,   REFUSED),
        "rejected":  (LOGIN,    403,      403,      403,      REFUSED,   REFUSED),
        "live":      (LOGIN,    403,      403,      403,      DONE,      DONE),
        "cancelled": (LOGIN,    403,      403,      403,      REFUSED,   REFUSED),
    },
    # Admins only; the held pledge has no refused refund, so the admin is told why.
    "moderation.retry_refund POST": {
        "live":      (LOGIN,    403,      403,      403,      403,       REFUSED),
    },

    # Payout pages work on the visitor's own Stripe account, never one named in the URL.
    # Only the owner has one: connecting again only makes a new onboarding link, and the
    # return page stores the flags Stripe reports (a GET that writes: see test_csrf.py).
    "payouts.account GET": {
        ANY:         (LOGIN,    200,      200,      200,      200,       200),
    },
    "payouts.connect POST": {
        ANY:         (LOGIN,    DONE,     DONE,     REDIRECT, DONE,      DONE),
    },
    "payouts.return_ GET": {
        ANY:         (LOGIN,    REDIRECT, REDIRECT, DONE,     REDIRECT,  REDIRECT),
    },
    "payouts.refresh GET": {
        ANY:         (LOGIN,    REDIRECT, REDIRECT, REDIRECT, REDIRECT,  REDIRECT),
    },

    # A live project's changes: the story's, listed for everyone once the project is public;
    # only moderators and admins revert one.
    "projects.changes GET": {
        "draft":     (404,      404,      404,      404,      404,       404),
        "submitted": (404,      404,      404,      404,      404,       404),
        "approved":  (404,      404,      404,      404,      404,       404),
        "rejected":  (404,      404,      404,      404,      404,       404),
        "live":      (200,      200,      200,      200,      200,       200),
        "cancelled": (200,      200,      200,      200,      200,       200),
    },
    "moderation.revert POST": {
        "live":      (LOGIN,    403,      403,      403,      DONE,      DONE),
        "cancelled": (LOGIN,    403,      403,      403,      DONE,      DONE),
    },
    # Reports: anyone signed in who may see a public project reports it (the owner may not);
    # moderators and admins decide. Suspending refuses unless the project is live.
    "reports.report_project GET": {
        "draft":     (LOGIN,    404,      404,      200,      200,       200),
        "live":      (LOGIN,    200,      200,      200,      200,       200),
        "cancelled": (LOGIN,    200,      200,      200,      200,       200),
    },
    "reports.report_project POST": {
        "draft":     (LOGIN,    404,      404,      REFUSED,  REFUSED,   REFUSED),
        "submitted": (LOGIN,    404,      404,      REFUSED,  REFUSED,   REFUSED),
        "live":      (LOGIN,    DONE,     DONE,     REFUSED,  DONE,      DONE),
        "cancelled": (LOGIN,    DONE,     DONE,     REFUSED,  DONE,      DONE),
    },
    "reports.queue GET": {
        ANY:         (LOGIN,    403,      403,      403,      200,       200),
    },
    "reports.decide POST decision=dismiss": {
        "live":      (LOGIN,    403,      403,      403,      DONE,      DONE),
        "cancelled": (LOGIN,    403,      403,      403,      DONE,      DONE),
    },
    "reports.decide POST decision=suspend": {
        "live":      (LOGIN,    403,      403,      403,      DONE,      DONE),
        "cancelled": (LOGIN,    403,      403,      403,      REFUSED,   REFUSED),
    },
    # Saved projects ("Remind me"): anyone signed in follows a live or an approved project
    # (not its owner); removing one that was never saved changes nothing.
    "follows.follow POST": {
        "draft":     (LOGIN,    404,      404,      REFUSED,  REFUSED,   REFUSED),
        "approved":  (LOGIN,    DONE,     DONE,     REFUSED,  DONE,      DONE),
        "live":      (LOGIN,    DONE,     DONE,     REFUSED,  DONE,      DONE),
        "cancelled": (LOGIN,    REFUSED,  REFUSED,  REFUSED,  REFUSED,   REFUSED),
    },
    "follows.unfollow POST": {
        "draft":     (LOGIN,    404,      404,      REDIRECT, REDIRECT,  REDIRECT),
        "approved":  (LOGIN,    REDIRECT, REDIRECT, REDIRECT, REDIRECT,  REDIRECT),
        "live":      (LOGIN,    REDIRECT, REDIRECT, REDIRECT, REDIRECT,  REDIRECT),
    },
    "follows.saved GET": {
        ANY:         (LOGIN,    200,      200,      200,      200,       200),
    },
    # The FAQ and private questions: the owner keeps the FAQ and answers, in every state;
    # anyone signed in who may see the project asks, once it is public (REFUSED before, and
    # for the owner, who answers in the FAQ instead).
    "questions.manage GET": {
        "draft":     (LOGIN,    404,      404,      200,      403,       403),
        "submitted": (LOGIN,    404,      404,      200,      403,       403),
        "approved":  (LOGIN,    404,      404,      200,      403,       403),
        "rejected":  (LOGIN,    404,      404,      200,      403,       403),
        "live":      (LOGIN,    403,      403,      200,      403,       403),
        "cancelled": (LOGIN,    403,      403,      200,      403,       403),
    },
    "questions.manage POST": {
        "draft":     (LOGIN,    404,      404,      DONE,     403,       403),
        "submitted": (LOGIN,    404,      404,      DONE,     403,       403),
        "approved":  (LOGIN,    404,      404,      DONE,     403,       403),
        "rejected":  (LOGIN,    404,      404,      DONE,     403,       403),
        "live":      (LOGIN,    403,      403,      DONE,     403,       403),
        "cancelled": (LOGIN,    403,      403,      DONE,     403,       403),
    },
    "questions.edit_entry GET": {
        "draft":     (LOGIN,    404,      404,      200,      403,       403),
        "live":      (LOGIN,    403,      403,      200,      403,       403),
        "cancelled": (LOGIN,    403,      403,      200,      403,       403),
    },
    "questions.edit_entry POST": {
        "draft":     (LOGIN,    404,      404,      DONE,     403,       403),
        "live":      (LOGIN,    403,      403,      DONE,     403,       403),
        "cancelled": (LOGIN,    403,      403,      DONE,     403,       403),
    },
    "questions.delete_entry POST": {
        "draft":     (LOGIN,    404,      404,      DONE,     403,       403),
        "live":      (LOGIN,    403,      403,      DONE,     403,       403),
        "cancelled": (LOGIN,    403,      403,      DONE,     403,       403),
    },
    "questions.ask POST": {
        "draft":     (LOGIN,    404,      404,      REFUSED,  REFUSED,   REFUSED),
        "approved":  (LOGIN,    404,      404,      REFUSED,  REFUSED,   REFUSED),
        "live":      (LOGIN,    DONE,     DONE,     REFUSED,  DONE,      DONE),
        "cancelled": (LOGIN,    DONE,     DONE,     REFUSED,  DONE,      DONE),
    },
    "questions.answer POST": {
        "draft":     (LOGIN,    404,      404,      DONE,     403,       403),
        "live":      (LOGIN,    403,      403,      DONE,     403,       403),
        "cancelled": (LOGIN,    403,      403,      DONE,     403,       403),
    },
    # Comments: anyone who may see the project reads them; its backers (a pledge held, or
    # refunded at the end), its owner and staff post once it is public (others are told
    # why); only the author edits (within COMMENT_EDIT_MINUTES) and deletes; the owner and
    # staff hide. The world's comment is the backer's, on every project.
    "comments.thread GET": {
        "draft":     (404,      404,      404,      200,      200,       200),
        "submitted": (404,      404,      404,      200,      200,       200),
        "approved":  (404,      404,      404,      200,      200,       200),
        "rejected":  (404,      404,      404,      200,      200,       200),
        "live":      (200,      200,      200,      200,      200,       200),
        "cancelled": (200,      200,      200,      200,      200,       200),
    },
    "comments.post POST": {
        "draft":     (LOGIN,    404,      404,      REFUSED,  REFUSED,   REFUSED),
        "approved":  (LOGIN,    404,      404,      REFUSED,  REFUSED,   REFUSED),
        "live":      (LOGIN,    REFUSED,  DONE,     DONE,     DONE,      DONE),
        "cancelled": (LOGIN,    REFUSED,  REFUSED,  DONE,     DONE,      DONE),
    },
    "comments.edit GET": {
        "draft":     (LOGIN,    404,      404,      403,      403,       403),
        "live":      (LOGIN,    403,      200,      403,      403,       403),
    },
    "comments.edit POST": {
        "draft":     (LOGIN,    404,      404,      403,      403,       403),
        "live":      (LOGIN,    403,      DONE,     403,      403,       403),
        "cancelled": (LOGIN,    403,      DONE,     403,      403,       403),
    },
    "comments.delete POST": {
        "draft":     (LOGIN,    404,      404,      403,      403,       403),
        "live":      (LOGIN,    403,      DONE,     403,      403,       403),
    },
    "comments.hide GET": {
        "draft":     (LOGIN,    404,      404,      200,      200,       200),
        "live":      (LOGIN,    403,      403,      200,      200,       200),
    },
    "comments.hide POST": {
        "draft":     (LOGIN,    404,      404,      DONE,     DONE,      DONE),
        "live":      (LOGIN,    403,      403,      DONE,     DONE,      DONE),
        "cancelled": (LOGIN,    403,      403,      DONE,     DONE,      DONE),
    },
    # Reports of a comment: anyone signed in who may see it, but its author; moderators
    # decide (the world's comment has an open report, by the owner).
    "reports.report_comment GET": {
        "draft":     (LOGIN,    404,      404,      200,      200,       200),
        "live":      (LOGIN,    200,      200,      200,      200,       200),
    },
    "reports.report_comment POST": {  # the owner has reported it already
        "live":      (LOGIN,    DONE,     REFUSED,  REFUSED,  DONE,      DONE),
        "cancelled": (LOGIN,    DONE,     REFUSED,  REFUSED,  DONE,      DONE),
    },
    "reports.decide_comment POST decision=dismiss": {
        "live":      (LOGIN,    403,      403,      403,      DONE,      DONE),
    },
    "reports.decide_comment POST decision=hide": {
        "live":      (LOGIN,    403,      403,      403,      DONE,      DONE),
        "cancelled": (LOGIN,    403,      403,      403,      DONE,      DONE),
    },

    # Updates (issue 14.1): read wherever the project may be seen (a backers-only one as a
    # teaser: still a 200); its image only by its readers (the URL's is backers-only: the
    # backer's pledge is on the live project). The owner writes once the project launched
    # (REFUSED before), edits and removes; nobody else does.
    "updates.index GET": {
        "draft":     (404,      404,      404,      200,      200,       200),
        "live":      (200,      200,      200,      200,      200,       200),
        "cancelled": (200,      200,      200,      200,      200,       200),
    },
    "updates.show GET": {
        "draft":     (404,      404,      404,      200,      200,       200),
        "live":      (200,      200,      200,      200,      200,       200),
        "cancelled": (200,      200,      200,      200,      200,       200),
    },
    "updates.image GET": {
        "draft":     (404,      404,      404,      200,      200,       200),
        "live":      (404,      404,      200,      200,      200,       200),
        "cancelled": (404,      404,      404,      200,      200,       200),
    },
    "updates.new GET": {
        "draft":     (LOGIN,    404,      404,      REFUSED,  403,       403),
        "approved":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "live":      (LOGIN,    403,      403,      200,      403,       403),
        "cancelled": (LOGIN,    403,      403,      200,      403,       403),
    },
    "updates.new POST": {
        "draft":     (LOGIN,    404,      404,      REFUSED,  403,       403),
        "approved":  (LOGIN,    404,      404,      REFUSED,  403,       403),
        "live":      (LOGIN,    403,      403,      DONE,     403,       403),
        "cancelled": (LOGIN,    403,      403,      DONE,     403,       403),
    },
    "updates.edit GET": {
        "live":      (LOGIN,    403,      403,      200,      403,       403),
        "cancelled": (LOGIN,    403,      403,      200,      403,       403),
    },
    "updates.edit POST": {
        "live":      (LOGIN,    403,      403,      DONE,     403,       403),
        "cancelled": (LOGIN,    403,      403,      DONE,     403,       403),
    },
    "updates.remove GET": {
        "live":      (LOGIN,    403,      403,      200,      403,       403),
        "cancelled": (LOGIN,    403,      403,      200,      403,       403),
    },
    "updates.remove POST": {
        "live":      (LOGIN,    403,      403,      DONE,     403,       403),
        "cancelled": (LOGIN,    403,      403,      DONE,     403,       403),
    },
    # Reports of an update: anyone signed in who reads it (the world's is backers-only, the
    # backer's pledge on the live project), but its author; moderators decide (it has an open
    # report, by its author, as a row).
    "reports.report_update GET": {
        "draft":     (LOGIN,    404,      404,      200,      200,       200),
        "live":      (LOGIN,    404,      200,      200,      200,       200),
        "cancelled": (LOGIN,    404,      404,      200,      200,       200),
    },
    "reports.report_update POST": {
        "live":      (LOGIN,    404,      DONE,     REFUSED,  DONE,      DONE),
        "cancelled": (LOGIN,    404,      404,      REFUSED,  DONE,      DONE),
    },
    "reports.decide_update POST decision=dismiss": {
        "live":      (LOGIN,    403,      403,      403,      DONE,      DONE),
    },
    "reports.decide_update POST decision=remove": {
        "live":      (LOGIN,    403,      403,      403,      DONE,      DONE),
        "cancelled": (LOGIN,    403,      403,      403,      DONE,      DONE),
    },

    # The statement of the owner's ended project: money and backers' addresses, so only its
    # owner, moderators and admins; a backer of another project is refused.
    # Backer surveys (tests/surveys has the funded project's stories): only a funded project has
    # one, so in these states the owner and staff get a 404 where others are refused first;
    # staff may read a survey, only its creator changes it. A pledge's survey is its backer's.
    "surveys.manage GET": {
        "draft":     (LOGIN,    404,      404,      404,      404,       404),
        "live":      (LOGIN,    403,      403,      404,      404,       404),
        "cancelled": (LOGIN,    403,      403,      404,      404,       404),
    },
    "surveys.fulfilment_csv GET": {
        "draft":     (LOGIN,    404,      404,      404,      404,       404),
        "live":      (LOGIN,    403,      403,      404,      404,       404),
        "cancelled": (LOGIN,    403,      403,      404,      404,       404),
    },
    "surveys.address_setting POST": {
        "draft":     (LOGIN,    404,      404,      404,      403,       403),
        "live":      (LOGIN,    403,      403,      404,      403,       403),
        "cancelled": (LOGIN,    403,      403,      404,      403,       403),
    },
    "surveys.add_question POST": {
        "draft":     (LOGIN,    404,      404,      404,      403,       403),
        "live":      (LOGIN,    403,      403,      404,      403,       403),
        "cancelled": (LOGIN,    403,      403,      404,      403,       403),
    },
    "surveys.remove_question POST": {
        "draft":     (LOGIN,    404,      404,      404,      403,       403),
        "live":      (LOGIN,    403,      403,      404,      403,       403),
        "cancelled": (LOGIN,    403,      403,      404,      403,       403),
    },
    "surveys.send POST": {
        "draft":     (LOGIN,    404,      404,      404,      403,       403),
        "live":      (LOGIN,    403,      403,      404,      403,       403),
        "cancelled": (LOGIN,    403,      403,      404,      403,       403),
    },
    "surveys.lock POST": {
        "draft":     (LOGIN,    404,      404,      404,      403,       403),
        "live":      (LOGIN,    403,      403,      404,      403,       403),
        "cancelled": (LOGIN,    403,      403,      404,      403,       403),
    },
    "surveys.answer GET": {
        "live":      (LOGIN,    404,      404,      404,      404,       404),
    },
    "surveys.answer POST": {
        "live":      (LOGIN,    404,      404,      404,      404,       404),
    },
    "statements.show GET": {
        "cancelled": (LOGIN,    403,      403,      200,      200,       200),
    },
    "statements.backers_csv GET": {
        "cancelled": (LOGIN,    403,      403,      200,      200,       200),
    },
    # Where the money went, and the ledger export: public once the project has ended.
    "statements.money GET": {
        "draft":     (404,      404,      404,      404,      404,       404),
        "live":      (404,      404,      404,      404,      404,       404),
        "cancelled": (200,      200,      200,      200,      200,       200),
    },
    "statements.ledger_export GET": {
        "draft":     (404,      404,      404,      404,      404,       404),
        "live":      (404,      404,      404,      404,      404,       404),
        "cancelled": (200,      200,      200,      200,      200,       200),
    },

    # The campaign dashboard: live and ended projects' figures, for the owner and staff; before
    # launch there is none (404 to those who may see the project at all).
    "campaign.dashboard GET": {
        "draft":     (LOGIN,    404,      404,      404,      404,       404),
        "submitted": (LOGIN,    404,      404,      404,      404,       404),
        "approved":  (LOGIN,    404,      404,      404,      404,       404),
        "rejected":  (LOGIN,    404,      404,      404,      404,       404),
        "live":      (LOGIN,    403,      403,      200,      200,       200),
        "cancelled": (LOGIN,    403,      403,      200,      200,       200),
    },
    # Its referral tags: only the owner adds and removes them (staff see them on the page),
    # once there is a dashboard.
    "campaign.add_tag POST": {
        "draft":     (LOGIN,    404,      404,      404,      403,       403),
        "submitted": (LOGIN,    404,      404,      404,      403,       403),
        "approved":  (LOGIN,    404,      404,      404,      403,       403),
        "rejected":  (LOGIN,    404,      404,      404,      403,       403),
        "live":      (LOGIN,    403,      403,      DONE,     403,       403),
        "cancelled": (LOGIN,    403,      403,      DONE,     403,       403),
    },
    "campaign.remove_tag POST": {
        "draft":     (LOGIN,    404,      404,      404,      403,       403),
        "submitted": (LOGIN,    404,      404,      404,      403,       403),
        "approved":  (LOGIN,    404,      404,      404,      403,       403),
        "rejected":  (LOGIN,    404,      404,      404,      403,       403),
        "live":      (LOGIN,    403,      403,      DONE,     403,       403),
        "cancelled": (LOGIN,    403,      403,      DONE,     403,       403),
    },
    # The funding chart is public like the project page, once launched.
    "campaign.funding_chart GET": {
        "draft":     (404,      404,      404,      404,      404,       404),
        "submitted": (404,      404,      404,      404,      404,       404),
        "approved":  (404,      404,      404,      404,      404,       404),
        "rejected":  (404,      404,      404,      404,      404,       404),
        "live":      (200,      200,      200,      200,      200,       200),
        "cancelled": (200,      200,      200,      200,      200,       200),
    },

    # Fulfilment (issue 15.8): the owner and staff see the page once the project launched
    # (404 before: nothing to ship) and mark rewards of a paid-out project only (REFUSED
    # here: no world project is paid out; tests/fulfilment marks them). The backer confirms
    # receipt or reports a problem of their own pledge once it shipped (REFUSED: it has not).
    "fulfilment.manage GET": {
        "draft":     (LOGIN,    404,      404,      404,      404,       404),
        "approved":  (LOGIN,    404,      404,      404,      404,       404),
        "live":      (LOGIN,    403,      403,      200,      200,       200),
        "cancelled": (LOGIN,    403,      403,      200,      200,       200),
    },
    "fulfilment.ship POST": {
        "draft":     (LOGIN,    404,      404,      404,      404,       404),
        "live":      (LOGIN,    403,      403,      REFUSED,  REFUSED,   REFUSED),
        "cancelled": (LOGIN,    403,      403,      REFUSED,  REFUSED,   REFUSED),
    },
    "fulfilment.ship_tier POST": {
        "draft":     (LOGIN,    404,      404,      404,      404,       404),
        "live":      (LOGIN,    403,      403,      REFUSED,  REFUSED,   REFUSED),
        "cancelled": (LOGIN,    403,      403,      REFUSED,  REFUSED,   REFUSED),
    },
    "fulfilment.upload POST": {
        "draft":     (LOGIN,    404,      404,      404,      404,       404),
        "live":      (LOGIN,    403,      403,      REFUSED,  REFUSED,   REFUSED),
        "cancelled": (LOGIN,    403,      403,      REFUSED,  REFUSED,   REFUSED),
    },
    "fulfilment.received POST": {
        "live":      (LOGIN,    404,      REFUSED,  404,      404,       404),
    },
    "fulfilment.problem GET": {
        "live":      (LOGIN,    404,      REFUSED,  404,      404,       404),
    },
    "fulfilment.problem POST": {
        "live":      (LOGIN,    404,      REFUSED,  404,      404,       404),
    },

    # The signed link in a digest is the authority, whoever holds it (a forwarded mail can
    # turn off only that one kind of mail, for that one user): no log in. The page asks; its
    # form carries CSRF. The one-click address is what mail clients POST to (RFC 8058),
    # deliberately without CSRF; test_creator_mail.py checks forged links and bad bodies.
    "notifications.unsubscribe GET": {
        ANY:         (200,      200,      200,      200,      200,       200),
    },
    "notifications.unsubscribe POST": {
        ANY:         (DONE,     DONE,     DONE,     DONE,     DONE,      DONE),
    },
    "notifications.one_click GET": {
        ANY:         (REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT,  REDIRECT),
    },
    "notifications.one_click POST": {
        ANY:         (DONE,     DONE,     DONE,     DONE,     DONE,      DONE),
    },
}
# fmt: on

assert all(
    state in (ANY, *STATES) and len(outcomes) == len(VISITORS)
    for states in ACCESS.values()
    for state, outcomes in states.items()
)
ROUTES = {str(route): route for route in site_routes()}
MISSING = "{route} is not in the access table: add it to ACCESS in tests/security/test_access.py"

# Requests after which the visitor's session is no longer what the next request expects.
SESSION_CHANGING = {"accounts.logout", "accounts.language"}


def cases() -> Iterator:
    for key, by_state in ACCESS.items():
        for state, outcomes in by_state.items():
            for visitor, expected in zip(VISITORS, outcomes, strict=True):
                yield pytest.param(key, state, visitor, expected, id=f"{key} | {state} | {visitor}")


# ---- the world ------------------------------------------------------------------------------


@dataclass
class Place:
    """A world of the table: the URLs' objects for each project state, and who is logged in."""

    views: dict[str, World]  # by state (ANY is the live one's)
    titles: list[str]  # of every project in it: never on a refused page
    emails: dict[str, str]
    clients: dict = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


def build_place(app, stripe_fake, tag: str, states=STATES, visitors=VISITORS) -> Place:
    """The owner's projects in ``states``, the backer's held pledge if one is live, and
    ``visitors`` logged in. ``tag`` keeps its people apart from any other world's."""
    emails = {v: f"{tag}{v}@example.com" for v in ROLES}
    users = {v: gen_user(emails[v], v.title(), role=role) for v, role in ROLES.items()}
    owner = users["owner"]
    owner.avatar_image = uploads.save_cover(png_bytes((200, 120, 40)))
    projects = {}
    for i, state in enumerate(states):
        project = gen_project(owner, state, title=f"{tag}Secret {state} lamp", tiers=2)
        project.cover_image = uploads.save_cover(png_bytes((40 + i * 30, 80, 160)))
        projects[state] = project
    db.session.commit()
    ready_account(owner, stripe_fake)  # so the payout pages talk to Stripe for the owner
    place = Place(views={}, titles=[p.title for p in projects.values()], emails=emails)
    if "live" in projects:
        visitors = {*visitors, "backer"}
    for visitor in visitors:
        place.clients[visitor] = app.test_client()
        place.tokens[visitor] = log_in_as(place.clients[visitor], visitor, emails.get(visitor))
    pledge_id, intent_id = 0, ""
    if "live" in projects:
        live = projects["live"]
        backer = place.clients["backer"]
        pledge_id, intent_id = held_pledge(backer, stripe_fake, live, live.tiers[0])
    owner_session = newest_session_of(users["owner"].id) if "owner" in place.clients else 0
    ended = projects.get("cancelled", next(iter(projects.values())))
    faq = {}
    for state, project in projects.items():  # rows as a live project would have them
        entry = FaqEntry(project_id=project.id, question="Batteries?", answer="Included.")
        asked = Question(project_id=project.id, asker_id=users["backer"].id, body="Warm light?")
        change = ProjectRevision(
            project_id=project.id, field="title", old_value="Lamp", new_value=project.title
        )
        # An open report, made as a row (by its owner, so every visitor may still report it).
        report = Report(
            reporter_id=owner.id, project_id=project.id, target_id=project.id, reason="spam"
        )
        # The backer's comment, reported by the owner (as a row: a draft takes no comments).
        comment = Comment(project_id=project.id, author_id=users["backer"].id, body="Warm?")
        db.session.add_all([entry, asked, change, report, comment])
        db.session.flush()
        db.session.add(
            Report(
                reporter_id=owner.id,
                project_id=project.id,
                target_type="comment",
                target_id=comment.id,
                comment_id=comment.id,
                reason="spam",
            )
        )
        ref = ReferralTag(project_id=project.id, tag="launch-video", label="The video")
        db.session.add(ref)
        db.session.flush()
        faq[state] = entry.id, asked.id, change.id, comment.id, ref.id
    db.session.commit()
    updates = {state: gen_update_row(project, owner.id) for state, project in projects.items()}
    stretch_goals = {state: gen_stretch_goal_row(project) for state, project in projects.items()}
    addons = {state: gen_addon_row(project) for state, project in projects.items()}
    unsubscribe_token = owner_unsubscribe_token(app, owner.id)
    links = link_tokens(owner, tag)
    for state, project in projects.items():
        place.views[state] = World(
            project_id=project.id,
            backed_tier_id=projects.get("live", project).tiers[0].id,
            tier_id=project.tiers[1].id,
            pledge_id=pledge_id,
            payment_intent_id=intent_id,
            cover=project.cover_image,
            ended_project_id=ended.id,
            owner_session_id=owner_session,
            user_ids={v: u.id for v, u in users.items()},
            unsubscribe_token=unsubscribe_token,
            clients=place.clients,
            tokens=place.tokens,
            faq_entry_id=faq[state][0],
            question_id=faq[state][1],
            revision_id=faq[state][2],
            comment_id=faq[state][3],
            referral_tag_id=faq[state][4],
            slug=project.slug,
            person_id=owner.id,
            person_slug=slug_of_person(owner),
            update_number=updates[state][0],
            update_image=updates[state][1],
            update_id=updates[state][2],
            stretch_goal_id=stretch_goals[state],
            addon_id=addons[state],
            **links,
        )
    place.views[ANY] = place.views.get("live", next(iter(place.views.values())))
    db.session.rollback()
    return place


class Site:
    """The module's app, its shared world, and worlds of their own for the cases that write."""

    def __init__(self, app, stripe_fake) -> None:
        self.app, self.stripe_fake = app, stripe_fake
        self._shared: Place | None = None
        self._tags = itertools.count(1)

    def shared(self) -> Place:
        if self._shared is None:
            try:
                self._shared = build_place(self.app, self.stripe_fake, tag="")
            except Exception:
                self.spoiled()
                raise
        return self._shared

    def spoiled(self) -> None:
        """A request changed the shared world: start again from an empty database."""
        self._shared = None
        db.session.remove()
        empty_tables()
        self.stripe_fake.reset()

    def own(self, state: str, visitor: str) -> Place:
        """A world of its own: its people, the one project the case points at, one session."""
        states = ("live",) if state == ANY else (state,)
        tag = f"case{next(self._tags)}-"
        return build_place(self.app, self.stripe_fake, tag, states, visitors=(visitor,))

    def own_session(self, place: Place, visitor: str) -> Place:
        """The shared world with the visitor logged in again in a client of its own."""
        client = self.app.test_client()
        token = log_in_as(client, visitor, place.emails.get(visitor))
        clients, tokens = {**place.clients, visitor: client}, {**place.tokens, visitor: token}
        views = {s: replace(w, clients=clients, tokens=tokens) for s, w in place.views.items()}
        return replace(place, views=views, clients=clients, tokens=tokens)


@pytest.fixture(scope="module")
def site(_migrated, test_config, instance_dir, fakestripe_url) -> Iterator[Site]:
    """One app for the whole module (the per-test ``app`` would empty the database after
    every case), emptied at the end as ``app`` would be."""
    # Every visitor asks a reset for the same address: its limit has its own tests.
    limits = {**NO_PLEDGE_START_LIMITS, "PASSWORD_RESET_LIMIT_PER_ADDRESS": "1000 per hour"}
    app = create_app({**test_config, **limits}, instance_path=instance_dir)
    app.test_client_class = IsolatedClient
    app.jinja_env.bytecode_cache = SharedTemplateCache()
    stripe_fake = FakeStripe(fakestripe_url)
    stripe_fake.reset()
    with app.app_context():
        yield Site(app, stripe_fake)
        db.session.remove()
        empty_tables()
        db.engine.dispose()
    stripe_fake.http.close()
    limiter.reset()


# ---- one request ----------------------------------------------------------------------------


def send(app, route: Route, world: World, visitor: str):
    client = world.clients[visitor]
    url = url_of(app, route, world)
    clear_flashes(client)  # only this request's messages are left to look at
    if route.method == "GET":
        return client.get(url)
    if route.endpoint == WEBHOOK:
        body = json.dumps(forged_events(world)["refund behind our back"])
        return client.post(url, data=body, content_type="application/json")
    data = {"csrf_token": world.tokens[visitor], **post_data(route, world)}
    return client.post(url, data=data)


def judge(expected, response, client, before: dict, after: dict) -> str | None:
    """Why the answer is not the expected one, or None."""
    code, location = response.status_code, response.headers.get("Location", "")
    changed = changed_tables(before, after)
    got = f"got {code} {location}".strip()
    if expected == LOGIN:
        if code != 302 or urlsplit(location).path != "/login" or "next=" not in location:
            return f"expected the log in page, {got}"
    elif expected in (DONE, REFUSED, REDIRECT):
        if code != 302 or urlsplit(location).path == "/login":
            body = response.get_data(as_text=True)[:300]
            return f"expected a redirect ({expected}), {got}: {body}"
    elif code != expected:
        return f"expected {expected}, {got}"
    if expected == DONE and not changed:
        return "answered as done but changed nothing"
    if expected != DONE and changed:
        return f"expected no change ({expected}) but it changed {changed}"
    if expected == REFUSED and not any(c in ("danger", "warning") for c, _ in flashed(client)):
        return "refused without telling why (no danger or warning message)"
    return None


# ---- the table ------------------------------------------------------------------------------


def test_every_route_of_the_site_is_in_the_table():
    table = {key for key in ACCESS}
    missing = sorted(set(ROUTES) - table)
    assert not missing, "\n".join(MISSING.format(route=r) for r in missing)
    stale = sorted(table - set(ROUTES))
    assert not stale, f"ACCESS has rows for routes the site no longer has: {stale}"


@pytest.mark.parametrize(("key", "state", "visitor", "expected"), list(cases()))
def test_access(site, key, state, visitor, expected):
    route = ROUTES.get(key)
    assert route, f"ACCESS has a row for {key}, a route the site no longer has"
    if expected == DONE:
        place = site.own(state, visitor)
    elif route.endpoint in SESSION_CHANGING:
        place = site.own_session(site.shared(), visitor)
    else:
        place = site.shared()
    world = place.views[state]
    client = world.clients[visitor]

    before = snapshot()
    response = send(site.app, route, world, visitor)
    after = snapshot()
    if expected != DONE and after != before:
        site.spoiled()
    problem = judge(expected, response, client, before, after)
    body = response.get_data().decode("utf-8", "replace")
    response.close()  # a sent file stays open until closed
    assert not problem, f"{key} in {state} as {visitor}: {problem}"
    if expected in (LOGIN, 403, 404):
        shown = [title for title in place.titles if title in body]
        assert not shown, f"a refused page shows {shown}"
