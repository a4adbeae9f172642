"""Nómina 1.2 rev. D rules (timbra/cfdi/rules/complementos/nomina12.py), codes NOM1-NOM108.

Each failing case starts from the valid base document of nomina12_builder, changes one thing (keeping the
totals that other codes compare consistent where the matrix allows it) and asserts every Nómina finding
(code, node, value) the document gets; each passing case asserts it gets none. A case whose change cannot
avoid breaking a sum that another code checks lists both codes.
NOM9, NOM10, NOM41, NOM45, NOM46, NOM67 and NOM109 are declared in not_applicable.py.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from lxml import etree

from tests.cfdi.rules.complementos.nomina12_builder import (
    NOMINA,
    NOMINA_RECEPTOR,
    RECEPTOR,
    Deduccion,
    Incapacidad,
    NominaSpec,
    OtroPago,
    Percepcion,
    base_deducciones,
    base_otros_pagos,
    base_percepciones,
    horas,
)
from tests.conftest import DATA, NOW
from tests.xmlhelp import NS_NOMINA, node, q, set_attrs, setting
from timbra.cfdi.document import NS40, parse
from timbra.cfdi.rules import Context, run_rules
from timbra.cfdi.rules.complementos.nomina12 import clabe_check_digit, elapsed
from timbra.cfdi.rules.not_applicable import NOT_APPLICABLE
from timbra.sat.catalogs import catalogs
from timbra.sat.matrices import matrix

Mutate = Callable[[etree._Element], object]

NOM = "cfdi:Complemento/nomina12:Nomina"
EMI = f"{NOM}/nomina12:Emisor"
REC = f"{NOM}/nomina12:Receptor"
PS = f"{NOM}/nomina12:Percepciones"
DS = f"{NOM}/nomina12:Deducciones"
CONCEPTO = "cfdi:Conceptos/cfdi:Concepto"
# Node paths of the findings.
P_NOM = "Complemento/Nomina"
P_EMI = f"{P_NOM}/Emisor"
P_REC = f"{P_NOM}/Receptor"
P_PS = f"{P_NOM}/Percepciones"
P_DS = f"{P_NOM}/Deducciones"
P_OPS = f"{P_NOM}/OtrosPagos"
P_CON = "Conceptos/Concepto[1]"

CLABE = "002010077777777771"
FISICA_CURP = "MISC491214MDFRNC01"


def all_of(*mutates: Mutate) -> Mutate:
    def mutate(root: etree._Element) -> None:
        for m in mutates:
            m(root)

    return mutate


def remove(xpath: str) -> Mutate:
    def mutate(root: etree._Element) -> None:
        el = node(root, xpath)
        el.getparent().remove(el)

    return mutate


def add(xpath: str, ns: str, local: str, attrs: dict[str, str], index: int | None = None) -> Mutate:
    """Add a child element to the element at `xpath` (appended, or inserted at `index`)."""

    def mutate(root: etree._Element) -> None:
        parent = node(root, xpath)
        el = set_attrs(etree.Element(q(local, ns)), **attrs)
        if index is None:
            parent.append(el)
        else:
            parent.insert(index, el)

    return mutate


def receptor(**attrs: str | None) -> dict[str, str]:
    """The base Nomina Receptor's attributes changed (None removes one)."""
    out = {**NOMINA_RECEPTOR, **attrs}
    return {k: v for k, v in out.items() if v is not None}


def concepto_importe(value: str) -> Mutate:
    """The Concepto's ValorUnitario and Importe (NOM20, NOM21) after a test changes a Nomina total."""
    return setting(CONCEPTO, ValorUnitario=value, Importe=value)


def with_percepciones(*extra: Percepcion, **kw) -> NominaSpec:
    return NominaSpec(percepciones=[*base_percepciones(), *extra], **kw)


def with_deducciones(*extra: Deduccion, **kw) -> NominaSpec:
    return NominaSpec(deducciones=[*base_deducciones(), *extra], **kw)


def with_otros_pagos(*extra: OtroPago, **kw) -> NominaSpec:
    return NominaSpec(otros_pagos=[*base_otros_pagos(), *extra], **kw)


# A worker hired without registro patronal (asimilados, TipoContrato 09 / TipoRegimen 09): no subsidio.
ASIMILADO = dict(emisor=None, otros_pagos=None,
                 nomina_receptor=receptor(TipoContrato="09", TipoRegimen="09"))
JUBILACION_PARCIAL = {"TotalParcialidad": "5000.00", "MontoDiario": "166.67", "IngresoAcumulable": "5000.00",
                      "IngresoNoAcumulable": "0.00"}
COMPENSACION = {"SaldoAFavor": "500.00", "Año": "2025", "RemanenteSalFav": "400.00"}
ACCIONES = {"ValorMercado": "150.000000", "PrecioAlOtorgarse": "100.000000"}


def informacion_global(root: etree._Element) -> None:
    ig = etree.Element(q("InformacionGlobal"))
    set_attrs(ig, Periodicidad="04", Meses="11", Año="2026")
    root.insert(0, ig)


def second_concepto(root: etree._Element) -> None:
    c = node(root, CONCEPTO)
    c.addnext(copy.deepcopy(c))


def nomina_in_complemento_concepto(root: etree._Element) -> None:
    comp = node(root, "cfdi:Complemento")
    nomina = node(root, NOM)
    root.remove(comp)
    cc = etree.SubElement(node(root, CONCEPTO), q("ComplementoConcepto"))
    cc.append(nomina)


def complemento_concepto(root: etree._Element) -> None:
    """A ComplementoConcepto holding SAT's IEDU complement (the node needs a child)."""
    cc = etree.SubElement(node(root, CONCEPTO), q("ComplementoConcepto"))
    iedu = etree.SubElement(cc, "{http://www.sat.gob.mx/iedu}instEducativas")
    set_attrs(iedu, version="1.0", nombreAlumno="KARLA FUENTE NOLASCO", CURP="FUNK671228MDFNLR09",
              nivelEducativo="Preescolar", autRVOE="1234")


def concepto_impuestos(root: etree._Element) -> None:
    imp = etree.SubElement(node(root, CONCEPTO), q("Impuestos"))
    t = etree.SubElement(etree.SubElement(imp, q("Traslados")), q("Traslado"))
    set_attrs(t, Base="8300.00", Impuesto="002", TipoFactor="Exento")


def two_nominas(root: etree._Element) -> None:
    """A second, extraordinary Nomina (same amounts) next to the ordinary one; the Concepto carries both."""
    first = node(root, NOM)
    second = copy.deepcopy(first)
    second.set("TipoNomina", "E")
    second.find(f"{{{NS_NOMINA}}}Receptor").set("PeriodicidadPago", "99")
    first.addnext(second)
    setting(CONCEPTO, ValorUnitario="16600.00", Importe="16600.00", Descuento="2380.94")(root)
    setting(".", SubTotal="16600.00", Descuento="2380.94", Total="14219.06")(root)


def case(spec: NominaSpec | None = None, mutate: Mutate | None = None) -> tuple[NominaSpec | None, Mutate | None]:
    """The (spec, mutate) of a parametrized case: the spec's document, changed by `mutate` before sealing."""
    return spec, mutate


