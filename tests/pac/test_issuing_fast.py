"""Issuing does nothing twice (issue #17) and loses nothing by it: the stamp path gets the sealed document
parsed, with the seal just made; the emisor is one statement; the bytes stored are the bytes answered, the
bytes the old way made; a retry, an expired CSD or a removed one fail as before."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from tests.conftest import NOW
from tests.pac.test_issuing import PASSWORD, body, env, independent_check  # noqa: F401 (env: a fixture)
from timbra.cfdi.sample import sealed_sample
from timbra.errors import TimbraError
from timbra.pac import issuing
from timbra.pac.accounts import SYSTEM_PRINCIPAL, Accounts, Principal
from timbra.pac.credits import Credits
from timbra.pac.issuing import IssueService
from timbra.pac.stamping import Certifier, StampService
from timbra.pac.vault import MasterKeys, Vault
from timbra.store import repo


@pytest.fixture
def prepared(monkeypatch) -> list[dict]:
    """The keyword arguments of every StampService.prepare."""
    calls: list[dict] = []
    real = StampService.prepare

    def spy(self, who, data, idempotency_key=None, **kw):  # noqa: ANN001, ANN202
        calls.append(kw)
        return real(self, who, data, idempotency_key, **kw)

    monkeypatch.setattr(StampService, "prepare", spy)
    return calls


def test_the_stamp_path_gets_what_issuing_knows_and_stores_what_it_answers(env, db, prepared, verifies):
    svc, who, _ = env
    r = svc.issue(who, body())
    (kw,) = prepared
    assert kw["parsed"] is not None and kw["known_seal"] is not None
    assert kw["known_seal"].covers(kw["parsed"])
    assert verifies == []  # the seal just made is not verified again by RSA
    with db.reader() as s:
        assert repo.cfdi_xml(s, who.account_id, r.uuid) == r.xml
    independent_check(r.xml)


def test_the_old_way_makes_the_same_bytes(env, monkeypatch, verifies):
    """Without the shortcut (a case seal_built does not cover) the document is sealed and stamped as before,
    into the very same bytes: the second issue of the same data at the same moment is the first one's retry."""
    svc, who, credits = env
    first = svc.issue(who, body())
    monkeypatch.setattr(issuing, "seal_built", lambda *a, **kw: None)
    again = svc.issue(who, body())
    assert again.replayed and again.uuid == first.uuid and again.xml == first.xml
    assert credits.balance(SYSTEM_PRINCIPAL, who.account_id).available == 9
    assert verifies == []
    other = svc.issue(who, body(Folio="otro"))
    assert verifies == [1]  # the old way: the stamp path verifies the seal
    independent_check(other.xml)


def test_same_data_same_moment_is_a_retry_and_a_new_moment_a_new_cfdi(env, clock):
    svc, who, credits = env
    first = svc.issue(who, body())
    assert svc.issue(who, body()).uuid == first.uuid
    clock.advance(seconds=1)
    later = svc.issue(who, body())
    assert not later.replayed and later.uuid != first.uuid
    assert credits.balance(SYSTEM_PRINCIPAL, who.account_id).available == 8


@pytest.fixture
def short_lived(db, pac, trust, clock, sandbox_ca):
    """An account whose CSD stops being valid a day after NOW."""
    accounts = Accounts(db, clock)
    credits = Credits(db, accounts, clock)
    vault = Vault(db, MasterKeys.generate(), trust, clock, accounts=accounts)
    svc = IssueService(db, StampService(db, Certifier(pac=pac, trust=trust, clock=clock), clock=clock), vault,
                       clock=clock)
    cred = sandbox_ca.issue("EKU9003173C9", "ESCUELA KEMPER URGATE", not_before=NOW - timedelta(days=30),
                            not_after=NOW + timedelta(days=1))
    acc = accounts.create_account(SYSTEM_PRINCIPAL, kind="emisor", name="E", rfcs=["EKU9003173C9"]).account
    credits.add_package(SYSTEM_PRINCIPAL, acc.id, 10)
    who = Principal(acc.id, "emisor")
    vault.upload(who, cred.certificate.der, cred.key.to_der(PASSWORD), PASSWORD)
    return svc, who, vault, credits


def test_a_csd_outside_its_validity_or_removed_fails_as_before(short_lived, clock):
    svc, who, vault, credits = short_lived
    assert not svc.issue(who, body()).replayed  # its key is now in the vault's memory
    clock.advance(days=2)
    with pytest.raises(TimbraError) as exc:
        svc.issue(who, body())
    assert exc.value.code == "T123"
    clock.advance(days=-2, seconds=1)
    (csd,) = vault.list(who)
    vault.remove(who, csd.id)
    with pytest.raises(TimbraError) as exc:
        svc.issue(who, body())
    assert exc.value.code == "T127"
    assert credits.balance(SYSTEM_PRINCIPAL, who.account_id).available == 9


def test_a_rotated_or_replaced_key_is_read_again(env, db, csd, sandbox_ca):
    """The vault's memory is keyed by the row's id, master key and nonce, read in issuing's one read: a new
    upload of the RFC's CSD (another certificate) seals from the next issue on."""
    svc, who, _ = env
    first = svc.issue(who, body())
    newer = sandbox_ca.issue("EKU9003173C9", "ESCUELA KEMPER URGATE", not_before=NOW - timedelta(days=2))
    svc.vault.upload(who, newer.certificate.der, newer.key.to_der(PASSWORD), PASSWORD)
    second = svc.issue(who, body(Folio="2"))
    assert f'NoCertificado="{csd.certificate.no_certificado}"'.encode() in first.xml
    assert f'NoCertificado="{newer.certificate.no_certificado}"'.encode() in second.xml
    independent_check(second.xml)


@contextmanager
def counting(db) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_issuing_costs_the_statements_of_a_stamp_and_one(env, db, csd, clock):
    """Issuing reads its emisor (the account's RFCs, their names and their active CSDs) in one statement;
    everything else is the stamp path's, as for a document already sealed."""
    svc, who, _ = env
    svc.issue(who, body(Folio="calentar"))  # first use: the vault's key, the pool
    with counting(db) as issued:
        svc.issue(who, body())
    with counting(db) as stamped:
        svc.stamps.stamp(who, sealed_sample(csd, clock.now(), folio="sellado"))
    assert len(issued) == len(stamped) + 1, (issued, stamped)
