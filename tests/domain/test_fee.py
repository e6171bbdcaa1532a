"""The platform fee: one rounding rule, written down, and the money always adds up."""

from hypothesis import given
from hypothesis import strategies as st

from app.money import max_minor
from app.settlement.domain import is_funded, platform_fee, split

LARGEST = max_minor("USD") * 220_000  # every backer at the maximum goal, and then some


def test_the_rounding_rule_half_up():
    assert platform_fee(10, 5) == 1  # 0.5 cent rounds up
    assert platform_fee(9, 5) == 0  # 0.45 rounds down
    assert platform_fee(30, 5) == 2  # 1.5 rounds up
    assert platform_fee(49, 5) == 2  # 2.45 rounds down
    assert platform_fee(50, 5) == 3  # 2.5 rounds up


def test_one_minor_unit_and_the_largest_amount():
    assert split(1, 5).fee == 0
    assert split(1, 5).payout == 1
    big = split(LARGEST, 5)
    assert big.fee == LARGEST // 20 and big.fee + big.payout == LARGEST


@given(total=st.integers(min_value=1, max_value=LARGEST), percent=st.integers(0, 100))
def test_fee_plus_payout_is_the_total(total, percent):
    parts = split(total, percent)
    assert parts.fee + parts.payout == total
    assert 0 <= parts.fee <= total
    # Half up, exactly: the fee is within half a minor unit of the true share.
    assert abs(parts.fee * 100 - total * percent) * 2 <= 100
    assert 2 * (parts.fee * 100 - total * percent) != -100  # a half is never rounded down


@given(
    pledges=st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=60),
    goal=st.integers(min_value=1, max_value=10**10),
    percent=st.integers(0, 100),
)
def test_every_cent_charged_is_accounted_for(pledges, goal, percent):
    charged = sum(pledges)
    if is_funded(charged, goal):
        parts = split(charged, percent)
        refunds = 0
        assert parts.fee + parts.payout + refunds == charged
    else:
        refunds = sum(pledges)  # every pledge back in full
        assert refunds == charged
