"""The one rounding of the product: half up, one decimal.

Every rate, share and percentage that a page, an export, the API or an explanation shows is
rounded here, so 1/16 is 6.3% everywhere (Python's and Decimal's default, half to even, would
say 6.2% in one place and 6.3% in another). Shares are exact fractions until this point.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

ROUNDING = ROUND_HALF_UP
"""For libraries that round on their own (a DRF DecimalField), the same mode as here."""

PLACES = 1


def half_up(value: Decimal | int, places: int = PLACES) -> Decimal:
    """`value` rounded half away from zero to `places` decimals: 6.25 → 6.3, −0.05 → −0.1."""
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def fraction_percent(value: Fraction, places: int = PLACES) -> Decimal:
    """An exact fraction as a percentage rounded half up: Fraction(1, 16) → Decimal("6.3").

    Computed in integers, so no intermediate rounding can move a figure across a half.
    """
    scaled = abs(value) * 100 * 10**places
    rounded = math.floor(scaled + Fraction(1, 2))
    return Decimal(-rounded if value < 0 else rounded).scaleb(-places)


def percent(part: int, whole: int, places: int = PLACES) -> Decimal | None:
    """part ÷ whole as a percentage rounded half up (one decimal); None when whole is 0."""
    if not whole:
        return None
    # The same half-up rounding in integers (a report rounds tens of thousands of these):
    # floor(|part| / |whole| × 100 × 10^places + 1/2).
    numerator, denominator = abs(part) * 100 * 10**places, abs(whole)
    rounded = (2 * numerator + denominator) // (2 * denominator)
    negative = (part < 0) != (whole < 0)
    return Decimal(-rounded if negative and rounded else rounded).scaleb(-places)
