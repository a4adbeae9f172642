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
the number of units taxed (litros, cigarros, gramos), not an amount. The result is unsealed; SAT's rules then run on it through the
ordinary validator, and `json_path` turns their XML node paths back into the JSON fields the ERP sent.
A CFDI de pagos (tipo P, complemento Pagos 2.0) is built the same way by timbra.build.pagos.
A CFDI de nómina (tipo N, complemento Nómina 1.2) is built the same way by timbra.build.nomina.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Literal

from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, field_validator

from timbra.cfdi.document import NS40, NS_XSI
from timbra.sat.catalogs import catalogs

SCHEMA_LOCATION_40 = "http://www.sat.gob.mx/cfd/4 http://www.sat.gob.mx/sitio_internet/cfd/4/cfdv40.xsd"

Amount = Annotated[Decimal, Field(ge=0, max_digits=24, decimal_places=6)]
Rate = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=6)]


class _Model(BaseModel):
    # Unknown fields are errors (a typo must not silently drop data); Anexo 20's names, as sent.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)


TaxBase = Annotated[Decimal, Field(gt=0, max_digits=24, decimal_places=6)]
_TAX_BASE = ("Opcional: la Base de esta línea. Por omisión, Importe - Descuento del concepto, y para el IVA además "
             "el IEPS trasladado del concepto (LIVA arts. 12 y 18). Obligatoria con TipoFactor Cuota: el número de "
             "unidades gravadas (litros, cigarros, gramos)")


class TrasladoData(_Model):
    Impuesto: Literal["002", "003"] = Field(description="c_Impuesto: 002 IVA, 003 IEPS")
    TipoFactor: Literal["Tasa", "Cuota", "Exento"]
    TasaOCuota: Rate | None = Field(None, description="Obligatorio salvo Exento, p. ej. 0.160000")
    Base: TaxBase | None = Field(None, description=_TAX_BASE)


class RetencionData(_Model):
    Impuesto: Literal["001", "002", "003"] = Field(description="c_Impuesto: 001 ISR, 002 IVA, 003 IEPS")
    TipoFactor: Literal["Tasa", "Cuota"]
    TasaOCuota: Rate
    Base: TaxBase | None = Field(None, description=_TAX_BASE)


class ImpuestosData(_Model):
    Traslados: list[TrasladoData] = []
    Retenciones: list[RetencionData] = []


class ACuentaTercerosData(_Model):
    RfcACuentaTerceros: str
    NombreACuentaTerceros: str
    RegimenFiscalACuentaTerceros: str
    DomicilioFiscalACuentaTerceros: str


class ConceptoData(_Model):
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


class ReceptorData(_Model):
    Rfc: str
    Nombre: str
    DomicilioFiscalReceptor: str
    RegimenFiscalReceptor: str
    UsoCFDI: str
    ResidenciaFiscal: str | None = None
    NumRegIdTrib: str | None = None


class InformacionGlobalData(_Model):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    Periodicidad: str
    Meses: str
    Anio: int = Field(alias="Año", ge=2021, le=9999)


class CfdiRelacionadosData(_Model):
    TipoRelacion: str
    UUIDs: list[str] = Field(min_length=1)


class EmisorData(_Model):
    Rfc: str | None = Field(None, description="Solo si la cuenta tiene varios RFC")
    Nombre: str | None = Field(None, max_length=254, description="Por omisión, el nombre registrado en la cuenta "
                               "para el RFC, o el del CSD sin régimen de capital")
    RegimenFiscal: str | None = Field(None, description="Por omisión, el régimen registrado de la cuenta")
    FacAtrAdquirente: str | None = None


class Invoice(_Model):
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


@dataclass(frozen=True)
class Emisor:
    rfc: str
    nombre: str
    regimen_fiscal: str