# code -> (spec, mutate), the expected [(code, node, value)]
FAILS = [
    pytest.param(*case(None, setting(".", Moneda="USD", TipoCambio="20.00")),
                 [("NOM1", "Comprobante@Moneda", "USD")], id="NOM1"),
    pytest.param(*case(None, setting(".", TipoDeComprobante="I")),
                 [("NOM2", "Comprobante@TipoDeComprobante", "I")], id="NOM2"),
    pytest.param(*case(None, setting(".", Exportacion="02")), [("NOM3", "Comprobante@Exportacion", "02")], id="NOM3"),
    pytest.param(*case(None, informacion_global), [("NOM4", "InformacionGlobal", None)], id="NOM4"),
    pytest.param(*case(None, setting(EMI, Curp=FISICA_CURP)), [("NOM5", f"{P_EMI}@Curp", FISICA_CURP)], id="NOM5"),
    pytest.param(*case(None, setting("cfdi:Emisor", FacAtrAdquirente="0123456789")),
                 [("NOM7", "Emisor@FacAtrAdquirente", "0123456789")], id="NOM7"),
    pytest.param(*case(None, setting("cfdi:Receptor", Rfc="URE180429TM6", Nombre="UNIVERSIDAD ROBOTICA ESPAÑOLA")),
                 [("NOM8", "Receptor@Rfc", "URE180429TM6")], id="NOM8"),
    pytest.param(*case(None, setting("cfdi:Receptor", RegimenFiscalReceptor="612")),
                 [("NOM11", "Receptor@RegimenFiscalReceptor", "612")], id="NOM11"),
    pytest.param(*case(None, setting("cfdi:Receptor", UsoCFDI="S01")), [("NOM12", "Receptor@UsoCFDI", "S01")],
                 id="NOM12"),
    pytest.param(*case(None, second_concepto), [("NOM13", "Conceptos/Concepto[2]", "2")], id="NOM13"),
    pytest.param(*case(None, setting(CONCEPTO, ClaveProdServ="84111506")),
                 [("NOM14", f"{P_CON}@ClaveProdServ", "84111506")], id="NOM14"),
    pytest.param(*case(None, setting(CONCEPTO, NoIdentificacion="NOM-1")),
                 [("NOM15", f"{P_CON}@NoIdentificacion", "NOM-1")], id="NOM15"),
    pytest.param(*case(None, setting(CONCEPTO, Cantidad="1.00")), [("NOM16", f"{P_CON}@Cantidad", "1.00")], id="NOM16"),
    pytest.param(*case(None, setting(CONCEPTO, ClaveUnidad="E48")), [("NOM17", f"{P_CON}@ClaveUnidad", "E48")],
                 id="NOM17"),
    pytest.param(*case(None, setting(CONCEPTO, Unidad="Actividad")), [("NOM18", f"{P_CON}@Unidad", "Actividad")],
                 id="NOM18"),
    pytest.param(*case(None, setting(CONCEPTO, Descripcion="Pago de nomina")),
                 [("NOM19", f"{P_CON}@Descripcion", "Pago de nomina")], id="NOM19"),
    pytest.param(*case(None, setting(CONCEPTO, ValorUnitario="8300.01")),
                 [("NOM20", f"{P_CON}@ValorUnitario", "8300.01")], id="NOM20"),
    pytest.param(*case(None, setting(CONCEPTO, Importe="8299.99")), [("NOM21", f"{P_CON}@Importe", "8299.99")],
                 id="NOM21"),
    pytest.param(*case(None, setting(CONCEPTO, Descuento="1000.00")), [("NOM22", f"{P_CON}@Descuento", "1000.00")],
                 id="NOM22"),
    pytest.param(*case(None, setting(CONCEPTO, Descuento=None)), [("NOM22", f"{P_CON}@Descuento", None)],
                 id="NOM22-sin-descuento"),
    pytest.param(*case(None, setting(CONCEPTO, ObjetoImp="02")), [("NOM23", f"{P_CON}@ObjetoImp", "02")], id="NOM23"),
    pytest.param(*case(None, concepto_impuestos), [("NOM24", f"{P_CON}/Impuestos", None)], id="NOM24"),
    pytest.param(*case(None, add(CONCEPTO, NS40, "ACuentaTerceros", {
        "RfcACuentaTerceros": "MISC491214B86", "NombreACuentaTerceros": "CECILIA MIRANDA SANCHEZ",
        "RegimenFiscalACuentaTerceros": "612", "DomicilioFiscalACuentaTerceros": "01010"})),
        [("NOM25", f"{P_CON}/ACuentaTerceros", None)], id="NOM25"),
    pytest.param(*case(None, add(CONCEPTO, NS40, "InformacionAduanera", {"NumeroPedimento": "21  47  3807  8003832"})),
                 [("NOM26", f"{P_CON}/InformacionAduanera[1]", None)], id="NOM26"),
    pytest.param(*case(None, add(CONCEPTO, NS40, "CuentaPredial", {"Numero": "123456"})),
                 [("NOM27", f"{P_CON}/CuentaPredial[1]", None)], id="NOM27"),
    pytest.param(*case(None, complemento_concepto), [("NOM28", f"{P_CON}/ComplementoConcepto", None)], id="NOM28"),
    pytest.param(*case(None, add(CONCEPTO, NS40, "Parte", {"ClaveProdServ": "84111505", "Cantidad": "1",
                                                           "Descripcion": "Parte"})),
                 [("NOM29", f"{P_CON}/Parte[1]", None)], id="NOM29"),
    pytest.param(*case(None, nomina_in_complemento_concepto),
                 [("NOM30", f"{P_CON}/ComplementoConcepto/Nomina", None)], id="NOM30"),
    # No Percepciones nor OtrosPagos (an asimilado: no subsidio due); no Deducciones either, whose Descuento
    # would make the Total negative, which the XSD rejects before the rules run.
    pytest.param(*case(NominaSpec(percepciones=None, deducciones=None, **ASIMILADO)),
                 [("NOM31", f"{P_NOM}@TotalPercepciones", None)], id="NOM31"),
    pytest.param(*case(None, setting(NOM, TipoNomina="X")), [("NOM32", f"{P_NOM}@TipoNomina", "X")], id="NOM32"),
    pytest.param(*case(None, setting(REC, PeriodicidadPago="99")), [("NOM33", f"{P_REC}@PeriodicidadPago", "99")],
                 id="NOM33"),
    pytest.param(*case(None, setting(NOM, TipoNomina="E")), [("NOM34", f"{P_REC}@PeriodicidadPago", "04")], id="NOM34"),
    pytest.param(*case(None, setting(NOM, FechaInicialPago="2026-11-16")),
                 [("NOM35", f"{P_NOM}@FechaInicialPago", "2026-11-16")], id="NOM35"),
    pytest.param(*case(NominaSpec(percepciones=None, deducciones=None), setting(NOM, TotalPercepciones="0.00")),
                 [("NOM36", f"{P_NOM}@TotalPercepciones", "0.00")], id="NOM36"),
    pytest.param(*case(None, all_of(setting(NOM, TotalPercepciones="8300.01"), concepto_importe("8300.01"))),
                 [("NOM37", f"{P_NOM}@TotalPercepciones", "8300.01")], id="NOM37"),
    pytest.param(*case(NominaSpec(deducciones=None), setting(NOM, TotalDeducciones="0.00")),
                 [("NOM38", f"{P_NOM}@TotalDeducciones", "0.00")], id="NOM38"),
    pytest.param(*case(None, all_of(setting(NOM, TotalDeducciones="1190.48"), setting(CONCEPTO, Descuento="1190.48"))),
                 [("NOM39", f"{P_NOM}@TotalDeducciones", "1190.48")], id="NOM39"),
    pytest.param(*case(None, all_of(setting(NOM, TotalOtrosPagos="1.00"), concepto_importe("8301.00"))),
                 [("NOM40", f"{P_NOM}@TotalOtrosPagos", "1.00")], id="NOM40"),
    pytest.param(*case(NominaSpec(otros_pagos=[OtroPago("002", "0.00", "0.00")]), setting(NOM, TotalOtrosPagos=None)),
                 [("NOM40", f"{P_NOM}@TotalOtrosPagos", None)], id="NOM40-sin-total"),
    pytest.param(*case(NominaSpec(emisor=None)), [("NOM42", f"{P_EMI}@RegistroPatronal", None)], id="NOM42"),
    pytest.param(*case(NominaSpec(otros_pagos=None, nomina_receptor=receptor(TipoContrato="09", TipoRegimen="09"))),
                 [("NOM43", f"{P_EMI}@RegistroPatronal", "B5510768108")], id="NOM43"),
    pytest.param(*case(NominaSpec(nomina_receptor=receptor(NumSeguridadSocial=None, RiesgoPuesto=None))),
                 [("NOM44", f"{P_REC}@NumSeguridadSocial", None), ("NOM44", f"{P_REC}@RiesgoPuesto", None)],
                 id="NOM44"),
    pytest.param(*case(NominaSpec(entidad_sncf={"OrigenRecurso": "XX"})),
                 [("NOM47", f"{P_EMI}/EntidadSNCF@OrigenRecurso", "XX")], id="NOM47"),
    pytest.param(*case(NominaSpec(entidad_sncf={"OrigenRecurso": "IM"})),
                 [("NOM48", f"{P_EMI}/EntidadSNCF@MontoRecursoPropio", None)], id="NOM48"),
    pytest.param(*case(NominaSpec(entidad_sncf={"OrigenRecurso": "IP", "MontoRecursoPropio": "100.00"})),
                 [("NOM49", f"{P_EMI}/EntidadSNCF@MontoRecursoPropio", "100.00")], id="NOM49"),
    pytest.param(*case(NominaSpec(entidad_sncf={"OrigenRecurso": "IM", "MontoRecursoPropio": "8300.00"})),
                 [("NOM50", f"{P_EMI}/EntidadSNCF@MontoRecursoPropio", "8300.00")], id="NOM50"),
    pytest.param(*case(NominaSpec(nomina_receptor=receptor(TipoContrato="11"))),
                 [("NOM51", f"{P_REC}@TipoContrato", "11")], id="NOM51"),
    pytest.param(*case(NominaSpec(nomina_receptor=receptor(TipoJornada="10"))),
                 [("NOM52", f"{P_REC}@TipoJornada", "10")], id="NOM52"),
    pytest.param(*case(NominaSpec(nomina_receptor=receptor(FechaInicioRelLaboral="2026-11-16"))),
                 [("NOM53", f"{P_REC}@FechaInicioRelLaboral", "2026-11-16")], id="NOM53"),
    # 2019-06-03 to 2026-11-15 is 2722 days: (2722 + 1) / 7 = 389 weeks and a fraction.
    pytest.param(*case(NominaSpec(nomina_receptor=receptor(**{"Antigüedad": "P390W"}))),
                 [("NOM54", f"{P_REC}@Antigüedad", "P390W")], id="NOM54"),
    pytest.param(*case(NominaSpec(nomina_receptor=receptor(**{"Antigüedad": "P7Y5M14D"}))),
                 [("NOM55", f"{P_REC}@Antigüedad", "P7Y5M14D")], id="NOM55"),
    pytest.param(*case(NominaSpec(nomina_receptor=receptor(**{"Antigüedad": "P7Y12D"}))),
                 [("NOM55", f"{P_REC}@Antigüedad", "P7Y12D")], id="NOM55-sin-meses"),
    # 14 is not in c_TipoRegimen; with TipoContrato 09 it is in NOM58's range, so only NOM56 is reported.
    pytest.param(*case(NominaSpec(**{**ASIMILADO, "nomina_receptor": receptor(TipoContrato="09", TipoRegimen="14")})),
                 [("NOM56", f"{P_REC}@TipoRegimen", "14")], id="NOM56"),
    pytest.param(*case(NominaSpec(otros_pagos=None, nomina_receptor=receptor(TipoRegimen="09"))),
                 [("NOM57", f"{P_REC}@TipoRegimen", "09")], id="NOM57"),
    pytest.param(*case(NominaSpec(emisor=None, nomina_receptor=receptor(TipoContrato="10"))),
                 [("NOM58", f"{P_REC}@TipoRegimen", "02")], id="NOM58"),
    pytest.param(*case(NominaSpec(nomina_receptor=receptor(RiesgoPuesto="7"))),
                 [("NOM59", f"{P_REC}@RiesgoPuesto", "7")], id="NOM59"),
    pytest.param(*case(NominaSpec(nomina_receptor=receptor(PeriodicidadPago="11"))),
                 [("NOM60", f"{P_REC}@PeriodicidadPago", "11")], id="NOM60"),
    pytest.param(*case(NominaSpec(nomina_receptor=receptor(CuentaBancaria="4152313412345678", Banco="999"))),
                 [("NOM61", f"{P_REC}@Banco", "999")], id="NOM61"),
    pytest.param(*case(NominaSpec(nomina_receptor=receptor(CuentaBancaria="123456789012", Banco="012"))),
                 [("NOM62", f"{P_REC}@CuentaBancaria", "123456789012")], id="NOM62"),
    pytest.param(*case(NominaSpec(nomina_receptor=receptor(Banco="002"))), [("NOM63", f"{P_REC}@Banco", "002")],
                 id="NOM63"),
    pytest.param(*case(NominaSpec(nomina_receptor=receptor(CuentaBancaria="002010077777777772"))),
                 [("NOM64", f"{P_REC}@CuentaBancaria", "002010077777777772")], id="NOM64"),
    pytest.param(*case(NominaSpec(nomina_receptor=receptor(CuentaBancaria="5512345678"))),
                 [("NOM65", f"{P_REC}@Banco", None)], id="NOM65"),
    pytest.param(*case(NominaSpec(nomina_receptor=receptor(ClaveEntFed="ZZZ"))),
                 [("NOM66", f"{P_REC}@ClaveEntFed", "ZZZ")], id="NOM66-catalogo"),
    pytest.param(*case(NominaSpec(nomina_receptor=receptor(ClaveEntFed="TX"))),
                 [("NOM66", f"{P_REC}@ClaveEntFed", "TX")], id="NOM66-extranjero"),
    pytest.param(*case(NominaSpec(subcontratacion=[("EKU9003173C9", "60.000"), ("MISC491214B86", "30.000")])),
                 [("NOM68", f"{P_REC}/SubContratacion[1]@PorcentajeTiempo", "90.000")], id="NOM68"),
    # NOM69 compares two sums that NOM70-NOM74 check against the Percepcion nodes: one of them breaks too.
    pytest.param(*case(None, setting(PS, TotalGravado="7901.00")),
                 [("NOM69", P_PS, "8300.00"), ("NOM73", f"{P_PS}@TotalGravado", "7901.00")], id="NOM69"),
    pytest.param(*case(None, all_of(setting(PS, TotalSueldos="8300.01"), setting(NOM, TotalPercepciones="8300.01"),
                                    concepto_importe("8300.01"))),
                 [("NOM69", P_PS, "8300.01"), ("NOM70", f"{P_PS}@TotalSueldos", "8300.01")], id="NOM70"),
    pytest.param(*case(with_percepciones(Percepcion("022", "1000.00", "500.00")),
                       all_of(setting(PS, TotalSeparacionIndemnizacion="1400.00", TotalExento="800.00"),
                              setting(NOM, TotalPercepciones="9700.00"), concepto_importe("9700.00"))),
                 [("NOM71", f"{P_PS}@TotalSeparacionIndemnizacion", "1400.00"),
                  ("NOM74", f"{P_PS}@TotalExento", "800.00")], id="NOM71"),
    pytest.param(*case(with_percepciones(Percepcion("039", "2000.00")),
                       all_of(setting(PS, TotalJubilacionPensionRetiro="2100.00", TotalGravado="10000.00"),
                              setting(NOM, TotalPercepciones="10400.00"), concepto_importe("10400.00"))),
                 [("NOM72", f"{P_PS}@TotalJubilacionPensionRetiro", "2100.00"),
                  ("NOM73", f"{P_PS}@TotalGravado", "10000.00")], id="NOM72"),
    pytest.param(*case(None, setting(PS, TotalExento="400.01")),
                 [("NOM69", P_PS, "8300.00"), ("NOM74", f"{P_PS}@TotalExento", "400.01")], id="NOM74"),
    pytest.param(*case(with_percepciones(Percepcion("038", "0.00", "0.00"))),
                 [("NOM75", f"{P_PS}/Percepcion[3]@ImporteGravado", "0.00")], id="NOM75"),
    pytest.param(*case(NominaSpec(percepciones=[Percepcion("999", "7500.00"), *base_percepciones()[1:]])),
                 [("NOM76", f"{P_PS}/Percepcion[1]@TipoPercepcion", "999")], id="NOM76"),
    pytest.param(*case(None, setting(PS, TotalSueldos=None)),
                 [("NOM37", f"{P_NOM}@TotalPercepciones", "8300.00"), ("NOM69", P_PS, "0.00"),
                  ("NOM77", f"{P_PS}@TotalSueldos", None)], id="NOM77"),
    pytest.param(*case(with_percepciones(Percepcion("022", "1000.00", "500.00")),
                       remove(f"{PS}/nomina12:SeparacionIndemnizacion")),
                 [("NOM78", f"{P_PS}/SeparacionIndemnizacion", None)], id="NOM78"),
    pytest.param(*case(with_percepciones(Percepcion("039", "2000.00")),
                       remove(f"{PS}/nomina12:JubilacionPensionRetiro")),
                 [("NOM79", f"{P_PS}/JubilacionPensionRetiro", None)], id="NOM79"),
    pytest.param(*case(NominaSpec(jubilacion={"TotalUnaExhibicion": "0.00", "IngresoAcumulable": "0.00",
                                              "IngresoNoAcumulable": "0.00"})),
                 [("NOM79", f"{P_PS}/JubilacionPensionRetiro", None)], id="NOM79-sin-039-ni-044"),
    pytest.param(*case(with_percepciones(Percepcion("039", "5000.00"), jubilacion=JUBILACION_PARCIAL)),
                 [("NOM80", f"{P_PS}/JubilacionPensionRetiro@TotalUnaExhibicion", None),
                  ("NOM80", f"{P_PS}/JubilacionPensionRetiro@TotalParcialidad", "5000.00"),
                  ("NOM80", f"{P_PS}/JubilacionPensionRetiro@MontoDiario", "166.67")], id="NOM80"),
    pytest.param(*case(with_percepciones(Percepcion("044", "5000.00"))),
                 [("NOM81", f"{P_PS}/JubilacionPensionRetiro@TotalParcialidad", None),
                  ("NOM81", f"{P_PS}/JubilacionPensionRetiro@MontoDiario", None),
                  ("NOM81", f"{P_PS}/JubilacionPensionRetiro@TotalUnaExhibicion", "5000.00")], id="NOM81"),
    pytest.param(*case(with_percepciones(Percepcion("045", "1000.00"))),
                 [("NOM82", f"{P_PS}/Percepcion[3]/AccionesOTitulos", "045")], id="NOM82"),
    pytest.param(*case(NominaSpec(percepciones=[Percepcion("001", "7500.00", acciones=ACCIONES),
                                                *base_percepciones()[1:]])),
                 [("NOM83", f"{P_PS}/Percepcion[1]/AccionesOTitulos", "001")], id="NOM83"),
    pytest.param(*case(NominaSpec(percepciones=[*base_percepciones()[:1], Percepcion("019", "400.00", "400.00")])),
                 [("NOM84", f"{P_PS}/Percepcion[2]/HorasExtra", "019")], id="NOM84"),
    pytest.param(*case(NominaSpec(percepciones=[Percepcion("001", "7500.00",
                                                           horas_extra=[horas("1", "01", "2", "10.00")]),
                                                *base_percepciones()[1:]])),
                 [("NOM85", f"{P_PS}/Percepcion[1]/HorasExtra[1]", "001")], id="NOM85"),
    pytest.param(*case(with_percepciones(Percepcion("014", "0.00", "500.00"))),
                 [("NOM86", f"{P_NOM}/Incapacidades", "014")], id="NOM86"),
    pytest.param(*case(with_percepciones(Percepcion("014", "0.00", "500.00"),
                                         incapacidades=[Incapacidad("3", "01", "400.00")])),
                 [("NOM87", f"{P_PS}/Percepcion[3]", "500.00")], id="NOM87"),
    pytest.param(*case(NominaSpec(percepciones=[*base_percepciones()[:1], Percepcion(
        "019", "400.00", "400.00", horas_extra=[horas("2", "04", "4", "800.00")])])),
        [("NOM88", f"{P_PS}/Percepcion[2]/HorasExtra[1]@TipoHoras", "04")], id="NOM88"),
    # With a 039 the extra MontoDiario is also NOM80's; without one the node itself is NOM79's.
    pytest.param(*case(with_percepciones(Percepcion("039", "5000.00"), jubilacion={
        "TotalUnaExhibicion": "5000.00", "MontoDiario": "166.67", "IngresoAcumulable": "5000.00",
        "IngresoNoAcumulable": "0.00"})),
        [("NOM80", f"{P_PS}/JubilacionPensionRetiro@MontoDiario", "166.67"),
         ("NOM89", f"{P_PS}/JubilacionPensionRetiro@MontoDiario", "166.67")], id="NOM89"),
    pytest.param(*case(with_percepciones(Percepcion("044", "5000.00"), jubilacion={
        "TotalParcialidad": "5000.00", "IngresoAcumulable": "5000.00", "IngresoNoAcumulable": "0.00"})),
        [("NOM81", f"{P_PS}/JubilacionPensionRetiro@MontoDiario", None),
         ("NOM90", f"{P_PS}/JubilacionPensionRetiro@MontoDiario", None)], id="NOM90"),
    pytest.param(*case(None, all_of(setting(DS, TotalImpuestosRetenidos="980.13"),
                                    setting(NOM, TotalDeducciones="1190.48"), setting(CONCEPTO, Descuento="1190.48"))),
                 [("NOM91", f"{P_DS}@TotalImpuestosRetenidos", "980.13")], id="NOM91"),
    pytest.param(*case(None, all_of(setting(DS, TotalImpuestosRetenidos=None),
                                    setting(NOM, TotalDeducciones="210.35"), setting(CONCEPTO, Descuento="210.35"))),
                 [("NOM91", f"{P_DS}@TotalImpuestosRetenidos", None)], id="NOM91-sin-total"),
    pytest.param(*case(NominaSpec(deducciones=[Deduccion("001", "210.35")]),
                       setting(DS, TotalImpuestosRetenidos="0.00")),
                 [("NOM92", f"{P_DS}@TotalImpuestosRetenidos", "0.00")], id="NOM92"),
    pytest.param(*case(NominaSpec(deducciones=[Deduccion("999", "210.35"), *base_deducciones()[1:]])),
                 [("NOM93", f"{P_DS}/Deduccion[1]@TipoDeduccion", "999")], id="NOM93"),
    pytest.param(*case(with_deducciones(Deduccion("006", "100.00"))),
                 [("NOM94", f"{P_NOM}/Incapacidades", "006")], id="NOM94"),
    pytest.param(*case(with_deducciones(Deduccion("006", "100.00"), incapacidades=[Incapacidad("1", "02", "90.00")])),
                 [("NOM95", f"{P_DS}/Deduccion[3]@Importe", "100.00")], id="NOM95"),
    pytest.param(*case(with_deducciones(Deduccion("004", "0.00"))),
                 [("NOM96", f"{P_DS}/Deduccion[3]@Importe", "0.00")], id="NOM96"),
    pytest.param(*case(with_otros_pagos(OtroPago("010", "10.00"))),
                 [("NOM97", f"{P_OPS}/OtroPago[2]@TipoOtroPago", "010")], id="NOM97"),
    pytest.param(*case(with_otros_pagos(OtroPago("004", "100.00"))),
                 [("NOM98", f"{P_OPS}/OtroPago[2]/CompensacionSaldosAFavor", "004")], id="NOM98"),
    pytest.param(*case(NominaSpec(otros_pagos=[OtroPago("002", "0.00")])),
                 [("NOM99", f"{P_OPS}/OtroPago[1]/SubsidioAlEmpleo", "002")], id="NOM99"),
    pytest.param(*case(with_otros_pagos(OtroPago("003", "0.00"))),
                 [("NOM100", f"{P_OPS}/OtroPago[2]@Importe", "0.00")], id="NOM100"),
    pytest.param(*case(NominaSpec(otros_pagos=[OtroPago("002", "0.00", "475.01")])),
                 [("NOM101", f"{P_OPS}/OtroPago[1]/SubsidioAlEmpleo@SubsidioCausado", "475.01")], id="NOM101"),
    pytest.param(*case(with_otros_pagos(OtroPago("004", "100.00",
                                              compensacion={**COMPENSACION, "SaldoAFavor": "300.00"}))),
                 [("NOM102", f"{P_OPS}/OtroPago[2]/CompensacionSaldosAFavor@SaldoAFavor", "300.00")], id="NOM102"),
    pytest.param(*case(with_otros_pagos(OtroPago("004", "100.00", compensacion={**COMPENSACION, "Año": "2026"}))),
                 [("NOM103", f"{P_OPS}/OtroPago[2]/CompensacionSaldosAFavor@Año", "2026")], id="NOM103"),
    pytest.param(*case(with_otros_pagos(OtroPago("004", "100.00", compensacion={**COMPENSACION, "Año": "2024"}))),
                 [("NOM103", f"{P_OPS}/OtroPago[2]/CompensacionSaldosAFavor@Año", "2024")], id="NOM103-2024"),
    pytest.param(*case(NominaSpec(incapacidades=[Incapacidad("2", "05")])),
                 [("NOM104", f"{P_NOM}/Incapacidades/Incapacidad[1]@TipoIncapacidad", "05")], id="NOM104"),
    pytest.param(*case(NominaSpec(otros_pagos=[OtroPago("003", "100.00")])),
                 [("NOM105", f"{P_REC}@TipoRegimen", "02")], id="NOM105"),
    pytest.param(*case(with_otros_pagos(OtroPago("007", "100.00"))),
                 [("NOM105", f"{P_OPS}/OtroPago[1]@TipoOtroPago", "002")], id="NOM105-con-007"),
    pytest.param(*case(NominaSpec(nomina_receptor=receptor(TipoRegimen="03"))),
                 [("NOM106", f"{P_OPS}/OtroPago[1]@TipoOtroPago", "002")], id="NOM106"),
    pytest.param(*case(NominaSpec(otros_pagos=[OtroPago("002", "100.00", "50.00")])),
                 [("NOM107", f"{P_OPS}/OtroPago[1]@Importe", "100.00")], id="NOM107"),
    # 15.63 × 40 days = 625.20
    pytest.param(*case(NominaSpec(nomina={**NOMINA, "NumDiasPagados": "40.000"},
                                  otros_pagos=[OtroPago("002", "0.00", "625.21")])),
                 [("NOM108", f"{P_OPS}/OtroPago[1]/SubsidioAlEmpleo@SubsidioCausado", "625.21")], id="NOM108"),
]

