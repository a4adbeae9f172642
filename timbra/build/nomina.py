"""Build a CFDI de nómina (tipo N, complemento Nómina 1.2) from plain data (conexión remota).

    data = NominaInvoice.model_validate(json_data)                 # structure and types; errors name the field
    root = build_nomina(data, emisor=Emisor(...), fecha=now)      # totals, Antigüedad, the Comprobante

The JSON uses the names of Anexo 20 and of the complement (Receptor.Rfc, Nomina.TipoNomina,
Nomina.Receptor.TipoRegimen, Nomina.Percepciones[].ImporteGravado...). The ERP sends what only it knows
(the employee, the period, every percepción, deducción, otro pago and incapacidad with its amounts); what
SAT's matrix derives from those is computed here and refused if sent:

- Nomina.Receptor.Antigüedad: from FechaInicioRelLaboral to FechaFinalPago, P<y>Y<m>M<d>D as a calendar
  counts it (NOM55), or whole weeks P<n>W (NOM54) when Nomina.Receptor.FormatoAntigüedad is "semanas".
- Percepciones: TotalSueldos, TotalSeparacionIndemnizacion, TotalJubilacionPensionRetiro, TotalGravado,
  TotalExento; SeparacionIndemnizacion's TotalPagado, IngresoAcumulable (the lesser of TotalPagado and
  UltimoSueldoMensOrd) and IngresoNoAcumulable (the rest); JubilacionPensionRetiro's TotalUnaExhibicion
  (039) and, unless sent, TotalParcialidad (044).
- Deducciones: TotalOtrasDeducciones, TotalImpuestosRetenidos (the 002, ISR), and the Importe of a 006
  (descuento por incapacidad) when not sent: the sum of the incapacidades' ImporteMonetario (NOM95).
- Nomina: TotalPercepciones, TotalDeducciones, TotalOtrosPagos.
- The Comprobante as the matrix fixes it for nómina: one Concepto 84111505 / ACT / "Pago de nómina",
  Cantidad 1, ObjetoImp 01, ValorUnitario = Importe = SubTotal = TotalPercepciones + TotalOtrosPagos,
  Descuento = TotalDeducciones, Total = SubTotal - Descuento; Moneda MXN, Exportacion 01, MetodoPago PUE,
  TipoDeComprobante N, Receptor RegimenFiscalReceptor 605 and UsoCFDI CN01.

Amounts are t_ImporteMXN (two decimals): the ERP's amounts with more decimals are refused, never rounded,
so every total is an exact sum. The result is unsealed; SAT's rules (CFDI 4.0 and NOM1-NOM108) then run
on it through the ordinary validator.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from lxml import etree
from pydantic import Field

from timbra.build.common import (
    SCHEMA_LOCATION_40,
    BuildError,
    CfdiRelacionadosData,
    DataModel,
    Emisor,
    EmisorCfdi,
    JsonPaths,
    comprobante,
    element,
    fmt_shortest,
    set_attrs,
)
from timbra.build.invoice import json_path as _cfdi_json_path
from timbra.cfdi.amounts import fmt
from timbra.cfdi.periods import elapsed

NS_NOMINA = "http://www.sat.gob.mx/nomina12"
SCHEMA_LOCATION = f"{SCHEMA_LOCATION_40} {NS_NOMINA} http://www.sat.gob.mx/sitio_internet/cfd/nomina/nomina12.xsd"

CLAVE_PROD_SERV, CLAVE_UNIDAD, DESCRIPCION = "84111505", "ACT", "Pago de nómina"
SEPARACION = frozenset({"022", "023", "025"})
JUBILACION_UNA_EXHIBICION, JUBILACION_PARCIALIDADES = "039", "044"
JUBILACION = frozenset({JUBILACION_UNA_EXHIBICION, JUBILACION_PARCIALIDADES})
ISR, DESCUENTO_INCAPACIDAD = "002", "006"
SUBSIDIO = "002"
HORAS_EXTRA = "019"
ZERO = Decimal(0)

# t_ImporteMXN: up to two decimals, never negative.
ImporteMXN = Annotated[Decimal, Field(ge=0, max_digits=20, decimal_places=2)]
ClaveNomina = Annotated[str, Field(min_length=3, max_length=15, pattern=r"^[^|]{3,15}$")]
Texto100 = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^|]{1,100}$")]
Catalogo = Annotated[str, Field(min_length=1, max_length=3)]


# -- the data the ERP sends -----------------------------------------------------------------------------

class ReceptorNominaCfdi(DataModel):
    """cfdi:Receptor: the employee as a taxpayer (a persona física, régimen 605, UsoCFDI CN01)."""

    Rfc: str = Field(min_length=13, max_length=13, description="El trabajador es persona física (13)")
    Nombre: str
    DomicilioFiscalReceptor: str = Field(pattern=r"^[0-9]{5}$")
    RegimenFiscalReceptor: Literal["605"] = "605"
    UsoCFDI: Literal["CN01"] = "CN01"


class EntidadSNCFData(DataModel):
    OrigenRecurso: Literal["IP", "IF", "IM"]
    MontoRecursoPropio: ImporteMXN | None = None


class EmisorNominaData(DataModel):
    """nomina12:Emisor: the employer's payroll data."""

    Curp: str | None = Field(None, pattern=r"^[A-Z][AEIOUX][A-Z]{2}[0-9]{6}[HM][A-Z]{5}[0-9A-Z][0-9]$",
                             description="Solo si el emisor es persona física")
    RegistroPatronal: str | None = Field(None, min_length=1, max_length=20, pattern=r"^[^|]{1,20}$")
    RfcPatronOrigen: str | None = None
    EntidadSNCF: EntidadSNCFData | None = None


