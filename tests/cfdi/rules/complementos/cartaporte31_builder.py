"""Valid CFDI 4.0 documents with Carta Porte 3.1, for the matrix tests: a test starts from one of them and
changes one thing.

`carta_porte(kind, mode, *changes)` is a `make_xml` mutate function: it turns the sample invoice into a
Traslado ("T", the emisor moves its own goods) or an Ingreso ("I", a carrier bills the freight) and adds a
Carta Porte 3.1 for one transport mode ("auto", "maritimo", "aereo", "ferroviario"); then each change
runs on the Comprobante. `cp(root)` and `el(local, **attrs)` help a change reach and build Carta Porte
nodes; tests/xmlhelp.py's `node`, `nodes` and `setting` reach the rest ("cp:" is the Carta Porte prefix in
paths).

The emisor is the `csd` fixture's RFC, EKU9003173C9. Every value here is in SAT's catalogs.
"""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from lxml import etree

from tests.xmlhelp import NS_CP, node, nodes, q, set_attrs
from timbra.cfdi.document import NS_XSI

SCHEMA_LOCATION_CP = ("http://www.sat.gob.mx/CartaPorte31 "
                      "http://www.sat.gob.mx/sitio_internet/cfd/CartaPorte/CartaPorte31.xsd")
ID_CCP = "CCC3a5e4-8d2b-4c1f-9e6a-0b7d2c4f1a9e"
EMISOR_RFC = "EKU9003173C9"
RECEPTOR_RFC = "URE180429TM6"
OPERADOR_RFC = "VAAM130719H60"

Change = Callable[[etree._Element], object]

# Addresses that agree with c_CodigoPostal, c_Estado, c_Municipio and c_Localidad.
DOMICILIO_CDMX = {"Calle": "Avenida Juárez", "NumeroExterior": "10", "Municipio": "015", "Localidad": "06",
                  "Estado": "CMX", "Pais": "MEX", "CodigoPostal": "06000"}
DOMICILIO_QRO = {"Calle": "Avenida Zaragoza", "NumeroExterior": "200", "Municipio": "014", "Localidad": "01",
                 "Estado": "QUE", "Pais": "MEX", "CodigoPostal": "76000"}
DOMICILIO_GDL = {"Calle": "Avenida Juárez", "NumeroExterior": "5", "Municipio": "039", "Localidad": "03",
                 "Estado": "JAL", "Pais": "MEX", "CodigoPostal": "44100"}

# Stations of c_Estaciones (Mexican ones), by transport: (NumEstacion, NombreEstacion).
PUERTOS = [("PM011", "Puertecitos"), ("PM050", "Zihuatanejo")]
AEROPUERTOS = [("EA0411", "Licenciado Jesus Teran Peredo"), ("EA0413", "General Rodolfo Sanchez Taboada")]
ESTACIONES_FERROVIARIAS = [("Q0736", "SANTO NINO"), ("SC283", "HUAXTITLA"), ("Q0486", "TERRERO")]


def el(local: str, _children: list[etree._Element] | None = None, **attrs: str) -> etree._Element:
    """A Carta Porte element with attributes (None values are left out) and children."""
    e = set_attrs(etree.Element(q(local, NS_CP), nsmap={"cartaporte31": NS_CP}), **attrs)
    for c in _children or []:
        e.append(c)
    return e


def cp(root: etree._Element) -> etree._Element:
    return node(root, "cfdi:Complemento/cp:CartaPorte")


def ubicacion(tipo: str, n: int, *, rfc: str, fecha: str, domicilio: dict[str, str] | None,
              distancia: str | None = None, **attrs: str) -> etree._Element:
    prefix = "OR" if tipo == "Origen" else "DE"
    children = [el("Domicilio", **domicilio)] if domicilio else []
    return el("Ubicacion", children, TipoUbicacion=tipo, IDUbicacion=f"{prefix}{n:06d}",
              RFCRemitenteDestinatario=rfc, FechaHoraSalidaLlegada=fecha, DistanciaRecorrida=distancia, **attrs)


