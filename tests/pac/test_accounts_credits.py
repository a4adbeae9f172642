"""Accounts, roles, passwords, API keys and credits, on SQLite and PostgreSQL."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from tests.conftest import NOW
from timbra.errors import TimbraError
from timbra.pac.accounts import KEY_CACHE_SECONDS, SYSTEM_PRINCIPAL, Accounts, Principal
from timbra.pac.credits import Credits, spend


@pytest.fixture
def accounts(db, clock):
    return Accounts(db, clock)


@pytest.fixture
def credits(db, accounts, clock):
    return Credits(db, accounts, clock)


def code_of(fn, *args, **kw) -> str:
    with pytest.raises(TimbraError) as exc:
        fn(*args, **kw)
    return exc.value.code


def principal(new) -> Principal:
    return Principal(new.account.id, new.account.kind, new.user.id if new.user else None)


def test_roles_distributor_creates_only_its_emisores(accounts):
    dist = accounts.create_account(SYSTEM_PRINCIPAL, kind="distributor", name="Dist", username="dist@x.mx",
                                   password="distpass1234")
    d = principal(dist)
    client = accounts.create_account(d, kind="emisor", name="Cliente", rfcs=["eku9003173c9"], username="c@x.mx")
    assert client.account.parent_id == dist.account.id
    assert client.password and len(client.password) >= 10  # generated, shown once
    assert accounts.rfcs(client.account.id) == ["EKU9003173C9"]
    assert code_of(accounts.create_account, d, kind="distributor", name="Otro") == "T102"
    c = principal(client)
    assert code_of(accounts.create_account, c, kind="emisor", name="Nope") == "T102"
    other = accounts.create_account(SYSTEM_PRINCIPAL, kind="emisor", name="Ajeno")
    assert accounts.can_manage(d, client.account.id)
    assert not accounts.can_manage(d, other.account.id)
    assert [a.id for a in accounts.list(d)] == [client.account.id]
    assert code_of(accounts.get, c, other.account.id) == "T103"
    assert code_of(accounts.create_account, SYSTEM_PRINCIPAL, kind="emisor", name="Dup", username="c@x.mx") == "T110"
    assert code_of(accounts.create_account, SYSTEM_PRINCIPAL, kind="emisor", name="X", rfcs=["NOPE"]) == "T100"


def test_passwords_and_api_keys(accounts, clock):
    new = accounts.create_account(SYSTEM_PRINCIPAL, kind="emisor", name="E", username="u@x.mx",
                                  password="correct horse")
    assert accounts.authenticate("u@x.mx", "correct horse").account_id == new.account.id
    assert accounts.authenticate("u@x.mx", "correct horse").account_id == new.account.id  # remembered
    assert code_of(accounts.authenticate, "u@x.mx", "wrong horse") == "T101"
    assert code_of(accounts.authenticate, "nobody@x.mx", "correct horse") == "T101"
    who = accounts.authenticate("u@x.mx", "correct horse")
    assert code_of(accounts.change_password, who, "bad current", "new password 1") == "T101"
    assert code_of(accounts.change_password, who, "correct horse", "short") == "T111"
    accounts.change_password(who, "correct horse", "new password 1")
    assert code_of(accounts.authenticate, "u@x.mx", "correct horse") == "T101"  # the cache follows the hash
    assert accounts.authenticate("u@x.mx", "new password 1").user_id == who.user_id

    made = accounts.create_key(who, "erp")
    assert made.key.startswith("tbk_") and made.key not in (made.record.key_hash,)
    assert accounts.authenticate_key(made.key) == who
    assert code_of(accounts.authenticate_key, made.key[:-1] + ("A" if made.key[-1] != "A" else "B")) == "T101"
    assert code_of(accounts.authenticate_key, "garbage") == "T101"
    other_process = Accounts(accounts.db, accounts.clock)
    assert other_process.authenticate_key(made.key) == who
    accounts.revoke_key(who, made.record.id)
    assert code_of(accounts.authenticate_key, made.key) == "T101"  # at once where it was revoked
    assert other_process.authenticate_key(made.key) == who  # elsewhere within KEY_CACHE_SECONDS...
    clock.advance(seconds=KEY_CACHE_SECONDS + 1)
    assert code_of(other_process.authenticate_key, made.key) == "T101"  # ...then refused


def test_a_login_verified_lately_is_answered_from_memory(accounts, clock, monkeypatch):
    """FEL's and Finkok's SOAP clients send user and password with every call: within KEY_CACHE_SECONDS a login
    verified before needs neither argon2 nor the database; a password change or a suspension ends it at once in
    the process that made it and within that time in the others, as for API keys."""
    new = accounts.create_account(SYSTEM_PRINCIPAL, kind="emisor", name="E", username="u@x.mx",
                                  password="correct horse")
    other_process = Accounts(accounts.db, accounts.clock)
    who = accounts.authenticate("u@x.mx", "correct horse")
    assert other_process.authenticate("u@x.mx", "correct horse") == who
    assert accounts.cached_login("u@x.mx", "correct horse") == who
    assert accounts.cached_login("u@x.mx", "correct horsE") is None
    assert accounts.cached_login("u@x.mx" + "c", "orrect horse") is None  # the split matters
    with monkeypatch.context() as m:
        m.setattr(accounts.db, "reader", lambda: (_ for _ in ()).throw(AssertionError("no database")))
        assert accounts.authenticate("u@x.mx", "correct horse") == who

    accounts.change_password(who, "correct horse", "new password 1")
    assert code_of(accounts.authenticate, "u@x.mx", "correct horse") == "T101"  # at once here
    assert other_process.authenticate("u@x.mx", "correct horse") == who  # elsewhere within KEY_CACHE_SECONDS...
    clock.advance(seconds=KEY_CACHE_SECONDS + 1)
    assert code_of(other_process.authenticate, "u@x.mx", "correct horse") == "T101"  # ...then refused
    assert other_process.cached_login("u@x.mx", "correct horse") is None  # an expired entry answers nothing

    assert accounts.authenticate("u@x.mx", "new password 1") == who
    accounts.set_active(SYSTEM_PRINCIPAL, new.account.id, False)
    assert code_of(accounts.authenticate, "u@x.mx", "new password 1") == "T101"


def test_packages_spend_first_expiring_and_never_below_zero(db, accounts, credits, clock):
    e = accounts.create_account(SYSTEM_PRINCIPAL, kind="emisor", name="E").account
    late = credits.add_package(SYSTEM_PRINCIPAL, e.id, 5, expiry=NOW + timedelta(days=300))
    soon = credits.add_package(SYSTEM_PRINCIPAL, e.id, 2, expiry=NOW + timedelta(days=10))
    future = credits.add_package(SYSTEM_PRINCIPAL, e.id, 9, activation=NOW + timedelta(days=1))
    assert credits.balance(SYSTEM_PRINCIPAL, e.id).available == 7
    spent = []
    for _ in range(7):
        with db.session() as s:
            spent.append(spend(s, e.id, clock.now()))
    assert spent == [soon.id] * 2 + [late.id] * 5
    with db.session() as s:
        assert code_of(spend, s, e.id, clock.now()) == "T104"
    clock.advance(days=2)
    assert credits.balance(SYSTEM_PRINCIPAL, e.id).available == 9
    views = {p.id: p for p in credits.balance(SYSTEM_PRINCIPAL, e.id).packages}
    assert (views[late.id].used, views[late.id].left) == (5, 0) and views[future.id].active


def test_rolled_back_stamp_spends_nothing(db, accounts, credits, clock):
    e = accounts.create_account(SYSTEM_PRINCIPAL, kind="emisor", name="E").account
    credits.add_package(SYSTEM_PRINCIPAL, e.id, 1)
    with pytest.raises(RuntimeError), db.session() as s:
        spend(s, e.id, clock.now())
        raise RuntimeError("storage failed after spending")
    assert credits.balance(SYSTEM_PRINCIPAL, e.id).available == 1


def test_distributor_transfers_from_its_packages(accounts, credits):
    dist = accounts.create_account(SYSTEM_PRINCIPAL, kind="distributor", name="D", username="d@x.mx",
                                   password="distpass1234")
    d = principal(dist)
    client = accounts.create_account(d, kind="emisor", name="C").account
    stranger = accounts.create_account(SYSTEM_PRINCIPAL, kind="emisor", name="S").account
    p1 = credits.add_package(SYSTEM_PRINCIPAL, dist.account.id, 3, expiry=NOW + timedelta(days=30))
    credits.add_package(SYSTEM_PRINCIPAL, dist.account.id, 1000, expiry=NOW + timedelta(days=365))
    made = credits.transfer(d, client.id, 10)
    assert [(p.size, p.source_id) for p in made][0] == (3, p1.id) and sum(p.size for p in made) == 10
    assert made[0].expiry == p1.expiry
    assert credits.balance(d, client.id).available == 10
    assert credits.balance(d).available == 993
    assert code_of(credits.transfer, d, client.id, 10_000) == "T112"
    assert code_of(credits.transfer, d, stranger.id, 1) == "T103"
    assert code_of(credits.add_package, d, client.id, 100) == "T102"
    assert code_of(credits.balance, d, stranger.id) == "T103"


def test_parallel_spending_never_overspends(db, accounts, credits, clock):
    """Many threads spend at once from an account with few credits split over packages."""
    e = accounts.create_account(SYSTEM_PRINCIPAL, kind="emisor", name="E").account
    for size in (3, 2, 2):
        credits.add_package(SYSTEM_PRINCIPAL, e.id, size)
    ok, refused, barrier = [], [], threading.Barrier(16)

    def worker():
        barrier.wait()
        try:
            with db.session() as s:
                ok.append(spend(s, e.id, clock.now()))
        except TimbraError as exc:
            refused.append(exc.code)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ok) == 7 and refused == ["T104"] * 9
    b = credits.balance(SYSTEM_PRINCIPAL, e.id)
    assert b.available == 0 and all(p.used == p.size for p in b.packages)


# --- who adds RFCs and users; one account per RFC (issue 9, item 1) -----------------------------------------

def test_an_emisor_cannot_add_rfcs_or_users_to_itself(accounts):
    own = accounts.create_account(SYSTEM_PRINCIPAL, kind="emisor", name="E", rfcs=["EKU9003173C9"],
                                  username="e@x.mx", password="emisorpass1")
    e = principal(own)
    assert code_of(accounts.add_rfc, e, own.account.id, "XIA190128J61") == "T102"
    assert code_of(accounts.add_user, e, own.account.id, "second@x.mx", "otra clave larga") == "T102"
    assert accounts.rfcs(own.account.id) == ["EKU9003173C9"]
    assert code_of(accounts.authenticate, "second@x.mx", "otra clave larga") == "T101"
    # what stays its own: reading itself, its password, its API keys
    assert accounts.get(e, own.account.id)[1] == ["EKU9003173C9"]
    accounts.change_password(e, "emisorpass1", "emisorpass2")
    key = accounts.create_key(e, "erp")
    assert [k.id for k in accounts.list_keys(e)] == [key.record.id]
    accounts.revoke_key(e, key.record.id)
    # another account stays unknown to it (T103, not T102)
    other = accounts.create_account(SYSTEM_PRINCIPAL, kind="emisor", name="O")
    assert code_of(accounts.add_rfc, e, other.account.id, "XIA190128J61") == "T103"
    assert code_of(accounts.add_user, e, other.account.id, "x@x.mx") == "T103"


def test_the_admin_and_the_accounts_distributor_add_rfcs_and_users(accounts):
    dist = accounts.create_account(SYSTEM_PRINCIPAL, kind="distributor", name="D", username="d@x.mx",
                                   password="distpass1234")
    d = principal(dist)
    client = accounts.create_account(d, kind="emisor", name="C").account
    stranger = accounts.create_account(SYSTEM_PRINCIPAL, kind="emisor", name="S").account
    accounts.add_rfc(d, client.id, "eku9003173c9", nombre="  ESCUELA   KEMPER URGATE ")
    accounts.add_user(d, client.id, "c@x.mx", "clave del cliente")
    accounts.add_rfc(SYSTEM_PRINCIPAL, client.id, "XIA190128J61")
    accounts.add_user(SYSTEM_PRINCIPAL, client.id, "c2@x.mx", "clave del cliente")
    assert accounts.rfcs(client.id) == ["EKU9003173C9", "XIA190128J61"]
    assert accounts.authenticate("c@x.mx", "clave del cliente").account_id == client.id
    assert code_of(accounts.add_rfc, d, stranger.id, "URE180429TM6") == "T103"
    assert code_of(accounts.add_user, d, stranger.id, "s@x.mx") == "T103"
    with accounts.db.reader() as s:
        from timbra.store import repo

        assert repo.account_rfc(s, client.id, "EKU9003173C9").nombre == "ESCUELA KEMPER URGATE"
        assert repo.account_rfc(s, client.id, "XIA190128J61").nombre is None


def test_an_rfc_belongs_to_one_account_unless_the_admin_shares_it(accounts):
    dist = accounts.create_account(SYSTEM_PRINCIPAL, kind="distributor", name="D", username="d@x.mx",
                                   password="distpass1234")
    d = principal(dist)
    holder = accounts.create_account(SYSTEM_PRINCIPAL, kind="emisor", name="Holder", rfcs=["EKU9003173C9"]).account
    client = accounts.create_account(d, kind="emisor", name="C").account
    # a distributor (or the admin without saying so) cannot put it in a second account, however it asks
    assert code_of(accounts.add_rfc, d, client.id, "EKU9003173C9") == "T140"
    assert code_of(accounts.add_rfc, SYSTEM_PRINCIPAL, client.id, "eku9003173c9") == "T140"
    assert code_of(accounts.create_account, d, kind="emisor", name="C2", rfcs=["EKU9003173C9"]) == "T140"
    assert code_of(accounts.create_account, SYSTEM_PRINCIPAL, kind="emisor", name="C3",
                   rfcs=["EKU9003173C9"]) == "T140"
    # only the admin may say `shared`
    assert code_of(accounts.add_rfc, d, client.id, "EKU9003173C9", shared=True) == "T102"
    assert code_of(accounts.create_account, d, kind="emisor", name="C4", rfcs=["EKU9003173C9"],
                   shared=True) == "T102"
    assert accounts.rfcs(client.id) == [] and len(accounts.list(d)) == 1  # nothing was created
    accounts.add_rfc(SYSTEM_PRINCIPAL, client.id, "EKU9003173C9", shared=True)
    assert accounts.rfcs(client.id) == ["EKU9003173C9"] == accounts.rfcs(holder.id)
    accounts.add_rfc(d, client.id, "EKU9003173C9")  # already its own: nothing to refuse
    shared = accounts.create_account(SYSTEM_PRINCIPAL, kind="emisor", name="C5", rfcs=["EKU9003173C9"], shared=True)
    assert accounts.rfcs(shared.account.id) == ["EKU9003173C9"]


def test_the_database_keeps_one_owner_per_rfc(accounts):
    """Two accounts adding the same RFC at once: the partial unique index lets only one through."""
    from sqlalchemy.exc import IntegrityError

    from timbra.store.models import AccountRfc

    a = accounts.create_account(SYSTEM_PRINCIPAL, kind="emisor", name="A", rfcs=["EKU9003173C9"]).account
    b = accounts.create_account(SYSTEM_PRINCIPAL, kind="emisor", name="B").account
    with pytest.raises(IntegrityError), accounts.db.session() as s:
        s.add(AccountRfc(account_id=b.id, rfc="EKU9003173C9", created_at=NOW))
    with accounts.db.session() as s:  # a shared row (the admin's decision) is allowed
        s.add(AccountRfc(account_id=b.id, rfc="EKU9003173C9", created_at=NOW, shared=True))
    assert accounts.rfcs(a.id) == accounts.rfcs(b.id) == ["EKU9003173C9"]