# Documents that meet a rule's condition in the valid way: no Nómina finding at all.
PASSES = [
    pytest.param(*case(NominaSpec(**ASIMILADO)), id="NOM42-NOM43-NOM58-asimilado-sin-registro-patronal"),
    pytest.param(*case(NominaSpec(nomina={**NOMINA, "TipoNomina": "E"},
                                  nomina_receptor=receptor(PeriodicidadPago="99"))), id="NOM34-extraordinaria-99"),
    pytest.param(*case(NominaSpec(nomina={**NOMINA, "FechaInicialPago": "2026-11-15"})), id="NOM35-un-dia"),
    pytest.param(*case(NominaSpec(percepciones=None, deducciones=None,
                                  otros_pagos=[OtroPago("002", "100.00", "100.00")])),
                 id="NOM31-NOM36-NOM38-solo-otros-pagos"),
    pytest.param(*case(NominaSpec(nomina_receptor=receptor(TipoRegimen="03"), otros_pagos=None)),
                 id="NOM57-NOM106-jubilado"),
    pytest.param(*case(NominaSpec(nomina_receptor=receptor(**{"Antigüedad": "P389W"}))), id="NOM54-semanas"),
    pytest.param(*case(NominaSpec(nomina_receptor=receptor(**{"Antigüedad": "P7Y5M13D"}))),
                 id="NOM55-contando-el-ultimo-dia"),
    pytest.param(*case(NominaSpec(nomina_receptor=receptor(FechaInicioRelLaboral="2026-10-31",
                                                           **{"Antigüedad": "P15D"}))),
                 id="NOM55-sin-anos-ni-meses"),
    pytest.param(*case(NominaSpec(nomina_receptor=receptor(FechaInicioRelLaboral="2026-11-15",
                                                           **{"Antigüedad": "P0D"}))),
                 id="NOM53-NOM55-primer-dia"),
    pytest.param(*case(NominaSpec(emisor=None, nomina_receptor=receptor(
        TipoContrato="09", TipoRegimen="09", NumSeguridadSocial=None, FechaInicioRelLaboral=None, RiesgoPuesto=None,
        SalarioDiarioIntegrado=None, **{"Antigüedad": None}), otros_pagos=None)), id="NOM44-sin-registro-patronal"),
    pytest.param(*case(NominaSpec(entidad_sncf={"OrigenRecurso": "IM", "MontoRecursoPropio": "4000.00"})),
                 id="NOM48-NOM50-ingresos-mixtos"),
    pytest.param(*case(NominaSpec(entidad_sncf={"OrigenRecurso": "IF"})), id="NOM47-NOM49-ingresos-federales"),
    pytest.param(*case(NominaSpec(nomina_receptor=receptor(CuentaBancaria="4152313412345678", Banco="012"))),
                 id="NOM61-NOM65-tarjeta"),
    pytest.param(*case(NominaSpec(nomina_receptor=receptor(CuentaBancaria="12345678901", Banco="012"))),
                 id="NOM62-NOM65-cuenta"),
    pytest.param(*case(NominaSpec(nomina_receptor=receptor(CuentaBancaria="032180000118359719"))), id="NOM64-clabe"),
    pytest.param(*case(NominaSpec(nomina_receptor=receptor(CuentaBancaria=None))), id="NOM62-sin-cuenta"),
    pytest.param(*case(NominaSpec(nomina_receptor=receptor(ClaveEntFed="CMX"))), id="NOM66-cdmx"),
    pytest.param(*case(NominaSpec(subcontratacion=[("EKU9003173C9", "60.000"), ("MISC491214B86", "40")])),
                 id="NOM68-cien"),
    pytest.param(*case(with_percepciones(Percepcion("022", "1000.00", "500.00"), Percepcion("025", "300.00"))),
                 id="NOM71-NOM78-separacion"),
    pytest.param(*case(with_percepciones(Percepcion("039", "2000.00"))), id="NOM72-NOM79-NOM80-una-exhibicion"),
    pytest.param(*case(with_percepciones(Percepcion("044", "5000.00"), jubilacion=JUBILACION_PARCIAL)),
                 id="NOM81-NOM90-parcialidades"),
    pytest.param(*case(with_percepciones(Percepcion("045", "1000.00", acciones=ACCIONES))), id="NOM82-acciones"),
    pytest.param(*case(with_percepciones(Percepcion("014", "0.00", "500.00"), incapacidades=[
        Incapacidad("3", "01", "300.00"), Incapacidad("2", "01", "200.00")])), id="NOM86-NOM87-incapacidades"),
    pytest.param(*case(with_deducciones(Deduccion("006", "100.00"), incapacidades=[Incapacidad("1", "02", "100.00")])),
                 id="NOM94-NOM95-descuento-incapacidad"),
    pytest.param(*case(NominaSpec(deducciones=[Deduccion("001", "210.35")])), id="NOM91-NOM92-sin-isr"),
    pytest.param(*case(with_otros_pagos(OtroPago("004", "100.00", compensacion=COMPENSACION))),
                 id="NOM98-NOM102-NOM103"),
    pytest.param(*case(NominaSpec(nomina={**NOMINA, "FechaPago": "2026-12-01"}), None), id="NOM103-diciembre-base"),
    pytest.param(*case(NominaSpec(nomina={**NOMINA, "FechaPago": "2026-12-01"},
                                  otros_pagos=[*base_otros_pagos(), OtroPago("004", "100.00", compensacion={
                                      **COMPENSACION, "Año": "2026"})])), id="NOM103-diciembre-año-en-curso"),
    pytest.param(*case(NominaSpec(otros_pagos=[OtroPago("002", "475.00", "475.00")])), id="NOM101-NOM107-tope"),
    pytest.param(*case(NominaSpec(nomina={**NOMINA, "NumDiasPagados": "40.000"},
                                  otros_pagos=[OtroPago("002", "0.00", "625.20")])), id="NOM108-tope"),
    pytest.param(*case(NominaSpec(otros_pagos=[OtroPago("007", "100.00")])), id="NOM105-ajuste-007-sin-002"),
    pytest.param(*case(None, two_nominas), id="NOM20-NOM21-NOM22-dos-nominas"),
]


