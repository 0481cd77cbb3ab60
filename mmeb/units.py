"""How a person reads a score, everywhere (terminal, Markdown, HTML, CSV summaries): percent with one
decimal, the half rounded up as the papers print (48.25 -> 48.3). Files keep fractions; only text shown
to people goes through here. A leaf module: it imports nothing from mmeb.

Floats such as 0.4825 or the mean 48.24999999999999 are first snapped to 9 significant decimals, so the
decimal the paper intended decides the rounding, not the binary representation (``f"{48.25:.1f}"`` and
``round(48.25, 1)`` both give 48.2).
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

_ONE_DECIMAL = Decimal("0.1")


def format_points(value: float | None, missing: str = "") -> str:
    """A score already in percent (0-100) as text with one decimal: 48.25 -> "48.3"."""
    if value is None or not math.isfinite(value):
        return missing
    snapped = Decimal(repr(round(float(value), 9)))
    return str(snapped.quantize(_ONE_DECIMAL, rounding=ROUND_HALF_UP))


def format_percent(fraction: float | None, missing: str = "") -> str:
    """A score stored as a fraction (0-1, as in result files) as percent text: 0.4825 -> "48.3"."""
    if fraction is None or not math.isfinite(fraction):
        return missing
    snapped = Decimal(repr(round(float(fraction), 11))) * 100
    return str(snapped.quantize(_ONE_DECIMAL, rounding=ROUND_HALF_UP))


def format_percent_range(low: float | None, high: float | None) -> str:
    """A confidence interval of fractions as percent text: "45.1-51.3" ("" when unknown)."""
    if low is None or high is None:
        return ""
    return f"{format_percent(low)}-{format_percent(high)}"
