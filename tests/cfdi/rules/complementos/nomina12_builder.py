"""A valid, sealed CFDI 4.0 of tipo N with the Nómina 1.2 complement, built from a small spec.

The spec lists percepciones, deducciones, otros pagos and incapacidades; every total that SAT's matrix
relates to them (Percepciones, Deducciones, the Nomina's totals, the Concepto, SubTotal, Descuento,
Total) is computed from that list, so a test changes one thing (a spec field, or one attribute in
`mutate`, which runs before sealing) and only the rule under test can fail.

The base document is a quincenal ordinary payroll that the test `csd` (EKU9003173C9, persona moral)
pays to SAT's test persona física FUNK671228PH6 (who has régimen 605 in SAT's test list) with a
registro patronal, under TipoRegimen 02 (sueldos) and so with the SubsidioAlEmpleo OtroPago 002 in zero
that SAT requires of régimen 02.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from lxml import etree

from tests.xmlhelp import NS_NOMINA, money, q, set_attrs
from timbra.cfdi.credentials import Credential
from timbra.cfdi.document import NS40, NS_XSI
from timbra.cfdi.sample import SCHEMA_LOCATION_40
from timbra.cfdi.seal import sign_root
from timbra.sat.catalogs import catalogs

SCHEMA_LOCATION = (f"{SCHEMA_LOCATION_40} {NS_NOMINA} "
                   "http://www.sat.gob.mx/sitio_internet/cfd/nomina/nomina12.xsd")

SEPARACION = frozenset({"022", "023", "025"})
JUBILACION = frozenset({"039", "044"})

RECEPTOR = {"Rfc": "FUNK671228PH6", "Nombre": "KARLA FUENTE NOLASCO", "DomicilioFiscalReceptor": "01160",
            "RegimenFiscalReceptor": "605", "UsoCFDI": "CN01"}
NOMINA_EMISOR = {"RegistroPatronal": "B5510768108"}
NOMINA_RECEPTOR = {
    "Curp": "FUNK671228MDFNLR09", "NumSeguridadSocial": "04078873454", "FechaInicioRelLaboral": "2019-06-03",
    "Antigüedad": "P7Y5M12D", "TipoContrato": "01", "Sindicalizado": "No", "TipoJornada": "01",
    "TipoRegimen": "02", "NumEmpleado": "120", "Departamento": "Desarrollo", "Puesto": "Programador",
    "RiesgoPuesto": "1", "PeriodicidadPago": "04", "CuentaBancaria": "002010077777777771",
    "SalarioBaseCotApor": "500.00", "SalarioDiarioIntegrado": "520.00", "ClaveEntFed": "JAL",
}
NOMINA = {"TipoNomina": "O", "FechaPago": "2026-11-15", "FechaInicialPago": "2026-11-01",
          "FechaFinalPago": "2026-11-15", "NumDiasPagados": "15.000"}


@dataclass
class Percepcion:
    tipo: str
    gravado: str
    exento: str = "0.00"
    horas_extra: list[dict[str, str]] = field(default_factory=list)
    acciones: dict[str, str] | None = None


@dataclass
class Deduccion:
    tipo: str
    importe: str


@dataclass
class OtroPago:
    tipo: str
    importe: str
    subsidio_causado: str | None = None
    compensacion: dict[str, str] | None = None  # SaldoAFavor, Año, RemanenteSalFav


@dataclass
class Incapacidad:
    dias: str
    tipo: str
    importe: str | None = None


def horas(dias: str, tipo: str, horas_: str, importe: str) -> dict[str, str]:
    """The attributes of a HorasExtra node."""
    return {"Dias": dias, "TipoHoras": tipo, "HorasExtra": horas_, "ImportePagado": importe}


def base_percepciones() -> list[Percepcion]:
    """Salary (001) and overtime (019, half exempt, with its HorasExtra): TotalSueldos 8300.00."""
    return [Percepcion("001", "7500.00"),
            Percepcion("019", "400.00", "400.00", horas_extra=[horas("2", "01", "4", "800.00")])]


def base_deducciones() -> list[Deduccion]:
    """Social security (001) and ISR (002): TotalDeducciones 1190.47."""
    return [Deduccion("001", "210.35"), Deduccion("002", "980.12")]


def base_otros_pagos() -> list[OtroPago]:
    """The subsidio para el empleo (002) in zero that TipoRegimen 02 requires (NOM105)."""
    return [OtroPago("002", "0.00", "0.00")]


@dataclass
class NominaSpec:
    """Everything a test may change; the defaults are the valid base document."""

    receptor: dict[str, str] = field(default_factory=lambda: dict(RECEPTOR))
    nomina: dict[str, str] = field(default_factory=lambda: dict(NOMINA))
    emisor: dict[str, str] | None = field(default_factory=lambda: dict(NOMINA_EMISOR))
    entidad_sncf: dict[str, str] | None = None
    nomina_receptor: dict[str, str] = field(default_factory=lambda: dict(NOMINA_RECEPTOR))
    subcontratacion: list[tuple[str, str]] = field(default_factory=list)  # (RfcLabora, PorcentajeTiempo)
    percepciones: list[Percepcion] | None = field(default_factory=lambda: base_percepciones())
    jubilacion: dict[str, str] | None = None  # JubilacionPensionRetiro's own attributes when one is needed
    separacion: dict[str, str] | None = None
    deducciones: list[Deduccion] | None = field(default_factory=lambda: base_deducciones())
    otros_pagos: list[OtroPago] | None = field(default_factory=lambda: base_otros_pagos())
    incapacidades: list[Incapacidad] = field(default_factory=list)

    def xml(self, cred: Credential, fecha: datetime, mutate: Callable[[etree._Element], object] | None = None,
            *, seal: bool = True) -> bytes:
        root = self.root(cred, fecha)
        if mutate is not None:
            mutate(root)
        if seal:
            sign_root(root, cred)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    # -- building --------------------------------------------------------------------------------------
    def root(self, cred: Credential, fecha: datetime) -> etree._Element:
        nomina = self._nomina()
        percepciones = _to_d(nomina.get("TotalPercepciones"))
        otros = _to_d(nomina.get("TotalOtrosPagos"))
        deducciones = nomina.get("TotalDeducciones")
        importe = money(percepciones + otros)

        zone = catalogs().zone_for_postal_code("06000")
        cert = cred.certificate
        root = etree.Element(q("Comprobante"), nsmap={"cfdi": NS40, "xsi": NS_XSI, "nomina12": NS_NOMINA})
        root.set(f"{{{NS_XSI}}}schemaLocation", SCHEMA_LOCATION)
        attrs = {"Version": "4.0", "Serie": "N", "Folio": "1",
                 "Fecha": fecha.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S"), "SubTotal": importe}
        if deducciones is not None:
            attrs["Descuento"] = deducciones
        attrs.update({"Moneda": "MXN", "Total": money(_to_d(importe) - _to_d(deducciones)),
                      "TipoDeComprobante": "N", "Exportacion": "01", "MetodoPago": "PUE", "LugarExpedicion": "06000"})
        set_attrs(root, **attrs)
        _sub(root, NS40, "Emisor", {"Rfc": cert.rfc, "Nombre": cert.name,
                                    "RegimenFiscal": "601" if len(cert.rfc) == 12 else "612"})
        _sub(root, NS40, "Receptor", self.receptor)
        conceptos = _sub(root, NS40, "Conceptos", {})
        concepto = {"ClaveProdServ": "84111505", "Cantidad": "1", "ClaveUnidad": "ACT",
                    "Descripcion": "Pago de nómina", "ValorUnitario": importe, "Importe": importe}
        if deducciones is not None:
            concepto["Descuento"] = deducciones
        concepto["ObjetoImp"] = "01"
        _sub(conceptos, NS40, "Concepto", concepto)
        complemento = _sub(root, NS40, "Complemento", {})
        complemento.append(nomina)
        return root

    def _nomina(self) -> etree._Element:
        n = etree.Element(q("Nomina", NS_NOMINA))
        totals: dict[str, str] = {}
        if self.emisor is not None:
            em = _sub(n, NS_NOMINA, "Emisor", self.emisor)
            if self.entidad_sncf is not None:
                _sub(em, NS_NOMINA, "EntidadSNCF", self.entidad_sncf)
        rec = _sub(n, NS_NOMINA, "Receptor", self.nomina_receptor)
        for rfc, porcentaje in self.subcontratacion:
            _sub(rec, NS_NOMINA, "SubContratacion", {"RfcLabora": rfc, "PorcentajeTiempo": porcentaje})
        if self.percepciones is not None:
            totals["TotalPercepciones"] = self._percepciones(n)
        if self.deducciones is not None:
            totals["TotalDeducciones"] = self._deducciones(n)
        if self.otros_pagos is not None:
            totals["TotalOtrosPagos"] = self._otros_pagos(n)
        if self.incapacidades:
            inc = _sub(n, NS_NOMINA, "Incapacidades", {})
            for i in self.incapacidades:
                attrs = {"DiasIncapacidad": i.dias, "TipoIncapacidad": i.tipo}
                if i.importe is not None:
                    attrs["ImporteMonetario"] = i.importe
                _sub(inc, NS_NOMINA, "Incapacidad", attrs)
        set_attrs(n, **{"Version": "1.2", **self.nomina, **totals})
        return n

    def _percepciones(self, n: etree._Element) -> str:
        ps = _sub(n, NS_NOMINA, "Percepciones", {})
        sums = {"sueldos": Decimal(0), "separacion": Decimal(0), "jubilacion": Decimal(0)}
        kinds: set[str] = set()
        gravado = exento = Decimal(0)
        for i, p in enumerate(self.percepciones or ()):
            el = _sub(ps, NS_NOMINA, "Percepcion", {"TipoPercepcion": p.tipo, "Clave": f"P{i + 1:02d}",
                                                    "Concepto": f"Percepción {p.tipo}",
                                                    "ImporteGravado": p.gravado, "ImporteExento": p.exento})
            if p.acciones is not None:
                _sub(el, NS_NOMINA, "AccionesOTitulos", p.acciones)
            for h in p.horas_extra:
                _sub(el, NS_NOMINA, "HorasExtra", h)
            kind = "separacion" if p.tipo in SEPARACION else "jubilacion" if p.tipo in JUBILACION else "sueldos"
            kinds.add(kind)
            sums[kind] += _to_d(p.gravado) + _to_d(p.exento)
            gravado += _to_d(p.gravado)
            exento += _to_d(p.exento)
        if "jubilacion" in kinds or self.jubilacion is not None:
            _sub(ps, NS_NOMINA, "JubilacionPensionRetiro", self.jubilacion or {
                "TotalUnaExhibicion": money(sums["jubilacion"]), "IngresoAcumulable": money(sums["jubilacion"]),
                "IngresoNoAcumulable": "0.00"})
        if "separacion" in kinds or self.separacion is not None:
            _sub(ps, NS_NOMINA, "SeparacionIndemnizacion", self.separacion or {
                "TotalPagado": money(sums["separacion"]), "NumAñosServicio": "7",
                "UltimoSueldoMensOrd": "15000.00", "IngresoAcumulable": "15000.00",
                "IngresoNoAcumulable": money(max(sums["separacion"] - Decimal(15000), Decimal(0)))})
        attrs = {}
        for kind, attr in (("sueldos", "TotalSueldos"), ("separacion", "TotalSeparacionIndemnizacion"),
                           ("jubilacion", "TotalJubilacionPensionRetiro")):
            if kind in kinds:
                attrs[attr] = money(sums[kind])
        attrs.update({"TotalGravado": money(gravado), "TotalExento": money(exento)})
        set_attrs(ps, **attrs)
        return money(gravado + exento)

    def _deducciones(self, n: etree._Element) -> str:
        ds = _sub(n, NS_NOMINA, "Deducciones", {})
        otras = impuestos = Decimal(0)
        con_isr = con_otras = False
        for i, d in enumerate(self.deducciones or ()):
            _sub(ds, NS_NOMINA, "Deduccion", {"TipoDeduccion": d.tipo, "Clave": f"D{i + 1:02d}",
                                              "Concepto": f"Deducción {d.tipo}", "Importe": d.importe})
            if d.tipo == "002":
                impuestos += _to_d(d.importe)
                con_isr = True
            else:
                otras += _to_d(d.importe)
                con_otras = True
        attrs = {}
        if con_otras:
            attrs["TotalOtrasDeducciones"] = money(otras)
        if con_isr:
            attrs["TotalImpuestosRetenidos"] = money(impuestos)
        set_attrs(ds, **attrs)
        return money(otras + impuestos)

    def _otros_pagos(self, n: etree._Element) -> str:
        os_ = _sub(n, NS_NOMINA, "OtrosPagos", {})
        total = Decimal(0)
        for i, o in enumerate(self.otros_pagos or ()):
            el = _sub(os_, NS_NOMINA, "OtroPago", {"TipoOtroPago": o.tipo, "Clave": f"O{i + 1:02d}",
                                                   "Concepto": f"Otro pago {o.tipo}", "Importe": o.importe})
            if o.subsidio_causado is not None:
                _sub(el, NS_NOMINA, "SubsidioAlEmpleo", {"SubsidioCausado": o.subsidio_causado})
            if o.compensacion is not None:
                _sub(el, NS_NOMINA, "CompensacionSaldosAFavor", o.compensacion)
            total += _to_d(o.importe)
        return money(total)


def _to_d(text: str | None) -> Decimal:
    return Decimal(text) if text is not None else Decimal(0)


def _sub(parent: etree._Element, ns: str, local: str, attrs: dict[str, str]) -> etree._Element:
    return set_attrs(etree.SubElement(parent, q(local, ns)), **attrs)
