"""Complemento Carta Porte 3.1: SAT's matrix CP101-CP999 (rules in timbra/cfdi/rules/complementos/cartaporte31.py).

Every test starts from a valid sealed CFDI with Carta Porte 3.1 (cartaporte31_builder: a Traslado or an
Ingreso, by road, sea, air or rail) and changes one thing. CP101, CP115 and CP999 are in not_applicable.py;
the l_RFC checks run with a padrón (timbra.sat.padron) that knows the documents' RFCs.
"""
from __future__ import annotations

import copy
from datetime import datetime, timezone
from pathlib import Path

import pytest
from lxml import etree

from tests.cfdi.rules.complementos.cartaporte31_builder import (
    EMISOR_RFC,
    PEDIMENTO,
    add_complement,
    carta_porte,
    cp,
    el,
    internacional,
    remove,
)
from tests.conftest import NOW
from tests.xmlhelp import node, nodes, q, setting
from timbra.cfdi.document import parse
from timbra.cfdi.rules import Context, run_rules
from timbra.cfdi.rules.complementos.cartaporte31 import NS
from timbra.sat.catalogs import Catalogs, catalogs
from timbra.sat.matrices import matrix
from timbra.sat.padron import Contribuyente, MemoryPadron
from timbra.sat.schemas import schema

SAMPLES = Path(__file__).resolve().parents[3] / "data" / "samples" / "comprobante40"
MINE = {r["codigo"] for r in matrix("cartaporte31")}

# Node paths of the findings.
P_CP = "Complemento/CartaPorte"
P_U = f"{P_CP}/Ubicaciones/Ubicacion"
P_MERCS = f"{P_CP}/Mercancias"
P_M1 = f"{P_MERCS}/Mercancia[1]"
P_AUTO = f"{P_MERCS}/Autotransporte"
P_FIG = f"{P_CP}/FiguraTransporte/TiposFigura[1]"

# XPaths for the changes.
X_CP = "cfdi:Complemento/cp:CartaPorte"
X_U1 = f"{X_CP}/cp:Ubicaciones/cp:Ubicacion[1]"
X_U2 = f"{X_CP}/cp:Ubicaciones/cp:Ubicacion[2]"
X_MERCS = f"{X_CP}/cp:Mercancias"
X_M1 = f"{X_MERCS}/cp:Mercancia[1]"
X_AUTO = f"{X_MERCS}/cp:Autotransporte"
X_SEGUROS = f"{X_AUTO}/cp:Seguros"
X_FIG1 = f"{X_CP}/cp:FiguraTransporte/cp:TiposFigura[1]"


def mine(findings_) -> list[tuple[str, str, str | None]]:
    """(code, node, value) of the Carta Porte codes only: the changes may upset CFDI 4.0 rules too."""
    return [(f.code, f.node, f.value) for f in findings_ if f.code in MINE]


def only(code: str, got: list[tuple[str, str, str | None]]) -> list[tuple[str, str, str | None]]:
    return [g for g in got if g[0] == code]


def schema_valid(got):
    """The findings, after making sure the document passed the schema: with a 301 the rules do not run and
    an empty answer would prove nothing."""
    assert [f for f in got if f.code == "301"] == []
    return got


@pytest.fixture
def run(make_xml, findings):
    """run(*changes, kind="T", mode="auto") -> (code, node, value) of this matrix's findings."""

    def go(*changes, kind: str = "T", mode: str = "auto"):
        return mine(schema_valid(findings(make_xml(carta_porte(kind, mode, *changes)))))

    return go


@pytest.fixture
def details(make_xml, findings):
    """details(*changes, ...) -> the full findings of this matrix (to look at expected and detail)."""

    def go(*changes, kind: str = "T", mode: str = "auto"):
        return [f for f in schema_valid(findings(make_xml(carta_porte(kind, mode, *changes)))) if f.code in MINE]

    return go


def catalogs_with(table: str, columns: list[str], rows: list[list[str]]) -> Catalogs:
    """SAT's catalogs plus one table timbra's data lacks (c_Colonia, c_ClaveProdServCP's columns)."""
    base = catalogs()
    tables = {**base._tables_raw, table: {"columns": columns, "rows": rows}}
    return Catalogs({"version": base.version, "enumerations": base._enums_raw, "bindings": base.bindings,
                     "tables": tables})


def rule_findings(xml: bytes, cats: Catalogs) -> list[tuple[str, str, str | None]]:
    """The rules alone, with other catalogs (the document still has to pass SAT's schema)."""
    doc = parse(xml)
    assert schema("4.0").validate(doc.tree), schema("4.0").error_log
    return mine(run_rules(Context(doc=doc, catalogs=cats, now=NOW)))


# The RFCs of the valid documents: emisor (and receptor of a Traslado), receptor of the Ingreso, operador.
RFCS = ("EKU9003173C9", "URE180429TM6", "VAAM130719H60")


def padron_findings(xml: bytes, *, known: tuple[str, ...] = RFCS, permissive: bool = False):
    """The rules with a padrón (SAT's l_RFC) that knows `known`: strict by default, so any other RFC is
    not inscrito."""
    padron = MemoryPadron(permissive=permissive)
    for rfc in known:
        padron.register(Contribuyente(rfc, f"CONTRIBUYENTE {rfc}"))
    doc = parse(xml)
    assert schema("4.0").validate(doc.tree), schema("4.0").error_log
    return mine(run_rules(Context(doc=doc, catalogs=catalogs(), now=NOW, padron=padron)))


def chg(fn):
    """A change from a function of the CartaPorte element."""
    return lambda root: fn(cp(root))


# ======================================================================================================
# The valid documents
# ======================================================================================================

@pytest.mark.parametrize("kind", ["T", "I"])
@pytest.mark.parametrize("mode", ["auto", "maritimo", "aereo", "ferroviario"])
def test_valid_documents_have_no_finding_at_all(make_xml, findings, kind, mode):
    assert findings(make_xml(carta_porte(kind, mode))) == []


@pytest.mark.parametrize("sentido", ["Entrada", "Salida"])
def test_valid_international_moves_have_no_finding(make_xml, findings, sentido):
    assert findings(make_xml(carta_porte("T", "auto", internacional(sentido)))) == []


def test_builder_makes_what_it_says(make_xml):
    root = etree.fromstring(make_xml(carta_porte("T", "auto"), seal=False))
    c = cp(root)
    assert root.get("TipoDeComprobante") == "T" and c.get("Version") == "3.1"
    assert [u.get("TipoUbicacion") for u in nodes(root, f"{X_CP}/cp:Ubicaciones/cp:Ubicacion")] == [
        "Origen", "Destino"]
    assert node(root, "cfdi:Receptor").get("Rfc") == EMISOR_RFC


@pytest.mark.parametrize("sample", sorted(p.name for p in SAMPLES.glob("*.xml")), ids=str)
def test_sat_samples_get_no_carta_porte_31_finding(sample):
    # The samples are Carta Porte 2.0 (CartaPorte20 namespace) or carry no Carta Porte: the 3.1 rules
    # must leave them alone. They are sealed with old certificates, so only the rules run, at their Fecha.
    doc = parse((SAMPLES / sample).read_bytes())
    now = datetime.fromisoformat(doc.get("Fecha")).replace(tzinfo=timezone.utc)
    assert mine(run_rules(Context(doc=doc, catalogs=catalogs(), now=now))) == []


def test_a_plain_invoice_pays_nothing(make_xml, findings):
    assert mine(findings(make_xml())) == []


# ======================================================================================================
# Comprobante: CP102-CP114
# ======================================================================================================

def test_cp102_traslado_subtotal_not_zero(run):
    assert only("CP102", run(setting(".", SubTotal="10"))) == [("CP102", "Comprobante@SubTotal", "10")]
    assert only("CP102", run(setting(".", SubTotal="0.00"))) == []


def test_cp103_traslado_moneda_not_xxx(run):
    assert only("CP103", run(setting(".", Moneda="MXN"))) == [("CP103", "Comprobante@Moneda", "MXN")]


def test_cp104_ingreso_moneda_xxx(run):
    assert only("CP104", run(setting(".", Moneda="XXX"), kind="I")) == [("CP104", "Comprobante@Moneda", "XXX")]
    assert only("CP104", run(kind="I")) == []


def test_cp105_traslado_total_not_zero(run):
    assert only("CP105", run(setting(".", Total="5.00"))) == [("CP105", "Comprobante@Total", "5.00")]


def test_cp106_objeto_imp_outside_01_to_05(run):
    got = run(setting("cfdi:Conceptos/cfdi:Concepto", ObjetoImp="06"))
    assert only("CP106", got) == [("CP106", "Conceptos/Concepto[1]@ObjetoImp", "06")]
    assert only("CP106", run(setting("cfdi:Conceptos/cfdi:Concepto", ObjetoImp="01"))) == []


def test_cp107_traslado_receptor_is_not_the_emisor(run, details):
    change = setting("cfdi:Receptor", Rfc="URE180429TM6", Nombre="UNIVERSIDAD ROBOTICA ESPAÑOLA",
                       DomicilioFiscalReceptor="86991")
    assert only("CP107", run(change)) == [("CP107", "Receptor@Rfc", "URE180429TM6")]
    assert [f.expected for f in details(change) if f.code == "CP107"] == [EMISOR_RFC]


def test_cp108_ingreso_receptor_not_in_l_rfc(make_xml):
    xml = make_xml(carta_porte("I", "auto"))
    assert padron_findings(xml) == []
    assert padron_findings(xml, known=("EKU9003173C9", "VAAM130719H60")) == [
        ("CP108", "Receptor@Rfc", "URE180429TM6"), ("CP132", f"{P_U}[2]@RFCRemitenteDestinatario", "URE180429TM6")]
    # A permissive padrón skips the RFCs it does not know; so does a document checked without a padrón.
    assert padron_findings(xml, known=(), permissive=True) == []


