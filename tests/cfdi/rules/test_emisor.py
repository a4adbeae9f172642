"""cfdi:Emisor rules, CFDI40138-CFDI40142 (CFDI40140 comes from claves.py)."""
from datetime import datetime, timezone

import pytest

from tests.xmlhelp import node

FISICA_RFC = "XOJI740919U48"  # one of SAT's test RFCs of a persona física


@pytest.fixture(scope="module")
def csd_fisica(sandbox_ca):
    return sandbox_ca.issue(FISICA_RFC, "INGRID XODAR JIMENEZ", not_before=datetime(2025, 1, 1, tzinfo=timezone.utc))


def regimen(value):
    return lambda root: node(root, "cfdi:Emisor").set("RegimenFiscal", value)


# -- CFDI40140: RegimenFiscal in c_RegimenFiscal (claves.py) -------------------------------------------

def test_cfdi40140_regimen_fiscal_not_in_catalog(make_xml, findings):
    got = findings(make_xml(regimen("600")))
    assert [(f.code, f.node, f.value) for f in got] == [("CFDI40140", "Emisor@RegimenFiscal", "600")]


def test_cfdi40140_regimen_fiscal_last_codes_of_catalog_pass(make_xml, codes):
    # 626 (Simplificado de Confianza) applies to both kinds of person; 628 (Hidrocarburos) to moral.
    assert codes(make_xml(regimen("626"))) == []
    assert codes(make_xml(regimen("628"))) == []


# -- CFDI40141: RegimenFiscal vs the Emisor's kind of person -----------------------------------------------

def test_cfdi40141_regimen_de_persona_fisica_con_rfc_moral(make_xml, findings):
    got = findings(make_xml(regimen("612")))  # EKU9003173C9: 12 characters, persona moral
    assert [(f.code, f.node, f.value) for f in got] == [("CFDI40141", "Emisor@RegimenFiscal", "612")]
    assert "601" in got[0].expected.split(", ") and "612" not in got[0].expected.split(", ")
    assert "moral" in got[0].detail


def test_cfdi40141_regimen_de_persona_moral_con_rfc_fisica(make_xml, findings, csd_fisica):
    got = findings(make_xml(regimen("601"), cred=csd_fisica))
    assert [(f.code, f.node, f.value) for f in got] == [("CFDI40141", "Emisor@RegimenFiscal", "601")]
    assert "612" in got[0].expected.split(", ") and "601" not in got[0].expected.split(", ")


def test_cfdi40141_regimen_fisica_passes_with_rfc_fisica(make_xml, codes, csd_fisica):
    assert codes(make_xml(cred=csd_fisica)) == []  # the sample writes 612 for a 13-character RFC
    assert codes(make_xml(regimen("626"), cred=csd_fisica)) == []  # 626 applies to both


def test_cfdi40141_regimen_for_both_persons_passes_with_rfc_moral(make_xml, codes):
    assert codes(make_xml(regimen("610"))) == []  # Residentes en el Extranjero: física and moral


def test_cfdi40141_regimenes_missing_from_the_40_table(make_xml, codes, csd_fisica):
    # 628-630 are in SAT's catCFDI but only in the older c_RegimenFiscal table: 628 is moral only,
    # 630 física only.
    assert codes(make_xml(regimen("630"))) == ["CFDI40141"]
    assert codes(make_xml(regimen("628"), cred=csd_fisica)) == ["CFDI40141"]
    assert codes(make_xml(regimen("630"), cred=csd_fisica)) == []


# -- the helpers other rule modules share (emisor.py's padrón convention, the régimen lists) ----------------

def _ctx(make_xml, padron=None):
    from tests.conftest import NOW
    from timbra.cfdi.document import parse
    from timbra.cfdi.rules import Context
    from timbra.sat.catalogs import catalogs

    return Context(doc=parse(make_xml()), catalogs=catalogs(), now=NOW, padron=padron)


def _padron(*, permissive=False, datos_publicos=False):
    from timbra.sat.padron import Contribuyente, MemoryPadron

    p = MemoryPadron(permissive=permissive, datos_publicos=datos_publicos)
    p.register(Contribuyente("EKU9003173C9", "ESCUELA KEMPER URGATE"))
    return p


def test_no_inscrito_follows_the_padron_convention(make_xml):
    from timbra.cfdi.rules.emisor import en_padron, no_inscrito

    assert no_inscrito(_ctx(make_xml), "XAXX010101000") is False  # no padrón: nothing is known
    strict = _ctx(make_xml, _padron())
    assert no_inscrito(strict, "AAA010101AAA") is True
    assert no_inscrito(strict, " EKU9003173C9 ") is False  # collapsed, then found
    assert no_inscrito(strict, None) is False and no_inscrito(strict, "") is False
    assert en_padron(strict, "") is None
    permissive = _ctx(make_xml, _padron(permissive=True))
    assert no_inscrito(permissive, "AAA010101AAA") is False
    assert [n.what for n in permissive.skipped] == ["padrón:AAA010101AAA"]
    assert no_inscrito(permissive, "EKU9003173C9") is False and len(permissive.skipped) == 1


