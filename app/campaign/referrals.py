"""Referrals: the creator's ``?ref=`` tags, remembering a visit's source, and the dashboard's
table of where backers came from (grouped pledges, never one backer's)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from flask import current_app, request
from flask_babel import gettext
from sqlalchemy import func, select

from app import referrals
from app.campaign.models import TAGS_PER_PROJECT, ReferralTag
from app.extensions import db
from app.notifications.messages import absolute_url
from app.pledges.models import Pledge
from app.projects.models import Project
from app.referrals import Source


class TagRefused(ValueError):
    """A tag that cannot be added: the message says why (shown on the form)."""


class SourceKind(StrEnum):
    TAG = "tag"
    SITE = "site"
    DIRECT = "direct"


@dataclass(frozen=True)
class SourceLine:
    kind: SourceKind
    name: str  # the tag, or the referring host; "" for direct
    label: str  # the tag's label ("" for a removed tag, a site or direct)
    pledges: int
    amount: int  # minor units, the project's currency

    @property
    def is_tag(self) -> bool:
        return self.kind is SourceKind.TAG

    @property
    def is_site(self) -> bool:
        return self.kind is SourceKind.SITE


def tags_of(project_id: int) -> list[ReferralTag]:
    return list(
        db.session.scalars(
            select(ReferralTag)
            .where(ReferralTag.project_id == project_id)
            .order_by(ReferralTag.tag)
        )
    )


def tag_exists(project_id: int, tag: str | None) -> bool:
    if not tag:
        return False
    found = select(ReferralTag.id).where(
        ReferralTag.project_id == project_id, ReferralTag.tag == tag
    )
    return db.session.scalar(found) is not None


def already_has(tag: str) -> str:
    return gettext("This project already has the tag “%(tag)s”.", tag=tag)


def add_tag(project: Project, tag: str, label: str) -> ReferralTag:
    """A new tag of the project (``tag`` already in its normal form); TagRefused if the project
    has it already or has as many as it may."""
    if tag_exists(project.id, tag):
        raise TagRefused(already_has(tag))
    count = db.session.scalar(
        select(func.count()).select_from(ReferralTag).where(ReferralTag.project_id == project.id)
    )
    if count >= TAGS_PER_PROJECT:
        raise TagRefused(
            gettext("A project has at most %(num)d tags: remove one first.", num=TAGS_PER_PROJECT)
        )
    row = ReferralTag(project_id=project.id, tag=tag, label=label)
    db.session.add(row)
    db.session.flush()  # the unique constraint catches a double submit (IntegrityError)
    return row


def remove_tag(project: Project, tag_id: int) -> bool:
    """Remove one of the project's tags; pledges made through it keep it. False if none."""
    row = db.session.get(ReferralTag, tag_id)
    if row is None or row.project_id != project.id:
        return False
    db.session.delete(row)
    db.session.flush()
    return True


def link_of(project: Project, tag: str) -> str:
    """The project's public page with the tag: the link the creator shares."""
    return absolute_url("projects.show", project_id=project.id, ref=tag)


def own_hosts() -> set[str]:
    """Our own host names: the one this request came to, and BASE_URL's."""
    hosts = {request.host.rsplit(":", 1)[0].lower().strip("[]")}
    base = urlsplit(current_app.config["BASE_URL"]).hostname
    if base:
        hosts.add(base.lower())
    return hosts


def remember_visit(project_id: int, now: datetime) -> None:
    """Note where this visit to the project page came from: a known tag of the project (an
    unknown one is ignored), another site's host. A visit with neither changes nothing."""
    tag = referrals.normal_tag(request.args.get("ref"))
    source = Source(
        tag if tag_exists(project_id, tag) else None,
        referrals.host_of(request.headers.get("Referer"), own_hosts()),
    )
    referrals.remember(project_id, source, now)


def source_lines(project: Project, counted) -> list[SourceLine]:
    """Pledges and money per source (held or collected, as the rest of the dashboard counts),
    most money first. A pledge with a tag counts for its tag, even when it also came from a
    site; a removed tag's pledges keep their line, without a label."""
    rows = db.session.execute(
        select(
            Pledge.ref_tag,
            Pledge.referrer_host,
            func.count(),
            func.sum(Pledge.total),
        )
        .where(Pledge.project_id == project.id, Pledge.status.in_(counted))
        .group_by(Pledge.ref_tag, Pledge.referrer_host)
    ).all()
    labels = {t.tag: t.label for t in tags_of(project.id)}
    sums: dict[tuple[SourceKind, str], list[int]] = {}
    for tag, host, n, amount in rows:
        if tag:
            key = (SourceKind.TAG, tag)
        elif host:
            key = (SourceKind.SITE, host)
        else:
            key = (SourceKind.DIRECT, "")
        line = sums.setdefault(key, [0, 0])
        line[0] += int(n)
        line[1] += int(amount or 0)
    lines = [
        SourceLine(kind, name, labels.get(name, "") if kind is SourceKind.TAG else "", n, amount)
        for (kind, name), (n, amount) in sums.items()
    ]
    return sorted(lines, key=lambda line: (-line.amount, -line.pledges, line.kind, line.name))
