"""SAT's side of cancellation, in the sandbox: CancelaCFD (the emisor's request and SAT's signed acuse),
ConsultaCFDIService (status), the receptor's pending requests and answer (AceptacionRechazo) and
ConsultaRelacionados, on the sandbox's own tables (sandbox_tables).

The rules are `cfdi.cancelable`'s; this module applies them to what the sandbox received. Decisions:

- A request's certificate is judged *now* (`verify_cancelacion(at=now)`): SAT refuses a request signed with a
  CSD that is expired or revoked when it arrives, whatever the request's Fecha says. Fecha itself is not
  checked against now: SAT publishes no code for a stale Fecha, and the idempotent repeat of a request must
  keep its answer.
- 208, 209 and 311 (Motivo / FolioSustitucion) are answered per UUID; the request's structure (301, T180,
  T181) and its signer (302-310) are answered for the whole request, with no folios and nothing recorded.
- Only an accepted request is remembered (by the SHA-256 of its bytes): its repeat gets the same acuse bytes.
- The receptor's silence is settled lazily: every operation first turns the "En proceso" requests whose
  deadline has passed into Cancelado / "Plazo vencido" (one UPDATE), by the injected clock.
- EsCancelable is frozen at the request for a CFDI that is Cancelado or En proceso (what SAT keeps
  reporting); otherwise it is evaluated at the moment of the query.
- The acuse has the layout of SAT's since 2022 as PAC clients receive it: `<Acuse Fecha RfcEmisor>` in no
  namespace, one `<Folios xmlns="http://cancelacfd.sat.gob.mx"><UUID/><EstatusUUID/></Folios>` per UUID,
  CodEstatus on Acuse for a refused request (as SAT's CancelaCFDResult carries it), and
  `<Signature Id="SelloSAT">`. SAT signs with HMAC-SHA512 and a key of its own; the sandbox signs with its
  signer credential (rsa-sha1, `cancellation.sign_element`), so a PAC can check it with the certificate.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from lxml import etree
from signxml import DigestAlgorithm, SignatureConfiguration, SignatureMethod, XMLVerifier
from signxml.exceptions import InvalidCertificate, InvalidInput, InvalidSignature
from sqlalchemy import ColumnElement, Connection, Engine, Row, func, select
from sqlalchemy.exc import IntegrityError

from timbra.cfdi import cancellation
from timbra.cfdi.cancelable import EsCancelable, Hechos, Motivo, Sustituto, evaluar, fin_plazo_receptor, revisar_motivo
from timbra.cfdi.cancellation import NS_CANCELACION, NS_DS, NS_XSD, NS_XSI, Folio, Respuesta, check_folios
from timbra.cfdi.credentials import Certificate, Credential
from timbra.cfdi.document import _parser
from timbra.cfdi.trust import TrustStore
from timbra.clock import MEXICO_CITY, Clock
from timbra.errors import TimbraError
from timbra.gateway import (
    CANCELADO,
    CANCELADO_CON_ACEPTACION,
    CANCELADO_SIN_ACEPTACION,
    CODIGO_ENCONTRADO,
    CODIGO_NO_ENCONTRADO,
    EN_PROCESO,
    NO_ENCONTRADO,
    PLAZO_VENCIDO,
    SOLICITUD_RECHAZADA,
    VIGENTE,
    AnswerResult,
    CancelReceipt,
    FolioResult,
    Pending,
    Related,
    SatStatus,
)
from timbra.gateway import sandbox_facts as facts
from timbra.gateway.sandbox_tables import CANCELACIONES, RECEIVED_CFDIS, RELACIONES, SOLICITUDES

ACEPTADA = "201"  # EstatusUUID: solicitud de cancelación exitosa
PER_FOLIO_RULES = frozenset({"208", "209", "311"})
SUSTITUCION = "04"  # TipoRelacion of a substitute: it never blocks the cancellation of what it substitutes
VALIDACION_EFOS = "200"  # the emisor is not listed as EFOS
ANSWER_RECEIVED, NO_PENDING, ALREADY_ANSWERED, NOT_RECEPTOR, BAD_UUID = "1000", "1001", "1002", "1003", "1005"
_UUID_RE = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")
_NOT_FOUND = SatStatus(CODIGO_NO_ENCONTRADO, NO_ENCONTRADO, "", "", "")


@dataclass(frozen=True)
class SandboxCancellation:
    """SAT's cancellation services over the sandbox's tables; SandboxGateway's methods delegate here."""

    engine: Engine
    clock: Clock
    signer: Credential | None
    trust: TrustStore | None

    # --- CancelaCFD --------------------------------------------------------------------------------

    def cancel(self, xml: bytes) -> CancelReceipt:
        now = self.settle()
        digest = hashlib.sha256(xml).hexdigest()
        stored = self._stored_request(digest)
        if stored is not None:
            return stored
        try:
            request = cancellation.verify_cancelacion(xml, trust=self.trust, at=now, folio_rules=False)
            refused = _folio_rule_codes(request.folios)
        except TimbraError as exc:
            return self._refused(xml, exc.code, now)
        rfc = request.rfc_emisor.upper()
        try:
            return self._apply(digest, rfc, request.folios, refused, now)
        except IntegrityError:
            stored = self._stored_request(digest)
            if stored is not None:  # the same request, concurrently: its acuse is the answer
                return stored
        # another request created the cancellation row of one of these UUIDs first: it is there to lock now
        return self._apply(digest, rfc, request.folios, refused, now)

    def _apply(self, digest: str, rfc: str, folios: Sequence[Folio], refused: dict[str, str],
               now: datetime) -> CancelReceipt:
        """Every folio's answer and change in one transaction, with the acuse remembered in it."""
        with self.engine.begin() as conn:
            results = tuple(FolioResult(f.uuid.upper(), refused.get(f.uuid.upper())
                                        or self._cancel_folio(conn, rfc, f, now)) for f in folios)
            acuse = self._acuse(rfc, now, results, None)
            conn.execute(SOLICITUDES.insert().values(
                sha256=digest, rfc_emisor=rfc, fecha=now, acuse=acuse,
                folios=";".join(f"{r.uuid}={r.code}" for r in results)))
        return CancelReceipt(rfc, now, None, results, acuse)

    def _cancel_folio(self, conn: Connection, rfc_emisor: str, folio: Folio, now: datetime) -> str:
        """SAT's EstatusUUID for one folio, applying the change it implies."""
        uuid = folio.uuid.upper()
        cfdi = _cfdi(conn, uuid, lock=True)
        if cfdi is None:
            return "205"
        if cfdi.rfc_emisor != rfc_emisor:
            return "203"
        state = _state(conn, uuid, lock=True)
        if state is not None and state.estado == CANCELADO:
            return "202"
        if state is not None and state.estatus_cancelacion == EN_PROCESO:
            return ACEPTADA  # already waiting for the receptor: nothing changes
        h = _hechos(conn, cfdi)
        code = revisar_motivo(h, folio.motivo, folio.folio_sustitucion,
                              _sustituto(conn, folio.folio_sustitucion))
        if code:
            return code
        evaluation = evaluar(h, now)
        if evaluation.es_cancelable == EsCancelable.NO_CANCELABLE:
            return evaluation.codigo or "204"
        values: dict[str, Any] = {"es_cancelable": evaluation.es_cancelable.value, "motivo": folio.motivo,
                                  "folio_sustitucion": folio.folio_sustitucion, "requested_at": now}
        if evaluation.es_cancelable == EsCancelable.SIN_ACEPTACION:
            values |= {"estado": CANCELADO, "estatus_cancelacion": CANCELADO_SIN_ACEPTACION, "deadline": None,
                       "decided_at": now}
        else:
            values |= {"estado": VIGENTE, "estatus_cancelacion": EN_PROCESO, "deadline": fin_plazo_receptor(now),
                       "decided_at": None}
        if state is None:
            conn.execute(CANCELACIONES.insert().values(uuid=uuid, **values))
        else:  # a new request after "Solicitud rechazada" starts a new process
            conn.execute(CANCELACIONES.update().where(CANCELACIONES.c.uuid == uuid).values(**values))
        return ACEPTADA

    def _refused(self, xml: bytes, code: str, now: datetime) -> CancelReceipt:
        """A request refused as a whole: an acuse with CodEstatus and no folios; nothing is recorded."""
        rfc = _request_rfc(xml)
        return CancelReceipt(rfc, now, code, (), self._acuse(rfc, now, (), code))

    def _stored_request(self, digest: str) -> CancelReceipt | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(SOLICITUDES).where(SOLICITUDES.c.sha256 == digest)).first()
        if row is None:
            return None
        results = tuple(FolioResult(*item.split("=", 1)) for item in row.folios.split(";") if item)
        return CancelReceipt(row.rfc_emisor, row.fecha, None, results, row.acuse)

    def _acuse(self, rfc: str, fecha: datetime, folios: Iterable[FolioResult], code: str | None) -> bytes:
        root = etree.Element("Acuse", nsmap={"xsd": NS_XSD, "xsi": NS_XSI})
        root.set("Fecha", acuse_fecha(fecha))
        root.set("RfcEmisor", rfc)
        if code is not None:
            root.set("CodEstatus", code)
        ns = f"{{{NS_CANCELACION}}}"
        for r in folios:
            node = etree.SubElement(root, ns + "Folios", nsmap={None: NS_CANCELACION})  # type: ignore[dict-item]
            etree.SubElement(node, ns + "UUID").text = r.uuid
            etree.SubElement(node, ns + "EstatusUUID").text = r.code
        if self.signer is None:
            return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        return _named_sello_sat(cancellation.sign_element(root, self.signer))

    # --- the receptor's three business days ----------------------------------------------------------

    def settle(self) -> datetime:
        """Cancel the requests whose receptor let the deadline pass ("Plazo vencido"); returns now."""
        now = self.clock.now()
        c = CANCELACIONES.c
        with self.engine.begin() as conn:
            conn.execute(CANCELACIONES.update().where(c.estatus_cancelacion == EN_PROCESO, c.deadline <= now)
                         .values(estado=CANCELADO, estatus_cancelacion=PLAZO_VENCIDO, decided_at=c.deadline))
        return now

    def pending(self, rfc_receptor: str) -> list[Pending]:
        self.settle()
        c, r = CANCELACIONES.c, RECEIVED_CFDIS.c
        query = (select(c.uuid, r.rfc_emisor, r.rfc_receptor, r.total, c.requested_at, c.deadline)
                 .join(RECEIVED_CFDIS, r.uuid == c.uuid)
                 .where(c.estatus_cancelacion == EN_PROCESO, r.rfc_receptor == rfc_receptor.upper())
                 .order_by(c.requested_at, c.uuid))
        with self.engine.connect() as conn:
            return [Pending(*row) for row in conn.execute(query)]

    # --- AceptacionRechazo ---------------------------------------------------------------------------

    def answer(self, xml: bytes) -> list[AnswerResult]:
        now = self.settle()
        request = cancellation.verify_aceptacion_rechazo(xml, trust=self.trust, at=now, uuid_format=False)
        rfc = request.rfc_receptor.upper()
        with self.engine.begin() as conn:
            return [self._answer_folio(conn, rfc, r, now) for r in request.folios]

    def _answer_folio(self, conn: Connection, rfc_receptor: str, answer: Respuesta, now: datetime) -> AnswerResult:
        if not _UUID_RE.match(answer.uuid):
            return AnswerResult(answer.uuid, BAD_UUID)
        uuid = answer.uuid.upper()
        cfdi = _cfdi(conn, uuid, lock=True)
        if cfdi is None:
            return AnswerResult(uuid, NO_PENDING)
        if cfdi.rfc_receptor != rfc_receptor:
            return AnswerResult(uuid, NOT_RECEPTOR)
        state = _state(conn, uuid, lock=True)
        if state is None or state.estatus_cancelacion not in (EN_PROCESO, CANCELADO_CON_ACEPTACION,
                                                              SOLICITUD_RECHAZADA):
            return AnswerResult(uuid, NO_PENDING)
        if state.estatus_cancelacion != EN_PROCESO:
            return AnswerResult(uuid, ALREADY_ANSWERED)
        accepted = answer.respuesta == cancellation.RESPUESTAS[0]
        conn.execute(CANCELACIONES.update().where(CANCELACIONES.c.uuid == uuid).values(
            estado=CANCELADO if accepted else VIGENTE, decided_at=now,
            estatus_cancelacion=CANCELADO_CON_ACEPTACION if accepted else SOLICITUD_RECHAZADA))
        return AnswerResult(uuid, ANSWER_RECEIVED)

    # --- ConsultaCFDIService, ConsultaRelacionados -----------------------------------------------------

    def status(self, uuid: str, rfc_emisor: str, rfc_receptor: str, total: Decimal | str) -> SatStatus:
        now = self.settle()
        with self.engine.connect() as conn:
            cfdi = _cfdi(conn, uuid.upper())
            if cfdi is None or (cfdi.rfc_emisor, cfdi.rfc_receptor) != (rfc_emisor.upper(), rfc_receptor.upper()) \
                    or not _same_total(cfdi.total, total):
                return _NOT_FOUND
            state = _state(conn, cfdi.uuid)
            if state is not None and (state.estado == CANCELADO or state.estatus_cancelacion == EN_PROCESO):
                es_cancelable = state.es_cancelable
            else:
                es_cancelable = evaluar(_hechos(conn, cfdi), now).es_cancelable.value
        if state is None:
            return SatStatus(CODIGO_ENCONTRADO, cfdi.estado, es_cancelable, "", VALIDACION_EFOS)
        return SatStatus(CODIGO_ENCONTRADO, state.estado, es_cancelable, state.estatus_cancelacion, VALIDACION_EFOS)

    def related(self, uuid: str, rfc: str) -> Related | None:
        self.settle()
        with self.engine.connect() as conn:
            cfdi = _cfdi(conn, uuid.upper())
            if cfdi is None or rfc.upper() not in (cfdi.rfc_emisor, cfdi.rfc_receptor):
                return None
            rel = RELACIONES.c
            parents = _with_estado(conn, rel.parent_uuid, rel.child_uuid == cfdi.uuid)
            children = _with_estado(conn, rel.child_uuid, rel.parent_uuid == cfdi.uuid)
        return Related(cfdi.uuid, parents, children)


