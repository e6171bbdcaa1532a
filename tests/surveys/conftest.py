"""The funded project most survey stories start from."""

from __future__ import annotations

import pytest

from tests.helpers.surveys import Funded, make_funded


@pytest.fixture
def funded(app) -> Funded:
    return make_funded(app)
