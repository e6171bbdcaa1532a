"""The operators' pages (admins only): the platform's books, so far."""
