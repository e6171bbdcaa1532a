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

from app.accounts import limits, services, sessions
from app.accounts.forms import LanguageForm, LoginForm, LogoutForm, RegisterForm
from app.accounts.models import User
from app.extensions import db, limiter, login_manager
from app.i18n import web as i18n_web

bp = Blueprint("accounts", __name__, template_folder="templates")


def start_session(user: User, remember: bool = False) -> None:
    """Log in with a fresh session: nothing from before, a CSRF token someone may have
    planted or seen included, carries over into the logged-in session. The cookies carry a
    new server-side session's id (app/accounts/sessions.py), so it can be ended."""
    language = session.get(i18n_web.SESSION_KEY)  # the visitor's choice is no secret
    session.clear()
    g.pop("csrf_token", None)  # Flask-WTF's copy for this request
    if language:
        session[i18n_web.SESSION_KEY] = language
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
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = services.register(form.email.data, form.display_name.data, form.password.data)
        except services.AccountError as error:
            form.email.errors.append(str(error))
        else:
            user.locale = i18n_web.current()  # the language they signed up in: e-mails too
            db.session.commit()
            start_session(user)
            flash(_("Welcome, %(name)s! Your account is ready.", name=user.display_name), "success")
            return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/register.html", form=form, next=_next_param())


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
