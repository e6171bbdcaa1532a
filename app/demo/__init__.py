"""Demo data for a locally-run site: `flask demo seed` (see cli.py, data.py and seed.py)."""