class BuildError(ValueError):
    """Data that cannot make a CFDI, with the JSON path of the field (e.g. Conceptos[0].Descuento)."""

    def __init__(self, path: str, message: str, value: object = None, message_en: str | None = None) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message
        self.value = value
        self.message_en = message_en


def _round(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _fmt(value: Decimal, decimals: int) -> str:
    return str(_round(value, decimals))


def _rate(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.000001")))


def _sub(parent: etree._Element, local: str, attrs: Iterable[tuple[str, str | None]], ns: str = NS40
         ) -> etree._Element:
    """A child element with the attributes that have a value, in the order given."""
    el = etree.SubElement(parent, f"{{{ns}}}{local}")
    for k, v in attrs:
        if v is not None:
            el.set(k, v)
    return el


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
    cats = catalogs()
    decimals = cats.moneda_decimals(inv.Moneda)
    if decimals is None:
        raise BuildError("Moneda", "no está en el catálogo c_Moneda", inv.Moneda)
    zone = cats.zone_for_postal_code(inv.LugarExpedicion)
    if zone is None:
        raise BuildError("LugarExpedicion", "no está en el catálogo c_CodigoPostal", inv.LugarExpedicion)
    if inv.Moneda in ("MXN", "XXX"):
        if inv.TipoCambio not in (None, Decimal(1)):
            raise BuildError("TipoCambio", "con Moneda MXN no se registra (o vale 1)", inv.TipoCambio)
    elif inv.TipoCambio is None:
        raise BuildError("TipoCambio", f"es obligatorio con Moneda {inv.Moneda}")
    regimen = inv.Emisor.RegimenFiscal or emisor.regimen_fiscal

    root = etree.Element(f"{{{NS40}}}Comprobante", nsmap={"cfdi": NS40, "xsi": NS_XSI})
    root.set(f"{{{NS_XSI}}}schemaLocation", SCHEMA_LOCATION_40)
    local = fecha.astimezone(zone)
    for k, v in (("Version", "4.0"), ("Serie", inv.Serie), ("Folio", inv.Folio),
                 ("Fecha", local.strftime("%Y-%m-%dT%H:%M:%S")), ("FormaPago", inv.FormaPago),
                 ("CondicionesDePago", inv.CondicionesDePago)):
        if v is not None:
            root.set(k, v)

    if inv.InformacionGlobal is not None:
        g = inv.InformacionGlobal
        _sub(root, "InformacionGlobal", [("Periodicidad", g.Periodicidad), ("Meses", g.Meses), ("Año", str(g.Anio))])
    for rel in inv.CfdiRelacionados:
        node = _sub(root, "CfdiRelacionados", [("TipoRelacion", rel.TipoRelacion)])
        for u in rel.UUIDs:
            _sub(node, "CfdiRelacionado", [("UUID", u)])
    _sub(root, "Emisor", [("Rfc", emisor.rfc), ("Nombre", emisor.nombre), ("RegimenFiscal", regimen),
                          ("FacAtrAdquirente", inv.Emisor.FacAtrAdquirente)])
    r = inv.Receptor
    _sub(root, "Receptor", [("Rfc", r.Rfc.upper()), ("Nombre", r.Nombre),
                            ("DomicilioFiscalReceptor", r.DomicilioFiscalReceptor),
                            ("ResidenciaFiscal", r.ResidenciaFiscal), ("NumRegIdTrib", r.NumRegIdTrib),
                            ("RegimenFiscalReceptor", r.RegimenFiscalReceptor), ("UsoCFDI", r.UsoCFDI)])

    conceptos = _sub(root, "Conceptos", [])
    subtotal = descuento_total = Decimal(0)
    any_descuento = False
    traslados: list[_TaxLine] = []
    retenciones: list[_TaxLine] = []
    for i, c in enumerate(inv.Conceptos):
        path = f"Conceptos[{i}]"
        importe = _round(c.Cantidad * c.ValorUnitario, decimals)
        descuento = _round(c.Descuento, decimals) if c.Descuento is not None else None
        if descuento is not None and descuento > importe:
            raise BuildError(f"{path}.Descuento", f"es mayor que el Importe ({_fmt(importe, decimals)})", c.Descuento)
        impuestos = c.Impuestos if c.Impuestos and (c.Impuestos.Traslados or c.Impuestos.Retenciones) else None
        objeto = c.ObjetoImp or ("02" if impuestos else "01")
        if objeto == "02" and impuestos is None:
            raise BuildError(f"{path}.Impuestos", "ObjetoImp 02 (sí objeto de impuesto) requiere Impuestos")
        node = _sub(conceptos, "Concepto", [
            ("ClaveProdServ", c.ClaveProdServ), ("NoIdentificacion", c.NoIdentificacion),
            ("Cantidad", _plain(c.Cantidad)), ("ClaveUnidad", c.ClaveUnidad), ("Unidad", c.Unidad),
            ("Descripcion", c.Descripcion), ("ValorUnitario", _plain(c.ValorUnitario, decimals)),
            ("Importe", _fmt(importe, decimals)),
            ("Descuento", _fmt(descuento, decimals) if descuento is not None else None), ("ObjetoImp", objeto)])
        subtotal += importe
        if descuento is not None:
            any_descuento = True
            descuento_total += descuento
        if impuestos is not None:
            tras_lines, ret_lines = _concepto_taxes(impuestos, importe - (descuento or Decimal(0)), decimals,
                                                    f"{path}.Impuestos")
            imp_node = _sub(node, "Impuestos", [])
            if tras_lines:
                ts = _sub(imp_node, "Traslados", [])
                for line in tras_lines:
                    traslados.append(line)
                    _sub(ts, "Traslado", _tax_attrs(line, decimals))
            if ret_lines:
                rs = _sub(imp_node, "Retenciones", [])
                for line in ret_lines:
                    retenciones.append(line)
                    _sub(rs, "Retencion", _tax_attrs(line, decimals))
        if c.ACuentaTerceros is not None:
            a = c.ACuentaTerceros
            _sub(node, "ACuentaTerceros", [("RfcACuentaTerceros", a.RfcACuentaTerceros.upper()),
                                           ("NombreACuentaTerceros", a.NombreACuentaTerceros),
                                           ("RegimenFiscalACuentaTerceros", a.RegimenFiscalACuentaTerceros),
                                           ("DomicilioFiscalACuentaTerceros", a.DomicilioFiscalACuentaTerceros)])
        for p in c.InformacionAduanera:
            _sub(node, "InformacionAduanera", [("NumeroPedimento", p)])
        for n in c.CuentaPredial:
            _sub(node, "CuentaPredial", [("Numero", n)])

    total_traslados = sum((t.importe for t in traslados if t.importe is not None), Decimal(0))
    total_retenciones = sum((t.importe for t in retenciones if t.importe is not None), Decimal(0))
    if traslados or retenciones:
        imp = _sub(root, "Impuestos", [])
        if retenciones:
            imp.set("TotalImpuestosRetenidos", _fmt(total_retenciones, decimals))
        if any(t.importe is not None for t in traslados):
            imp.set("TotalImpuestosTrasladados", _fmt(total_traslados, decimals))
        if retenciones:
            rs = _sub(imp, "Retenciones", [])
            for impuesto, lines in _group(retenciones, lambda t: t.impuesto).items():
                _sub(rs, "Retencion", [("Impuesto", impuesto),
                                       ("Importe", _fmt(sum((t.importe for t in lines), Decimal(0)), decimals))])
        if traslados:
            ts = _sub(imp, "Traslados", [])
            for (impuesto, factor, tasa), lines in _group(
                    traslados, lambda t: (t.impuesto, t.tipo_factor, t.tasa)).items():
                base = sum((t.base for t in lines), Decimal(0))
                importe = None if factor == "Exento" else sum((t.importe for t in lines), Decimal(0))
                _sub(ts, "Traslado", _tax_attrs(_TaxLine(base, impuesto, factor, tasa, importe), decimals))

    total = subtotal - descuento_total + total_traslados - total_retenciones
    for k, v in (("SubTotal", _fmt(subtotal, decimals)),
                 ("Descuento", _fmt(descuento_total, decimals) if any_descuento else None),
                 ("Moneda", inv.Moneda),
                 ("TipoCambio", _plain(inv.TipoCambio) if inv.TipoCambio is not None and inv.Moneda != "MXN" else None),
                 ("Total", _fmt(total, decimals)), ("TipoDeComprobante", inv.TipoDeComprobante),
                 ("Exportacion", inv.Exportacion), ("MetodoPago", inv.MetodoPago),
                 ("LugarExpedicion", inv.LugarExpedicion)):
        if v is not None:
            root.set(k, v)
    return root


def _plain(value: Decimal, min_decimals: int = 0) -> str:
    """A number as written by people: no exponent, no trailing zeros beyond `min_decimals`."""
    d = value.normalize()
    if d.as_tuple().exponent > -min_decimals:
        d = d.quantize(Decimal(1).scaleb(-min_decimals))
    return f"{d:f}"


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
        if _round(base, decimals) != base:  # up to 6 decimals (t_Importe): kept as written
            base_text = _plain(base)
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
    return _TaxLine(base, t.Impuesto, factor, tasa, _round(base * tasa, decimals), base_text)


def _tax_attrs(line: _TaxLine, decimals: int) -> list[tuple[str, str | None]]:
    base = line.base_text if line.base_text is not None else _fmt(line.base, decimals)
    return [("Base", base), ("Impuesto", line.impuesto), ("TipoFactor", line.tipo_factor),
            ("TasaOCuota", _rate(line.tasa) if line.tasa is not None else None),
            ("Importe", _fmt(line.importe, decimals) if line.importe is not None else None)]


def _group(lines: list[_TaxLine], key) -> dict:
    out: dict = {}
    for line in lines:
        out.setdefault(key(line), []).append(line)
    return out


_STEP = re.compile(r"([A-Za-z]+)(?:\[(\d+)\])?")
# XML element -> the JSON list that holds it (the XML wraps lists in a container element).
_LISTS = {"Concepto": "Conceptos", "Traslado": "Traslados", "Retencion": "Retenciones",
          "CfdiRelacionado": "UUIDs", "InformacionAduanera": "InformacionAduanera",
          "CuentaPredial": "CuentaPredial"}
_CONTAINERS = {"Conceptos", "Traslados", "Retenciones"}
# Lists the JSON holds as plain values: the XML attribute is the value itself.
_SCALARS = {("CfdiRelacionado", "UUID"), ("InformacionAduanera", "NumeroPedimento"), ("CuentaPredial", "Numero")}


def json_path(node: str) -> str:
    """A finding's XML node path in the JSON the ERP sent:
    "Conceptos/Concepto[3]/Impuestos/Traslados/Traslado[1]@TasaOCuota"
    -> "Conceptos[2].Impuestos.Traslados[0].TasaOCuota" (JSON indexes from 0, XPath from 1)."""
    elements, _, attr = node.partition("@")
    out: list[str] = []
    last = ""
    for step in (s for s in elements.split("/") if s):
        m = _STEP.fullmatch(step)
        if m is None:
            return node
        name, index = m.group(1), m.group(2)
        last = name
        if name == "Comprobante" or name in _CONTAINERS:
            continue
        if name in _LISTS:
            out.append(f"{_LISTS[name]}[{int(index or 1) - 1}]")
        elif name == "CfdiRelacionados":
            out.append(f"CfdiRelacionados[{int(index or 1) - 1}]")
        else:
            out.append(name)
    if attr and (last, attr) not in _SCALARS:
        out.append("Anio" if attr == "Año" else attr)
    return ".".join(out)
