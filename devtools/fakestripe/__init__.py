"""fakestripe: localstripe with the gaps the platform needs filled (see docs/fakestripe.md)."""
