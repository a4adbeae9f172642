"""SAT's side, behind one interface: a PAC forwards every stamped CFDI and gets an acuse, then cancels,
queries status and forwards the receptor's answers.

SAT cannot be reached from here, so the default `Gateway` is `SandboxGateway`: it applies on reception the
rules SAT applies to what a PAC delivers (the TFD's SelloSAT, the CFDI's Sello, the 72-hour window) and
remembers what it received in tables of its own (`sandbox_tables`: `sandbox_sat_*`, its own MetaData, never
timbra's models or migrations), with the facts its cancellation rules need later. Cancellation, status,
pending answers and related CFDI are `sandbox_cancel`'s; the methods here delegate.
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from lxml import etree
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.exc import IntegrityError

from timbra.cfdi.credentials import Certificate, Credential
from timbra.cfdi.document import Document, parse
from timbra.cfdi.seal import verify_seal
from timbra.cfdi.tfd import MEXICO_CITY, tfd_cadena
from timbra.cfdi.trust import TrustStore
from timbra.clock import Clock
from timbra.errors import TimbraError
from timbra.gateway import (
    AnswerResult,
    CancelReceipt,
    GatewayUnavailable,
    Pending,
    Receipt,
    Related,
    SatStatus,
)
from timbra.gateway import sandbox_facts as facts
from timbra.gateway.sandbox_cancel import SandboxCancellation, verify_acuse_cancelacion
from timbra.gateway.sandbox_tables import METADATA, RECEIVED_CFDIS

__all__ = ["ACUSE_NS", "METADATA", "RECEIVED_CFDIS", "GatewayUnavailable", "Receipt", "SandboxGateway",
           "verify_acuse", "verify_acuse_cancelacion"]

# SAT does not publish the acuse it gives a PAC for a delivered CFDI: this namespace and the
# AcuseRecepcion element below are the sandbox's own format.
ACUSE_NS = "http://timbra.mx/sandbox/sat/acuse"
ACUSE_FIELDS = ("UUID", "RfcEmisor", "RfcReceptor", "RfcProvCertif", "FechaRecepcion", "CodEstatus", "Mensaje")
DELIVERY_WINDOW = timedelta(hours=72)

RECEIVED = "1"
# The sandbox's rejection codes. SAT's own stamping codes are reused where the meaning is the same
# (301 malformed XML; 302-308 and CFDI40102/CFDI40106 come from the Sello check); SAT publishes no
# numbers for the TFD checks, so those are the sandbox's (5xx).
MESSAGES = {
    RECEIVED: "Comprobante recibido.",
    "301": "XML mal formado: el documento no es un CFDI.",
    "501": "El comprobante no contiene un TimbreFiscalDigital versión 1.1.",
    "502": "FechaTimbrado del TimbreFiscalDigital no es una fecha válida.",
    "503": "SelloCFD del TimbreFiscalDigital no corresponde al Sello del comprobante.",
    "504": "NoCertificadoSAT no corresponde a un certificado de proveedor de certificación.",
    "505": "SelloSAT inválido: no corresponde a la cadena original del TimbreFiscalDigital.",
    "506": "El comprobante se entregó fuera de las 72 horas siguientes a su FechaTimbrado.",
}


class _Rejection(Exception):
    """A rule SAT applies on reception failed: answered as a rejected Receipt, never raised to callers."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message


def acuse_cadena(el: etree._Element) -> str:
    """The cadena the acuse's Sello signs: ||UUID|RfcEmisor|...|Mensaje|| with normalize-space, like SAT's."""
    return "||" + "|".join(" ".join((el.get(name) or "").split()) for name in ACUSE_FIELDS) + "||"


def verify_acuse(xml: bytes, certificate: Certificate) -> bool:
    """Whether a signed acuse's Sello verifies with `certificate` (SAT's)."""
    el = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    if el.get("NoCertificado") != certificate.no_certificado:
        return False
    try:
        sello = base64.b64decode(el.get("Sello") or "", validate=True)
    except (binascii.Error, ValueError):
        return False
    return certificate.verify(sello, acuse_cadena(el).encode("utf-8"))


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # noqa: ANN001
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")  # concurrent deliveries read while one writes
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    return engine


