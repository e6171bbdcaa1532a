"""What a shared project link shows: the preview tags, the JSON-LD, the share links, the QR.

Everything here is built from public facts of a public project (its page shows them to
anyone); private projects get none of it.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import segno
from flask_babel import gettext

from app import money
from app.i18n import web as i18n_web
from app.notifications.messages import absolute_url
from app.projects.models import Project

# og:locale is written language_TERRITORY.
OG_LOCALES = {"en": "en_US", "zh_Hans_CN": "zh_CN"}
WEIBO_SHARE = "https://service.weibo.com/share/share.php"
X_SHARE = "https://twitter.com/intent/tweet"


@dataclass(frozen=True)
class PriceRange:
    low: int  # minor units
    high: int
    currency: str
    count: int  # reward tiers

    @property
    def low_text(self) -> str:
        """The amount as a plain decimal string ("10.00"), for machines."""
        return money.to_major_text(self.low, self.currency)

    @property
    def high_text(self) -> str:
        return money.to_major_text(self.high, self.currency)


@dataclass(frozen=True)
class ProjectShare:
    project_id: int
    url: str  # the canonical page, absolute on BASE_URL
    title: str
    description: str
    image: str | None  # the cover, absolute
    image_alt: str
    locale: str  # og:locale
    prices: PriceRange | None
    available: bool  # pledges are accepted now

    @property
    def price_text(self) -> str:
        """The lowest and highest reward minimum, joined by an en dash, in the reader's
        locale ("$10.00", "$50.00"); one amount when all tiers are alike."""
        if self.prices is None:
            return ""
        low, high = (
            money.format_money(amount, self.prices.currency, locale=i18n_web.current())
            for amount in (self.prices.low, self.prices.high)
        )
        return low if low == high else gettext("%(low)s\u2013%(high)s", low=low, high=high)

    @property
    def json_ld(self) -> dict:
        """schema.org data for search engines; amounts as decimal strings, never floats."""
        data: dict = {
            "@context": "https://schema.org",
            "@type": "Product",
            "name": self.title,
            "description": self.description,
            "url": self.url,
        }
        if self.image:
            data["image"] = self.image
        if self.prices:
            data["offers"] = {
                "@type": "AggregateOffer",
                "priceCurrency": self.prices.currency,
                "lowPrice": self.prices.low_text,
                "highPrice": self.prices.high_text,
                "offerCount": self.prices.count,
                "availability": "https://schema.org/"
                + ("InStock" if self.available else "OutOfStock"),
                "url": self.url,
            }
        return data

    @property
    def email_link(self) -> str:
        body = f"{self.description}\n\n{self.url}"
        return "mailto:?" + urlencode({"subject": self.title, "body": body}, quote_via=quote)

    @property
    def weibo_link(self) -> str:
        return f"{WEIBO_SHARE}?" + urlencode({"url": self.url, "title": self.title})

    @property
    def x_link(self) -> str:
        return f"{X_SHARE}?" + urlencode({"url": self.url, "text": self.title})


def share_of(project: Project, now) -> ProjectShare | None:
    """The share facts of a public project; None for any other (nothing about it leaks)."""
    if not project.is_public:
        return None
    tiers = project.tiers
    prices = None
    if tiers:
        amounts = [tier.minimum_amount for tier in tiers]
        prices = PriceRange(min(amounts), max(amounts), project.currency, len(tiers))
    accepting = bool(project.is_live and project.deadline and project.deadline > now)
    return ProjectShare(
        project_id=project.id,
        url=absolute_url("projects.show", project_id=project.id),
        title=project.title,
        description=project.blurb
        or gettext("An all-or-nothing crowdfunding project on Backstage."),
        image=absolute_url("projects.upload", name=project.cover_image)
        if project.cover_image
        else None,
        image_alt=gettext("Cover image of %(title)s", title=project.title),
        locale=OG_LOCALES.get(i18n_web.current(), "en_US"),
        prices=prices,
        available=accepting and any(tier.available for tier in tiers),
    )


@functools.lru_cache(maxsize=512)
def qr_svg(url: str) -> bytes:
    """The link as a QR code (segno), a standalone SVG drawn with attributes only (the CSP
    allows no inline styles), titled with the link itself (the page's <img> has the alt)."""
    code = segno.make(url, error="m")
    out = io.BytesIO()
    code.save(out, kind="svg", scale=4, border=4, dark="#212529", light="#fff", title=url)
    return out.getvalue()
