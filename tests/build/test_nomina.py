"""Building a CFDI de nómina from data: every issued document passes timbra's whole validator (CFDI 4.0 and
Nómina 1.2, NOM1-NOM108) with no finding at all, and the totals, the Concepto and the Antigüedad are the
ones SAT's matrix derives from the lines the ERP sent."""
from __future__ import annotations

import copy
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from lxml import etree
from pydantic import ValidationError

from tests.conftest import NOW
from tests.xmlhelp import attrs_at
from timbra.build.common import BuildError, Emisor
from timbra.build.nomina import NS_NOMINA, NominaInvoice, antiguedad, build_nomina, json_path
from timbra.cfdi.document import NS40
from timbra.cfdi.seal import sign_root

NS = {"cfdi": NS40, "nomina12": NS_NOMINA}
EMISOR = Emisor("EKU9003173C9", "ESCUELA KEMPER URGATE", "601")
FISICA = Emisor("MISC491214B86", "CECILIA MIRANDA SANCHEZ", "612")
NOM = "cfdi:Complemento/nomina12:Nomina"

RECEPTOR = {"Rfc": "FUNK671228PH6", "Nombre": "KARLA FUENTE NOLASCO", "DomicilioFiscalReceptor": "01160"}
EMPLEADO = {
    "Curp": "FUNK671228MDFNLR09", "NumSeguridadSocial": "04078873454", "FechaInicioRelLaboral": "2019-06-03",
    "TipoContrato": "01", "Sindicalizado": "No", "TipoJornada": "01", "TipoRegimen": "02", "NumEmpleado": "120",
    "Departamento": "Desarrollo", "Puesto": "Programador", "RiesgoPuesto": "1", "PeriodicidadPago": "04",
    "CuentaBancaria": "002010077777777771", "SalarioBaseCotApor": "500.00", "SalarioDiarioIntegrado": "520.00",
    "ClaveEntFed": "JAL",
}
SUELDO = {"TipoPercepcion": "001", "Clave": "P001", "Concepto": "Sueldo", "ImporteGravado": "7500.00"}
IMSS = {"TipoDeduccion": "001", "Clave": "D001", "Concepto": "Cuota obrera IMSS", "Importe": "210.35"}
ISR = {"TipoDeduccion": "002", "Clave": "D002", "Concepto": "ISR", "Importe": "980.12"}
SUBSIDIO_CERO = {"TipoOtroPago": "002", "Clave": "O002", "Concepto": "Subsidio para el empleo", "Importe": "0",
                 "SubsidioAlEmpleo": {"SubsidioCausado": "0"}}


def nomina(**kw) -> dict:
    """A quincenal ordinary payroll (1-15 November 2026) paid to FUNK671228PH6 under TipoRegimen 02."""
    return {"TipoNomina": "O", "FechaPago": "2026-11-15", "FechaInicialPago": "2026-11-01",
            "FechaFinalPago": "2026-11-15", "NumDiasPagados": "15", "Emisor": {"RegistroPatronal": "B5510768108"},
            "Receptor": dict(EMPLEADO), "Percepciones": [dict(SUELDO)], "Deducciones": [dict(IMSS), dict(ISR)],
            "OtrosPagos": [copy.deepcopy(SUBSIDIO_CERO)], **kw}


def data(**kw) -> dict:
    nom = kw.pop("Nomina", None) or nomina()
    return {"Serie": "N", "Folio": "15", "LugarExpedicion": "06000", "Receptor": dict(RECEPTOR), "Nomina": nom, **kw}


@pytest.fixture(scope="module")
def fisica_csd(sandbox_ca):
    """A CSD of SAT's test persona física MISC491214B86."""
    return sandbox_ca.issue("MISC491214B86", "CECILIA MIRANDA SANCHEZ",
                            not_before=datetime(2025, 1, 1, tzinfo=timezone.utc))


@pytest.fixture
def issue(csd, certifier):
    """Build, seal with the emisor's CSD and validate like a stamp: no finding allowed."""

    def run(d: dict, *, emisor: Emisor = EMISOR, cred=None) -> etree._Element:
        root = build_nomina(NominaInvoice.model_validate(d), emisor=emisor, fecha=NOW)
        sign_root(root, cred or csd)
        xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        got = certifier.validate(xml).findings
        assert got == [], [str(f) for f in got]
        return root

    return run