class SubContratacionData(DataModel):
    RfcLabora: str
    PorcentajeTiempo: Annotated[Decimal, Field(gt=0, le=100, decimal_places=3)]


class ReceptorNominaData(DataModel):
    """nomina12:Receptor: the employment relation. Antigüedad is computed (FormatoAntigüedad chooses its form)."""

    Curp: str = Field(pattern=r"^[A-Z][AEIOUX][A-Z]{2}[0-9]{6}[HM][A-Z]{5}[0-9A-Z][0-9]$")
    NumSeguridadSocial: str | None = Field(None, pattern=r"^[0-9]{1,15}$")
    FechaInicioRelLaboral: date | None = None
    FormatoAntiguedad: Literal["años", "semanas"] = Field(
        "años", alias="FormatoAntigüedad",
        description="Opción de timbra: Antigüedad en años, meses y días (PnYnMnD) o en semanas (PnW)")
    TipoContrato: Catalogo
    Sindicalizado: Literal["Sí", "No"] | None = None
    TipoJornada: Catalogo | None = None
    TipoRegimen: Catalogo
    NumEmpleado: str = Field(min_length=1, max_length=15, pattern=r"^[^|]{1,15}$")
    Departamento: Texto100 | None = None
    Puesto: Texto100 | None = None
    RiesgoPuesto: Catalogo | None = None
    PeriodicidadPago: Catalogo
    Banco: Catalogo | None = None
    CuentaBancaria: str | None = Field(None, pattern=r"^[0-9]{10,18}$")
    SalarioBaseCotApor: ImporteMXN | None = None
    SalarioDiarioIntegrado: ImporteMXN | None = None
    ClaveEntFed: Catalogo
    SubContratacion: list[SubContratacionData] = []


class HorasExtraData(DataModel):
    Dias: int = Field(ge=1)
    TipoHoras: Literal["01", "02", "03"] = Field(description="c_TipoHoras: 01 dobles, 02 triples, 03 simples")
    HorasExtra: int = Field(ge=1)
    ImportePagado: ImporteMXN


class AccionesOTitulosData(DataModel):
    ValorMercado: Annotated[Decimal, Field(gt=0, decimal_places=6)]
    PrecioAlOtorgarse: Annotated[Decimal, Field(gt=0, decimal_places=6)]


