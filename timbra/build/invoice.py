"""Build a CFDI 4.0 from plain data (conexión remota): the ERP sends Anexo 20's fields, timbra computes.

    invoice = Invoice.model_validate(json_data)          # structure and types; errors name the JSON field
    root = build(invoice, emisor=Emisor(...), fecha=now)  # importes, bases, taxes, totals, SAT's rounding

The JSON uses Anexo 20's own names (Serie, FormaPago, Receptor.UsoCFDI, Conceptos[].Impuestos.Traslados...).
What SAT defines as derived is computed here and refused if sent: Importe of each Concepto (Cantidad x
ValorUnitario), tax Importe (Base x TasaOCuota), the Comprobante's Impuestos (grouped by Impuesto, TipoFactor
and TasaOCuota), SubTotal, Descuento and Total, each rounded half-up to the decimals of the Moneda (c_Moneda).
A concepto tax's Base is Importe - Descuento by default, except that the IEPS trasladado forms part of the
value on which IVA is computed (LIVA art. 12 and 18): IVA's Base, trasladado or retenido, is Importe -
Descuento + the concepto's IEPS trasladado (Tasa or Cuota; an Exento IEPS adds nothing). ISR and IEPS keep
Importe - Descuento. A line may state its Base (it wins); an IEPS of TipoFactor Cuota must, since its Base is
the number of units taxed (litros, cigarros, gramos), not an amount. The result is unsealed; SAT's rules then
run on it through the ordinary validator, and `json_path` turns their XML node paths back into the JSON fields
the ERP sent.
A CFDI de pagos (tipo P, complemento Pagos 2.0) is built the same way by timbra.build.pagos.
A CFDI de nómina (tipo N, complemento Nómina 1.2) is built the same way by timbra.build.nomina.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from lxml import etree
from pydantic import ConfigDict, Field, field_validator

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
    set_attrs,
)
from timbra.cfdi.amounts import fmt, round_half_up
from timbra.sat.catalogs import catalogs

__all__ = ["Invoice", "ConceptoData", "ImpuestosData", "TrasladoData", "RetencionData", "ReceptorData",
           "ACuentaTercerosData", "InformacionGlobalData", "build", "json_path", "BuildError", "Emisor",
           "EmisorData", "CfdiRelacionadosData"]

Amount = Annotated[Decimal, Field(ge=0, max_digits=24, decimal_places=6)]

TaxBase = Annotated[Decimal, Field(gt=0, max_digits=24, decimal_places=6)]
_TAX_BASE = ("Opcional: la Base de esta línea. Por omisión, Importe - Descuento del concepto, y para el IVA además "
             "el IEPS trasladado del concepto (LIVA arts. 12 y 18). Obligatoria con TipoFactor Cuota: el número de "
             "unidades gravadas (litros, cigarros, gramos)")


class TrasladoData(DataModel):
    Impuesto: Literal["002", "003"] = Field(description="c_Impuesto: 002 IVA, 003 IEPS")
    TipoFactor: Literal["Tasa", "Cuota", "Exento"]
    TasaOCuota: Rate | None = Field(None, description="Obligatorio salvo Exento, p. ej. 0.160000")
    Base: TaxBase | None = Field(None, description=_TAX_BASE)


class RetencionData(DataModel):
    Impuesto: Literal["001", "002", "003"] = Field(description="c_Impuesto: 001 ISR, 002 IVA, 003 IEPS")
    TipoFactor: Literal["Tasa", "Cuota"]
    TasaOCuota: Rate
    Base: TaxBase | None = Field(None, description=_TAX_BASE)


class ImpuestosData(DataModel):
    Traslados: list[TrasladoData] = []
    Retenciones: list[RetencionData] = []


class ACuentaTercerosData(DataModel):
    RfcACuentaTerceros: str
    NombreACuentaTerceros: str
    RegimenFiscalACuentaTerceros: str
    DomicilioFiscalACuentaTerceros: str


class ConceptoData(DataModel):
    ClaveProdServ: str
    NoIdentificacion: str | None = None
    Cantidad: Annotated[Decimal, Field(gt=0, max_digits=24, decimal_places=6)]
    ClaveUnidad: str
    Unidad: str | None = None
    Descripcion: str = Field(min_length=1, max_length=1000)
    ValorUnitario: Amount
    Descuento: Amount | None = None
    ObjetoImp: Literal["01", "02", "03", "04", "05", "06", "07", "08"] | None = Field(
        None, description="Por omisión 02 si hay Impuestos, 01 si no")
    Impuestos: ImpuestosData | None = None
    ACuentaTerceros: ACuentaTercerosData | None = None
    InformacionAduanera: list[str] = Field([], description="NumeroPedimento de cada InformacionAduanera")
    CuentaPredial: list[str] = Field([], description="Numero de cada CuentaPredial")


class ReceptorData(DataModel):
    Rfc: str
    Nombre: str
    DomicilioFiscalReceptor: str
    RegimenFiscalReceptor: str
    UsoCFDI: str
    ResidenciaFiscal: str | None = None
    NumRegIdTrib: str | None = None


class InformacionGlobalData(DataModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    Periodicidad: str
    Meses: str
    Anio: int = Field(alias="Año", ge=2021, le=9999)


class Invoice(DataModel):
    """A CFDI 4.0 Ingreso or Egreso, in Anexo 20's names. Emisor, Fecha, importes and totals are timbra's."""

    Serie: str | None = Field(None, max_length=25)
    Folio: str | None = Field(None, max_length=40)
    TipoDeComprobante: Literal["I", "E"] = "I"
    FormaPago: str | None = None
    MetodoPago: Literal["PUE", "PPD"] | None = None
    CondicionesDePago: str | None = None
    Moneda: str = "MXN"
    TipoCambio: Annotated[Decimal, Field(gt=0, max_digits=24, decimal_places=6)] | None = None
    Exportacion: str = "01"
    LugarExpedicion: str = Field(pattern=r"^[0-9]{5}$")
    Emisor: EmisorData = EmisorData()
    Receptor: ReceptorData
    InformacionGlobal: InformacionGlobalData | None = None
    CfdiRelacionados: list[CfdiRelacionadosData] = []
    Conceptos: list[ConceptoData] = Field(min_length=1)

    @field_validator("Moneda")
    @classmethod
    def _upper(cls, v: str) -> str:
        return v.upper()


@dataclass
class _TaxLine:
    base: Decimal
    impuesto: str
    tipo_factor: str
    tasa: Decimal | None
    importe: Decimal | None
    base_text: str | None = None  # a Base the ERP stated with more decimals than the Moneda's: as written


def build(inv: Invoice, *, emisor: Emisor, fecha: datetime) -> etree._Element:
    """The unsealed cfdi:Comprobante for `inv`, issued by `emisor`, dated `fecha` in LugarExpedicion's zone.

    Raises BuildError (with the JSON path) for what only the data can get wrong before SAT's rules run."""
    decimals = catalogs().moneda_decimals(inv.Moneda)
    if decimals is None:
        raise BuildError("Moneda", "no está en el catálogo c_Moneda", inv.Moneda)
    g = inv.InformacionGlobal
    root, _ = comprobante(inv, emisor=emisor, fecha=fecha, namespaces={}, schema_location=SCHEMA_LOCATION_40,
                          attrs=[("FormaPago", inv.FormaPago), ("CondicionesDePago", inv.CondicionesDePago)],
                          informacion_global=None if g is None else [
                              ("Periodicidad", g.Periodicidad), ("Meses", g.Meses), ("Año", str(g.Anio))])
    if inv.Moneda in ("MXN", "XXX"):
        if inv.TipoCambio not in (None, Decimal(1)):
            raise BuildError("TipoCambio", "con Moneda MXN no se registra (o vale 1)", inv.TipoCambio)
    elif inv.TipoCambio is None:
        raise BuildError("TipoCambio", f"es obligatorio con Moneda {inv.Moneda}")

    conceptos = element(root, "Conceptos")
    subtotal = descuento_total = Decimal(0)
    any_descuento = False
    traslados: list[_TaxLine] = []
    retenciones: list[_TaxLine] = []
    for i, c in enumerate(inv.Conceptos):
        path = f"Conceptos[{i}]"
        importe = round_half_up(c.Cantidad * c.ValorUnitario, decimals)
        descuento = round_half_up(c.Descuento, decimals) if c.Descuento is not None else None
        if descuento is not None and descuento > importe:
            raise BuildError(f"{path}.Descuento", f"es mayor que el Importe ({fmt(importe, decimals)})", c.Descuento)
        impuestos = c.Impuestos if c.Impuestos and (c.Impuestos.Traslados or c.Impuestos.Retenciones) else None
        objeto = c.ObjetoImp or ("02" if impuestos else "01")
        if objeto == "02" and impuestos is None:
            raise BuildError(f"{path}.Impuestos", "ObjetoImp 02 (sí objeto de impuesto) requiere Impuestos")
        node = element(conceptos, "Concepto", [
            ("ClaveProdServ", c.ClaveProdServ), ("NoIdentificacion", c.NoIdentificacion),
            ("Cantidad", fmt_shortest(c.Cantidad)), ("ClaveUnidad", c.ClaveUnidad), ("Unidad", c.Unidad),
            ("Descripcion", c.Descripcion), ("ValorUnitario", fmt_shortest(c.ValorUnitario, decimals)),
            ("Importe", fmt(importe, decimals)),
            ("Descuento", fmt(descuento, decimals) if descuento is not None else None), ("ObjetoImp", objeto)])
        subtotal += importe
        if descuento is not None:
            any_descuento = True
            descuento_total += descuento
        if impuestos is not None:
            tras_lines, ret_lines = _concepto_taxes(impuestos, importe - (descuento or Decimal(0)), decimals,
                                                    f"{path}.Impuestos")
            imp_node = element(node, "Impuestos")
            if tras_lines:
                ts = element(imp_node, "Traslados")
                for line in tras_lines:
                    traslados.append(line)
                    element(ts, "Traslado", _tax_attrs(line, decimals))
            if ret_lines:
                rs = element(imp_node, "Retenciones")
                for line in ret_lines:
                    retenciones.append(line)
                    element(rs, "Retencion", _tax_attrs(line, decimals))
        if c.ACuentaTerceros is not None:
            a = c.ACuentaTerceros
            element(node, "ACuentaTerceros", [("RfcACuentaTerceros", a.RfcACuentaTerceros.upper()),
                                           ("NombreACuentaTerceros", a.NombreACuentaTerceros),
                                           ("RegimenFiscalACuentaTerceros", a.RegimenFiscalACuentaTerceros),
                                           ("DomicilioFiscalACuentaTerceros", a.DomicilioFiscalACuentaTerceros)])
        for p in c.InformacionAduanera:
            element(node, "InformacionAduanera", [("NumeroPedimento", p)])
        for n in c.CuentaPredial:
            element(node, "CuentaPredial", [("Numero", n)])

    total_traslados = sum((t.importe for t in traslados if t.importe is not None), Decimal(0))
    total_retenciones = sum((t.importe for t in retenciones if t.importe is not None), Decimal(0))
    if traslados or retenciones:
        imp = element(root, "Impuestos")
        if retenciones:
            imp.set("TotalImpuestosRetenidos", fmt(total_retenciones, decimals))
        if any(t.importe is not None for t in traslados):
            imp.set("TotalImpuestosTrasladados", fmt(total_traslados, decimals))
        if retenciones:
            rs = element(imp, "Retenciones")
            for impuesto, lines in _group(retenciones, lambda t: t.impuesto).items():
                element(rs, "Retencion", [("Impuesto", impuesto),
                                       ("Importe", fmt(sum((t.importe for t in lines), Decimal(0)), decimals))])
        if traslados:
            ts = element(imp, "Traslados")
            for (impuesto, factor, tasa), lines in _group(
                    traslados, lambda t: (t.impuesto, t.tipo_factor, t.tasa)).items():
                base = sum((t.base for t in lines), Decimal(0))
                importe = None if factor == "Exento" else sum((t.importe for t in lines), Decimal(0))
                element(ts, "Traslado", _tax_attrs(_TaxLine(base, impuesto, factor, tasa, importe), decimals))

    total = subtotal - descuento_total + total_traslados - total_retenciones
    set_attrs(root, (
        ("SubTotal", fmt(subtotal, decimals)),
        ("Descuento", fmt(descuento_total, decimals) if any_descuento else None), ("Moneda", inv.Moneda),
        ("TipoCambio", fmt_shortest(inv.TipoCambio) if inv.TipoCambio is not None and inv.Moneda != "MXN" else None),
        ("Total", fmt(total, decimals)), ("TipoDeComprobante", inv.TipoDeComprobante),
        ("Exportacion", inv.Exportacion), ("MetodoPago", inv.MetodoPago), ("LugarExpedicion", inv.LugarExpedicion)))
    return root