# --- the acuse ----------------------------------------------------------------------------------------

def acuse_fecha(instant: datetime) -> str:
    """The acuse's Fecha as SAT writes it: Mexico City time with seven fractional digits."""
    local = instant.astimezone(MEXICO_CITY)
    return f"{local:%Y-%m-%dT%H:%M:%S}.{local.microsecond:06d}0"


def verify_acuse_cancelacion(xml: bytes, certificate: Certificate) -> bool:
    """Whether these exact bytes are an Acuse whose enveloped signature covers the whole document and was
    made with `certificate`'s key (SAT's), the certificate being valid at the acuse's Fecha."""
    try:
        root = etree.fromstring(xml, _parser())
        if root.tag != "Acuse":
            return False
        fecha = datetime.fromisoformat((root.get("Fecha") or "")[:19]).replace(tzinfo=MEXICO_CITY)
        config = SignatureConfiguration(signature_methods=frozenset({SignatureMethod.RSA_SHA1}),
                                        digest_algorithms=frozenset({DigestAlgorithm.SHA1}),
                                        expect_references=1, ignore_ambiguous_key_info=True,
                                        verification_time=fecha)
        verifier = XMLVerifier()
        # as in cancellation._verify_signature: signxml's documented switch for libxml2's stray xmlns=""
        # in the C14N of a subtree (signxml issue #193); every element of an acuse but the root is namespaced
        verifier.excise_empty_xmlns_declarations = True
        result = verifier.verify(xml, x509_cert=certificate.x509, expect_config=config)
    except (etree.XMLSyntaxError, ValueError, InvalidSignature, InvalidInput, InvalidCertificate,
            CryptoInvalidSignature):
        return False
    signed = result.signed_xml  # type: ignore[union-attr]
    return signed is not None and signed.tag == "Acuse"