def mine(findings_) -> list[tuple[str, str, str | None]]:
    """(code, node, value) of the Nómina findings, of any schema failure (which would hide them) and of any
    rule that crashed (CFDI40999), which fails every case."""
    return [(f.code, f.node, f.value) for f in findings_
            if f.code.startswith("NOM") or f.code in ("301", "CFDI40999")]


@pytest.fixture(scope="module")
def fisica(sandbox_ca):
    """A CSD of a persona física emisor (13-character RFC) from SAT's test list."""
    return sandbox_ca.issue("MISC491214B86", "CECILIA MIRANDA SANCHEZ",
                            not_before=datetime(2025, 1, 1, tzinfo=timezone.utc))


@pytest.fixture
def nomina(csd, findings):
    def run(spec: NominaSpec | None = None, mutate: Mutate | None = None, cred=None):
        return findings((spec or NominaSpec()).xml(cred or csd, NOW, mutate))

    return run


def test_the_base_document_is_valid(nomina):
    assert nomina() == []


def test_a_cfdi_without_nomina_gets_no_nomina_finding(make_xml, findings):
    assert mine(findings(make_xml())) == []


@pytest.mark.parametrize(("spec", "mutate", "expected"), FAILS)
def test_fails(nomina, spec, mutate, expected):
    assert sorted(mine(nomina(spec, mutate)), key=repr) == sorted(expected, key=repr)


