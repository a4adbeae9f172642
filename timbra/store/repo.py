"""Queries. Every function that reads a customer's rows takes its `account_id` and filters by it."""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, bindparam, delete, exists, func, insert, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from timbra.store import driver
from timbra.store.blobs import cfdi_key
from timbra.store.models import (
    Account,
    AccountRfc,
    ApiKey,
    Branding,
    CancelAnswer,
    Cancellation,
    CancelRequest,
    Cfdi,
    CfdiXml,
    CsdKey,
    Event,
    IdempotencyKey,
    Outbox,
    Package,
    Registration,
    RegistrationFile,
    SatAcuse,
    User,
    WebSession,
)

# Session or Core Connection: the stamp path's queries run on a Connection (store.db.Database.read/write,
# cheaper than an ORM session there); the same functions serve sessions elsewhere.
Executor = Session | Connection


def _dialect(s: Executor) -> str:
    return s.dialect.name if isinstance(s, Connection) else s.get_bind().dialect.name


def _run(s: Executor, statement, params: dict) -> Sequence:
    """`s.execute(statement, params).all()`; on SQLite's Core connections (the stamp path's) run by the driver
    (store.driver: the same SQL and values at a fraction of the CPU). For statements whose results are integers
    and texts."""
    if isinstance(s, Connection) and s.dialect.name == "sqlite":
        return driver.execute(s, statement, params)
    result = s.execute(statement, params)
    return result.all() if result.returns_rows else []


def _blobs(s: Executor):
    """The object store the stamped XML lives in (store.blobs.Blobs), or None: the cfdi_xml table."""
    return s.info.get("blobs")


# --- accounts -------------------------------------------------------------------------------------------

def account(s: Session, account_id: int) -> Account | None:
    return s.get(Account, account_id)


def children(s: Session, parent_id: int | None) -> list[Account]:
    q = select(Account).order_by(Account.id)
    if parent_id is not None:
        q = q.where(Account.parent_id == parent_id)
    return list(s.scalars(q))


_RFCS = select(AccountRfc.rfc).where(AccountRfc.account_id == bindparam("b_account")).order_by(AccountRfc.rfc)


def rfcs(s: Session, account_id: int) -> list[str]:
    return list(s.execute(_RFCS, {"b_account": account_id}).scalars())


def has_rfc(s: Session, account_id: int, rfc: str) -> bool:
    return s.get(AccountRfc, (account_id, rfc)) is not None


def account_rfc(s: Session, account_id: int, rfc: str) -> AccountRfc | None:
    return s.get(AccountRfc, (account_id, rfc))


def rfc_nombres(s: Session, account_id: int) -> dict[str, str | None]:
    q = select(AccountRfc.rfc, AccountRfc.nombre).where(AccountRfc.account_id == account_id).order_by(AccountRfc.rfc)
    return {rfc: nombre for rfc, nombre in s.execute(q)}


def rfc_holders(s: Session, rfc: str) -> list[int]:
    """The accounts that hold `rfc` (across tenants: only to refuse registering it twice)."""
    return list(s.scalars(select(AccountRfc.account_id).where(AccountRfc.rfc == rfc).order_by(AccountRfc.account_id)))


def user_by_name(s: Session, username: str) -> User | None:
    return s.scalar(select(User).where(User.username == username))


def users(s: Session, account_id: int) -> list[User]:
    return list(s.scalars(select(User).where(User.account_id == account_id).order_by(User.id)))


_KEY_PRINCIPAL = (select(ApiKey.key_hash, ApiKey.revoked_at, User.id, User.username, User.active, Account.id,
                          Account.kind, Account.active)
                  .join(User, User.id == ApiKey.user_id).join(Account, Account.id == ApiKey.account_id)
                  .where(ApiKey.prefix == bindparam("b_prefix")))


def api_key_principal(s: Session, prefix: str):
    """(key_hash, revoked_at, user_id, username, user_active, account_id, kind, account_active) or None,
    in one query: it runs on every request authenticated with a key."""
    return s.execute(_KEY_PRINCIPAL, {"b_prefix": prefix}).one_or_none()


def api_keys(s: Session, account_id: int) -> list[ApiKey]:
    return list(s.scalars(select(ApiKey).where(ApiKey.account_id == account_id).order_by(ApiKey.id)))


# --- credits --------------------------------------------------------------------------------------------

_p = Package.__table__.c
# A package credits can be spent from now, and the order they are spent in (the one that expires first).
# Bound at execution with {"b_account": account_id, "b_now": now}.
_SPENDABLE = and_(_p.account_id == bindparam("b_account"), _p.used < _p.size, _p.activation <= bindparam("b_now"),
                  or_(_p.expiry.is_(None), _p.expiry > bindparam("b_now")))
_SPEND_ORDER = (_p.expiry.is_(None), _p.expiry, _p.id)


def lock_spendable_package(s: Session, account_id: int, now: datetime) -> Package | None:
    """The package to spend from next (the one that expires first), locked until commit on PostgreSQL.

    Under READ COMMITTED a row another transaction filled while we waited for its lock is skipped, so
    None may mean "retry" rather than "empty": `credits.transfer` tells the two apart.
    """
    q = select(Package).where(_SPENDABLE).order_by(*_SPEND_ORDER).limit(1).with_for_update()
    return s.scalar(q, {"b_account": account_id, "b_now": now})


def spend_from(s: Session, package_id: int, amount: int = 1) -> bool:
    res = s.execute(update(Package).where(Package.id == package_id, Package.used + amount <= Package.size)
                    .values(used=Package.used + amount))
    return res.rowcount == 1


