"""Amounts as SAT's CFDI write them: decimal text in, `Decimal` out, rounded half up to a currency's decimals.

One place for reading, rounding and writing amounts, shared by the rules (which compare what a document
says against what it should say) and the builders (which compute it). Never float.
"""
from __future__ import annotations

import decimal
import functools
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

ONE = Decimal(1)
CENT = Decimal("0.01")
# Enough digits for any amount a CFDI can carry (t_Importe: 18 integer digits, 6 decimals) times a rate.
CONTEXT = decimal.Context(prec=60, rounding=ROUND_HALF_UP,
                          traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow])
_QUANTA = tuple(ONE.scaleb(-n) for n in range(30))


def to_decimal(text: str | None) -> Decimal | None:
    """The number an attribute holds, or None when it holds none (absent, empty, not a number, NaN, inf).
    Short texts are remembered (a Decimal is immutable): the rules read the same amounts many times."""
    if text is None:
        return None
    if len(text) <= 40:
        return _to_decimal_cached(text)
    return _to_decimal(text)


def _to_decimal(text: str) -> Decimal | None:
    try:
        d = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


_to_decimal_cached = functools.lru_cache(maxsize=16384)(_to_decimal)


def decimals_of(text: str | None) -> int:
    """How many decimal digits a number is written with ("10.50" -> 2, "3" -> 0). Remembered per text (the
    rules ask for the same amounts' decimals many times)."""
    if not text:
        return 0
    got = _decimals.get(text)
    if got is None:
        _, _, frac = text.strip().partition(".")
        got = len(frac)
        if len(text) <= 40:
            if len(_decimals) >= 16384:
                _decimals.clear()
            _decimals[text] = got
    return got


_decimals: dict[str, int] = {}


def quantum(decimals: int) -> Decimal:
    """10 ** -decimals (0 to 29 decimals)."""
    return _QUANTA[max(0, min(decimals, 29))]


def round_half_up(value: Decimal, decimals: int, rounding: str = ROUND_HALF_UP) -> Decimal:
    """`value` to `decimals` places (SAT rounds half up); a value with more digits than the context holds is
    returned unrounded rather than raising, so a hostile document is compared, not crashed on."""
    try:
        return value.quantize(quantum(decimals), rounding=rounding, context=CONTEXT)
    except ArithmeticError:
        return value


def bounds(low: Decimal, high: Decimal, decimals: int) -> tuple[Decimal, Decimal]:
    """An inclusive range widened outwards to `decimals` places: the lower limit truncated, the upper one
    rounded up (Anexo 20's limits for taxes and exchange rates)."""
    q = quantum(decimals)
    return (low.quantize(q, rounding=ROUND_DOWN, context=CONTEXT),
            high.quantize(q, rounding=ROUND_CEILING, context=CONTEXT))


def fmt(value: Decimal, decimals: int) -> str:
    """`value` rounded and written with exactly `decimals` places, never in exponent notation."""
    return f"{round_half_up(value, decimals):f}"
