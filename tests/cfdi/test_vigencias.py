"""Validation as of an instant uses the versions and complements in force then (issue #9 item 6), and a
CFDI 3.3 is answered with SAT's 3.3 codes, never CFDI40xxx."""
from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import DATA
from tests.pac.test_stamping import cfdi33
from timbra.cfdi.rules import REGISTRY, Rule
from timbra.cfdi.validate import Options, validate
from timbra.sat.vigencias import NS_CCE11, NS_CCE20, comercio_exterior_en_vigor, en_vigor

SAMPLES33 = sorted((DATA / "samples" / "comprobante33").glob("*.xml"))
CCE11_SAMPLE = DATA / "samples" / "comprobante40" / "cfdv40-cce11.xml"
AS_OF_2023 = datetime(2023, 6, 1, 18, 0, tzinfo=timezone.utc)
AS_OF_2026 = datetime(2026, 11, 24, 18, 0, tzinfo=timezone.utc)


def _codes(data: bytes, trust, now: datetime, **kw) -> list[str]:
    return [f.code for f in validate(data, Options(trust=trust, now=now, **kw)).findings]


def test_the_table_gives_sats_dates():
    assert en_vigor(NS_CCE11, date(2024, 1, 17)) and not en_vigor(NS_CCE11, date(2024, 1, 18))
    assert comercio_exterior_en_vigor(date(2023, 6, 1)) == {NS_CCE11}
    assert comercio_exterior_en_vigor(date(2026, 11, 24)) == {NS_CCE20}
    assert en_vigor("3.3", date(2023, 3, 31)) and not en_vigor("3.3", date(2023, 4, 1))
    assert not en_vigor("4.0", date(2021, 12, 31)) and en_vigor("4.0", date(2026, 11, 24))


def _exportacion_02(data: bytes) -> bytes:
    return data.replace(b'Exportacion="03"', b'Exportacion="02"')


def test_comercio_exterior_11_is_accepted_as_of_2023_and_not_today(trust):
    data = _exportacion_02(CCE11_SAMPLE.read_bytes())
    then = _codes(data, trust, AS_OF_2023)
    assert "CFDI40122" not in then and "T161" not in then
    today = _codes(data, trust, AS_OF_2026)
    assert "CFDI40122" in today and "T161" in today


def test_a_cfdi33_as_of_its_own_date_passes_and_not_today(sandbox_ca, trust):
    cred = sandbox_ca.issue("EKU9003173C9", "ESCUELA KEMPER URGATE",
                            not_before=datetime(2021, 1, 1, tzinfo=timezone.utc))
    xml = cfdi33(cred, "2022-06-01T11:00:00")  # Mexico City still had summer time: 16:00 UTC
    assert _codes(xml, trust, datetime(2022, 6, 1, 18, 0, tzinfo=timezone.utc)) == []
    assert "T001" in _codes(xml, trust, AS_OF_2026)


def _mutations(data: bytes) -> list[bytes]:
    out = [data]
    for attr, value in (("Certificado", "AAAA"), ("Folio", "X-999"), ("Sello", "no es base64"),
                        ("NoCertificado", "00001000000000000001")):
        r = etree.fromstring(data)
        r.set(attr, value)
        out.append(etree.tostring(r, xml_declaration=True, encoding="UTF-8"))
    return out


@pytest.mark.parametrize("path", SAMPLES33, ids=lambda p: p.name)
@pytest.mark.parametrize("now", [datetime(2017, 9, 15, 18, tzinfo=timezone.utc), AS_OF_2026], ids=["2017", "2026"])
def test_cfdi33_findings_never_carry_cfdi40_codes(path: Path, now, trust):
    for data in _mutations(path.read_bytes()):
        got = _codes(data, trust, now)
        assert not [c for c in got if c.startswith(("CFDI40", "CFDI140"))], (path.name, got)


def test_cfdi33_seal_and_certificate_use_sats_33_codes(trust):
    signed = (DATA / "samples/comprobante33/cfdv33-signed-tfd.xml").read_bytes()
    assert "CFDI33102" not in _codes(signed, trust, AS_OF_2026)  # SAT's sample: its Sello verifies
    root = etree.fromstring(signed)
    root.set("Folio", "X-999")
    assert "CFDI33102" in _codes(etree.tostring(root), trust, AS_OF_2026)
    root.set("Certificado", "AAAA")
    assert "CFDI33105" in _codes(etree.tostring(root), trust, AS_OF_2026)


@pytest.mark.rule_crash
def test_a_rule_failing_on_a_cfdi33_is_a_neutral_code(trust, monkeypatch):
    def boom(ctx):
        raise RuntimeError("boom")
    monkeypatch.setattr("timbra.cfdi.rules.REGISTRY", [*REGISTRY, Rule(("X",), boom, "3.3")])
    got = _codes((DATA / "samples/comprobante33/cfdv33-signed-tfd.xml").read_bytes(), trust, AS_OF_2026)
    assert "T162" in got and "CFDI40999" not in got


def test_a_cfdi33_before_its_start_is_403_not_t001(trust):
    """SAT's 3.3 sample stamped 2017-05-10, validated then: 3.3 did not exist yet (403), it was not retired."""
    signed = (DATA / "samples/comprobante33/cfdv33-signed-tfd.xml").read_bytes()
    got = _codes(signed, trust, datetime(2017, 5, 10, 20, tzinfo=timezone.utc), received=True)
    assert "403" in got and "T001" not in got and "307" not in got
