"""The sandbox SAT's own tables (`sandbox_sat_*`, their own MetaData, created with create_all: never timbra's
models or migrations). A sandbox database made before a table existed gets it on the next start; a CFDI
received before the facts were recorded has no `sandbox_sat_hechos` row and counts as an Ingreso without
any of the flags.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)


class UTC(TypeDecorator):
    """Aware UTC datetimes, kept naive UTC in the column so SQLite and PostgreSQL store the same thing."""

    impl = DateTime()
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:  # noqa: D102
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:  # noqa: D102
        return None if value is None else value.replace(tzinfo=timezone.utc)


METADATA = MetaData()

# What SAT keeps of each CFDI it received: enough for "consulta" (UUID, RFCs and total) and the acuse it
# gave, so a second delivery gets the same one. `estado` is the estado at reception ("Vigente"): what
# cancellation changed lives in CANCELACIONES.
RECEIVED_CFDIS = Table(
    "sandbox_sat_cfdis", METADATA,
    Column("uuid", String(36), primary_key=True),
    Column("rfc_emisor", String(13), nullable=False),
    Column("rfc_receptor", String(13), nullable=False),
    Column("total", String(40), nullable=False),  # as written in the CFDI; compared as Decimal
    Column("rfc_pac", String(13), nullable=False),
    Column("no_certificado_sat", String(20), nullable=False),
    Column("fecha_timbrado", UTC(), nullable=False),
    Column("received_at", UTC(), nullable=False),
    Column("estado", String(16), nullable=False),
    Column("code", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("acuse", LargeBinary, nullable=False),
)

# The facts of a received CFDI that SAT's cancellation rules need (cfdi.cancelable.Hechos).
HECHOS = Table(
    "sandbox_sat_hechos", METADATA,
    Column("uuid", String(36), primary_key=True),
    Column("tipo_de_comprobante", String(1), nullable=False),
    Column("tipo_cambio", String(40), nullable=False),       # "1" when absent (MXN)
    Column("fecha_emision", UTC(), nullable=True),           # Comprobante@Fecha in LugarExpedicion's zone
    Column("nomina", Boolean, nullable=False),
    Column("informacion_global", Boolean, nullable=False),
    Column("carta_porte_hidrocarburos", Boolean, nullable=False),
)

# child relates to parent: CfdiRelacionado (tipo = TipoRelacion) or Pagos DoctoRelacionado (tipo "pago").
RELACIONES = Table(
    "sandbox_sat_relaciones", METADATA,
    Column("child_uuid", String(36), primary_key=True),
    Column("parent_uuid", String(36), primary_key=True),
    Column("tipo", String(8), primary_key=True),
    Index("ix_sandbox_sat_relaciones_parent", "parent_uuid"),
)

# The cancellation state of a CFDI, one row per UUID from its first cancellation request on. No row: the
# estado at reception, no EstatusCancelacion.
CANCELACIONES = Table(
    "sandbox_sat_cancelaciones", METADATA,
    Column("uuid", String(36), primary_key=True),
    Column("estado", String(16), nullable=False),               # Vigente | Cancelado
    Column("estatus_cancelacion", String(32), nullable=False),  # En proceso | Plazo vencido | ...
    Column("es_cancelable", String(32), nullable=False),        # EsCancelable when requested
    Column("motivo", String(2), nullable=False),
    Column("folio_sustitucion", String(36), nullable=True),
    Column("requested_at", UTC(), nullable=False),
    Column("deadline", UTC(), nullable=True),                   # the receptor's answer is due before it
    Column("decided_at", UTC(), nullable=True),
    Index("ix_sandbox_sat_cancelaciones_estatus", "estatus_cancelacion", "deadline"),
)

# Every accepted Cancelacion request by the SHA-256 of its bytes: the same request gets the same acuse.
SOLICITUDES = Table(
    "sandbox_sat_solicitudes", METADATA,
    Column("sha256", String(64), primary_key=True),
    Column("rfc_emisor", String(13), nullable=False),
    Column("fecha", UTC(), nullable=False),
    Column("folios", Text, nullable=False),  # "UUID=EstatusUUID" joined by ";", in the request's order
    Column("acuse", LargeBinary, nullable=False),
)
