"""A caller can tell "not checked" from "passed": checks that could not run are said, with the reason."""
from timbra.pac.stamping import Certifier
from timbra.sat.padron import SandboxPadron

UNKNOWN = {"Rfc": "MAS0810247C0", "Nombre": "MADERAS ASERRADAS", "DomicilioFiscalReceptor": "06000",
           "RegimenFiscalReceptor": "601", "UsoCFDI": "G03"}


def _certifier(pac, trust, clock, padron):
    return Certifier(pac=pac, trust=trust, clock=clock, padron=padron)


def test_without_a_padron_its_rules_are_not_evaluated(make_xml, pac, trust, clock):
    result = _certifier(pac, trust, clock, None).validate(make_xml())
    assert result.findings == []
    assert [n.what for n in result.not_evaluated] == ["padrón"]
    assert "l_RFC" in result.not_evaluated[0].reason and "l_RFC" in result.not_evaluated[0].reason_en


def test_a_permissive_padron_says_which_rfc_it_did_not_check(make_xml, pac, trust, clock):
    result = _certifier(pac, trust, clock, SandboxPadron(permissive=True)).validate(make_xml(receptor=UNKNOWN))
    assert result.findings == []
    assert [n.what for n in result.not_evaluated] == ["padrón:MAS0810247C0"]


def test_a_checked_document_has_nothing_unevaluated(make_xml, pac, trust, clock):
    """SAT's test RFCs (the sample's Emisor and Receptor) are in the sandbox padrón: everything ran."""
    result = _certifier(pac, trust, clock, SandboxPadron(permissive=True)).validate(make_xml())
    assert result.findings == [] and result.not_evaluated == []


def test_a_strict_padron_refuses_instead_of_skipping(make_xml, pac, trust, clock):
    result = _certifier(pac, trust, clock, SandboxPadron(permissive=False)).validate(make_xml(receptor=UNKNOWN))
    assert result.findings and result.not_evaluated == []
