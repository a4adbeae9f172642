"""Production refuses what belongs to the sandbox (issue #16): `timbra serve` with TIMBRA_ENV=production does
not start with the sandbox's PAC certificate (T221), without a master key of its own (T222) or with demo
accounts in its database (T223), each a coded line and exit status 2; the sandbox starts as before, and only
the sandbox makes (and prints) the demo accounts."""
from __future__ import annotations

import base64
import secrets
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from timbra.api.server import prepare
from timbra.cli import main
from timbra.errors import TimbraError
from timbra.gateway.sandbox_ca import create_sandbox_keys
from timbra.pac import production
from timbra.pac.vault import MASTER_KEY_FILE, sandbox_key_file
from timbra.settings import Settings

GOOD_KEY = base64.b64encode(secrets.token_bytes(32)).decode()


def _own_certificate(folder: Path) -> Path:
    """A certificate not of the sandbox CA (as SAT's would be, for this test: self-signed)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "PAC DE PRUEBA"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "SERVICIO DE ADMINISTRACION TRIBUTARIA")])
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(int.from_bytes(b"00001000000512345678", "big"))
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .sign(key, hashes.SHA256()))
    path = folder / "pac.cer"
    path.write_bytes(cert.public_bytes(serialization.Encoding.DER))
    return path


@pytest.fixture
def sandbox_dir(tmp_path: Path) -> Path:
    s = Settings(data_dir=tmp_path)
    create_sandbox_keys(s.keys_dir, pac_rfc=s.pac_rfc, password=s.pac_password)
    sandbox_key_file(tmp_path / MASTER_KEY_FILE)
    return tmp_path


def _prod(data_dir: Path, **kw) -> Settings:
    return Settings(environment="production", data_dir=data_dir, **kw)


def _code(settings: Settings, demo_users=lambda _s: []) -> str | None:
    try:
        production.check(settings, demo_users=demo_users)
    except TimbraError as exc:
        assert exc.message and exc.message_en and exc.message != exc.message_en
        return exc.code
    return None


def test_each_refusal(sandbox_dir: Path):
    keys = sandbox_dir / "keys"
    sandbox_pac = next(keys.glob("pac*.cer"), None) or next(p for p in keys.glob("*.cer") if "SPR" in p.name)
    own = _own_certificate(sandbox_dir)
    # the sandbox's PAC certificate, or none at all (the sandbox one would be made): T221
    assert _code(_prod(sandbox_dir, master_key=GOOD_KEY)) == "T221"
    assert _code(_prod(sandbox_dir, pac_cer=sandbox_pac, pac_key=sandbox_pac, master_key=GOOD_KEY)) == "T221"
    # PEM works as well as DER
    pem = sandbox_dir / "sandbox.pem"
    pem.write_bytes(x509.load_der_x509_certificate(sandbox_pac.read_bytes()).public_bytes(serialization.Encoding.PEM))
    assert _code(_prod(sandbox_dir, pac_cer=pem, pac_key=pem, master_key=GOOD_KEY)) == "T221"
    # an own certificate, but the master key missing, the sandbox's, or a placeholder: T222
    assert _code(_prod(sandbox_dir, pac_cer=own, pac_key=own)) == "T222"
    sandbox_master = (sandbox_dir / MASTER_KEY_FILE).read_text().strip()
    assert _code(_prod(sandbox_dir, pac_cer=own, pac_key=own, master_key=sandbox_master)) == "T222"
    assert _code(_prod(sandbox_dir, pac_cer=own, pac_key=own,
                       master_key=f"k2:{GOOD_KEY},{sandbox_master.split(',')[0]}")) == "T222"
    zeros = base64.b64encode(bytes(32)).decode()
    assert _code(_prod(sandbox_dir, pac_cer=own, pac_key=own, master_key=zeros)) == "T222"
    # demo accounts in the database: T223
    assert _code(_prod(sandbox_dir, pac_cer=own, pac_key=own, master_key=GOOD_KEY),
                 demo_users=lambda _s: ["demo"]) == "T223"
    # all well: no refusal; the sandbox is never checked
    assert _code(_prod(sandbox_dir, pac_cer=own, pac_key=own, master_key=GOOD_KEY)) is None
    assert _code(Settings(data_dir=sandbox_dir), demo_users=lambda _s: ["demo"]) is None


def test_demo_accounts_are_found_in_a_sandbox_database_reused(db_url: str, sandbox_dir: Path):
    sandbox = Settings(data_dir=sandbox_dir, database_url_override=db_url)
    assert production.demo_users_in_database(sandbox) == []
    assert prepare(sandbox) is not None  # the sandbox's first start: demo accounts
    assert production.demo_users_in_database(sandbox) == ["demo"]
    own = _own_certificate(sandbox_dir)
    prod = _prod(sandbox_dir, database_url_override=db_url, pac_cer=own, pac_key=own, master_key=GOOD_KEY)
    with pytest.raises(TimbraError) as refused:
        production.check(prod)
    assert refused.value.code == "T223" and refused.value.detail == {"usernames": ["demo"]}


def test_timbra_serve_refuses_with_a_coded_line(sandbox_dir: Path):
    env = {"TIMBRA_ENV": "production", "TIMBRA_DATA_DIR": str(sandbox_dir),
           "TIMBRA_DATABASE_URL": f"sqlite:///{sandbox_dir / 'prod.db'}", "TIMBRA_MASTER_KEY": None,
           "TIMBRA_PAC_CER": None, "TIMBRA_PAC_KEY": None, "TIMBRA_PAC_KEY_PASSWORD": None}
    r = CliRunner(env=env).invoke(main, ["serve", "--port", "1"])
    assert r.exit_code == 2 and "error T221" in r.stderr, r.output
    assert "Producción" in r.stderr and "Production" in r.stderr
    own = _own_certificate(sandbox_dir)
    r = CliRunner(env={**env, "TIMBRA_PAC_CER": str(own), "TIMBRA_PAC_KEY": str(own),
                       "TIMBRA_PAC_KEY_PASSWORD": "x" * 12}).invoke(main, ["serve"])
    assert r.exit_code == 2 and "error T222" in r.stderr, r.output
    assert "contraseña" not in r.output and "API key" not in r.output  # no demo account was made or printed
    assert not (sandbox_dir / "prod.db").exists() or production.demo_users_in_database(
        _prod(sandbox_dir, database_url_override=f"sqlite:///{sandbox_dir / 'prod.db'}")) == []