@pytest.mark.parametrize(("spec", "mutate"), PASSES)
def test_passes(nomina, spec, mutate):
    assert mine(nomina(spec, mutate)) == []


def test_nom6_a_persona_fisica_emisor_needs_its_curp(nomina, fisica):
    assert mine(nomina(None, None, fisica)) == [("NOM6", f"{P_EMI}@Curp", None)]
    assert mine(nomina(NominaSpec(emisor=None), None, fisica)) == [
        ("NOM6", f"{P_EMI}@Curp", None), ("NOM42", f"{P_EMI}@RegistroPatronal", None)]
    assert mine(nomina(NominaSpec(emisor={"Curp": FISICA_CURP, "RegistroPatronal": "B5510768108"}), None, fisica)) == []


def test_findings_carry_the_expected_value_and_a_reason(nomina):
    got = [f for f in nomina(NominaSpec(nomina_receptor=receptor(**{"Antigüedad": "P7Y5M14D"}))) if f.code == "NOM55"]
    assert [(f.value, f.expected) for f in got] == [("P7Y5M14D", "P7Y5M12D")]
    assert "P7Y5M13D contando el último día" in got[0].detail
    got = [f for f in nomina(with_percepciones(Percepcion("014", "0.00", "500.00"),
                                               incapacidades=[Incapacidad("3", "01", "400.00")])) if f.code == "NOM87"]
    assert [(f.value, f.expected) for f in got] == [("500.00", "400.00")]
    got = [f for f in nomina(NominaSpec(nomina_receptor=receptor(CuentaBancaria="002010077777777772")))]
    assert [(f.code, f.expected) for f in got] == [("NOM64", CLABE)]