def _named_sello_sat(signed: bytes) -> bytes:
    """The signed acuse with Id="SelloSAT" on its Signature, like SAT's (the Id is covered neither by the
    digest, which excludes the enveloped Signature, nor by SignatureValue, which signs SignedInfo)."""
    root = etree.fromstring(signed, _parser())
    signature = root.find(f"{{{NS_DS}}}Signature")
    assert signature is not None
    signature.set("Id", "SelloSAT")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _request_rfc(xml: bytes) -> str:
    """RfcEmisor of a refused request, when it can be read at all."""
    try:
        return (etree.fromstring(xml, _parser()).get("RfcEmisor") or "").upper()
    except (etree.XMLSyntaxError, ValueError):
        return ""


def _folio_rule_codes(folios: Sequence[Folio]) -> dict[str, str]:
    """The per-UUID codes of the request's Motivo / FolioSustitucion rules, by UUID. The request's structure
    (1-500 folios, UUIDs well formed and not repeated) is checked first and raised for the whole request."""
    check_folios([Folio(f.uuid, Motivo.SIN_RELACION.value) for f in folios])
    codes: dict[str, str] = {}
    for f in folios:
        try:
            check_folios([f])
        except TimbraError as exc:
            if exc.code not in PER_FOLIO_RULES:
                raise
            codes[f.uuid.upper()] = exc.code
    return codes