def comprobante(root: etree._Element) -> tuple[str | None, ...]:
    return root.get("SubTotal"), root.get("Descuento"), root.get("Total")


def test_ordinary_quincenal_payroll(issue):
    root = issue(data())
    assert comprobante(root) == ("7500.00", "1190.47", "6309.53")
    assert {k: root.get(k) for k in ("TipoDeComprobante", "Moneda", "Exportacion", "MetodoPago")} == {
        "TipoDeComprobante": "N", "Moneda": "MXN", "Exportacion": "01", "MetodoPago": "PUE"}
    assert root.get("FormaPago") is None
    assert attrs_at(root, "cfdi:Receptor") == {**RECEPTOR, "RegimenFiscalReceptor": "605", "UsoCFDI": "CN01"}
    assert attrs_at(root, "cfdi:Conceptos/cfdi:Concepto") == {
        "ClaveProdServ": "84111505", "Cantidad": "1", "ClaveUnidad": "ACT", "Descripcion": "Pago de nómina",
        "ValorUnitario": "7500.00", "Importe": "7500.00", "Descuento": "1190.47", "ObjetoImp": "01"}
    n = attrs_at(root, NOM)
    assert (n["NumDiasPagados"], n["TotalPercepciones"], n["TotalDeducciones"], n["TotalOtrosPagos"]) == (
        "15.000", "7500.00", "1190.47", "0.00")
    assert attrs_at(root, f"{NOM}/nomina12:Percepciones") == {"TotalSueldos": "7500.00", "TotalGravado": "7500.00",
                                                         "TotalExento": "0.00"}
    assert attrs_at(root, f"{NOM}/nomina12:Deducciones") == {"TotalOtrasDeducciones": "210.35",
                                                        "TotalImpuestosRetenidos": "980.12"}
    # 2019-06-03 to 2026-11-15: 7 years, 5 months and 12 days.
    assert attrs_at(root, f"{NOM}/nomina12:Receptor")["Antigüedad"] == "P7Y5M12D"
    assert root.find(f"{{{NS40}}}Emisor").get("RegimenFiscal") == "601"


def test_subsidio_al_empleo_as_otro_pago(issue):
    """A low salary: the subsidio para el empleo is paid (an OtroPago) and adds to the Concepto's Importe."""
    subsidio = {**SUBSIDIO_CERO, "Importe": "118.75", "SubsidioAlEmpleo": {"SubsidioCausado": "237.50"}}
    nom = nomina(Percepciones=[{**SUELDO, "ImporteGravado": "4185.75"}],
                 Deducciones=[{**IMSS, "Importe": "52.10"}], OtrosPagos=[subsidio])
    nom["Receptor"].update(SalarioBaseCotApor="278.80", SalarioDiarioIntegrado="291.42")
    root = issue(data(Nomina=nom))
    assert comprobante(root) == ("4304.50", "52.10", "4252.40")
    assert attrs_at(root, "cfdi:Conceptos/cfdi:Concepto")["ValorUnitario"] == "4304.50"
    n = attrs_at(root, NOM)
    assert (n["TotalPercepciones"], n["TotalOtrosPagos"], n["TotalDeducciones"]) == ("4185.75", "118.75", "52.10")
    assert attrs_at(root, f"{NOM}/nomina12:Deducciones") == {"TotalOtrasDeducciones": "52.10"}
    assert attrs_at(root, f"{NOM}/nomina12:OtrosPagos/nomina12:OtroPago/nomina12:SubsidioAlEmpleo") == {
        "SubsidioCausado": "237.50"}


def test_horas_extra(issue):
    extra = {"TipoPercepcion": "019", "Clave": "P019", "Concepto": "Horas extra dobles", "ImporteGravado": "400",
             "ImporteExento": "400", "HorasExtra": [{"Dias": 2, "TipoHoras": "01", "HorasExtra": 4,
                                                     "ImportePagado": "800"}]}
    premio = {"TipoPercepcion": "010", "Clave": "P010", "Concepto": "Premio de puntualidad",
              "ImporteGravado": "125.50", "ImporteExento": "0"}
    root = issue(data(Nomina=nomina(Percepciones=[dict(SUELDO), extra, premio])))
    assert attrs_at(root, f"{NOM}/nomina12:Percepciones") == {"TotalSueldos": "8425.50", "TotalGravado": "8025.50",
                                                         "TotalExento": "400.00"}
    assert attrs_at(root, f"{NOM}/nomina12:Percepciones/nomina12:Percepcion[2]/nomina12:HorasExtra") == {
        "Dias": "2", "TipoHoras": "01", "HorasExtra": "4", "ImportePagado": "800.00"}
    assert comprobante(root) == ("8425.50", "1190.47", "7235.03")


