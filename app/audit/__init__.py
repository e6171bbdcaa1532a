"""Auditing the money: the ledger against the pledges, payments, refunds and payouts
(``books``), and one project against what Stripe reports (``reconcile``). Not the projects'
audit log of decisions, which lives with projects."""
