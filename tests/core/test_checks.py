"""greg_core.checks: the field checks of the JSON-backed records."""

from __future__ import annotations

import pytest

from greg_core.checks import check_number, check_object, is_finite_number


def test_an_object_with_known_fields_passes():
    check_object({"a": 1}, {"a", "b"}, "regime")
    check_object({}, set())


@pytest.mark.parametrize(
    ("data", "what", "message"),
    [
        ([1, 2], "regime", "a regime must be an object, got list"),
        ("x", "", "^must be an object, got str"),
        ({"a": 1, "colour": "red", "b": 2}, "regime", "unknown regime field[(]s[)]: b, colour"),
        ({"z": 0}, "", "^unknown field[(]s[)]: z"),
    ],
)
def test_what_is_not_an_object_or_has_unknown_fields_is_named(data, what, message):
    with pytest.raises(ValueError, match=message):
        check_object(data, {"a"}, what)


@pytest.mark.parametrize(("value", "finite"), [(1.5, True), (3, True), (True, False), (float("nan"), False),
                                              (float("inf"), False), (10**400, False), ("1", False), (None, False)])
def test_a_finite_number_is_an_int_or_float_that_is_finite(value, finite):
    assert is_finite_number(value) is finite


def test_check_number_names_the_field_and_its_interval():
    check_number(0.5, "phi_iv", 0.0, 1.0, high_open=True)
    with pytest.raises(ValueError, match=r"^regime 'x': phi_iv must be in \[0, 1\), got 1.0$"):
        check_number(1.0, "phi_iv", 0.0, 1.0, high_open=True, where="regime 'x': ")
    with pytest.raises(ValueError, match="sigma must be a finite number, got 'a'"):
        check_number("a", "sigma", 0.0, 1.0)
