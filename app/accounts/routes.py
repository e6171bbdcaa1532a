"""Register, log in, log out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app import referrals
from app.accounts import limits, services, sessions, tokens
from app.accounts.forms import (
    ConfirmForm,
    ForgotPasswordForm,
    LanguageForm,
    LoginForm,
    LogoutForm,
    NewPasswordForm,
    RegisterForm,
    ResendVerificationForm,
)
from app.accounts.models import User
from app.extensions import db, limiter, login_manager
from app.i18n import web as i18n_web

bp = Blueprint("accounts", __name__, template_folder="templates")


def start_session(user: User, remember: bool = False) -> None:
    """Log in with a fresh session: nothing from before, a CSRF token someone may have
    planted or seen included, carries over into the logged-in session. The cookies carry a
    new server-side session's id (app/accounts/sessions.py), so it can be ended."""
    language = session.get(i18n_web.SESSION_KEY)  # the visitor's choice is no secret
    came_from = referrals.carried()  # nor where they came from, for the pledge they start
    session.clear()
    g.pop("csrf_token", None)  # Flask-WTF's copy for this request
    if language:
        session[i18n_web.SESSION_KEY] = language
    if came_from:
        session[referrals.SESSION_KEY] = came_from
    sessions.start(user, request.remote_addr or "", request.user_agent.string, remember)
    db.session.commit()
    login_user(user, remember=remember)


@login_manager.user_loader
def load_user(identity: str) -> User | None:
    return sessions.load(identity)


@bp.before_app_request
def _note_session_seen() -> None:
    """A signed-in request marks its session as seen (at most once a minute), committed
    now, before the view has written anything."""
    if request.endpoint in ("static", "bootstrap.static") or "_user_id" not in session:
        return
    user = current_user._get_current_object()
    row = getattr(user, "current_session", None)
    if row is not None and sessions.seen(row, request.remote_addr or ""):
        db.session.commit()


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so a crafted link cannot send the user elsewhere after log in."""
    if target:
        path = "".join(c for c in target if c not in "\t\r\n")  # as browsers read it
        parts = urlsplit(path)
        # "//host" is another site, and so is "////host" (werkzeug shortens it to "//host").
        local = path.startswith("/") and not path.startswith("//") and "\\" not in path
        if local and not parts.scheme and not parts.netloc:
            return path
    return url_for("main.index")


def _next_param() -> str | None:
    """The page to come back to, kept when moving between log in and sign up."""
    target = request.args.get("next")
    return _safe_next(target) if target else None


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["REGISTER_LIMIT_PER_IP"],
    methods=["POST"],
    scope="register-ip",
    error_message=lambda: _("Too many sign ups from your network. Try again later."),
)
def register():
    """The same answer whatever the address (app/accounts/services.py ``sign_up``), and no
    one is logged in: the account logs in by its mailed link, or with its password."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        services.sign_up(
            form.email.data, form.display_name.data, form.password.data, i18n_web.current()
        )
        db.session.commit()
        return redirect(url_for("accounts.check_inbox", reason="sign-up", next=_next_param()))
    return render_template("accounts/register.html", form=form, next=_next_param())


@bp.route("/check-inbox/<any('sign-up', reset):reason>")
def check_inbox(reason: str):
    """Where sign-up and "forgot password" end, whatever the address was."""
    return render_template("accounts/check_inbox.html", reason=reason, next=_next_param())


def _link_invalid():
    """Every refused link gets this one answer: nothing says whether it was tampered with,
    expired or used."""
    return render_template("accounts/link_invalid.html"), 400


@bp.route("/verify/<token>", methods=["GET", "POST"])
def verify_email(token: str):
    """The link mailed at sign-up: a page with a button, whose POST proves the address and
    logs the account in on this device."""
    user = tokens.verified_user(token)
    if user is None:
        return _link_invalid()
    form = ConfirmForm()
    if form.validate_on_submit():
        services.verify_email(user)
        db.session.commit()
        if not (current_user.is_authenticated and current_user.id == user.id):
            start_session(user)
        flash(_("Thank you: your e-mail address is confirmed."), "success")
        return redirect(url_for("main.index"))
    return render_template("accounts/verify.html", form=form, email=user.email)


