"""CFDI40130-CFDI40136: InformacionGlobal, the global invoice to the general public."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from lxml import etree

from tests.conftest import NOW
from tests.xmlhelp import node, set_attrs
from timbra.cfdi.document import NS40


def publico_en_general(root: etree._Element) -> None:
    """The Receptor of a global invoice (SAT's generic RFC, LugarExpedicion as domicilio, 616, S01)."""
    rec = node(root, "cfdi:Receptor")
    set_attrs(rec, Rfc="XAXX010101000", Nombre="PUBLICO EN GENERAL",
              DomicilioFiscalReceptor=root.get("LugarExpedicion"), RegimenFiscalReceptor="616", UsoCFDI="S01")


def global_invoice(periodicidad: str = "04", meses: str = "11", ano: str = "2026"):
    def mut(root: etree._Element) -> etree._Element:
        publico_en_general(root)
        ig = etree.Element(f"{{{NS40}}}InformacionGlobal")
        ig.set("Periodicidad", periodicidad)
        ig.set("Meses", meses)
        ig.set("Año", ano)
        root.insert(0, ig)
        return ig

    return mut


@pytest.fixture
def persona_fisica(sandbox_ca):
    return sandbox_ca.issue("XIQB891116QE4", "BERENICE XIMO QUEZADA",
                            not_before=datetime(2025, 1, 1, tzinfo=timezone.utc))


def rif(root: etree._Element) -> None:
    node(root, "cfdi:Emisor").set("RegimenFiscal", "621")


def test_global_invoice_is_valid(make_xml, codes):
    assert codes(make_xml(global_invoice())) == []


# -- CFDI40130 ---------------------------------------------------------------------------------------
def test_cfdi40130_publico_en_general_without_informacion_global(make_xml, findings):
    got = findings(make_xml(publico_en_general))
    assert [f.code for f in got] == ["CFDI40130"]
    assert got[0].node == "InformacionGlobal"


def test_cfdi40130_egreso_to_publico_en_general_does_not_need_it(make_xml, codes):
    def mut(root):
        publico_en_general(root)
        root.set("TipoDeComprobante", "E")

    assert "CFDI40130" not in codes(make_xml(mut))


# -- CFDI40131 / CFDI40133 (catalogs) ----------------------------------------------------------------
def test_cfdi40131_periodicidad_catalog(make_xml, findings):
    got = findings(make_xml(global_invoice(periodicidad="06")))
    assert [f.code for f in got] == ["CFDI40131"]
    assert got[0].node == "InformacionGlobal@Periodicidad"


def test_cfdi40131_periodicidad_01_passes(make_xml, codes):
    assert codes(make_xml(global_invoice(periodicidad="01"))) == []


def test_cfdi40133_meses_catalog(make_xml, findings):
    got = findings(make_xml(global_invoice(meses="19")))
    assert [f.code for f in got] == ["CFDI40133"]
    assert got[0].node == "InformacionGlobal@Meses"


# -- CFDI40132 / CFDI40134 / CFDI40135 ---------------------------------------------------------------
def test_cfdi40132_bimestral_needs_regimen_621(make_xml, findings):
    got = findings(make_xml(global_invoice(periodicidad="05", meses="17")))
    assert [f.code for f in got] == ["CFDI40132"]
    assert got[0].node == "Emisor@RegimenFiscal"
    assert (got[0].value, got[0].expected) == ("601", "621")


def test_cfdi40132_bimestral_with_regimen_621_passes(make_xml, codes, persona_fisica):
    def mut(root):
        global_invoice(periodicidad="05", meses="17")(root)
        rif(root)

    assert codes(make_xml(mut, cred=persona_fisica)) == []


def test_cfdi40132_mensual_with_regimen_621_passes(make_xml, codes, persona_fisica):
    def mut(root):
        global_invoice(periodicidad="04", meses="11")(root)
        rif(root)

    assert codes(make_xml(mut, cred=persona_fisica)) == []


def test_cfdi40134_mensual_with_bimestre(make_xml, findings):
    got = findings(make_xml(global_invoice(periodicidad="04", meses="13")))
    assert [f.code for f in got] == ["CFDI40134"]
    assert got[0].node == "InformacionGlobal@Meses"
    assert got[0].expected == "01 .. 12"


@pytest.mark.parametrize("periodicidad", ["01", "02", "03", "04"])
def test_cfdi40134_month_12_passes(make_xml, codes, periodicidad):
    assert codes(make_xml(global_invoice(periodicidad=periodicidad, meses="12"))) == []


def test_cfdi40135_bimestral_with_month(make_xml, findings, persona_fisica):
    def mut(root):
        global_invoice(periodicidad="05", meses="12")(root)
        rif(root)

    got = findings(make_xml(mut, cred=persona_fisica))
    assert [f.code for f in got] == ["CFDI40135"]
    assert got[0].node == "InformacionGlobal@Meses"
    assert got[0].expected == "13 .. 18"


@pytest.mark.parametrize("meses", ["13", "18"])
def test_cfdi40135_bimestral_with_bimestre_passes(make_xml, codes, persona_fisica, meses):
    def mut(root):
        global_invoice(periodicidad="05", meses=meses)(root)
        rif(root)

    assert codes(make_xml(mut, cred=persona_fisica)) == []


# -- CFDI40136 Año -----------------------------------------------------------------------------------
@pytest.mark.parametrize("ano", ["2020", "2027"])
def test_cfdi40136_ano_out_of_range(make_xml, findings, ano):
    got = findings(make_xml(global_invoice(ano=ano)))
    assert [f.code for f in got] == ["CFDI40136"]
    assert got[0].node == "InformacionGlobal@Año"
    assert got[0].expected == "2021 .. 2026"


@pytest.mark.parametrize("ano", ["2021", "2025", "2026"])
def test_cfdi40136_ano_current_or_five_before_passes(make_xml, codes, ano):
    assert codes(make_xml(global_invoice(ano=ano))) == []


def test_cfdi40136_year_is_local_at_new_year(make_xml, findings, clock):
    # 03:00 UTC on 1 January 2027 is still 31 December 2026 in Mexico City: 2027 is a future year.
    clock.advance(seconds=(datetime(2027, 1, 1, 3, tzinfo=timezone.utc) - NOW).total_seconds())
    now = clock.now()
    got = findings(make_xml(global_invoice(ano="2027", meses="12"), fecha=now))
    assert [f.code for f in got] == ["CFDI40136"]
    assert got[0].expected == "2021 .. 2026"
    assert findings(make_xml(global_invoice(ano="2021", meses="12"), fecha=now)) == []


# -- cases the mutation run asked for (docs/mutation.md) ----------------------------------------------
def test_cfdi40136_year_is_lugar_expedicion_s_not_mexico_city_s(make_xml, findings, clock):
    # 07:00 UTC on 1 January 2027 is already 2027 in Mexico City but still 31 December 2026 in Tijuana:
    # issued from Tijuana (22000, Tiempo del Pacífico) 2027 is a future year.
    clock.advance(seconds=(datetime(2027, 1, 1, 7, tzinfo=timezone.utc) - NOW).total_seconds())

    def tijuana(ano: str):
        def mut(root):
            root.set("LugarExpedicion", "22000")
            global_invoice(ano=ano, meses="12")(root)

        return mut

    fecha = datetime(2026, 12, 31, 12, tzinfo=timezone.utc)
    assert "CFDI40136" in [f.code for f in findings(make_xml(tijuana("2027"), fecha=fecha))]
    assert "CFDI40136" not in [f.code for f in findings(make_xml(tijuana("2026"), fecha=fecha))]


def test_cfdi40130_only_for_the_generic_rfc(make_xml, codes):
    def mut(root):
        publico_en_general(root)
        node(root, "cfdi:Receptor").set("Rfc", "XEXX010101000")  # the foreign generic RFC is not a global invoice

    assert "CFDI40130" not in codes(make_xml(mut))


def test_cfdi40130_without_receptor_does_not_crash(make_xml, codes):
    def mut(root):
        root.remove(node(root, "cfdi:Receptor"))

    got = codes(make_xml(mut))
    assert "CFDI40130" not in got and "CFDI40999" not in got


def test_cfdi40132_without_emisor_is_not_reported_twice(make_xml, codes):
    def mut(root):
        global_invoice(periodicidad="05", meses="17")(root)
        root.remove(node(root, "cfdi:Emisor"))

    got = codes(make_xml(mut))
    assert "CFDI40132" not in got and "CFDI40999" not in got


def test_cfdi40134_not_judged_when_periodicidad_is_outside_its_catalog(make_xml, codes):
    got = codes(make_xml(global_invoice(periodicidad="06", meses="13")))
    assert "CFDI40131" in got and "CFDI40134" not in got


def test_cfdi40134_month_01_passes(make_xml, codes):
    assert codes(make_xml(global_invoice(periodicidad="04", meses="01"))) == []
