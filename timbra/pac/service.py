"""The stamping service: the stamp path plus accounts, credits, storage and delivery to SAT.

    validate + sign (CPU, no transaction) -> one transaction: Cfdi + XML + outbox row + idempotency key +
    one credit -> commit -> answer -> wake the delivery worker

A retry never spends twice: the same Idempotency-Key, the same bytes, or the same Sello (307) from the same
account returns the stored answer. Concurrent twins are settled by the database's unique constraints.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from timbra.cfdi.document import Document
from timbra.cfdi.rules import to_decimal
from timbra.cfdi.tfd import MEXICO_CITY, fecha_timbrado
from timbra.cfdi.validate import Validation
from timbra.clock import SYSTEM, Clock
from timbra.codes import error, finding
from timbra.errors import TimbraError
from timbra.pac import credits
from timbra.pac.accounts import Principal
from timbra.pac.stamping import Stamp, Stamper, validation_error
from timbra.store import repo
from timbra.store.db import Database
from timbra.store.models import Cfdi, CfdiXml, IdempotencyKey, Outbox

_INSERT_CFDI = insert(Cfdi.__table__)
_INSERT_XML = insert(CfdiXml.__table__)
_INSERT_OUTBOX = insert(Outbox.__table__)
_INSERT_KEY = insert(IdempotencyKey.__table__)
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")


@dataclass(frozen=True)
class StampResult:
    uuid: str
    xml: bytes
    fecha_timbrado: str
    no_certificado_sat: str
    sello_sat: str
    credits_left: int
    replayed: bool  # True: the stored answer of an earlier request; no credit was spent

    def as_dict(self) -> dict:
        return {"uuid": self.uuid, "fecha_timbrado": self.fecha_timbrado,
                "no_certificado_sat": self.no_certificado_sat, "sello_sat": self.sello_sat,
                "credits_left": self.credits_left, "replayed": self.replayed}


class DatabaseSealRegistry:
    """307 across the whole PAC: a Sello already stored, whoever stamped it."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def stamped_uuid(self, sello_digest: str) -> str | None:
        with self.db.reader() as s:
            found = repo.uuid_by_sello(s, sello_digest)
            return found[0] if found is not None else None

    def remember(self, sello_digest: str, uuid: str) -> None:
        """Nothing to do: the stored row is the memory (its unique index settles races)."""


