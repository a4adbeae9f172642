"""Build a CFDI de pagos (tipo P, complemento Pagos 2.0) from plain data (conexión remota).

    data = PagosInvoice.model_validate(json_data)              # structure and types; errors name the field
    root = build_pagos(data, emisor=Emisor(...), fecha=now)    # every derived amount, SAT's rounding

The JSON uses Anexo 20's and the complement's own names (Receptor, Pagos[].FechaPago, MonedaP, TipoCambioP,
DoctoRelacionado[].ImpPagado, ImpuestosDR.TrasladosDR[].TasaOCuotaDR...). The ERP states what it knows: the
payment, the documents it settles with their previous balance and the amount applied to each, and the tax
lines of each document (ImpuestoDR, TipoFactorDR, TasaOCuotaDR). timbra computes, the way SAT's guide for
Pagos 2.0 does:

- ImpSaldoInsoluto = ImpSaldoAnt - ImpPagado (refused when negative);
- BaseDR proportionally to the amount paid. A document with several bases (a 16 % part, a 0 % part and an
  exento part; or IEPS and IVA, whose base includes the IEPS) sends its CFDI's Total and each line's Base
  (and, optionally, Importe): BaseDR is Base × the fraction of Total paid so far, rounded, less the same for
  the fraction paid before (Total - ImpSaldoAnt), so that the parcialidades add up exactly to the CFDI's
  Base (= Base × ImpPagado / Total, rounded, for a first payment). With the line's Importe, ImporteDR is
  apportioned the same way (the parcialidades never report more tax than the CFDI has) whenever that stays
  within SAT's limits of BaseDR × TasaOCuotaDR; else, and without it, ImporteDR = BaseDR × rate.
  `with_related` fills Total, Base and Importe from the paid CFDI itself when the caller has it
  (timbra.pac.issuing does, for a CFDI stored in the same account). Without them every tax line of
  the document must apply to one same base: then ImpPagado = BaseDR × (1 + Σ traslado rates - Σ retención
  rates) and BaseDR = ImpPagado / that factor (ImpPagado 11600.00 with IVA 16 % -> BaseDR 10000.00,
  ImporteDR 1600.00); a document whose lines cannot share one base (two lines of the same impuesto, or IEPS
  with IVA) is refused rather than given false amounts; there ImporteDR = BaseDR × rate. Amounts are rounded
  half up to the decimals of MonedaDR. TipoFactorDR Cuota is refused (its base is not a share of the amount paid);
- Monto (when not sent) = Σ ImpPagado / EquivalenciaDR, rounded to the decimals of MonedaP;
- ImpuestosP: the documents' ImpuestosDR converted to MonedaP (÷ EquivalenciaDR), grouped by impuesto
  (retenciones) or by impuesto, factor and rate (traslados), rounded to the decimals of MonedaP;
- Totales in MXN: each Pago's amounts × TipoCambioP, summed, rounded to 2 decimals;
- the fixed Comprobante of a tipo P: SubTotal 0, Moneda XXX, Total 0, Exportacion 01, UsoCFDI CP01 and the
  single Concepto 84111506 / ACT / "Pago" with ObjetoImp 01.

The numbers follow timbra.cfdi.rules.complementos.pagos20 (SAT's matrix CRP20101-CRP20279), which then runs
on the result through the ordinary validator. The result is unsealed.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Annotated, Literal

from lxml import etree
from pydantic import Field, field_validator

from timbra.build.common import (
    SCHEMA_LOCATION_40,
    BuildError,
    CfdiRelacionadosData,
    DataModel,
    Emisor,
    EmisorData,
    JsonPaths,
    Rate,
    comprobante,
    element,
    fmt_shortest,
)
from timbra.build.invoice import json_path
from timbra.cfdi.amounts import bounds, fmt, quantum, round_half_up
from timbra.cfdi.document import NS_PAGOS20
from timbra.sat.catalogs import catalogs

__all__ = ["PagosInvoice", "PagoData", "DoctoRelacionadoData", "ImpuestosDRData", "TrasladoDRData",
           "RetencionDRData", "PagosReceptorData", "build_pagos", "pagos_json_path", "BuildError", "Emisor",
           "related_uuids", "with_related"]

NS_PAGOS = NS_PAGOS20
SCHEMA_LOCATION_PAGOS = (
    f"{SCHEMA_LOCATION_40} http://www.sat.gob.mx/Pagos20 http://www.sat.gob.mx/sitio_internet/cfd/Pagos/Pagos20.xsd")

Amount = Annotated[Decimal, Field(gt=0, max_digits=24, decimal_places=6)]
ONE = Decimal(1)
ZERO = Decimal(0)
# SAT's guide: a payment whose time is not known is dated at noon.
_NOON = "T12:00:00"


# -- the data the ERP sends ---------------------------------------------------------------------------

_BASE = ("Base de esta línea en el CFDI pagado; con el Total del documento, BaseDR es Base × ImpPagado / Total "
         "(documentos con varias bases). Sin ella, timbra la toma del CFDI pagado si lo timbró en la misma "
         "cuenta; si no, todas las líneas comparten una base deducida de ImpPagado, y un documento cuyas líneas "
         "no pueden compartirla (IVA 16 %, 0 % y Exento; IEPS con IVA) se rechaza (T131)")


_IMPORTE = ("Opcional, con Base y Total: Importe de esta línea en el CFDI pagado; ImporteDR se reparte como BaseDR "
            "y los pagos suman exactamente el impuesto del CFDI")
LineImporte = Annotated[Decimal, Field(ge=0, max_digits=24, decimal_places=6)]


class TrasladoDRData(DataModel):
    ImpuestoDR: Literal["002", "003"] = Field(description="c_Impuesto: 002 IVA, 003 IEPS")
    TipoFactorDR: Literal["Tasa", "Cuota", "Exento"]
    TasaOCuotaDR: Rate | None = Field(None, description="Obligatoria salvo Exento, p. ej. 0.160000")
    Base: Amount | None = Field(None, description=_BASE)
    Importe: LineImporte | None = Field(None, description=_IMPORTE)


class RetencionDRData(DataModel):
    ImpuestoDR: Literal["001", "002", "003"] = Field(description="c_Impuesto: 001 ISR, 002 IVA, 003 IEPS")
    TipoFactorDR: Literal["Tasa", "Cuota"]
    TasaOCuotaDR: Rate
    Base: Amount | None = Field(None, description=_BASE)
    Importe: LineImporte | None = Field(None, description=_IMPORTE)


class ImpuestosDRData(DataModel):
    """The tax lines of the paid document; BaseDR and ImporteDR are timbra's."""
    TrasladosDR: list[TrasladoDRData] = []
    RetencionesDR: list[RetencionDRData] = []


