"""The one rounding: half up, one decimal, exact at every .x5 boundary; no database."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from titles.rules.rounding import fraction_percent, half_up, percent

D = Decimal


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [
        (1, 16, D("6.3")),  # 6.25: half to even would say 6.2
        (3, 16, D("18.8")),  # 18.75
        (1, 8, D("12.5")),
        (1, 40, D("2.5")),
        (1, 80, D("1.3")),  # 1.25
        (1, 400, D("0.3")),  # 0.25
        (1, 800, D("0.1")),  # 0.125
        (1, 3, D("33.3")),
        (2, 3, D("66.7")),
        (0, 7, D("0.0")),
        (7, 7, D("100.0")),
        (0, 0, None),
    ],
)
def test_percent_rounds_half_up_to_one_decimal(part, whole, expected):
    assert percent(part, whole) == expected
    if expected is not None:
        assert str(percent(part, whole)) == str(expected)  # always one decimal: 70.0, not 70


@pytest.mark.parametrize(
    ("value", "expected"),
    [(D("6.25"), D("6.3")), (D("6.24999"), D("6.2")), (D("-6.25"), D("-6.3")), (D(3), D("3.0"))],
)
def test_half_up_of_a_decimal(value, expected):
    assert str(half_up(value)) == str(expected)


def test_more_places_when_asked():
    assert fraction_percent(Fraction(2, 3), 2) == D("66.67")
    assert fraction_percent(Fraction(1, 1600), 2) == D("0.06")  # 0.0625


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=1, max_value=10**9))
def test_percent_is_the_exact_share_rounded_half_up(part, whole):
    exact = Fraction(part * 100, whole)
    shown = Fraction(percent(part, whole))
    assert abs(shown - exact) <= Fraction(1, 20)
    # Half up: a share exactly half-way between two tenths goes to the upper one, so the
    # shown tenth is at most half a tenth above the exact share and less than half below it.
    assert shown - Fraction(1, 20) <= exact < shown + Fraction(1, 20)


def test_a_share_exactly_half_a_tenth_goes_up():
    """1 in 2,000 is 0.05 %: half-way between 0.0 and 0.1, shown as 0.1 (found by the property
    test above)."""
    assert str(percent(1, 2000)) == "0.1"
