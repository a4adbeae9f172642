"""The CSD vault on SQLite and PostgreSQL: uploads (.cer/.key and .pfx) and every refusal, one active CSD per
RFC, tenancy, removal, what the database holds (no key, no password), master keys and their rotation, and
the migration that adds the table."""
from __future__ import annotations

import base64
import stat
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from tests.conftest import NOW
from timbra.cfdi.credentials import Credential
from timbra.cfdi.trust import TrustStore
from timbra.clock import FixedClock
from timbra.errors import TimbraError
from timbra.gateway.sandbox_ca import SandboxCA
from timbra.pac.accounts import SYSTEM_PRINCIPAL, Accounts, Principal
from timbra.pac.vault import MasterKeyError, MasterKeys, Sealed, Vault, associated_data, derived_key_id
from timbra.settings import Settings
from timbra.store.db import Database
from timbra.store.models import Base, CsdKey

RFC = "EKU9003173C9"
OTHER_RFC = "XIA190128J61"
PASSWORD = "Contraseña-Única-8f3k"  # distinctive, to look for it in the database
ISSUED = datetime(2025, 1, 1, tzinfo=timezone.utc)


def code_of(fn, *args, **kwargs) -> str:
    with pytest.raises(TimbraError) as exc:
        fn(*args, **kwargs)
    return exc.value.code


def key_file(cred: Credential, password: str = PASSWORD) -> bytes:
    """SAT's .key: PKCS#8 DER encrypted with the password."""
    return cred.key.to_der(password)


def pkcs8(cred: Credential) -> bytes:
    return cred.key.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())


def pfx_file(cred: Credential, password: str = PASSWORD) -> bytes:
    cert = cred.certificate.x509
    return pkcs12.serialize_key_and_certificates(b"csd", cred.key.key, cert, None,
                                                 serialization.BestAvailableEncryption(password.encode()))


# --- credentials made once: generating RSA keys is slow -------------------------------------------------

@dataclass(frozen=True)
class Creds:
    second: Credential      # another CSD of RFC (a renewal), valid from before NOW until 2030
    future: Credential      # a CSD of RFC valid only from after NOW
    fiel: Credential        # the e.firma of RFC
    other_rfc: Credential   # a CSD of an RFC the account does not have
    expired: Credential     # a CSD of RFC that expired before NOW
    untrusted: Credential   # a CSD of RFC from a CA nobody trusts


@pytest.fixture(scope="module")
def creds(sandbox_ca: SandboxCA) -> Creds:
    stranger = SandboxCA.create(now=datetime(2020, 1, 1, tzinfo=timezone.utc))
    return Creds(
        second=sandbox_ca.issue(RFC, "ESCUELA KEMPER URGATE", not_before=NOW - timedelta(days=30)),
        future=sandbox_ca.issue(RFC, "ESCUELA KEMPER URGATE", not_before=NOW + timedelta(days=30)),
        fiel=sandbox_ca.issue(RFC, "ESCUELA KEMPER URGATE", fiel=True, not_before=ISSUED),
        other_rfc=sandbox_ca.issue(OTHER_RFC, "XENON INDUSTRIAL ARTICLES", not_before=ISSUED),
        expired=sandbox_ca.issue(RFC, "ESCUELA KEMPER URGATE", not_before=datetime(2021, 1, 1, tzinfo=timezone.utc),
                                 not_after=datetime(2025, 1, 1, tzinfo=timezone.utc)),
        untrusted=stranger.issue(RFC, "ESCUELA KEMPER URGATE", not_before=ISSUED),
    )


@pytest.fixture
def accounts(db: Database, clock: FixedClock) -> Accounts:
    return Accounts(db, clock)


def new_emisor(accounts: Accounts, name: str, rfcs: list[str], shared: bool = False) -> Principal:
    made = accounts.create_account(SYSTEM_PRINCIPAL, kind="emisor", name=name, rfcs=rfcs, shared=shared)
    return Principal(made.account.id, "emisor")


