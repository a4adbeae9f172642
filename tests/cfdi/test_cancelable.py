"""SAT's cancellation rules (timbra/cfdi/cancelable.py): each rule at its boundary, instants passed in."""
from dataclasses import replace
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from timbra.cfdi.cancelable import (
    EsCancelable,
    Hechos,
    Sustituto,
    dia_habil_siguiente,
    dias_festivos,
    es_cancelable,
    evaluar,
    fecha_limite_cancelacion,
    fin_plazo_receptor,
    plazo_vencido,
    revisar_motivo,
    texto_codigo,
)
from timbra.codes import CANCELLATION_CODES, CODES, cancellation_text

UTC = timezone.utc
MORAL = "EKU9003173C9"
FISICA = "XIQB891116QE4"
OTHER = "URE180429TM6"
UUID = "CEE4BE01-ADFA-4DEB-8421-ADD60F0BEDAC"
SUB = "0B7A4B0A-2C39-4A9A-9E4F-6C1E0B3D2A11"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(*args) -> datetime:
    """A Mexico City wall-clock instant (UTC-6 all year since 2023) as UTC."""
    return utc(*args) + (utc(2026, 1, 1, 6) - utc(2026, 1, 1))


STAMPED = local(2026, 5, 4, 12)   # a Monday
LATER = local(2026, 6, 15, 12)    # weeks later: fr. IX (next business day) no longer applies


def hechos(**kw) -> Hechos:
    base = dict(uuid=UUID, rfc_emisor=MORAL, rfc_receptor=OTHER, tipo_de_comprobante="I",
                total=Decimal("5000.00"), fecha_timbrado=STAMPED)
    base.update(kw)
    return Hechos(**base)


# --- calendar

def test_holidays_2026_computed():
    assert sorted(dias_festivos(2026)) == [date(2026, 1, 1), date(2026, 2, 2), date(2026, 3, 16),
                                           date(2026, 5, 1), date(2026, 9, 16), date(2026, 11, 16),
                                           date(2026, 12, 25)]


def test_holidays_2027_computed():
    assert sorted(dias_festivos(2027)) == [date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 15),
                                           date(2027, 5, 1), date(2027, 9, 16), date(2027, 11, 15),
                                           date(2027, 12, 25)]


def test_transfer_of_the_executive_every_six_years():
    assert date(2024, 10, 1) in dias_festivos(2024) and date(2024, 12, 1) not in dias_festivos(2024)
    assert date(2030, 10, 1) in dias_festivos(2030)
    assert date(2018, 12, 1) in dias_festivos(2018) and date(2018, 10, 1) not in dias_festivos(2018)
    assert date(2026, 10, 1) not in dias_festivos(2026)


def test_next_business_day_skips_weekend_and_holiday():
    assert dia_habil_siguiente(date(2026, 11, 20)) == date(2026, 11, 23)   # Fri -> Mon
    assert dia_habil_siguiente(date(2026, 11, 13)) == date(2026, 11, 17)   # Fri -> Tue (Mon 16 holiday)
    assert dia_habil_siguiente(date(2026, 12, 24)) == date(2026, 12, 28)   # Thu -> Mon (Fri 25 holiday)


# --- receptor's three business days

def test_plazo_three_business_days_across_long_weekend():
    requested = local(2026, 3, 13, 18)             # Friday; Monday 16 is a holiday
    end = fin_plazo_receptor(requested)
    assert end == local(2026, 3, 20, 0)            # Tue 17, Wed 18, Thu 19 count
    assert not plazo_vencido(requested, local(2026, 3, 19, 23, 59, 59))
    assert plazo_vencido(requested, local(2026, 3, 20, 0))


def test_plazo_counts_in_mexico_city_time():
    # 2026-11-20 03:00 UTC is still Thursday 19 in Mexico City: the term starts on Friday 20
    # (counted on the UTC date it would end a day later, on Wednesday 25).
    requested = utc(2026, 11, 20, 3)
    assert fin_plazo_receptor(requested) == local(2026, 11, 25, 0)   # Fri 20, Mon 23, Tue 24
    assert not plazo_vencido(requested, utc(2026, 11, 25, 5, 59, 59))
    assert plazo_vencido(requested, utc(2026, 11, 25, 6))


def test_naive_instants_are_refused():
    with pytest.raises(ValueError):
        plazo_vencido(datetime(2026, 3, 13), datetime(2026, 3, 20))


# --- RMF 2.7.1.35