IVA, IEPS = "002", "003"


def _concepto_taxes(impuestos: ImpuestosData, importe_neto: Decimal, decimals: int,
                    path: str) -> tuple[list[_TaxLine], list[_TaxLine]]:
    """(traslados, retenciones) of one concepto, in the order sent. Base: the one the line states, else
    Importe - Descuento (`importe_neto`), plus for IVA (trasladado or retenido) the concepto's IEPS
    trasladado, which forms part of the value IVA is computed on (LIVA arts. 12 and 18). The IEPS lines are
    computed first, wherever the ERP lists them."""
    traslados: list[_TaxLine | None] = [None] * len(impuestos.Traslados)
    ieps = Decimal(0)
    for j, t in enumerate(impuestos.Traslados):
        if t.Impuesto == IEPS:
            traslados[j] = line = _tax_line(t, importe_neto, decimals, f"{path}.Traslados[{j}]")
            ieps += line.importe or Decimal(0)
    for j, t in enumerate(impuestos.Traslados):
        if t.Impuesto != IEPS:
            traslados[j] = _tax_line(t, importe_neto + ieps, decimals, f"{path}.Traslados[{j}]")
    retenciones = [_tax_line(r, importe_neto + ieps if r.Impuesto == IVA else importe_neto, decimals,
                             f"{path}.Retenciones[{j}]") for j, r in enumerate(impuestos.Retenciones)]
    return [t for t in traslados if t is not None], retenciones


