"""Backing a project, paying by card, and managing one's pledges until the deadline."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_required

from app import clock, money, referrals
from app.extensions import csrf, db, limiter
from app.i18n import N_
from app.payments import gateway, methods
from app.payments.gateway import GatewayError
from app.pledges import checkout, services
from app.pledges.domain import PledgeRefused, PledgeStatus, check_open_for_pledges
from app.pledges.forms import CancelForm, PledgeForm
from app.pledges.models import Payment, PaymentStatus, Pledge
from app.pledges.services.queries import backed_pledge
from app.projects.forms import ConfirmForm
from app.projects.routes import visible_project

bp = Blueprint("pledges", __name__, template_folder="templates")


def own_pledge(pledge_id: int) -> Pledge:
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is None or pledge.backer_id != current_user.id:
        abort(404)
    return pledge


def open_payment(pledge: Pledge) -> Payment | None:
    return next((p for p in pledge.payments if p.status is PaymentStatus.PENDING), None)


def _terms(form: PledgeForm) -> services.Terms:
    return services.Terms(
        tier_id=form.tier_id.data,
        amount=form.amount_minor,
        shipping_country=form.shipping_country.data or None,
        addons=form.chosen_addons(),
    )


def _account_key() -> str:
    return f"user:{current_user.id}"


@bp.route("/projects/<int:project_id>/back", methods=["GET", "POST"])
@login_required
@limiter.limit(
    lambda: current_app.config["PLEDGE_START_LIMIT_PER_IP"],
    methods=["POST"],
    scope="pledge-start-ip",
    error_message=lambda: gettext("Too many pledges started from your network. Try again later."),
)
@limiter.limit(
    lambda: current_app.config["PLEDGE_START_LIMIT_PER_ACCOUNT"],
    key_func=_account_key,
    methods=["POST"],
    scope="pledge-start-account",
    error_message=lambda: gettext(
        "You have started many pledges in the last hour. Try again later."
    ),
)
def back(project_id: int):
    project = visible_project(project_id)
    existing = services.open_pledge_of(current_user.id, project.id)
    if existing is not None:
        return redirect(url_for("pledges.show", pledge_id=existing.id))
    try:
        if project.owner_id == current_user.id:
            raise PledgeRefused(gettext("You cannot back your own project."))
        check_open_for_pledges(project.status, project.deadline, clock.now())
    except PledgeRefused as refusal:
        flash(str(refusal), "warning")
        return redirect(url_for("projects.show", project_id=project.id))
    form = PledgeForm(project=project)
    if request.method == "GET":
        wanted = request.args.get("tier", type=int)
        chosen = next((t for t in project.tiers if t.id == wanted), None)
        if chosen is not None and chosen.id in form.choosable:
            form.tier_id.data = chosen.id
            form.amount.data = money.to_major_text(chosen.minimum_amount, project.currency)
    if form.validate_on_submit():
        try:
            source = referrals.recalled(project.id, clock.now())
            started = checkout.begin_pledge(current_user.id, project.id, _terms(form), source)
        except PledgeRefused as refusal:
            db.session.rollback()
            flash(str(refusal), "danger")
        else:
            return redirect(url_for("pledges.pay", pledge_id=started.pledge_id))
    return render_template("pledges/back.html", project=project, form=form, pledge=None)


@bp.route("/pledges/<int:pledge_id>/pay")
@login_required
def pay(pledge_id: int):
    pledge = own_pledge(pledge_id)
    payment = open_payment(pledge)
    if payment is None or not payment.client_secret:
        return redirect(url_for("pledges.show", pledge_id=pledge.id))
    return render_template(
        "pledges/pay.html",
        pledge=pledge,
        payment=payment,
        confirm=ConfirmForm(),
        stripe_js_url=current_app.config["STRIPE_JS_URL"],
        publishable_key=current_app.config["STRIPE_PUBLISHABLE_KEY"],
        payment_methods=methods.choices(payment.currency),
        pay_messages=methods.browser_messages(),
    )


@bp.route("/pledges/<int:pledge_id>/complete")
@login_required
def complete(pledge_id: int):
    """Where the browser comes back after Stripe.js confirmed the payment (card or WeChat Pay),
    and where Alipay sends it back (with payment_intent and redirect_status, which we do not
    trust: Stripe is asked)."""
    pledge = own_pledge(pledge_id)
    payment = open_payment(pledge) or (pledge.payments[-1] if pledge.payments else None)
    if payment is None:
        abort(404)
    try:
        result = checkout.confirm(payment.id)
    except GatewayError:
        db.session.rollback()
        flash(
            gettext(
                "We could not check your payment with the provider yet; it will update shortly."
            ),
            "warning",
        )
        return redirect(url_for("pledges.show", pledge_id=pledge_id))
    if result.status == "held":
        flash(
            gettext(
                "Thank you! Your pledge is in. Your payment is held in escrow until the deadline."
            ),
            "success",
        )
    elif result.status == "too_late":
        flash(result.message, "warning")
    elif result.status == "declined":
        db.session.expire_all()
        still_open = open_payment(pledge)
        if still_open is None or not still_open.failure_message:  # else the pay page says it
            flash(result.message or gettext("Your card was declined."), "danger")
        return redirect(url_for("pledges.pay", pledge_id=pledge_id))
    elif result.status == "processing":
        flash(
            gettext("Your payment is being processed; this page will show when it completes."),
            "info",
        )
    return redirect(url_for("pledges.show", pledge_id=pledge_id))


@bp.route("/pledges/<int:pledge_id>/abandon", methods=["POST"])
@login_required
def abandon(pledge_id: int):
    pledge = own_pledge(pledge_id)
    payment = open_payment(pledge)
    if ConfirmForm().validate_on_submit() and payment is not None:
        checkout.abandon(payment.id, N_("You stopped the payment."))  # stored in English
        flash(gettext("Payment stopped. Nothing was charged."), "info")
    return redirect(url_for("pledges.show", pledge_id=pledge_id))


@bp.app_template_global()
def viewer_pledge(project_id: int) -> Pledge | None:
    """For the project page (which knows nothing of pledges): the signed-in viewer's own
    pledge on the project, for "You backed this"."""
    if not current_user.is_authenticated:
        return None
    return backed_pledge(current_user.id, project_id)


@bp.route("/my/pledges")
@login_required
def mine():
    pledges = services.pledges_of(current_user.id)
    # A failed pledge never held money (a declined card, a payment stopped or left to expire):
    # listed apart, so attempts do not pass for pledges.
    return render_template(
        "pledges/mine.html",
        pledges=[p for p in pledges if p.status is not PledgeStatus.FAILED],
        attempts=[p for p in pledges if p.status is PledgeStatus.FAILED],
    )


@bp.route("/pledges/<int:pledge_id>")
@login_required
def show(pledge_id: int):
    pledge = own_pledge(pledge_id)
    return render_template(
        "pledges/show.html",
        pledge=pledge,
        payment=open_payment(pledge),
        confirm=ConfirmForm(),
        now=clock.now(),
    )


@bp.route("/pledges/<int:pledge_id>/change", methods=["GET", "POST"])
@login_required
def change(pledge_id: int):
    pledge = own_pledge(pledge_id)
    if pledge.status is not PledgeStatus.HELD:
        flash(
            gettext("A %(status)s pledge cannot be changed.", status=pledge.status.label),
            "warning",
        )
        return redirect(url_for("pledges.show", pledge_id=pledge.id))
    form = PledgeForm(
        project=pledge.project,
        current_tier=pledge.tier,
        held_addons={line.addon_id: line.quantity for line in pledge.addon_lines},
    )
    if request.method == "GET":
        form.tier_id.data = pledge.tier_id
        form.amount.data = money.to_major_text(pledge.amount, pledge.currency)
        form.shipping_country.data = pledge.shipping_country or ""
        form.version.data = pledge.version
    if form.validate_on_submit():
        try:
            changed = checkout.begin_change(pledge.id, _terms(form), form.version.data)
        except PledgeRefused as refusal:
            return refused(pledge_id, refusal)
        if changed.pays:
            return redirect(url_for("pledges.pay", pledge_id=pledge_id))
        message, category = checkout.refund_message(changed.refunds)
        flash(
            gettext("Your pledge is changed.") + (f" {message}" if message else ""),
            "success" if category == "info" else category,
        )
        return redirect(url_for("pledges.show", pledge_id=pledge_id))
    return render_template("pledges/back.html", project=pledge.project, form=form, pledge=pledge)


@bp.route("/pledges/<int:pledge_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(pledge_id: int):
    pledge = own_pledge(pledge_id)
    form = CancelForm()
    if request.method == "GET":
        form.version.data = pledge.version
    if form.validate_on_submit():
        try:
            results = checkout.cancel(pledge.id, form.version.data)
        except PledgeRefused as refusal:
            return refused(pledge_id, refusal)
        message, category = checkout.refund_message(results)
        flash(gettext("Your pledge is cancelled.") + (f" {message}" if message else ""), category)
        return redirect(url_for("pledges.show", pledge_id=pledge_id))
    return render_template(
        "pledges/cancel.html", pledge=pledge, confirm=form, payment=open_payment(pledge)
    )


def refused(pledge_id: int, refusal: PledgeRefused):
    """A change the rules or a concurrent change refused: nothing was done; say why, on the
    pledge as it is now (409 for a client that asked for JSON)."""
    db.session.rollback()
    if request.accept_mimetypes.best == "application/json":
        return {"error": "Refused", "message": str(refusal)}, 409
    flash(str(refusal), "warning")
    return redirect(url_for("pledges.show", pledge_id=pledge_id))


@bp.route("/stripe/webhook", methods=["POST"])
@csrf.exempt  # the one route without CSRF: Stripe signs its requests instead
def webhook():
    secret = current_app.config["STRIPE_WEBHOOK_SECRET"]
    signature = request.headers.get("Stripe-Signature", "")
    if not secret:
        abort(400, "Webhooks are not configured.")
    try:
        event = gateway().parse_event(request.get_data(), signature, secret)
    except ValueError:
        abort(400, "The webhook signature is missing or invalid.")
    result = checkout.handle_event(event.id, event.type, event.data)
    return {"received": True, "result": result}
