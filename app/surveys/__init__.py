"""Backer surveys after funding: a shipping address and the creator's questions."""