def test_elapsed_counts_calendar_months_and_days():
    assert elapsed(date(2019, 6, 3), date(2026, 11, 15)) == (89, 12)
    assert elapsed(date(2024, 1, 31), date(2024, 2, 29)) == (1, 0)  # a month from the 31st ends on the last day
    assert elapsed(date(2024, 1, 31), date(2024, 2, 28)) == (0, 28)
    assert elapsed(date(2026, 11, 15), date(2026, 11, 15)) == (0, 0)


def test_clabe_check_digit():
    assert clabe_check_digit(CLABE[:17]) == int(CLABE[17])
    assert clabe_check_digit("03218000011835971") == 9
    assert clabe_check_digit("01218000123450005") == 0  # weighted sum 80: the digit is 0, not 10


# Valid CLABEs whose control digit is each boundary (0, 1, 9) and the same accounts with a wrong digit.
@pytest.mark.parametrize("clabe", ["012180001234500050", CLABE, "032180000118359719"])
def test_nom64_a_valid_clabe_passes_whatever_its_control_digit(nomina, clabe):
    assert mine(nomina(NominaSpec(nomina_receptor=receptor(CuentaBancaria=clabe)))) == []


@pytest.mark.parametrize(("clabe", "expected"), [
    ("012180001234500059", "012180001234500050"),  # 9 where SAT's is 0
    ("012180001234500051", "012180001234500050"),
    ("002010077777777770", CLABE),                  # 0 where SAT's is 1
    ("032180000118359710", "032180000118359719"),  # 0 where SAT's is 9
    ("032180000118359718", "032180000118359719"),
])
def test_nom64_a_clabe_with_a_wrong_control_digit_fails(nomina, clabe, expected):
    got = [f for f in nomina(NominaSpec(nomina_receptor=receptor(CuentaBancaria=clabe))) if f.code.startswith("NOM")]
    assert [(f.code, f.node, f.value, f.expected) for f in got] == [
        ("NOM64", f"{P_REC}@CuentaBancaria", clabe, expected)]


def test_nom30_a_nomina_in_the_addenda_fails(nomina):
    """NOM30 looks for a Nomina anywhere in the document: one in the Addenda is not where SAT wants it."""
    def in_addenda(root: etree._Element) -> None:
        etree.SubElement(root, q("Addenda")).append(copy.deepcopy(node(root, NOM)))

    assert mine(nomina(None, in_addenda)) == [("NOM30", "Addenda/Nomina", None)]


# -- SAT's sample -------------------------------------------------------------------------------------------

# SAT's sample cfdv40-nomina12.xml shows the structure of every node; its values are placeholders that
# break these rules, each for the reason given (the sample's own attribute values are the evidence).
SAMPLE_VIOLATIONS = [
    ("NOM1", "Comprobante@Moneda"),                       # Moneda="XXX"
    ("NOM2", "Comprobante@TipoDeComprobante"),            # TipoDeComprobante="P"
    ("NOM3", "Comprobante@Exportacion"),                  # Exportacion="03"
    ("NOM5", f"{P_EMI}@Curp"),                            # emisor " AAA010101AAA" (12) with Curp
    ("NOM11", "Receptor@RegimenFiscalReceptor"),          # 630
    ("NOM12", "Receptor@UsoCFDI"),                        # P01
    ("NOM14", f"{P_CON}@ClaveProdServ"),                  # 84111506
    ("NOM19", f"{P_CON}@Descripcion"),                    # "Descripcion"
    ("NOM20", f"{P_CON}@ValorUnitario"),                  # 0, TotalPercepciones + TotalOtrosPagos = 246.90
    ("NOM21", f"{P_CON}@Importe"),                        # 0
    ("NOM22", f"{P_CON}@Descuento"),                      # absent, TotalDeducciones="123.45"
    ("NOM37", f"{P_NOM}@TotalPercepciones"),              # 123.45; the three Percepciones totals sum 370.35
    ("NOM39", f"{P_NOM}@TotalDeducciones"),               # 123.45; 123.45 + 123.45 = 246.90
    ("NOM40", f"{P_NOM}@TotalOtrosPagos"),                # 123.45; 1234.56 + 1234.56 = 2469.12
    ("NOM49", f"{P_EMI}/EntidadSNCF@MontoRecursoPropio"),  # OrigenRecurso="IP" with MontoRecursoPropio
    ("NOM55", f"{P_REC}@Antigüedad"),                     # P3Y2M23D; 2013-04-11 to 2016-10-15 is P3Y6M4D
    ("NOM68", f"{P_REC}/SubContratacion[1]@PorcentajeTiempo"),  # 23.45 + 13.45 = 36.90
    ("NOM69", P_PS),                                      # 3 × 123.45 vs 123.45 + 123.45
    ("NOM70", f"{P_PS}@TotalSueldos"),                    # 123.45; 001 and 005 sum 358.00
    ("NOM71", f"{P_PS}@TotalSeparacionIndemnizacion"),    # 123.45 with no 022/023/025
    ("NOM72", f"{P_PS}@TotalJubilacionPensionRetiro"),    # 123.45 with no 039/044
    ("NOM73", f"{P_PS}@TotalGravado"),                    # 123.45; 89.00 + 89.00
    ("NOM74", f"{P_PS}@TotalExento"),                     # 123.45; 90.00 + 90.00
    ("NOM79", f"{P_PS}@TotalJubilacionPensionRetiro"),    # with no 039/044
    ("NOM79", f"{P_PS}/JubilacionPensionRetiro"),         # with no 039/044
    ("NOM83", f"{P_PS}/Percepcion[1]/AccionesOTitulos"),  # in a 001
    ("NOM85", f"{P_PS}/Percepcion[1]/HorasExtra[1]"),     # in a 001
    ("NOM85", f"{P_PS}/Percepcion[2]/HorasExtra[1]"),     # in a 005
    ("NOM89", f"{P_PS}/JubilacionPensionRetiro@MontoDiario"),       # with TotalUnaExhibicion
    ("NOM89", f"{P_PS}/JubilacionPensionRetiro@TotalParcialidad"),  # with TotalUnaExhibicion
    ("NOM90", f"{P_PS}/JubilacionPensionRetiro@TotalUnaExhibicion"),  # with TotalParcialidad
    ("NOM92", f"{P_DS}@TotalImpuestosRetenidos"),         # deducciones 001 and 100, no 002
    ("NOM101", f"{P_OPS}/OtroPago[1]/SubsidioAlEmpleo@SubsidioCausado"),  # 1234.56 > 475.00, 15 days
    ("NOM101", f"{P_OPS}/OtroPago[2]/SubsidioAlEmpleo@SubsidioCausado"),
    ("NOM103", f"{P_OPS}/OtroPago[1]/CompensacionSaldosAFavor@Año"),  # 2016 with FechaPago 2016-10-15
    ("NOM103", f"{P_OPS}/OtroPago[2]/CompensacionSaldosAFavor@Año"),
    ("NOM106", f"{P_OPS}/OtroPago[2]@TipoOtroPago"),      # 002 with TipoRegimen 03
]


def test_sat_sample_breaks_only_what_its_placeholder_values_break():
    raw = (DATA / "samples" / "comprobante40" / "cfdv40-nomina12.xml").read_bytes()
    doc = parse(raw)
    ctx = Context(doc=doc, catalogs=catalogs(), now=datetime.fromisoformat(doc.get("Fecha")))
    got = sorted((f.code, f.node) for f in run_rules(ctx) if f.code.startswith("NOM"))
    assert got == sorted(SAMPLE_VIOLATIONS)


# -- the matrix is fully accounted for ------------------------------------------------------------------------

def test_every_nomina_code_is_a_rule_or_not_applicable():
    from timbra.cfdi.rules import implemented_codes
    from timbra.cfdi.rules.claves import COMPLEMENT_CODES

    implemented = implemented_codes() | {c for (ns, _, _), c in COMPLEMENT_CODES.items() if ns == NS_NOMINA}
    codes = [r["codigo"] for r in matrix("nomina12")]
    assert len(codes) == 109
    assert [c for c in codes if (c in implemented) == (c in NOT_APPLICABLE)] == []
    tested = Path(__file__).read_text(encoding="utf-8")
    assert [c for c in codes if c in implemented and f'"{c}"' not in tested] == []


