"""timbra.cfdi.verify: a receptor checks a stamped CFDI (issue #9 item 16). Each check says ok, failed or
not_verifiable; the document's own TFD is not a 307, and the rules run as of FechaTimbrado."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from lxml import etree

from tests.conftest import DATA, NOW
from timbra.cfdi.tfd import fecha_timbrado
from timbra.cfdi.verify import verify

SAT_SAMPLES = [DATA / "samples/comprobante40/cfdv40-ejemplo-signed-tfd.xml",
               DATA / "samples/comprobante33/cfdv33-signed-tfd.xml"]


@pytest.fixture
def stamped(make_xml, certifier) -> bytes:
    return certifier.stamp(make_xml()).xml


@pytest.fixture
def check(certifier, pac):
    """verify() as the service runs it, a month after the stamp (the rules must still use FechaTimbrado)."""
    def run(data: bytes, certs=None):
        opts = replace(certifier.options(), now=NOW + timedelta(days=30))
        return verify(data, opts, {pac.certificate.no_certificado: pac.certificate} if certs is None else certs)
    return run


def statuses(result) -> dict[str, str]:
    return {c.name: c.status for c in result.checks}


def codes(result, name: str) -> list[str]:
    return [f.code for f in result.check(name).findings]


def test_a_cfdi_stamped_by_timbra_verifies(stamped, certifier, check):
    assert "307" in [f.code for f in certifier.validate(stamped).findings]  # what `validate` says
    result = check(stamped)
    assert result.verified, result.as_dict()
    assert set(statuses(result).values()) == {"ok"} and len(result.checks) == 6
    assert result.fecha_timbrado == fecha_timbrado(NOW) and result.as_of == NOW
    assert result.as_dict()["verified"] is True


def test_a_tampered_tfd_fails_sello_sat(stamped, check):
    root = etree.fromstring(stamped)
    tfd = root.find(".//{http://www.sat.gob.mx/TimbreFiscalDigital}TimbreFiscalDigital")
    tfd.set("UUID", "00000000-0000-4000-8000-000000000000")
    result = check(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    assert not result.verified
    assert statuses(result)["sello_sat"] == "failed" and codes(result, "sello_sat") == ["T166"]
    assert statuses(result)["sello"] == "ok"


def test_a_tfd_for_another_sello_fails_timbre(stamped, check):
    root = etree.fromstring(stamped)
    tfd = root.find(".//{http://www.sat.gob.mx/TimbreFiscalDigital}TimbreFiscalDigital")
    sello = tfd.get("SelloCFD")
    tfd.set("SelloCFD", ("B" if sello[0] == "A" else "A") + sello[1:])  # another sello, whatever the first char
    result = check(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    assert codes(result, "timbre") == ["T164"] and codes(result, "sello_sat") == ["T166"]


def test_a_tampered_comprobante_fails_sello(stamped, check):
    result = check(stamped.replace(b'Folio="', b'Folio="9', 1))
    assert not result.verified
    assert statuses(result)["sello"] == "failed" and codes(result, "sello") == ["CFDI40102"]
    assert statuses(result)["sello_sat"] == "ok"  # the TFD still matches the (unchanged) Sello


def test_an_unknown_pac_certificate_is_not_verifiable(stamped, check):
    result = check(stamped, certs={})
    assert not result.verified
    assert statuses(result)["sello_sat"] == "not_verifiable" and codes(result, "sello_sat") == ["T165"]
    assert {n: s for n, s in statuses(result).items() if n != "sello_sat"} == {
        "estructura": "ok", "timbre": "ok", "sello": "ok", "certificado": "ok", "reglas": "ok"}


def test_an_unstamped_cfdi_fails_timbre(make_xml, check):
    result = check(make_xml())
    assert codes(result, "timbre") == ["T163"] and statuses(result)["sello_sat"] == "not_verifiable"


def test_garbage_fails_structure_and_nothing_else_is_verifiable(check):
    result = check(b"<no-es-un-cfdi/>")
    assert statuses(result) == {"estructura": "failed", "timbre": "not_verifiable", "sello": "not_verifiable",
                                "certificado": "not_verifiable", "sello_sat": "not_verifiable",
                                "reglas": "not_verifiable"}


@pytest.mark.parametrize("path", SAT_SAMPLES, ids=lambda p: p.name)
def test_sats_stamped_samples_seal_ok_and_sello_sat_not_verifiable(path, check):
    result = check(path.read_bytes())
    assert statuses(result)["sello"] == "ok"
    assert statuses(result)["timbre"] == "ok"
    assert statuses(result)["sello_sat"] == "not_verifiable" and codes(result, "sello_sat") == ["T165"]
    assert "307" not in [f.code for f in result.findings]
    assert result.uuid and not result.verified
