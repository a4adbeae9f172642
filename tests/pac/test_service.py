"""The stamping service over a real database (SQLite and PostgreSQL): storage, credits, retries, tenancy."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from timbra.errors import TimbraError
from timbra.pac.accounts import SYSTEM_PRINCIPAL, Accounts, Principal
from timbra.pac.credits import Credits
from timbra.pac.stamping import Certifier, StampService
from timbra.store.models import Cfdi, CfdiXml, IdempotencyKey, Outbox


@pytest.fixture
def env(db, pac, trust, clock):
    accounts = Accounts(db, clock)
    credits = Credits(db, accounts, clock)
    woken = []
    service = StampService(db, Certifier(pac=pac, trust=trust, clock=clock), clock=clock,
                           on_commit=lambda: woken.append(1))

    def emisor(name: str, n_credits: int, rfcs=("EKU9003173C9",), shared: bool = False) -> Principal:
        acc = accounts.create_account(SYSTEM_PRINCIPAL, kind="emisor", name=name, rfcs=list(rfcs),
                                      shared=shared).account
        if n_credits:
            credits.add_package(SYSTEM_PRINCIPAL, acc.id, n_credits)
        return Principal(acc.id, "emisor")

    class Env:
        pass

    e = Env()
    e.db, e.service, e.credits, e.emisor, e.woken = db, service, credits, emisor, woken
    return e


def count(db, model, **where) -> int:
    with db.reader() as s:
        q = select(func.count()).select_from(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return s.scalar(q)


def left(env, who) -> int:
    return env.credits.balance(SYSTEM_PRINCIPAL, who.account_id).available


def test_stamp_is_stored_with_its_outbox_row_and_spends_one_credit(env, make_xml):
    who = env.emisor("E", 5)
    r = env.service.stamp(who, make_xml(folio="1"))
    assert not r.replayed and r.credits_left == 4 == left(env, who)
    with env.db.reader() as s:
        row = s.get(Cfdi, r.uuid)
        assert (row.account_id, row.rfc_emisor, row.folio, row.tipo, row.status) == (who.account_id, "EKU9003173C9",
                                                                                  "1", "I", "vigente")
        assert s.get(CfdiXml, r.uuid).xml == r.xml and b"TimbreFiscalDigital" in r.xml
    assert count(env.db, Outbox, ref=r.uuid, kind="deliver") == 1 and env.woken == [1]


def test_same_bytes_again_returns_the_first_answer_without_spending(env, make_xml):
    who = env.emisor("E", 5)
    xml = make_xml(folio="1")
    first = env.service.stamp(who, xml)
    again = env.service.stamp(who, xml)
    assert again.replayed and (again.uuid, again.xml, again.sello_sat) == (first.uuid, first.xml, first.sello_sat)
    assert again.fecha_timbrado == first.fecha_timbrado
    assert left(env, who) == 4 and count(env.db, Cfdi) == 1


def test_idempotency_key(env, make_xml):
    who = env.emisor("E", 5)
    first = env.service.stamp(who, make_xml(folio="1"), idempotency_key="order-77")
    assert env.service.stamp(who, make_xml(folio="1"), idempotency_key="order-77").uuid == first.uuid
    with pytest.raises(TimbraError) as exc:
        env.service.stamp(who, make_xml(folio="2"), idempotency_key="order-77")
    assert exc.value.code == "T106"
    with pytest.raises(TimbraError) as exc:
        env.service.stamp(who, make_xml(folio="3"), idempotency_key="bad key with spaces")
    assert exc.value.code == "T100"
    assert left(env, who) == 4 and count(env.db, IdempotencyKey) == 1


def test_307_same_sello_returns_the_stored_stamp_to_its_owner_only(env, make_xml):
    owner, other = env.emisor("Owner", 5), env.emisor("Other", 5, shared=True)  # the admin shared the RFC
    xml = make_xml(folio="1")
    first = env.service.stamp(owner, xml)
    reformatted = xml.replace(b"?>", b"?>\n", 1)  # other bytes, same Sello
    again = env.service.stamp(owner, reformatted)
    assert again.replayed and again.uuid == first.uuid
    back = env.service.stamp(owner, first.xml)  # the stamped CFDI itself sent back
    assert back.replayed and back.uuid == first.uuid
    with pytest.raises(TimbraError) as exc:
        env.service.stamp(other, reformatted)
    # another account's 307 says the Sello was stamped, not which UUID it got
    assert exc.value.code == "307" and [(f.code, f.node, f.value) for f in exc.value.findings] == [
        ("307", "Comprobante@Sello", None)]
    assert first.uuid not in str(exc.value.as_dict()) and first.uuid.lower() not in str(exc.value.as_dict())
    assert (left(env, owner), left(env, other)) == (4, 5)


def test_rfc_check_comes_before_307_and_reveals_no_uuid(env, make_xml):
    owner, stranger = env.emisor("Owner", 5), env.emisor("Stranger", 5, rfcs=("XAXX010101000",))
    xml = make_xml(folio="1")
    first = env.service.stamp(owner, xml)
    for doc in (xml, xml.replace(b"?>", b"?>\n", 1), first.xml):  # same bytes, same Sello, the stamped CFDI
        with pytest.raises(TimbraError) as exc:
            env.service.stamp(stranger, doc)
        assert exc.value.code == "T105" and exc.value.findings == [] and exc.value.detail == {"rfc": "EKU9003173C9"}
        assert first.uuid not in str(exc.value.as_dict())
    assert left(env, stranger) == 5


def test_rfc_not_in_account_and_no_credits_store_nothing(env, make_xml):
    stranger = env.emisor("Stranger", 5, rfcs=("XAXX010101000",))
    with pytest.raises(TimbraError) as exc:
        env.service.stamp(stranger, make_xml(folio="1"))
    assert exc.value.code == "T105" and exc.value.detail == {"rfc": "EKU9003173C9"}
    broke = env.emisor("Broke", 0)
    with pytest.raises(TimbraError) as exc:
        env.service.stamp(broke, make_xml(folio="2"))
    assert exc.value.code == "T104" and exc.value.detail == {"available": 0}
    assert count(env.db, Cfdi) == 0 and count(env.db, Outbox) == 0 and left(env, stranger) == 5


def test_invalid_document_spends_nothing(env, make_xml):
    who = env.emisor("E", 5)
    with pytest.raises(TimbraError) as exc:
        env.service.stamp(who, b"<not xml")
    assert exc.value.code == "301"
    assert left(env, who) == 5 and count(env.db, Cfdi) == 0


def test_only_emisores_stamp(env, make_xml):
    with pytest.raises(TimbraError) as exc:
        env.service.stamp(SYSTEM_PRINCIPAL, make_xml())
    assert exc.value.code == "T102"


def _parallel(n: int, fn) -> list:
    out, barrier = [], threading.Barrier(n)

    def run(i):
        barrier.wait()
        try:
            out.append(fn(i))
        except TimbraError as exc:
            out.append(exc.code)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_parallel_stamps_at_an_account_with_few_credits(env, make_xml):
    who = env.emisor("E", 3)
    docs = [make_xml(folio=str(i)) for i in range(12)]
    out = _parallel(12, lambda i: env.service.stamp(who, docs[i]))
    stamped = [r for r in out if not isinstance(r, str)]
    assert len(stamped) == 3 and sorted(r for r in out if isinstance(r, str)) == ["T104"] * 9
    assert count(env.db, Cfdi) == 3 and left(env, who) == 0


def test_parallel_twins_are_stamped_once(env, make_xml):
    who = env.emisor("E", 10)
    xml = make_xml(folio="twin")
    out = _parallel(8, lambda i: env.service.stamp(who, xml))
    assert len({r.uuid for r in out}) == 1 and sum(not r.replayed for r in out) == 1
    assert count(env.db, Cfdi) == 1 and left(env, who) == 9
