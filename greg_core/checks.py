"""The field checks of the project's JSON-backed records: an object with known fields only,
and a finite real number in its interval.

``check_object`` refuses what is not an object or has a field the record does not know
(``RegimeParams``, ``VolDynamics``). ``is_finite_number`` is the number test (the selector
spec's calibration values, the regime model's parameters); ``check_number`` adds the
interval and a ``ValueError`` naming the field (``RegimeParams``, ``VolDynamics``)."""

from __future__ import annotations

import math
from collections.abc import Collection


def check_object(data: object, known: Collection[str], what: str = "") -> None:
    """``ValueError`` unless ``data`` is a dict whose keys are all in ``known``; the message
    names ``what`` (e.g. "a regime must be an object", "unknown regime field(s): colour")."""
    if not isinstance(data, dict):
        raise ValueError(f"{'a ' + what + ' ' if what else ''}must be an object, got {type(data).__name__}")
    unknown = set(data) - set(known)
    if unknown:
        raise ValueError(f"unknown {what + ' ' if what else ''}field(s): {', '.join(sorted(map(str, unknown)))}")


def is_finite_number(value: object) -> bool:
    """An int or float (not a bool) that is finite; an int too large for a float (a 400-digit
    number in a JSON file) is not."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def check_number(value: object, name: str, low: float, high: float, *, low_open: bool = False,
                 high_open: bool = False, where: str = "") -> None:
    """``ValueError`` ("{where}{name} must be ...") unless ``value`` is a finite number
    (``is_finite_number``) in [low, high] (an open end excludes its bound)."""
    if not is_finite_number(value):
        shown = repr(value)
        raise ValueError(f"{where}{name} must be a finite number, got {shown if len(shown) <= 40 else shown[:37] + '...'}")
    below = value <= low if low_open else value < low
    above = value >= high if high_open else value > high
    if below or above:
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ValueError(f"{where}{name} must be in {interval}, got {value!r}")
