"""Accounts: registration, log in and out, roles."""