def test_cp109_ingreso_without_a_transport_service_key(run, details):
    change = setting("cfdi:Conceptos/cfdi:Concepto", ClaveProdServ="43232408")
    assert only("CP109", run(change, kind="I")) == [
        ("CP109", "Conceptos/Concepto[1]@ClaveProdServ", "43232408, 84111506, 81111500")]
    assert "78101800" in details(change, kind="I")[0].expected
    # Any concepto with a service key is enough: here the third one.
    third = setting("cfdi:Conceptos/cfdi:Concepto[3]", ClaveProdServ="78141500")
    assert only("CP109", run(change, third, kind="I")) == []


def test_cp110_intermodal_key_with_one_transport(run):
    change = setting("cfdi:Conceptos/cfdi:Concepto", ClaveProdServ="78101900")
    assert only("CP110", run(change, kind="I")) == [("CP110", "Conceptos/Concepto[1]@ClaveProdServ", "78101900")]
    aereo = chg(lambda c: c.find(f"{{{NS}}}Mercancias").append(
        el("TransporteAereo", PermSCT="TPTA01", NumPermisoSCT="P-1", NumeroGuia="GUIA00000001",
           CodigoTransportista="CA001", RFCEmbarcador=EMISOR_RFC)))
    assert only("CP110", run(change, aereo, kind="I")) == []


def test_cp111_traslado_uso_cfdi_not_s01(run):
    assert only("CP111", run(setting("cfdi:Receptor", UsoCFDI="G03"))) == [("CP111", "Receptor@UsoCFDI", "G03")]


def test_cp112_carta_porte_outside_complemento(run):
    def in_concepto(root):
        concepto = node(root, "cfdi:Conceptos/cfdi:Concepto")
        etree.SubElement(concepto, q("ComplementoConcepto")).append(copy.deepcopy(cp(root)))

    assert only("CP112", run(in_concepto)) == [
        ("CP112", "Conceptos/Concepto[1]/ComplementoConcepto/CartaPorte", None)]


def test_cp112_a_copy_in_the_addenda_is_not_part_of_the_cfdi(run):
    def in_addenda(root):
        etree.SubElement(root, q("Addenda")).append(copy.deepcopy(cp(root)))

    assert run(in_addenda) == []


def test_cp112_two_carta_porte(run):
    twice = lambda root: add_complement(root, copy.deepcopy(cp(root)))  # noqa: E731
    assert only("CP112", run(twice)) == [("CP112", P_CP, "2")]
    assert only("CP112", run()) == []


def test_cp113_complement_that_cannot_go_with_carta_porte(run):
    divisas = "http://www.sat.gob.mx/divisas"
    add = lambda root: add_complement(root, etree.Element(  # noqa: E731
        f"{{{divisas}}}Divisas", {"version": "1.0", "tipoOperacion": "venta"}, nsmap={"divisas": divisas}))
    assert run(add) == [("CP113", "Complemento/Divisas", divisas)]


def test_cp113_leyendas_fiscales_may_go_with_carta_porte(run):
    ns = "http://www.sat.gob.mx/leyendasFiscales"

    def add(root):
        leyendas = etree.Element(f"{{{ns}}}LeyendasFiscales", version="1.0", nsmap={"leyendasFisc": ns})
        etree.SubElement(leyendas, f"{{{ns}}}Leyenda", textoLeyenda="Mercancía en tránsito")
        add_complement(root, leyendas)

    assert run(add) == []


def test_cp114_carta_porte_on_an_egreso(run):
    assert only("CP114", run(setting(".", TipoDeComprobante="E"), kind="I")) == [
        ("CP114", "Comprobante@TipoDeComprobante", "E")]


# ======================================================================================================
# CartaPorte: CP116-CP127, CP169
# ======================================================================================================

def test_cp116_regimenes_aduaneros_missing_in_an_international_move(run):
    assert only("CP116", run(internacional(), remove(f"{X_CP}/cp:RegimenesAduaneros"))) == [
        ("CP116", f"{P_CP}/RegimenesAduaneros", None)]


def test_cp116_regimenes_aduaneros_in_a_national_move(run):
    change = chg(lambda c: c.insert(0, el("RegimenesAduaneros", [el("RegimenAduaneroCCP", RegimenAduanero="IMD")])))
    assert only("CP116", run(change)) == [("CP116", f"{P_CP}/RegimenesAduaneros", "No")]


def test_cp117_regimen_aduanero_without_entrada_salida(run):
    # CP119 reports the missing attribute too; the customs documents, whose rules depend on the direction,
    # are left alone.
    assert run(internacional(), setting(X_CP, EntradaSalidaMerc=None)) == [
        ("CP117", f"{P_CP}/RegimenesAduaneros/RegimenAduaneroCCP[1]@RegimenAduanero", "IMD"),
        ("CP119", f"{P_CP}@EntradaSalidaMerc", None)]


def test_cp117_regimen_aduanero_not_in_catalog(run):
    got = run(internacional(), setting(f"{X_CP}/cp:RegimenesAduaneros/cp:RegimenAduaneroCCP",
                                         RegimenAduanero="XYZ"))
    assert got == [("CP117", f"{P_CP}/RegimenesAduaneros/RegimenAduaneroCCP[1]@RegimenAduanero", "XYZ")]


def test_cp118_entrada_with_an_export_regime(run):
    path = f"{X_CP}/cp:RegimenesAduaneros/cp:RegimenAduaneroCCP"
    assert run(internacional("Entrada"), setting(path, RegimenAduanero="EXD")) == [
        ("CP118", f"{P_CP}/RegimenesAduaneros/RegimenAduaneroCCP[1]@RegimenAduanero", "EXD")]
    assert run(internacional("Entrada"), setting(path, RegimenAduanero="DFI")) == []  # Salida,Entrada


def test_cp169_salida_with_an_import_regime(run):
    path = f"{X_CP}/cp:RegimenesAduaneros/cp:RegimenAduaneroCCP"
    assert run(internacional("Salida"), setting(path, RegimenAduanero="ITR")) == [
        ("CP169", f"{P_CP}/RegimenesAduaneros/RegimenAduaneroCCP[1]@RegimenAduanero", "ITR")]
    assert run(internacional("Salida"), setting(path, RegimenAduanero="TRA")) == []


def test_cp119_international_without_entrada_salida(run):
    assert only("CP119", run(internacional(), setting(X_CP, EntradaSalidaMerc=None))) == [
        ("CP119", f"{P_CP}@EntradaSalidaMerc", None)]


def test_cp120_national_with_entrada_salida(run):
    assert run(setting(X_CP, EntradaSalidaMerc="Salida")) == [("CP120", f"{P_CP}@EntradaSalidaMerc", "Salida")]


def test_cp121_international_without_or_with_a_bad_pais(run):
    assert run(internacional(), setting(X_CP, PaisOrigenDestino=None)) == [
        ("CP121", f"{P_CP}@PaisOrigenDestino", None)]
    assert run(internacional(), setting(X_CP, PaisOrigenDestino="XYZ")) == [
        ("CP121", f"{P_CP}@PaisOrigenDestino", "XYZ")]


def test_cp122_national_with_pais(run):
    assert run(setting(X_CP, PaisOrigenDestino="USA")) == [("CP122", f"{P_CP}@PaisOrigenDestino", "USA")]


def test_cp123_via_entrada_salida_missing_unknown_or_not_a_transport_of_the_move(run):
    assert run(internacional(), setting(X_CP, ViaEntradaSalida=None)) == [
        ("CP123", f"{P_CP}@ViaEntradaSalida", None)]
    assert run(internacional(), setting(X_CP, ViaEntradaSalida="09")) == [
        ("CP123", f"{P_CP}@ViaEntradaSalida", "09")]
    assert run(internacional(), setting(X_CP, ViaEntradaSalida="03")) == [
        ("CP123", f"{P_CP}@ViaEntradaSalida", "03")]  # by air, and the move is by road


def test_cp124_national_with_via(run):
    assert run(setting(X_CP, ViaEntradaSalida="01")) == [("CP124", f"{P_CP}@ViaEntradaSalida", "01")]


def test_cp125_total_dist_rec_missing_by_road_or_present_by_sea(run):
    assert run(setting(X_CP, TotalDistRec=None)) == [("CP125", f"{P_CP}@TotalDistRec", None)]
    assert run(setting(X_CP, TotalDistRec="100"), mode="maritimo") == [("CP125", f"{P_CP}@TotalDistRec", "100")]


def test_cp126_total_dist_rec_is_not_the_sum(run, details):
    assert run(setting(X_CP, TotalDistRec="300")) == [("CP126", f"{P_CP}@TotalDistRec", "300")]
    assert [f.expected for f in details(setting(X_CP, TotalDistRec="300"))] == ["220.5"]
    assert run(setting(X_CP, TotalDistRec="220.50")) == []
    assert run(mode="ferroviario") == []  # five destinos of 100


def test_cp127_registro_istmo_and_its_polos(run):
    assert run(setting(X_CP, RegistroISTMO="Sí")) == [
        ("CP127", f"{P_CP}@UbicacionPoloOrigen", None), ("CP127", f"{P_CP}@UbicacionPoloDestino", None)]
    assert run(setting(X_CP, UbicacionPoloOrigen="01")) == [("CP127", f"{P_CP}@UbicacionPoloOrigen", "01")]
    assert run(setting(X_CP, RegistroISTMO="Sí", UbicacionPoloOrigen="01", UbicacionPoloDestino="03")) == []


