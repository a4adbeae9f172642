"""A correct CFDI 4.0 of tipo P with the Pagos 2.0 complement, built from a few plain values.

The builder computes what SAT derives: each Pago's ImpuestosP from its documents' ImpuestosDR (converted
to the payment's currency by dividing by EquivalenciaDR, rounded half up to the currency's decimals), the
Monto when none is given (the sum of the converted ImpPagado), and the Totales in MXN (each amount × its
Pago's TipoCambioP, summed, rounded to 2 decimals). Tests start from this document and break one thing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from lxml import etree

from tests.xmlhelp import q, set_attrs
from timbra.cfdi.credentials import Credential
from timbra.cfdi.document import NS40, NS_PAGOS20, NS_XSI
from timbra.sat.catalogs import catalogs

SCHEMA_LOCATION = ("http://www.sat.gob.mx/cfd/4 http://www.sat.gob.mx/sitio_internet/cfd/4/cfdv40.xsd "
                   "http://www.sat.gob.mx/Pagos20 http://www.sat.gob.mx/sitio_internet/cfd/Pagos/Pagos20.xsd")
RECEPTOR = {"Rfc": "URE180429TM6", "Nombre": "UNIVERSIDAD ROBOTICA ESPAÑOLA", "DomicilioFiscalReceptor": "86991",
            "RegimenFiscalReceptor": "601", "UsoCFDI": "CP01"}


@dataclass
class Tax:
    """A TrasladoDR or RetencionDR: Exento ones have no tasa nor importe."""
    impuesto: str
    factor: str
    tasa: str | None
    base: str
    importe: str | None


def iva16(base: str, importe: str) -> Tax:
    return Tax("002", "Tasa", "0.160000", base, importe)


@dataclass
class Docto:
    id: str = "5FB2822E-396D-4725-8521-CDC4BDD20CCF"
    moneda: str = "MXN"
    equivalencia: str | None = "1"
    parcialidad: str = "1"
    saldo_ant: str = "11600.00"
    pagado: str = "5800.00"
    insoluto: str | None = None  # saldo_ant - pagado
    objeto: str = "02"
    traslados: list[Tax] = field(default_factory=list)
    retenciones: list[Tax] = field(default_factory=list)


@dataclass
class Pago:
    doctos: list[Docto]
    moneda: str = "MXN"
    tipo_cambio: str | None = "1"
    monto: str | None = None  # the converted ImpPagado, summed
    forma: str = "03"
    fecha: str = "2026-11-23T10:00:00"
    attrs: dict[str, str] = field(default_factory=dict)  # NumOperacion, cuentas, ...


def default_pagos() -> list[Pago]:
    """One MXN payment of two MXN invoices: one with IVA 16 %, one not subject to taxes (ObjetoImpDR 01)."""
    return [Pago([
        Docto(traslados=[iva16("5000.00", "800.00")]),
        Docto(id="0F3D4A1B-2C5E-4F60-8A7B-9C0D1E2F3A4B", saldo_ant="1000.00", pagado="1000.00", objeto="01"),
    ])]


def _decimals(moneda: str) -> int:
    d = catalogs().moneda_decimals(moneda)
    return 2 if d is None else d


def _round(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _s(value: Decimal) -> str:
    return f"{value:f}"


def _tax_key(t: Tax) -> tuple[str, str, str | None]:
    return (t.impuesto, t.factor, t.tasa)


def _docto(parent: etree._Element, d: Docto) -> None:
    el = etree.SubElement(parent, q("DoctoRelacionado", NS_PAGOS20))
    insoluto = d.insoluto if d.insoluto is not None else _s(Decimal(d.saldo_ant) - Decimal(d.pagado))
    set_attrs(el, IdDocumento=d.id, MonedaDR=d.moneda, EquivalenciaDR=d.equivalencia, NumParcialidad=d.parcialidad,
              ImpSaldoAnt=d.saldo_ant, ImpPagado=d.pagado, ImpSaldoInsoluto=insoluto, ObjetoImpDR=d.objeto)
    if not d.traslados and not d.retenciones:
        return
    imp = etree.SubElement(el, q("ImpuestosDR", NS_PAGOS20))
    for tag, plural, taxes in (("Retencion", "Retenciones", d.retenciones), ("Traslado", "Traslados", d.traslados)):
        if not taxes:
            continue
        group = etree.SubElement(imp, q(f"{plural}DR", NS_PAGOS20))
        for t in taxes:
            set_attrs(etree.SubElement(group, q(f"{tag}DR", NS_PAGOS20)), BaseDR=t.base, ImpuestoDR=t.impuesto,
                      TipoFactorDR=t.factor, TasaOCuotaDR=t.tasa, ImporteDR=t.importe)


def _pago(parent: etree._Element, p: Pago) -> dict:
    """Write one Pago; return its amounts in its own currency for the Totales."""
    n = _decimals(p.moneda)
    conv = {d.id: Decimal(d.equivalencia or "1") for d in p.doctos}
    monto = p.monto or _s(_round(sum((Decimal(d.pagado) / conv[d.id] for d in p.doctos), Decimal(0)), n))
    el = etree.SubElement(parent, q("Pago", NS_PAGOS20))
    set_attrs(el, FechaPago=p.fecha, FormaDePagoP=p.forma, MonedaP=p.moneda, TipoCambioP=p.tipo_cambio, Monto=monto)
    set_attrs(el, **p.attrs)
    for d in p.doctos:
        _docto(el, d)
    retenciones: dict[str, Decimal] = {}
    traslados: dict[tuple, list[Decimal]] = {}
    for d in p.doctos:
        for t in d.retenciones:
            retenciones[t.impuesto] = retenciones.get(t.impuesto, Decimal(0)) + Decimal(t.importe) / conv[d.id]
        for t in d.traslados:
            g = traslados.setdefault(_tax_key(t), [Decimal(0), Decimal(0)])
            g[0] += Decimal(t.base) / conv[d.id]
            if t.importe is not None:
                g[1] += Decimal(t.importe) / conv[d.id]
    out = {"monto": Decimal(monto), "retenciones": {}, "traslados": {}}
    if retenciones or traslados:
        imp = etree.SubElement(el, q("ImpuestosP", NS_PAGOS20))
        if retenciones:
            rs = etree.SubElement(imp, q("RetencionesP", NS_PAGOS20))
            for impuesto, total in retenciones.items():
                out["retenciones"][impuesto] = _round(total, n)
                set_attrs(etree.SubElement(rs, q("RetencionP", NS_PAGOS20)), ImpuestoP=impuesto,
                          ImporteP=_s(_round(total, n)))
        if traslados:
            ts = etree.SubElement(imp, q("TrasladosP", NS_PAGOS20))
            for (impuesto, factor, tasa), (base, importe) in traslados.items():
                exento = factor == "Exento"
                out["traslados"][(impuesto, factor, tasa)] = (_round(base, n), _round(importe, n))
                set_attrs(etree.SubElement(ts, q("TrasladoP", NS_PAGOS20)), BaseP=_s(_round(base, n)),
                          ImpuestoP=impuesto, TipoFactorP=factor, TasaOCuotaP=None if exento else tasa,
                          ImporteP=None if exento else _s(_round(importe, n)))
    return out


TOTALES_RETENCIONES = {"002": "TotalRetencionesIVA", "001": "TotalRetencionesISR", "003": "TotalRetencionesIEPS"}
TOTALES_TRASLADOS = {
    ("002", "Tasa", "0.160000"): ("TotalTrasladosBaseIVA16", "TotalTrasladosImpuestoIVA16"),
    ("002", "Tasa", "0.080000"): ("TotalTrasladosBaseIVA8", "TotalTrasladosImpuestoIVA8"),
    ("002", "Tasa", "0.000000"): ("TotalTrasladosBaseIVA0", "TotalTrasladosImpuestoIVA0"),
    ("002", "Exento", None): ("TotalTrasladosBaseIVAExento", None),
}


def _totales(totales: etree._Element, pagos: list[Pago], amounts: list[dict]) -> None:
    sums: dict[str, Decimal] = {}

    def add(attr: str | None, value: Decimal) -> None:
        if attr is not None:
            sums[attr] = sums.get(attr, Decimal(0)) + value

    for p, a in zip(pagos, amounts, strict=True):
        tc = Decimal(p.tipo_cambio or "1")
        add("MontoTotalPagos", a["monto"] * tc)
        for impuesto, importe in a["retenciones"].items():
            add(TOTALES_RETENCIONES.get(impuesto), importe * tc)
        for key, (base, importe) in a["traslados"].items():
            base_attr, importe_attr = TOTALES_TRASLADOS.get(key, (None, None))
            add(base_attr, base * tc)
            add(importe_attr, importe * tc)
    for attr, value in sums.items():
        totales.set(attr, _s(_round(value, 2)))


def pagos_root(cred: Credential, fecha: datetime, pagos: list[Pago] | None = None,
               lugar_expedicion: str = "06000") -> etree._Element:
    """An unsealed Comprobante of tipo P; `fecha` is written as the local time of lugar_expedicion."""
    pagos = default_pagos() if pagos is None else pagos
    zone = catalogs().zone_for_postal_code(lugar_expedicion)
    local = fecha.astimezone(zone) if fecha.tzinfo else fecha
    cert = cred.certificate
    root = etree.Element(q("Comprobante"), nsmap={"cfdi": NS40, "xsi": NS_XSI, "pago20": NS_PAGOS20})
    root.set(f"{{{NS_XSI}}}schemaLocation", SCHEMA_LOCATION)
    set_attrs(root, Version="4.0", Serie="P", Folio="1", Fecha=local.strftime("%Y-%m-%dT%H:%M:%S"), SubTotal="0",
              Moneda="XXX", Total="0", TipoDeComprobante="P", Exportacion="01", LugarExpedicion=lugar_expedicion)
    set_attrs(etree.SubElement(root, q("Emisor")), Rfc=cert.rfc, Nombre=cert.name,
              RegimenFiscal="601" if len(cert.rfc) == 12 else "612")
    set_attrs(etree.SubElement(root, q("Receptor")), **RECEPTOR)
    concepto = etree.SubElement(etree.SubElement(root, q("Conceptos")), q("Concepto"))
    set_attrs(concepto, ClaveProdServ="84111506", Cantidad="1", ClaveUnidad="ACT", Descripcion="Pago",
              ValorUnitario="0", Importe="0", ObjetoImp="01")
    complemento = etree.SubElement(root, q("Complemento"))
    pagos_el = etree.SubElement(complemento, q("Pagos", NS_PAGOS20))
    pagos_el.set("Version", "2.0")
    totales = etree.SubElement(pagos_el, q("Totales", NS_PAGOS20))
    amounts = [_pago(pagos_el, p) for p in pagos]
    _totales(totales, pagos, amounts)
    return root
