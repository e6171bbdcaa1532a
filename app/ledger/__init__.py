"""The escrow ledger: append-only double entry for every movement of money."""
