"""How numbers read in tables, Markdown, panels and messages: one definition each.

* ``fmt_num``: a compact value (bin edges, sensor readings): three significant digits for
  everyday magnitudes, whole numbers from 100 on, never an exponent, never ``-0``.
* ``fmt_pct``: a fraction as a percentage (0.123 -> ``12.3%``).
* ``fmt_threshold``: the shortest faithful text of a rule threshold (15.0 -> ``15``,
  0.85 -> ``0.85``), as the selector spec is written.
* ``fmt_signed`` / ``fmt_interval``: an outcome with its sign (``+7.9``) and a 95% interval
  (``[+4.6, +11.2]``), as the Markdown and the app show them.
"""

from __future__ import annotations

import math

_NEGATIVE_ZEROS = frozenset({"-0", "-0.0", "-0.00", "-0.000"})


def finite_or_none(value: object) -> float | None:
    """A finite float, or None (None, a bool, text, NaN or inf): what the formatters print as missing."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def fmt_num(value: object, missing: str = "-") -> str:
    """Compact, readable number: 3 significant digits, no exponent for usual magnitudes.

    ``|v| >= 100``: no decimals; ``>= 10``: one; ``>= 1``: three significant digits
    (``1.25``, ``5``); below 1: three decimals. ``missing`` for None, NaN, inf and
    non-numbers."""
    number = finite_or_none(value)
    if number is None:
        return missing
    if number == 0:
        return "0"
    magnitude = abs(number)
    if magnitude >= 100:
        text = f"{number:.0f}"
    elif magnitude >= 10:
        text = f"{number:.1f}"
    elif magnitude >= 1:
        text = f"{number:.3g}"
    else:
        text = f"{number:.3f}"
    return "0" if text in _NEGATIVE_ZEROS else text


def fmt_range(low: object, high: object) -> str:
    return f"{fmt_num(low)}..{fmt_num(high)}"


def fmt_pct(fraction: object, digits: int = 1, missing: str = "-") -> str:
    """``fraction`` x 100 with ``digits`` decimals and a percent sign."""
    number = finite_or_none(fraction)
    return missing if number is None else f"{number * 100:.{digits}f}%"


def fmt_signed(value: object, digits: int = 1, missing: str = "-") -> str:
    """``value`` with an explicit sign and ``digits`` decimals; ``missing`` for None/NaN."""
    number = finite_or_none(value)
    if number is None:
        return missing
    text = f"{number:+.{digits}f}"
    return text if float(text) != 0 else f"{0:.{digits}f}"  # never "-0.0" (nor "+0.0")


def fmt_interval(low: object, high: object, digits: int = 1, missing: str = "no interval") -> str:
    """``[low, high]`` with signs; ``missing`` when either end is None/NaN."""
    if finite_or_none(low) is None or finite_or_none(high) is None:
        return missing
    return f"[{fmt_signed(low, digits)}, {fmt_signed(high, digits)}]"


def fmt_threshold(value: float) -> str:
    """Shortest faithful text for a threshold: 15.0 -> '15', 0.85 -> '0.85'."""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)