@pytest.fixture
def who(accounts: Accounts) -> Principal:
    return new_emisor(accounts, "Escuela", [RFC])


@pytest.fixture
def master() -> MasterKeys:
    return MasterKeys.generate("m1")


@pytest.fixture
def vault(db: Database, master: MasterKeys, trust: TrustStore, clock: FixedClock, accounts: Accounts) -> Vault:
    return Vault(db, master, trust, clock, accounts=accounts)


def rows(db: Database) -> list[CsdKey]:
    with db.reader() as s:
        return list(s.scalars(sa.select(CsdKey).order_by(CsdKey.id)))


# --- uploads --------------------------------------------------------------------------------------------

def test_cer_and_key_upload_gives_a_credential_that_signs(vault: Vault, who: Principal, csd: Credential):
    info = vault.upload(who, csd.certificate.der, key_file(csd), PASSWORD)
    assert (info.rfc, info.no_certificado, info.active, info.expired) == (RFC, csd.certificate.no_certificado,
                                                                          True, False)
    assert info.valid_to == csd.certificate.not_after and info.name == "ESCUELA KEMPER URGATE"
    listed = vault.list(who)
    assert [i.id for i in listed] == [info.id]
    assert set(listed[0].as_dict()) == {"id", "account_id", "rfc", "no_certificado", "name", "valid_from",
                                        "valid_to", "active", "expired", "created_at"}

    cred = vault.credential(who.account_id, RFC)
    assert cred.certificate.der == csd.certificate.der
    message = b"||4.0|A|1|2026-11-24T12:00:00|...||"
    assert csd.certificate.verify(cred.sign(message), message)
    assert vault.credential(who.account_id, RFC) is cred  # the decrypted key stays in memory


def test_pfx_upload(vault: Vault, who: Principal, csd: Credential):
    info = vault.upload_pfx(who, pfx_file(csd), PASSWORD)
    assert info.active and info.no_certificado == csd.certificate.no_certificado
    cred = vault.credential(who.account_id, RFC)
    assert csd.certificate.verify(cred.sign(b"x"), b"x")


def test_refusals_have_their_codes_and_store_nothing(vault: Vault, who: Principal, csd: Credential,
                                                     creds: Creds):
    cases = {
        "T121": lambda: vault.upload(who, creds.fiel.certificate.der, key_file(creds.fiel), PASSWORD),
        "T125": lambda: vault.upload(who, csd.certificate.der, key_file(csd), "otra contraseña"),
        "T124": lambda: vault.upload(who, csd.certificate.der, key_file(creds.second), PASSWORD),
        "T122": lambda: vault.upload(who, creds.other_rfc.certificate.der, key_file(creds.other_rfc), PASSWORD),
        "T123": lambda: vault.upload(who, creds.expired.certificate.der, key_file(creds.expired), PASSWORD),
        "T126": lambda: vault.upload(who, creds.untrusted.certificate.der, key_file(creds.untrusted), PASSWORD),
        "T120": lambda: vault.upload(who, b"esto no es un certificado", key_file(csd), PASSWORD),
    }
    for expected, attempt in cases.items():
        assert code_of(attempt) == expected
    assert code_of(vault.upload_pfx, who, pfx_file(csd), "otra contraseña") == "T125"
    assert code_of(vault.upload_pfx, who, pfx_file(creds.fiel), PASSWORD) == "T121"
    assert code_of(vault.upload_pfx, who, b"\x30\x03\x02\x01\x03", PASSWORD) == "T125"
    assert rows(vault.db) == [] and vault.list(who) == []


def test_a_csd_not_valid_yet_or_gone_stale(vault: Vault, who: Principal, csd: Credential, creds: Creds,
                                           clock: FixedClock):
    assert code_of(vault.upload, who, creds.future.certificate.der, key_file(creds.future), PASSWORD) == "T123"
    vault.upload(who, csd.certificate.der, key_file(csd), PASSWORD)
    clock.advance(days=365 * 3)  # 2029-11: past csd's not_after (2028-12-31)
    assert code_of(vault.credential, who.account_id, RFC) == "T123"
    assert vault.list(who)[0].expired