# ======================================================================================================
# Ubicaciones: CP128-CP147
# ======================================================================================================

def test_cp128_rail_without_origen(run):
    got = run(setting(X_U1, TipoUbicacion="Destino", IDUbicacion="DE000009", DistanciaRecorrida="1"),
              setting(f"{X_M1}/cp:CantidadTransporta", IDOrigen="OR000009"), mode="ferroviario")
    assert only("CP128", got) == [("CP128", f"{P_CP}/Ubicaciones", "0")]


def test_cp129_rail_with_fewer_than_five_destinos(run):
    got = run(remove(f"{X_CP}/cp:Ubicaciones/cp:Ubicacion[6]"), setting(X_CP, TotalDistRec="400"),
              mode="ferroviario")
    assert got == [("CP129", f"{P_CP}/Ubicaciones", "4")]


def test_cp130_road_without_destino(run):
    got = run(setting(X_U2, TipoUbicacion="Origen", IDUbicacion="OR000002", DistanciaRecorrida=None))
    assert only("CP130", got) == [("CP130", f"{P_CP}/Ubicaciones", "Origen: 2, Destino: 0")]


def test_cp131_id_ubicacion_missing_with_cantidad_transporta(run):
    got = run(setting(X_U1, IDUbicacion=None))
    assert only("CP131", got) == [("CP131", f"{P_U}[1]@IDUbicacion", None)]
    # Without CantidadTransporta IDUbicacion may be left out.
    assert run(setting(X_U1, IDUbicacion=None), remove(f"{X_M1}/cp:CantidadTransporta")) == []


def test_cp132_remitente_destinatario_not_in_l_rfc(make_xml):
    assert padron_findings(make_xml(carta_porte("T", "auto")), known=("EKU9003173C9", "VAAM130719H60")) == [
        ("CP132", f"{P_U}[2]@RFCRemitenteDestinatario", "URE180429TM6")]
    generico = setting(X_U2, RFCRemitenteDestinatario="XAXX010101000")
    assert padron_findings(make_xml(carta_porte("T", "auto", generico))) == []


def test_cp133_num_reg_id_trib_and_the_foreign_generic_rfc(run):
    assert run(setting(X_U2, RFCRemitenteDestinatario="XEXX010101000")) == [
        ("CP133", f"{P_U}[2]@NumRegIdTrib", None)]
    assert only("CP133", run(setting(X_U2, NumRegIdTrib="123456789", ResidenciaFiscal="USA"))) == [
        ("CP133", f"{P_U}[2]@NumRegIdTrib", "123456789")]
    assert run(setting(X_U2, RFCRemitenteDestinatario="XEXX010101000", NumRegIdTrib="123456789",
                         ResidenciaFiscal="USA")) == []


def test_cp134_residencia_fiscal(run):
    extranjero = setting(X_U2, RFCRemitenteDestinatario="XEXX010101000", NumRegIdTrib="123456789")
    assert run(extranjero) == [("CP134", f"{P_U}[2]@ResidenciaFiscal", None)]
    assert run(extranjero, setting(X_U2, ResidenciaFiscal="MEX")) == [("CP134", f"{P_U}[2]@ResidenciaFiscal", "MEX")]
    assert run(extranjero, setting(X_U2, ResidenciaFiscal="XYZ")) == [("CP134", f"{P_U}[2]@ResidenciaFiscal", "XYZ")]
    assert run(setting(X_U2, ResidenciaFiscal="USA")) == [("CP134", f"{P_U}[2]@ResidenciaFiscal", "USA")]


def test_cp135_station_by_road(run):
    assert run(setting(X_U1, NumEstacion="PM011", NombreEstacion="Puertecitos")) == [
        ("CP135", f"{P_U}[1]@NumEstacion", "PM011")]


def test_cp136_station_of_another_transport_or_unknown(run, details):
    change = setting(X_U1, NumEstacion="EA0411", NombreEstacion="Licenciado Jesus Teran Peredo")
    assert run(change, mode="maritimo") == [("CP136", f"{P_U}[1]@NumEstacion", "EA0411")]
    assert [f.expected for f in details(change, mode="maritimo")] == ["02"]
    assert run(change, mode="aereo") == []
    assert run(setting(X_U1, NumEstacion="ZZ999"), mode="maritimo") == [
        ("CP136", f"{P_U}[1]@NumEstacion", "ZZ999")]


def test_cp137_nombre_estacion(run, details):
    assert run(setting(X_U1, NombreEstacion="Ensenada"), mode="maritimo") == [
        ("CP137", f"{P_U}[1]@NombreEstacion", "Ensenada")]
    assert [f.expected for f in details(setting(X_U1, NombreEstacion="Ensenada"), mode="maritimo")] == [
        "Puertecitos"]
    assert run(setting(X_U1, NombreEstacion=None), mode="maritimo") == [("CP137", f"{P_U}[1]@NombreEstacion", None)]
    assert run(setting(X_U1, NombreEstacion="Puertecitos")) == [("CP137", f"{P_U}[1]@NombreEstacion", "Puertecitos")]
    assert run(setting(X_U1, NombreEstacion="PUERTECITOS"), mode="maritimo") == []


def test_cp138_foreign_station_named_extranjera(run):
    foreign = setting(X_U1, NumEstacion="PM120", TipoEstacion=None)
    assert run(foreign, setting(X_U1, NombreEstacion="Extranjera"), mode="maritimo") == [
        ("CP138", f"{P_U}[1]@NombreEstacion", "Extranjera")]
    assert run(foreign, setting(X_U1, NombreEstacion="Port of Long Beach"), mode="maritimo") == []


def test_cp139_navegacion_trafico(run):
    assert run(setting(X_U1, NavegacionTrafico=None), mode="maritimo") == [
        ("CP139", f"{P_U}[1]@NavegacionTrafico", None)]
    assert run(setting(X_U1, NavegacionTrafico="Altura")) == [("CP139", f"{P_U}[1]@NavegacionTrafico", "Altura")]


def test_cp140_tipo_estacion(run):
    assert run(setting(X_U1, TipoEstacion=None), mode="aereo") == [("CP140", f"{P_U}[1]@TipoEstacion", None)]
    assert run(setting(X_U1, TipoEstacion="01")) == [("CP140", f"{P_U}[1]@TipoEstacion", "01")]
    assert run(setting(X_U1, TipoEstacion="09"), mode="aereo") == [("CP140", f"{P_U}[1]@TipoEstacion", "09")]
    # A foreign airport (Frankfurt) has no Mexican TipoEstacion.
    frankfurt = setting(X_U1, NumEstacion="EA0004", NombreEstacion="Rhein-Main")
    assert run(frankfurt, mode="aereo") == [("CP140", f"{P_U}[1]@TipoEstacion", "01")]
    assert run(frankfurt, setting(X_U1, TipoEstacion=None), mode="aereo") == []


def test_cp141_distancia_recorrida(run):
    assert only("CP141", run(setting(X_U2, DistanciaRecorrida=None))) == [
        ("CP141", f"{P_U}[2]@DistanciaRecorrida", None)]
    assert run(setting(X_U1, DistanciaRecorrida="10")) == [("CP141", f"{P_U}[1]@DistanciaRecorrida", "10")]
    assert run(setting(X_U2, DistanciaRecorrida="10"), mode="aereo") == [
        ("CP141", f"{P_U}[2]@DistanciaRecorrida", "10")]


def test_cp142_domicilio(run):
    assert run(remove(f"{X_U1}/cp:Domicilio")) == [("CP142", f"{P_U}[1]/Domicilio", None)]
    intermedia = setting(X_U2, TipoEstacion="02")
    assert run(intermedia, mode="ferroviario") == [("CP142", f"{P_U}[2]/Domicilio", None)]
    assert run(intermedia, remove(f"{X_U2}/cp:Domicilio"), mode="ferroviario") == []


def test_cp143_colonia_against_c_colonia(make_xml):
    # timbra's data has no c_Colonia yet (SOURCES.md): with the table, the rule checks it.
    cats = catalogs_with("ccp_31_colonias", ["colonia", "codigo_postal", "texto"], [["0001", "06000", "Centro"]])
    assert rule_findings(make_xml(carta_porte("T", "auto", setting(f"{X_U1}/cp:Domicilio", Colonia="0001"))),
                         cats) == []
    assert rule_findings(make_xml(carta_porte("T", "auto", setting(f"{X_U1}/cp:Domicilio", Colonia="0002"))),
                         cats) == [("CP143", f"{P_U}[1]/Domicilio@Colonia", "0002")]


def test_cp143_free_colonia_outside_mexico_and_without_the_catalog(run, make_xml):
    assert run(setting(f"{X_U1}/cp:Domicilio", Colonia="Centro")) == []  # no c_Colonia data
    cats = catalogs_with("ccp_31_colonias", ["colonia", "codigo_postal", "texto"], [["0001", "06000", "Centro"]])
    usa = setting(f"{X_U2}/cp:Domicilio", Pais="USA", Estado="TX", CodigoPostal="77001", Municipio="Houston",
                    Localidad="Houston", Colonia="Downtown")
    assert rule_findings(make_xml(carta_porte("T", "auto", usa)), cats) == []


def test_cp144_localidad(run):
    assert run(setting(f"{X_U1}/cp:Domicilio", Localidad="99")) == [
        ("CP144", f"{P_U}[1]/Domicilio@Localidad", "99")]


