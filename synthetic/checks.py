"""The one field check of the model's parameter classes (``RegimeParams``, ``VolDynamics``):
a finite real number inside its interval, or a ``ValueError`` naming the field."""

from __future__ import annotations

import math


def check_number(value: object, name: str, low: float, high: float, *, low_open: bool = False,
                 high_open: bool = False, where: str = "") -> None:
    """``ValueError`` ("{where}{name} must be ...") unless ``value`` is an int or float (not a
    bool), finite, and in [low, high] (an open end excludes its bound)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{where}{name} must be a finite number, got {value!r}")
    below = value <= low if low_open else value < low
    above = value >= high if high_open else value > high
    if below or above:
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ValueError(f"{where}{name} must be in {interval}, got {value!r}")