# --- one active CSD per RFC -----------------------------------------------------------------------------

def test_newest_upload_is_active_and_activate_switches(vault: Vault, who: Principal, csd: Credential,
                                                       creds: Creds, clock: FixedClock):
    first = vault.upload(who, csd.certificate.der, key_file(csd), PASSWORD)
    second = vault.upload(who, creds.second.certificate.der, key_file(creds.second), PASSWORD)
    assert {i.id: i.active for i in vault.list(who)} == {first.id: False, second.id: True}
    assert vault.credential(who.account_id, RFC).certificate.der == creds.second.certificate.der

    assert vault.activate(who, first.id).active
    assert {i.id: i.active for i in vault.list(who)} == {first.id: True, second.id: False}
    assert vault.credential(who.account_id, RFC).certificate.der == csd.certificate.der

    again = vault.upload(who, creds.second.certificate.der, key_file(creds.second), PASSWORD)
    assert again.id == second.id and again.active  # the same certificate again: its row, active once more
    assert [r.active for r in rows(vault.db)] == [False, True]


def test_an_upload_retried_keeps_its_csd_active(vault: Vault, who: Principal, csd: Credential):
    """An ERP that repeats an upload (a timeout, a retry) must not leave its RFC without an active CSD."""
    first = vault.upload(who, csd.certificate.der, key_file(csd), PASSWORD)
    again = vault.upload_pfx(who, pfx_file(csd), PASSWORD)
    assert again.id == first.id and again.active
    assert [r.active for r in rows(vault.db)] == [True]
    assert vault.credential(who.account_id, RFC).certificate.der == csd.certificate.der


def test_one_active_per_account_and_rfc_is_a_database_rule(vault: Vault, who: Principal, csd: Credential,
                                                           creds: Creds, clock: FixedClock):
    vault.upload(who, csd.certificate.der, key_file(csd), PASSWORD)
    vault.upload(who, creds.second.certificate.der, key_file(creds.second), PASSWORD)
    with pytest.raises(sa.exc.IntegrityError), vault.db.session() as s:
        s.execute(sa.update(CsdKey).values(active=True))


def test_an_expired_csd_cannot_be_activated(vault: Vault, who: Principal, csd: Credential, creds: Creds,
                                            clock: FixedClock):
    first = vault.upload(who, csd.certificate.der, key_file(csd), PASSWORD)
    vault.upload(who, creds.second.certificate.der, key_file(creds.second), PASSWORD)
    clock.advance(days=365 * 2 + 200)  # 2029-06: first expired (2028-12-31), second valid until 2030
    assert code_of(vault.activate, who, first.id) == "T123"


# --- tenancy and removal --------------------------------------------------------------------------------

def test_another_account_cannot_see_use_activate_or_remove_it(vault: Vault, who: Principal, accounts: Accounts,
                                                              csd: Credential, clock: FixedClock):
    info = vault.upload(who, csd.certificate.der, key_file(csd), PASSWORD)
    vault.activate(who, info.id)
    intruder = new_emisor(accounts, "Otra", [RFC], shared=True)  # even with the same RFC (shared by the admin)
    assert vault.list(intruder) == []
    assert code_of(vault.list, intruder, account_id=who.account_id) == "T103"
    assert code_of(vault.activate, intruder, info.id) == "T103"
    assert code_of(vault.remove, intruder, info.id) == "T103"
    assert code_of(vault.credential, intruder.account_id, RFC) == "T127"
    assert code_of(vault.upload, intruder, csd.certificate.der, key_file(csd), PASSWORD,
                   account_id=who.account_id) == "T103"
    assert [i.id for i in vault.list(who)] == [info.id] and vault.list(who)[0].active