def test_incapacidad_with_its_descuento(issue):
    """Three days of enfermedad general: the 006 deducción is computed from the incapacidad's ImporteMonetario."""
    descuento = {"TipoDeduccion": "006", "Clave": "D006", "Concepto": "Descuento por incapacidad"}
    nom = nomina(Deducciones=[dict(IMSS), dict(ISR), descuento],
                 Incapacidades=[{"DiasIncapacidad": 3, "TipoIncapacidad": "02", "ImporteMonetario": "1500"}])
    root = issue(data(Nomina=nom))
    assert attrs_at(root, f"{NOM}/nomina12:Deducciones/nomina12:Deduccion[3]")["Importe"] == "1500.00"
    assert attrs_at(root, f"{NOM}/nomina12:Deducciones") == {"TotalOtrasDeducciones": "1710.35",
                                                        "TotalImpuestosRetenidos": "980.12"}
    assert attrs_at(root, f"{NOM}/nomina12:Incapacidades/nomina12:Incapacidad") == {
        "DiasIncapacidad": "3", "TipoIncapacidad": "02", "ImporteMonetario": "1500.00"}
    assert comprobante(root) == ("7500.00", "2690.47", "4809.53")


def test_incapacidad_paid_by_the_employer(issue):
    """A riesgo de trabajo paid as percepción 014 (subsidio por incapacidad) equal to its ImporteMonetario."""
    subsidio = {"TipoPercepcion": "014", "Clave": "P014", "Concepto": "Subsidio por incapacidad",
                "ImporteExento": "1560.00"}
    nom = nomina(Percepciones=[{**SUELDO, "ImporteGravado": "6000.00"}, subsidio],
                 Incapacidades=[{"DiasIncapacidad": 3, "TipoIncapacidad": "01", "ImporteMonetario": "1560.00"}])
    root = issue(data(Nomina=nom))
    assert attrs_at(root, f"{NOM}/nomina12:Percepciones") == {"TotalSueldos": "7560.00", "TotalGravado": "6000.00",
                                                         "TotalExento": "1560.00"}


def test_extraordinary_aguinaldo_payroll(issue):
    aguinaldo = {"TipoPercepcion": "002", "Clave": "P002", "Concepto": "Aguinaldo", "ImporteGravado": "4828.30",
                 "ImporteExento": "3171.70"}
    nom = nomina(TipoNomina="E", FechaPago="2026-12-15", FechaInicialPago="2026-12-15",
                 FechaFinalPago="2026-12-15", NumDiasPagados="1", Percepciones=[aguinaldo],
                 Deducciones=[{**ISR, "Importe": "1046.73"}])
    nom["Receptor"]["PeriodicidadPago"] = "99"
    root = issue(data(Nomina=nom))
    n = attrs_at(root, NOM)
    assert (n["TipoNomina"], n["NumDiasPagados"], n["TotalPercepciones"], n["TotalDeducciones"]) == (
        "E", "1.000", "8000.00", "1046.73")
    assert attrs_at(root, f"{NOM}/nomina12:Deducciones") == {"TotalImpuestosRetenidos": "1046.73"}
    assert attrs_at(root, f"{NOM}/nomina12:Receptor")["Antigüedad"] == "P7Y6M12D"
    assert comprobante(root) == ("8000.00", "1046.73", "6953.27")


def test_persona_fisica_emisor_with_curp(issue, fisica_csd):
    nom = nomina(Emisor={"Curp": "MISC491214MDFRNC01", "RegistroPatronal": "B5510768108"})
    root = issue(data(Nomina=nom), emisor=FISICA, cred=fisica_csd)
    assert attrs_at(root, f"{NOM}/nomina12:Emisor") == {"Curp": "MISC491214MDFRNC01", "RegistroPatronal": "B5510768108"}
    assert root.find(f"{{{NS40}}}Emisor").get("RegimenFiscal") == "612"