class DoctoRelacionadoData(DataModel):
    IdDocumento: str = Field(description="UUID del CFDI pagado")
    Serie: str | None = Field(None, max_length=25)
    Folio: str | None = Field(None, max_length=40)
    MonedaDR: str
    EquivalenciaDR: Annotated[Decimal, Field(gt=0, max_digits=24, decimal_places=10)] | None = Field(
        None, description="Unidades de MonedaDR por unidad de MonedaP; solo si MonedaDR difiere de MonedaP")
    NumParcialidad: int = Field(ge=1, le=999)
    ImpSaldoAnt: Amount
    ImpPagado: Amount
    ObjetoImpDR: Literal["01", "02", "03", "04", "05", "06", "07", "08"] | None = Field(
        None, description="Por omisión 02 si hay ImpuestosDR, 01 si no")
    ImpuestosDR: ImpuestosDRData | None = None
    Total: Amount | None = Field(None, description="Total del CFDI pagado; solo con la Base de cada línea")

    @field_validator("MonedaDR")
    @classmethod
    def _upper(cls, v: str) -> str:
        return v.upper()


class PagoData(DataModel):
    FechaPago: datetime = Field(description="Fecha y hora del pago; solo la fecha se registra a las 12:00:00")
    FormaDePagoP: str
    MonedaP: str = "MXN"
    TipoCambioP: Annotated[Decimal, Field(gt=0, max_digits=24, decimal_places=6)] | None = Field(
        None, description="Pesos por unidad de MonedaP; obligatorio si MonedaP no es MXN")
    Monto: Annotated[Decimal, Field(gt=0, max_digits=24, decimal_places=6)] | None = Field(
        None, description="Por omisión, la suma de ImpPagado / EquivalenciaDR")
    NumOperacion: str | None = Field(None, max_length=100)
    RfcEmisorCtaOrd: str | None = None
    NomBancoOrdExt: str | None = None
    CtaOrdenante: str | None = None
    RfcEmisorCtaBen: str | None = None
    CtaBeneficiario: str | None = None
    TipoCadPago: str | None = None
    CertPago: str | None = None
    CadPago: str | None = None
    SelloPago: str | None = None
    DoctoRelacionado: list[DoctoRelacionadoData] = Field(min_length=1)

    @field_validator("FechaPago", mode="before")
    @classmethod
    def _date_only_at_noon(cls, v: object) -> object:
        if isinstance(v, str) and len(v.strip()) == 10:
            return v.strip() + _NOON
        if isinstance(v, date) and not isinstance(v, datetime):
            return datetime.fromisoformat(v.isoformat() + _NOON)
        return v

    @field_validator("MonedaP")
    @classmethod
    def _upper(cls, v: str) -> str:
        return v.upper()


