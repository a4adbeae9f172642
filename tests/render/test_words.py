"""The total in Spanish words, by the rules of Mexican invoices and the Real Academia's grammar of numerals
("uno" shortens before a noun and before mil/millón; a round million takes "de"; 1,000 is "mil")."""
from __future__ import annotations

from decimal import Decimal

import pytest

from timbra.render.words import amount_in_words, integer_words

CASES = [
    ("1200.50", "MXN", "MIL DOSCIENTOS PESOS 50/100 M.N."),
    ("0.99", "MXN", "CERO PESOS 99/100 M.N."),
    ("1", "MXN", "UN PESO 00/100 M.N."),
    ("1.01", "USD", "UN DÓLAR 01/100 USD"),
    ("15", "MXN", "QUINCE PESOS 00/100 M.N."),
    ("16", "MXN", "DIECISÉIS PESOS 00/100 M.N."),
    ("21", "MXN", "VEINTIÚN PESOS 00/100 M.N."),
    ("22", "MXN", "VEINTIDÓS PESOS 00/100 M.N."),
    ("31", "EUR", "TREINTA Y UN EUROS 00/100 EUR"),
    ("100", "MXN", "CIEN PESOS 00/100 M.N."),
    ("101", "MXN", "CIENTO UN PESOS 00/100 M.N."),
    ("116.2", "MXN", "CIENTO DIECISÉIS PESOS 20/100 M.N."),
    ("555", "MXN", "QUINIENTOS CINCUENTA Y CINCO PESOS 00/100 M.N."),
    ("1000", "MXN", "MIL PESOS 00/100 M.N."),
    ("1001", "MXN", "MIL UN PESOS 00/100 M.N."),
    ("21000", "MXN", "VEINTIÚN MIL PESOS 00/100 M.N."),
    ("101000", "MXN", "CIENTO UN MIL PESOS 00/100 M.N."),
    ("999999", "MXN", "NOVECIENTOS NOVENTA Y NUEVE MIL NOVECIENTOS NOVENTA Y NUEVE PESOS 00/100 M.N."),
    ("1000000", "MXN", "UN MILLÓN DE PESOS 00/100 M.N."),
    ("1000001", "MXN", "UN MILLÓN UN PESOS 00/100 M.N."),
    ("2000000.10", "MXN", "DOS MILLONES DE PESOS 10/100 M.N."),
    ("2500000", "MXN", "DOS MILLONES QUINIENTOS MIL PESOS 00/100 M.N."),
    ("21000000", "USD", "VEINTIÚN MILLONES DE DÓLARES 00/100 USD"),
    ("1000000000", "EUR", "MIL MILLONES DE EUROS 00/100 EUR"),
    ("1000000000000", "MXN", "UN BILLÓN DE PESOS 00/100 M.N."),
    ("10757.33", "MXN", "DIEZ MIL SETECIENTOS CINCUENTA Y SIETE PESOS 33/100 M.N."),
    ("15.5", "AED", "QUINCE 50/100 AED"),  # a currency without Spanish names: its ISO code
    ("0.005", "MXN", "CERO PESOS 01/100 M.N."),  # rounded half up to the currency's decimals
]


@pytest.mark.parametrize(("amount", "currency", "words"), CASES)
def test_amounts(amount: str, currency: str, words: str):
    assert amount_in_words(Decimal(amount), currency) == words


def test_a_currency_without_cents_and_one_with_three_decimals():
    assert amount_in_words(Decimal("1234"), "JPY", 0) == "MIL DOSCIENTOS TREINTA Y CUATRO YENES JPY"
    assert amount_in_words(Decimal("5.125"), "KWD", 3) == "CINCO 125/1000 KWD"


def test_every_integer_reads_back():
    """Each of 0..1,200,000 in steps that cross every pattern has words, all distinct (no two numbers read alike)."""
    seen = {}
    for n in list(range(0, 2100)) + list(range(2100, 1_200_000, 997)):
        w = integer_words(n)
        assert w and "  " not in w and w not in seen, (n, w, seen.get(w))
        seen[w] = n
    assert integer_words(10**18 - 1).startswith("NOVECIENTOS NOVENTA Y NUEVE MIL NOVECIENTOS NOVENTA Y NUEVE BILLONES")
    with pytest.raises(ValueError):
        integer_words(10**18)
