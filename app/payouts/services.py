"""A creator's Stripe Connect (Express) account: its row, its stage, what Stripe asks for.

Services only: they read and write rows and flush. The steps that call Stripe (connect,
refresh, the account webhooks) are in ``app.payouts.workflows``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from flask_babel import gettext
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.i18n import N_
from app.payments.gateway import Account
from app.payouts.models import ConnectedAccount, Payout

# Countries where a creator may open an Express account here (ISO 3166-1 alpha-2), first the
# default. Stripe supports more; the list is short on purpose and easy to extend.
COUNTRIES: dict[str, str] = {
    "US": "United States",
    "GB": "United Kingdom",
    "CA": "Canada",
    "AU": "Australia",
    "IE": "Ireland",
    "DE": "Germany",
    "FR": "France",
    "NL": "Netherlands",
    "ES": "Spain",
    "IT": "Italy",
}
DEFAULT_COUNTRY = "US"


class PayoutStatus(enum.Enum):
    NOT_CONNECTED = "not_connected"
    INCOMPLETE = "incomplete"  # the account exists; Stripe still needs details from the person
    VERIFYING = "verifying"  # details sent; Stripe is checking them before enabling payouts
    READY = "ready"  # details submitted and payouts enabled: transfers can be made


# Stripe's requirement fields in plain words, for the person who has to provide them. Several
# fields can share a label (the three parts of a date of birth); unknown ones get a label made
# from their last part (see ``describe``).
REQUIREMENT_LABELS: dict[str, str] = {
    "business_type": N_("Type of business (individual or company)"),
    "business_profile.mcc": N_("What your business does (industry)"),
    "business_profile.url": N_("Your website or a link to your work"),
    "business_profile.product_description": N_("What your business does (industry)"),
    "external_account": N_("Bank account for payouts"),
    "individual.address.city": N_("Home address"),
    "individual.address.line1": N_("Home address"),
    "individual.address.postal_code": N_("Home address"),
    "individual.address.state": N_("Home address"),
    "individual.dob.day": N_("Date of birth"),
    "individual.dob.month": N_("Date of birth"),
    "individual.dob.year": N_("Date of birth"),
    "individual.email": N_("Email address"),
    "individual.first_name": N_("Legal name"),
    "individual.last_name": N_("Legal name"),
    "individual.phone": N_("Phone number"),
    "individual.ssn_last_4": N_("Last 4 digits of your Social Security number"),
    "individual.id_number": N_("Government ID number"),
    "individual.verification.document": N_("Photo of an identity document"),
    "individual.verification.additional_document": N_("Proof of address document"),
    "tos_acceptance.date": N_("Acceptance of Stripe's terms of service"),
    "tos_acceptance.ip": N_("Acceptance of Stripe's terms of service"),
    "company.name": N_("Company name"),
    "company.tax_id": N_("Company tax ID"),
    "company.address.city": N_("Company address"),
    "company.address.line1": N_("Company address"),
    "company.address.postal_code": N_("Company address"),
    "company.address.state": N_("Company address"),
    "company.phone": N_("Company phone number"),
    "relationship.representative": N_("Company representative"),
    "relationship.owner": N_("Company owners"),
}


def describe(fields: list[str] | tuple[str, ...]) -> list[str]:
    """Stripe's field names as plain labels, each once, in the order first asked for."""
    labels: dict[str, None] = {}
    for name in fields:
        label = REQUIREMENT_LABELS.get(name)
        if label is not None:
            label = gettext(label)  # in the reader's language
        else:
            last = name.rsplit(".", 1)[-1].replace("_", " ").strip() or name
            label = last[:1].upper() + last[1:]
        labels[label] = None
    return list(labels)


@dataclass(frozen=True)
class Links:
    """Where Stripe sends the person back: after onboarding, or when a link is stale."""

    refresh_url: str
    return_url: str


def account_of(user_id: int) -> ConnectedAccount | None:
    return db.session.scalar(select(ConnectedAccount).where(ConnectedAccount.user_id == user_id))


def status_of(account: ConnectedAccount | None) -> PayoutStatus:
    if account is None:
        return PayoutStatus.NOT_CONNECTED
    if account.ready:
        return PayoutStatus.READY
    if account.details_submitted and not account.requirements_due:
        return PayoutStatus.VERIFYING
    return PayoutStatus.INCOMPLETE


def apply_flags(account: ConnectedAccount, flags: Account) -> None:
    """Store what Stripe says of the account (flushes, never commits)."""
    account.details_submitted = flags.details_submitted
    account.charges_enabled = flags.charges_enabled
    account.payouts_enabled = flags.payouts_enabled
    account.requirements_due = list(flags.requirements_due)
    account.pending_verification = list(flags.pending_verification)
    account.disabled_reason = flags.disabled_reason[:100]
    account.capabilities = dict(flags.capabilities)
    account.updated_at = clock.now()
    db.session.flush()


def payout_of(project_id: int) -> Payout | None:
    """A project's payout row (the read model the creator's pages and settlement share)."""
    return db.session.scalar(select(Payout).where(Payout.project_id == project_id))