class PagosReceptorData(DataModel):
    Rfc: str
    Nombre: str
    DomicilioFiscalReceptor: str
    RegimenFiscalReceptor: str
    UsoCFDI: Literal["CP01"] = Field("CP01", description="Siempre CP01 (Pagos) en un CFDI de pagos")
    ResidenciaFiscal: str | None = None
    NumRegIdTrib: str | None = None


class PagosInvoice(DataModel):
    """A CFDI de pagos: the Comprobante's fixed fields, Emisor, Fecha and every derived amount are timbra's."""

    Serie: str | None = Field(None, max_length=25)
    Folio: str | None = Field(None, max_length=40)
    LugarExpedicion: str = Field(pattern=r"^[0-9]{5}$")
    Emisor: EmisorData = EmisorData()
    Receptor: PagosReceptorData
    CfdiRelacionados: list[CfdiRelacionadosData] = []
    Pagos: list[PagoData] = Field(min_length=1)


# -- computed amounts ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class _TaxDR:
    impuesto: str
    factor: str
    tasa: Decimal | None  # None for Exento
    base: Decimal
    importe: Decimal | None  # None for Exento


@dataclass
class _PagoAmounts:
    """A Pago's amounts in MonedaP, as written, for the Totales."""
    monto: Decimal
    tipo_cambio: Decimal
    retenciones: dict[str, Decimal]
    traslados: dict[tuple[str, str, Decimal | None], tuple[Decimal, Decimal | None]]


def _decimals(moneda: str, path: str) -> int:
    d = catalogs().moneda_decimals(moneda)
    if d is None or moneda == "XXX":
        raise BuildError(path, "no está en el catálogo c_Moneda (o es XXX)", moneda)
    return d


def _as_written(value: Decimal, decimals: int, path: str) -> Decimal:
    """An amount the ERP states (ImpSaldoAnt, ImpPagado, Monto) is never rounded by timbra: more decimals
    than the currency admits is the ERP's error to fix."""
    if round_half_up(value, decimals) != value:
        raise BuildError(path, f"tiene más de {decimals} decimales, los que admite la moneda", value)
    return round_half_up(value, decimals)


def _docto_taxes(d: DoctoRelacionadoData, pagado: Decimal, decimals: int,
                 path: str) -> tuple[list[_TaxDR], list[_TaxDR]]:
    """(traslados, retenciones) of a document for the amount paid.

    With the paid CFDI's Total and each line's Base, BaseDR = Base × ImpPagado / Total (the document may
    have several bases: a 16 % part and a 0 % part). Without them every line shares one base, deduced from
    ImpPagado = BaseDR × (1 + Σ traslado rates - Σ retención rates)."""
    imp = d.ImpuestosDR or ImpuestosDRData()
    lines: list[tuple[str, TrasladoDRData | RetencionDRData]] = [
        *((f"{path}.ImpuestosDR.TrasladosDR[{j}]", t) for j, t in enumerate(imp.TrasladosDR)),
        *((f"{path}.ImpuestosDR.RetencionesDR[{j}]", r) for j, r in enumerate(imp.RetencionesDR))]
    factor = ONE
    for lpath, line in lines:
        if line.TipoFactorDR == "Exento":
            if line.TasaOCuotaDR is not None:
                raise BuildError(f"{lpath}.TasaOCuotaDR", "no se registra con TipoFactorDR Exento", line.TasaOCuotaDR)
            continue
        if line.TipoFactorDR == "Cuota":
            raise BuildError(f"{lpath}.TipoFactorDR",
                             "con TipoFactorDR Cuota la base no se deduce del importe pagado; solo Tasa o Exento")
        if line.TasaOCuotaDR is None:
            raise BuildError(f"{lpath}.TasaOCuotaDR", f"es obligatoria con TipoFactorDR {line.TipoFactorDR}")
        factor += line.TasaOCuotaDR if isinstance(line, TrasladoDRData) else -line.TasaOCuotaDR

    importes: list[Decimal | None] = [None] * len(lines)
    if d.Total is None:
        for _, line in lines:
            if line.Base is not None or line.Importe is not None:
                raise BuildError(f"{path}.Total", "es obligatorio cuando las líneas de impuesto traen Base", None)
        _one_base_or_refuse(lines, path)
        if factor <= 0:
            raise BuildError(f"{path}.ImpuestosDR", "las retenciones igualan o superan al pago más sus traslados")
        shared = round_half_up(pagado / factor, decimals)
        bases = [shared] * len(lines)
    else:
        if d.Total < d.ImpSaldoAnt:
            raise BuildError(f"{path}.Total", f"es menor que ImpSaldoAnt ({d.ImpSaldoAnt})", d.Total)
        # the share paid so far less the share paid before: the parcialidades add up to the CFDI's amounts
        before = (d.Total - d.ImpSaldoAnt) / d.Total
        so_far = (d.Total - d.ImpSaldoAnt + pagado) / d.Total

        def share(amount: Decimal) -> Decimal:
            return round_half_up(amount * so_far, decimals) - round_half_up(amount * before, decimals)

        bases = []
        for n, (lpath, line) in enumerate(lines):
            if line.Base is None:
                raise BuildError(f"{lpath}.Base", "es obligatoria cuando el documento trae Total", None)
            bases.append(share(line.Base))
            if line.Importe is not None:
                importes[n] = share(line.Importe)

    out: tuple[list[_TaxDR], list[_TaxDR]] = ([], [])
    for (_, line), base, apportioned in zip(lines, bases, importes, strict=True):
        tasa = line.TasaOCuotaDR
        importe = None if tasa is None else round_half_up(base * tasa, decimals)
        if importe is not None and apportioned is not None and _within_limits(base, tasa, apportioned, decimals):
            importe = apportioned
        out[0 if isinstance(line, TrasladoDRData) else 1].append(
            _TaxDR(line.ImpuestoDR, line.TipoFactorDR, tasa, base, importe))
    return out


