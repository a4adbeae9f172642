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