def test_cp145_municipio(run):
    assert run(setting(f"{X_U1}/cp:Domicilio", Municipio="099")) == [
        ("CP145", f"{P_U}[1]/Domicilio@Municipio", "099")]
    # 001 exists, but in Querétaro it is Amealco: the postal code 76000 is Querétaro's 014.
    assert run(setting(f"{X_U2}/cp:Domicilio", Municipio="001")) == [
        ("CP147", f"{P_U}[2]/Domicilio@CodigoPostal", "76000")]


def test_cp146_estado(run):
    assert run(setting(f"{X_U1}/cp:Domicilio", Estado="XXX")) == [("CP146", f"{P_U}[1]/Domicilio@Estado", "XXX")]
    assert run(setting(f"{X_U1}/cp:Domicilio", Pais="USA", Estado="CMX", CodigoPostal="77001")) == [
        ("CP146", f"{P_U}[1]/Domicilio@Estado", "CMX")]
    assert run(setting(f"{X_U1}/cp:Domicilio", Pais="DEU", Estado="Hessen", CodigoPostal="60311",
                         Municipio="Frankfurt", Localidad="Frankfurt")) == []


def test_cp147_codigo_postal(run, details):
    assert run(setting(f"{X_U1}/cp:Domicilio", CodigoPostal="1234")) == [
        ("CP147", f"{P_U}[1]/Domicilio@CodigoPostal", "1234")]
    change = setting(f"{X_U1}/cp:Domicilio", CodigoPostal="76000")
    assert run(change) == [("CP147", f"{P_U}[1]/Domicilio@CodigoPostal", "76000")]
    assert [f.expected for f in details(change)] == ["Estado QUE"]


# ======================================================================================================
# Mercancias: CP148-CP181
# ======================================================================================================

def test_cp148_no_transport(run):
    got = run(remove(X_AUTO), remove(f"{X_CP}/cp:FiguraTransporte"))
    assert only("CP148", got) == [("CP148", P_MERCS, None)]


def test_cp149_peso_bruto_total_is_not_the_sum_of_peso_en_kg(run, details):
    assert run(setting(X_MERCS, PesoBrutoTotal="1000")) == [("CP149", f"{P_MERCS}@PesoBrutoTotal", "1000")]
    assert [f.expected for f in details(setting(X_MERCS, PesoBrutoTotal="1000"))] == ["1500.000"]
    assert run(setting(X_MERCS, PesoBrutoTotal="1500")) == []


def test_cp150_peso_bruto_total_by_sea(run):
    assert run(setting(X_MERCS, PesoBrutoTotal="999.000"), mode="maritimo") == [
        ("CP150", f"{P_MERCS}@PesoBrutoTotal", "999.000")]


def test_cp151_peso_neto_total_by_sea(run):
    assert run(setting(X_MERCS, PesoNetoTotal=None), mode="maritimo") == [
        ("CP151", f"{P_MERCS}@PesoNetoTotal", None)]
    assert run(setting(X_MERCS, PesoNetoTotal="1500.000"), mode="maritimo") == [
        ("CP151", f"{P_MERCS}@PesoNetoTotal", "1500.000")]


def test_cp152_peso_neto_total_by_rail(run, details):
    assert run(setting(X_MERCS, PesoNetoTotal="2.000"), mode="ferroviario") == [
        ("CP152", f"{P_MERCS}@PesoNetoTotal", "2.000")]
    assert [f.expected for f in details(setting(X_MERCS, PesoNetoTotal="2.000"), mode="ferroviario")] == ["1.500"]


def test_cp153_logistica_inversa_only_by_road(run):
    assert run(setting(X_MERCS, LogisticaInversaRecoleccionDevolucion="Sí"), mode="aereo") == [
        ("CP153", f"{P_MERCS}@LogisticaInversaRecoleccionDevolucion", "Sí")]
    assert run(setting(X_MERCS, LogisticaInversaRecoleccionDevolucion="Sí")) == []


def test_cp154_num_total_mercancias(run):
    assert run(setting(X_MERCS, NumTotalMercancias="2")) == [("CP154", f"{P_MERCS}@NumTotalMercancias", "2")]


PRODUCTOS_COLUMNS = ["id", "texto", "similares", "material_peligroso", "vigencia_desde", "vigencia_hasta"]


@pytest.mark.parametrize(("columna", "material", "expected"), [
    ("0,1", None, [("CP155", f"{P_M1}@MaterialPeligroso", None)]),
    ("1", None, [("CP155", f"{P_M1}@MaterialPeligroso", None)]),
    ("0", "No", [("CP155", f"{P_M1}@MaterialPeligroso", "No")]),
    ("0", None, []),
    ("0,1", "No", []),
])
def test_cp155_material_peligroso_against_c_clave_prod_serv_cp(make_xml, columna, material, expected):
    # timbra's data lacks c_ClaveProdServCP's columns (SOURCES.md): with the table, the rule checks them.
    cats = catalogs_with("ccp_31_productos_servicios", PRODUCTOS_COLUMNS,
                         [["43211507", "Computadores de escritorio", "", columna, "2024-07-17", ""]])
    xml = make_xml(carta_porte("T", "auto", setting(X_M1, MaterialPeligroso=material)))
    assert rule_findings(xml, cats) == expected


PELIGROSO = setting(X_M1, MaterialPeligroso="Sí", CveMaterialPeligroso="1005", Embalaje="4H2")
SEGURO_AMBIENTAL = setting(X_SEGUROS, AseguraMedAmbiente="SEGUROS VERDES", PolizaMedAmbiente="AMB-123")


def test_hazardous_material_by_road_is_valid_with_its_insurance(run):
    assert run(PELIGROSO, SEGURO_AMBIENTAL) == []


def test_cp156_cve_material_peligroso(run):
    assert run(PELIGROSO, SEGURO_AMBIENTAL, setting(X_M1, CveMaterialPeligroso=None, Embalaje=None)) == [
        ("CP156", f"{P_M1}@CveMaterialPeligroso", None)]
    assert only("CP156", run(setting(X_M1, MaterialPeligroso="No", CveMaterialPeligroso="1005", Embalaje="4H2"))) == [
        ("CP156", f"{P_M1}@CveMaterialPeligroso", "1005")]
    assert run(PELIGROSO, SEGURO_AMBIENTAL, setting(X_M1, CveMaterialPeligroso="XXXX")) == [
        ("CP156", f"{P_M1}@CveMaterialPeligroso", "XXXX")]


def test_cp157_embalaje(run):
    assert run(PELIGROSO, SEGURO_AMBIENTAL, setting(X_M1, Embalaje=None)) == [("CP157", f"{P_M1}@Embalaje", None)]
    assert run(setting(X_M1, Embalaje="4H2")) == [("CP157", f"{P_M1}@Embalaje", "4H2")]
    assert run(PELIGROSO, SEGURO_AMBIENTAL, setting(X_M1, Embalaje="ZZZ")) == [("CP157", f"{P_M1}@Embalaje", "ZZZ")]


def test_cp158_sector_cofepris_not_in_catalog(run):
    assert run(setting(X_M1, SectorCOFEPRIS="09")) == [("CP158", f"{P_M1}@SectorCOFEPRIS", "09")]


MEDICAMENTO = {"DenominacionGenericaProd": "Paracetamol", "DenominacionDistintivaProd": "Dolofin",
               "Fabricante": "Laboratorios SA", "FechaCaducidad": "2027-12-31", "LoteMedicamento": "L123",
               "FormaFarmaceutica": "01", "CondicionesEspTransp": "04",
               "RegistroSanitarioFolioAutorizacion": "123M2020"}
SECTORES = {
    "01": ("CP159", MEDICAMENTO),
    "02": ("CP160", {"NombreIngredienteActivo": "Efedrina", "NomQuimico": "Efedrina", "Fabricante": "Químicos SA",
                     "FechaCaducidad": "2027-12-31", "LoteMedicamento": "L123", "FormaFarmaceutica": "01",
                     "CondicionesEspTransp": "04"}),
    "03": ("CP161", MEDICAMENTO),
    "04": ("CP162", {"NomQuimico": "Cianuro de sodio", "NumCAS": "143-33-9"}),
    "05": ("CP163", {"NombreIngredienteActivo": "Glifosato", "NumRegSanPlagCOFEPRIS": "RSCO-123",
                     "DatosFabricante": "Agro SA", "DatosFormulador": "Formula SA", "DatosMaquilador": "Maquila SA",
                     "UsoAutorizado": "Agrícola"}),
}


@pytest.mark.parametrize("sector", sorted(SECTORES))
def test_cp159_to_cp163_each_sector_requires_its_attributes(run, sector):
    code, attrs = SECTORES[sector]
    assert run(setting(X_M1, SectorCOFEPRIS=sector, **attrs)) == []
    missing = sorted(attrs)[0]
    assert run(setting(X_M1, SectorCOFEPRIS=sector, **{**attrs, missing: None})) == [
        (code, f"{P_M1}@{missing}", None)]
    assert run(setting(X_M1, SectorCOFEPRIS=sector)) == [(code, f"{P_M1}@{a}", None) for a in attrs]


def test_cp164_to_cp166_import_data_of_a_cofepris_sector(run):
    toxica = setting(X_M1, SectorCOFEPRIS="04", **SECTORES["04"][1])
    assert run(internacional("Entrada"), toxica) == [("CP165", f"{P_M1}@FolioImpoVUCEM", None),
                                                     ("CP166", f"{P_M1}@RazonSocialEmpImp", None)]
    complete = setting(X_M1, FolioImpoVUCEM="VUCEM123", RazonSocialEmpImp="IMPORTADORA SA")
    assert run(internacional("Entrada"), toxica, complete) == []
    assert run(internacional("Entrada"), toxica, complete, setting(X_M1, PermisoImportacion="P123")) == [
        ("CP164", f"{P_M1}@PermisoImportacion", "P123")]
    medicamento = setting(X_M1, SectorCOFEPRIS="01", **MEDICAMENTO)
    assert run(internacional("Entrada"), medicamento) == [("CP164", f"{P_M1}@PermisoImportacion", None),
                                                          ("CP165", f"{P_M1}@FolioImpoVUCEM", None)]
    assert run(internacional("Salida"), medicamento) == []
    assert run(toxica, complete) == [("CP165", f"{P_M1}@FolioImpoVUCEM", "VUCEM123"),
                                     ("CP166", f"{P_M1}@RazonSocialEmpImp", "IMPORTADORA SA")]