def _within_limits(base: Decimal, tasa: Decimal, importe: Decimal, decimals: int) -> bool:
    """SAT's limits of an ImporteDR (CRP20261-style): between (BaseDR ∓ half a unit of its last decimal) ×
    TasaOCuotaDR, truncated and rounded up to the decimals it is written with."""
    half = quantum(decimals) / 2
    lo, hi = bounds((base - half) * tasa, (base + half) * tasa, decimals)
    return lo <= importe <= hi


_NAMES = {"001": "ISR", "002": "IVA", "003": "IEPS"}


def _describe(line: TrasladoDRData | RetencionDRData) -> str:
    tasa = "" if line.TasaOCuotaDR is None else f" {fmt(line.TasaOCuotaDR, 6)}"
    return f"{_NAMES.get(line.ImpuestoDR, line.ImpuestoDR)} {line.TipoFactorDR}{tasa}"


def _one_base_or_refuse(lines: list[tuple[str, TrasladoDRData | RetencionDRData]], path: str) -> None:
    """Without each line's Base, BaseDR is deduced from ImpPagado as if every line had the same base. That is
    false when a document has two traslados (or two retenciones) of one impuesto (IVA 16 %, 0 % and Exento:
    different conceptos, different bases) or IEPS trasladado with IVA (IVA's base includes the IEPS): such a
    document cannot be apportioned from ImpPagado alone, and is refused."""
    seen: dict[tuple[bool, str], TrasladoDRData | RetencionDRData] = {}
    has_ieps = any(isinstance(line, TrasladoDRData) and line.ImpuestoDR == "003" and line.TipoFactorDR != "Exento"
                   for _, line in lines)
    for lpath, line in lines:
        key = (isinstance(line, TrasladoDRData), line.ImpuestoDR)
        first = seen.setdefault(key, line)
        if first is not line:
            kind_es, kind_en = ("traslados", "traslados") if key[0] else ("retenciones", "retenciones")
            raise BuildError(
                f"{lpath}.Base",
                f"el documento tiene varios {kind_es} de {_NAMES.get(line.ImpuestoDR, line.ImpuestoDR)} "
                f"({_describe(first)}, {_describe(line)}), cada uno con su propia base; no se pueden repartir a "
                f"partir de ImpPagado: indique la Base de cada línea (la del CFDI pagado) y el Total de ese CFDI",
                _describe(line),
                message_en=(f"the document has several {kind_en} of {_NAMES.get(line.ImpuestoDR, line.ImpuestoDR)} "
                            f"({_describe(first)}, {_describe(line)}), each with its own base; they cannot be "
                            f"apportioned from ImpPagado: give each line's Base (the paid CFDI's) and that "
                            f"CFDI's Total"))
        if has_ieps and line.ImpuestoDR == "002":
            raise BuildError(
                f"{lpath}.Base",
                "el documento traslada IEPS e IVA: la base del IVA incluye el IEPS (LIVA arts. 12 y 18) y no "
                "se deduce de ImpPagado: indique la Base de cada línea (la del CFDI pagado) y el Total de ese CFDI",
                _describe(line),
                message_en=("the document has IEPS and IVA traslados: IVA's base includes the IEPS (LIVA arts. 12 "
                            "and 18) and cannot be deduced from ImpPagado: give each line's Base (the paid "
                            "CFDI's) and that CFDI's Total"))