def test_asimilado_without_registro_patronal_or_deducciones(issue):
    """Asimilados a salarios (TipoContrato 09, TipoRegimen 09): no RegistroPatronal, no seguridad social, no
    subsidio; no Deducciones means no Descuento anywhere."""
    receptor = {k: v for k, v in EMPLEADO.items() if k not in (
        "NumSeguridadSocial", "FechaInicioRelLaboral", "RiesgoPuesto", "SalarioDiarioIntegrado", "SalarioBaseCotApor")}
    receptor.update(TipoContrato="09", TipoRegimen="09")
    nom = nomina(Emisor=None, Receptor=receptor, Deducciones=[], OtrosPagos=[])
    del nom["Emisor"]
    root = issue(data(Nomina=nom))
    assert comprobante(root) == ("7500.00", None, "7500.00")
    assert attrs_at(root, "cfdi:Conceptos/cfdi:Concepto").get("Descuento") is None
    n = attrs_at(root, NOM)
    assert "TotalDeducciones" not in n and "TotalOtrosPagos" not in n
    assert root.find(f"{{{NS40}}}Complemento/{{{NS_NOMINA}}}Nomina/{{{NS_NOMINA}}}Emisor") is None
    assert "Antigüedad" not in attrs_at(root, f"{NOM}/nomina12:Receptor")


def test_separacion_e_indemnizacion(issue):
    """A dismissal: the accumulable income is the last ordinary monthly salary, the rest is not accumulable."""
    prima = {"TipoPercepcion": "022", "Clave": "P022", "Concepto": "Prima por antigüedad",
             "ImporteGravado": "12000", "ImporteExento": "3000"}
    indemnizacion = {"TipoPercepcion": "025", "Clave": "P025", "Concepto": "Indemnización",
                     "ImporteGravado": "40000", "ImporteExento": "5000"}
    nom = nomina(Percepciones=[dict(SUELDO), prima, indemnizacion],
                 SeparacionIndemnizacion={"NumAñosServicio": 7, "UltimoSueldoMensOrd": "15000"})
    root = issue(data(Nomina=nom))
    assert attrs_at(root, f"{NOM}/nomina12:Percepciones") == {
        "TotalSueldos": "7500.00", "TotalSeparacionIndemnizacion": "60000.00", "TotalGravado": "59500.00",
        "TotalExento": "8000.00"}
    assert attrs_at(root, f"{NOM}/nomina12:Percepciones/nomina12:SeparacionIndemnizacion") == {
        "TotalPagado": "60000.00", "NumAñosServicio": "7", "UltimoSueldoMensOrd": "15000.00",
        "IngresoAcumulable": "15000.00", "IngresoNoAcumulable": "45000.00"}
    assert comprobante(root) == ("67500.00", "1190.47", "66309.53")


def test_pension_en_parcialidades(issue):
    pension = {"TipoPercepcion": "044", "Clave": "P044", "Concepto": "Pensión", "ImporteGravado": "9000",
               "ImporteExento": "0"}
    receptor = {**EMPLEADO, "TipoRegimen": "03"}
    nom = nomina(Receptor=receptor, Percepciones=[pension], OtrosPagos=[], Deducciones=[dict(ISR)],
                 JubilacionPensionRetiro={"MontoDiario": "600", "IngresoAcumulable": "9000",
                                          "IngresoNoAcumulable": "0"})
    root = issue(data(Nomina=nom))
    assert attrs_at(root, f"{NOM}/nomina12:Percepciones") == {
        "TotalJubilacionPensionRetiro": "9000.00", "TotalGravado": "9000.00", "TotalExento": "0.00"}
    assert attrs_at(root, f"{NOM}/nomina12:Percepciones/nomina12:JubilacionPensionRetiro") == {
        "TotalParcialidad": "9000.00", "MontoDiario": "600.00", "IngresoAcumulable": "9000.00",
        "IngresoNoAcumulable": "0.00"}


def test_jubilacion_en_una_exhibicion(issue):
    retiro = {"TipoPercepcion": "039", "Clave": "P039", "Concepto": "Jubilación", "ImporteGravado": "150000",
              "ImporteExento": "50000"}
    nom = nomina(Receptor={**EMPLEADO, "TipoRegimen": "03"}, Percepciones=[retiro], OtrosPagos=[],
                 Deducciones=[{**ISR, "Importe": "30000"}],
                 JubilacionPensionRetiro={"IngresoAcumulable": "15000", "IngresoNoAcumulable": "135000"})
    root = issue(data(Nomina=nom))
    assert attrs_at(root, f"{NOM}/nomina12:Percepciones/nomina12:JubilacionPensionRetiro") == {
        "TotalUnaExhibicion": "200000.00", "IngresoAcumulable": "15000.00", "IngresoNoAcumulable": "135000.00"}
    assert comprobante(root) == ("200000.00", "30000.00", "170000.00")


