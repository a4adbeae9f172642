"""Every CLI error is one line `error <code>: <mensaje> / <message>` on stderr, exit 2 for usage or
configuration and 1 when timbra refused the document or the operation, never a Python traceback (issue #9).
Also: `timbra stamp` is a sandbox-only offline tool, and outside the sandbox the PAC key has no default
password."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from lxml import etree

from timbra.cli import main
from timbra.settings import Settings

BAD_MASTER_KEY = "esto-no-es-base64"


def cli(*args: str, **env: str | None) -> Result:
    return CliRunner(env=env).invoke(main, list(args))


def one_error_line(result: Result, code: str, status: int) -> str:
    """The error line; the command exited with `status`, printed no traceback and nothing else but the
    data-directory notice."""
    assert result.exit_code == status, (result.exit_code, result.stdout, result.stderr, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception  # no other exception escaped
    assert "Traceback" not in result.output
    lines = [l for l in result.stderr.splitlines() if not l.startswith("timbra: datos en")]
    assert lines and lines[0].startswith(f"error {code}: "), result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """A sandbox data directory with its keys and one demo invoice (timbra demo)."""
    d = tmp_path_factory.mktemp("cli-errors")
    r = cli("demo", "-o", str(d / "demo"), TIMBRA_DATA_DIR=str(d / "data"))
    assert r.exit_code == 0, r.output
    return d


def in_data(data: Path, *args: str, **env: str | None) -> Result:
    return cli(*args, TIMBRA_DATA_DIR=str(data / "data"), **env)


def test_validate_at_a_date_that_is_not_iso(data):
    factura = str(data / "demo" / "factura.xml")
    for at in ("yesterday", "2022-13-45"):
        line = one_error_line(in_data(data, "validate", "--at", at, factura), "T100", 2)
        assert repr(at) in line and "ISO 8601" in line and " / " in line


def test_seal_garbage_and_xml_that_is_not_a_cfdi(data, tmp_path):
    keys = data / "data" / "keys" / "csd"
    sealing = ["--cer", str(keys / "EKU9003173C9.cer"), "--key", str(keys / "EKU9003173C9.key"),
               "--password", "12345678a"]
    garbage = tmp_path / "garbage.xml"
    garbage.write_bytes(b"esto no es XML \x00\xff")
    one_error_line(in_data(data, "seal", str(garbage), *sealing), "301", 1)
    other = tmp_path / "other.xml"
    other.write_bytes(b"<pedido/>")
    assert "cfdi:Comprobante" in one_error_line(in_data(data, "seal", str(other), *sealing), "301", 1)
    # a certificate that is not one, a key that does not open
    one_error_line(in_data(data, "seal", str(other), "--cer", str(garbage), "--key", str(keys / "EKU9003173C9.key"),
                           "--password", "12345678a"), "T120", 1)
    one_error_line(in_data(data, "seal", str(other), *sealing[:4], "--password", "otra"), "T125", 1)


def test_usage_errors_are_one_coded_line(data):
    one_error_line(in_data(data, "demo", "--conceptos", "0"), "T100", 2)
    line = one_error_line(in_data(data, "issue"), "T100", 2)
    assert "issue --help" in line
    one_error_line(in_data(data, "validate", "/no/existe.xml"), "T100", 2)


@pytest.mark.parametrize("args", [("issue", "factura.json", "--account", "1"), ("worker",)])
def test_a_bad_master_key(data, args):
    (data / "factura.json").write_text("{}", encoding="utf-8")
    r = CliRunner(env={"TIMBRA_DATA_DIR": str(data / "data"), "TIMBRA_MASTER_KEY": BAD_MASTER_KEY})
    cwd = os.getcwd()
    os.chdir(data)
    try:
        result = r.invoke(main, list(args))
    finally:
        os.chdir(cwd)
    assert "TIMBRA_MASTER_KEY" in one_error_line(result, "T172", 2)
    assert BAD_MASTER_KEY not in result.output


def test_json_errors_stay_json(data):
    r = in_data(data, "accounts", "show", "999", "--json")
    assert r.exit_code == 1 and json.loads(r.stdout)["code"] == "T103"


def test_a_certificate_that_cannot_be_read_is_told_in_words(data, tmp_path):
    """cryptography's Rust ASN.1 error text (ParseError { kind: ... }) never reaches the user."""
    root = etree.fromstring((data / "demo" / "factura.xml").read_bytes())
    root.set("Certificado", "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA")
    bad = tmp_path / "cert.xml"
    bad.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    r = in_data(data, "validate", str(bad))
    assert r.exit_code == 1 and "CFDI40106" in r.stdout
    assert "ParseError" not in r.stdout and "asn1" not in r.stdout.lower()
    assert "no es un certificado X.509" in r.stdout


def test_stamp_is_a_sandbox_tool_that_says_so(data, tmp_path):
    factura = str(data / "demo" / "factura.xml")
    r = in_data(data, "stamp", factura, "-o", str(tmp_path / "a.xml"))
    assert r.exit_code == 0 and "sin validez fiscal, no se guarda" in r.stderr
    summary = json.loads(in_data(data, "stamp", factura, "-o", str(tmp_path / "b.xml"), "--json").stdout)
    assert summary["sandbox"] is True and summary["stored"] is False
    # a stamped document is refused with 307: one error line, then the findings
    line = one_error_line(in_data(data, "stamp", str(tmp_path / "a.xml")), "307", 1)
    assert "timbre previo" in line
    # outside the sandbox the command refuses to run
    one_error_line(in_data(data, "stamp", factura, TIMBRA_ENV="production"), "T173", 2)
    one_error_line(in_data(data, "demo", TIMBRA_ENV="production"), "T173", 2)


def test_production_has_no_default_pac_key_password(data, monkeypatch):
    monkeypatch.setenv("TIMBRA_ENV", "production")
    monkeypatch.delenv("TIMBRA_PAC_KEY_PASSWORD", raising=False)
    assert Settings.from_env().pac_key_password is None
    with pytest.raises(Exception) as refused:
        _ = Settings.from_env().pac_password
    assert getattr(refused.value, "code", None) == "T171"
    monkeypatch.setenv("TIMBRA_ENV", "sandbox")
    assert Settings.from_env().pac_password == "12345678a"  # the sandbox keys' password, no fiscal validity


def test_production_serve_refuses_to_start_without_the_pac_key_password(data):
    keys = data / "data" / "keys"
    env = {**os.environ, "TIMBRA_DATA_DIR": str(data / "data"), "TIMBRA_ENV": "production",
           "TIMBRA_PAC_CER": str(keys / "pac.cer"), "TIMBRA_PAC_KEY": str(keys / "pac.key"),
           "TIMBRA_MASTER_KEY": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "TIMBRA_PORT": "1"}
    env.pop("TIMBRA_PAC_KEY_PASSWORD", None)
    proc = subprocess.run([sys.executable, "-m", "timbra.cli", "serve"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error T171: "), proc.stderr
    # with the password it gets past the PAC key, and refuses the sandbox's PAC certificate (also coded;
    # tests/pac/test_production.py goes through every production check)
    proc = subprocess.run([sys.executable, "-m", "timbra.cli", "serve"], env={**env, "TIMBRA_PAC_KEY_PASSWORD":
                          "12345678a"}, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error T221: "), proc.stderr
