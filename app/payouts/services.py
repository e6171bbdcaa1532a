"""A creator's Stripe Connect (Express) account: its row, its stage, what Stripe asks for.

Services only: they read and write rows and flush. The steps that call Stripe (connect,
refresh, the account webhooks) are in ``app.payouts.workflows``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import select

from app import clock
from app.extensions import db
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
    "business_type": "Type of business (individual or company)",
    "business_profile.mcc": "What your business does (industry)",
    "business_profile.url": "Your website or a link to your work",
    "business_profile.product_description": "What your business does (industry)",
    "external_account": "Bank account for payouts",
    "individual.address.city": "Home address",
    "individual.address.line1": "Home address",
    "individual.address.postal_code": "Home address",
    "individual.address.state": "Home address",
    "individual.dob.day": "Date of birth",
    "individual.dob.month": "Date of birth",
    "individual.dob.year": "Date of birth",
    "individual.email": "Email address",
    "individual.first_name": "Legal name",
    "individual.last_name": "Legal name",
    "individual.phone": "Phone number",
    "individual.ssn_last_4": "Last 4 digits of your Social Security number",
    "individual.id_number": "Government ID number",
    "individual.verification.document": "Photo of an identity document",
    "individual.verification.additional_document": "Proof of address document",
    "tos_acceptance.date": "Acceptance of Stripe's terms of service",
    "tos_acceptance.ip": "Acceptance of Stripe's terms of service",
    "company.name": "Company name",
    "company.tax_id": "Company tax ID",
    "company.address.city": "Company address",
    "company.address.line1": "Company address",
    "company.address.postal_code": "Company address",
    "company.address.state": "Company address",
    "company.phone": "Company phone number",
    "relationship.representative": "Company representative",
    "relationship.owner": "Company owners",
}


def describe(fields: list[str] | tuple[str, ...]) -> list[str]:
    """Stripe's field names as plain labels, each once, in the order first asked for."""
    labels: dict[str, None] = {}
    for name in fields:
        label = REQUIREMENT_LABELS.get(name)
        if label is None:
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