class PercepcionData(DataModel):
    TipoPercepcion: str = Field(pattern=r"^[0-9]{3}$")
    Clave: ClaveNomina
    Concepto: Texto100
    ImporteGravado: ImporteMXN = ZERO
    ImporteExento: ImporteMXN = ZERO
    AccionesOTitulos: AccionesOTitulosData | None = None
    HorasExtra: list[HorasExtraData] = []


class JubilacionPensionRetiroData(DataModel):
    """TotalUnaExhibicion is computed (the 039); TotalParcialidad defaults to the 044's sum."""

    TotalParcialidad: ImporteMXN | None = None
    MontoDiario: ImporteMXN | None = None
    IngresoAcumulable: ImporteMXN
    IngresoNoAcumulable: ImporteMXN


class SeparacionIndemnizacionData(DataModel):
    """TotalPagado, IngresoAcumulable and IngresoNoAcumulable are computed (LISR art. 95)."""

    NumAniosServicio: int = Field(alias="NumAñosServicio", ge=0, le=99)
    UltimoSueldoMensOrd: ImporteMXN


class DeduccionData(DataModel):
    TipoDeduccion: str = Field(pattern=r"^[0-9]{3}$")
    Clave: ClaveNomina
    Concepto: Texto100
    Importe: Annotated[Decimal, Field(gt=0, max_digits=20, decimal_places=2)] | None = Field(
        None, description="Obligatorio salvo en la 006: la suma de ImporteMonetario de las incapacidades")


class SubsidioAlEmpleoData(DataModel):
    SubsidioCausado: ImporteMXN


class CompensacionSaldosAFavorData(DataModel):
    SaldoAFavor: ImporteMXN
    Anio: int = Field(alias="Año", ge=2016, le=9999)
    RemanenteSalFav: ImporteMXN


class OtroPagoData(DataModel):
    TipoOtroPago: str = Field(pattern=r"^[0-9]{3}$")
    Clave: ClaveNomina
    Concepto: Texto100
    Importe: ImporteMXN
    SubsidioAlEmpleo: SubsidioAlEmpleoData | None = None
    CompensacionSaldosAFavor: CompensacionSaldosAFavorData | None = None


class IncapacidadData(DataModel):
    DiasIncapacidad: int = Field(ge=1)
    TipoIncapacidad: Literal["01", "02", "03", "04"] = Field(
        description="c_TipoIncapacidad: 01 riesgo de trabajo, 02 enfermedad general, 03 maternidad, 04 hijo")
    ImporteMonetario: ImporteMXN | None = None


class NominaData(DataModel):
    """nomina12:Nomina without its totals (computed)."""

    TipoNomina: Literal["O", "E"] = Field(description="O ordinaria, E extraordinaria")
    FechaPago: date
    FechaInicialPago: date
    FechaFinalPago: date
    NumDiasPagados: Annotated[Decimal, Field(gt=0, le=36160, decimal_places=3)]
    Emisor: EmisorNominaData | None = None
    Receptor: ReceptorNominaData
    Percepciones: list[PercepcionData] = []
    JubilacionPensionRetiro: JubilacionPensionRetiroData | None = None
    SeparacionIndemnizacion: SeparacionIndemnizacionData | None = None
    Deducciones: list[DeduccionData] = []
    OtrosPagos: list[OtroPagoData] = []
    Incapacidades: list[IncapacidadData] = []


class NominaInvoice(DataModel):
    """A CFDI de nómina in Anexo 20's and the complement's names. Emisor, Fecha, totals and the Concepto are
    timbra's."""

    Serie: str | None = Field(None, max_length=25)
    Folio: str | None = Field(None, max_length=40)
    LugarExpedicion: str = Field(pattern=r"^[0-9]{5}$")
    Emisor: EmisorCfdi = EmisorCfdi()
    Receptor: ReceptorNominaCfdi
    CfdiRelacionados: list[CfdiRelacionadosData] = []
    Nomina: NominaData


# -- building -------------------------------------------------------------------------------------------

def _money(value: Decimal) -> str:
    """t_ImporteMXN: two decimals (the ERP's amounts have no more, so every sum is exact)."""
    return fmt(value, 2)


def _nel(parent: etree._Element, local: str, attrs: Iterable[tuple[str, str | None]] = ()) -> etree._Element:
    return element(parent, local, attrs, NS_NOMINA)