# -- the paid CFDI's own bases -------------------------------------------------------------------------

def related_uuids(data: PagosInvoice) -> set[str]:
    """The IdDocumento (upper case) whose tax lines came without Base: the CFDI `with_related` can use."""
    return {d.IdDocumento.upper() for p in data.Pagos for d in p.DoctoRelacionado
            if d.Total is None and d.ImpuestosDR is not None
            and not any(t.Base is not None or t.Importe is not None
                        for t in (*d.ImpuestosDR.TrasladosDR, *d.ImpuestosDR.RetencionesDR))
            and (d.ImpuestosDR.TrasladosDR or d.ImpuestosDR.RetencionesDR)}


def _related_bases(comprobante: etree._Element) -> tuple[dict[tuple, list], dict[tuple, list]]:
    """(traslados, retenciones) of a CFDI: the sums of its conceptos' Base and Importe per (Impuesto,
    TipoFactor, TasaOCuota); the Importe sum is None for Exento."""
    out: tuple[dict[tuple, list], dict[tuple, list]] = ({}, {})
    ns = etree.QName(comprobante).namespace  # CFDI 4.0 or 3.3
    for concepto in comprobante.iterfind(f"{{{ns}}}Conceptos/{{{ns}}}Concepto"):
        for i, (group, local) in enumerate((("Traslados", "Traslado"), ("Retenciones", "Retencion"))):
            for t in concepto.iterfind(f"{{{ns}}}Impuestos/{{{ns}}}{group}/{{{ns}}}{local}"):
                tasa = t.get("TasaOCuota")
                key = (t.get("Impuesto"), t.get("TipoFactor"), None if tasa is None else Decimal(tasa))
                sums = out[i].setdefault(key, [ZERO, None])
                sums[0] += Decimal(t.get("Base") or "0")
                if t.get("Importe") is not None:
                    sums[1] = (sums[1] or ZERO) + Decimal(t.get("Importe"))
    return out


def with_related(data: PagosInvoice, related: Mapping[str, etree._Element]) -> PagosInvoice:
    """`data` with each document's Total and each tax line's Base and Importe taken from the paid CFDI, for the
    documents in `related` (IdDocumento in upper case -> its cfdi:Comprobante) whose lines came without
    Base and whose MonedaDR is the CFDI's Moneda. A line the paid CFDI does not have is refused."""
    out = data.model_copy(deep=True)
    wanted = related_uuids(data)
    for i, p in enumerate(out.Pagos):
        for j, d in enumerate(p.DoctoRelacionado):
            comprobante = related.get(d.IdDocumento.upper())
            if (comprobante is None or d.IdDocumento.upper() not in wanted or d.ImpuestosDR is None
                    or comprobante.get("Moneda") != d.MonedaDR or comprobante.get("Total") is None):
                continue
            path = f"Pagos[{i}].DoctoRelacionado[{j}]"
            bases = _related_bases(comprobante)
            for k, (group, lines) in enumerate((("TrasladosDR", d.ImpuestosDR.TrasladosDR),
                                                ("RetencionesDR", d.ImpuestosDR.RetencionesDR))):
                for n, line in enumerate(lines):
                    base, importe = bases[k].get((line.ImpuestoDR, line.TipoFactorDR, line.TasaOCuotaDR),
                                                 (ZERO, None))
                    if not base:
                        what_es, what_en = ("traslada", "has no traslado of") if k == 0 else (
                            "retiene", "has no retención of")
                        raise BuildError(f"{path}.ImpuestosDR.{group}[{n}]",
                                         f"el CFDI pagado {d.IdDocumento} no {what_es} {_describe(line)}",
                                         _describe(line),
                                         message_en=f"the paid CFDI {d.IdDocumento} {what_en} {_describe(line)}")
                    line.Base, line.Importe = base, importe
            total = Decimal(comprobante.get("Total"))
            if total < d.ImpSaldoAnt:
                raise BuildError(f"{path}.ImpSaldoAnt", f"es mayor que el Total del CFDI pagado ({total})",
                                 d.ImpSaldoAnt, message_en=f"exceeds the paid CFDI's Total ({total})")
            d.Total = total
    return out