_NEXT_PACKAGE = select(_p.id).where(_SPENDABLE).order_by(*_SPEND_ORDER).limit(1).scalar_subquery()
_SPEND_ONE = (update(Package.__table__).where(_p.id == _NEXT_PACKAGE, _p.used < _p.size)
              .values(used=_p.used + 1).returning(_p.id))


def spend_one(s: Executor, account_id: int, now: datetime) -> int | None:
    """One statement: add one to `used` of the first-expiring spendable package; its id, or None.

    On PostgreSQL two transactions may pick the same package: the second waits for the first's row lock,
    then re-checks `used < size` on the committed row and updates nothing if it is full (None: retry)."""
    rows = _run(s, _SPEND_ONE, {"b_account": account_id, "b_now": now})
    return rows[0][0] if rows else None


_AVAILABLE = select(func.coalesce(func.sum(_p.size - _p.used), 0)).where(_SPENDABLE)

# PostgreSQL: spend_one and the balance left in one statement: the package spent from, as updated (RETURNING gives the
# new row), plus every other spendable package. The others are not written by this statement, so the
# snapshot it reads them in does not matter.
_o = Package.__table__.alias("other")
_OTHERS = (select(func.coalesce(func.sum(_o.c.size - _o.c.used), 0))
           .where(_o.c.account_id == bindparam("b_account"), _o.c.used < _o.c.size,
                  _o.c.activation <= bindparam("b_now"), or_(_o.c.expiry.is_(None), _o.c.expiry > bindparam("b_now")),
                  _o.c.id != _p.id)
           .correlate(Package.__table__).scalar_subquery())
_SPEND_ONE_LEFT = (update(Package.__table__).where(_p.id == _NEXT_PACKAGE, _p.used < _p.size)
                   .values(used=_p.used + 1).returning(_p.id, _p.size - _p.used + _OTHERS))


def spend_one_left(s: Executor, account_id: int, now: datetime) -> int | None:
    """`spend_one` that also answers the credits left after it (one round trip instead of two); None as
    `spend_one` (nothing spent: retry, or none left). SQLite (in process: a statement is no round trip)
    renders RETURNING's columns unqualified, which a subquery of the same table cannot use: two statements."""
    if _dialect(s) != "postgresql":
        return None if spend_one(s, account_id, now) is None else available(s, account_id, now)
    row = s.execute(_SPEND_ONE_LEFT, {"b_account": account_id, "b_now": now}).one_or_none()
    return None if row is None else int(row[1])


def available(s: Executor, account_id: int, now: datetime) -> int:
    """Credits that can be spent now (active, unexpired packages)."""
    return int(_run(s, _AVAILABLE, {"b_account": account_id, "b_now": now})[0][0] or 0)


def packages(s: Session, account_id: int) -> list[Package]:
    return list(s.scalars(select(Package).where(Package.account_id == account_id).order_by(*_SPEND_ORDER)))


# --- CFDI -----------------------------------------------------------------------------------------------

def cfdi(s: Session, account_id: int, uuid: str) -> Cfdi | None:
    return s.scalar(select(Cfdi).where(Cfdi.account_id == account_id, Cfdi.uuid == uuid))


def _xml_of(s: Session, row) -> bytes | None:
    """A cfdi_xml row's document, from the table or from the object store."""
    if row is None:
        return None
    xml, blob = row
    if blob is None:
        return xml
    blobs = s.info.get("blobs")
    if blobs is None:
        raise RuntimeError("this CFDI's XML is in the object store but TIMBRA_BLOB_URL is not set")
    return blobs.get(blob)


def cfdi_xml(s: Session, account_id: int, uuid: str) -> bytes | None:
    return _xml_of(s, s.execute(select(CfdiXml.xml, CfdiXml.blob).join(Cfdi, Cfdi.uuid == CfdiXml.uuid)
                                .where(Cfdi.account_id == account_id, Cfdi.uuid == uuid)).one_or_none())


_c = Cfdi.__table__.c
_BY_DOCUMENT = (select(_c.uuid).where(_c.account_id == bindparam("b_account"),
                                      _c.document_digest == bindparam("b_digest")).limit(1))
_BY_SELLO = select(_c.uuid, _c.account_id).where(_c.sello_digest == bindparam("b_digest"))


def uuid_by_document(s: Session, account_id: int, document_digest: str) -> str | None:
    """The CFDI this account already stamped from exactly these bytes."""
    return s.execute(_BY_DOCUMENT, {"b_account": account_id, "b_digest": document_digest}).scalar()


def uuid_by_sello(s: Session, sello_digest: str) -> tuple[str, int] | None:
    """(uuid, account_id) across accounts: a Sello is stamped once in the whole PAC (307)."""
    row = s.execute(_BY_SELLO, {"b_digest": sello_digest}).one_or_none()
    return (row[0], row[1]) if row is not None else None


@dataclass(frozen=True)
class StampFacts:
    """What the stamp path needs to know before validating, from one read (`stamp_facts`)."""

    rfc_held: bool  # the account may stamp for the document's Emisor RFC
    by_document: str | None  # the UUID this account stamped from exactly these bytes
    by_sello: tuple[str, int] | None  # (uuid, account_id) that holds this Sello (307)
    by_key: tuple[str, str] | None  # (uuid, document_digest) of the account's Idempotency-Key