def _tax_line(t: TrasladoData | RetencionData, default_base: Decimal, decimals: int, path: str) -> _TaxLine:
    factor, tasa = t.TipoFactor, t.TasaOCuota
    base, base_text = default_base, None
    if t.Base is not None:
        base = t.Base
        if round_half_up(base, decimals) != base:  # up to 6 decimals (t_Importe): kept as written
            base_text = fmt_shortest(base)
    elif factor == "Cuota":
        raise BuildError(f"{path}.Base",
                         "es obligatoria con TipoFactor Cuota: la Base de una cuota es el número de unidades "
                         "gravadas (litros, cigarros, gramos), no un importe",
                         message_en="is required with TipoFactor Cuota: the Base of a cuota is the number of "
                                    "units taxed (litres, cigarettes, grams), not an amount")
    if factor == "Exento":
        if tasa is not None:
            raise BuildError(f"{path}.TasaOCuota", "no se registra con TipoFactor Exento", tasa)
        return _TaxLine(base, t.Impuesto, factor, None, None, base_text)
    if tasa is None:
        raise BuildError(f"{path}.TasaOCuota", f"es obligatoria con TipoFactor {factor}")
    return _TaxLine(base, t.Impuesto, factor, tasa, round_half_up(base * tasa, decimals), base_text)


