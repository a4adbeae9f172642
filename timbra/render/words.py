"""An amount in Spanish words, as Mexican invoices write it: "MIL DOSCIENTOS PESOS 50/100 M.N.".

Written here rather than taken from num2words, whose Spanish gets money wrong ("veintiuno mil", no "de" in
"un millón de pesos", the integer read as cents). The rules, from the Real Academia's grammar of numerals:
"uno" shortens to "un" before a noun and before "mil"/"millón" (veintiún pesos, ciento un mil, treinta y un
millones); a round million takes "de" before the currency (un millón de pesos); 1,000 is "mil", never "un
mil"; 10^9 is "mil millones" and 10^12 "un billón" (the long scale).
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

_UNITS = ("CERO", "UNO", "DOS", "TRES", "CUATRO", "CINCO", "SEIS", "SIETE", "OCHO", "NUEVE", "DIEZ", "ONCE", "DOCE",
          "TRECE", "CATORCE", "QUINCE", "DIECISÉIS", "DIECISIETE", "DIECIOCHO", "DIECINUEVE", "VEINTE", "VEINTIUNO",
          "VEINTIDÓS", "VEINTITRÉS", "VEINTICUATRO", "VEINTICINCO", "VEINTISÉIS", "VEINTISIETE", "VEINTIOCHO",
          "VEINTINUEVE")
_TENS = ("", "", "", "TREINTA", "CUARENTA", "CINCUENTA", "SESENTA", "SETENTA", "OCHENTA", "NOVENTA")
_HUNDREDS = ("", "CIENTO", "DOSCIENTOS", "TRESCIENTOS", "CUATROCIENTOS", "QUINIENTOS", "SEISCIENTOS",
             "SETECIENTOS", "OCHOCIENTOS", "NOVECIENTOS")

# Currency: singular, plural, the closing mark. Others are written with their ISO code after the fraction.
CURRENCIES = {
    "MXN": ("PESO", "PESOS", "M.N."),
    "USD": ("DÓLAR", "DÓLARES", "USD"),
    "EUR": ("EURO", "EUROS", "EUR"),
    "CAD": ("DÓLAR CANADIENSE", "DÓLARES CANADIENSES", "CAD"),
    "GBP": ("LIBRA ESTERLINA", "LIBRAS ESTERLINAS", "GBP"),
    "JPY": ("YEN", "YENES", "JPY"),
    "CHF": ("FRANCO SUIZO", "FRANCOS SUIZOS", "CHF"),
    "CNY": ("YUAN", "YUANES", "CNY"),
}
MAX = 10**18  # t_Importe: at most 18 integer digits


def _below_hundred(n: int) -> str:
    if n < 30:
        return _UNITS[n]
    tens, unit = divmod(n, 10)
    return _TENS[tens] if unit == 0 else f"{_TENS[tens]} Y {_UNITS[unit]}"


def _below_thousand(n: int) -> str:
    if n == 100:
        return "CIEN"
    hundreds, rest = divmod(n, 100)
    parts = [_HUNDREDS[hundreds]] if hundreds else []
    if rest:
        parts.append(_below_hundred(rest))
    return " ".join(parts)


def _below_million(n: int) -> str:
    thousands, rest = divmod(n, 1000)
    parts = []
    if thousands == 1:
        parts.append("MIL")
    elif thousands:
        parts.append(f"{_apocope(_below_thousand(thousands))} MIL")
    if rest:
        parts.append(_below_thousand(rest))
    return " ".join(parts)


def _apocope(words: str) -> str:
    """'uno' before a noun or a multiplier: UN, VEINTIÚN, TREINTA Y UN."""
    if words.endswith("VEINTIUNO"):
        return words[: -len("VEINTIUNO")] + "VEINTIÚN"
    if words == "UNO" or words.endswith(" UNO"):
        return words[:-1]
    return words


def integer_words(n: int) -> str:
    """0 <= n < 10**18 in words, upper case ('uno' not shortened: the caller decides)."""
    if not 0 <= n < MAX:
        raise ValueError(f"{n} is out of range")
    if n == 0:
        return "CERO"
    parts = []
    billions, rest = divmod(n, 10**12)  # billones (long scale)
    millions, units = divmod(rest, 10**6)
    if billions:
        parts.append("UN BILLÓN" if billions == 1 else f"{_apocope(_below_million(billions))} BILLONES")
    if millions:
        parts.append("UN MILLÓN" if millions == 1 else f"{_apocope(_below_million(millions))} MILLONES")
    if units:
        parts.append(_below_million(units))
    return " ".join(parts)


def amount_in_words(amount: Decimal, currency: str = "MXN", decimals: int = 2) -> str:
    """The amount to write on an invoice: words for the integer part, the cents as NN/100, the currency.

    >>> amount_in_words(Decimal("1200.50"))
    'MIL DOSCIENTOS PESOS 50/100 M.N.'
    """
    value = abs(amount).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    whole = int(value)
    frac = int((value - whole).scaleb(decimals))
    words = integer_words(whole)
    fraction = f" {frac:0{decimals}d}/1{'0' * decimals}" if decimals > 0 else ""
    known = CURRENCIES.get(currency)
    if known is None:  # a currency without Spanish names here: the words, the fraction, the ISO code
        return f"{_apocope(words)}{fraction} {currency}".strip()
    singular, plural, mark = known
    if whole == 1:
        text = f"UN {singular}"
    else:
        de = " DE" if whole >= 10**6 and whole % 10**6 == 0 else ""
        text = f"{_apocope(words)}{de} {plural}"
    return f"{text}{fraction} {mark}"