class SandboxGateway:
    """SAT's reception and cancellation services, locally. `unavailable = True` simulates SAT being down
    (deliver, cancel and answer raise GatewayUnavailable; for tests and demos)."""

    def __init__(self, engine_or_url: Engine | str, *, clock: Clock, pac_certificates: Iterable[Certificate],
                 signer: Credential | None = None, trust: TrustStore | None = None) -> None:
        """`trust`: the CAs whose CSDs SAT accepts; without it the CSD's issuer is not checked (the PAC
        already did), only its signature, type, RFC and validity."""
        if isinstance(engine_or_url, str):
            self._owned = True
            self.engine = (_sqlite_engine(engine_or_url) if engine_or_url.startswith("sqlite")
                           else create_engine(engine_or_url, pool_pre_ping=True))
        else:
            self._owned = False
            self.engine = engine_or_url
        self.clock = clock
        self.pac_certificates = {c.no_certificado: c for c in pac_certificates}
        self.signer = signer
        self.trust = trust
        self.unavailable = False
        METADATA.create_all(self.engine)

    def dispose(self) -> None:
        """Close the connections of an engine this gateway created from a URL."""
        if self._owned:
            self.engine.dispose()

    # --- reception ----------------------------------------------------------------------------------

    def deliver(self, xml: bytes) -> Receipt:
        if self.unavailable:
            raise GatewayUnavailable("el SAT no está disponible (simulado)")
        now = self.clock.now().astimezone(timezone.utc).replace(microsecond=0)
        try:
            doc = parse(xml)
        except TimbraError as exc:
            reason = exc.detail.get("reason")
            return self._rejected(None, "301", f"El documento no es un CFDI: {reason}" if reason else MESSAGES["301"],
                                  now)
        uuid = (doc.uuid or "").upper()
        if uuid:
            stored = self._stored(uuid)
            if stored is not None:
                return stored
        try:
            fecha_timbrado = self._check(doc, now)
        except _Rejection as r:
            return self._rejected(doc, r.code, r.message, now)
        return self._record(doc, uuid, fecha_timbrado, now)

    def _check(self, doc: Document, now: datetime) -> datetime:
        """SAT's rules on reception; returns FechaTimbrado (aware) or raises the first rejection."""
        tfd = doc.tfd
        if tfd is None or tfd.get("Version") != "1.1" or not tfd.get("UUID"):
            raise _rejection("501")
        try:
            stamped = datetime.fromisoformat(tfd.get("FechaTimbrado") or "")
        except ValueError:
            raise _rejection("502") from None
        if stamped.tzinfo is not None:
            raise _rejection("502")  # SAT writes Mexico City time without an offset
        stamped = stamped.replace(tzinfo=MEXICO_CITY)
        if "".join((tfd.get("SelloCFD") or "").split()) != "".join((doc.get("Sello") or "").split()):
            raise _rejection("503")
        pac_cert = self.pac_certificates.get(tfd.get("NoCertificadoSAT") or "")
        if pac_cert is None:
            raise _rejection("504")
        try:
            sello_sat = base64.b64decode("".join((tfd.get("SelloSAT") or "").split()), validate=True)
        except (binascii.Error, ValueError):
            sello_sat = b""
        if not sello_sat or not pac_cert.verify(sello_sat, tfd_cadena(tfd).encode("utf-8")):
            raise _rejection("505")
        self._check_seal(doc, stamped)
        if now - stamped > DELIVERY_WINDOW:
            raise _rejection("506")
        return stamped

    def _check_seal(self, doc: Document, stamped: datetime) -> None:
        """The CFDI's Sello, with the certificate judged at the moment of stamping (as the PAC did)."""
        check = verify_seal(doc, trust=self.trust or _ANY_ISSUER, fecha=None, now=stamped)
        findings = [f for f in check.findings if self.trust is not None or f.code != "308"]
        if findings:
            f = findings[0]
            raise _Rejection(f.code, f"{f.message} ({f.detail})" if f.detail else f.message)

    # --- storage ------------------------------------------------------------------------------------

    def _stored(self, uuid: str) -> Receipt | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(RECEIVED_CFDIS).where(RECEIVED_CFDIS.c.uuid == uuid)).first()
        if row is None:
            return None
        return Receipt(row.uuid, "recibido", row.code, row.message, row.received_at, row.acuse)

    def _record(self, doc: Document, uuid: str, fecha_timbrado: datetime, now: datetime) -> Receipt:
        tfd = doc.tfd
        assert tfd is not None
        emisor, receptor = _rfc(doc.emisor), _rfc(doc.receptor)
        message = MESSAGES[RECEIVED]
        acuse = self._acuse(uuid=uuid, emisor=emisor, receptor=receptor, pac=tfd.get("RfcProvCertif") or "",
                            at=now, code=RECEIVED, message=message)
        row = {"uuid": uuid, "rfc_emisor": emisor, "rfc_receptor": receptor, "total": doc.get("Total") or "0",
               "rfc_pac": tfd.get("RfcProvCertif") or "", "no_certificado_sat": tfd.get("NoCertificadoSAT"),
               "fecha_timbrado": fecha_timbrado.astimezone(timezone.utc), "received_at": now,
               "estado": "Vigente", "code": RECEIVED, "message": message, "acuse": acuse}
        try:
            with self.engine.begin() as conn:
                conn.execute(RECEIVED_CFDIS.insert().values(**row))
                facts.record(conn, doc, uuid)
        except IntegrityError:
            # Delivered twice at the same moment: the first one recorded is SAT's answer to both.
            stored = self._stored(uuid)
            if stored is None:
                raise
            return stored
        return Receipt(uuid, "recibido", RECEIVED, message, now, acuse)

    def _rejected(self, doc: Document | None, code: str, message: str, now: datetime) -> Receipt:
        """A rejection is answered, not recorded: SAT keeps nothing of a CFDI it refused."""
        tfd = doc.tfd if doc is not None else None
        uuid = ((tfd.get("UUID") if tfd is not None else None) or "").upper()
        acuse = self._acuse(uuid=uuid, emisor=_rfc(doc.emisor) if doc is not None else "",
                            receptor=_rfc(doc.receptor) if doc is not None else "",
                            pac=(tfd.get("RfcProvCertif") or "") if tfd is not None else "",
                            at=now, code=code, message=message)
        return Receipt(uuid, "rechazado", code, message, now, acuse)

    def _acuse(self, *, uuid: str, emisor: str, receptor: str, pac: str, at: datetime, code: str,
               message: str) -> bytes:
        el = etree.Element(f"{{{ACUSE_NS}}}AcuseRecepcion", nsmap={"acuse": ACUSE_NS})
        values = (uuid, emisor, receptor, pac, at.astimezone(MEXICO_CITY).strftime("%Y-%m-%dT%H:%M:%S"),
                  code, message)
        for name, value in zip(ACUSE_FIELDS, values, strict=True):
            el.set(name, value)
        if self.signer is not None:
            el.set("NoCertificado", self.signer.certificate.no_certificado)
            sello = self.signer.sign(acuse_cadena(el).encode("utf-8"))
            el.set("Sello", base64.b64encode(sello).decode("ascii"))
        return etree.tostring(el, xml_declaration=True, encoding="UTF-8")

    # --- cancellation, status, the receptor's answer, related CFDI (sandbox_cancel) ---------------------

    @property
    def _cancellation(self) -> SandboxCancellation:
        return SandboxCancellation(self.engine, self.clock, self.signer, self.trust)

    def cancel(self, xml: bytes) -> CancelReceipt:
        if self.unavailable:
            raise GatewayUnavailable("el SAT no está disponible (simulado)")
        return self._cancellation.cancel(xml)

    def answer(self, xml: bytes) -> list[AnswerResult]:
        if self.unavailable:
            raise GatewayUnavailable("el SAT no está disponible (simulado)")
        return self._cancellation.answer(xml)

    def status(self, uuid: str, rfc_emisor: str, rfc_receptor: str, total: Decimal | str) -> SatStatus:
        """ConsultaCFDIService: like SAT's, all four must match (total as a number), or "No Encontrado"."""
        return self._cancellation.status(uuid, rfc_emisor, rfc_receptor, total)

    def pending(self, rfc_receptor: str) -> list[Pending]:
        return self._cancellation.pending(rfc_receptor)

    def related(self, uuid: str, rfc: str) -> Related | None:
        return self._cancellation.related(uuid, rfc)


def _rejection(code: str) -> _Rejection:
    return _Rejection(code, MESSAGES[code])


def _rfc(el: etree._Element | None) -> str:
    return ((el.get("Rfc") if el is not None else None) or "").upper()


_ANY_ISSUER = TrustStore([])  # stands in when no trust store is given; its 308 finding is then ignored
