"""How numbers read everywhere (greg_core.formatting)."""

from __future__ import annotations

import math

import pytest

from greg_core.formatting import fmt_num, fmt_pct, fmt_range, fmt_threshold


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0"), (0.1234, "0.123"), (1.25, "1.25"), (5.0, "5"), (12.345, "12.3"), (123.6, "124"),
     (-0.0001, "0"), (-3.5, "-3.5"), (None, "-"), (math.nan, "-"), (math.inf, "-"), ("x", "-")],
)
def test_fmt_num(value, text):
    assert fmt_num(value) == text


def test_fmt_num_missing_marker_and_range():
    assert fmt_num(None, missing="missing") == "missing"
    assert fmt_range(1.5, 12.0) == "1.5..12.0"


def test_fmt_pct_and_threshold():
    assert fmt_pct(0.1234) == "12.3%"
    assert fmt_pct(0.5, 0) == "50%"
    assert fmt_pct(math.nan) == "-"
    assert fmt_threshold(15.0) == "15" and fmt_threshold(0.85) == "0.85"


def test_fmt_signed_and_interval():
    from greg_core.formatting import fmt_interval, fmt_signed

    assert fmt_signed(7.87) == "+7.9" and fmt_signed(-5.274, 2) == "-5.27"
    assert fmt_signed(-0.01) == "0.0" and fmt_signed(None) == "-" and fmt_signed(math.nan) == "-"
    assert fmt_interval(4.57, 11.17) == "[+4.6, +11.2]"
    assert fmt_interval(None, 1.0) == "no interval" and fmt_interval(math.inf, 1.0, missing="") == ""