def test_antiguedad_in_weeks_and_short_relations(issue):
    nom = nomina()
    nom["Receptor"]["FormatoAntigüedad"] = "semanas"
    root = issue(data(Nomina=nom))
    # 2019-06-03 to 2026-11-15 counting the last day: 2723 days, 389 whole weeks.
    assert attrs_at(root, f"{NOM}/nomina12:Receptor")["Antigüedad"] == "P389W"
    assert antiguedad(date(2026, 10, 31), date(2026, 11, 15)) == "P15D"
    assert antiguedad(date(2026, 11, 15), date(2026, 11, 15)) == "P0D"
    assert antiguedad(date(2025, 11, 15), date(2026, 11, 15)) == "P1Y0D"
    assert antiguedad(date(2026, 1, 31), date(2026, 3, 1)) == "P1M1D"


def test_cfdi_relacionados_for_a_substitution(issue):
    root = issue(data(CfdiRelacionados=[{"TipoRelacion": "04",
                                         "UUIDs": ["5FB2822E-396D-4725-8521-CDC4BDD20CCF"]}]))
    assert attrs_at(root, "cfdi:CfdiRelacionados") == {"TipoRelacion": "04"}


# -- data errors name the JSON field ------------------------------------------------------------------------

def locs(d: dict) -> set[str]:
    with pytest.raises(ValidationError) as exc:
        NominaInvoice.model_validate(d)
    return {".".join(str(p) for p in e["loc"]) for e in exc.value.errors()}


def test_structure_errors_name_the_field():
    nom = nomina(Percepciones=[{**SUELDO, "ImporteGravado": "7500.005"}], Totalito="1")
    nom["Receptor"]["Antigüedad"] = "P7Y"
    got = locs(data(Nomina=nom))
    assert {"Nomina.Percepciones.0.ImporteGravado", "Nomina.Totalito", "Nomina.Receptor.Antigüedad"} <= got
    assert "Receptor.UsoCFDI" in locs(data(Receptor={**RECEPTOR, "UsoCFDI": "G03"}))
    assert "Nomina.TipoNomina" in locs(data(Nomina=nomina(TipoNomina="X")))
    assert "Nomina.Deducciones.0.Importe" in locs(data(Nomina=nomina(Deducciones=[{**IMSS, "Importe": "0"}])))
    # What timbra computes is refused if sent.
    assert "Nomina.TotalPercepciones" in locs(data(Nomina=nomina(TotalPercepciones="7500.00")))
    assert "SubTotal" in locs(data(SubTotal="7500.00"))


def build_error(d: dict, emisor: Emisor = EMISOR) -> BuildError:
    with pytest.raises(BuildError) as err:
        build_nomina(NominaInvoice.model_validate(d), emisor=emisor, fecha=NOW)
    return err.value


@pytest.mark.parametrize(("change", "path"), [
    (dict(FechaInicialPago="2026-11-16"), "Nomina.FechaInicialPago"),
    (dict(Percepciones=[], OtrosPagos=[]), "Nomina.Percepciones"),
    (dict(Percepciones=[{**SUELDO, "ImporteGravado": "0"}]), "Nomina.Percepciones[0].ImporteGravado"),
    (dict(Percepciones=[dict(SUELDO), {**SUELDO, "TipoPercepcion": "019"}]), "Nomina.Percepciones[1].HorasExtra"),
    (dict(Deducciones=[{**IMSS, "Importe": "9000"}]), "Nomina.Deducciones"),
    (dict(Deducciones=[{k: v for k, v in IMSS.items() if k != "Importe"}]), "Nomina.Deducciones[0].Importe"),
    (dict(Deducciones=[{"TipoDeduccion": "006", "Clave": "D006", "Concepto": "Incapacidad"}]),
     "Nomina.Deducciones[0].TipoDeduccion"),
    (dict(Deducciones=[{"TipoDeduccion": "006", "Clave": "D006", "Concepto": "Incapacidad", "Importe": "10"}],
          Incapacidades=[{"DiasIncapacidad": 1, "TipoIncapacidad": "02", "ImporteMonetario": "500"}]),
     "Nomina.Deducciones[0].Importe"),
    (dict(OtrosPagos=[{**SUBSIDIO_CERO, "SubsidioAlEmpleo": None}]), "Nomina.OtrosPagos[0].SubsidioAlEmpleo"),
    (dict(Percepciones=[{**SUELDO, "TipoPercepcion": "022"}]), "Nomina.SeparacionIndemnizacion"),
    (dict(SeparacionIndemnizacion={"NumAñosServicio": 1, "UltimoSueldoMensOrd": "1"}),
     "Nomina.SeparacionIndemnizacion"),
    (dict(Emisor={"Curp": "MISC491214MDFRNC01"}), "Nomina.Emisor.Curp"),
    (dict(Percepciones=[{**SUELDO, "TipoPercepcion": "044"}]), "Nomina.JubilacionPensionRetiro"),
    (dict(Percepciones=[{**SUELDO, "TipoPercepcion": "044"}],
          JubilacionPensionRetiro={"IngresoAcumulable": "1", "IngresoNoAcumulable": "0"}),
     "Nomina.JubilacionPensionRetiro.MontoDiario"),
])
def test_build_errors_name_the_field(change, path):
    assert build_error(data(Nomina=nomina(**change))).path == path