def mercancia(*, peso: str = "1500.000", cantidad: str = "10", children: list[etree._Element] | None = None,
              **attrs: str) -> etree._Element:
    values = {"BienesTransp": "43211507", "Descripcion": "Computadoras de escritorio", "Cantidad": cantidad,
              "ClaveUnidad": "H87", "PesoEnKg": peso}
    values.update(attrs)
    return el("Mercancia", children, **values)


def cantidad_transporta(cantidad: str = "10", origen: str = "OR000001", destino: str = "DE000001",
                        **attrs: str) -> etree._Element:
    return el("CantidadTransporta", Cantidad=cantidad, IDOrigen=origen, IDDestino=destino, **attrs)


def autotransporte(config: str = "C2", remolques: list[tuple[str, str]] | None = None,
                   **seguros: str) -> etree._Element:
    children = [
        el("IdentificacionVehicular", ConfigVehicular=config, PesoBrutoVehicular="10.50", PlacaVM="501AA1",
           AnioModeloVM="2020"),
        el("Seguros", AseguraRespCivil="SEGUROS DEL CENTRO", PolizaRespCivil="POL-123456", **seguros),
    ]
    if remolques:
        children.append(el("Remolques", [el("Remolque", SubTipoRem=s, Placa=p) for s, p in remolques]))
    return el("Autotransporte", children, PermSCT="TPAF01", NumPermisoSCT="PERMISO-0001")


def operador(**attrs: str) -> etree._Element:
    values = {"TipoFigura": "01", "RFCFigura": OPERADOR_RFC, "NumLicencia": "LIC1234567", "NombreFigura": "Operador"}
    values.update(attrs)
    return el("TiposFigura", **values)