# -- NOM9, NOM41, NOM67: RFCs in l_RFC, through a strict padrón ---------------------------------------------

@pytest.fixture
def nomina_padron(csd, pac, trust, clock):
    from timbra.pac.stamping import Certifier
    from timbra.sat.padron import SandboxPadron

    certifier = Certifier(pac=pac, trust=trust, clock=clock, padron=SandboxPadron(permissive=False))

    def run(spec: NominaSpec | None = None, mutate: Mutate | None = None):
        got = certifier.validate((spec or NominaSpec()).xml(csd, NOW, mutate)).findings
        return [(f.code, f.node, f.value) for f in got if f.code in ("NOM9", "NOM41", "NOM67", "CFDI40999")]

    return run


def test_nom9_nom41_nom67_pass_with_rfcs_in_l_rfc(nomina_padron):
    assert nomina_padron() == []  # FUNK671228PH6 is one of SAT's test RFCs
    assert nomina_padron(mutate=setting(EMI, RfcPatronOrigen="URE180429TM6")) == []


def test_nom41_rfc_patron_origen_not_in_l_rfc(nomina_padron):
    got = nomina_padron(mutate=setting(EMI, RfcPatronOrigen="AAA010101AAA"))
    assert got == [("NOM41", "Complemento/Nomina/Emisor@RfcPatronOrigen", "AAA010101AAA")]


def test_nom67_rfc_labora_not_in_l_rfc(nomina_padron):
    sub = add(REC, NS_NOMINA, "SubContratacion", {"RfcLabora": "AAA010101AAA",
                                                             "PorcentajeTiempo": "100"})
    assert nomina_padron(mutate=sub) == [
        ("NOM67", "Complemento/Nomina/Receptor/SubContratacion[1]@RfcLabora", "AAA010101AAA")]


def test_nom9_receptor_not_in_l_rfc(csd, pac, trust, clock):
    from timbra.pac.stamping import Certifier
    from timbra.sat.padron import Contribuyente, SandboxPadron

    padron = SandboxPadron(permissive=False)
    certifier = Certifier(pac=pac, trust=trust, clock=clock, padron=padron)
    spec = NominaSpec(receptor={**RECEPTOR, "Rfc": "PEPJ8001019Q8"})
    got = [(f.code, f.node, f.value) for f in certifier.validate(spec.xml(csd, NOW, None)).findings
           if f.code == "NOM9"]
    assert got == [("NOM9", "Receptor@Rfc", "PEPJ8001019Q8")]
    padron.register(Contribuyente(rfc="PEPJ8001019Q8", nombre=RECEPTOR["Nombre"],
                                  codigo_postal=RECEPTOR["DomicilioFiscalReceptor"], regimenes=("605",)))
    assert [f for f in certifier.validate(spec.xml(csd, NOW, None)).findings if f.code == "NOM9"] == []


def test_either_half_of_nom79_and_nom82_nom83_says_why(nomina):
    def got(codes, spec, mutate=None):
        return [(f.code, f.node, f.value, f.detail) for f in nomina(spec, mutate) if f.code in codes]

    assert got({"NOM79"}, with_percepciones(Percepcion("039", "2000.00")),
               setting(PS, TotalJubilacionPensionRetiro=None)) == [
        ("NOM79", f"{P_PS}@TotalJubilacionPensionRetiro", None,
         "hay una percepción 039: registre TotalJubilacionPensionRetiro")]
    assert got({"NOM79"}, NominaSpec(jubilacion={"TotalUnaExhibicion": "0.00", "IngresoAcumulable": "0.00",
                                                 "IngresoNoAcumulable": "0.00"})) == [
        ("NOM79", f"{P_PS}/JubilacionPensionRetiro", None,
         "no hay percepciones 039 ni 044: no registre el nodo JubilacionPensionRetiro")]
    assert got({"NOM82"}, with_percepciones(Percepcion("045", "1000.00"))) == [
        ("NOM82", f"{P_PS}/Percepcion[3]/AccionesOTitulos", "045",
         "la percepción 045 debe tener el nodo AccionesOTitulos")]
    assert got({"NOM83"}, NominaSpec(percepciones=[Percepcion("001", "7500.00", acciones=ACCIONES),
                                                   *base_percepciones()[1:]])) == [
        ("NOM83", f"{P_PS}/Percepcion[1]/AccionesOTitulos", "001",
         "el nodo AccionesOTitulos sólo se registra en percepciones 045; esta es 001")]


# -- every Nomina, every Concepto: a defect in the second one is found too -------------------------------

def after_a_valid_nomina(mutate: Mutate | None) -> Mutate:
    """The case's change, then a valid base Nomina put before the case's Nomina (which becomes the second)."""

    def m(root: etree._Element) -> None:
        if mutate is not None:
            mutate(root)
        node(root, NOM).addprevious(NominaSpec()._nomina())

    return m


# The failing cases whose findings are all inside the Nomina (a Comprobante or Concepto finding is not per Nomina).
IN_NOMINA = [p for p in FAILS if all(e[1].startswith(P_NOM) for e in p.values[2])]


@pytest.mark.parametrize(("spec", "mutate", "expected"), IN_NOMINA)
def test_fails_in_the_second_nomina(nomina, spec, mutate, expected):
    # The Concepto's amounts no longer match two Nóminas (NOM20-NOM22 and the like may add findings): the
    # case's own findings must be among them.
    got = set(mine(nomina(spec, after_a_valid_nomina(mutate))))
    assert set(expected) <= got, sorted(got, key=repr)


def second_concepto_with(**attrs: str | None) -> Mutate:
    def mutate(root: etree._Element) -> None:
        second_concepto(root)
        setting("cfdi:Conceptos/cfdi:Concepto[2]", **attrs)(root)

    return mutate


@pytest.mark.parametrize(("attrs", "code"), [
    ({"ClaveProdServ": "84111506"}, "NOM14"),
    ({"NoIdentificacion": "NOM-1"}, "NOM15"),
    ({"ClaveUnidad": "E48"}, "NOM17"),
    ({"ValorUnitario": "8300.01"}, "NOM20"),
    ({"Importe": "8299.99"}, "NOM21"),
    ({"Descuento": "1000.00"}, "NOM22"),
])
def test_a_defect_in_the_second_concepto_is_found(nomina, attrs, code):
    got = mine(nomina(None, second_concepto_with(**attrs)))
    assert any(c == code and n.startswith("Conceptos/Concepto[2]") for c, n, _ in got), got


# -- boundaries and branches the cases above do not reach -------------------------------------------------

ASIM_REC = dict(emisor=None, otros_pagos=None)


def asimilado(**attrs: str | None) -> NominaSpec:
    """An asimilado (no RegistroPatronal, no subsidio) whose Nomina Receptor is changed by `attrs`."""
    return NominaSpec(**ASIM_REC, nomina_receptor=receptor(**{"TipoContrato": "09", "TipoRegimen": "09", **attrs}))


def subsidio(dias: str, causado: str) -> NominaSpec:
    return NominaSpec(nomina={**NOMINA, "NumDiasPagados": dias}, otros_pagos=[OtroPago("002", "0.00", causado)])


@pytest.mark.parametrize(("spec", "expected"), [
    pytest.param(asimilado(TipoContrato="08"), [("NOM42", f"{P_EMI}@RegistroPatronal", None),
                                             ("NOM57", f"{P_REC}@TipoRegimen", "09")], id="NOM57-contrato-08"),
    pytest.param(asimilado(TipoContrato="01"), [("NOM42", f"{P_EMI}@RegistroPatronal", None),
                                             ("NOM57", f"{P_REC}@TipoRegimen", "09")], id="NOM57-contrato-01"),
    pytest.param(asimilado(TipoRegimen="04"), [("NOM58", f"{P_REC}@TipoRegimen", "04")], id="NOM58-regimen-04"),
    pytest.param(asimilado(TipoRegimen="100"),
                 [("NOM56", f"{P_REC}@TipoRegimen", "100"), ("NOM58", f"{P_REC}@TipoRegimen", "100")],
                 id="NOM58-regimen-100"),
    pytest.param(asimilado(TipoRegimen="AB"),
                 [("NOM56", f"{P_REC}@TipoRegimen", "AB"), ("NOM58", f"{P_REC}@TipoRegimen", "AB")],
                 id="NOM58-regimen-no-numerico"),
    # 31 days is still a month: the monthly cap (475.00), not 15.63 x 31 = 484.53.
    pytest.param(subsidio("31.000", "480.00"), [("NOM101", f"{P_NOM}/OtrosPagos/OtroPago[1]/SubsidioAlEmpleo@SubsidioCausado",
                                                 "480.00")], id="NOM101-31-dias"),
    pytest.param(subsidio("32.000", "500.17"), [("NOM108", f"{P_NOM}/OtrosPagos/OtroPago[1]/SubsidioAlEmpleo@SubsidioCausado",
                                                 "500.17")], id="NOM108-32-dias"),
])
def test_boundary_fails(nomina, spec, expected):
    assert sorted(mine(nomina(spec)), key=repr) == sorted(expected, key=repr)


