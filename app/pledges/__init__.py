"""Pledges: backers' payments into escrow."""