def test_cp167_valor_mercancia_by_air(run):
    assert run(setting(X_M1, ValorMercancia=None, Moneda=None), mode="aereo") == [
        ("CP167", f"{P_M1}@ValorMercancia", None)]


def test_cp168_moneda_of_valor_mercancia(run):
    assert run(setting(X_M1, ValorMercancia="100.00")) == [("CP168", f"{P_M1}@Moneda", None)]
    assert run(setting(X_M1, Moneda="MXN")) == [("CP168", f"{P_M1}@Moneda", "MXN")]
    assert run(setting(X_M1, ValorMercancia="100.00", Moneda="USD")) == []


def test_cp170_tipo_materia(run):
    assert run(internacional(), setting(X_M1, TipoMateria=None)) == [("CP170", f"{P_M1}@TipoMateria", None)]
    assert run(setting(X_M1, TipoMateria="01")) == [("CP170", f"{P_M1}@TipoMateria", "01")]
    assert run(internacional(), setting(X_M1, TipoMateria="09")) == [("CP170", f"{P_M1}@TipoMateria", "09")]


def test_cp171_descripcion_materia(run):
    assert run(internacional(), setting(X_M1, TipoMateria="05")) == [("CP171", f"{P_M1}@DescripcionMateria", None)]
    assert run(internacional(), setting(X_M1, DescripcionMateria="Chatarra")) == [
        ("CP171", f"{P_M1}@DescripcionMateria", "Chatarra")]
    assert run(internacional(), setting(X_M1, TipoMateria="05", DescripcionMateria="Chatarra")) == []


X_DOC = f"{X_M1}/cp:DocumentacionAduanera"
P_DOC = f"{P_M1}/DocumentacionAduanera[1]"


def test_cp172_documentacion_aduanera(run):
    # a missing node has no index in its path
    assert run(internacional("Entrada"), remove(X_DOC)) == [("CP172", f"{P_M1}/DocumentacionAduanera", None)]
    national = chg(lambda c: c.find(f"{{{NS}}}Mercancias/{{{NS}}}Mercancia").insert(
        0, el("DocumentacionAduanera", TipoDocumento="01", NumPedimento=PEDIMENTO, RFCImpo=EMISOR_RFC)))
    assert run(national) == [("CP172", P_DOC, "No")]  # its NumPedimento is not reported again (CP174)
    assert run(internacional("Salida")) == []  # may be left out on the way out


def test_cp173_pedimento_on_the_way_out(run):
    pedimento = chg(lambda c: c.find(f"{{{NS}}}Mercancias/{{{NS}}}Mercancia").insert(
        0, el("DocumentacionAduanera", TipoDocumento="01")))
    assert run(internacional("Salida"), pedimento) == [("CP173", f"{P_DOC}@TipoDocumento", "01")]
    other = chg(lambda c: c.find(f"{{{NS}}}Mercancias/{{{NS}}}Mercancia").insert(
        0, el("DocumentacionAduanera", TipoDocumento="02", IdentDocAduanero="AIT-123")))
    assert run(internacional("Salida"), other) == []


def test_cp174_num_pedimento(run, details):
    assert only("CP174", run(internacional("Entrada"), setting(X_DOC, NumPedimento=None, RFCImpo=None))) == [
        ("CP174", f"{P_DOC}@NumPedimento", None)]
    future = "27" + PEDIMENTO[2:]
    assert run(internacional("Entrada"), setting(X_DOC, NumPedimento=future)) == [
        ("CP174", f"{P_DOC}@NumPedimento", future)]
    got = details(internacional("Entrada"), setting(X_DOC, NumPedimento=future))
    assert "posterior al año en curso" in got[0].detail
    aduana = PEDIMENTO.replace("  47  ", "  99  ")
    assert run(internacional("Entrada"), setting(X_DOC, NumPedimento=aduana)) == [
        ("CP174", f"{P_DOC}@NumPedimento", aduana)]
    not_a_pedimento = setting(X_DOC, TipoDocumento="02", IdentDocAduanero="AIT-123")
    assert run(internacional("Entrada"), not_a_pedimento) == [("CP174", f"{P_DOC}@NumPedimento", PEDIMENTO)]


def test_cp175_ident_doc_aduanero(run):
    assert only("CP175", run(internacional("Entrada"), setting(X_DOC, TipoDocumento="02", NumPedimento=None,
                                                                 RFCImpo=None))) == [
        ("CP175", f"{P_DOC}@IdentDocAduanero", None)]
    assert run(internacional("Entrada"), setting(X_DOC, IdentDocAduanero="X-1")) == [
        ("CP175", f"{P_DOC}@IdentDocAduanero", "X-1")]


def test_cp176_rfc_impo(run):
    assert run(internacional("Entrada"), setting(X_DOC, RFCImpo=None)) == [("CP176", f"{P_DOC}@RFCImpo", None)]
    assert run(internacional("Entrada"), setting(X_DOC, TipoDocumento="02", NumPedimento=None,
                                                   IdentDocAduanero="AIT-123")) == [
        ("CP176", f"{P_DOC}@RFCImpo", EMISOR_RFC)]


def test_cp176_rfc_impo_not_in_l_rfc(make_xml):
    def importer(rfc):
        return make_xml(carta_porte("T", "auto", internacional("Entrada"), setting(X_DOC, RFCImpo=rfc)))

    assert padron_findings(importer("AAA010101AAA")) == [("CP176", f"{P_DOC}@RFCImpo", "AAA010101AAA")]
    assert padron_findings(importer("XEXX010101000")) == []
    assert padron_findings(importer(EMISOR_RFC)) == []


def test_cp177_guias_identificacion_for_packaging(run):
    empaques = setting("cfdi:Conceptos/cfdi:Concepto", ClaveProdServ="31181701")
    assert only("CP177", run(empaques)) == [("CP177", f"{P_M1}/GuiasIdentificacion", None)]
    guia = chg(lambda c: c.find(f"{{{NS}}}Mercancias/{{{NS}}}Mercancia").insert(0, el(
        "GuiasIdentificacion", NumeroGuiaIdentificacion="GUIA-0000001", DescripGuiaIdentificacion="Cajas",
        PesoGuiaIdentificacion="10.000")))
    assert only("CP177", run(empaques, guia)) == []


def test_cp178_cp179_cantidad_transporta_ids(run, details):
    assert run(setting(f"{X_M1}/cp:CantidadTransporta", IDOrigen="OR000009")) == [
        ("CP178", f"{P_M1}/CantidadTransporta[1]@IDOrigen", "OR000009")]
    assert [f.expected for f in details(setting(f"{X_M1}/cp:CantidadTransporta", IDOrigen="OR000009"))] == [
        "OR000001"]
    assert run(setting(f"{X_M1}/cp:CantidadTransporta", IDDestino="DE000009")) == [
        ("CP179", f"{P_M1}/CantidadTransporta[1]@IDDestino", "DE000009")]


def test_cp180_cves_transporte(run):
    assert run(setting(f"{X_M1}/cp:CantidadTransporta", CvesTransporte="01")) == [
        ("CP180", f"{P_M1}/CantidadTransporta[1]@CvesTransporte", "01")]
    assert run(setting(f"{X_M1}/cp:CantidadTransporta", CvesTransporte="09")) == [
        ("CP180", f"{P_M1}/CantidadTransporta[1]@CvesTransporte", "09"),  # catalog
        ("CP180", f"{P_M1}/CantidadTransporta[1]@CvesTransporte", "09")]  # one transport only
    aereo = chg(lambda c: c.find(f"{{{NS}}}Mercancias").append(
        el("TransporteAereo", PermSCT="TPTA01", NumPermisoSCT="P-1", NumeroGuia="GUIA00000001",
           CodigoTransportista="CA001", RFCEmbarcador=EMISOR_RFC)))
    assert only("CP180", run(aereo)) == [("CP180", f"{P_M1}/CantidadTransporta[1]@CvesTransporte", None)]
    assert only("CP180", run(aereo, setting(f"{X_M1}/cp:CantidadTransporta", CvesTransporte="01"))) == []


def test_cp181_detalle_mercancia(run):
    assert run(remove(f"{X_M1}/cp:DetalleMercancia"), mode="maritimo") == [
        ("CP181", f"{P_M1}/DetalleMercancia", None)]
    detalle = chg(lambda c: c.find(f"{{{NS}}}Mercancias/{{{NS}}}Mercancia").append(el(
        "DetalleMercancia", UnidadPesoMerc="KGM", PesoBruto="1.000", PesoNeto="1.000", PesoTara="1.000")))
    assert run(detalle) == [("CP181", f"{P_M1}/DetalleMercancia", None)]


