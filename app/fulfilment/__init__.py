"""Fulfilment: a funded project's rewards marked as shipped, received or with a problem."""