def _opt(value: Decimal | None) -> str | None:
    return None if value is None else _money(value)


def antiguedad(inicio: date, final: date, formato: str = "años") -> str:
    """Antigüedad as NOM54/NOM55 read it: whole weeks counting FechaFinalPago as worked (P<n>W), or the
    calendar's years, months and days from FechaInicioRelLaboral to FechaFinalPago (P<y>Y<m>M<d>D, the
    zero parts left out but the days always present, as the XSD's pattern requires)."""
    if formato == "semanas":
        return f"P{((final - inicio).days + 1) // 7}W"
    months, days = elapsed(inicio, final)
    years, months = divmod(months, 12)
    return f"P{f'{years}Y' if years else ''}{f'{months}M' if months else ''}{days}D"


def build_nomina(data: NominaInvoice, *, emisor: Emisor, fecha: datetime) -> etree._Element:
    """The unsealed cfdi:Comprobante (tipo N) with its nomina12:Nomina, issued by `emisor`, dated `fecha` in
    LugarExpedicion's zone.

    Raises BuildError (with the JSON path) for what only the data can get wrong before SAT's rules run."""
    root, _ = comprobante(data, emisor=emisor, fecha=fecha, namespaces={"nomina12": NS_NOMINA},
                          schema_location=SCHEMA_LOCATION)
    nomina, totals = _nomina(data.Nomina, emisor)
    percepciones = totals.get("TotalPercepciones", ZERO)
    otros = totals.get("TotalOtrosPagos", ZERO)
    deducciones = totals.get("TotalDeducciones")
    subtotal = percepciones + otros
    total = subtotal - (deducciones or ZERO)
    if total < ZERO:
        raise BuildError("Nomina.Deducciones", f"las deducciones ({_money(deducciones)}) pasan de las percepciones "
                                               f"y otros pagos ({_money(subtotal)})", _money(deducciones))

    set_attrs(root, (("SubTotal", _money(subtotal)), ("Descuento", _opt(deducciones)), ("Moneda", "MXN"),
                     ("Total", _money(total)), ("TipoDeComprobante", "N"), ("Exportacion", "01"),
                     ("MetodoPago", "PUE"), ("LugarExpedicion", data.LugarExpedicion)))
    element(element(root, "Conceptos"), "Concepto", [
        ("ClaveProdServ", CLAVE_PROD_SERV), ("Cantidad", "1"), ("ClaveUnidad", CLAVE_UNIDAD),
        ("Descripcion", DESCRIPCION), ("ValorUnitario", _money(subtotal)), ("Importe", _money(subtotal)),
        ("Descuento", _opt(deducciones)), ("ObjetoImp", "01")])
    element(root, "Complemento").append(nomina)
    return root


def _nomina(n: NominaData, emisor: Emisor) -> tuple[etree._Element, dict[str, Decimal]]:
    """The nomina12:Nomina and its totals (TotalPercepciones, TotalDeducciones, TotalOtrosPagos, those that
    exist)."""
    if n.FechaInicialPago > n.FechaFinalPago:
        raise BuildError("Nomina.FechaInicialPago", f"es posterior a FechaFinalPago ({n.FechaFinalPago})",
                         n.FechaInicialPago.isoformat())
    if not n.Percepciones and not n.OtrosPagos:
        raise BuildError("Nomina.Percepciones", "la nómina registra percepciones, otros pagos o ambos")
    el = etree.Element(f"{{{NS_NOMINA}}}Nomina")
    _emisor(el, n, emisor)
    _receptor(el, n)
    totals: dict[str, Decimal] = {}
    if n.Percepciones:
        totals["TotalPercepciones"] = _percepciones(el, n)
    elif n.JubilacionPensionRetiro is not None or n.SeparacionIndemnizacion is not None:
        which = "JubilacionPensionRetiro" if n.JubilacionPensionRetiro is not None else "SeparacionIndemnizacion"
        raise BuildError(f"Nomina.{which}", "sin percepciones no se registra")
    if n.Deducciones:
        totals["TotalDeducciones"] = _deducciones(el, n)
    if n.OtrosPagos:
        totals["TotalOtrosPagos"] = _otros_pagos(el, n)
    if n.Incapacidades:
        inc = _nel(el, "Incapacidades")
        for i in n.Incapacidades:
            _nel(inc, "Incapacidad", [("DiasIncapacidad", str(i.DiasIncapacidad)),
                                                ("TipoIncapacidad", i.TipoIncapacidad),
                                                ("ImporteMonetario", _opt(i.ImporteMonetario))])
    for k, v in (("Version", "1.2"), ("TipoNomina", n.TipoNomina), ("FechaPago", n.FechaPago.isoformat()),
                 ("FechaInicialPago", n.FechaInicialPago.isoformat()), ("FechaFinalPago", n.FechaFinalPago.isoformat()),
                 ("NumDiasPagados", fmt(n.NumDiasPagados, 3)),
                 *((k, _money(v)) for k, v in totals.items())):
        el.set(k, v)
    return el, totals