def test_cp181_every_mercancia_of_a_sea_move_needs_its_detalle(run):
    """The second Mercancia of a sea move without DetalleMercancia fails; with it, both pass."""
    def second_mercancia(with_detalle: bool):
        def change(root):
            m1 = node(root, X_M1)
            m2 = copy.deepcopy(m1)
            if not with_detalle:
                m2.remove(m2.find(f"{{{NS}}}DetalleMercancia"))
            m1.addnext(m2)
        return change

    assert only("CP181", run(second_mercancia(False), mode="maritimo")) == [
        ("CP181", f"{P_MERCS}/Mercancia[2]/DetalleMercancia", None)]
    assert only("CP181", run(second_mercancia(True), mode="maritimo")) == []


# ======================================================================================================
# Transport modes: CP182-CP192
# ======================================================================================================

def test_cp182_environmental_insurance(run):
    assert run(PELIGROSO) == [("CP182", f"{P_AUTO}/Seguros@AseguraMedAmbiente", None)]
    assert run(SEGURO_AMBIENTAL) == [("CP182", f"{P_AUTO}/Seguros@AseguraMedAmbiente", "SEGUROS VERDES")]


def test_cp183_environmental_policy(run):
    assert run(PELIGROSO, setting(X_SEGUROS, AseguraMedAmbiente="SEGUROS VERDES")) == [
        ("CP183", f"{P_AUTO}/Seguros@PolizaMedAmbiente", None)]
    assert run(setting(X_SEGUROS, PolizaMedAmbiente="AMB-123")) == [
        ("CP183", f"{P_AUTO}/Seguros@PolizaMedAmbiente", "AMB-123")]


def _remolques(*placas: str):
    return chg(lambda c: c.find(f"{{{NS}}}Mercancias/{{{NS}}}Autotransporte").append(
        el("Remolques", [el("Remolque", SubTipoRem="CTR004", Placa=p) for p in placas])))


def test_cp184_remolques_follow_the_vehicle_configuration(run):
    tractor = setting(f"{X_AUTO}/cp:IdentificacionVehicular", ConfigVehicular="T3S2")
    assert run(tractor) == [("CP184", f"{P_AUTO}/Remolques", None)]
    assert run(tractor, _remolques("123ABC")) == []
    assert run(_remolques("123ABC")) == [("CP184", f"{P_AUTO}/Remolques", "C2")]  # a C2 truck has no trailer
    ligero = setting(f"{X_AUTO}/cp:IdentificacionVehicular", ConfigVehicular="VL")
    assert run(ligero) == [] and run(ligero, _remolques("123ABC")) == []


def test_cp185_permiso_temporal_de_navegacion(run):
    assert run(setting(f"{X_MERCS}/cp:TransporteMaritimo", NacionalidadEmbarc="PAN"), mode="maritimo") == [
        ("CP185", f"{P_MERCS}/TransporteMaritimo@PermisoTempNavegacion", None)]
    assert run(setting(f"{X_MERCS}/cp:TransporteMaritimo", PermisoTempNavegacion="PTN-1"), mode="maritimo") == [
        ("CP185", f"{P_MERCS}/TransporteMaritimo@PermisoTempNavegacion", "PTN-1")]
    assert run(setting(f"{X_MERCS}/cp:TransporteMaritimo", NacionalidadEmbarc="PAN", PermisoTempNavegacion="PTN-1"),
               mode="maritimo") == []


X_CONT = f"{X_MERCS}/cp:TransporteMaritimo/cp:Contenedor"
P_CONT = f"{P_MERCS}/TransporteMaritimo/Contenedor[1]"
FERRI = setting(X_CONT, TipoContenedor="CM011", MatriculaContenedor=None, NumPrecinto=None,
                  IdCCPRelacionado="CCC1a2b3-4c5d-4e6f-8a9b-0c1d2e3f4a5b", PlacaVMCCP="501AA1",
                  FechaCertificacionCCP="2026-11-24T10:00:00")


def test_cp186_containers_and_ferries(run):
    assert run(FERRI, mode="maritimo") == []
    assert run(setting(X_CONT, NumPrecinto=None), mode="maritimo") == [("CP186", f"{P_CONT}@NumPrecinto", None)]
    assert run(setting(X_CONT, TipoContenedor="CM011"), mode="maritimo") == [
        ("CP186", f"{P_CONT}@IdCCPRelacionado", None), ("CP186", f"{P_CONT}@PlacaVMCCP", None),
        ("CP186", f"{P_CONT}@FechaCertificacionCCP", None),
        ("CP186", f"{P_CONT}@MatriculaContenedor", "ABCU1234567"), ("CP186", f"{P_CONT}@NumPrecinto", "PRE12345")]
    assert run(setting(X_CONT, PlacaVMCCP="501AA1"), mode="maritimo") == [
        ("CP186", f"{P_CONT}@PlacaVMCCP", "501AA1")]


def test_cp187_remolques_ccp_only_on_a_ferry(run):
    remolques = lambda root: node(root, X_CONT).append(  # noqa: E731
        el("RemolquesCCP", [el("RemolqueCCP", SubTipoRemCCP="CTR004", PlacaCCP="123ABC")]))
    assert run(remolques, mode="maritimo") == [("CP187", f"{P_CONT}/RemolquesCCP", "CM001")]
    assert run(FERRI, remolques, mode="maritimo") == []


X_AEREO = f"{X_MERCS}/cp:TransporteAereo"
P_AEREO = f"{P_MERCS}/TransporteAereo"


def test_cp188_cp189_embarcador(run):
    extranjero = setting(X_AEREO, NumRegIdTribEmbarc="123456789", ResidenciaFiscalEmbarc="USA")
    assert run(extranjero, mode="aereo") == [("CP188", f"{P_AEREO}@RFCEmbarcador", EMISOR_RFC)]
    assert run(extranjero, setting(X_AEREO, RFCEmbarcador=None), mode="aereo") == []
    assert run(setting(X_AEREO, RFCEmbarcador=None), mode="aereo") == [
        ("CP189", f"{P_AEREO}@NumRegIdTribEmbarc", None)]


def test_cp188_rfc_embarcador_not_in_l_rfc(make_xml):
    assert padron_findings(make_xml(carta_porte("T", "aereo"))) == []
    xml = make_xml(carta_porte("T", "aereo", setting(X_AEREO, RFCEmbarcador="AAA010101AAA")))
    assert padron_findings(xml) == [("CP188", f"{P_AEREO}@RFCEmbarcador", "AAA010101AAA")]


def test_cp190_residencia_fiscal_embarcador(run):
    extranjero = setting(X_AEREO, RFCEmbarcador=None, NumRegIdTribEmbarc="123456789")
    assert run(extranjero, mode="aereo") == [("CP190", f"{P_AEREO}@ResidenciaFiscalEmbarc", None)]
    assert run(extranjero, setting(X_AEREO, ResidenciaFiscalEmbarc="MEX"), mode="aereo") == [
        ("CP190", f"{P_AEREO}@ResidenciaFiscalEmbarc", "MEX")]
    assert run(extranjero, setting(X_AEREO, ResidenciaFiscalEmbarc="XYZ"), mode="aereo") == [
        ("CP190", f"{P_AEREO}@ResidenciaFiscalEmbarc", "XYZ")]
    assert run(setting(X_AEREO, ResidenciaFiscalEmbarc="USA"), mode="aereo") == [
        ("CP190", f"{P_AEREO}@ResidenciaFiscalEmbarc", "USA")]


X_CARRO = f"{X_MERCS}/cp:TransporteFerroviario/cp:Carro"
P_CARRO = f"{P_MERCS}/TransporteFerroviario/Carro[1]"


def _contenedor(kg: str):
    return lambda root: node(root, X_CARRO).append(
        el("Contenedor", TipoContenedor="TC01", PesoContenedorVacio="2000.000", PesoNetoMercancia=kg))


INTERMODAL = setting(f"{X_MERCS}/cp:TransporteFerroviario", TipoDeServicio="TS02")


def test_cp191_toneladas_netas_carro_from_its_containers(run, details):
    assert run(INTERMODAL, _contenedor("1500.000"), mode="ferroviario") == []
    assert run(INTERMODAL, _contenedor("1400.000"), mode="ferroviario") == [
        ("CP191", f"{P_CARRO}@ToneladasNetasCarro", "1.500")]
    assert [f.expected for f in details(INTERMODAL, _contenedor("1400.000"), mode="ferroviario")] == ["1.400"]
    # 1500.4 kg are 1.5004 t: a 3-decimal ToneladasNetasCarro may be 1.500 (truncated) or 1.501 (rounded up).
    assert run(INTERMODAL, _contenedor("1500.400"), mode="ferroviario") == []
    up = setting(X_CARRO, ToneladasNetasCarro="1.501")
    assert only("CP191", run(INTERMODAL, _contenedor("1500.400"), up, mode="ferroviario")) == []
    assert [f.expected for f in details(INTERMODAL, _contenedor("1500.400"), setting(
        X_CARRO, ToneladasNetasCarro="1.502"), mode="ferroviario") if f.code == "CP191"] == ["1.500 a 1.501"]


def test_cp192_containers_follow_the_service(run):
    assert run(INTERMODAL, mode="ferroviario") == [("CP192", f"{P_CARRO}/Contenedor", None)]
    assert run(_contenedor("1500.000"), mode="ferroviario") == [("CP192", f"{P_CARRO}/Contenedor[1]", "TS01")]


# ======================================================================================================
# FiguraTransporte: CP193-CP204
# ======================================================================================================

def test_cp193_figura_transporte_by_road(run):
    assert run(remove(f"{X_CP}/cp:FiguraTransporte")) == [("CP193", f"{P_CP}/FiguraTransporte", None)]
    assert run(remove(f"{X_CP}/cp:FiguraTransporte"), mode="aereo") == []


PROPIETARIO = chg(lambda c: c.find(f"{{{NS}}}FiguraTransporte").append(
    el("TiposFigura", [el("PartesTransporte", ParteTransporte="PT01")], TipoFigura="02", RFCFigura="URE180429TM6",
       NombreFigura="Propietario")))