@pytest.mark.parametrize("spec", [
    pytest.param(asimilado(TipoRegimen="05"), id="NOM58-regimen-05"),
    pytest.param(asimilado(TipoRegimen="99"), id="NOM58-regimen-99"),
    pytest.param(asimilado(TipoContrato="10"), id="NOM58-contrato-10"),
    # No FechaInicioRelLaboral, Antigüedad nor CuentaBancaria (without RegistroPatronal none is due).
    pytest.param(asimilado(FechaInicioRelLaboral=None, **{"Antigüedad": None}, CuentaBancaria=None,
                           NumSeguridadSocial=None, RiesgoPuesto=None, SalarioDiarioIntegrado=None),
                 id="receptor-minimo"),
    pytest.param(subsidio("31.000", "475.00"), id="NOM101-31-dias-tope"),
    pytest.param(subsidio("32.000", "480.00"), id="NOM108-32-dias"),
    pytest.param(NominaSpec(entidad_sncf={"OrigenRecurso": "IP"}), id="NOM49-sin-monto"),
    pytest.param(NominaSpec(otros_pagos=[OtroPago("007", "10.00")]), id="NOM105-solo-ajuste"),
    pytest.param(NominaSpec(otros_pagos=[*base_otros_pagos(), OtroPago("999", "10.00")]), id="otro-pago-sin-subsidio"),
])
def test_boundary_passes(nomina, spec):
    assert mine(nomina(spec)) == []


def test_nom54_weeks_at_the_boundary(nomina):
    # 2019-06-04 to 2026-11-15 is 2721 days: (2721 + 1) // 7 = 388 weeks exactly (2722 = 388 x 7 + 6).
    rec = {"FechaInicioRelLaboral": "2019-06-04"}
    assert mine(nomina(NominaSpec(nomina_receptor=receptor(**rec, **{"Antigüedad": "P388W"})))) == []
    got = [f for f in nomina(NominaSpec(nomina_receptor=receptor(**rec, **{"Antigüedad": "P389W"})))
           if f.code.startswith("NOM")]
    assert [(f.code, f.value, f.expected) for f in got] == [("NOM54", "P389W", "<= P388W")]


def test_nom51_a_contrato_outside_the_catalog_is_neither_nom57_nor_nom58(nomina):
    assert mine(nomina(asimilado(TipoContrato="00"))) == [("NOM51", f"{P_REC}@TipoContrato", "00")]


def test_nom103_a_december_period_paid_in_january_admits_the_year_of_the_payment(nomina):
    # Paid on 2027-01-05 for 2026-12-16..2026-12-31: the period is December, so Año 2027 is admitted.
    spec = with_otros_pagos(OtroPago("004", "100.00", compensacion={**COMPENSACION, "Año": "2027"}),
                            nomina={"TipoNomina": "O", "FechaPago": "2027-01-05", "FechaInicialPago": "2026-12-16",
                                    "FechaFinalPago": "2026-12-31", "NumDiasPagados": "16.000"},
                            nomina_receptor=receptor(**{"Antigüedad": "P7Y6M28D"}))
    assert mine(nomina(spec)) == []


@pytest.mark.parametrize("otro", [
    pytest.param(OtroPago("002", "0.00"), id="002-sin-subsidio"),
    pytest.param(OtroPago("999", "100.00", "50.00"), id="999-con-subsidio"),
])
def test_nom107_compares_only_an_otro_pago_002_with_its_subsidio(nomina, otro):
    got = mine(nomina(NominaSpec(otros_pagos=[otro])))
    assert got and not [f for f in got if f[0] in ("NOM107", "CFDI40999")], got


def test_nom67_the_second_rfc_labora_is_checked_too(nomina_padron):
    subs = NominaSpec(subcontratacion=[("FUNK671228PH6", "50.000"), ("AAA010101AAA", "50.000")])
    assert nomina_padron(subs) == [
        ("NOM67", "Complemento/Nomina/Receptor/SubContratacion[2]@RfcLabora", "AAA010101AAA")]


def test_nom41_without_nomina_emisor_and_nom9_with_the_generic_rfc(nomina_padron):
    assert nomina_padron(NominaSpec(emisor=None)) == []
    # XAXX010101000 is not in l_RFC, and NOM10/NOM11 admit it (payroll to a deceased worker).
    assert nomina_padron(NominaSpec(receptor={**RECEPTOR, "Rfc": "XAXX010101000"})) == []


def test_nom87_sums_every_percepcion_014(nomina):
    dos = (Percepcion("014", "100.00"), Percepcion("014", "100.00"))
    assert mine(nomina(with_percepciones(*dos, incapacidades=[Incapacidad("2", "01", "200.00")]))) == []
    got = [f for f in nomina(with_percepciones(*dos, incapacidades=[Incapacidad("2", "01", "150.00")]))
           if f.code.startswith("NOM") or f.code == "CFDI40999"]
    assert [(f.code, f.node, f.value, f.expected) for f in got] == [
        ("NOM87", f"{P_PS}/Percepcion[3]", "200.00", "150.00")]


def test_nom24_nom29_every_child_of_every_concepto(nomina):
    terceros = add(CONCEPTO, NS40, "ACuentaTerceros", {
        "RfcACuentaTerceros": "MISC491214B86", "NombreACuentaTerceros": "CECILIA MIRANDA SANCHEZ",
        "RegimenFiscalACuentaTerceros": "612", "DomicilioFiscalACuentaTerceros": "01010"})
    predial = add(CONCEPTO, NS40, "CuentaPredial", {"Numero": "123456"})
    assert sorted(mine(nomina(None, all_of(terceros, predial)))) == [
        ("NOM25", f"{P_CON}/ACuentaTerceros", None), ("NOM27", f"{P_CON}/CuentaPredial[1]", None)]
    segundo = all_of(second_concepto, add("cfdi:Conceptos/cfdi:Concepto[2]", NS40, "CuentaPredial", {"Numero": "1"}))
    assert ("NOM27", "Conceptos/Concepto[2]/CuentaPredial[1]", None) in mine(nomina(None, segundo))


@pytest.mark.parametrize("n", [2, 3])
def test_nom13_points_at_the_second_concepto(nomina, n):
    def conceptos(root: etree._Element) -> None:
        for _ in range(n - 1):
            second_concepto(root)

    got = [(f.code, f.node, f.value, f.expected) for f in nomina(None, conceptos) if f.code == "NOM13"]
    assert got == [("NOM13", "Conceptos/Concepto[2]", str(n), "1")]


def test_nom106_reports_an_otro_pago_007_outside_sueldos(nomina):
    got = mine(nomina(NominaSpec(emisor=None, otros_pagos=[OtroPago("007", "10.00")],
                                 nomina_receptor=receptor(TipoContrato="09", TipoRegimen="09"))))
    assert ("NOM106", f"{P_NOM}/OtrosPagos/OtroPago[1]@TipoOtroPago", "007") in got, got


def test_nom77_only_separacion_needs_no_total_sueldos(nomina):
    assert mine(nomina(NominaSpec(percepciones=[Percepcion("022", "1000.00", "500.00")]))) == []


def test_nom77_a_sueldo_after_a_separacion(nomina):
    spec = NominaSpec(percepciones=[Percepcion("022", "1000.00", "500.00"), *base_percepciones()])
    assert mine(nomina(spec)) == []
    assert "NOM77" in {c for c, _, _ in mine(nomina(spec, setting(PS, TotalSueldos=None)))}


def test_nom8_nom12_need_a_nomina_in_the_complemento(nomina):
    """A Nomina only inside a ComplementoConcepto (NOM30) does not make the CFDI a payroll one."""
    mutate = all_of(nomina_in_complemento_concepto, setting("cfdi:Receptor", UsoCFDI="G03"))
    assert mine(nomina(None, mutate)) == [("NOM30", f"{P_CON}/ComplementoConcepto/Nomina", None)]


def test_nom41_in_the_second_nomina(nomina_padron):
    got = nomina_padron(mutate=after_a_valid_nomina(setting(EMI, RfcPatronOrigen="AAA010101AAA")))
    assert got == [("NOM41", "Complemento/Nomina/Emisor@RfcPatronOrigen", "AAA010101AAA")]
