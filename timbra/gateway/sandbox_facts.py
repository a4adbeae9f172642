"""What the sandbox SAT records of a received CFDI for its cancellation rules: the facts of
`cfdi.cancelable.Hechos` and the CFDI's relations (CfdiRelacionados, Pagos DoctoRelacionado)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree
from sqlalchemy import Connection, select

from timbra.cfdi.document import Document
from timbra.clock import MEXICO_CITY
from timbra.gateway.sandbox_tables import HECHOS, RELACIONES
from timbra.sat.catalogs import catalogs

NS_NOMINA12 = "http://www.sat.gob.mx/nomina12"
NS_PAGOS = ("http://www.sat.gob.mx/Pagos20", "http://www.sat.gob.mx/Pagos")
CARTA_PORTE_PREFIX = "http://www.sat.gob.mx/CartaPorte"
# RMF 2.7.1.35 fr. IV: a traslado whose CartaPorte carries these claves needs the receptor's acceptance.
CLAVES_HIDROCARBUROS = frozenset({"15101505", "15101514", "15101515"})
PAGO = "pago"  # the tipo of a Pagos DoctoRelacionado relation


@dataclass(frozen=True)
class Facts:
    """One row of HECHOS."""

    tipo_de_comprobante: str
    tipo_cambio: Decimal
    fecha_emision: datetime | None
    nomina: bool
    informacion_global: bool
    carta_porte_hidrocarburos: bool


DEFAULT_FACTS = Facts("I", Decimal(1), None, False, False, False)
"""A CFDI received before the facts were recorded."""


def facts_of(doc: Document) -> Facts:
    namespaces = doc.complement_namespaces()
    return Facts(
        tipo_de_comprobante=doc.get("TipoDeComprobante") or "I",
        tipo_cambio=_decimal(doc.get("TipoCambio"), Decimal(1)),
        fecha_emision=_fecha_emision(doc),
        nomina=NS_NOMINA12 in namespaces,
        informacion_global=doc.child("InformacionGlobal") is not None,
        carta_porte_hidrocarburos=_carta_porte_hidrocarburos(doc),
    )


def relations_of(doc: Document) -> set[tuple[str, str]]:
    """(parent UUID, tipo) for every CFDI this one relates to."""
    out: set[tuple[str, str]] = set()
    for group in doc.root.iterfind(doc.q("CfdiRelacionados")):
        tipo = group.get("TipoRelacion") or ""
        for rel in group.iterfind(doc.q("CfdiRelacionado")):
            if rel.get("UUID"):
                out.add((rel.get("UUID", "").upper(), tipo))
    for comp in doc.complementos:
        if etree.QName(comp).namespace in NS_PAGOS:
            for docto in comp.iter(f"{{{etree.QName(comp).namespace}}}DoctoRelacionado"):
                if docto.get("IdDocumento"):
                    out.add((docto.get("IdDocumento", "").upper(), PAGO))
    return out


def record(conn: Connection, doc: Document, uuid: str) -> None:
    """Insert the facts and relations of a CFDI being recorded (in the caller's transaction)."""
    f = facts_of(doc)
    conn.execute(HECHOS.insert().values(
        uuid=uuid, tipo_de_comprobante=f.tipo_de_comprobante, tipo_cambio=str(f.tipo_cambio),
        fecha_emision=f.fecha_emision, nomina=f.nomina, informacion_global=f.informacion_global,
        carta_porte_hidrocarburos=f.carta_porte_hidrocarburos))
    rows: list[dict[str, Any]] = [{"child_uuid": uuid, "parent_uuid": parent, "tipo": tipo}
                                  for parent, tipo in sorted(relations_of(doc))]
    if rows:
        conn.execute(RELACIONES.insert(), rows)


def load(conn: Connection, uuid: str) -> Facts:
    row = conn.execute(select(HECHOS).where(HECHOS.c.uuid == uuid)).first()
    if row is None:
        return DEFAULT_FACTS
    return Facts(row.tipo_de_comprobante, _decimal(row.tipo_cambio, Decimal(1)), row.fecha_emision, row.nomina,
                 row.informacion_global, row.carta_porte_hidrocarburos)


def _decimal(text: str | None, default: Decimal) -> Decimal:
    try:
        return Decimal(text) if text else default
    except InvalidOperation:
        return default


def _fecha_emision(doc: Document) -> datetime | None:
    try:
        local = datetime.fromisoformat(doc.get("Fecha") or "")
    except ValueError:
        return None
    if local.tzinfo is not None:
        return local
    zone = catalogs().zone_for_postal_code(doc.get("LugarExpedicion") or "") or MEXICO_CITY
    return local.replace(tzinfo=zone)


def _carta_porte_hidrocarburos(doc: Document) -> bool:
    for comp in doc.complementos:
        ns = etree.QName(comp).namespace or ""
        if ns.startswith(CARTA_PORTE_PREFIX):
            if any(m.get("BienesTransp") in CLAVES_HIDROCARBUROS for m in comp.iter(f"{{{ns}}}Mercancia")):
                return True
    return False
