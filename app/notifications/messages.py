"""Turning outbox rows into e-mails: one template per kind gives the subject, a text part and
an HTML part (multipart/alternative), with absolute links and headers.

A message is ``templates/notifications/<kind>.html``: it extends ``_layout.html`` (the plain
layout, inline styles, the signature) and fills two blocks, ``subject`` (one line) and
``content``, written with the macros of ``_mail.html`` (``p``, ``greeting``, ``button``,
``link``, ``facts``, ``quote``). ``render`` renders it twice, once as text (nothing escaped,
paragraphs wrapped at 72 columns, links written out) and once as HTML (everything escaped);
each macro writes itself for the part being rendered. Amounts are shown with
``app.money.format_money`` (the ``money`` filter), moments with ``moment`` (the site's
``in_zone``), and links are absolute, built on BASE_URL. Each message is written in its
recipient's language (``users.locale``; English when they never chose one), whatever the
language of the request or job that sends it: the templates' ``{% trans %}`` blocks and the
filters read the locale ``force_locale`` sets.
"""

from __future__ import annotations

import re
import textwrap
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale, get_translations
from jinja2 import Environment, PackageLoader, StrictUndefined
from sqlalchemy import select

from app import i18n, templating
from app.accounts import tokens
from app.accounts.models import User
from app.addons.models import Addon, PledgeAddon
from app.extensions import db
from app.fulfilment.models import Shipment
from app.i18n import web as i18n_web
from app.money import format_money
from app.notifications import preferences
from app.notifications.models import Outbox
from app.payouts.models import Payout
from app.pledges.models import Payment, Pledge, Refund, RefundStatus
from app.projects.models import Project, ProjectEvent
from app.projects.slugs import slug_of
from app.rewards.models import RewardTier
from app.stretch.models import StretchGoal
from app.text import render_markdown
from app.updates.models import Update


def _environment(html: bool) -> Environment:
    """The message templates, HTML-escaped (``html``) or not (the text part)."""
    env = Environment(
        loader=PackageLoader("app.notifications", "templates"),
        autoescape=html,  # noqa: S701 - the text part is plain text, never HTML
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n", "jinja2.ext.do"],
    )
    # As Flask-Babel installs them for the site's templates: Jinja fills in the variables
    # (escaped in the HTML part).
    env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda text: get_translations().ugettext(text),
        lambda singular, plural, n: get_translations().ungettext(singular, plural, n),
        newstyle=True,
    )
    env.filters["money"] = lambda minor, code: format_money(minor, code, locale=i18n_web.current())
    env.filters["stored_text"] = lambda text: get_translations().ugettext(text) if text else ""
    env.filters["moment"] = moment
    env.filters["country_name"] = templating.country_name
    env.filters["addon_line"] = templating.addon_line
    env.filters["wrap"] = wrap
    env.filters["facts_text"] = facts_text
    env.filters["quoted"] = quoted
    return env


TEXT_WIDTH = 72


def moment(value: datetime | str | None, zone: str | None = None) -> str:
    """A moment in the reader's locale and the given zone (the reader's by default); stored
    facts keep moments as ISO 8601 text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return templating.in_zone(value, zone)


def wrap(text: str) -> str:
    """A paragraph of the text part: its lines joined and wrapped at 72 characters (words
    and links are never broken; Chinese, written without spaces, stays on its line)."""
    return textwrap.fill(
        " ".join(str(text).split()),
        width=TEXT_WIDTH,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _width(text: str) -> int:
    """Columns a string takes in a fixed-width font: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def facts_text(rows: Iterable[tuple[str, str]]) -> str:
    """A table of label and value, aligned, for the text part."""
    rows = [(str(label), str(value)) for label, value in rows]
    widest = max((_width(label) for label, _value in rows), default=0)
    return "\n".join(
        f"  {label}{' ' * (widest - _width(label))}   {value}" for label, value in rows
    )