def _resend_key() -> str:
    return str(current_user.id) if current_user.is_authenticated else request.remote_addr or ""


@bp.route("/verify-again", methods=["POST"])
@login_required
@limiter.limit(
    lambda: current_app.config["VERIFY_RESEND_LIMIT"],
    key_func=_resend_key,
    scope="verify-resend",
    error_message=lambda: _("You asked for the link several times already. Try again later."),
)
def resend_verification():
    if not ResendVerificationForm().validate_on_submit():
        abort(400)
    if current_user.is_verified:
        flash(_("Your e-mail address is already confirmed."), "info")
    else:
        services.request_verification(current_user)
        db.session.commit()
        flash(
            _("We sent a new link to %(email)s. It may take a minute.", email=current_user.email),
            "success",
        )
    return redirect(_safe_next(request.form.get("next") or _same_site_referrer()))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["PASSWORD_RESET_LIMIT_PER_IP"],
    methods=["POST"],
    scope="reset-ip",
    error_message=lambda: _("Too many password reset requests from your network. Try again later."),
)
def forgot_password():
    """The same answer whatever the address: the link goes only to an account's address."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        if not limits.reset_request_allowed(services.normalise_email(form.email.data)):
            abort(429, description=_("Too many password reset requests for this address."))
        services.request_password_reset(form.email.data)
        db.session.commit()
        return redirect(url_for("accounts.check_inbox", reason="reset"))
    return render_template("accounts/forgot.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """The mailed reset link: a new password, every session ended, this device logged in."""
    user = tokens.reset_user(token)
    if user is None:
        return _link_invalid()
    form = NewPasswordForm(known=(user.email, user.display_name))
    if form.validate_on_submit():
        services.reset_password(user, form.password.data)
        db.session.commit()
        start_session(user)
        flash(
            _("Your new password is saved. Every other device is logged out; this one is in."),
            "success",
        )
        return redirect(url_for("main.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/reset.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        found = services.find_by_email(form.email.data)
        device = limits.device_for(found.id if found else None)
        account = services.normalise_email(form.email.data)
        # Counted before the password is checked, so parallel guesses cannot slip through.
        attempt = limits.count_attempt(account, request.remote_addr or "", device)
        if attempt.refused:
            abort(429, description=_(attempt.refused))
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None and user.disabled_at is not None:
            form.password.errors.append(_("This account is disabled."))
        elif user is not None:
            limits.give_back(attempt)
            chosen = session.get(i18n_web.SESSION_KEY)
            if user.locale is None and chosen:  # chosen before logging in: kept, for e-mails
                user.locale = chosen
            start_session(user, remember=form.remember.data)
            flash(_("Logged in as %(name)s.", name=user.display_name), "success")
            response = redirect(_safe_next(request.args.get("next")))
            limits.remember_device(response, user.id)
            return response
        else:
            form.password.errors.append(_("Wrong email or password."))
    return render_template("accounts/login.html", form=form, next=_next_param())


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        row = current_user.current_session
        if row is not None:
            sessions.end(current_user, row.id)
            db.session.commit()
        logout_user()
        flash(_("You are logged out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/language", methods=["POST"])
def language():
    """The footer's switch: saved on the account when signed in, else in the session; back
    to the page it was pressed on."""
    form = LanguageForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            current_user.locale = form.locale.data
            db.session.commit()
        session[i18n_web.SESSION_KEY] = form.locale.data
    return redirect(_safe_next(form.next.data or _same_site_referrer()))


def _same_site_referrer() -> str | None:
    """The page the switch was pressed on, when the form could not say (an error page)."""
    parts = urlsplit(request.referrer or "")
    if parts.netloc != request.host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")