def test_cp194_an_operador_by_road(run):
    assert run(PROPIETARIO, remove(X_FIG1)) == [("CP194", f"{P_CP}/FiguraTransporte", "02")]
    assert run(PROPIETARIO) == []


def test_cp195_cp197_rfc_or_foreign_id_of_a_figura(run):
    extranjero = setting(X_FIG1, NumRegIdTribFigura="123456789", ResidenciaFiscalFigura="USA")
    assert run(extranjero) == [("CP195", f"{P_FIG}@RFCFigura", "VAAM130719H60")]
    assert run(extranjero, setting(X_FIG1, RFCFigura=None)) == []
    assert run(setting(X_FIG1, RFCFigura=None)) == [("CP197", f"{P_FIG}@NumRegIdTribFigura", None)]


def test_cp195_rfc_figura_not_in_l_rfc(make_xml):
    xml = make_xml(carta_porte("T", "auto"))
    assert padron_findings(xml, known=("EKU9003173C9", "URE180429TM6")) == [
        ("CP195", f"{P_FIG}@RFCFigura", "VAAM130719H60")]


def test_cp196_num_licencia_of_the_operador(run):
    assert run(setting(X_FIG1, NumLicencia=None)) == [("CP196", f"{P_FIG}@NumLicencia", None)]
    notificado = chg(lambda c: c.find(f"{{{NS}}}FiguraTransporte").append(
        el("TiposFigura", TipoFigura="04", RFCFigura="URE180429TM6", NumLicencia="LIC7654321", NombreFigura="X")))
    assert run(notificado) == [("CP196", f"{P_CP}/FiguraTransporte/TiposFigura[2]@NumLicencia", "LIC7654321")]


def test_cp198_residencia_fiscal_of_a_figura(run):
    extranjero = setting(X_FIG1, RFCFigura=None, NumRegIdTribFigura="123456789")
    assert run(extranjero) == [("CP198", f"{P_FIG}@ResidenciaFiscalFigura", None)]
    assert run(extranjero, setting(X_FIG1, ResidenciaFiscalFigura="MEX")) == [
        ("CP198", f"{P_FIG}@ResidenciaFiscalFigura", "MEX")]
    assert run(extranjero, setting(X_FIG1, ResidenciaFiscalFigura="XYZ")) == [
        ("CP198", f"{P_FIG}@ResidenciaFiscalFigura", "XYZ")]
    assert run(setting(X_FIG1, ResidenciaFiscalFigura="USA")) == [
        ("CP198", f"{P_FIG}@ResidenciaFiscalFigura", "USA")]


def test_cp199_partes_transporte(run):
    assert run(PROPIETARIO, remove(f"{X_CP}/cp:FiguraTransporte/cp:TiposFigura[2]/cp:PartesTransporte")) == [
        ("CP199", f"{P_CP}/FiguraTransporte/TiposFigura[2]/PartesTransporte", None)]
    partes = lambda root: node(root, X_FIG1).insert(0, el("PartesTransporte", ParteTransporte="PT01"))  # noqa: E731
    assert run(partes) == [("CP199", f"{P_FIG}/PartesTransporte[1]", "01")]


def _domicilio_figura(**attrs):
    values = {"Calle": "Avenida Juárez", "Municipio": "015", "Localidad": "06", "Estado": "CMX", "Pais": "MEX",
              "CodigoPostal": "06000"}
    values.update(attrs)
    return lambda root: node(root, X_FIG1).append(el("Domicilio", **values))


P_FIG_DOM = f"{P_FIG}/Domicilio"


def test_figura_domicilio_in_mexico_is_valid(run):
    assert run(_domicilio_figura()) == []


def test_cp200_colonia_of_a_figura(make_xml):
    cats = catalogs_with("cfdi_40_colonias", ["colonia", "codigo_postal", "texto"], [["0001", "06000", "Centro"]])
    assert rule_findings(make_xml(carta_porte("T", "auto", _domicilio_figura(Colonia="0001"))), cats) == []
    assert rule_findings(make_xml(carta_porte("T", "auto", _domicilio_figura(Colonia="0002"))), cats) == [
        ("CP200", f"{P_FIG_DOM}@Colonia", "0002")]


def test_cp201_localidad_of_a_figura(run):
    assert run(_domicilio_figura(Localidad="99")) == [("CP201", f"{P_FIG_DOM}@Localidad", "99")]


def test_cp202_municipio_of_a_figura(run):
    assert run(_domicilio_figura(Municipio="099")) == [("CP202", f"{P_FIG_DOM}@Municipio", "099")]


def test_cp203_estado_of_a_figura(run):
    assert run(_domicilio_figura(Estado="QRO")) == [("CP203", f"{P_FIG_DOM}@Estado", "QRO")]
    assert run(_domicilio_figura(Pais="CAN", Estado="ON", CodigoPostal="M5V 2T6", Municipio="Toronto",
                                 Localidad="Toronto")) == []


def test_cp204_codigo_postal_of_a_figura(run):
    assert run(_domicilio_figura(CodigoPostal="44100")) == [("CP204", f"{P_FIG_DOM}@CodigoPostal", "44100")]


# ======================================================================================================
# The details of "exists if and only if" and of the foreign ids, one wording for the three parties
# ======================================================================================================

def test_foreign_id_and_residence_details_name_the_party(details, make_xml):
    def got(*changes, mode="auto"):
        return [(f.code, f.node, f.value, f.detail) for f in details(*changes, mode=mode)]

    ubicacion = setting(X_U2, RFCRemitenteDestinatario="XEXX010101000", NumRegIdTrib="123456789")
    assert got(ubicacion) == [
        ("CP134", f"{P_U}[2]@ResidenciaFiscal", None, "con NumRegIdTrib debe registrarse ResidenciaFiscal")]
    assert got(ubicacion, setting(X_U2, ResidenciaFiscal="MEX")) == [
        ("CP134", f"{P_U}[2]@ResidenciaFiscal", "MEX",
         "ResidenciaFiscal es la residencia en el extranjero: no puede ser MEX")]
    assert got(setting(X_U2, ResidenciaFiscal="USA")) == [
        ("CP134", f"{P_U}[2]@ResidenciaFiscal", "USA", "ResidenciaFiscal sólo se registra con NumRegIdTrib")]

    embarcador = setting(X_AEREO, NumRegIdTribEmbarc="123456789", ResidenciaFiscalEmbarc="USA")
    assert got(embarcador, mode="aereo") == [
        ("CP188", f"{P_AEREO}@RFCEmbarcador", EMISOR_RFC,
         "se registró NumRegIdTribEmbarc: el embarcador se identifica con uno de los dos")]
    assert got(setting(X_AEREO, RFCEmbarcador=None), mode="aereo") == [
        ("CP189", f"{P_AEREO}@NumRegIdTribEmbarc", None, "sin RFCEmbarcador debe registrarse NumRegIdTribEmbarc")]
    assert got(setting(X_AEREO, RFCEmbarcador=None, NumRegIdTribEmbarc="123456789"), mode="aereo") == [
        ("CP190", f"{P_AEREO}@ResidenciaFiscalEmbarc", None,
         "con NumRegIdTribEmbarc debe registrarse ResidenciaFiscalEmbarc")]
    assert got(setting(X_AEREO, ResidenciaFiscalEmbarc="USA"), mode="aereo") == [
        ("CP190", f"{P_AEREO}@ResidenciaFiscalEmbarc", "USA",
         "ResidenciaFiscalEmbarc sólo se registra con NumRegIdTribEmbarc")]

    figura = setting(X_FIG1, NumRegIdTribFigura="123456789", ResidenciaFiscalFigura="USA")
    assert got(figura) == [("CP195", f"{P_FIG}@RFCFigura", "VAAM130719H60",
                            "se registró NumRegIdTribFigura: la figura se identifica con uno de los dos")]
    assert got(setting(X_FIG1, RFCFigura=None)) == [
        ("CP197", f"{P_FIG}@NumRegIdTribFigura", None, "sin RFCFigura debe registrarse NumRegIdTribFigura")]
    assert got(setting(X_FIG1, RFCFigura=None, NumRegIdTribFigura="123456789", ResidenciaFiscalFigura="MEX")) == [
        ("CP198", f"{P_FIG}@ResidenciaFiscalFigura", "MEX",
         "ResidenciaFiscalFigura es la residencia en el extranjero: no puede ser MEX")]

    padron = MemoryPadron()
    padron.register(Contribuyente(EMISOR_RFC, "EMISOR"))
    for change, mode in ((setting(X_AEREO, RFCEmbarcador="AAA010101AAA"), "aereo"),
                         (setting(X_FIG1, RFCFigura="AAA010101AAA"), "auto")):
        doc = parse(make_xml(carta_porte("T", mode, change)))
        found = [f.detail for f in run_rules(Context(doc=doc, catalogs=catalogs(), now=NOW, padron=padron))
                 if f.code in ("CP188", "CP195")]
        party = "del embarcador" if mode == "aereo" else "de la figura"
        assert found == [f"el RFC {party} AAA010101AAA no se encuentra en la lista de RFC inscritos no cancelados "
                         "del SAT (l_RFC)"]


