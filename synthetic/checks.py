"""The one field check of the model's parameter classes (``RegimeParams``, ``VolDynamics``):
a finite real number inside its interval, or a ``ValueError`` naming the field."""

from __future__ import annotations

import math


def check_number(value: object, name: str, low: float, high: float, *, low_open: bool = False,
                 high_open: bool = False, where: str = "") -> None:
    """``ValueError`` ("{where}{name} must be ...") unless ``value`` is an int or float (not a
    bool), finite, and in [low, high] (an open end excludes its bound)."""
    try:
        finite = not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)
    except OverflowError:  # an int too large for a float (a 400-digit number in a regime file)
        finite = False
    if not finite:
        shown = repr(value)
        raise ValueError(f"{where}{name} must be a finite number, got {shown if len(shown) <= 40 else shown[:37] + '...'}")
    below = value <= low if low_open else value < low
    above = value >= high if high_open else value > high
    if below or above:
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ValueError(f"{where}{name} must be in {interval}, got {value!r}")