class _Regimenes:
    """Just enough of Catalogs for regimenes_de: two c_RegimenFiscal tables and the XSD's enumeration."""

    def __init__(self, tables, allowed):
        self.tables, self.allowed = tables, allowed

    def has_table(self, name):
        return name in self.tables

    def rows(self, name):
        return self.tables[name]

    def cfdi(self, name):
        assert name == "c_RegimenFiscal"
        return self.allowed


def test_regimenes_de_applies_vigencia_persona_and_the_newer_table():
    from timbra.cfdi.rules.emisor import regimenes_de

    old = [{"id": "601", "aplica_moral": 1}, {"id": "630", "aplica_moral": 1}, {"id": "628", "aplica_moral": 1}]
    new = [{"id": "601", "aplica_moral": 1}, {"id": "603", "aplica_moral": 1, "vigencia_hasta": "2026-11-24"},
           {"id": "604", "aplica_moral": 1, "vigencia_hasta": "2026-11-23"}, {"id": "630", "aplica_moral": ""},
           {"id": "612", "aplica_fisica": 1}]
    cats = _Regimenes({"cfdi_40_regimenes_fiscales": new, "cfdi_regimenes_fiscales": old}, set())
    # 603 is in force on its last day, 604 no longer; the 4.0 table says 630 is not for morales; 628 only
    # in the older table
    assert regimenes_de(cats, "moral", "2026-11-24") == ["601", "603", "628"]
    assert regimenes_de(cats, "moral") == ["601", "603", "604", "628"]  # no date: every one
    assert regimenes_de(cats, "física", "2026-11-24") == ["612"]
    limited = _Regimenes({"cfdi_40_regimenes_fiscales": new, "cfdi_regimenes_fiscales": old}, {"601", "628"})
    assert regimenes_de(limited, "moral", "2026-11-24") == ["601", "628"]
    only_old = _Regimenes({"cfdi_regimenes_fiscales": old}, set())
    assert regimenes_de(only_old, "moral", "2026-11-24") == ["601", "628", "630"]


def test_check_regimen_persona_skips_what_it_cannot_judge(make_xml):
    from lxml import etree

    from timbra.cfdi.rules.emisor import check_regimen_persona

    ctx = _ctx(make_xml)
    for attrs in ({"Rfc": "EKU9003173C9"}, {"Rfc": "EKU9003173", "RegimenFiscal": "612"},
                  {"RegimenFiscal": "612"}, {"Rfc": "EKU9003173C9", "RegimenFiscal": "999"}):
        check_regimen_persona(ctx, "CFDI40141", etree.Element("Emisor", attrs), "RegimenFiscal", "Rfc")
    assert ctx.findings == []
    check_regimen_persona(ctx, "CFDI40141", etree.Element("Emisor", {"Rfc": " EKU9003173C9", "RegimenFiscal": "612"}),
                          "RegimenFiscal", "Rfc")
    assert [(f.code, f.value) for f in ctx.findings] == [("CFDI40141", "612")]


def test_check_registrado_needs_both_values_and_shows_public_data_only(make_xml):
    from lxml import etree

    from timbra.cfdi.rules.emisor import check_registrado

    def run(attrs, registrado, *, publicos):
        ctx = _ctx(make_xml)
        check_registrado(ctx, ("A", "B"), etree.Element("Emisor", attrs), "Nombre", registrado, "EKU9003173C9",
                         "el Nombre", lambda v: v == "OTRO", _padron(datos_publicos=publicos))
        return [(f.code, f.value, f.expected, f.detail) for f in ctx.findings]

    assert run({}, "ESCUELA", publicos=True) == []
    assert run({"Nombre": "X"}, None, publicos=True) == []
    assert run({"Nombre": " ESCUELA "}, "ESCUELA", publicos=True) == []
    [(code, value, expected, detail)] = run({"Nombre": "X"}, "ESCUELA", publicos=True)
    assert (code, value, expected) == ("A", "X", "ESCUELA") and "('ESCUELA')" in detail
    [(code, value, expected, detail)] = run({"Nombre": "OTRO"}, "ESCUELA", publicos=False)
    assert (code, value, expected) == ("B", "OTRO", None) and "ESCUELA" not in detail


def test_402_says_which_list_lacks_the_emisor(make_xml):
    from dataclasses import replace

    from timbra.cfdi.rules.emisor import emisor_en_padron

    padron = _padron()
    ctx = _ctx(make_xml, padron)
    emisor_en_padron(ctx)
    assert ctx.findings == []
    padron.register(replace(padron.lookup("EKU9003173C9"), puede_facturar=False))
    emisor_en_padron(ctx)
    assert [f.code for f in ctx.findings] == ["402"] and "l_LCO" in ctx.findings[0].detail
    from timbra.sat.padron import MemoryPadron

    ctx = _ctx(make_xml, MemoryPadron())
    emisor_en_padron(ctx)
    assert [f.code for f in ctx.findings] == ["402"] and "inscritos no cancelados" in ctx.findings[0].detail