def _emisor(el: etree._Element, n: NominaData, emisor: Emisor) -> None:
    """nomina12:Emisor, when there is anything to say. The Curp follows the emisor's kind (NOM5, NOM6)."""
    e = n.Emisor or EmisorNominaData()
    if len(emisor.rfc) == 12 and e.Curp is not None:
        raise BuildError("Nomina.Emisor.Curp", f"el emisor {emisor.rfc} es persona moral: no registre Curp", e.Curp)
    if len(emisor.rfc) == 13 and e.Curp is None:
        raise BuildError("Nomina.Emisor.Curp", f"el emisor {emisor.rfc} es persona física: registre su CURP")
    if e.Curp is None and e.RegistroPatronal is None and e.RfcPatronOrigen is None and e.EntidadSNCF is None:
        return
    node = _nel(el, "Emisor", [("Curp", e.Curp), ("RegistroPatronal", e.RegistroPatronal),
                                         ("RfcPatronOrigen", e.RfcPatronOrigen)])
    if e.EntidadSNCF is not None:
        _nel(node, "EntidadSNCF", [("OrigenRecurso", e.EntidadSNCF.OrigenRecurso),
                                             ("MontoRecursoPropio", _opt(e.EntidadSNCF.MontoRecursoPropio))])


def _receptor(el: etree._Element, n: NominaData) -> None:
    """nomina12:Receptor with the computed Antigüedad."""
    r = n.Receptor
    antig = None
    if r.FechaInicioRelLaboral is not None:
        if r.FechaInicioRelLaboral > n.FechaFinalPago:
            raise BuildError("Nomina.Receptor.FechaInicioRelLaboral",
                             f"es posterior al fin del periodo de pago ({n.FechaFinalPago})",
                             r.FechaInicioRelLaboral.isoformat())
        antig = antiguedad(r.FechaInicioRelLaboral, n.FechaFinalPago, r.FormatoAntiguedad)
    node = _nel(el, "Receptor", [
        ("Curp", r.Curp), ("NumSeguridadSocial", r.NumSeguridadSocial),
        ("FechaInicioRelLaboral", r.FechaInicioRelLaboral.isoformat() if r.FechaInicioRelLaboral else None),
        ("Antigüedad", antig), ("TipoContrato", r.TipoContrato), ("Sindicalizado", r.Sindicalizado),
        ("TipoJornada", r.TipoJornada), ("TipoRegimen", r.TipoRegimen), ("NumEmpleado", r.NumEmpleado),
        ("Departamento", r.Departamento), ("Puesto", r.Puesto), ("RiesgoPuesto", r.RiesgoPuesto),
        ("PeriodicidadPago", r.PeriodicidadPago), ("Banco", r.Banco), ("CuentaBancaria", r.CuentaBancaria),
        ("SalarioBaseCotApor", _opt(r.SalarioBaseCotApor)),
        ("SalarioDiarioIntegrado", _opt(r.SalarioDiarioIntegrado)), ("ClaveEntFed", r.ClaveEntFed)])
    for s in r.SubContratacion:
        _nel(node, "SubContratacion", [("RfcLabora", s.RfcLabora.upper()),
                                                 ("PorcentajeTiempo", fmt_shortest(s.PorcentajeTiempo))])