# --- reading the sandbox's records -----------------------------------------------------------------------

def _cfdi(conn: Connection, uuid: str, *, lock: bool = False) -> Row[Any] | None:
    query = select(RECEIVED_CFDIS).where(RECEIVED_CFDIS.c.uuid == uuid)
    return conn.execute(query.with_for_update() if lock else query).first()


def _state(conn: Connection, uuid: str, *, lock: bool = False) -> Row[Any] | None:
    query = select(CANCELACIONES).where(CANCELACIONES.c.uuid == uuid)
    return conn.execute(query.with_for_update() if lock else query).first()


def _hechos(conn: Connection, cfdi: Row[Any]) -> Hechos:
    f = facts.load(conn, cfdi.uuid)
    return Hechos(uuid=cfdi.uuid, rfc_emisor=cfdi.rfc_emisor, rfc_receptor=cfdi.rfc_receptor,
                  tipo_de_comprobante=f.tipo_de_comprobante, total=_decimal(cfdi.total),
                  fecha_timbrado=cfdi.fecha_timbrado, tipo_cambio=f.tipo_cambio, fecha_emision=f.fecha_emision,
                  nomina=f.nomina, informacion_global=f.informacion_global,
                  carta_porte_hidrocarburos=f.carta_porte_hidrocarburos,
                  relacionados_vivos=_live_children(conn, cfdi.uuid))


