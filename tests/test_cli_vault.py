"""`timbra csd upload|list` and `timbra vault rotate` on SQLite and PostgreSQL, in process (CliRunner).

The data directory holds the sandbox CA (so the CLI's trust store accepts its CSDs) and, with no
TIMBRA_MASTER_KEY, the sandbox master key file the first command creates.
"""
from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from tests.test_cli_accounts import Run, _runner, failed_code, ok
from timbra.gateway.sandbox_ca import SandboxCA, save_credential
from timbra.pac.stamping import trust_store
from timbra.pac.vault import MasterKeys, Vault
from timbra.settings import Settings
from timbra.store.db import Database

RFC = "EKU9003173C9"
PASSWORD = "clave-de-la-llave-42"


@pytest.fixture
def env(db_url: str, tmp_path: Path, sandbox_ca: SandboxCA) -> dict[str, str | None]:
    sandbox_ca.save(tmp_path / "keys")
    return {"TIMBRA_DATABASE_URL": db_url, "TIMBRA_DATA_DIR": str(tmp_path), "TIMBRA_MASTER_KEY": None}


@pytest.fixture
def cli(env) -> Run:
    return _runner(env)


def test_upload_list_and_rotate(cli: Run, env, tmp_path: Path, sandbox_ca: SandboxCA, db_url: str):
    account = ok(cli("accounts", "create", "--kind", "emisor", "--name", "Escuela", "--rfc", RFC, "--json"))["id"]
    files = tmp_path / "files"
    first = sandbox_ca.issue(RFC, "ESCUELA KEMPER URGATE")  # valid from a day ago: the CLI runs on real time
    save_credential(first, files, "first", PASSWORD)
    second = sandbox_ca.issue(RFC, "ESCUELA KEMPER URGATE")
    (files / "second.pfx").write_bytes(pkcs12.serialize_key_and_certificates(
        b"csd", second.key.key, second.certificate.x509, None,
        serialization.BestAvailableEncryption(PASSWORD.encode())))

    up = cli("csd", "upload", "--account", str(account), "--cer", str(files / "first.cer"), "--key",
             str(files / "first.key"), "--password", PASSWORD, "--json")
    one = ok(up)
    assert (one["rfc"], one["no_certificado"], one["active"]) == (RFC, first.certificate.no_certificado, True)
    assert PASSWORD not in up.stdout
    two = ok(cli("csd", "upload", "--account", str(account), "--pfx", str(files / "second.pfx"),
                 "--password", PASSWORD, "--json"))
    listed = ok(cli("csd", "list", "--account", str(account), "--json"))["csd"]
    assert {c["id"]: c["active"] for c in listed} == {one["id"]: False, two["id"]: True}
    text = cli("csd", "list", "--account", str(account))
    assert text.exit_code == 0 and "ACTIVO" in text.stdout and second.certificate.no_certificado in text.stdout

    assert failed_code(cli("csd", "upload", "--account", str(account), "--cer", str(files / "first.cer"),
                           "--key", str(files / "first.key"), "--password", "otra", "--json")) == "T125"
    assert cli("csd", "upload", "--account", str(account), "--cer", str(files / "first.cer"),
               "--password", PASSWORD).exit_code == 2  # --cer needs --key

    # rotation: a new current key in front of the sandbox one the first command created
    sandbox_key = (tmp_path / "master.key").read_text(encoding="ascii").strip()
    new_key = f"nueva:{base64.b64encode(b'N' * 32).decode()}"
    rotated = _runner({**env, "TIMBRA_MASTER_KEY": f"{new_key},{sandbox_key}"})
    assert ok(rotated("vault", "rotate", "--json")) == {"rotated": 2, "master_key_id": "nueva"}
    assert ok(rotated("vault", "rotate", "--json"))["rotated"] == 0
    db = Database(db_url)
    try:
        vault = Vault(db, MasterKeys.parse(new_key), trust_store(Settings(data_dir=tmp_path)))
        cred = vault.credential(account, RFC)
        assert cred.certificate.der == second.certificate.der and second.certificate.verify(cred.sign(b"x"), b"x")
    finally:
        db.dispose()