def _percepciones(el: etree._Element, n: NominaData) -> Decimal:
    """nomina12:Percepciones with its totals; returns TotalPercepciones (NOM37)."""
    ps = _nel(el, "Percepciones")
    sueldos = separacion = jubilacion = una_exhibicion = parcialidades = gravado = exento = ZERO
    kinds: set[str] = set()
    for i, p in enumerate(n.Percepciones):
        path = f"Nomina.Percepciones[{i}]"
        importe = p.ImporteGravado + p.ImporteExento
        if importe <= ZERO:
            raise BuildError(f"{path}.ImporteGravado", "ImporteGravado más ImporteExento debe ser mayor que cero")
        if p.TipoPercepcion == HORAS_EXTRA and not p.HorasExtra:
            raise BuildError(f"{path}.HorasExtra", "una percepción 019 (horas extra) detalla sus HorasExtra")
        if p.TipoPercepcion != HORAS_EXTRA and p.HorasExtra:
            raise BuildError(f"{path}.HorasExtra", "HorasExtra sólo se registra en percepciones 019")
        node = _nel(ps, "Percepcion", [
            ("TipoPercepcion", p.TipoPercepcion), ("Clave", p.Clave), ("Concepto", p.Concepto),
            ("ImporteGravado", _money(p.ImporteGravado)), ("ImporteExento", _money(p.ImporteExento))])
        if p.AccionesOTitulos is not None:
            a = p.AccionesOTitulos
            _nel(node, "AccionesOTitulos", [("ValorMercado", fmt_shortest(a.ValorMercado)),
                                                      ("PrecioAlOtorgarse", fmt_shortest(a.PrecioAlOtorgarse))])
        for h in p.HorasExtra:
            _nel(node, "HorasExtra", [("Dias", str(h.Dias)), ("TipoHoras", h.TipoHoras),
                                                ("HorasExtra", str(h.HorasExtra)),
                                                ("ImportePagado", _money(h.ImportePagado))])
        if p.TipoPercepcion in SEPARACION:
            kinds.add("separacion")
            separacion += importe
        elif p.TipoPercepcion in JUBILACION:
            kinds.add("jubilacion")
            jubilacion += importe
            if p.TipoPercepcion == JUBILACION_UNA_EXHIBICION:
                una_exhibicion += importe
            else:
                parcialidades += importe
        else:
            kinds.add("sueldos")
            sueldos += importe
        gravado += p.ImporteGravado
        exento += p.ImporteExento
    if "jubilacion" in kinds:
        _jubilacion(ps, n, una_exhibicion, parcialidades)
    elif n.JubilacionPensionRetiro is not None:
        raise BuildError("Nomina.JubilacionPensionRetiro", "sin percepciones 039 ni 044 no se registra")
    if "separacion" in kinds:
        _separacion(ps, n, separacion)
    elif n.SeparacionIndemnizacion is not None:
        raise BuildError("Nomina.SeparacionIndemnizacion", "sin percepciones 022, 023 ni 025 no se registra")
    for k, v in (("TotalSueldos", sueldos if "sueldos" in kinds else None),
                 ("TotalSeparacionIndemnizacion", separacion if "separacion" in kinds else None),
                 ("TotalJubilacionPensionRetiro", jubilacion if "jubilacion" in kinds else None),
                 ("TotalGravado", gravado), ("TotalExento", exento)):
        if v is not None:
            ps.set(k, _money(v))
    return sueldos + separacion + jubilacion