def _psub(parent: etree._Element, local: str, attrs: Iterable[tuple[str, str | None]] = ()) -> etree._Element:
    return element(parent, local, attrs, NS_PAGOS)


def _tax_dr_attrs(t: _TaxDR, decimals: int) -> list[tuple[str, str | None]]:
    return [("BaseDR", fmt(t.base, decimals)), ("ImpuestoDR", t.impuesto), ("TipoFactorDR", t.factor),
            ("TasaOCuotaDR", fmt(t.tasa, 6) if t.tasa is not None else None),
            ("ImporteDR", fmt(t.importe, decimals) if t.importe is not None else None)]


# -- the document -------------------------------------------------------------------------------------

def build_pagos(data: PagosInvoice, *, emisor: Emisor, fecha: datetime) -> etree._Element:
    """The unsealed cfdi:Comprobante of tipo P for `data`, issued by `emisor`, dated `fecha` in
    LugarExpedicion's zone.

    Raises BuildError (with the JSON path) for what only the data can get wrong before SAT's rules run."""
    root, zone = comprobante(data, emisor=emisor, fecha=fecha, namespaces={"pago20": NS_PAGOS},
                             schema_location=SCHEMA_LOCATION_PAGOS, attrs=[
                                 ("SubTotal", "0"), ("Moneda", "XXX"), ("Total", "0"), ("TipoDeComprobante", "P"),
                                 ("Exportacion", "01"), ("LugarExpedicion", data.LugarExpedicion)])
    element(element(root, "Conceptos"), "Concepto", [
        ("ClaveProdServ", "84111506"), ("Cantidad", "1"), ("ClaveUnidad", "ACT"), ("Descripcion", "Pago"),
        ("ValorUnitario", "0"), ("Importe", "0"), ("ObjetoImp", "01")])

    pagos_el = _psub(element(root, "Complemento"), "Pagos", [("Version", "2.0")])
    totales = _psub(pagos_el, "Totales")
    amounts = [_pago(pagos_el, p, f"Pagos[{i}]", zone) for i, p in enumerate(data.Pagos)]
    for attr, value in _totales(amounts).items():
        totales.set(attr, fmt(value, 2))
    return root