def _live_children(conn: Connection, uuid: str) -> tuple[str, ...]:
    """The CFDI that relate to `uuid` and are not cancelled, except its substitutes (TipoRelacion 04)."""
    rel, c = RELACIONES.c, CANCELACIONES.c
    query = (select(rel.child_uuid).distinct()
             .outerjoin(CANCELACIONES, c.uuid == rel.child_uuid)
             .where(rel.parent_uuid == uuid, rel.tipo != SUSTITUCION,
                    (c.estado.is_(None)) | (c.estado != CANCELADO))
             .order_by(rel.child_uuid))
    return tuple(conn.scalars(query))


def _sustituto(conn: Connection, folio_sustitucion: str | None) -> Sustituto | None:
    if not folio_sustitucion:
        return None
    cfdi = _cfdi(conn, folio_sustitucion.upper())
    if cfdi is None:
        return None
    rel = RELACIONES.c
    sustituye = conn.scalars(select(rel.parent_uuid).where(rel.child_uuid == cfdi.uuid, rel.tipo == SUSTITUCION))
    return Sustituto(cfdi.uuid, cfdi.rfc_emisor, tuple(sustituye))


def _with_estado(conn: Connection, other: ColumnElement[str],
                 condition: ColumnElement[bool]) -> tuple[tuple[str, str, str], ...]:
    """(uuid, tipo, estado) of the relations matching `condition`; `other` is the related UUID's column
    (a UUID SAT never received is "No Encontrado")."""
    rel, c, r = RELACIONES.c, CANCELACIONES.c, RECEIVED_CFDIS.c
    query = (select(other, rel.tipo, func.coalesce(c.estado, r.estado, NO_ENCONTRADO))
             .select_from(RELACIONES)
             .outerjoin(RECEIVED_CFDIS, r.uuid == other)
             .outerjoin(CANCELACIONES, c.uuid == other)
             .where(condition)
             .order_by(other, rel.tipo))
    return tuple((u, tipo, estado) for u, tipo, estado in conn.execute(query))


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        return Decimal(0)


def _same_total(recorded: str, given: Decimal | str) -> bool:
    try:
        return Decimal(recorded) == Decimal(str(given))
    except InvalidOperation:
        return False