def _jubilacion(ps: etree._Element, n: NominaData, una_exhibicion: Decimal, parcialidades: Decimal) -> None:
    """JubilacionPensionRetiro: a 039 is paid at once (TotalUnaExhibicion), a 044 in installments
    (TotalParcialidad and MontoDiario); SAT allows one form per Nomina (NOM80, NOM81, NOM89, NOM90)."""
    j = n.JubilacionPensionRetiro
    if j is None:
        raise BuildError("Nomina.JubilacionPensionRetiro", "hay percepciones 039 o 044: registre IngresoAcumulable, "
                                                           "IngresoNoAcumulable y, en parcialidades, MontoDiario")
    if una_exhibicion and parcialidades:
        raise BuildError("Nomina.Percepciones", "una nómina no registra jubilación en una exhibición (039) y en "
                                                "parcialidades (044) a la vez")
    if una_exhibicion:
        for attr in ("TotalParcialidad", "MontoDiario"):
            if getattr(j, attr) is not None:
                raise BuildError(f"Nomina.JubilacionPensionRetiro.{attr}",
                                 "con una percepción 039 (una exhibición) no se registra", _money(getattr(j, attr)))
        attrs = [("TotalUnaExhibicion", _money(una_exhibicion))]
    else:
        if j.MontoDiario is None:
            raise BuildError("Nomina.JubilacionPensionRetiro.MontoDiario",
                             "con una percepción 044 (parcialidades) es obligatorio")
        attrs = [("TotalParcialidad", _money(j.TotalParcialidad if j.TotalParcialidad is not None else parcialidades)),
                 ("MontoDiario", _money(j.MontoDiario))]
    _nel(ps, "JubilacionPensionRetiro", [
        *attrs, ("IngresoAcumulable", _money(j.IngresoAcumulable)),
        ("IngresoNoAcumulable", _money(j.IngresoNoAcumulable))])


def _separacion(ps: etree._Element, n: NominaData, total: Decimal) -> None:
    """SeparacionIndemnizacion: the accumulable income is at most the last ordinary monthly salary, the rest is
    not accumulable (LISR art. 95; SAT's guía de llenado)."""
    s = n.SeparacionIndemnizacion
    if s is None:
        raise BuildError("Nomina.SeparacionIndemnizacion", "hay percepciones 022, 023 o 025: registre "
                                                           "NumAñosServicio y UltimoSueldoMensOrd")
    acumulable = min(total, s.UltimoSueldoMensOrd)
    _nel(ps, "SeparacionIndemnizacion", [
        ("TotalPagado", _money(total)), ("NumAñosServicio", str(s.NumAniosServicio)),
        ("UltimoSueldoMensOrd", _money(s.UltimoSueldoMensOrd)), ("IngresoAcumulable", _money(acumulable)),
        ("IngresoNoAcumulable", _money(total - acumulable))])


def _deducciones(el: etree._Element, n: NominaData) -> Decimal:
    """nomina12:Deducciones with its totals; returns TotalDeducciones (NOM39). A 006 without Importe takes the
    incapacidades' ImporteMonetario (NOM95)."""
    ds = _nel(el, "Deducciones")
    otras = impuestos = ZERO
    con_otras = con_isr = False
    monetario = sum((i.ImporteMonetario or ZERO for i in n.Incapacidades), ZERO)
    for i, d in enumerate(n.Deducciones):
        path = f"Nomina.Deducciones[{i}].Importe"
        importe = d.Importe
        if d.TipoDeduccion == DESCUENTO_INCAPACIDAD:
            if not n.Incapacidades:
                raise BuildError(f"Nomina.Deducciones[{i}].TipoDeduccion",
                                 "una deducción 006 (descuento por incapacidad) requiere Nomina.Incapacidades")
            if importe is None:
                importe = monetario
            elif importe != monetario:
                raise BuildError(path, f"la deducción 006 es la suma de ImporteMonetario de las incapacidades "
                                       f"({_money(monetario)})", _money(importe))
            if importe <= ZERO:
                raise BuildError("Nomina.Incapacidades", "registre el ImporteMonetario de las incapacidades "
                                                         "que descuenta la deducción 006")
        elif importe is None:
            raise BuildError(path, "es obligatorio")
        _nel(ds, "Deduccion", [("TipoDeduccion", d.TipoDeduccion), ("Clave", d.Clave),
                                         ("Concepto", d.Concepto), ("Importe", _money(importe))])
        if d.TipoDeduccion == ISR:
            impuestos += importe
            con_isr = True
        else:
            otras += importe
            con_otras = True
    if con_otras:
        ds.set("TotalOtrasDeducciones", _money(otras))
    if con_isr:
        ds.set("TotalImpuestosRetenidos", _money(impuestos))
    return otras + impuestos