def _tax_attrs(line: _TaxLine, decimals: int) -> list[tuple[str, str | None]]:
    base = line.base_text if line.base_text is not None else fmt(line.base, decimals)
    return [("Base", base), ("Impuesto", line.impuesto), ("TipoFactor", line.tipo_factor),
            ("TasaOCuota", fmt(line.tasa, 6) if line.tasa is not None else None),
            ("Importe", fmt(line.importe, decimals) if line.importe is not None else None)]


def _group(lines: list[_TaxLine], key) -> dict:
    out: dict = {}
    for line in lines:
        out.setdefault(key(line), []).append(line)
    return out


# XML element -> the JSON list that holds it (the XML wraps Conceptos, Traslados and Retenciones in a container).
PATHS = JsonPaths(
    lists={"Concepto": "Conceptos", "Traslado": "Traslados", "Retencion": "Retenciones",
           "CfdiRelacionados": "CfdiRelacionados", "CfdiRelacionado": "UUIDs",
           "InformacionAduanera": "InformacionAduanera", "CuentaPredial": "CuentaPredial"},
    skip=frozenset({"Comprobante", "Conceptos", "Traslados", "Retenciones"}),
    # Lists the JSON holds as plain values: the XML attribute is the value itself.
    scalars=frozenset({("CfdiRelacionado", "UUID"), ("InformacionAduanera", "NumeroPedimento"),
                       ("CuentaPredial", "Numero")}),
    renames={"Año": "Anio"})


def json_path(node: str) -> str:
    """A finding's XML node path in the JSON the ERP sent:
    "Conceptos/Concepto[3]/Impuestos/Traslados/Traslado[1]@TasaOCuota"
    -> "Conceptos[2].Impuestos.Traslados[0].TasaOCuota" (JSON indexes from 0, XPath from 1)."""
    return PATHS.walk(node)