def test_a_distributor_manages_its_clients_csd(vault: Vault, accounts: Accounts, csd: Credential):
    dist = accounts.create_account(SYSTEM_PRINCIPAL, kind="distributor", name="Distribuidora")
    d = Principal(dist.account.id, "distributor")
    client = accounts.create_account(d, kind="emisor", name="Cliente", rfcs=[RFC])
    info = vault.upload(d, csd.certificate.der, key_file(csd), PASSWORD, account_id=client.account.id)
    assert info.account_id == client.account.id
    assert [i.id for i in vault.list(d, account_id=client.account.id)] == [info.id]
    vault.remove(d, info.id)
    assert vault.list(d, account_id=client.account.id) == []


def test_remove_erases_the_key(vault: Vault, who: Principal, csd: Credential):
    info = vault.upload(who, csd.certificate.der, key_file(csd), PASSWORD)
    vault.credential(who.account_id, RFC)
    vault.remove(who, info.id)
    assert vault.list(who) == []
    assert code_of(vault.credential, who.account_id, RFC) == "T127"
    assert code_of(vault.remove, who, info.id) == "T103"
    (row,) = rows(vault.db)
    assert (row.key_ciphertext, row.key_nonce, row.active) == (b"", b"", False) and row.removed_at is not None
    assert row.certificate == csd.certificate.der  # kept for the record

    back = vault.upload(who, csd.certificate.der, key_file(csd), PASSWORD)
    assert back.id == info.id and back.active
    assert csd.certificate.verify(vault.credential(who.account_id, RFC).sign(b"x"), b"x")


# --- what the database holds -----------------------------------------------------------------------------

def _everything_stored(db: Database, db_url: str) -> list[bytes]:
    """Every value of every row of every table as bytes, and on SQLite the database files themselves."""
    out: list[bytes] = []
    with db.reader() as s:
        for table in Base.metadata.sorted_tables:
            for row in s.execute(sa.select(table)):
                for value in row:
                    out.append(value if isinstance(value, bytes) else str(value).encode("utf-8"))
    if not db.is_postgres:
        path = db_url.removeprefix("sqlite:///")
        for suffix in ("", "-wal"):
            try:
                with open(path + suffix, "rb") as f:
                    out.append(f.read())
            except FileNotFoundError:
                pass
    return out


