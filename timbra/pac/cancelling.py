"""Cancelling CFDI under SAT's 2022 rules, the status of a CFDI at SAT, and the receptor's side.

The emisor asks to cancel up to 500 UUIDs. timbra checks what it can know (the UUIDs are the account's,
FolioSustitucion names a CFDI of the same emisor), signs SAT's Cancelacion (with the CSD in the vault, with
a CSD or .pfx sent in the request and never stored, or takes one the client signed, verified first), stores
the signed request and an outbox row in one transaction, and only then sends it to SAT. SAT's acuse is
stored as received. A crash after SAT accepted loses nothing: the outbox sends the same bytes again and
SAT answers with the same acuse; a client's retry answers from what is stored.

Where SAT needs the receptor's acceptance the cancellation stays "En proceso"; an outbox row polls SAT
(hourly, and at the end of the receptor's three business days) until it is cancelled (accepted, plazo
vencido) or rejected. Every state change writes an event row. The decisions of *when* SAT cancels are SAT's
(the sandbox gateway applies them); this module keeps timbra's record in step with SAT.
"""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qs, urlsplit

from timbra.cfdi.cancelable import fin_plazo_receptor
from timbra.cfdi.cancellation import (
    MAX_FOLIOS,
    Folio,
    Respuesta,
    check_folios,
    sign_aceptacion_rechazo,
    sign_cancelacion,
    verify_aceptacion_rechazo,
    verify_cancelacion,
)
from timbra.cfdi.credentials import Credential
from timbra.cfdi.trust import TrustStore
from timbra.clock import SYSTEM, Clock
from timbra.codes import cancellation_text, error
from timbra.errors import TimbraError
from timbra.gateway import (
    CANCELADO,
    CODIGO_EXPRESION_INVALIDA,
    EN_PROCESO,
    NO_ENCONTRADO,
    SOLICITUD_RECHAZADA,
    Gateway,
    GatewayUnavailable,
    Pending,
    Related,
    SatStatus,
)
from timbra.pac.accounts import Accounts, Principal
from timbra.pac.credits import spend
from timbra.pac.delivery import LEASE, Job, claim, record_failure
from timbra.pac.vault import Vault
from timbra.store import repo
from timbra.store.db import Database
from timbra.store.models import Cancellation, Cfdi

log = logging.getLogger(__name__)

SEND = "cancel-send"      # outbox: ref = cancel_requests.id, the stored request still to reach SAT
POLL = "cancel-poll"      # outbox: ref = UUID, a cancellation "En proceso" to follow at SAT
POLL_EVERY = timedelta(hours=1)
ACCEPTED = "201"
ALREADY_CANCELLED = "202"
_UUID_RE = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")

# timbra's own record of a CFDI (cfdis.status): vigente, en_proceso (cancellation waiting for the
# receptor), cancelado.
VIGENTE, EN_PROCESO_STATUS, CANCELADO_STATUS = "vigente", "en_proceso", "cancelado"


def _status_of(estado: str, estatus: str) -> str:
    if estado == CANCELADO:
        return CANCELADO_STATUS
    return EN_PROCESO_STATUS if estatus == EN_PROCESO else VIGENTE


@dataclass(frozen=True)
class Signing:
    """How to sign: `credential` (a CSD sent in the request, used once and never stored) or, when None, the
    active CSD of the RFC in the vault."""

    credential: Credential | None = None


@dataclass
class FolioAnswer:
    """The answer for one UUID of a cancellation request."""

    uuid: str
    code: str
    message: str
    message_en: str
    status: str = VIGENTE            # timbra's: vigente | en_proceso | cancelado
    estatus_cancelacion: str = ""    # SAT's EstatusCancelacion
    replayed: bool = False           # answered from a previous request (nothing sent again)
    request_id: int | None = None

    def as_dict(self) -> dict:
        return {"uuid": self.uuid, "code": self.code, "message": self.message, "message_en": self.message_en,
                "status": self.status, "estatus_cancelacion": self.estatus_cancelacion, "replayed": self.replayed,
                "acuse": self.request_id is not None and self.code not in ("T183",)}