_k = IdempotencyKey.__table__.c
_ar = AccountRfc.__table__.c
_FACTS = select(
    exists().where(_ar.account_id == bindparam("b_account"), _ar.rfc == bindparam("b_rfc")),
    _BY_DOCUMENT.scalar_subquery(),
    select(_c.uuid).where(_c.sello_digest == bindparam("b_sello")).scalar_subquery(),
    select(_c.account_id).where(_c.sello_digest == bindparam("b_sello")).scalar_subquery(),
    select(_k.uuid).where(_k.account_id == bindparam("b_account"), _k.key == bindparam("b_key")).scalar_subquery(),
    select(_k.document_digest).where(_k.account_id == bindparam("b_account"), _k.key == bindparam("b_key"))
    .scalar_subquery())


def stamp_facts(s: Executor, account_id: int, rfc: str, document_digest: str, sello_digest: str | None,
                key: str | None) -> StampFacts:
    """`rfcs`, `uuid_by_document`, `uuid_by_sello` and `idempotency` for one stamp in one statement (one
    round trip on PostgreSQL, one execution on SQLite): it runs before every stamp. A None `sello_digest` or
    `key` finds nothing (NULL equals nothing)."""
    (held, by_doc, sello_uuid, sello_owner, key_uuid, key_digest), = _run(s, _FACTS, {
        "b_account": account_id, "b_rfc": rfc, "b_digest": document_digest, "b_sello": sello_digest,
        "b_key": key})
    return StampFacts(bool(held), by_doc, (sello_uuid, sello_owner) if sello_uuid is not None else None,
                      (key_uuid, key_digest) if key_uuid is not None else None)


_INSERT_CFDI = insert(Cfdi.__table__)
_INSERT_XML = insert(CfdiXml.__table__)
_INSERT_OUTBOX = insert(Outbox.__table__)
_INSERT_KEY = insert(IdempotencyKey.__table__)


def save_stamp(s: Executor, row: dict, xml: bytes, idempotency_key: str | None, now: datetime) -> None:
    """A stamp in the caller's transaction: its Cfdi row, its XML, the outbox row that delivers it to SAT
    and the idempotency key that answers a retry. Core inserts: the ORM's unit of work costs more than
    the database here, on every stamp. The unique indexes (uuid, sello_digest, account + key) settle
    concurrent twins: the second raises IntegrityError."""
    blobs = _blobs(s)
    if blobs is None:
        _run(s, _INSERT_CFDI, row)
        _run(s, _INSERT_XML, {"uuid": row["uuid"], "xml": xml, "blob": None})
    else:  # the object first: the commit that answers the stamp comes after it is durable
        key = cfdi_key(row["uuid"])
        blobs.put(key, xml)
        _run(s, _INSERT_CFDI, row)
        _run(s, _INSERT_XML, {"uuid": row["uuid"], "xml": None, "blob": key})
    _run(s, _INSERT_OUTBOX, {"kind": "deliver", "ref": row["uuid"], "attempts": 0, "next_attempt_at": now,
                             "created_at": now})
    if idempotency_key is not None:
        _run(s, _INSERT_KEY, {"account_id": row["account_id"], "key": idempotency_key,
                              "document_digest": row["document_digest"], "uuid": row["uuid"], "created_at": now})


def _stamp_cte(with_key: bool):
    """PostgreSQL: save_stamp and spend_one_left as one statement (data-modifying CTEs), so a stamp's write
    is one round trip. The CFDI row's values are bound as `c_<column>`; every CTE runs exactly once, in one
    snapshot, and a unique violation in any of them fails the whole statement (IntegrityError, as before)."""
    c_t, x_t, o_t, k_t = Cfdi.__table__, CfdiXml.__table__, Outbox.__table__, IdempotencyKey.__table__
    now = bindparam("b_now", type_=o_t.c.created_at.type)
    c = (insert(c_t).values({col.name: bindparam(f"c_{col.name}", type_=col.type) for col in c_t.c})
         .returning(c_t.c.uuid, c_t.c.account_id, c_t.c.document_digest).cte("c"))
    x = insert(x_t).from_select(["uuid", "xml", "blob"], select(
        c.c.uuid, bindparam("x_xml", type_=x_t.c.xml.type), bindparam("x_blob", type_=x_t.c.blob.type))).cte("x")
    o = insert(o_t).from_select(["kind", "ref", "attempts", "next_attempt_at", "created_at"], select(
        literal("deliver", o_t.c.kind.type), c.c.uuid, literal(0, o_t.c.attempts.type), now, now)).cte("o")
    spent = _SPEND_ONE_LEFT.cte("spent")
    q = select(*spent.c).add_cte(x, o)
    if with_key:
        k = insert(k_t).from_select(["account_id", "key", "document_digest", "uuid", "created_at"], select(
            c.c.account_id, bindparam("k_key", type_=k_t.c.key.type), c.c.document_digest, c.c.uuid, now)).cte("k")
        q = q.add_cte(k)
    return q


_STAMP_PG = {False: _stamp_cte(False), True: _stamp_cte(True)}


def save_stamp_and_spend(s: Executor, row: dict, xml: bytes, idempotency_key: str | None,
                         now: datetime) -> int | None:
    """`save_stamp` then `spend_one_left` (the credit last: the package row stays locked the shortest time):
    the credits left, or None when nothing was spent (the caller retries with `credits.spend`). On
    PostgreSQL one statement (one round trip), on SQLite (in process, no round trips) the same statements
    one after another."""
    if _dialect(s) != "postgresql":
        save_stamp(s, row, xml, idempotency_key, now)
        return spend_one_left(s, row["account_id"], now)
    blobs = _blobs(s)
    blob = None
    if blobs is not None:  # the object first: the commit that answers the stamp comes after it is durable
        blob = cfdi_key(row["uuid"])
        blobs.put(blob, xml)
    params = {f"c_{k}": v for k, v in row.items()}
    params.update(x_xml=None if blob else xml, x_blob=blob, b_now=now, b_account=row["account_id"],
                  k_key=idempotency_key)
    found = s.execute(_STAMP_PG[idempotency_key is not None], params).one_or_none()
    return None if found is None else int(found[1])