@pytest.mark.parametrize("total, expected", [
    ("999.99", EsCancelable.SIN_ACEPTACION),
    ("1000.00", EsCancelable.SIN_ACEPTACION),
    ("1000.01", EsCancelable.CON_ACEPTACION),
])
def test_total_up_to_1000_mxn(total, expected):
    assert es_cancelable(hechos(total=Decimal(total)), LATER) == expected


def test_total_in_usd_is_converted():
    assert es_cancelable(hechos(total=Decimal("50.00"), tipo_cambio=Decimal("20.0000")), LATER) \
        == EsCancelable.SIN_ACEPTACION
    assert es_cancelable(hechos(total=Decimal("50.00"), tipo_cambio=Decimal("20.0002")), LATER) \
        == EsCancelable.CON_ACEPTACION


def test_pagos_total_zero_is_not_fraction_one():
    assert es_cancelable(hechos(tipo_de_comprobante="P", total=Decimal("0")), LATER) \
        == EsCancelable.CON_ACEPTACION


@pytest.mark.parametrize("kw, fraccion", [
    (dict(tipo_de_comprobante="N", nomina=True), "II"),
    (dict(tipo_de_comprobante="E"), "III"),
    (dict(tipo_de_comprobante="T"), "IV"),
    (dict(receptor_rif=True), "V"),
    (dict(retencion=True), "VI"),
    (dict(rfc_receptor="XAXX010101000"), "VII"),
    (dict(rfc_receptor="XAXX010101000", informacion_global=True), "VII"),
    (dict(rfc_receptor="XEXX010101000"), "VIII"),
    (dict(sector_primario=True), "X"),
    (dict(sistema_financiero=True), "XI"),
    (dict(federacion=True), "XII"),
])
def test_each_fraction_cancels_without_acceptance(kw, fraccion):
    result = evaluar(hechos(**kw), LATER)
    assert result.es_cancelable == EsCancelable.SIN_ACEPTACION
    assert result.fundamento == f"RMF 2.7.1.35 fr. {fraccion}"


def test_an_ordinary_ingreso_needs_acceptance():
    result = evaluar(hechos(), LATER)
    assert (result.es_cancelable, result.codigo) == (EsCancelable.CON_ACEPTACION, None)


def test_traslado_with_hydrocarbons_needs_acceptance():
    assert es_cancelable(hechos(tipo_de_comprobante="T", carta_porte_hidrocarburos=True), LATER) \
        == EsCancelable.CON_ACEPTACION


def test_next_business_day_across_weekend_and_holiday():
    h = hechos(fecha_timbrado=local(2026, 11, 13, 23, 30))     # Friday; Monday 16 is a holiday
    assert evaluar(h, local(2026, 11, 17, 23, 59, 59)).fundamento == "RMF 2.7.1.35 fr. IX"
    assert es_cancelable(h, local(2026, 11, 18, 0)) == EsCancelable.CON_ACEPTACION


def test_next_business_day_across_a_weekend():
    h = hechos(fecha_timbrado=local(2026, 11, 20, 9))          # Friday
    assert es_cancelable(h, local(2026, 11, 23, 23, 59, 59)) == EsCancelable.SIN_ACEPTACION
    assert es_cancelable(h, local(2026, 11, 24, 0)) == EsCancelable.CON_ACEPTACION


def test_next_business_day_in_mexico_city_time():
    # Stamped Tuesday 2026-05-05 02:00 UTC = Monday 4 at 20:00 in Mexico City: Tuesday 5 is the limit.
    h = hechos(fecha_timbrado=utc(2026, 5, 5, 2))
    assert es_cancelable(h, utc(2026, 5, 6, 5, 59)) == EsCancelable.SIN_ACEPTACION
    assert es_cancelable(h, utc(2026, 5, 6, 6)) == EsCancelable.CON_ACEPTACION


# --- related documents and the yearly deadline

def test_live_related_documents_make_it_not_cancelable():
    h = hechos(total=Decimal("10"), relacionados_vivos=(SUB,))
    result = evaluar(h, LATER)
    assert (result.es_cancelable, result.codigo) == (EsCancelable.NO_CANCELABLE, "204")
    assert es_cancelable(replace(h, relacionados_vivos=()), LATER) == EsCancelable.SIN_ACEPTACION


def test_yearly_deadline_persona_moral_last_day():
    h = hechos(fecha_timbrado=local(2026, 12, 31, 23))
    assert fecha_limite_cancelacion(h.fecha_timbrado, MORAL) == date(2027, 3, 31)
    assert es_cancelable(h, local(2027, 3, 31, 23, 59, 59)) == EsCancelable.CON_ACEPTACION
    result = evaluar(h, local(2027, 4, 1, 0))
    assert (result.es_cancelable, result.codigo) == (EsCancelable.NO_CANCELABLE, "210")


