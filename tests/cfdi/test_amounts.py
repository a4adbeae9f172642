from decimal import Decimal as D

import pytest

from timbra.cfdi.amounts import bounds, decimals_of, fmt, round_half_up, to_decimal


@pytest.mark.parametrize("text, want", [("10.50", D("10.50")), (" 3 ", D(3)), ("1e2", D(100)), ("", None),
                                        (None, None), ("abc", None), ("NaN", None), ("Infinity", None)])
def test_to_decimal(text, want):
    assert to_decimal(text) == want


@pytest.mark.parametrize("text, n", [("10.50", 2), ("3", 0), ("0.000001", 6), ("", 0), (None, 0)])
def test_decimals_of(text, n):
    assert decimals_of(text) == n


def test_rounds_half_up_not_to_even():
    assert round_half_up(D("0.125"), 2) == D("0.13")
    assert round_half_up(D("0.135"), 2) == D("0.14")
    assert round_half_up(D("-0.125"), 2) == D("-0.13")
    assert round_half_up(D("2.5"), 0) == D(3)


def test_huge_values_are_returned_unrounded_instead_of_raising():
    huge = D("1" * 70 + ".123")
    assert round_half_up(huge, 2) == huge


def test_bounds_truncate_low_and_round_high_up():
    assert bounds(D("10.129"), D("10.121"), 2) == (D("10.12"), D("10.13"))


def test_fmt_never_uses_exponents():
    assert fmt(D("1E+2"), 2) == "100.00"
    assert fmt(D("0.005"), 2) == "0.01"
    assert fmt(D("0.0000001"), 6) == "0.000000"
