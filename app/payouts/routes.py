"""The creator's payout account: connect a Stripe Express account and finish onboarding.

Every view works on the logged-in user's own account only; no id is ever taken from the URL.
The return and refresh pages are where Stripe's onboarding sends the person back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from app.accounts.verification import PAYOUTS, verified_required
from app.extensions import db, talisman
from app.i18n import N_
from app.payments.gateway import GatewayError
from app.payouts import services, workflows
from app.payouts.forms import ConnectForm
from app.payouts.services import PayoutStatus

bp = Blueprint("payouts", __name__, template_folder="templates")
log = logging.getLogger(__name__)

UNREACHABLE = N_("We could not reach Stripe, so nothing changed. Please try again in a moment.")
STRIPE_CONNECT_ORIGIN = "https://connect.stripe.com"  # where real AccountLink URLs point


def onboarding_origin() -> str:
    """The origin of Stripe's onboarding pages: Stripe's own, or the fake server offline."""
    if current_app.config["STRIPE_SECRET_KEY"]:
        return STRIPE_CONNECT_ORIGIN
    parts = urlsplit(current_app.config["STRIPE_API_BASE"])
    return f"{parts.scheme}://{parts.netloc}"


class _ConnectPagePolicy(Mapping):
    """The site's Content-Security-Policy, plus Stripe's onboarding origin in ``form-action``.

    The connect form is answered with a redirect to Stripe, and browsers hold that redirect to
    the ``form-action`` of the page holding the form: with ``'self'`` alone Chromium blocks
    it. Only the page with that form gets the extra origin. Read per request (Talisman's view
    options are fixed at import; the origin comes from the app's configuration).
    """

    def _policy(self) -> dict:
        from app import content_security_policy

        policy = dict(content_security_policy(current_app.config["STRIPE_JS_URL"]))
        policy["form-action"] = ["'self'", onboarding_origin()]
        return policy

    def __getitem__(self, key: str):
        return self._policy()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._policy())

    def __len__(self) -> int:
        return len(self._policy())

    def items(self):  # what Talisman reads: build the policy once per response
        return self._policy().items()


connect_page = talisman(content_security_policy=_ConnectPagePolicy())


def _links() -> services.Links:
    return services.Links(
        refresh_url=url_for("payouts.refresh", _external=True),
        return_url=url_for("payouts.return_", _external=True),
    )


def _unreachable(error: GatewayError):
    log.warning("user %s: Stripe call failed: %s", current_user.id, error)
    db.session.rollback()
    flash(gettext(UNREACHABLE), "danger")
    return redirect(url_for("payouts.account"))


@bp.app_context_processor
def payout_helpers() -> dict:
    """``payout_status()`` and ``payout_account()`` for any page (the creator dashboard shows
    them); queried only if used."""

    def payout_status() -> PayoutStatus:
        if not current_user.is_authenticated:
            return PayoutStatus.NOT_CONNECTED
        return services.status_of(services.account_of(current_user.id))

    def payout_account():
        if not current_user.is_authenticated:
            return None
        return services.account_of(current_user.id)

    return {
        "payout_status": payout_status,
        "payout_account": payout_account,
        "PayoutStatus": PayoutStatus,
    }


@bp.route("/payouts/account")
@login_required
@connect_page
@verified_required(PAYOUTS)
def account():
    return _account_page(services.account_of(current_user.id), ConnectForm())


def _account_page(connected, form: ConnectForm):
    """The payout account page: the stage onboarding is at, and what Stripe still asks for."""
    return render_template(
        "payouts/account.html",
        account=connected,
        status=services.status_of(connected),
        due=services.describe(connected.requirements_due or []) if connected else [],
        checking=services.describe(connected.pending_verification or []) if connected else [],
        form=form,
    )


@bp.route("/payouts/account/connect", methods=["POST"])
@login_required
@connect_page
@verified_required(PAYOUTS)
def connect():
    form = ConnectForm()
    connected = services.account_of(current_user.id)
    if not form.validate_on_submit():
        return _account_page(connected, form), 400
    try:
        url = workflows.connect(current_user.id, form.country.data, _links())
    except GatewayError as error:
        return _unreachable(error)
    return redirect(url)


@bp.route("/payouts/account/return")
@login_required
def return_():
    """Stripe sends the person here when they leave onboarding, finished or not."""
    try:
        status = workflows.refresh(current_user.id)
    except GatewayError as error:
        return _unreachable(error)
    if status is PayoutStatus.READY:
        flash(gettext("Your Stripe account is connected: payouts are ready."), "success")
    elif status is PayoutStatus.VERIFYING:
        flash(
            gettext(
                "Thank you: Stripe has your details and is checking them. You do not need to "
                "do anything else; this page shows when payouts are ready."
            ),
            "info",
        )
    elif status is PayoutStatus.INCOMPLETE:
        flash(
            gettext("Stripe onboarding is not finished yet: continue it whenever you are ready."),
            "warning",
        )
    return redirect(url_for("payouts.account"))


@bp.route("/payouts/account/refresh")
@login_required
@verified_required(PAYOUTS)
def refresh():
    """Stripe sends the person here when their onboarding link expired or was used."""
    try:
        url = workflows.new_link(current_user.id, _links())
    except GatewayError as error:
        return _unreachable(error)
    if url is None:
        return redirect(url_for("payouts.account"))
    return redirect(url)
