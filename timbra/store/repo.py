"""Queries. Every function that reads a customer's rows takes its `account_id` and filters by it."""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from timbra.store.models import (
    Account,
    AccountRfc,
    ApiKey,
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
    SatAcuse,
    User,
)

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


def spend_one(s: Session, account_id: int, now: datetime) -> int | None:
    """One statement: add one to `used` of the first-expiring spendable package; its id, or None.

    On PostgreSQL two transactions may pick the same package: the second waits for the first's row lock,
    then re-checks `used < size` on the committed row and updates nothing if it is full (None: retry)."""
    return s.execute(_SPEND_ONE, {"b_account": account_id, "b_now": now}).scalar()


_AVAILABLE = select(func.coalesce(func.sum(_p.size - _p.used), 0)).where(_SPENDABLE)


def available(s: Session, account_id: int, now: datetime) -> int:
    """Credits that can be spent now (active, unexpired packages)."""
    return int(s.execute(_AVAILABLE, {"b_account": account_id, "b_now": now}).scalar() or 0)


def packages(s: Session, account_id: int) -> list[Package]:
    return list(s.scalars(select(Package).where(Package.account_id == account_id).order_by(*_SPEND_ORDER)))


# --- CFDI -----------------------------------------------------------------------------------------------

def cfdi(s: Session, account_id: int, uuid: str) -> Cfdi | None:
    return s.scalar(select(Cfdi).where(Cfdi.account_id == account_id, Cfdi.uuid == uuid))


def cfdi_xml(s: Session, account_id: int, uuid: str) -> bytes | None:
    return s.scalar(select(CfdiXml.xml).join(Cfdi, Cfdi.uuid == CfdiXml.uuid)
                    .where(Cfdi.account_id == account_id, Cfdi.uuid == uuid))


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


_INSERT_CFDI = insert(Cfdi.__table__)
_INSERT_XML = insert(CfdiXml.__table__)
_INSERT_OUTBOX = insert(Outbox.__table__)
_INSERT_KEY = insert(IdempotencyKey.__table__)


def save_stamp(s: Session, row: dict, xml: bytes, idempotency_key: str | None, now: datetime) -> None:
    """A stamp in the caller's transaction: its Cfdi row, its XML, the outbox row that delivers it to SAT
    and the idempotency key that answers a retry. Core inserts: the ORM's unit of work costs more than
    the database here, on every stamp. The unique indexes (uuid, sello_digest, account + key) settle
    concurrent twins: the second raises IntegrityError."""
    s.execute(_INSERT_CFDI, row)
    s.execute(_INSERT_XML, {"uuid": row["uuid"], "xml": xml})
    s.execute(_INSERT_OUTBOX, {"kind": "deliver", "ref": row["uuid"], "attempts": 0, "next_attempt_at": now,
                               "created_at": now})
    if idempotency_key is not None:
        s.execute(_INSERT_KEY, {"account_id": row["account_id"], "key": idempotency_key,
                                "document_digest": row["document_digest"], "uuid": row["uuid"], "created_at": now})


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


def list_cfdis(s: Session, account_id: int, f: CfdiFilter, *, limit: int,
               after: tuple[datetime, str] | None = None) -> list[Cfdi]:
    """Newest stamp first; keyset pagination on (fecha_timbrado, uuid)."""
    q = select(Cfdi).where(Cfdi.account_id == account_id)
    if f.stamped_from is not None:
        q = q.where(Cfdi.fecha_timbrado >= f.stamped_from)
    if f.stamped_to is not None:
        q = q.where(Cfdi.fecha_timbrado < f.stamped_to)
    if f.issued_from is not None:
        q = q.where(Cfdi.fecha >= f.issued_from)
    if f.issued_to is not None:
        q = q.where(Cfdi.fecha < f.issued_to)
    for col, value in ((Cfdi.rfc_receptor, f.rfc_receptor), (Cfdi.rfc_emisor, f.rfc_emisor),
                       (Cfdi.tipo, f.tipo), (Cfdi.status, f.status)):
        if value is not None:
            q = q.where(col == value)
    if after is not None:
        when, uuid = after
        q = q.where(or_(Cfdi.fecha_timbrado < when, and_(Cfdi.fecha_timbrado == when, Cfdi.uuid < uuid)))
    q = q.order_by(Cfdi.fecha_timbrado.desc(), Cfdi.uuid.desc()).limit(limit)
    return list(s.scalars(q))


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
    return s.scalar(select(CfdiXml.xml).where(CfdiXml.uuid == uuid))


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


# --- retention ------------------------------------------------------------------------------------------

def purge_xml_before(s: Session, before: datetime, limit: int) -> int:
    """Delete the XML of up to `limit` CFDI stamped before `before` that SAT already received and whose
    cancellation, if any, is not waiting on anything; the CFDI rows stay. Returns how many were purged."""
    waiting = select(Cancellation.uuid).where(or_(Cancellation.code.is_(None), Cancellation.estatus == "En proceso"))
    victims = (select(CfdiXml.uuid).join(Cfdi, Cfdi.uuid == CfdiXml.uuid)
               .where(Cfdi.fecha_timbrado < before, Cfdi.sat_status == "recibido", Cfdi.uuid.not_in(waiting))
               .order_by(Cfdi.fecha_timbrado).limit(limit))
    uuids = list(s.scalars(victims))
    if uuids:
        s.execute(delete(CfdiXml).where(CfdiXml.uuid.in_(uuids)))
    return len(uuids)


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