def test_the_database_holds_neither_the_key_nor_the_password(vault: Vault, who: Principal, csd: Credential,
                                                             db_url: str):
    vault.upload(who, csd.certificate.der, key_file(csd), PASSWORD)
    (row,) = rows(vault.db)
    plain = pkcs8(csd)
    stored = _everything_stored(vault.db, db_url)
    secrets_ = {"password utf-8": PASSWORD.encode("utf-8"), "password latin-1": PASSWORD.encode("latin-1"),
                "password utf-16": PASSWORD.encode("utf-16-le"), "pkcs8 key": plain,
                "a slice of the private key": plain[len(plain) // 2:len(plain) // 2 + 48],
                "the .key file": key_file(csd)}
    for what, secret in secrets_.items():
        assert not any(secret in blob for blob in stored), what
    with pytest.raises(ValueError):
        serialization.load_der_private_key(row.key_ciphertext, None)

    # Only the master key opens it: another key under the same id fails, and so does the right key for
    # another row (the associated data binds account and certificate).
    sealed = Sealed(row.master_key_id, row.key_nonce, row.key_ciphertext)
    aad = associated_data(row.account_id, row.no_certificado)
    assert vault.keys.decrypt(sealed, aad) == plain
    impostor = MasterKeys([(row.master_key_id, b"\x01" * 32)])
    with pytest.raises(InvalidTag):
        impostor.decrypt(sealed, aad)
    with pytest.raises(InvalidTag):
        vault.keys.decrypt(sealed, associated_data(row.account_id + 1, row.no_certificado))


def test_a_ciphertext_moved_to_another_row_does_not_decrypt(vault: Vault, who: Principal, accounts: Accounts,
                                                            csd: Credential, creds: Creds, clock: FixedClock):
    vault.upload(who, csd.certificate.der, key_file(csd), PASSWORD)
    other = new_emisor(accounts, "Xenon", [OTHER_RFC])
    vault.upload(other, creds.other_rfc.certificate.der, key_file(creds.other_rfc), PASSWORD)
    first, second = rows(vault.db)
    with vault.db.session() as s:
        s.execute(sa.update(CsdKey).where(CsdKey.id == second.id)
                  .values(key_nonce=first.key_nonce, key_ciphertext=first.key_ciphertext))
    assert code_of(vault.credential, other.account_id, OTHER_RFC) == "T900"
    assert vault.credential(who.account_id, RFC).certificate.der == csd.certificate.der


# --- master keys ---------------------------------------------------------------------------------------

def test_rotation_re_encrypts_under_the_current_key(db: Database, vault: Vault, who: Principal, master: MasterKeys,
                                                    csd: Credential, trust: TrustStore, clock: FixedClock):
    vault.upload(who, csd.certificate.der, key_file(csd), PASSWORD)
    (before,) = rows(db)
    assert before.master_key_id == "m1"

    rotated = MasterKeys.parse(f"m2:{base64.b64encode(b'2' * 32).decode()},{master.to_text()}")
    assert rotated.current_id == "m2"
    assert Vault(db, rotated, trust, clock).rotate() == 1
    (after,) = rows(db)
    assert after.master_key_id == "m2" and after.key_ciphertext != before.key_ciphertext

    only_new = Vault(db, MasterKeys.parse(f"m2:{base64.b64encode(b'2' * 32).decode()}"), trust, clock)
    assert csd.certificate.verify(only_new.credential(who.account_id, RFC).sign(b"x"), b"x")
    assert only_new.rotate() == 0
    assert code_of(Vault(db, master, trust, clock).credential, who.account_id, RFC) == "T900"  # old key alone


def test_master_keys_from_text():
    key = b"k" * 32
    b64 = base64.b64encode(key).decode()
    single = MasterKeys.parse(b64)
    assert single.current_id == derived_key_id(key) and single.ids == [derived_key_id(key)]
    two = MasterKeys.parse(f" nueva:{base64.b64encode(b'n' * 32).decode()} , {b64} ")
    assert two.ids == ["nueva", derived_key_id(key)] and two.current_id == "nueva"
    assert MasterKeys.parse(two.to_text()).ids == two.ids
    assert b64 not in repr(two)
    for bad in ("", base64.b64encode(b"short").decode(), "x:no-es-base64!", f"a:{b64},a:{b64}",
                f"mal id:{b64}"):
        with pytest.raises(MasterKeyError):
            MasterKeys.parse(bad)


def test_master_keys_from_settings(tmp_path):
    sandbox = Settings(data_dir=tmp_path)
    first = MasterKeys.from_settings(sandbox)
    path = tmp_path / "master.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert MasterKeys.from_settings(sandbox).to_text() == first.to_text()  # created once, then read
    secret = base64.b64encode(b'p' * 32).decode()
    configured = Settings(data_dir=tmp_path, master_key=f"prod:{secret}")
    assert MasterKeys.from_settings(configured).ids == ["prod"]
    assert secret not in repr(configured)  # settings get logged; the key must not
    with pytest.raises(MasterKeyError):
        MasterKeys.from_settings(Settings(environment="production", data_dir=tmp_path / "prod"))


# --- the migration ------------------------------------------------------------------------------------

def test_migration_0002_goes_down_and_up(db: Database, vault: Vault, who: Principal, csd: Credential):
    vault.upload(who, csd.certificate.der, key_file(csd), PASSWORD)
    head = db.revision()
    assert head >= "0002"
    db.downgrade("0001")
    tables = set(sa.inspect(db.engine).get_table_names())
    assert db.revision() == "0001" and "csd_keys" not in tables and "accounts" in tables
    db.upgrade()
    assert db.revision() == head and rows(db) == []
    vault.upload(who, csd.certificate.der, key_file(csd), PASSWORD)  # the account survived the round trip
    assert [r.active for r in rows(db)] == [True]
