"""`timbra verify` (issue #9 item 16) and `timbra validate --at` choosing the rules in force then (item 6),
as a user runs them: a real subprocess in a temporary data directory."""
import json

import pytest

from tests.conftest import DATA
from tests.test_cli import timbra


@pytest.fixture(scope="module")
def factura(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli-verify")
    timbra("keys", "sandbox", cwd=d)
    timbra("demo", "-o", str(d / "demo"), cwd=d)
    timbra("stamp", str(d / "demo" / "factura.xml"), "-o", str(d / "timbrada.xml"), cwd=d)
    return d, d / "timbrada.xml"


def test_verify_a_cfdi_stamped_by_timbra(factura):
    d, xml = factura
    assert timbra("validate", str(xml), cwd=d, check=False).returncode == 1  # 307: already stamped
    proc = timbra("verify", str(xml), cwd=d)
    assert "VERIFICADO" in proc.stdout and "NO VERIFICADO" not in proc.stdout
    line = json.loads(timbra("verify", "--json", str(xml), cwd=d).stdout)
    assert line["verified"] is True
    assert {c["check"]: c["status"] for c in line["checks"]} == {
        "estructura": "ok", "timbre": "ok", "sello": "ok", "certificado": "ok", "sello_sat": "ok", "reglas": "ok"}


def test_verify_a_tampered_cfdi_exits_1(factura, tmp_path):
    d, xml = factura
    bad = tmp_path / "bad.xml"
    bad.write_bytes(xml.read_bytes().replace(b'Folio="', b'Folio="9', 1))
    proc = timbra("verify", "--json", str(bad), cwd=d, check=False)
    assert proc.returncode == 1
    checks = {c["check"]: c for c in json.loads(proc.stdout)["checks"]}
    assert checks["sello"]["status"] == "failed" and checks["sello"]["findings"][0]["code"] == "CFDI40102"


def test_verify_sats_sample_says_not_verifiable(factura):
    d, _ = factura
    proc = timbra("verify", str(DATA / "samples/comprobante40/cfdv40-ejemplo-signed-tfd.xml"), cwd=d, check=False)
    assert proc.returncode == 1
    assert "sello_sat    NO VERIFICABLE" in proc.stdout and "T165" in proc.stdout
    assert "sello        OK" in proc.stdout and "Traceback" not in proc.stderr


def test_validate_at_a_date_uses_the_complements_in_force_then(factura, tmp_path):
    d, _ = factura
    xml = tmp_path / "cce11.xml"
    xml.write_bytes((DATA / "samples/comprobante40/cfdv40-cce11.xml").read_bytes()
                    .replace(b'Exportacion="03"', b'Exportacion="02"'))

    def found(at: str) -> set[str]:
        proc = timbra("validate", "--json", "--at", at, str(xml), cwd=d, check=False)
        return {f["code"] for f in json.loads(proc.stdout)["findings"]}

    assert not {"CFDI40122", "T161"} & found("2023-06-01T18:00:00")
    assert {"CFDI40122", "T161"} <= found("2026-11-24T18:00:00")