class StampService:
    def __init__(self, db: Database, stamper: Stamper, *, clock: Clock = SYSTEM,
                 on_commit: Callable[[], None] | None = None) -> None:
        self.db = db
        self.stamper = stamper
        self.clock = clock
        self.on_commit = on_commit
        stamper.registry = DatabaseSealRegistry(db)

    def validate(self, who: Principal, data: bytes) -> Validation:
        """All findings, no stamp, no credit."""
        return self.stamper.validate(data)

    def stamp(self, who: Principal, data: bytes, idempotency_key: str | None = None) -> StampResult:
        if who.kind != "emisor":
            raise error("T102", message="Solo una cuenta de emisor timbra.")
        if idempotency_key is not None and not _IDEMPOTENCY_KEY.fullmatch(idempotency_key):
            raise error("T100", message="Idempotency-Key: de 1 a 255 caracteres ASCII visibles.")
        account_id = who.account_id
        digest = hashlib.sha256(data).hexdigest()
        with self.db.reader() as s:
            earlier = self._earlier(s, account_id, digest, idempotency_key)
            if earlier is not None:
                return earlier
            allowed = set(repo.rfcs(s, account_id))

        def rfc_in_account(doc: Document) -> None:
            rfc = (doc.emisor.get("Rfc") if doc.emisor is not None else None) or ""
            if rfc not in allowed:
                raise error("T105", detail={"rfc": rfc})

        try:
            stamp = self.stamper.stamp(data, authorize=rfc_in_account)
        except TimbraError as exc:
            stored = self._stored_for_307(account_id, exc)
            if stored is not None:
                return stored
            raise _without_other_accounts_uuid(exc) from None
        try:
            result = self._store(account_id, stamp, digest, idempotency_key)
        except IntegrityError:
            # A twin committed first (same Sello, or same Idempotency-Key): answer as it was answered.
            with self.db.reader() as s:
                earlier = self._earlier(s, account_id, digest, idempotency_key)
                if earlier is not None:
                    return earlier
                found = repo.uuid_by_sello(s, stamp.sello_digest)
                if found is not None and found[1] == account_id:
                    return self.replay(s, account_id, repo.cfdi(s, account_id, found[0]))
            if found is not None:
                raise self._307() from None
            raise
        if self.on_commit is not None:
            self.on_commit()
        return result

    # --- internals --------------------------------------------------------------------------------------

    def _store(self, account_id: int, stamp: Stamp, digest: str, idempotency_key: str | None) -> StampResult:
        now = self.clock.now()
        doc, t = stamp.doc, stamp.timbre
        receptor = doc.receptor
        row = dict(uuid=t.uuid, account_id=account_id, version=doc.version,
                   rfc_emisor=doc.emisor.get("Rfc") or "", rfc_receptor=receptor.get("Rfc") or "",
                   nombre_receptor=(receptor.get("Nombre") or "")[:300], serie=(doc.get("Serie") or "")[:25],
                   folio=(doc.get("Folio") or "")[:40], tipo=doc.get("TipoDeComprobante") or "",
                   fecha=(doc.get("Fecha") or "").strip()[:19], fecha_timbrado=_utc(t.fecha_timbrado),
                   total=to_decimal(doc.get("Total")) or Decimal(0), moneda=doc.get("Moneda") or "", status="vigente",
                   sat_status="pendiente", no_certificado_sat=t.no_certificado_sat, sello_sat=t.sello_sat,
                   sello_digest=stamp.sello_digest, document_digest=digest)
        with self.db.session() as s:
            # Core inserts: the ORM's unit of work costs more than the database here, on every stamp.
            s.execute(_INSERT_CFDI, row)
            s.execute(_INSERT_XML, {"uuid": t.uuid, "xml": stamp.xml})
            s.execute(_INSERT_OUTBOX, {"kind": "deliver", "ref": t.uuid, "attempts": 0, "next_attempt_at": now,
                                       "created_at": now})
            if idempotency_key is not None:
                s.execute(_INSERT_KEY, {"account_id": account_id, "key": idempotency_key,
                                        "document_digest": digest, "uuid": t.uuid, "created_at": now})
            credits.spend(s, account_id, now)  # last: the package row stays locked for the shortest time
            left = repo.available(s, account_id, now)
        return StampResult(t.uuid, stamp.xml, t.fecha_timbrado, t.no_certificado_sat, t.sello_sat, left, False)

    def _earlier(self, s: Session, account_id: int, digest: str, key: str | None) -> StampResult | None:
        if key is not None:
            rec = repo.idempotency(s, account_id, key)
            if rec is not None:
                if rec.document_digest != digest:
                    raise error("T106", detail={"uuid": rec.uuid})
                return self.replay(s, account_id, repo.cfdi(s, account_id, rec.uuid))
        uuid = repo.uuid_by_document(s, account_id, digest)
        return self.replay(s, account_id, repo.cfdi(s, account_id, uuid)) if uuid is not None else None

    def _stored_for_307(self, account_id: int, exc: TimbraError) -> StampResult | None:
        """A document stamped before by this account comes back with its stored stamp (as SW and PADE do),
        so a client whose connection dropped recovers it; another account's stays a 307."""
        uuids = [f.value for f in exc.findings if f.code == "307" and f.value]
        if not uuids:
            return None
        with self.db.reader() as s:
            for uuid in uuids:
                row = repo.cfdi(s, account_id, uuid.upper())
                if row is not None:
                    return self.replay(s, account_id, row)
        return None

    def replay(self, s: Session, account_id: int, row: Cfdi | None) -> StampResult:
        if row is None:  # an idempotency key whose CFDI is gone cannot happen: FK; be explicit anyway
            raise error("T900")
        xml = repo.cfdi_xml(s, account_id, row.uuid) or b""
        return StampResult(row.uuid, xml, fecha_timbrado(row.fecha_timbrado), row.no_certificado_sat, row.sello_sat,
                           repo.available(s, account_id, self.clock.now()), True)

    @staticmethod
    def _307() -> TimbraError:
        """Another account's stamp of the same Sello: a 307 that does not say which UUID it got."""
        return validation_error([finding("307", "Comprobante@Sello", detail=_STAMPED_ELSEWHERE)])


_STAMPED_ELSEWHERE = "este Sello ya fue timbrado"


def _without_other_accounts_uuid(exc: TimbraError) -> TimbraError:
    """The stamper's 307 for a Sello stamped before names that stamp's UUID; when the stamp is another
    account's (this account's own is replayed before getting here), the UUID is not the caller's to know.
    A 307 for a TimbreFiscalDigital inside the document keeps its value: it is the client's own data."""
    if not any(f.code == "307" and f.node == "Comprobante@Sello" for f in exc.findings):
        return exc
    findings = [replace(f, value=None, detail=_STAMPED_ELSEWHERE)
                if f.code == "307" and f.node == "Comprobante@Sello" else f for f in exc.findings]
    return TimbraError(exc.code, exc.message, source=exc.source, message_en=exc.message_en, detail=exc.detail,
                       findings=findings)




def _utc(fecha: str) -> datetime:
    """FechaTimbrado (Mexico City time, as written in the TFD) as the UTC instant stored."""
    return datetime.fromisoformat(fecha).replace(tzinfo=MEXICO_CITY).astimezone(timezone.utc)