def _pago(parent: etree._Element, p: PagoData, path: str, zone: tzinfo) -> _PagoAmounts:
    """Write one Pago with its documents and ImpuestosP; return its amounts for the Totales."""
    n = _decimals(p.MonedaP, f"{path}.MonedaP")
    if p.MonedaP == "MXN":
        if p.TipoCambioP not in (None, ONE):
            raise BuildError(f"{path}.TipoCambioP", "con MonedaP MXN no se envía (o vale 1)", p.TipoCambioP)
        tipo_cambio, tc_text = ONE, "1"
    elif p.TipoCambioP is None:
        raise BuildError(f"{path}.TipoCambioP", f"es obligatorio con MonedaP {p.MonedaP}")
    else:
        tipo_cambio, tc_text = p.TipoCambioP, fmt_shortest(p.TipoCambioP)

    el = _psub(parent, "Pago")
    converted = ZERO  # Σ ImpPagado / EquivalenciaDR
    same_currency_total = ZERO
    retenciones: dict[str, Decimal] = {}
    traslados: dict[tuple[str, str, Decimal | None], list[Decimal]] = {}
    for j, d in enumerate(p.DoctoRelacionado):
        dpath = f"{path}.DoctoRelacionado[{j}]"
        eq, pagado, taxes = _docto(el, d, p.MonedaP, dpath)
        converted += pagado / eq
        if eq == ONE and d.MonedaDR == p.MonedaP:
            same_currency_total += pagado
        tras, rets = taxes
        for t in rets:
            retenciones[t.impuesto] = retenciones.get(t.impuesto, ZERO) + t.importe / eq  # type: ignore[operator]
        for t in tras:
            g = traslados.setdefault((t.impuesto, t.factor, t.tasa), [ZERO, ZERO])
            g[0] += t.base / eq
            if t.importe is not None:
                g[1] += t.importe / eq

    if p.Monto is None:
        monto = round_half_up(converted, n)
    else:
        monto = _as_written(p.Monto, n, f"{path}.Monto")
        if all(d.MonedaDR == p.MonedaP for d in p.DoctoRelacionado) and monto < same_currency_total:
            raise BuildError(f"{path}.Monto", f"es menor que la suma de los ImpPagado ({fmt(same_currency_total, n)})",
                             p.Monto)
    # A FechaPago with an offset is written in LugarExpedicion's local time, like Fecha; a naive one as sent.
    fecha_pago = p.FechaPago if p.FechaPago.tzinfo is None else p.FechaPago.astimezone(zone)
    for k, v in (("FechaPago", fecha_pago.strftime("%Y-%m-%dT%H:%M:%S")), ("FormaDePagoP", p.FormaDePagoP),
                 ("MonedaP", p.MonedaP), ("TipoCambioP", tc_text), ("Monto", fmt(monto, n)),
                 ("NumOperacion", p.NumOperacion), ("RfcEmisorCtaOrd", p.RfcEmisorCtaOrd),
                 ("NomBancoOrdExt", p.NomBancoOrdExt), ("CtaOrdenante", p.CtaOrdenante),
                 ("RfcEmisorCtaBen", p.RfcEmisorCtaBen), ("CtaBeneficiario", p.CtaBeneficiario),
                 ("TipoCadPago", p.TipoCadPago), ("CertPago", p.CertPago), ("CadPago", p.CadPago),
                 ("SelloPago", p.SelloPago)):
        if v is not None:
            el.set(k, v)

    out = _PagoAmounts(monto, tipo_cambio, {}, {})
    if retenciones or traslados:
        imp = _psub(el, "ImpuestosP")
        if retenciones:
            rs = _psub(imp, "RetencionesP")
            for impuesto, total in retenciones.items():
                out.retenciones[impuesto] = round_half_up(total, n)
                _psub(rs, "RetencionP", [("ImpuestoP", impuesto), ("ImporteP", fmt(total, n))])
        if traslados:
            ts = _psub(imp, "TrasladosP")
            for (impuesto, factor, tasa), (base, importe) in traslados.items():
                exento = factor == "Exento"
                out.traslados[(impuesto, factor, tasa)] = (round_half_up(base, n),
                                                           None if exento else round_half_up(importe, n))
                _psub(ts, "TrasladoP", [("BaseP", fmt(base, n)), ("ImpuestoP", impuesto), ("TipoFactorP", factor),
                                        ("TasaOCuotaP", None if exento else fmt(tasa, 6)),  # type: ignore[arg-type]
                                        ("ImporteP", None if exento else fmt(importe, n))])
    return out


def _docto(parent: etree._Element, d: DoctoRelacionadoData, moneda_p: str,
           path: str) -> tuple[Decimal, Decimal, tuple[list[_TaxDR], list[_TaxDR]]]:
    """Write one DoctoRelacionado; return (EquivalenciaDR as a divisor, ImpPagado, its taxes)."""
    n = _decimals(d.MonedaDR, f"{path}.MonedaDR")
    if d.MonedaDR == moneda_p:
        if d.EquivalenciaDR not in (None, ONE):
            raise BuildError(f"{path}.EquivalenciaDR", f"MonedaDR es MonedaP ({moneda_p}): no se envía (o vale 1)",
                             d.EquivalenciaDR)
        eq, eq_text = ONE, "1"
    elif d.EquivalenciaDR is None:
        raise BuildError(f"{path}.EquivalenciaDR",
                         f"es obligatoria: MonedaDR {d.MonedaDR} difiere de MonedaP {moneda_p} "
                         f"(unidades de {d.MonedaDR} por unidad de {moneda_p})")
    else:
        eq, eq_text = d.EquivalenciaDR, fmt_shortest(d.EquivalenciaDR)
    ant = _as_written(d.ImpSaldoAnt, n, f"{path}.ImpSaldoAnt")
    pagado = _as_written(d.ImpPagado, n, f"{path}.ImpPagado")
    if pagado > ant:
        raise BuildError(f"{path}.ImpPagado", f"es mayor que ImpSaldoAnt ({fmt(ant, n)})", d.ImpPagado)
    has_taxes = d.ImpuestosDR is not None and bool(d.ImpuestosDR.TrasladosDR or d.ImpuestosDR.RetencionesDR)
    objeto = d.ObjetoImpDR or ("02" if has_taxes else "01")
    if objeto == "02" and not has_taxes:
        raise BuildError(f"{path}.ImpuestosDR", "ObjetoImpDR 02 (sí objeto de impuesto) requiere ImpuestosDR")
    if objeto in ("01", "03", "04", "05") and has_taxes:
        raise BuildError(f"{path}.ImpuestosDR", f"con ObjetoImpDR {objeto} no se envían ImpuestosDR")

    el = _psub(parent, "DoctoRelacionado", [
        ("IdDocumento", d.IdDocumento), ("Serie", d.Serie), ("Folio", d.Folio), ("MonedaDR", d.MonedaDR),
        ("EquivalenciaDR", eq_text), ("NumParcialidad", str(d.NumParcialidad)), ("ImpSaldoAnt", fmt(ant, n)),
        ("ImpPagado", fmt(pagado, n)), ("ImpSaldoInsoluto", fmt(ant - pagado, n)), ("ObjetoImpDR", objeto)])
    taxes: tuple[list[_TaxDR], list[_TaxDR]] = ([], [])
    if has_taxes:
        taxes = _docto_taxes(d, pagado, n, path)
        traslados, retenciones = taxes
        imp = _psub(el, "ImpuestosDR")
        if retenciones:
            rs = _psub(imp, "RetencionesDR")
            for t in retenciones:
                _psub(rs, "RetencionDR", _tax_dr_attrs(t, n))
        if traslados:
            ts = _psub(imp, "TrasladosDR")
            for t in traslados:
                _psub(ts, "TrasladoDR", _tax_dr_attrs(t, n))
    return eq, pagado, taxes


