"""Statements of ended projects: the money page and the backers' CSV for fulfilment."""
