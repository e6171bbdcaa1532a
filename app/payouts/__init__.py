"""Payouts: creators' connected Stripe accounts, and (with settlement) the transfers to them."""