# Totales: the attribute of each retained tax and of each IVA traslado group (impuesto, factor, rate).
_TOTAL_RETENCIONES = {"002": "TotalRetencionesIVA", "001": "TotalRetencionesISR", "003": "TotalRetencionesIEPS"}
_TOTAL_TRASLADOS: dict[tuple[str, str, Decimal | None], tuple[str, str | None]] = {
    ("002", "Tasa", Decimal("0.16")): ("TotalTrasladosBaseIVA16", "TotalTrasladosImpuestoIVA16"),
    ("002", "Tasa", Decimal("0.08")): ("TotalTrasladosBaseIVA8", "TotalTrasladosImpuestoIVA8"),
    ("002", "Tasa", ZERO): ("TotalTrasladosBaseIVA0", "TotalTrasladosImpuestoIVA0"),
    ("002", "Exento", None): ("TotalTrasladosBaseIVAExento", None),
}


def _totales(amounts: list[_PagoAmounts]) -> dict[str, Decimal]:
    """Totales' attributes, unrounded: Σ over the Pagos of each amount as written × TipoCambioP.
    Attributes come out in the schema's order for readability (XML attribute order carries no meaning)."""
    sums: dict[str, Decimal] = {}

    def add(attr: str | None, value: Decimal | None, tc: Decimal) -> None:
        if attr is not None and value is not None:
            sums[attr] = sums.get(attr, ZERO) + value * tc

    for a in amounts:
        for impuesto, importe in a.retenciones.items():
            add(_TOTAL_RETENCIONES.get(impuesto), importe, a.tipo_cambio)
        for key, (base, importe) in a.traslados.items():
            base_attr, importe_attr = _TOTAL_TRASLADOS.get(key, (None, None))
            add(base_attr, base, a.tipo_cambio)
            add(importe_attr, importe, a.tipo_cambio)
        add("MontoTotalPagos", a.monto, a.tipo_cambio)
    order = [*_TOTAL_RETENCIONES.values(), *(x for pair in _TOTAL_TRASLADOS.values() for x in pair if x),
             "MontoTotalPagos"]
    return {attr: sums[attr] for attr in order if attr in sums}


# XML elements that are lists in the JSON, under the JSON list's name (the XML wraps some in a container).
PATHS = JsonPaths(
    lists={"Pago": "Pagos", "DoctoRelacionado": "DoctoRelacionado", "TrasladoDR": "TrasladosDR",
           "RetencionDR": "RetencionesDR", "TrasladoP": "TrasladosP", "RetencionP": "RetencionesP"},
    skip=frozenset({"Comprobante", "Complemento", "Pagos", "TrasladosDR", "RetencionesDR", "TrasladosP",
                    "RetencionesP"}))


def pagos_json_path(node: str) -> str:
    """A finding's XML node path in the JSON the ERP sent:
    "Complemento/Pagos/Pago[1]/DoctoRelacionado[2]/ImpuestosDR/TrasladosDR/TrasladoDR[1]@TasaOCuotaDR"
    -> "Pagos[0].DoctoRelacionado[1].ImpuestosDR.TrasladosDR[0].TasaOCuotaDR" (JSON indexes from 0).
    Nodes outside the complement are the Comprobante's: build.invoice.json_path reads them."""
    if not node.startswith("Complemento/"):
        return json_path(node)
    return PATHS.walk(node)