@dataclass
class CancelResult:
    folios: list[FolioAnswer] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"folios": [f.as_dict() for f in self.folios]}


def _answer(uuid: str, code: str, **kw) -> FolioAnswer:
    if code.startswith("T"):
        from timbra.codes import CODES

        c = CODES[code]
        es, en = c.es, c.en
    else:
        es, en = cancellation_text(code)
    return FolioAnswer(uuid, code, es, en, **kw)


def parse_expression(expr: str) -> tuple[str, str, str, str] | None:
    """(id, re, rr, tt) from SAT's QR expression (the verificacfdi URL or just its ?query), or None."""
    query = urlsplit(expr.strip()).query or expr.strip().lstrip("?")
    params = {k.lower(): v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
    uuid, re_, rr, tt = (params.get(k, "").strip() for k in ("id", "re", "rr", "tt"))
    if not (_UUID_RE.match(uuid) and re_ and rr and tt):
        return None
    try:
        Decimal(tt)
    except InvalidOperation:
        return None
    return uuid.upper(), re_.upper(), rr.upper(), tt


class CancelService:
    def __init__(self, db: Database, gateway: Gateway, vault: Vault, accounts: Accounts, trust: TrustStore,
                 clock: Clock = SYSTEM, *, rfc_pac: str, credits_per_uuid: int = 0,
                 on_commit: Callable[[], None] | None = None) -> None:
        self.db = db
        self.gateway = gateway
        self.vault = vault
        self.accounts = accounts
        self.trust = trust
        self.clock = clock
        self.rfc_pac = rfc_pac
        self.credits_per_uuid = credits_per_uuid
        self.on_commit = on_commit
        self.lease = LEASE

    # --- the emisor's request -------------------------------------------------------------------------

    def cancel(self, who: Principal, folios: Sequence[Folio], signing: Signing = Signing(), *,
               account_id: int | None = None) -> CancelResult:
        """Cancel `folios` (1-500, each with its Motivo and, for 01, FolioSustitucion) signing with the vault's
        CSD or the one in `signing`. Each UUID gets SAT's answer (201 accepted; 202-212), or one timbra
        knows without asking SAT (205 not a CFDI of the account; 202 already cancelled; 203 the CSD is of
        another RFC; 208 the substitute is not the emisor's), or the stored one of an earlier request."""
        acc = self.accounts.scope(who, account_id)
        folios = [Folio(f.uuid.strip().upper(), f.motivo, (f.folio_sustitucion or "").strip().upper() or None)
                  for f in folios]
        check_folios(folios)
        plan = self._plan(acc, folios)
        groups: dict[str, list[Folio]] = {}
        for f in plan.to_send:
            rfc = plan.cfdis[f.uuid].rfc_emisor
            cred = signing.credential
            if cred is not None and cred.certificate.rfc != rfc:
                plan.answers[f.uuid] = _answer(f.uuid, "203")
                continue
            groups.setdefault(rfc, []).append(f)
        now = self.clock.now()
        signed = []
        for rfc, group in groups.items():
            cred = signing.credential or self.vault.credential(acc, rfc)
            signed.append((rfc, group, sign_cancelacion(cred, now, group, rfc_emisor=rfc),
                           "csd" if signing.credential else "vault"))
        request_ids = self._store(acc, signed, now) + plan.unsent
        return self._finish(acc, folios, plan, request_ids)

    def cancel_signed(self, who: Principal, xml: bytes, *, account_id: int | None = None) -> CancelResult:
        """Cancel with a Cancelacion the client signed: its signature, signer and folios are verified before
        anything else (301-311), its RfcEmisor must be one of the account's RFCs (T105) and every UUID a CFDI
        of the account (T182). The bytes go to SAT as received."""
        request = verify_cancelacion(xml, trust=self.trust, at=self.clock.now())
        acc = self.accounts.scope(who, account_id)
        if request.rfc_emisor.upper() not in self.accounts.rfcs(acc):
            raise error("T105", detail={"rfc": request.rfc_emisor})
        folios = [Folio(f.uuid.upper(), f.motivo, (f.folio_sustitucion or "").upper() or None)
                  for f in request.folios]
        plan = self._plan(acc, folios)
        foreign = [u for u, a in plan.answers.items() if a.code == "205"
                   or (u in plan.cfdis and plan.cfdis[u].rfc_emisor != request.rfc_emisor.upper())]
        if foreign:
            raise error("T182", detail={"uuids": sorted(foreign)})
        ids = list(plan.unsent)
        if plan.to_send:
            ids += self._store(acc, [(request.rfc_emisor.upper(), plan.to_send, xml, "client")], self.clock.now())
        return self._finish(acc, folios, plan, ids)

    @dataclass
    class _Plan:
        cfdis: dict[str, Cfdi]
        answers: dict[str, FolioAnswer]
        to_send: list[Folio]
        unsent: list[int]

    def _plan(self, acc: int, folios: list[Folio]) -> _Plan:
        """What each UUID needs: an answer timbra knows now, a new request, or the send of a stored one."""
        uuids = [f.uuid for f in folios]
        sustitutos = [f.folio_sustitucion for f in folios if f.folio_sustitucion]
        with self.db.reader() as s:
            cfdis = repo.cfdis_by_uuid(s, acc, uuids + sustitutos)
            previous = repo.cancellations_by_uuid(s, acc, uuids)
        plan = CancelService._Plan(cfdis, {}, [], [])
        for f in folios:
            row, prev = cfdis.get(f.uuid), previous.get(f.uuid)
            if row is None:
                plan.answers[f.uuid] = _answer(f.uuid, "205")
            elif prev is not None and prev.code is None:
                if prev.request_id not in plan.unsent:
                    plan.unsent.append(prev.request_id)  # stored, SAT's answer not yet in: send it, once
            elif prev is not None and prev.code == ACCEPTED and prev.estatus != SOLICITUD_RECHAZADA:
                plan.answers[f.uuid] = self._stored_answer(prev, row, replayed=True)
            elif row.status == CANCELADO_STATUS:
                plan.answers[f.uuid] = _answer(f.uuid, "202", status=CANCELADO_STATUS)
            elif f.folio_sustitucion and (f.folio_sustitucion not in cfdis
                                          or cfdis[f.folio_sustitucion].rfc_emisor != row.rfc_emisor):
                plan.answers[f.uuid] = _answer(f.uuid, "208")
            else:
                plan.to_send.append(f)
        return plan

    def _store(self, acc: int, signed: list[tuple[str, list[Folio], bytes, str]], now: datetime) -> list[int]:
        """The signed requests, their cancellations, an outbox row each and the event, in one transaction."""
        ids = []
        if not signed:
            return ids
        with self.db.session() as s:
            for rfc, group, xml, signed_by in signed:
                request_id = repo.add_cancel_request(s, account_id=acc, rfc_emisor=rfc, signed_by=signed_by, xml=xml,
                                                     now=now)
                repo.put_cancellations(s, account_id=acc, request_id=request_id, now=now,
                                       folios=[(f.uuid, f.motivo, f.folio_sustitucion) for f in group])
                for f in group:
                    repo.add_event(s, acc, f.uuid, "cancelacion.solicitada",
                                   {"motivo": f.motivo, "folio_sustitucion": f.folio_sustitucion,
                                    "request_id": request_id}, now)
                    for _ in range(self.credits_per_uuid):
                        spend(s, acc, now)
                # Sent right after this commit; the worker takes the row only if that send did not finish.
                repo.add_outbox(s, SEND, str(request_id), now + self.lease, now)
                ids.append(request_id)
        return ids

    def _finish(self, acc: int, folios: list[Folio], plan: _Plan, request_ids: list[int]) -> CancelResult:
        """Send each request now (the worker retries what SAT does not answer) and answer every UUID."""
        for request_id in request_ids:
            try:
                self.send(request_id)
            except GatewayUnavailable as exc:
                log.warning("SAT no disponible al cancelar (solicitud %s): %s", request_id, exc)
        waiting = [f.uuid for f in folios if f.uuid not in plan.answers]
        with self.db.reader() as s:
            rows = repo.cancellations_by_uuid(s, acc, waiting)
            cfdis = repo.cfdis_by_uuid(s, acc, waiting)
        for uuid in waiting:
            prev = rows[uuid]
            if prev.code is None:
                plan.answers[uuid] = _answer(uuid, "T183", request_id=prev.request_id)
            else:
                plan.answers[uuid] = self._stored_answer(prev, cfdis[uuid])
        return CancelResult([plan.answers[f.uuid] for f in folios])

    @staticmethod
    def _stored_answer(prev: Cancellation, row: Cfdi, *, replayed: bool = False) -> FolioAnswer:
        return _answer(prev.uuid, prev.code or "T183", status=row.status, estatus_cancelacion=prev.estatus,
                       replayed=replayed, request_id=prev.request_id)

    # --- talking to SAT (also what the worker runs) ---------------------------------------------------

    def send(self, request_id: int) -> bool:
        """Send a stored request to SAT and record its acuse and each UUID's state; False when it had been
        recorded already. Raises GatewayUnavailable (the outbox row stays for the worker)."""
        with self.db.reader() as s:
            req = repo.cancel_request(s, request_id)
            if req is None or req.acuse is not None:
                return False
            xml = req.xml
        receipt = self.gateway.cancel(xml)
        now = self.clock.now()
        states: dict[str, SatStatus] = {}
        # SAT's state of the UUIDs it accepted now, or had cancelled already (202: e.g. on SAT's portal).
        accepted = {f.uuid.upper() for f in receipt.folios if f.code in (ACCEPTED, ALREADY_CANCELLED)}
        with self.db.reader() as s:
            rows = repo.cancellations_of_request(s, request_id)
            cfdis = repo.cfdis_any(s, [r.uuid for r in rows if r.uuid in accepted])
        for uuid, c in cfdis.items():
            states[uuid] = self.gateway.status(uuid, c.rfc_emisor, c.rfc_receptor, str(c.total))
        statuses: dict[str, list[str]] = {}
        codes = {f.uuid.upper(): f.code for f in receipt.folios}
        with self.db.session() as s:
            req = repo.lock_cancel_request(s, request_id)
            if req is None or req.acuse is not None:
                return False  # another run recorded it meanwhile
            req.acuse, req.code, req.sent_at = receipt.xml, receipt.code, now
            for row in repo.cancellations_of_request(s, request_id):
                if row.request_id != request_id or row.code is not None:
                    continue
                code = codes.get(row.uuid) or receipt.code or "205"  # SAT said nothing of it: unknown
                row.code, row.updated_at = code, now
                st = states.get(row.uuid)
                if code != ACCEPTED:
                    repo.add_event(s, row.account_id, row.uuid, "cancelacion.no_aceptada",
                                   {"code": code, "request_id": request_id}, now)
                    if code == ALREADY_CANCELLED and st is not None and st.estado == CANCELADO:
                        self._apply(s, row, st.estado, st.estatus_cancelacion, now, statuses)
                    continue
                self._apply(s, row, st.estado if st else "Vigente", st.estatus_cancelacion if st else EN_PROCESO,
                            now, statuses)
                if row.estatus == EN_PROCESO:
                    repo.add_outbox(s, POLL, row.uuid, self._next_poll(now, now), now)
            for status, uuids in statuses.items():
                repo.set_cfdi_status(s, uuids, status)
            repo.finish_outbox_ref(s, SEND, str(request_id), now)
        return True

    def _apply(self, s, row: Cancellation, estado: str, estatus: str, now: datetime,
               statuses: dict[str, list[str]] | None = None) -> bool:
        """Make timbra's record follow SAT's; an event for a change. True when the process ended. With
        `statuses` the CFDI's new status is collected there (status -> UUIDs) for one UPDATE per status."""
        status = _status_of(estado, estatus)
        if statuses is None:
            repo.set_cfdi_status(s, [row.uuid], status)
        else:
            statuses.setdefault(status, []).append(row.uuid)
        if row.estatus != estatus:
            row.estatus, row.updated_at = estatus, now
            kind = {CANCELADO_STATUS: "cancelacion.cancelada", EN_PROCESO_STATUS: "cancelacion.en_proceso"}.get(
                status, "cancelacion.rechazada")
            repo.add_event(s, row.account_id, row.uuid, kind, {"estado": estado, "estatus_cancelacion": estatus}, now)
        return status != EN_PROCESO_STATUS

    def _next_poll(self, requested_at: datetime, now: datetime) -> datetime:
        """Hourly, and right at the end of the receptor's three business days."""
        deadline = fin_plazo_receptor(requested_at)
        return min(now + POLL_EVERY, deadline) if deadline > now else now + POLL_EVERY

    def follow(self, uuid: str) -> bool:
        """Ask SAT where a cancellation "En proceso" stands and record it; True when it has ended."""
        with self.db.reader() as s:
            row, c = repo.cancellation(s, uuid), repo.cfdi_any(s, uuid)
        if row is None or c is None or row.code != ACCEPTED or row.estatus != EN_PROCESO:
            return True
        st = self.gateway.status(uuid, c.rfc_emisor, c.rfc_receptor, str(c.total))
        if st.estado == NO_ENCONTRADO:
            return False
        with self.db.session() as s:
            row = repo.cancellation(s, uuid)
            if row is None or row.estatus != EN_PROCESO:
                return True
            return self._apply(s, row, st.estado, st.estatus_cancelacion, self.clock.now())

    # --- the worker ------------------------------------------------------------------------------------

    def run_once(self, limit: int = 50) -> int:
        """Send stored requests SAT has not answered and follow cancellations in process whose time came."""
        now = self.clock.now()
        done = 0
        for job in claim(self.db, SEND, now, limit, self.lease):
            done += 1
            self._job(job, lambda j: self.send(int(j.ref)) or True)
        for job in claim(self.db, POLL, now, limit, self.lease):
            done += 1
            self._job(job, self._poll)
        return done

    def _poll(self, job: Job) -> bool:
        if self.follow(job.ref):
            return True
        with self.db.session() as s:
            row = repo.cancellation(s, job.ref)
            requested = row.requested_at if row is not None else self.clock.now()
            repo.reschedule_outbox(s, job.outbox_id, job.attempt, self._next_poll(requested, self.clock.now()))
        return False

    def _job(self, job: Job, work: Callable[[Job], bool]) -> None:
        try:
            finished = work(job)
        except Exception as exc:  # noqa: BLE001 - any failure leaves the row pending, never lost
            if not isinstance(exc, GatewayUnavailable):
                log.exception("error en el trabajo de cancelación %s %s", job.outbox_id, job.ref)
            record_failure(self.db, job, exc, self.clock.now())
            return
        if finished:
            with self.db.session() as s:
                repo.finish_outbox(s, job.outbox_id, self.clock.now())

    # --- reading ---------------------------------------------------------------------------------------

    def status(self, who: Principal, uuid: str, account_id: int | None = None) -> dict:
        """SAT's ConsultaCFDIService answer for one of the account's CFDI, with timbra's record of its
        cancellation. A state SAT reached that timbra has not recorded yet (the worker polls hourly) is
        recorded now."""
        acc = self.accounts.scope(who, account_id)
        uuid = uuid.strip().upper()
        with self.db.reader() as s:
            c = repo.cfdis_by_uuid(s, acc, [uuid]).get(uuid)
            row = repo.cancellations_by_uuid(s, acc, [uuid]).get(uuid)
        if c is None:
            raise error("T103", detail={"uuid": uuid})
        st = self.gateway.status(uuid, c.rfc_emisor, c.rfc_receptor, str(c.total))
        in_process = row is not None and row.code == ACCEPTED and row.estatus == EN_PROCESO
        if in_process and st.estado != NO_ENCONTRADO and st.estatus_cancelacion != EN_PROCESO:
            self.follow(uuid)
            with self.db.reader() as s:
                c = repo.cfdis_by_uuid(s, acc, [uuid])[uuid]
                row = repo.cancellations_by_uuid(s, acc, [uuid]).get(uuid)
        out = status_dict(st)
        out["uuid"] = uuid
        out["status"] = c.status
        out["cancelacion"] = None if row is None else {
            "code": row.code, "motivo": row.motivo, "folio_sustitucion": row.folio_sustitucion,
            "estatus_cancelacion": row.estatus, "requested_at": row.requested_at.isoformat(),
            "updated_at": row.updated_at.isoformat()}
        return out

    def status_by_expression(self, expression: str) -> dict:
        """SAT's public ConsultaCFDIService by the QR expression (?id=&re=&rr=&tt=&fe=): any CFDI SAT holds,
        whoever asks, exactly as SAT answers it (601 for an expression that is not one)."""
        parsed = parse_expression(expression)
        if parsed is None:
            return status_dict(SatStatus(CODIGO_EXPRESION_INVALIDA, NO_ENCONTRADO, "", "", ""))
        uuid, re_, rr, tt = parsed
        return {**status_dict(self.gateway.status(uuid, re_, rr, tt)), "uuid": uuid}

    def acuse(self, who: Principal, uuid: str, account_id: int | None = None) -> bytes:
        """SAT's acuse de cancelación of the request that carries the UUID, as SAT sent it."""
        acc = self.accounts.scope(who, account_id)
        with self.db.reader() as s:
            req = repo.cancel_acuse(s, acc, uuid.strip().upper())
        if req is None or req.acuse is None:
            raise error("T103", message="No hay acuse de cancelación para este UUID (sin solicitud, o el SAT aún "
                                        "no responde).",
                        message_en="No cancellation acuse for this UUID (no request, or SAT has not answered yet).",
                        detail={"uuid": uuid})
        return req.acuse

    def related(self, who: Principal, uuid: str, account_id: int | None = None) -> Related:
        acc = self.accounts.scope(who, account_id)
        uuid = uuid.strip().upper()
        with self.db.reader() as s:
            c = repo.cfdis_by_uuid(s, acc, [uuid]).get(uuid)
        if c is None:
            raise error("T103", detail={"uuid": uuid})
        found = self.gateway.related(uuid, c.rfc_emisor)
        return found if found is not None else Related(uuid, (), ())

    def events(self, who: Principal, uuid: str | None = None, *, account_id: int | None = None,
               after_id: int = 0, limit: int = 500) -> list[dict]:
        acc = self.accounts.scope(who, account_id)
        uuid = uuid.strip().upper() if uuid else None
        with self.db.reader() as s:
            rows = repo.events(s, acc, uuid, after_id=after_id, limit=max(1, min(limit, 500)))
            # One CFDI's events: a UUID the account neither stamped nor answered (as receptor) is not found,
            # as on every other /cfdi/{uuid} route; never an empty list that tells nothing apart.
            if uuid is not None and not rows and after_id == 0 and repo.cfdi(s, acc, uuid) is None:
                raise error("T103", detail={"uuid": uuid})
        return [{"id": e.id, "uuid": e.uuid, "kind": e.kind, "data": json.loads(e.data),
                 "created_at": e.created_at.isoformat()} for e in rows]

    # --- the receptor's side --------------------------------------------------------------------------

    def pending(self, who: Principal, account_id: int | None = None) -> list[Pending]:
        """The cancellations waiting for an answer from any of the account's RFCs (as receptor)."""
        acc = self.accounts.scope(who, account_id)
        out: list[Pending] = []
        for rfc in self.accounts.rfcs(acc):
            out.extend(self.gateway.pending(rfc))
        return sorted(out, key=lambda p: (p.requested_at, p.uuid))

    def answer(self, who: Principal, uuid: str, respuesta: str, signing: Signing = Signing(), *,
               account_id: int | None = None) -> dict:
        """Accept or reject one pending cancellation, signing SAT's SolicitudAceptacionRechazo with the
        receptor's CSD (the vault's or the one in `signing`)."""
        acc = self.accounts.scope(who, account_id)
        uuid = uuid.strip().upper()
        if respuesta not in ("Aceptacion", "Rechazo"):
            raise error("T100", message="respuesta: Aceptacion o Rechazo.",
                        message_en="respuesta: Aceptacion or Rechazo.")
        waiting = {p.uuid.upper(): p for p in self.pending(who, acc)}
        if uuid not in waiting:
            raise error("T184", detail={"uuid": uuid})
        rfc = waiting[uuid].rfc_receptor
        cred = signing.credential or self.vault.credential(acc, rfc)
        xml = sign_aceptacion_rechazo(cred, self.clock.now(), [Respuesta(uuid, respuesta)], rfc_pac=self.rfc_pac,
                                      rfc_receptor=rfc)
        return self._answer(acc, rfc, [Respuesta(uuid, respuesta)], xml)[0]

    def answer_signed(self, who: Principal, xml: bytes, *, account_id: int | None = None) -> list[dict]:
        """A SolicitudAceptacionRechazo the receptor signed, verified first; its RfcReceptor must be one of the
        account's RFCs."""
        request = verify_aceptacion_rechazo(xml, trust=self.trust, at=self.clock.now())
        acc = self.accounts.scope(who, account_id)
        if request.rfc_receptor.upper() not in self.accounts.rfcs(acc):
            raise error("T105", detail={"rfc": request.rfc_receptor})
        return self._answer(acc, request.rfc_receptor.upper(), list(request.folios), xml)

    def _answer(self, acc: int, rfc: str, folios: list[Respuesta], xml: bytes) -> list[dict]:
        now = self.clock.now()
        with self.db.session() as s:
            ids = [repo.add_cancel_answer(s, account_id=acc, uuid=f.uuid.upper(), rfc_receptor=rfc,
                                          respuesta=f.respuesta, xml=xml, now=now).id for f in folios]
        results = {r.uuid.upper(): r.code for r in self.gateway.answer(xml)}
        out = []
        with self.db.session() as s:
            for answer_id, f in zip(ids, folios, strict=True):
                uuid = f.uuid.upper()
                code = results.get(uuid, "1001")
                repo.set_cancel_answer_code(s, answer_id, code)
                repo.add_event(s, acc, uuid, "cancelacion.respuesta_receptor",
                               {"respuesta": f.respuesta, "code": code}, now)
                repo.hasten_outbox(s, POLL, uuid, now)
                es, en = cancellation_text(code)
                out.append({"uuid": uuid, "respuesta": f.respuesta, "code": code, "message": es, "message_en": en})
        for item in out:  # the emisor's record, when timbra holds the CFDI, follows at once
            if item["code"] == "1000":
                try:
                    self.follow(item["uuid"])
                except (GatewayUnavailable, TimbraError):
                    pass  # the poll row, hastened above, catches up
        if self.on_commit is not None:
            self.on_commit()
        return out


def status_dict(st: SatStatus) -> dict:
    return {"codigo_estatus": st.codigo_estatus, "estado": st.estado, "es_cancelable": st.es_cancelable,
            "estatus_cancelacion": st.estatus_cancelacion, "validacion_efos": st.validacion_efos}


__all__ = ["MAX_FOLIOS", "CancelResult", "CancelService", "FolioAnswer", "Signing", "parse_expression",
           "status_dict"]