def test_build_errors_about_the_employee_and_the_emisor():
    nom = nomina()
    nom["Receptor"]["FechaInicioRelLaboral"] = "2026-11-16"
    assert build_error(data(Nomina=nom)).path == "Nomina.Receptor.FechaInicioRelLaboral"
    assert build_error(data(), emisor=FISICA).path == "Nomina.Emisor.Curp"


def test_sat_rules_still_judge_what_only_they_know(csd, certifier):
    """An ordinary payroll with the extraordinary periodicity 99: the data is well formed, NOM33 refuses it and
    its finding points at the JSON field."""
    nom = nomina()
    nom["Receptor"]["PeriodicidadPago"] = "99"
    root = build_nomina(NominaInvoice.model_validate(data(Nomina=nom)), emisor=EMISOR, fecha=NOW)
    sign_root(root, csd)
    got = certifier.validate(etree.tostring(root, xml_declaration=True, encoding="UTF-8")).findings
    assert [(f.code, f.node) for f in got] == [("NOM33", "Complemento/Nomina/Receptor@PeriodicidadPago")]
    assert [json_path(f.node) for f in got] == ["Nomina.Receptor.PeriodicidadPago"]


def test_amounts_are_exact_decimals():
    inv = NominaInvoice.model_validate(data(Nomina=nomina(Percepciones=[{**SUELDO, "ImporteGravado": 0.1}])))
    assert inv.Nomina.Percepciones[0].ImporteGravado == Decimal("0.1")


@pytest.mark.parametrize(("node", "expected"), [
    ("Complemento/Nomina/Receptor@PeriodicidadPago", "Nomina.Receptor.PeriodicidadPago"),
    ("Complemento/Nomina/Percepciones/Percepcion[2]/HorasExtra[1]@Dias", "Nomina.Percepciones[1].HorasExtra[0].Dias"),
    ("Complemento/Nomina/Deducciones/Deduccion[3]@Importe", "Nomina.Deducciones[2].Importe"),
    ("Complemento/Nomina/OtrosPagos/OtroPago[1]/SubsidioAlEmpleo@SubsidioCausado",
     "Nomina.OtrosPagos[0].SubsidioAlEmpleo.SubsidioCausado"),
    ("Complemento/Nomina/Incapacidades/Incapacidad[2]@ImporteMonetario", "Nomina.Incapacidades[1].ImporteMonetario"),
    ("Complemento/Nomina/Percepciones/JubilacionPensionRetiro@MontoDiario",
     "Nomina.JubilacionPensionRetiro.MontoDiario"),
    ("Complemento/Nomina/Receptor/SubContratacion[1]@PorcentajeTiempo",
     "Nomina.Receptor.SubContratacion[0].PorcentajeTiempo"),
    ("Complemento/Nomina/Deducciones@TotalImpuestosRetenidos", "Nomina.Deducciones"),
    ("Complemento/Nomina/Receptor@Antigüedad", "Nomina.Receptor.FechaInicioRelLaboral"),
    ("Complemento/Nomina/Emisor@Curp", "Nomina.Emisor.Curp"),
    ("Conceptos/Concepto[1]@Descuento", "Nomina"),
    ("Comprobante@Total", "Nomina"),
    ("Receptor@Rfc", "Receptor.Rfc"),
])
def test_json_path(node, expected):
    assert json_path(node) == expected
