"""RegimenFiscalReceptor (issue #9 item 5): CFDI40159 against Nómina's NOM11, the padrón's own code (T160),
and the sandbox padrón's régimen for the test RFC XOJI740919U48 to which PACs' test environments pay nómina."""
from __future__ import annotations

import pytest

from tests.cfdi.rules.complementos.nomina12_builder import RECEPTOR, NominaSpec
from tests.conftest import NOW
from tests.xmlhelp import node
from timbra.pac.stamping import Certifier
from timbra.sat.padron import SandboxPadron

FALLECIDO = {"Rfc": "XAXX010101000", "Nombre": "KARLA FUENTE NOLASCO", "DomicilioFiscalReceptor": "06000",
             "UsoCFDI": "CN01"}


@pytest.fixture
def strict(pac, trust, clock) -> Certifier:
    return Certifier(pac=pac, trust=trust, clock=clock, padron=SandboxPadron(permissive=False))


def _codes(certifier: Certifier, xml: bytes) -> list[str]:
    return [f.code for f in certifier.validate(xml).findings]


def test_nomina_to_the_generic_rfc_takes_605_as_nom11_asks(csd, strict):
    """Payroll to a deceased worker (NOM10/NOM11): XAXX010101000 with 605 passes; 616 is NOM11's."""
    ok = NominaSpec(receptor={**FALLECIDO, "RegimenFiscalReceptor": "605"}).xml(csd, NOW)
    assert _codes(strict, ok) == []
    with_616 = NominaSpec(receptor={**FALLECIDO, "RegimenFiscalReceptor": "616"}).xml(csd, NOW)
    assert "NOM11" in _codes(strict, with_616) and "CFDI40159" not in _codes(strict, with_616)


def test_cfdi40159_still_applies_outside_nomina(make_xml, codes):
    def generic(root):
        node(root, "cfdi:Receptor").attrib.update(dict(Rfc="XAXX010101000", Nombre="PUBLICO EN GENERAL",
                                                    DomicilioFiscalReceptor=root.get("LugarExpedicion"),
                                                    RegimenFiscalReceptor="605", UsoCFDI="S01"))
    assert "CFDI40159" in codes(make_xml(generic))


def test_regimen_not_registered_for_the_rfc_is_t160_not_cfdi40159(make_xml, strict):
    got = strict.validate(make_xml(lambda r: node(r, "cfdi:Receptor").set("RegimenFiscalReceptor", "626"))).findings
    assert [(f.code, f.value) for f in got] == [("T160", "626")]
    assert "regímenes del RFC" in got[0].message and got[0].message_en


def test_sandbox_padron_gives_xoji740919u48_regimen_605_for_nomina(csd, strict):
    """PACs' test environments stamp nómina to SAT's test RFC XOJI740919U48 / 76028 / 605."""
    receptor = {**RECEPTOR, "Rfc": "XOJI740919U48", "Nombre": "INGRID XODAR JIMENEZ",
                "DomicilioFiscalReceptor": "76028"}
    spec = NominaSpec(receptor=receptor)
    spec.nomina_receptor["Curp"] = "XOJI740919MQTDMN08"
    assert _codes(strict, spec.xml(csd, NOW)) == []
    assert "605" in SandboxPadron().lookup("XOJI740919U48").regimenes
