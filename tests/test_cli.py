"""The CLI as a user runs it: a real subprocess in a temporary data directory."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DATA


def timbra(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "TIMBRA_DATA_DIR": str(cwd / "data")}
    proc = subprocess.run([sys.executable, "-m", "timbra.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("cli")
    timbra("keys", "sandbox", cwd=d)
    return d


def test_keys_demo_validate_stamp(workdir):
    manifest = json.loads(timbra("keys", "sandbox", "--json", cwd=workdir).stdout)
    assert manifest["pac"]["rfc"] == "SPR190613I52"
    assert {c["rfc"] for c in manifest["csd"]} >= {"EKU9003173C9", "HAÑ930228SM9"}
    out = timbra("demo", "-o", str(workdir / "demo"), cwd=workdir).stdout
    assert "UUID" in out
    factura = workdir / "demo" / "factura.xml"
    assert timbra("validate", str(factura), cwd=workdir).stdout.strip().endswith("OK")
    # the demo invoice was stamped already in `demo`, but the CLI's 307 memory is per process: stamp again
    res = json.loads(timbra("stamp", str(factura), "--json", "-o", str(workdir / "out.xml"), cwd=workdir).stdout)
    assert len(res["uuid"]) == 36
    stamped = workdir / "out.xml"
    assert b"TimbreFiscalDigital" in stamped.read_bytes()
    # the stamped file cannot be stamped again: 307, exit 1
    proc = timbra("stamp", str(stamped), "--json", cwd=workdir, check=False)
    assert proc.returncode == 1 and json.loads(proc.stdout)["code"] == "307"


def test_validate_reports_every_finding_and_exit_status(workdir, tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<no-es-un-cfdi/>")
    garbage = tmp_path / "garbage.xml"
    garbage.write_bytes(b"\x00\xff garbage")
    proc = timbra("validate", "--json", str(bad), str(garbage), cwd=workdir, check=False)
    assert proc.returncode == 1
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [l["findings"][0]["code"] for l in lines] == ["301", "301"]
    assert "Traceback" not in proc.stderr


def test_validate_a_folder_of_samples(workdir):
    proc = timbra("validate", "--at", "2021-12-08T12:00:00", "--json", str(DATA / "samples/comprobante40"),
                  cwd=workdir, check=False)
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(lines) == 35
    assert all("findings" in l for l in lines)
    assert "Traceback" not in proc.stderr


def test_progress_bar_for_many_files(workdir, tmp_path):
    src = (workdir / "demo" / "factura.xml")
    if not src.exists():
        timbra("demo", "-o", str(workdir / "demo"), cwd=workdir)
    for i in range(60):
        (tmp_path / f"f{i:03}.xml").write_bytes(src.read_bytes())
    proc = timbra("validate", "-q", str(tmp_path), cwd=workdir, check=False)
    assert "Validando" in proc.stderr and "60 archivos" in proc.stderr


def test_seal_command(workdir, tmp_path):
    from lxml import etree

    demo = workdir / "demo" / "factura.xml"
    if not demo.exists():
        timbra("demo", "-o", str(workdir / "demo"), cwd=workdir)
    root = etree.fromstring(demo.read_bytes())
    root.set("Folio", "777")
    unsealed = tmp_path / "u.xml"
    unsealed.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    keys = workdir / "data" / "keys" / "csd"
    timbra("seal", str(unsealed), "--cer", str(keys / "EKU9003173C9.cer"), "--key", str(keys / "EKU9003173C9.key"),
           "--password", "12345678a", cwd=workdir)
    assert timbra("validate", str(unsealed), cwd=workdir).returncode == 0


def test_validate_checks_the_padron_like_a_stamp(workdir, tmp_path):
    """`timbra validate` uses the same padrón as the stamp path: a receptor's name that is not the one SAT
    registered for its RFC is reported."""
    out = timbra("demo", "-o", str(tmp_path / "demo"), cwd=workdir).stdout
    assert "UUID" in out
    cer, key = (workdir / "data" / "keys" / "csd" / "EKU9003173C9.cer"), (workdir / "data" / "keys" / "csd" / "EKU9003173C9.key")
    xml = (tmp_path / "demo" / "factura.xml").read_text(encoding="utf-8")
    typo = tmp_path / "typo.xml"
    typo.write_text(xml.replace('Nombre="UNIVERSIDAD ROBOTICA ESPAÑOLA"', 'Nombre="UNIVERSIDAD ROBOTICA ESPANOLA"'),
                    encoding="utf-8")
    sealed = tmp_path / "typo-sealed.xml"
    proc = subprocess.run([sys.executable, "-m", "timbra.cli", "seal", str(typo), "--cer", str(cer), "--key", str(key),
                           "--password", "12345678a", "-o", str(sealed)],
                          env={**os.environ, "TIMBRA_DATA_DIR": str(workdir / "data")}, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    proc = timbra("validate", "--json", str(sealed), cwd=workdir, check=False)
    codes = [f["code"] for f in json.loads(proc.stdout)["findings"]]
    assert proc.returncode == 1 and set(codes) & {"CFDI40144", "CFDI40145"}, codes


def test_validate_says_what_it_could_not_check(workdir, tmp_path):
    """An RFC the sandbox's permissive padrón does not know is not checked against SAT's lists: the output
    says so rather than letting it look checked."""
    timbra("demo", "-o", str(tmp_path / "demo"), cwd=workdir)
    keys = workdir / "data" / "keys" / "csd"
    xml = (tmp_path / "demo" / "factura.xml").read_text(encoding="utf-8")
    other = tmp_path / "other.xml"
    other.write_text(re.sub(r'(<cfdi:Receptor[^>]*?)Rfc="[^"]+"', r'\1Rfc="MAS0810247C0"', xml), encoding="utf-8")
    sealed = tmp_path / "other-sealed.xml"
    proc = subprocess.run([sys.executable, "-m", "timbra.cli", "seal", str(other), "--cer", str(keys / "EKU9003173C9.cer"),
                           "--key", str(keys / "EKU9003173C9.key"), "--password", "12345678a", "-o", str(sealed)],
                          env={**os.environ, "TIMBRA_DATA_DIR": str(workdir / "data")}, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    text = timbra("validate", str(sealed), cwd=workdir, check=False).stdout
    assert "no evaluado" in text and "MAS0810247C0" in text
    line = json.loads(timbra("validate", "--json", str(sealed), cwd=workdir, check=False).stdout)
    assert [n["what"] for n in line["not_evaluated"]] == ["padrón:MAS0810247C0"]