def _fecha(root: etree._Element, hours: int) -> str:
    """A FechaHoraSalidaLlegada `hours` after the Comprobante's Fecha (same local time)."""
    from datetime import datetime, timedelta

    fecha = datetime.fromisoformat(root.get("Fecha"))
    return (fecha + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S")


# -- the transport modes ------------------------------------------------------------------------------

def _auto(root: etree._Element) -> tuple[dict[str, str], list[etree._Element], etree._Element,
                                          list[etree._Element], etree._Element | None]:
    ubicaciones = [
        ubicacion("Origen", 1, rfc=EMISOR_RFC, fecha=_fecha(root, 1), domicilio=DOMICILIO_CDMX),
        ubicacion("Destino", 1, rfc=RECEPTOR_RFC, fecha=_fecha(root, 5), domicilio=DOMICILIO_QRO,
                  distancia="220.5"),
    ]
    mercancias = [mercancia(children=[cantidad_transporta()])]
    figura = el("FiguraTransporte", [operador()])
    return {"TotalDistRec": "220.5"}, ubicaciones, autotransporte(), mercancias, figura


def _maritimo(root: etree._Element):
    (o_num, o_name), (d_num, d_name) = PUERTOS
    ubicaciones = [
        ubicacion("Origen", 1, rfc=EMISOR_RFC, fecha=_fecha(root, 1), domicilio=DOMICILIO_CDMX,
                  NumEstacion=o_num, NombreEstacion=o_name, NavegacionTrafico="Cabotaje", TipoEstacion="01"),
        ubicacion("Destino", 1, rfc=RECEPTOR_RFC, fecha=_fecha(root, 48), domicilio=DOMICILIO_GDL,
                  NumEstacion=d_num, NombreEstacion=d_name, NavegacionTrafico="Cabotaje", TipoEstacion="03"),
    ]
    detalle = el("DetalleMercancia", UnidadPesoMerc="KGM", PesoBruto="1500.000", PesoNeto="1400.000",
                 PesoTara="100.000")
    mercancias = [mercancia(children=[cantidad_transporta(), detalle])]
    maritimo = el("TransporteMaritimo", [
        el("Contenedor", TipoContenedor="CM001", MatriculaContenedor="ABCU1234567", NumPrecinto="PRE12345"),
    ], TipoEmbarcacion="B01", Matricula="MAT12345", NumeroOMI="IMO1234567", NacionalidadEmbarc="MEX",
        UnidadesDeArqBruto="1000.000", TipoCarga="CGC", NombreAgenteNaviero="AGENTE NAVIERO SA",
        NumAutorizacionNaviero="SCT418/001/2021")
    return {}, ubicaciones, maritimo, mercancias, None


def _aereo(root: etree._Element):
    (o_num, o_name), (d_num, d_name) = AEROPUERTOS
    ubicaciones = [
        ubicacion("Origen", 1, rfc=EMISOR_RFC, fecha=_fecha(root, 1), domicilio=DOMICILIO_CDMX,
                  NumEstacion=o_num, NombreEstacion=o_name, TipoEstacion="01"),
        ubicacion("Destino", 1, rfc=RECEPTOR_RFC, fecha=_fecha(root, 4), domicilio=DOMICILIO_GDL,
                  NumEstacion=d_num, NombreEstacion=d_name, TipoEstacion="03"),
    ]
    mercancias = [mercancia(children=[cantidad_transporta()], ValorMercancia="150000.00", Moneda="MXN")]
    aereo = el("TransporteAereo", PermSCT="TPTA01", NumPermisoSCT="PERMISO-AEREO-1", NumeroGuia="GUIA00000001",
               CodigoTransportista="CA001", RFCEmbarcador=EMISOR_RFC)
    return {}, ubicaciones, aereo, mercancias, None


def _ferroviario(root: etree._Element):
    """One Origen and five Destinos: SAT's matrix (CP129) asks for at least five Destino nodes."""
    stations = ESTACIONES_FERROVIARIAS
    ubicaciones = [ubicacion("Origen", 1, rfc=EMISOR_RFC, fecha=_fecha(root, 1), domicilio=DOMICILIO_CDMX,
                             NumEstacion=stations[0][0], NombreEstacion=stations[0][1], TipoEstacion="01")]
    for n in range(1, 6):
        num, name = stations[1 + n % 2]
        ubicaciones.append(ubicacion("Destino", n, rfc=RECEPTOR_RFC, fecha=_fecha(root, 2 + n),
                                     domicilio=DOMICILIO_QRO, distancia="100", NumEstacion=num,
                                     NombreEstacion=name, TipoEstacion="03"))
    mercancias = [mercancia(children=[cantidad_transporta()])]
    ferro = el("TransporteFerroviario", [
        el("Carro", TipoCarro="TC01", MatriculaCarro="CARRO01", GuiaCarro="GUIA01", ToneladasNetasCarro="1.500"),
    ], TipoDeServicio="TS01", TipoDeTrafico="TT01")
    return {"TotalDistRec": "500"}, ubicaciones, ferro, mercancias, None


MODES = {"auto": _auto, "maritimo": _maritimo, "aereo": _aereo, "ferroviario": _ferroviario}


def _peso_bruto_total(mode: str, mercancias: list[etree._Element]) -> str:
    if mode == "maritimo":
        return str(sum(Decimal(m.find(q("DetalleMercancia", NS_CP)).get("PesoBruto")) for m in mercancias))
    return str(sum(Decimal(m.get("PesoEnKg")) for m in mercancias))


def build_carta_porte(root: etree._Element, mode: str = "auto") -> etree._Element:
    """The CartaPorte element for the Comprobante `root` (whose Fecha it reads), transport `mode`."""
    attrs, ubicaciones, transporte, mercancias, figura = MODES[mode](root)
    mercancias_el = el("Mercancias", [*mercancias, transporte], PesoBrutoTotal=_peso_bruto_total(mode, mercancias),
                       UnidadPeso="KGM", NumTotalMercancias=str(len(mercancias)))
    if mode == "maritimo":
        mercancias_el.set("PesoNetoTotal", "1400.000")
    if mode == "ferroviario":
        mercancias_el.set("PesoNetoTotal", "1.500")
    children = [el("Ubicaciones", ubicaciones), mercancias_el]
    if figura is not None:
        children.append(figura)
    return el("CartaPorte", children, Version="3.1", IdCCP=ID_CCP, TranspInternac="No", **attrs)


def _as_traslado(root: etree._Element) -> None:
    """The sample invoice becomes a Traslado of the emisor's own goods: amounts 0, Moneda XXX, no taxes."""
    for name in ("FormaPago", "MetodoPago"):
        root.attrib.pop(name, None)
    root.set("SubTotal", "0")
    root.set("Total", "0")
    root.set("Moneda", "XXX")
    root.set("TipoDeComprobante", "T")
    emisor = node(root, "cfdi:Emisor")
    receptor = node(root, "cfdi:Receptor")
    for k in list(receptor.attrib):
        del receptor.attrib[k]
    set_attrs(receptor, Rfc=emisor.get("Rfc"), Nombre=emisor.get("Nombre"),
              DomicilioFiscalReceptor=root.get("LugarExpedicion"), RegimenFiscalReceptor="601", UsoCFDI="S01")
    conceptos = node(root, "cfdi:Conceptos")
    for c in list(conceptos):
        conceptos.remove(c)
    set_attrs(etree.SubElement(conceptos, q("Concepto")), ClaveProdServ="43211507", Cantidad="10",
              ClaveUnidad="H87", Descripcion="Computadoras de escritorio", ValorUnitario="0", Importe="0",
              ObjetoImp="01")
    impuestos = root.find(q("Impuestos"))
    if impuestos is not None:
        root.remove(impuestos)


def _as_flete(root: etree._Element) -> None:
    """The sample invoice (Ingreso, IVA 16%) bills freight: its first concepto becomes transport by road."""
    concepto = node(root, "cfdi:Conceptos/cfdi:Concepto")
    concepto.set("ClaveProdServ", "78101800")
    concepto.set("Descripcion", "Flete Ciudad de México - Querétaro")


def add_complement(root: etree._Element, complement: etree._Element) -> None:
    comp = root.find(q("Complemento"))
    if comp is None:
        comp = etree.SubElement(root, q("Complemento"))
    comp.append(complement)


def carta_porte(kind: str = "T", mode: str = "auto", *changes: Change) -> Change:
    """A make_xml mutate function: a Traslado ("T") or Ingreso ("I") with Carta Porte 3.1, then `changes`."""
    if kind not in ("T", "I"):
        raise ValueError(kind)

    def mutate(root: etree._Element) -> None:
        (_as_traslado if kind == "T" else _as_flete)(root)
        root.set(f"{{{NS_XSI}}}schemaLocation", f"{root.get(f'{{{NS_XSI}}}schemaLocation')} {SCHEMA_LOCATION_CP}")
        add_complement(root, build_carta_porte(root, mode))
        for change in changes:
            change(root)

    return mutate


def remove(path: str) -> Change:
    """A change: remove every element at `path`."""

    def change(root: etree._Element) -> None:
        for e in nodes(root, path):
            e.getparent().remove(e)

    return change


def internacional(sentido: str = "Entrada") -> Change:
    """A change: the move crosses the border (TranspInternac "Sí") with the data SAT then asks for: the
    customs regime, country, way in or out, TipoMateria and, for an Entrada, a pedimento per Mercancia."""

    def change(root: etree._Element) -> None:
        c = cp(root)
        set_attrs(c, TranspInternac="Sí", EntradaSalidaMerc=sentido, PaisOrigenDestino="USA", ViaEntradaSalida="01")
        regimen = "IMD" if sentido == "Entrada" else "EXD"
        c.insert(0, el("RegimenesAduaneros", [el("RegimenAduaneroCCP", RegimenAduanero=regimen)]))
        for m in nodes(root, "cfdi:Complemento/cp:CartaPorte/cp:Mercancias/cp:Mercancia"):
            m.set("TipoMateria", "03")
            if sentido == "Entrada":
                m.insert(0, el("DocumentacionAduanera", TipoDocumento="01", NumPedimento=PEDIMENTO,
                               RFCImpo=EMISOR_RFC))

    return change


# A pedimento that passes SAT's structure checks: 2026, aduana 47, patente 0074, consecutive 000123.
PEDIMENTO = "26  47  0074  6000123"