def _otros_pagos(el: etree._Element, n: NominaData) -> Decimal:
    """nomina12:OtrosPagos; returns TotalOtrosPagos (NOM40)."""
    os_ = _nel(el, "OtrosPagos")
    total = ZERO
    for i, o in enumerate(n.OtrosPagos):
        path = f"Nomina.OtrosPagos[{i}]"
        if o.TipoOtroPago == SUBSIDIO and o.SubsidioAlEmpleo is None:
            raise BuildError(f"{path}.SubsidioAlEmpleo", "un OtroPago 002 registra el SubsidioCausado")
        if o.TipoOtroPago != SUBSIDIO and o.Importe <= ZERO:
            raise BuildError(f"{path}.Importe", "debe ser mayor que cero", _money(o.Importe))
        node = _nel(os_, "OtroPago", [("TipoOtroPago", o.TipoOtroPago), ("Clave", o.Clave),
                                                ("Concepto", o.Concepto), ("Importe", _money(o.Importe))])
        if o.SubsidioAlEmpleo is not None:
            _nel(node, "SubsidioAlEmpleo", [("SubsidioCausado", _money(o.SubsidioAlEmpleo.SubsidioCausado))])
        if o.CompensacionSaldosAFavor is not None:
            c = o.CompensacionSaldosAFavor
            _nel(node, "CompensacionSaldosAFavor", [
                ("SaldoAFavor", _money(c.SaldoAFavor)), ("Año", str(c.Anio)),
                ("RemanenteSalFav", _money(c.RemanenteSalFav))])
        total += o.Importe
    return total


# -- findings back to the JSON ------------------------------------------------------------------------------

PATHS = JsonPaths(
    # XML element -> the JSON list that holds it (Percepciones, Deducciones... are lists in the JSON).
    lists={"Percepcion": "Percepciones", "Deduccion": "Deducciones", "OtroPago": "OtrosPagos",
           "Incapacidad": "Incapacidades", "HorasExtra": "HorasExtra", "SubContratacion": "SubContratacion"},
    skip=frozenset({"Comprobante", "Complemento"}),
    containers=frozenset({"Percepciones", "Deducciones", "OtrosPagos", "Incapacidades"}),
    renames={"Antigüedad": "FechaInicioRelLaboral"},  # computed from it
    # What timbra computes: a finding on it points at the node the ERP's lines make up.
    computed=frozenset({"TotalPercepciones", "TotalDeducciones", "TotalOtrosPagos", "TotalSueldos",
                        "TotalSeparacionIndemnizacion", "TotalJubilacionPensionRetiro", "TotalGravado",
                        "TotalExento", "TotalOtrasDeducciones", "TotalImpuestosRetenidos", "TotalUnaExhibicion",
                        "TotalPagado", "Version"}))


def json_path(node: str) -> str:
    """A finding's XML node path in the JSON the ERP sent:
    "Complemento/Nomina/Percepciones/Percepcion[2]/HorasExtra[1]@Dias" -> "Nomina.Percepciones[1].HorasExtra[0].Dias";
    a computed total names its node ("Complemento/Nomina/Deducciones@TotalImpuestosRetenidos" ->
    "Nomina.Deducciones"), Antigüedad the date it comes from, the Concepto and the Comprobante's amounts
    "Nomina"; the Comprobante's other nodes as build.invoice.json_path."""
    elements, _, attr = node.partition("@")
    steps = [s for s in elements.split("/") if s]
    if steps[:1] == ["Comprobante"]:
        steps = steps[1:]
    if steps[:1] == ["Conceptos"] or (not steps and attr in ("SubTotal", "Descuento", "Total")):
        return "Nomina"  # the single Concepto and the Comprobante's amounts are the Nomina's totals
    if len(steps) < 2 or steps[0] != "Complemento" or not steps[1].startswith("Nomina"):
        return _cfdi_json_path(node)
    return PATHS.walk(node)
