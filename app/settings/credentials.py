"""Settings pages for the credentials: change the password (asks the current one; every other
session ends), change the e-mail address (asks the password, needs the current address
proved; the new one is mailed a link and the change happens when it is followed; the old
one is told, with a week to undo). These views commit, as every view does."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, logout_user

from app.accounts import services as accounts
from app.accounts import tokens
from app.accounts.forms import ConfirmForm
from app.extensions import db, limiter
from app.i18n import N_
from app.settings.forms import ChangeEmailForm, ChangePasswordForm

WRONG_PASSWORD = N_("That is not your password.")


def _per_account() -> str:
    return str(current_user.id) if current_user.is_authenticated else request.remote_addr or ""


def _password_guesses(view):
    """A stolen session cannot guess the password through these forms faster than log in."""
    return limiter.limit(
        lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
        methods=["POST"],
        key_func=_per_account,
        scope=f"settings-{view.__name__}",
        error_message=lambda: _("Too many tries. Try again in a minute."),
    )(view)


@login_required
@_password_guesses
def password():
    user = current_user
    form = ChangePasswordForm(known=(user.email, user.display_name))
    if form.validate_on_submit():
        if not accounts.password_is(user, form.current_password.data):
            form.current_password.errors = [_(WRONG_PASSWORD)]
        else:
            ended = accounts.change_password(user, form.password.data)
            db.session.commit()
            flash(
                _("Your password is changed.")
                + " "
                + ngettext(
                    "%(num)d other device is logged out.",
                    "%(num)d other devices are logged out.",
                    ended,
                ),
                "success",
            )
            return redirect(url_for("settings.password"))
    status = 400 if request.method == "POST" else 200
    return render_template("settings/password.html", form=form), status


@login_required
@_password_guesses
def email():
    user = current_user
    form = ChangeEmailForm()
    if not user.is_verified:
        status = 403 if request.method == "POST" else 200
        return render_template("settings/email.html", form=None), status
    if form.validate_on_submit():
        if not accounts.password_is(user, form.password.data):
            form.password.errors = [_(WRONG_PASSWORD)]
        elif not _email_change_allowed():
            abort(429, description=_("You asked for several changes already. Try again later."))
        else:
            try:
                accounts.request_email_change(user, form.email.data)
            except accounts.AccountError as error:
                form.email.errors = [str(error)]
            else:
                db.session.commit()
                flash(
                    _(
                        "We sent a link to %(email)s. Your address changes when you open it; "
                        "until then it stays %(current)s.",
                        email=accounts.normalise_email(form.email.data),
                        current=user.email,
                    ),
                    "success",
                )
                return redirect(url_for("settings.email"))
    status = 400 if request.method == "POST" else 200
    return render_template("settings/email.html", form=form), status


def _email_change_allowed() -> bool:
    from limits import parse_many

    return all(
        limiter.limiter.hit(item, "email-change", str(current_user.id))
        for item in parse_many(current_app.config["EMAIL_CHANGE_LIMIT"])
    )


def confirm_email(token: str):
    """The link mailed to the new address; it works in any browser, logged in or not."""
    found = tokens.email_change_of(token)
    if found is None:
        return render_template("accounts/link_invalid.html"), 400
    user, new_email = found
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            accounts.change_email(user, new_email)
        except accounts.AccountError as error:
            db.session.rollback()
            return render_template(
                "settings/email_link.html", form=None, problem=str(error), kind="confirm"
            ), 409
        db.session.commit()
        flash(_("Your e-mail address is now %(email)s.", email=new_email), "success")
        # Whoever follows it is told on the home page (its log in link is in the navigation):
        # a redirect to the log in form would read as "not allowed".
        mine = current_user.is_authenticated and current_user.id == user.id
        return redirect(url_for("settings.email" if mine else "main.index"))
    return render_template(
        "settings/email_link.html", form=form, kind="confirm", address=new_email, problem=None
    )


def undo_email(token: str):
    """The link mailed to the old address: it comes back, every session ends, and a link to
    choose a new password goes to it."""
    found = tokens.email_undo_of(token)
    if found is None:
        return render_template("accounts/link_invalid.html"), 400
    user, old_email = found
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            accounts.undo_email_change(user, old_email)
        except accounts.AccountError as error:
            db.session.rollback()
            return render_template(
                "settings/email_link.html", form=None, problem=str(error), kind="undo"
            ), 409
        db.session.commit()
        if current_user.is_authenticated and current_user.id == user.id:
            logout_user()
        flash(
            _(
                "%(email)s is your account's address again, and every device is logged out. "
                "We sent it a link: choose a new password now.",
                email=old_email,
            ),
            "warning",
        )
        return redirect(url_for("accounts.check_inbox", reason="reset"))
    return render_template(
        "settings/email_link.html", form=form, kind="undo", address=old_email, problem=None
    )


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/password", view_func=password, methods=["GET", "POST"])
    bp.add_url_rule("/email", view_func=email, methods=["GET", "POST"])
    bp.add_url_rule("/email/confirm/<token>", view_func=confirm_email, methods=["GET", "POST"])
    bp.add_url_rule("/email/undo/<token>", view_func=undo_email, methods=["GET", "POST"])
