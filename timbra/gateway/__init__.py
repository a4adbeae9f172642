"""SAT's side, behind one interface: a PAC delivers every stamped CFDI to SAT and gets an acuse.

SAT cannot be reached from here: `sandbox.SandboxGateway` (the default) applies SAT's rules itself, and
`sandbox_ca.SandboxCA` plays SAT's certificate authority. A production gateway implements `Gateway` too.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

Status = Literal["recibido", "rechazado"]


class GatewayUnavailable(Exception):
    """SAT did not answer (timeout, maintenance): a transient failure the caller retries later."""


@dataclass(frozen=True)
class Receipt:
    """SAT's answer to a delivery: the acuse de envío and what it says."""

    uuid: str
    status: Status
    code: str
    message: str
    received_at: datetime  # aware UTC
    xml: bytes  # the acuse de envío




# --- cancellation, status and the receptor's answer (SAT's CancelaCFD, ConsultaCFDIService, AceptacionRechazo)

# ConsultaCFDIService's texts, SAT's exact words.
VIGENTE, CANCELADO, NO_ENCONTRADO = "Vigente", "Cancelado", "No Encontrado"
EN_PROCESO = "En proceso"
PLAZO_VENCIDO = "Plazo vencido"
CANCELADO_SIN_ACEPTACION = "Cancelado sin aceptación"
CANCELADO_CON_ACEPTACION = "Cancelado con aceptación"
SOLICITUD_RECHAZADA = "Solicitud rechazada"
CODIGO_ENCONTRADO = "S - Comprobante obtenido satisfactoriamente."
CODIGO_NO_ENCONTRADO = "N - 602: Comprobante no encontrado."
CODIGO_EXPRESION_INVALIDA = "N - 601: La expresión impresa proporcionada no es válida."


@dataclass(frozen=True)
class FolioResult:
    """SAT's answer for one UUID of a cancellation request: EstatusUUID (201 accepted; 202-212 refused)."""

    uuid: str
    code: str


@dataclass(frozen=True)
class CancelReceipt:
    """SAT's acuse de cancelación: a request-level `code` (None when the request itself was accepted; 301,
    302, 303, 304, 305, 308, 310 when it was not, and then `folios` is empty), one FolioResult per Folio,
    and the signed acuse XML exactly as SAT sent it (its XMLDSig keeps verifying on these bytes)."""

    rfc_emisor: str
    fecha: datetime  # aware
    code: str | None
    folios: tuple[FolioResult, ...]
    xml: bytes


@dataclass(frozen=True)
class SatStatus:
    """ConsultaCFDIService's answer."""

    codigo_estatus: str
    estado: str               # Vigente | Cancelado | No Encontrado
    es_cancelable: str        # "" when not found | Cancelable sin aceptación | con aceptación | No cancelable
    estatus_cancelacion: str  # "" | En proceso | Plazo vencido | Cancelado sin/con aceptación | Solicitud rechazada
    validacion_efos: str      # "200": the emisor is not listed as EFOS


@dataclass(frozen=True)
class Pending:
    """A cancellation waiting for the receptor's answer (SAT's ConsultaPendientes, with the facts SAT's
    portal shows)."""

    uuid: str
    rfc_emisor: str
    rfc_receptor: str
    total: str
    requested_at: datetime   # aware
    deadline: datetime       # aware: silence after it is acceptance ("Plazo vencido")


@dataclass(frozen=True)
class AnswerResult:
    """SAT's answer for one UUID of a SolicitudAceptacionRechazo: 1000 received; 1001 no pending request;
    1002 already answered; 1003 the signer is not the receptor; 1005 malformed UUID."""

    uuid: str
    code: str


@dataclass(frozen=True)
class Related:
    """SAT's ConsultaRelacionados: the CFDI that relate to `uuid` (children, which block its cancellation
    while live) and those it relates to (parents), each with its TipoRelacion ("pago" for a Pagos
    DoctoRelacionado) and estado."""

    uuid: str
    parents: tuple[tuple[str, str, str], ...]   # (uuid, tipo_relacion, estado)
    children: tuple[tuple[str, str, str], ...]


class Gateway(Protocol):
    def deliver(self, xml: bytes) -> Receipt:
        """Deliver a stamped CFDI. Idempotent: the same UUID delivered again gets the same acuse.

        Raises GatewayUnavailable when SAT cannot be reached; a rejection is a Receipt, not an error."""

    def cancel(self, xml: bytes) -> CancelReceipt:
        """Forward a signed Cancelacion. Idempotent: the same signed request again gets the same acuse.
        SAT applies its rules per UUID (RMF 2.7.1.35, related CFDI, the yearly deadline) and starts the
        receptor's three business days where acceptance is needed. Raises GatewayUnavailable."""

    def status(self, uuid: str, rfc_emisor: str, rfc_receptor: str, total: str) -> SatStatus:
        """ConsultaCFDIService: all four must match SAT's record, or the answer is "No Encontrado"."""

    def pending(self, rfc_receptor: str) -> list[Pending]:
        """The cancellations waiting for this receptor's answer."""

    def answer(self, xml: bytes) -> list[AnswerResult]:
        """Forward a signed SolicitudAceptacionRechazo (the receptor accepts or rejects). A request-level
        failure (bad signature, not a CSD, ...) raises TimbraError with SAT's code."""

    def related(self, uuid: str, rfc: str) -> Related | None:
        """ConsultaRelacionados for the CFDI's emisor or receptor `rfc`; None when SAT has no such CFDI."""