def quoted(text: str) -> str:
    """Someone's words, quoted as mail quotes them ("> ")."""
    return "\n".join(f"> {line}".rstrip() for line in str(text).strip().splitlines())


HTML = _environment(html=True)
TEXT = _environment(html=False)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str

    @property
    def body(self) -> str:
        return self.text


def render(kind: str, **context: Any) -> Rendered:
    """The subject, text and HTML of ``templates/notifications/<kind>.html``: one template,
    rendered twice (``html`` false, then true); its ``subject`` block is the subject."""
    name = f"notifications/{kind}.html"
    text_template = TEXT.get_template(name)
    if "subject" not in text_template.blocks:
        raise ValueError(f"template {kind} must have a subject block")
    context = {"unsubscribe_url": "", **context, "html": False}
    subject = one_line("".join(text_template.blocks["subject"](text_template.new_context(context))))
    if not subject:
        raise ValueError(f"template {kind} wrote an empty subject")
    context["subject"] = subject
    context["html_lang"] = i18n_web.current().replace("_", "-")
    text = _tidy(text_template.render(context))
    html = HTML.get_template(name).render({**context, "html": True})
    return Rendered(subject=subject, text=text, html=html)


def _tidy(text: str) -> str:
    """No spaces at line ends (but the signature's "-- "), at most one blank line in a row."""
    lines = [line if line == "-- " else line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"


def one_line(text: str) -> str:
    """Whitespace, line breaks included, collapsed: safe in a header."""
    return " ".join(text.split())


def absolute_url(endpoint: str, **values: Any) -> str:
    """A link for an e-mail, on BASE_URL (there is no request to take the host from)."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc,
        script_name=base.path.rstrip("/") or "/",
        url_scheme=base.scheme or "http",
    )
    current_app.inject_url_defaults(endpoint, values)  # a project's link is its readable URL
    return adapter.build(endpoint, values, force_external=True)


@dataclass(frozen=True)
class ProjectFacts:
    id: int
    title: str
    status: str
    goal: int
    backers: int
    deadline: datetime | None
    zone: str
    days: int


def _projects(ids: set[int]) -> dict[int, ProjectFacts]:
    rows = db.session.execute(
        select(
            Project.id,
            Project.title,
            Project.status,
            Project.goal_amount,
            Project.backer_count,
            Project.deadline,
            Project.creator_timezone,
            Project.duration_days,
        ).where(Project.id.in_(ids))
    )
    return {
        r.id: ProjectFacts(
            r.id,
            r.title,
            r.status.value,
            r.goal_amount,
            r.backer_count,
            r.deadline,
            r.creator_timezone or "UTC",
            r.duration_days or 0,
        )
        for r in rows
    }


@dataclass(frozen=True)
class PledgeFacts:
    """A pledge as its backer's mail shows it, as it is when the mail is written."""

    id: int
    status: str
    reward: str
    amount: int
    shipping_fee: int
    shipping_country: str | None
    total: int
    addons: tuple[tuple[str, int, int, int], ...] = ()  # (title, quantity, amount, shipping)


def _addon_lines(ids: set[int]) -> dict[int, list[tuple[str, int, int, int]]]:
    rows = db.session.execute(
        select(PledgeAddon.pledge_id, Addon.title, PledgeAddon.quantity, PledgeAddon.amount,
               PledgeAddon.shipping_fee)
        .join(Addon, Addon.id == PledgeAddon.addon_id)
        .where(PledgeAddon.pledge_id.in_(ids))
        .order_by(PledgeAddon.pledge_id, Addon.price, Addon.id)
    )  # fmt: skip
    lines: dict[int, list[tuple[str, int, int, int]]] = {}
    for r in rows:
        lines.setdefault(r.pledge_id, []).append((r.title, r.quantity, r.amount, r.shipping_fee))
    return lines


def _pledges(ids: set[int]) -> dict[int, PledgeFacts]:
    rows = db.session.execute(
        select(
            Pledge.id,
            Pledge.status,
            RewardTier.title,
            Pledge.amount,
            Pledge.shipping_fee,
            Pledge.shipping_country,
            Pledge.total.label("total"),
        )
        .join(RewardTier, RewardTier.id == Pledge.tier_id)
        .where(Pledge.id.in_(ids))
    )
    addons = _addon_lines(ids)
    return {
        r.id: PledgeFacts(
            r.id,
            r.status.value,
            r.title,
            r.amount,
            r.shipping_fee,
            r.shipping_country,
            r.total,
            tuple(addons.get(r.id, ())),
        )
        for r in rows
    }


def refund_state(statuses: Iterable[RefundStatus]) -> str:
    """What the backer is told of a change's or a cancel's refunds, as they stand: "none",
    "made", "pending" (being made, or to be retried) or "refused" (our team is on it)."""
    statuses = set(statuses)
    if not statuses:
        return "none"
    if RefundStatus.FAILED in statuses:
        return "refused"
    if statuses == {RefundStatus.SUCCEEDED}:
        return "made"
    return "pending"


def _shipments(pledge_ids: set[int]) -> dict[int, Shipment]:
    """The reward's shipment as it is when the mail is written (the newest tracking number)."""
    if not pledge_ids:
        return {}
    found = db.session.scalars(select(Shipment).where(Shipment.pledge_id.in_(pledge_ids)))
    return {s.pledge_id: s for s in found}


def _refund_states(rows: list[Outbox]) -> dict[int, str]:
    wanted = {r.id: list((r.data or {}).get("refund_ids") or []) for r in rows}
    ids = {i for refund_ids in wanted.values() for i in refund_ids}
    status = {
        r.id: r.status
        for r in db.session.execute(select(Refund.id, Refund.status).where(Refund.id.in_(ids)))
    }
    return {
        row_id: refund_state(status[i] for i in refund_ids if i in status)
        for row_id, refund_ids in wanted.items()
    }


def _payments(rows: list[Outbox]) -> dict[int, Payment]:
    ids = {(r.data or {}).get("payment_id") for r in rows} - {None}
    return {p.id: p for p in db.session.scalars(select(Payment).where(Payment.id.in_(ids)))}


def _payouts(project_ids: set[int]) -> dict[int, Payout]:
    rows = db.session.scalars(select(Payout).where(Payout.project_id.in_(project_ids)))
    return {p.project_id: p for p in rows}


def _locales(user_ids: set[int]) -> dict[int, str]:
    """Each recipient's language: the one they chose, else English."""
    rows = db.session.execute(select(User.id, User.locale).where(User.id.in_(user_ids)))
    return {r.id: i18n.supported(r.locale) or i18n.DEFAULT_LOCALE for r in rows}


def _zones(user_ids: set[int]) -> dict[int, str | None]:
    """Each recipient's time zone, as chosen in their settings (None: the site's)."""
    rows = db.session.execute(select(User.id, User.timezone).where(User.id.in_(user_ids)))
    return {r.id: r.timezone for r in rows}


def _end_reasons(pledge_ids: set[int]) -> dict[int, str]:
    rows = db.session.execute(select(Pledge.id, Pledge.end_reason).where(Pledge.id.in_(pledge_ids)))
    return {r.id: r.end_reason for r in rows}


def _stop_reasons(project_ids: set[int]) -> dict[int, str]:
    """Why each project was cancelled or suspended (its latest such decision)."""
    rows = db.session.execute(
        select(ProjectEvent.project_id, ProjectEvent.reason)
        .where(
            ProjectEvent.project_id.in_(project_ids),
            ProjectEvent.action.in_(("cancel", "suspend")),
        )
        .order_by(ProjectEvent.id)
    )
    return {r.project_id: r.reason for r in rows}


@dataclass(frozen=True)
class UpdateFacts:
    """A published update as its mail shows it, as it reads when the mail is written."""

    number: int
    title: str
    body: str  # Markdown, for the text part
    body_html: Any  # sanitised HTML, for the HTML part
    removed: bool
    url: str


def _updates(rows: list[Outbox]) -> dict[int, UpdateFacts]:
    ids = {(r.data or {}).get("update_id") for r in rows} - {None}
    if not ids:
        return {}
    found = db.session.scalars(select(Update).where(Update.id.in_(ids)))
    return {
        u.id: UpdateFacts(
            u.number,
            u.title,
            u.body,
            render_markdown(u.body),
            u.deleted_at is not None,
            absolute_url("updates.show", project_id=u.project_id, number=u.number),
        )
        for u in found
    }


@dataclass(frozen=True)
class StretchGoalFacts:
    """A reached stretch goal as its mail shows it (None once the creator removed it)."""

    title: str
    description: str


def _stretch_goals(rows: list[Outbox]) -> dict[int, StretchGoalFacts]:
    ids = {(r.data or {}).get("stretch_goal_id") for r in rows} - {None}
    if not ids:
        return {}
    found = db.session.scalars(select(StretchGoal).where(StretchGoal.id.in_(ids)))
    return {g.id: StretchGoalFacts(g.title, g.description) for g in found}


def _thread_url(project_id: int, update_number: int | None) -> str:
    """Where a comment's thread is: the project's comments, or an update's page."""
    if update_number:
        return absolute_url("updates.show", project_id=project_id, number=update_number)
    return absolute_url("comments.thread", project_id=project_id)


def _account_users(rows: list[Outbox]) -> dict[int, User]:
    """The accounts whose mail carries a link made from their current state."""
    ids = {r.user_id for r in rows if r.kind in ACCOUNT_LINKS}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def _verify_link(user: User, data: dict) -> str:
    return absolute_url("accounts.verify_email", token=tokens.verification(user))


def _reset_link(user: User, data: dict) -> str:
    return absolute_url("accounts.reset_password", token=tokens.reset(user, data["serial"]))


def _email_change_link(user: User, data: dict) -> str:
    token = tokens.email_change(user, data["new_email"])
    return absolute_url("settings.confirm_email", token=token)


def _undo_link(user: User, data: dict) -> str:
    token = tokens.email_undo(user.id, data["old_email"], data["new_email"])
    return absolute_url("settings.undo_email", token=token)


# The kinds whose mail carries a signed link (``link_url``), made as the mail is written, so
# no working token is ever stored.
ACCOUNT_LINKS = {
    "verify_email": _verify_link,
    "password_reset": _reset_link,
    "email_change_confirm": _email_change_link,
    "email_changed": _undo_link,
}


def compose(rows: Iterable[Outbox], now: datetime) -> list[tuple[int, EmailMessage | Exception]]:
    """Each row's e-mail, or the error that kept it from being written."""
    rows = list(rows)
    project_ids = {r.project_id for r in rows if r.project_id is not None}
    pledge_ids = {r.pledge_id for r in rows if r.pledge_id is not None}
    projects = _projects(project_ids)
    pledges = _pledges(pledge_ids)
    shipments = _shipments(pledge_ids)
    refunds = _refund_states(rows)
    payments = _payments(rows)
    payouts = _payouts(project_ids)
    end_reasons = _end_reasons(pledge_ids)
    stop_reasons = _stop_reasons(project_ids)
    updates = _updates(rows)
    stretch_goals = _stretch_goals(rows)
    locales = _locales({r.user_id for r in rows})
    zones = _zones({r.user_id for r in rows})
    account_users = _account_users(rows)
    config = current_app.config
    site_url = config["BASE_URL"].rstrip("/") + "/"
    out: list[tuple[int, EmailMessage | Exception]] = []
    for row in rows:
        try:
            project = projects.get(row.project_id) if row.project_id else None
            data = row.data or {}
            topic = preferences.TOPIC_OF_KIND.get(row.kind)
            token = preferences.token_for(row.user_id, topic) if topic else ""
            unsubscribe_url = (
                absolute_url("notifications.unsubscribe", token=token) if token else ""
            )
            one_click_url = absolute_url("notifications.one_click", token=token) if token else ""
            make_link = ACCOUNT_LINKS.get(row.kind)
            context = {
                "link_url": make_link(account_users[row.user_id], data) if make_link else "",
                "login_url": absolute_url("accounts.login"),
                "config_days": config["EMAIL_VERIFY_MAX_AGE_DAYS"],
                "config_minutes": config["PASSWORD_RESET_MAX_AGE_MINUTES"],
                "config_undo_days": config["EMAIL_UNDO_MAX_AGE_DAYS"],
                "forgot_url": absolute_url("accounts.forgot_password"),
                "data": data,
                "pledge": pledges.get(row.pledge_id),
                "shipment": shipments.get(row.pledge_id),
                "fulfilment_url": absolute_url("fulfilment.manage", project_id=row.project_id)
                if row.project_id
                else site_url,
                "refund_state": refunds.get(row.id, "none"),
                "payment": payments.get(data.get("payment_id")),
                "update": updates.get(data.get("update_id")),
                "stretch_goal": stretch_goals.get(data.get("stretch_goal_id")),
                "unsubscribe_url": unsubscribe_url,
                "back_url": absolute_url("pledges.back", project_id=row.project_id)
                if row.project_id
                else site_url,
                "pay_url": absolute_url("pledges.pay", pledge_id=row.pledge_id)
                if row.pledge_id
                else site_url,
                "edit_url": absolute_url("projects.edit", project_id=row.project_id)
                if row.project_id
                else site_url,
                "questions_url": absolute_url("questions.manage", project_id=row.project_id)
                if row.project_id
                else site_url,
                "money_url": absolute_url("statements.money", project_id=row.project_id)
                if row.project_id
                else site_url,
                "name": row.to_name or row.to_address,
                "amount": row.amount or 0,
                "currency": row.currency or "USD",
                "project": project,
                "payout": payouts.get(row.project_id),
                "reason": end_reasons.get(row.pledge_id) or stop_reasons.get(row.project_id, ""),
                "site_url": site_url,
                "project_url": absolute_url(
                    "projects.show",
                    project_id=row.project_id,
                    slug=slug_of(project.title) if project else "",  # no query per message
                )
                if row.project_id
                else site_url,
                "comments_url": _thread_url(row.project_id, data.get("update_number"))
                if row.project_id
                else site_url,
                "projects_url": absolute_url("projects.mine"),
                "pledges_url": absolute_url("pledges.mine"),
                "pledge_url": absolute_url("pledges.show", pledge_id=row.pledge_id)
                if row.pledge_id
                else absolute_url("pledges.mine"),
                "survey_url": absolute_url("surveys.answer", pledge_id=row.pledge_id)
                if row.pledge_id and row.kind.startswith("survey_")
                else site_url,
            }
            with (
                force_locale(locales.get(row.user_id, i18n.DEFAULT_LOCALE)),
                templating.for_reader(zones.get(row.user_id)),
            ):
                rendered = render(row.kind, **context)
            out.append((row.id, email_for(row, rendered, now, one_click_url)))
        except Exception as error:  # a broken row must not hold up the others
            out.append((row.id, error))
    return out


def email_for(
    row: Outbox, rendered: Rendered, now: datetime, one_click_url: str = ""
) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["Subject"] = rendered.subject
    message["From"] = config["MAIL_FROM"]
    message["To"] = Address(display_name=one_line(row.to_name or ""), addr_spec=row.to_address)
    message["Date"] = format_datetime(now)
    # Stable per row: if a crash makes a message go out twice, mail clients show it once.
    domain = parseaddr(config["MAIL_FROM"])[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = f"<{config['IDEMPOTENCY_PREFIX']}.outbox.{row.id}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    if one_click_url:  # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click" there
        message["List-Unsubscribe"] = f"<{one_click_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message
