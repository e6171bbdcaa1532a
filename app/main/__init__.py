"""Site-wide pages: home."""