def idempotency(s: Session, account_id: int, key: str) -> IdempotencyKey | None:
    return s.get(IdempotencyKey, (account_id, key))


def acuse(s: Session, account_id: int, uuid: str) -> SatAcuse | None:
    return s.scalar(select(SatAcuse).join(Cfdi, Cfdi.uuid == SatAcuse.uuid)
                    .where(Cfdi.account_id == account_id, SatAcuse.uuid == uuid))


@dataclass(frozen=True)
class CfdiFilter:
    stamped_from: datetime | None = None
    stamped_to: datetime | None = None
    issued_from: str | None = None  # local ISO date-times, compared as written
    issued_to: str | None = None
    rfc_receptor: str | None = None
    rfc_emisor: str | None = None
    tipo: str | None = None
    status: str | None = None
    receptor: str | None = None  # part of the receptor's RFC or name, any case
    serie_folio: str | None = None  # "F-12", "F12", "F 12" or just the folio
    moneda: str | None = None


def encode_cursor(row: Cfdi) -> str:
    raw = json.dumps([row.fecha_timbrado.isoformat(), row.uuid]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """Raises ValueError on anything that is not a cursor this module wrote."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when, uuid = json.loads(raw)
        return datetime.fromisoformat(when), str(uuid)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, RecursionError) as exc:
        raise ValueError("cursor") from exc


def _filtered(q, f: CfdiFilter):
    if f.stamped_from is not None:
        q = q.where(Cfdi.fecha_timbrado >= f.stamped_from)
    if f.stamped_to is not None:
        q = q.where(Cfdi.fecha_timbrado < f.stamped_to)
    if f.issued_from is not None:
        q = q.where(Cfdi.fecha >= f.issued_from)
    if f.issued_to is not None:
        q = q.where(Cfdi.fecha < f.issued_to)
    for col, value in ((Cfdi.rfc_receptor, f.rfc_receptor), (Cfdi.rfc_emisor, f.rfc_emisor),
                       (Cfdi.tipo, f.tipo), (Cfdi.status, f.status), (Cfdi.moneda, f.moneda)):
        if value is not None:
            q = q.where(col == value)
    if f.receptor:
        # upper() on both sides: CFDI 4.0 writes names in capitals, and SQLite's upper() leaves Ñ and
        # accented letters as they are, which Python's upper() of what a person typed then matches.
        pattern = "%" + _like_escape(f.receptor.strip().upper()) + "%"
        q = q.where(or_(func.upper(Cfdi.rfc_receptor).like(pattern, escape="\\"),
                        func.upper(Cfdi.nombre_receptor).like(pattern, escape="\\")))
    if f.serie_folio:
        raw = f.serie_folio.strip().upper()
        joined = "".join(ch for ch in raw if ch not in " -/")
        q = q.where(or_(func.upper(Cfdi.serie + Cfdi.folio) == joined, func.upper(Cfdi.folio) == raw))
    return q


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_cfdis(s: Session, account_id: int, f: CfdiFilter, *, limit: int,
               after: tuple[datetime, str] | None = None) -> list[Cfdi]:
    """Newest stamp first; keyset pagination on (fecha_timbrado, uuid)."""
    q = _filtered(select(Cfdi).where(Cfdi.account_id == account_id), f)
    if after is not None:
        when, uuid = after
        q = q.where(or_(Cfdi.fecha_timbrado < when, and_(Cfdi.fecha_timbrado == when, Cfdi.uuid < uuid)))
    q = q.order_by(Cfdi.fecha_timbrado.desc(), Cfdi.uuid.desc()).limit(limit)
    return list(s.scalars(q))


SORTS = {"fecha_timbrado": (Cfdi.fecha_timbrado,), "fecha": (Cfdi.fecha,), "total": (Cfdi.total,),
         "receptor": (Cfdi.nombre_receptor, Cfdi.rfc_receptor), "folio": (Cfdi.serie, Cfdi.folio),
         "status": (Cfdi.status,), "tipo": (Cfdi.tipo,)}


def search_cfdis(s: Session, account_id: int, f: CfdiFilter, *, sort: str, descending: bool, offset: int,
                 limit: int) -> list[Cfdi]:
    """A page of the account's CFDI in the order a person chose (one of SORTS; the UUID breaks ties)."""
    cols = SORTS[sort] + (Cfdi.uuid,)
    order = [c.desc() if descending else c.asc() for c in cols]
    q = _filtered(select(Cfdi).where(Cfdi.account_id == account_id), f).order_by(*order)
    return list(s.scalars(q.offset(offset).limit(limit)))


def count_cfdis(s: Session, account_id: int, f: CfdiFilter) -> int:
    q = _filtered(select(func.count()).select_from(Cfdi).where(Cfdi.account_id == account_id), f)
    return int(s.execute(q).scalar() or 0)


def totals_by_tipo_moneda(s: Session, account_id: int, f: CfdiFilter) -> list[tuple[str, str, str, int, Decimal]]:
    """(tipo, moneda, status, count, sum of Total) of the matching CFDI."""
    q = _filtered(select(Cfdi.tipo, Cfdi.moneda, Cfdi.status, func.count(), func.coalesce(func.sum(Cfdi.total), 0))
                  .where(Cfdi.account_id == account_id), f)
    q = q.group_by(Cfdi.tipo, Cfdi.moneda, Cfdi.status).order_by(Cfdi.tipo, Cfdi.moneda, Cfdi.status)
    return [(t, m, st, int(n), Decimal(str(total))) for t, m, st, n, total in s.execute(q)]


def count_by_issue_day(s: Session, account_id: int, f: CfdiFilter) -> list[tuple[str, int]]:
    """(YYYY-MM-DD of Fecha, count): Fecha is the local date-time as written, so its first ten characters
    are the day the CFDI was issued, on SQLite and PostgreSQL alike."""
    day = func.substr(Cfdi.fecha, 1, 10)
    q = _filtered(select(day, func.count()).where(Cfdi.account_id == account_id), f).group_by(day).order_by(day)
    return [(d, int(n)) for d, n in s.execute(q)]


def cfdi_xmls(s: Session, account_id: int, uuids: list[str]) -> list[tuple[str, bytes]]:
    """The stamped XML of the account's CFDI among `uuids`."""
    q = (select(CfdiXml.uuid, CfdiXml.xml, CfdiXml.blob).join(Cfdi, Cfdi.uuid == CfdiXml.uuid)
         .where(Cfdi.account_id == account_id, CfdiXml.uuid.in_(uuids)))
    return [(u, data) for u, x, b in s.execute(q) if (data := _xml_of(s, (x, b))) is not None]


def cfdi_any_with_xml(s: Session, uuid: str) -> tuple[Cfdi, bytes] | None:
    """Unscoped: the public receptor lookup, which the caller checks against the RFCs it was given."""
    row = s.get(Cfdi, uuid)
    if row is None:
        return None
    return row, stored_xml(s, uuid)


# --- outbox ---------------------------------------------------------------------------------------------

def due_outbox(s: Session, kind: str, now: datetime, limit: int, *, skip_locked: bool) -> list[Outbox]:
    """Outbox rows of `kind` whose time has come, oldest first; with skip_locked (PostgreSQL) rows another
    worker holds are passed over, so several workers never take the same row."""
    q = (select(Outbox).where(Outbox.kind == kind, Outbox.done_at.is_(None), Outbox.next_attempt_at <= now)
         .order_by(Outbox.next_attempt_at, Outbox.id).limit(limit))
    q = q.with_for_update(skip_locked=True) if skip_locked else q
    return list(s.scalars(q))


def stored_xml(s: Session, uuid: str) -> bytes | None:
    """The stamped XML of `uuid`, whichever account it belongs to: for the delivery worker, which works for
    the PAC, not for a customer."""
    return _xml_of(s, s.execute(select(CfdiXml.xml, CfdiXml.blob).where(CfdiXml.uuid == uuid)).one_or_none())


def record_acuse(s: Session, uuid: str, *, status: str, code: str, message: str, received_at: datetime,
                 xml: bytes) -> str:
    """Keep SAT's acuse for `uuid` (the first one stored stays: a stale run delivering again changes
    nothing), make the Cfdi's sat_status follow it, and return that status."""
    dialect_insert = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
    s.execute(dialect_insert(SatAcuse)
              .values(uuid=uuid, status=status, code=code, message=message, received_at=received_at, xml=xml)
              .on_conflict_do_nothing(index_elements=[SatAcuse.uuid]))
    stored = s.scalar(select(SatAcuse.status).where(SatAcuse.uuid == uuid))
    s.execute(update(Cfdi).where(Cfdi.uuid == uuid).values(sat_status=stored))
    return stored


def add_outbox(s: Session, kind: str, ref: str, at: datetime, now: datetime) -> None:
    s.execute(_INSERT_OUTBOX, {"kind": kind, "ref": ref, "attempts": 0, "next_attempt_at": at, "created_at": now})


def reschedule_outbox(s: Session, outbox_id: int, attempt: int, at: datetime) -> None:
    """Not a failure: the row's work is not due yet (a cancellation still waiting for the receptor)."""
    s.execute(update(Outbox)
              .where(Outbox.id == outbox_id, Outbox.done_at.is_(None), Outbox.attempts == attempt)
              .values(next_attempt_at=at, last_error=None))


def hasten_outbox(s: Session, kind: str, ref: str, at: datetime) -> None:
    """Make the pending rows of (kind, ref) due at `at` (e.g. the receptor answered: look now)."""
    s.execute(update(Outbox).where(Outbox.kind == kind, Outbox.ref == ref, Outbox.done_at.is_(None))
              .values(next_attempt_at=at))


def finish_outbox_ref(s: Session, kind: str, ref: str, now: datetime) -> None:
    """Every pending row of (kind, ref) is done (the work happened outside the worker)."""
    s.execute(update(Outbox).where(Outbox.kind == kind, Outbox.ref == ref, Outbox.done_at.is_(None))
              .values(done_at=now, last_error=None))


def finish_outbox(s: Session, outbox_id: int, now: datetime) -> None:
    s.execute(update(Outbox).where(Outbox.id == outbox_id, Outbox.done_at.is_(None))
              .values(done_at=now, last_error=None))


def retry_outbox(s: Session, outbox_id: int, attempt: int, *, error: str, at: datetime) -> None:
    """Record a failed attempt and when to try again; a row claimed again since (more attempts) is left
    alone."""
    s.execute(update(Outbox)
              .where(Outbox.id == outbox_id, Outbox.done_at.is_(None), Outbox.attempts == attempt)
              .values(last_error=error, next_attempt_at=at))


# --- CSD vault ------------------------------------------------------------------------------------------

def lock_account(s: Session, account_id: int) -> None:
    """Serialize writes per account on PostgreSQL (SQLite has one writer anyway): e.g. two CSD uploads for
    one RFC cannot both end active."""
    s.execute(select(Account.id).where(Account.id == account_id).with_for_update())


def csd_key(s: Session, account_id: int, no_certificado: str) -> CsdKey | None:
    return s.scalar(select(CsdKey).where(CsdKey.account_id == account_id, CsdKey.no_certificado == no_certificado))


def csd_key_by_id(s: Session, csd_id: int) -> CsdKey | None:
    """Unscoped: the caller checks that it may manage the row's account."""
    return s.get(CsdKey, csd_id)


def csd_keys(s: Session, account_id: int) -> list[CsdKey]:
    """The account's CSDs (removed ones left out), by RFC, newest first."""
    return list(s.scalars(select(CsdKey).where(CsdKey.account_id == account_id, CsdKey.removed_at.is_(None))
                          .order_by(CsdKey.rfc, CsdKey.valid_to.desc(), CsdKey.id.desc())))


def active_csd(s: Session, account_id: int, rfc: str):
    """The columns needed to seal with the active CSD of `rfc` in the account (a Row), or None."""
    return s.execute(select(CsdKey.id, CsdKey.no_certificado, CsdKey.certificate, CsdKey.key_nonce,
                            CsdKey.key_ciphertext, CsdKey.master_key_id, CsdKey.valid_from, CsdKey.valid_to)
                     .where(CsdKey.account_id == account_id, CsdKey.rfc == rfc, CsdKey.active)).one_or_none()


# Issuing's one read of its emisor: every RFC of the account (in order), the name registered for it and the
# columns that find the key of its active CSD in the vault's memory (None when it has none); the certificate
# and the ciphertext are read (active_csd) only when the key is not there yet.
# (Table columns, not the ORM's: a Core statement skips the ORM's execution, a third of this one's cost.)
_ck = CsdKey.__table__.c
_EMISOR_CSDS = (select(_ar.rfc, _ar.nombre, _ck.id, _ck.no_certificado, _ck.key_nonce, _ck.master_key_id,
                       _ck.valid_from, _ck.valid_to)
                .select_from(AccountRfc.__table__.outerjoin(
                    CsdKey.__table__, and_(_ck.account_id == _ar.account_id, _ck.rfc == _ar.rfc, _ck.active)))
                .where(_ar.account_id == bindparam("b_account")).order_by(_ar.rfc))


def emisor_csds(s: Executor, account_id: int) -> list:
    """The account's RFCs with their registered names and their active CSDs (Rows: rfc, nombre, then
    active_csd's columns but the certificate and the ciphertext, None without an active CSD), in one
    statement."""
    return list(s.execute(_EMISOR_CSDS, {"b_account": account_id}))


def deactivate_csds(s: Session, account_id: int, rfc: str) -> None:
    s.execute(update(CsdKey).where(CsdKey.account_id == account_id, CsdKey.rfc == rfc, CsdKey.active)
              .values(active=False).execution_options(synchronize_session=False))


def _not_under(master_key_id: str):
    return (CsdKey.master_key_id != master_key_id, CsdKey.removed_at.is_(None))


def accounts_with_keys_not_under(s: Session, master_key_id: str) -> list[int]:
    return list(s.scalars(select(CsdKey.account_id).where(*_not_under(master_key_id)).distinct()
                          .order_by(CsdKey.account_id)))


def csd_keys_not_under(s: Session, account_id: int, master_key_id: str) -> list[CsdKey]:
    """The account's live keys encrypted under another master key, locked for re-encryption."""
    return list(s.scalars(select(CsdKey).where(CsdKey.account_id == account_id, *_not_under(master_key_id))
                          .order_by(CsdKey.id).with_for_update()))


# --- cancellations --------------------------------------------------------------------------------------

def cfdis_by_uuid(s: Session, account_id: int, uuids: list[str]) -> dict[str, Cfdi]:
    rows = s.scalars(select(Cfdi).where(Cfdi.account_id == account_id, Cfdi.uuid.in_(uuids)))
    return {r.uuid: r for r in rows}


def cancellations_by_uuid(s: Session, account_id: int, uuids: list[str]) -> dict[str, Cancellation]:
    rows = s.scalars(select(Cancellation).where(Cancellation.account_id == account_id, Cancellation.uuid.in_(uuids)))
    return {r.uuid: r for r in rows}


def cancellation(s: Session, uuid: str) -> Cancellation | None:
    """Unscoped: for the worker and for a receptor's answer, which act for the PAC; the callers scope."""
    return s.get(Cancellation, uuid)


def cfdi_any(s: Session, uuid: str) -> Cfdi | None:
    """Unscoped, like `cancellation`."""
    return s.get(Cfdi, uuid)


def cfdis_any(s: Session, uuids: list[str]) -> dict[str, Cfdi]:
    """Unscoped, like `cancellation`: the CFDI of a request being recorded for the PAC."""
    return {r.uuid: r for r in s.scalars(select(Cfdi).where(Cfdi.uuid.in_(uuids)))} if uuids else {}


def add_cancel_request(s: Session, *, account_id: int, rfc_emisor: str, signed_by: str, xml: bytes,
                       now: datetime) -> int:
    req = CancelRequest(account_id=account_id, rfc_emisor=rfc_emisor, signed_by=signed_by, xml=xml, created_at=now)
    s.add(req)
    s.flush()
    return req.id


def put_cancellations(s: Session, *, account_id: int, request_id: int, now: datetime,
                      folios: list[tuple[str, str, str | None]]) -> None:
    """The UUIDs' cancellations now ride on `request_id` (uuid, motivo, folio_sustitucion): a new request
    replaces the row of a refused or rejected one (the events keep the history). Two statements for any
    number of UUIDs."""
    uuids = [u for u, _, _ in folios]
    s.execute(delete(Cancellation).where(Cancellation.uuid.in_(uuids)))
    s.execute(insert(Cancellation.__table__), [
        {"uuid": u, "account_id": account_id, "request_id": request_id, "motivo": m, "folio_sustitucion": f,
         "code": None, "estatus": "", "requested_at": now, "updated_at": now} for u, m, f in folios])


def cancel_request(s: Session, request_id: int) -> CancelRequest | None:
    """Unscoped (the worker sends for the PAC); scoped reads go through `cancel_acuse`."""
    return s.get(CancelRequest, request_id)


def lock_cancel_request(s: Session, request_id: int) -> CancelRequest | None:
    return s.scalar(select(CancelRequest).where(CancelRequest.id == request_id).with_for_update())


def cancellations_of_request(s: Session, request_id: int) -> list[Cancellation]:
    return list(s.scalars(select(Cancellation).where(Cancellation.request_id == request_id)
                          .order_by(Cancellation.uuid)))


def cancel_acuse(s: Session, account_id: int, uuid: str) -> CancelRequest | None:
    """The request that carries the account's cancellation of `uuid`."""
    return s.scalar(select(CancelRequest).join(Cancellation, Cancellation.request_id == CancelRequest.id)
                    .where(Cancellation.account_id == account_id, Cancellation.uuid == uuid))


def set_cfdi_status(s: Session, uuids: list[str], status: str) -> None:
    s.execute(update(Cfdi).where(Cfdi.uuid.in_(uuids)).values(status=status)
              .execution_options(synchronize_session=False))


def add_event(s: Session, account_id: int, uuid: str, kind: str, data: dict, now: datetime) -> None:
    s.add(Event(account_id=account_id, uuid=uuid, kind=kind, data=json.dumps(data, ensure_ascii=False),
                created_at=now))


def events(s: Session, account_id: int, uuid: str | None = None, *, after_id: int = 0, limit: int = 500) -> list[Event]:
    q = select(Event).where(Event.account_id == account_id, Event.id > after_id)
    if uuid is not None:
        q = q.where(Event.uuid == uuid)
    return list(s.scalars(q.order_by(Event.id).limit(limit)))


def add_cancel_answer(s: Session, *, account_id: int, uuid: str, rfc_receptor: str, respuesta: str, xml: bytes,
                      now: datetime) -> CancelAnswer:
    row = CancelAnswer(account_id=account_id, uuid=uuid, rfc_receptor=rfc_receptor, respuesta=respuesta, xml=xml,
                       created_at=now)
    s.add(row)
    s.flush()
    return row


def set_cancel_answer_code(s: Session, answer_id: int, code: str) -> None:
    s.execute(update(CancelAnswer).where(CancelAnswer.id == answer_id).values(code=code))


# --- portal: browser sessions ---------------------------------------------------------------------------

def add_web_session(s: Session, *, token_hash: str, user_id: int, account_id: int, csrf: str, now: datetime,
                    expires_at: datetime) -> None:
    s.add(WebSession(token_hash=token_hash, user_id=user_id, account_id=account_id, csrf=csrf, created_at=now,
                     last_seen_at=now, expires_at=expires_at))


_WEB_SESSION = (select(WebSession.csrf, WebSession.last_seen_at, WebSession.expires_at, User.id, User.username,
                       User.active, Account.id, Account.kind, Account.active, Account.name)
                .join(User, User.id == WebSession.user_id).join(Account, Account.id == WebSession.account_id)
                .where(WebSession.token_hash == bindparam("b_hash")))


def web_session(s: Session, token_hash: str):
    """(csrf, last_seen_at, expires_at, user_id, username, user_active, account_id, kind, account_active,
    account_name) of a session, or None."""
    return s.execute(_WEB_SESSION, {"b_hash": token_hash}).one_or_none()


def touch_web_session(s: Session, token_hash: str, now: datetime) -> None:
    s.execute(update(WebSession).where(WebSession.token_hash == token_hash).values(last_seen_at=now))


def delete_web_session(s: Session, token_hash: str) -> None:
    s.execute(WebSession.__table__.delete().where(WebSession.token_hash == token_hash))


def delete_user_web_sessions(s: Session, user_id: int, *, keep: str | None = None) -> None:
    q = WebSession.__table__.delete().where(WebSession.user_id == user_id)
    if keep is not None:
        q = q.where(WebSession.token_hash != keep)
    s.execute(q)


def purge_web_sessions(s: Session, now: datetime) -> None:
    s.execute(WebSession.__table__.delete().where(WebSession.expires_at <= now))


# --- portal: registrations ------------------------------------------------------------------------------

def add_registration(s: Session, row: Registration, files: list[RegistrationFile]) -> Registration:
    s.add(row)
    s.flush()
    for f in files:
        f.registration_id = row.id
        s.add(f)
    s.flush()
    return row


def registrations(s: Session, distributor_id: int | None, status: str | None = None) -> list[Registration]:
    """A distributor's registrations (None: every distributor's, for the PAC admin), newest first."""
    q = select(Registration).order_by(Registration.id.desc())
    if distributor_id is not None:
        q = q.where(Registration.distributor_id == distributor_id)
    if status is not None:
        q = q.where(Registration.status == status)
    return list(s.scalars(q.limit(500)))


def registration(s: Session, registration_id: int, distributor_id: int | None, *, lock: bool = False
                 ) -> Registration | None:
    q = select(Registration).where(Registration.id == registration_id)
    if distributor_id is not None:
        q = q.where(Registration.distributor_id == distributor_id)
    return s.scalar(q.with_for_update() if lock else q)


def registration_files(s: Session, registration_id: int) -> list[RegistrationFile]:
    """The documents of a registration, without their bytes."""
    from sqlalchemy.orm import defer

    return list(s.scalars(select(RegistrationFile).options(defer(RegistrationFile.data))
                          .where(RegistrationFile.registration_id == registration_id).order_by(RegistrationFile.id)))


def registration_file(s: Session, registration_id: int, file_id: int) -> RegistrationFile | None:
    return s.scalar(select(RegistrationFile).where(RegistrationFile.registration_id == registration_id,
                                                   RegistrationFile.id == file_id))


# --- portal: the admin's view of the system -------------------------------------------------------------

def outbox_failing(s: Session) -> dict[str, int]:
    """Per kind, the pending outbox rows whose last attempt failed."""
    q = (select(Outbox.kind, func.count()).where(Outbox.done_at.is_(None), Outbox.last_error.is_not(None))
         .group_by(Outbox.kind))
    return {k: int(n) for k, n in s.execute(q)}


def acuse_delays(s: Session, since: datetime, limit: int = 5000) -> list[timedelta]:
    """How long SAT took to acknowledge the CFDI it acknowledged since `since` (stamp to acuse)."""
    q = (select(SatAcuse.received_at, Cfdi.fecha_timbrado).join(Cfdi, Cfdi.uuid == SatAcuse.uuid)
         .where(SatAcuse.received_at >= since).order_by(SatAcuse.received_at.desc()).limit(limit))
    return [received - stamped for received, stamped in s.execute(q)]


def stamps_since(s: Session, since: datetime) -> int:
    return int(s.execute(select(func.count()).select_from(Cfdi).where(Cfdi.fecha_timbrado >= since)).scalar() or 0)


def used_credits(s: Session, account_id: int) -> int:
    return int(s.execute(select(func.coalesce(func.sum(Package.used), 0)).where(Package.account_id == account_id))
               .scalar() or 0)
# --- retention ------------------------------------------------------------------------------------------

def purge_xml_before(s: Session, before: datetime, limit: int) -> list[str | None]:
    """Delete the XML rows of up to `limit` CFDI stamped before `before` that SAT already received and
    whose cancellation, if any, is not waiting on anything; the CFDI rows stay. Returns each purged row's
    object-store key (None: the XML was in the row): the caller deletes those objects after the commit."""
    waiting = select(Cancellation.uuid).where(or_(Cancellation.code.is_(None), Cancellation.estatus == "En proceso"))
    victims = (select(CfdiXml.uuid, CfdiXml.blob).join(Cfdi, Cfdi.uuid == CfdiXml.uuid)
               .where(Cfdi.fecha_timbrado < before, Cfdi.sat_status == "recibido", Cfdi.uuid.not_in(waiting))
               .order_by(Cfdi.fecha_timbrado).limit(limit))
    rows = s.execute(victims).all()
    if rows:
        s.execute(delete(CfdiXml).where(CfdiXml.uuid.in_([u for u, _ in rows])))
    return [b for _, b in rows]


# --- operations (health, metrics): PAC-wide aggregates, no customer data --------------------------------

def ping(s: Session) -> None:
    s.execute(select(1))


def outbox_backlog(s: Session, now: datetime) -> list[tuple[str, int, datetime | None]]:
    """(kind, rows not done, oldest created_at among them) per outbox kind."""
    q = (select(Outbox.kind, func.count(), func.min(Outbox.created_at)).where(Outbox.done_at.is_(None))
         .group_by(Outbox.kind).order_by(Outbox.kind))
    return [(k, int(n), oldest) for k, n, oldest in s.execute(q)]


def credit_totals(s: Session) -> tuple[int, int]:
    """(credits sold: the packages the PAC created, not those a distributor handed down from its own;
    stamps stored) across the PAC."""
    sold = s.scalar(select(func.coalesce(func.sum(Package.size), 0)).where(Package.source_id.is_(None)))
    stamped = s.scalar(select(func.count()).select_from(Cfdi))
    return int(sold or 0), int(stamped or 0)


def cfdi_counts(s: Session) -> dict[str, int]:
    return {status: int(n) for status, n in s.execute(select(Cfdi.status, func.count()).group_by(Cfdi.status))}
# --- branding (the printed CFDI's logo and colour) ------------------------------------------------------------

def branding(s: Session, account_id: int) -> Branding | None:
    return s.get(Branding, account_id)


def branding_version(s: Session, account_id: int) -> int:
    """0 when the account has no branding (the PDF's default look)."""
    return s.scalar(select(Branding.version).where(Branding.account_id == account_id)) or 0


def put_branding(s: Session, account_id: int, *, color: str | None, logo: bytes | None, logo_width: int | None,
                 logo_height: int | None, now: datetime) -> Branding:
    """Set (or clear, with None) the account's branding. The row stays and its version only grows: a version
    names one look for good (the PDF cache's key)."""
    row = s.get(Branding, account_id, with_for_update=True)
    if row is None:
        row = Branding(account_id=account_id, version=0)
        s.add(row)
    row.color, row.logo, row.logo_width, row.logo_height = color, logo, logo_width, logo_height
    row.version = (row.version or 0) + 1
    row.updated_at = now
    s.flush()
    return row