def test_yearly_deadline_persona_fisica_last_day():
    h = hechos(rfc_emisor=FISICA, total=Decimal("1"), fecha_timbrado=local(2026, 1, 2, 9))
    assert es_cancelable(h, local(2027, 4, 30, 23, 59)) == EsCancelable.SIN_ACEPTACION
    assert es_cancelable(h, local(2027, 5, 1, 0)) == EsCancelable.NO_CANCELABLE


def test_yearly_deadline_uses_fecha_emision_in_mexico_city():
    # Fecha 2026-12-31 20:00 in Mexico City is 2027-01-01 02:00 UTC: the year of issue is 2026.
    h = hechos(fecha_emision=utc(2027, 1, 1, 2), fecha_timbrado=utc(2027, 1, 1, 2, 5))
    assert es_cancelable(h, local(2027, 4, 1, 0)) == EsCancelable.NO_CANCELABLE


# --- Motivo and FolioSustitucion

def test_motivo_01_requires_folio_sustitucion():
    assert revisar_motivo(hechos(), "01", None, None) == "208"


def test_motivo_01_with_a_substitute_of_the_same_emisor():
    sub = Sustituto(SUB, MORAL, sustituye=(UUID.lower(),))
    assert revisar_motivo(hechos(), "01", SUB, sub) is None


def test_motivo_01_substitute_of_another_emisor_unknown_or_itself():
    assert revisar_motivo(hechos(), "01", SUB, Sustituto(SUB, OTHER, (UUID,))) == "208"
    assert revisar_motivo(hechos(), "01", SUB, None) == "208"
    assert revisar_motivo(hechos(), "01", UUID, Sustituto(UUID, MORAL, (UUID,))) == "208"


def test_motivo_01_substitute_must_relate_with_04():
    assert revisar_motivo(hechos(), "01", SUB, Sustituto(SUB, MORAL, ())) == "212"


@pytest.mark.parametrize("motivo", ["02", "03", "04"])
def test_motivos_02_to_04_forbid_folio_sustitucion(motivo):
    h = hechos(rfc_receptor="XAXX010101000", informacion_global=True)
    assert revisar_motivo(h, motivo, SUB, Sustituto(SUB, MORAL, (UUID,))) == "209"
    assert revisar_motivo(h, motivo, None, None) is None


def test_motivo_04_only_for_a_factura_global():
    assert revisar_motivo(hechos(), "04", None, None) == "204"
    assert revisar_motivo(hechos(), "02", None, None) is None


@pytest.mark.parametrize("motivo", [None, "", "05", "1"])
def test_missing_or_unknown_motivo(motivo):
    assert revisar_motivo(hechos(), motivo, None, None) == "207"


# --- codes

def test_texto_codigo_is_the_cancellation_table_of_timbra_codes():
    assert texto_codigo("201")[0] == "Solicitud de cancelación exitosa."
    assert texto_codigo("209") == cancellation_text("209") == (CANCELLATION_CODES["209"].es,
                                                                CANCELLATION_CODES["209"].en)
    assert texto_codigo("303")[0] == "Sello no corresponde al RFC emisor."  # not stamping's 303
    with pytest.raises(KeyError):
        texto_codigo("401")  # a stamping code the cancellation service does not answer


def test_every_code_the_rules_answer_has_its_text():
    """evaluar and revisar_motivo answer codes of the cancellation table, never of the stamping one."""
    answered = {"204", "207", "208", "209", "210", "212"}
    assert answered <= CANCELLATION_CODES.keys()
    assert not answered & CODES.keys()


def test_cancellation_table_has_both_languages_and_sat_as_source():
    assert {"201", "212", "300", "303", "306", "308", "312", "1000", "1006", "1100", "1101"} \
        <= CANCELLATION_CODES.keys()
    for code, c in CANCELLATION_CODES.items():
        assert c.code == code and c.es and c.en and c.es != c.en and c.source == "sat", code
    # per-UUID answers come in a 200; the request-level codes (300-312) refuse the request
    for code, c in CANCELLATION_CODES.items():
        assert (400 <= c.http_status < 500) if 300 <= int(code) < 400 else c.http_status == 200, code
    # the same numbers, other meanings: 303 and 306 are about the request's signer, not a CFDI's Emisor
    for code in ("303", "306"):
        assert CANCELLATION_CODES[code].es != CODES[code].es
