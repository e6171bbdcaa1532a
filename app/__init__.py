"""Crowdfunding platform with all-or-nothing escrow: the application factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import gettext
from werkzeug.middleware.proxy_fix import ProxyFix

from app import payments, schema, templating
from app.config import load_config
from app.extensions import bootstrap, csrf, db, limiter, login_manager, migrate, talisman
from app.i18n import N_
from app.i18n import web as i18n_web
from app.shedding import QueueTimeout


def create_app(
    test_config: dict[str, Any] | None = None, instance_path: str | None = None
) -> Flask:
    """Build the app: configuration, extensions, blueprints, error pages and commands."""
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    load_config(app, test_config)
    if app.config["PROXY_FIX_X_FOR"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"], x_proto=1)
    if app.config["QUEUE_TIMEOUT_SECONDS"] > 0:  # outermost: a stale request costs nothing
        app.wsgi_app = QueueTimeout(app.wsgi_app, app.config["QUEUE_TIMEOUT_SECONDS"])
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    templating.register(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from app import models  # noqa: F401  (every table known to Alembic and the tests)

    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from sqlalchemy import event

        from app.extensions import sqlite_pragmas

        with app.app_context():
            event.listen(
                db.engine, "connect", sqlite_pragmas(app.config["SQLITE_BUSY_TIMEOUT_SECONDS"])
            )
    migrations = Path(app.root_path).parent / "migrations"
    migrate.init_app(app, db, directory=str(migrations), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    bootstrap.init_app(app)
    i18n_web.init_app(app)
    payments.init_app(app)
    from app.notifications import handlers as notification_handlers

    notification_handlers.register()  # domain events -> outbox rows
    from app.campaign import series

    series.register()  # pledges held, changed, cancelled -> the funding series
    from app.stretch import services as stretch

    stretch.register()  # pledges held or raised -> stretch goals reached
    from app.payouts import workflows as payout_workflows
    from app.pledges import checkout

    checkout.register_webhooks()  # each feature answers its own Stripe events
    payout_workflows.register_webhooks()
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message_category = "info"
    login_manager.login_message = N_("Please log in to access this page.")
    login_manager.localize_callback = gettext  # in the reader's language
    login_manager.session_protection = "strong"
    talisman.init_app(
        app,
        force_https=app.config["HTTPS"],
        strict_transport_security=app.config["HTTPS"],
        session_cookie_secure=app.config["HTTPS"],
        content_security_policy=content_security_policy(app.config["STRIPE_JS_URL"]),
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
    )


def content_security_policy(stripe_js_url: str) -> dict[str, str | list[str]]:
    """The site itself, plus the configured Stripe.js origin for scripts, calls and frames."""
    from urllib.parse import urlsplit

    parts = urlsplit(stripe_js_url)
    stripe_origin = f"{parts.scheme}://{parts.netloc}"
    return {
        "default-src": "'self'",
        "script-src": ["'self'", stripe_origin],
        "connect-src": ["'self'", stripe_origin],
        "frame-src": ["'self'", stripe_origin],
        "img-src": ["'self'", "data:"],
        "style-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }


def register_blueprints(app: Flask) -> None:
    from app.accounts.routes import bp as accounts_bp
    from app.addons.routes import bp as addons_bp
    from app.admin.routes import bp as admin_bp
    from app.campaign.routes import bp as campaign_bp
    from app.comments.routes import bp as comments_bp
    from app.follows.routes import bp as follows_bp
    from app.fulfilment.routes import bp as fulfilment_bp
    from app.main.routes import bp as main_bp
    from app.moderation.routes import bp as moderation_bp
    from app.notifications.routes import bp as notifications_bp
    from app.payouts.routes import bp as payouts_bp
    from app.people.routes import bp as people_bp
    from app.pledges.routes import bp as pledges_bp
    from app.projects.routes import bp as projects_bp
    from app.questions.routes import bp as questions_bp
    from app.reports.routes import bp as reports_bp
    from app.rewards.routes import bp as rewards_bp
    from app.settings.routes import bp as settings_bp
    from app.sharing.routes import bp as sharing_bp
    from app.statements.routes import bp as statements_bp
    from app.stretch.routes import bp as stretch_bp
    from app.surveys.routes import bp as surveys_bp
    from app.updates.routes import bp as updates_bp

    for blueprint in (
        main_bp,
        accounts_bp,
        projects_bp,
        rewards_bp,
        addons_bp,
        stretch_bp,
        pledges_bp,
        questions_bp,
        comments_bp,
        moderation_bp,
        admin_bp,
        reports_bp,
        follows_bp,
        fulfilment_bp,
        updates_bp,
        payouts_bp,
        statements_bp,
        campaign_bp,
        sharing_bp,
        notifications_bp,
        settings_bp,
        people_bp,
        surveys_bp,
    ):
        app.register_blueprint(blueprint)


def register_errorhandlers(app: Flask) -> None:
    from app.errors.handlers import register

    register(app)


def register_commands(app: Flask) -> None:
    from app.accounts.cli import users_cli
    from app.audit.cli import ledger_cli
    from app.demo.cli import demo_cli
    from app.notifications.cli import notifications_cli
    from app.payments.cli import payments_cli
    from app.pledges.cli import pledges_cli
    from app.scheduler.cli import scheduler_cli
    from app.settlement.cli import projects_cli

    groups = (
        users_cli,
        demo_cli,
        ledger_cli,
        pledges_cli,
        payments_cli,
        scheduler_cli,
        projects_cli,
        notifications_cli,
    )
    for group in groups:
        app.cli.add_command(group)
    schema.register(app, groups)  # Flask-Migrate's `flask db` is never refused