def test_exists_iff_details_for_either_half(details):
    def got(*changes, mode="auto"):
        return [(f.code, f.node, f.value, f.detail) for f in details(*changes, mode=mode)]

    assert got(setting(X_U1, NavegacionTrafico="Cabotaje")) == [
        ("CP139", f"{P_U}[1]@NavegacionTrafico", "Cabotaje",
         "NavegacionTrafico sólo se registra con TransporteMaritimo")]
    assert got(setting(X_CP, UbicacionPoloDestino="01")) == [
        ("CP127", f"{P_CP}@UbicacionPoloDestino", "01", "UbicacionPoloDestino sólo se registra cuando RegistroISTMO "
                                                        "es \"Sí\"")]
    assert got(setting(X_CP, TotalDistRec="100"), mode="aereo") == [
        ("CP125", f"{P_CP}@TotalDistRec", "100", "TotalDistRec sólo se registra con Autotransporte o "
                                                 "TransporteFerroviario; la Carta Porte registra: TransporteAereo")]
    assert got(setting(X_U1, DistanciaRecorrida="10")) == [
        ("CP141", f"{P_U}[1]@DistanciaRecorrida", "10", "una Ubicacion Origen no lleva DistanciaRecorrida")]
    assert got(setting(X_M1, Moneda="MXN")) == [
        ("CP168", f"{P_M1}@Moneda", "MXN", "Moneda sólo se registra con ValorMercancia")]
    partes = lambda root: node(root, X_FIG1).insert(0, el("PartesTransporte", ParteTransporte="PT01"))  # noqa: E731
    assert got(partes) == [("CP199", f"{P_FIG}/PartesTransporte[1]", "01",
                            "PartesTransporte sólo se registra para el Propietario (02) o el Arrendador (03)")]


def test_cp149_cp150_cp151_sum_every_mercancia(run):
    """A second, equal Mercancia with the totals of one: every total of weights sees it."""
    def dup(root):
        m1 = node(root, X_M1)
        m1.addnext(copy.deepcopy(m1))

    assert [c for c, _, _ in only("CP149", run(dup))] == ["CP149"]
    got = {c for c, _, _ in run(dup, mode="maritimo")}
    assert {"CP150", "CP151"} <= got, got


def _two_mercancias(root):
    m1 = node(root, X_M1)
    m1.addnext(copy.deepcopy(m1))


X_M2 = f"{X_MERCS}/cp:Mercancia[2]"


def test_cp182_a_hazardous_second_mercancia_needs_the_insurance(run):
    peligroso2 = setting(X_M2, MaterialPeligroso="Sí", CveMaterialPeligroso="1005", Embalaje="4H2")
    assert only("CP182", run(_two_mercancias, peligroso2)) == [
        ("CP182", f"{P_AUTO}/Seguros@AseguraMedAmbiente", None)]
    assert only("CP182", run(_two_mercancias, peligroso2, SEGURO_AMBIENTAL)) == []


def test_cp177_a_guia_on_any_mercancia_is_enough_and_the_finding_is_on_the_first(run):
    empaques = setting("cfdi:Conceptos/cfdi:Concepto", ClaveProdServ="31181701")
    assert only("CP177", run(empaques, _two_mercancias)) == [("CP177", f"{P_M1}/GuiasIdentificacion", None)]

    def guia_on_the_second(root):
        node(root, X_M2).insert(0, el("GuiasIdentificacion", NumeroGuiaIdentificacion="GUIA-0000001",
                                      DescripGuiaIdentificacion="Cajas", PesoGuiaIdentificacion="10.000"))

    assert only("CP177", run(empaques, _two_mercancias, guia_on_the_second)) == []


def test_cp194_the_operador_may_come_second_and_the_value_lists_every_figura(run):
    primero = chg(lambda c: c.find(f"{{{NS}}}FiguraTransporte").insert(0, el(
        "TiposFigura", [el("PartesTransporte", ParteTransporte="PT01")], TipoFigura="02", RFCFigura="URE180429TM6",
        NombreFigura="Propietario")))
    assert run(primero) == []
    assert run(PROPIETARIO, PROPIETARIO, remove(X_FIG1)) == [("CP194", f"{P_CP}/FiguraTransporte", "02, 02")]


def test_cp172_every_mercancia_of_an_entrada_needs_its_documentacion(run):
    got = run(internacional("Entrada"), _two_mercancias, remove(f"{X_M2}/cp:DocumentacionAduanera"))
    assert only("CP172", got) == [("CP172", f"{P_MERCS}/Mercancia[2]/DocumentacionAduanera", None)]


def test_cp150_cp151_wait_for_every_detalle_mercancia(run):
    """The second Mercancia of a sea move without DetalleMercancia is CP181's: the weights are not summed."""
    got = run(_two_mercancias, remove(f"{X_M2}/cp:DetalleMercancia"), mode="maritimo")
    assert only("CP150", got) == only("CP151", got) == []
    assert only("CP181", got) == [("CP181", f"{P_MERCS}/Mercancia[2]/DetalleMercancia", None)]
    sin_neto = run(_two_mercancias, remove(f"{X_M2}/cp:DetalleMercancia"), setting(X_MERCS, PesoNetoTotal=None),
                   mode="maritimo")
    assert only("CP151", sin_neto) == []


def test_cp118_the_second_regimen_aduanero_is_checked_too(run):
    def second_regimen(root):
        reg = node(root, f"{X_CP}/cp:RegimenesAduaneros/cp:RegimenAduaneroCCP")
        dup = copy.deepcopy(reg)
        dup.set("RegimenAduanero", "EXD")
        reg.addnext(dup)

    assert run(internacional("Entrada"), second_regimen) == [
        ("CP118", f"{P_CP}/RegimenesAduaneros/RegimenAduaneroCCP[2]@RegimenAduanero", "EXD")]


def test_cp110_an_intermodal_key_on_the_second_concepto(run):
    change = setting("cfdi:Conceptos/cfdi:Concepto[2]", ClaveProdServ="78101900")
    assert only("CP110", run(change, kind="I")) == [("CP110", "Conceptos/Concepto[2]@ClaveProdServ", "78101900")]


def test_cp186_the_second_contenedor_is_checked_too(run):
    def second(root):
        c1 = node(root, X_CONT)
        c2 = copy.deepcopy(c1)
        del c2.attrib["NumPrecinto"]
        c1.addnext(c2)

    assert run(second, mode="maritimo") == [
        ("CP186", f"{P_MERCS}/TransporteMaritimo/Contenedor[2]@NumPrecinto", None)]


def test_cp191_cp192_every_contenedor_of_a_carro(run):
    # 750 + 750 kg are the carro's 1.500 t: both containers count.
    assert run(INTERMODAL, _contenedor("750.000"), _contenedor("750.000"), mode="ferroviario") == []
    # Without a container service, the first Contenedor is the one reported.
    assert run(_contenedor("750.000"), _contenedor("750.000"), mode="ferroviario") == [
        ("CP192", f"{P_CARRO}/Contenedor[1]", "TS01")]


def test_cp152_sums_every_carro(run):
    def second_carro(root):
        c1 = node(root, X_CARRO)
        c2 = copy.deepcopy(c1)
        c2.set("MatriculaCarro", "CARRO02")
        c1.addnext(c2)

    assert [c for c, _, _ in only("CP152", run(second_carro, mode="ferroviario"))] == ["CP152"]


def test_cp146_expected_lists_every_estado_of_the_pais(details):
    got = [f for f in details(setting(f"{X_U1}/cp:Domicilio", Pais="USA", Estado="CMX", CodigoPostal="77001"))
           if f.code == "CP146"]
    assert len(got) == 1
    expected = got[0].expected.split(", ")
    assert {"TX", "CA", "NY"} <= set(expected) and "JAL" not in expected


def test_cp172_cp175_every_documentacion_aduanera(run):
    def second_doc(**attrs):
        def change(root):
            d1 = node(root, X_DOC)
            d2 = copy.deepcopy(d1)
            for k, v in attrs.items():
                if v is None:
                    d2.attrib.pop(k, None)
                else:
                    d2.set(k, v)
            d1.addnext(d2)
        return change

    got = run(internacional("Entrada"), second_doc(TipoDocumento="02", NumPedimento=None, RFCImpo=None))
    assert only("CP175", got) == [("CP175", f"{P_M1}/DocumentacionAduanera[2]@IdentDocAduanero", None)]
    national = chg(lambda c: c.find(f"{{{NS}}}Mercancias/{{{NS}}}Mercancia").insert(
        0, el("DocumentacionAduanera", TipoDocumento="01", NumPedimento=PEDIMENTO, RFCImpo=EMISOR_RFC)))
    assert run(national, second_doc()) == [("CP172", P_DOC, "No")]


def test_cp151_a_missing_peso_neto_total_says_the_sum(details):
    got = [f for f in details(setting(X_MERCS, PesoNetoTotal=None), mode="maritimo") if f.code == "CP151"]
    assert [(f.value, f.expected) for f in got] == [(None, "1400.000")]


def test_cp108_the_generic_rfc_is_not_looked_up(make_xml):
    xml = make_xml(carta_porte("I", "auto", setting("cfdi:Receptor", Rfc="XAXX010101000")))
    assert only("CP108", padron_findings(xml)) == []


def test_cp178_every_cantidad_transporta_of_every_mercancia(run):
    bad = setting(f"{X_M2}/cp:CantidadTransporta", IDOrigen="OR999999")
    assert only("CP178", run(_two_mercancias, bad)) == [
        ("CP178", f"{P_MERCS}/Mercancia[2]/CantidadTransporta[1]@IDOrigen", "OR999999")]

    def second_ct(root):
        ct = node(root, f"{X_M1}/cp:CantidadTransporta")
        dup = copy.deepcopy(ct)
        dup.set("IDOrigen", "OR999999")
        ct.addnext(dup)

    assert only("CP178", run(second_ct)) == [
        ("CP178", f"{P_M1}/CantidadTransporta[2]@IDOrigen", "OR999999")]
