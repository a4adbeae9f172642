"""What the representación impresa shows, read from a stamped CFDI: plain values, formatted for people, with
SAT's catalog keys next to their descriptions ("G03 - Gastos en general").

Pure: a parsed Document in, dataclasses out. Amounts keep the digits the document wrote them with (at least
two decimals, thousands separated); nothing is recomputed: the tax summary is the Comprobante's Impuestos
node (retentions, which it groups per tax only, get the rate their conceptos share).
"""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from lxml import etree

from timbra.cfdi.amounts import to_decimal
from timbra.cfdi.document import NS_TFD, Document
from timbra.cfdi.expression import verification_url
from timbra.cfdi.tfd import tfd_cadena
from timbra.render.words import amount_in_words
from timbra.sat.catalogs import Catalogs, catalogs

TITLES = {"I": "FACTURA", "E": "NOTA DE CRÉDITO", "T": "CARTA PORTE - TRASLADO", "N": "RECIBO DE NÓMINA",
          "P": "RECIBO ELECTRÓNICO DE PAGO"}
TAX_NAMES = {"001": "ISR", "002": "IVA", "003": "IEPS"}


# --- formatting --------------------------------------------------------------------------------------------

def clean(text: str | None) -> str:
    """An attribute as people read it: NFC (a decomposed accent prints as one letter), spaces collapsed."""
    if not text:
        return ""
    return " ".join(unicodedata.normalize("NFC", text).split())


def _number(text: str | Decimal | None) -> Decimal | None:
    """The number an attribute holds, or None when it holds none or one no CFDI can hold (more than 24 integer
    digits or 12 decimals: SAT's schema allows 18 and 6; such a text prints as written, never expanded)."""
    value = text if isinstance(text, Decimal) else to_decimal(str(text))
    if value is None or value.adjusted() > 24 or value.as_tuple().exponent < -12:
        return None
    return value


def money(text: str | Decimal | None, decimals: int = 2) -> str:
    """1234.5 -> '1,234.50': thousands separated, at least `decimals` decimals, more when the document wrote
    more ('0.123456' stays)."""
    if text is None or text == "":
        return ""
    value = _number(text)
    if value is None:
        return clean(str(text))[:60]
    return f"{value:,.{max(decimals, -value.as_tuple().exponent)}f}"


def quantity(text: str | None) -> str:
    """Cantidad as written, with thousands separators ('2.5', '1,000')."""
    value = _number(text)
    if value is None:
        return clean(text)[:60]
    return f"{value:,.{max(0, -value.as_tuple().exponent)}f}"


def rate(text: str | None, factor: str = "Tasa") -> str:
    """TasaOCuota: a Tasa as a percentage ('0.160000' -> '16%', '0.106667' -> '10.6667%'), a Cuota as an amount."""
    value = _number(text)
    if value is None:
        return clean(text)[:60]
    if factor == "Cuota":
        return f"cuota {money(value.normalize(), 2)}"
    pct = (value * 100).normalize()
    return f"{pct:f}%" if pct != pct.to_integral() else f"{pct.to_integral():f}%"


def fecha(text: str | None) -> str:
    """ISO date-time as printed: '2026-11-24T12:00:00' -> '2026-11-24 12:00:00'."""
    return clean(text).replace("T", " ")


# --- the view ------------------------------------------------------------------------------------------------

@dataclass
class Party:
    rfc: str = ""
    nombre: str = ""
    regimen: str = ""
    domicilio: str = ""  # código postal
    uso: str = ""
    residencia: str = ""
    num_reg_id_trib: str = ""


@dataclass
class TaxLine:
    kind: str            # "traslado" | "retencion"
    impuesto: str        # "IVA"
    factor: str          # Tasa | Cuota | Exento
    tasa: str            # "16%" or ""
    base: str
    importe: str

    @property
    def label(self) -> str:
        """As the totals name it: 'IVA 16%', 'IVA exento', 'Retención ISR 10%'."""
        if self.factor == "Exento":
            return f"{self.impuesto} exento"
        if self.kind == "retencion":
            return f"Retención {self.impuesto} {self.tasa}".strip()
        return f"{self.impuesto} {self.tasa}".strip()


@dataclass
class Line:
    clave_prod_serv: str
    prod_serv: str  # c_ClaveProdServ's description
    no_identificacion: str
    cantidad: str
    clave_unidad: str
    unidad: str
    descripcion: str
    valor_unitario: str
    descuento: str
    importe: str
    objeto_imp: str
    taxes: list[TaxLine] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # aduana, cuenta predial, a cuenta de terceros, partes


@dataclass
class Stamp:
    uuid: str
    fecha_timbrado: str
    rfc_prov_certif: str
    no_certificado_sat: str
    sello_cfd: str
    sello_sat: str
    cadena: str
    leyenda: str = ""


@dataclass
class Section:
    """A complement as the PDF prints it: fields (label, value), then tables (title, headers, rows)."""

    title: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]]
    numeric: set[int] = field(default_factory=set)   # right-aligned columns
    widths: list[float] | None = None                # relative widths
    notes: list[str] | None = None                   # one line under each row ("" for none)
    totals: list[tuple[str, str]] = field(default_factory=list)
    fields: list[tuple[str, str]] = field(default_factory=list)  # shown between the title and the table


@dataclass
class Invoice:
    version: str
    tipo: str                     # "I"
    tipo_desc: str                # "I - Ingreso"
    title: str
    serie: str
    folio: str
    fecha: str
    lugar: str
    moneda: str
    moneda_desc: str
    tipo_cambio: str
    forma_pago: str
    metodo_pago: str
    condiciones: str
    exportacion: str
    no_certificado: str
    confirmacion: str
    subtotal: str
    descuento: str
    total: str
    total_words: str
    emisor: Party
    receptor: Party
    informacion_global: str
    relacionados: list[tuple[str, list[str]]]
    lines: list[Line]
    taxes: list[TaxLine]
    local_taxes: list[tuple[str, str]]
    total_traslados: str
    total_retenidos: str
    stamp: Stamp
    qr_url: str
    sections: list[Section]
    complements: list[str]
    cancelled: bool = False


# --- reading -------------------------------------------------------------------------------------------------

class _Reader:
    def __init__(self, doc: Document, cat: Catalogs) -> None:
        self.doc = doc
        self.cat = cat
        self.v40 = doc.version == "4.0"

    def describe(self, table: str, code: str | None, *, key: str = "id") -> str:
        """'G03 - Gastos en general' (the catalog's text, its final period dropped), or the code alone."""
        code = clean(code)
        if not code:
            return ""
        names = [f"cfdi_40_{table}", f"cfdi_{table}"] if not table.startswith(("nomina_", "ccp_", "pagos_")) \
            else [table]
        for name in names:
            if self.cat.has_table(name):
                row = self.cat.row(name, code, key)
                if row and row.get("texto"):
                    return f"{code} - {clean(str(row['texto'])).rstrip('.')}"
        return code

    def party(self, el: etree._Element | None, receptor: bool) -> Party:
        if el is None:
            return Party()
        g = el.get
        regimen = g("RegimenFiscalReceptor" if receptor else "RegimenFiscal")
        p = Party(rfc=clean(g("Rfc")), nombre=clean(g("Nombre")), regimen=self.describe("regimenes_fiscales", regimen))
        if receptor:
            p.domicilio = clean(g("DomicilioFiscalReceptor"))
            p.uso = self.describe("usos_cfdi", g("UsoCFDI"))
            p.residencia = self.describe("paises", g("ResidenciaFiscal"))
            p.num_reg_id_trib = clean(g("NumRegIdTrib"))
        return p

    def taxes_of(self, node: etree._Element | None, decimals: int) -> list[TaxLine]:
        out: list[TaxLine] = []
        if node is None:
            return out
        for el in node.iter():
            if not isinstance(el.tag, str):
                continue
            local = etree.QName(el).localname
            if local not in ("Traslado", "Retencion"):
                continue
            factor = clean(el.get("TipoFactor")) or "Tasa"
            out.append(TaxLine(
                kind="retencion" if local == "Retencion" else "traslado",
                impuesto=TAX_NAMES.get(clean(el.get("Impuesto")), clean(el.get("Impuesto"))), factor=factor,
                tasa=rate(el.get("TasaOCuota"), factor), base=money(el.get("Base"), decimals),
                importe=money(el.get("Importe"), decimals) if el.get("Importe") else ""))
        return out

    def line(self, c: etree._Element, decimals: int) -> Line:
        g = c.get
        ns = self.doc.ns
        clave_unidad = clean(g("ClaveUnidad"))
        unidad = clean(g("Unidad"))
        if not unidad and clave_unidad:
            row = self.cat.row("cfdi_40_claves_unidades", clave_unidad) or self.cat.row("cfdi_claves_unidades",
                                                                                       clave_unidad)
            unidad = clean(row["texto"]) if row else ""
        notes = []
        terceros = c.find(f"{{{ns}}}ACuentaTerceros")
        if terceros is not None:
            notes.append(f"A cuenta de terceros: {clean(terceros.get('NombreACuentaTerceros'))} "
                         f"(RFC {clean(terceros.get('RfcACuentaTerceros'))}, régimen "
                         f"{clean(terceros.get('RegimenFiscalACuentaTerceros'))}, CP "
                         f"{clean(terceros.get('DomicilioFiscalACuentaTerceros'))})")
        pedimentos = [clean(e.get("NumeroPedimento")) for e in c.iterfind(f"{{{ns}}}InformacionAduanera")]
        if pedimentos:
            notes.append("Pedimento: " + ", ".join(pedimentos))
        predial = [clean(e.get("Numero")) for e in c.iterfind(f"{{{ns}}}CuentaPredial")]
        if predial:
            notes.append("Cuenta predial: " + ", ".join(predial))
        for parte in c.iterfind(f"{{{ns}}}Parte"):
            notes.append(f"Parte: {quantity(parte.get('Cantidad'))} {clean(parte.get('Unidad'))} "
                         f"{clean(parte.get('Descripcion'))} ({clean(parte.get('ClaveProdServ'))})".replace("  ", " "))
        clave = clean(g("ClaveProdServ"))
        row = self.cat.clave_prod_serv(clave) if clave else None
        return Line(
            clave_prod_serv=clave, prod_serv=clean(row["Descripcion"]) if row else "",
            no_identificacion=clean(g("NoIdentificacion")),
            cantidad=quantity(g("Cantidad")), clave_unidad=clave_unidad, unidad=unidad,
            descripcion=clean(g("Descripcion")), valor_unitario=money(g("ValorUnitario"), decimals),
            descuento=money(g("Descuento"), decimals) if g("Descuento") else "",
            importe=money(g("Importe"), decimals), objeto_imp=self.describe("objetos_impuestos", g("ObjetoImp")),
            taxes=self.taxes_of(c.find(f"{{{ns}}}Impuestos"), decimals), notes=notes)

    def summary(self, lines: list[Line], decimals: int) -> list[TaxLine]:
        """The Comprobante's own tax totals, as the XML groups them: traslados by tax, factor and rate;
        retenciones by tax, with the rate of the conceptos' retentions when they all share one."""
        out = self.taxes_of(self.doc.impuestos, decimals)
        rates: dict[str, set[str]] = {}
        for line in lines:
            for t in line.taxes:
                if t.kind == "retencion":
                    rates.setdefault(t.impuesto, set()).add(t.tasa)
        for t in out:
            if t.kind == "retencion" and not t.tasa and len(rates.get(t.impuesto, ())) == 1:
                t.tasa = next(iter(rates[t.impuesto]))
        return sorted(out, key=lambda t: t.kind != "traslado")

    def stamp(self) -> Stamp:
        t = self.doc.tfd
        assert t is not None
        return Stamp(uuid=clean(t.get("UUID")).upper(), fecha_timbrado=fecha(t.get("FechaTimbrado")),
                     rfc_prov_certif=clean(t.get("RfcProvCertif")), no_certificado_sat=clean(t.get("NoCertificadoSAT")),
                     sello_cfd=(t.get("SelloCFD") or "").strip(), sello_sat=(t.get("SelloSAT") or "").strip(),
                     cadena=tfd_cadena(t), leyenda=clean(t.get("Leyenda")))


def read(doc: Document, *, cancelled: bool = False, cat: Catalogs | None = None) -> Invoice:
    """The printed invoice's content. The document must be stamped (caller checks doc.tfd)."""
    r = _Reader(doc, cat or catalogs())
    g = doc.get
    moneda = clean(g("Moneda"))
    decimals = r.cat.moneda_decimals(moneda) if moneda and moneda != "XXX" else None
    decimals = 2 if decimals is None else decimals
    lines = [r.line(c, decimals) for c in doc.conceptos]
    imp = doc.impuestos
    relacionados = []
    for group in doc.root.iterfind(doc.q("CfdiRelacionados")):
        uuids = [clean(e.get("UUID")).upper() for e in group.iterfind(doc.q("CfdiRelacionado"))]
        relacionados.append((r.describe("tipos_relaciones", group.get("TipoRelacion")), uuids))
    info = doc.child("InformacionGlobal")
    informacion_global = ""
    if info is not None:
        informacion_global = (f"Periodicidad: {r.describe('periodicidades', info.get('Periodicidad'))} · "
                              f"Meses: {r.describe('meses', info.get('Meses'))} · Año: {clean(info.get('Año'))}")
    total = _number(g("Total"))
    words = "" if moneda in ("", "XXX") or total is None or total.adjusted() >= 18 or total < 0 else \
        amount_in_words(total, moneda, decimals)
    sections, complements, local_taxes = _complements(doc, r)
    tipo = clean(g("TipoDeComprobante"))
    return Invoice(
        version=doc.version, tipo=tipo, tipo_desc=r.describe("tipos_comprobantes", tipo),
        title=TITLES.get(tipo, "CFDI"), serie=clean(g("Serie")), folio=clean(g("Folio")), fecha=fecha(g("Fecha")),
        lugar=clean(g("LugarExpedicion")), moneda=moneda, moneda_desc=r.describe("monedas", moneda),
        tipo_cambio=clean(g("TipoCambio")), forma_pago=r.describe("formas_pago", g("FormaPago")),
        metodo_pago=r.describe("metodos_pago", g("MetodoPago")), condiciones=clean(g("CondicionesDePago")),
        exportacion=r.describe("exportaciones", g("Exportacion")), no_certificado=clean(g("NoCertificado")),
        confirmacion=clean(g("Confirmacion")), subtotal=money(g("SubTotal"), decimals),
        descuento=money(g("Descuento"), decimals) if to_decimal(g("Descuento")) else "",
        total=money(g("Total"), decimals),
        total_words=words, emisor=r.party(doc.emisor, False), receptor=r.party(doc.receptor, True),
        informacion_global=informacion_global, relacionados=relacionados, lines=lines,
        taxes=r.summary(lines, decimals), local_taxes=local_taxes,
        total_traslados=money(imp.get("TotalImpuestosTrasladados"), decimals) if imp is not None and imp.get(
            "TotalImpuestosTrasladados") else "",
        total_retenidos=money(imp.get("TotalImpuestosRetenidos"), decimals) if imp is not None and imp.get(
            "TotalImpuestosRetenidos") else "",
        stamp=r.stamp(), qr_url=verification_url(doc), sections=sections, complements=complements,
        cancelled=cancelled)


# --- complements -----------------------------------------------------------------------------------------------

COMPLEMENT_NAMES = {
    "Pagos": "Pagos", "Nomina": "Nómina", "CartaPorte": "Carta Porte", "ComercioExterior": "Comercio Exterior",
    "ImpuestosLocales": "Impuestos locales", "LeyendasFiscales": "Leyendas fiscales", "Donatarias": "Donatarias",
    "INE": "INE", "Detallista": "Detallista", "Divisas": "Divisas", "EstadoDeCuentaCombustible": "Estado de cuenta de "
    "combustibles", "ConsumoDeCombustibles": "Consumo de combustibles", "instEducativas": "Instituciones educativas",
    "ServicioParcialConstruccion": "Servicio parcial de construcción", "VehiculoUsado": "Vehículo usado",
    "PagoEnEspecie": "Pago en especie", "ValesDeDespensa": "Vales de despensa", "Aerolineas": "Aerolíneas",
    "NotariosPublicos": "Notarios públicos", "obrasarteantiguedades": "Obras de arte y antigüedades",
    "CFDIRegistroFiscal": "CFDI registro fiscal", "TuristaPasajeroExtranjero": "Turista pasajero extranjero",
    "certificadodedestruccion": "Certificado de destrucción", "renovacionysustitucionvehiculos":
    "Renovación y sustitución de vehículos", "PFintegranteCoordinado": "Persona física integrante de coordinado",
    "GastosHidrocarburos": "Gastos de hidrocarburos", "IngresosHidrocarburos": "Ingresos de hidrocarburos",
}


def _complements(doc: Document, r: _Reader) -> tuple[list[Section], list[str], list[tuple[str, str]]]:
    sections: list[Section] = []
    names: list[str] = []
    local_taxes: list[tuple[str, str]] = []
    for el in doc.complementos:
        qn = etree.QName(el)
        if qn.namespace == NS_TFD:
            continue
        local = qn.localname
        version = clean(el.get("Version") or el.get("version"))
        names.append(f"{COMPLEMENT_NAMES.get(local, local)} {version}".strip())
        if local == "Pagos":
            sections.append(_pagos(el, r))
        elif local == "Nomina":
            sections.append(_nomina(el, r))
        elif local == "CartaPorte":
            sections.append(_carta_porte(el, r, version))
        elif local == "ImpuestosLocales":
            for t in _children(el, "TrasladosLocales"):
                local_taxes.append((f"{clean(t.get('ImpLocTrasladado'))} {rate(t.get('TasadeTraslado'))}".strip(),
                                    money(t.get("Importe"))))
            for t in _children(el, "RetencionesLocales"):
                local_taxes.append((f"Retención {clean(t.get('ImpLocRetenido'))} "
                                    f"{rate(t.get('TasadeRetencion'))}".strip(), "-" + money(t.get("Importe"))))
    return sections, names, local_taxes


def _children(el: etree._Element, local: str) -> list[etree._Element]:
    return [c for c in el if isinstance(c.tag, str) and etree.QName(c).localname == local]


def _child(el: etree._Element | None, local: str) -> etree._Element | None:
    if el is None:
        return None
    for c in el:
        if isinstance(c.tag, str) and etree.QName(c).localname == local:
            return c
    return None


def _descendants(el: etree._Element | None, local: str) -> Iterable[etree._Element]:
    if el is None:
        return []
    return [c for c in el.iter() if isinstance(c.tag, str) and etree.QName(c).localname == local]


def _fields(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in pairs if v]


PAGOS_TOTALES = (
    ("TotalRetencionesIVA", "Total retenciones IVA"), ("TotalRetencionesISR", "Total retenciones ISR"),
    ("TotalRetencionesIEPS", "Total retenciones IEPS"), ("TotalTrasladosBaseIVA16", "Base IVA 16%"),
    ("TotalTrasladosImpuestoIVA16", "IVA 16%"), ("TotalTrasladosBaseIVA8", "Base IVA 8%"),
    ("TotalTrasladosImpuestoIVA8", "IVA 8%"), ("TotalTrasladosBaseIVA0", "Base IVA 0%"),
    ("TotalTrasladosImpuestoIVA0", "IVA 0%"), ("TotalTrasladosBaseIVAExento", "Base IVA exento"),
    ("MontoTotalPagos", "Monto total de pagos"),
)


def _tax_text(el: etree._Element) -> str:
    """One tax line of a pago or a documento relacionado: 'Traslado IVA 16%: base 1,000.00, importe 160.00'."""
    local = etree.QName(el).localname
    kind = "Retención" if local.startswith("Retencion") else "Traslado"
    suffix = local[len("Retencion"):] if local.startswith("Retencion") else local[len("Traslado"):]
    imp = clean(el.get(f"Impuesto{suffix}"))
    factor = clean(el.get(f"TipoFactor{suffix}"))
    parts = [f"{kind} {TAX_NAMES.get(imp, imp)}"]
    if factor == "Exento":
        parts[0] += " exento"
    elif el.get(f"TasaOCuota{suffix}"):
        parts[0] += " " + rate(el.get(f"TasaOCuota{suffix}"), factor)
    amounts = []
    if el.get(f"Base{suffix}"):
        amounts.append(f"base {money(el.get(f'Base{suffix}'))}")
    if el.get(f"Importe{suffix}"):
        amounts.append(f"importe {money(el.get(f'Importe{suffix}'))}")
    return parts[0] + (": " + ", ".join(amounts) if amounts else "")


def _pagos(el: etree._Element, r: _Reader) -> Section:
    s = Section("Complemento para recepción de pagos")
    tot = _child(el, "Totales")
    if tot is not None:
        s.fields = _fields((label, money(tot.get(attr))) for attr, label in PAGOS_TOTALES)
    for n, pago in enumerate(_children(el, "Pago"), 1):
        g = pago.get
        fields = _fields((
            ("Fecha de pago", fecha(g("FechaPago"))), ("Forma de pago", r.describe("formas_pago", g("FormaDePagoP"))),
            ("Moneda", clean(g("MonedaP"))), ("Tipo de cambio", clean(g("TipoCambioP"))), ("Monto", money(g("Monto"))),
            ("Número de operación", clean(g("NumOperacion"))), ("RFC banco ordenante", clean(g("RfcEmisorCtaOrd"))),
            ("Banco ordenante extranjero", clean(g("NomBancoOrdExt"))), ("Cuenta ordenante", clean(g("CtaOrdenante"))),
            ("RFC banco beneficiario", clean(g("RfcEmisorCtaBen"))),
            ("Cuenta beneficiaria", clean(g("CtaBeneficiario"))), ("Tipo de cadena de pago", clean(g("TipoCadPago")))))
        rows, notes = [], []
        for d in _children(pago, "DoctoRelacionado"):
            dg = d.get
            serie_folio = "-".join(x for x in (clean(dg("Serie")), clean(dg("Folio"))) if x)
            rows.append([clean(dg("IdDocumento")).upper(), serie_folio, clean(dg("MonedaDR")),
                         clean(dg("EquivalenciaDR")), clean(dg("NumParcialidad")), money(dg("ImpSaldoAnt")),
                         money(dg("ImpPagado")), money(dg("ImpSaldoInsoluto")), clean(dg("ObjetoImpDR"))])
            taxes = [_tax_text(t) for t in _descendants(_child(d, "ImpuestosDR"), "TrasladoDR")]
            taxes += [_tax_text(t) for t in _descendants(_child(d, "ImpuestosDR"), "RetencionDR")]
            notes.append(" · ".join(taxes))
        totals = [(_tax_text(t).split(":")[0], money(t.get("ImporteP")) if t.get("ImporteP") else "exento")
                  for t in _descendants(_child(pago, "ImpuestosP"), "TrasladoP")]
        totals += [(f"Retención {TAX_NAMES.get(clean(t.get('ImpuestoP')), clean(t.get('ImpuestoP')))}",
                    money(t.get("ImporteP"))) for t in _descendants(_child(pago, "ImpuestosP"), "RetencionP")]
        s.tables.append(Table(
            title=f"Pago {n}", fields=fields,
            headers=["Documento relacionado (UUID)", "Serie-Folio", "Moneda", "Equiv.", "Parc.", "Saldo anterior",
                     "Importe pagado", "Saldo insoluto", "Obj. imp."],
            rows=rows, numeric={3, 4, 5, 6, 7}, widths=[27, 9, 6, 6, 5, 12, 12, 12, 6],
            notes=notes if any(notes) else None, totals=totals))
    return s


def _nomina(el: etree._Element, r: _Reader) -> Section:
    g = el.get
    s = Section(f"Nómina {clean(g('Version'))}".strip())
    em = _child(el, "Emisor")
    rec = _child(el, "Receptor")
    rg = rec.get if rec is not None else (lambda *_: None)
    eg = em.get if em is not None else (lambda *_: None)
    s.fields = _fields((
        ("Tipo de nómina", "O - Ordinaria" if g("TipoNomina") == "O" else "E - Extraordinaria" if g("TipoNomina") ==
         "E" else clean(g("TipoNomina"))),
        ("Fecha de pago", clean(g("FechaPago"))),
        ("Periodo", f"{clean(g('FechaInicialPago'))} al {clean(g('FechaFinalPago'))}"
         if g("FechaInicialPago") else ""),
        ("Días pagados", quantity(g("NumDiasPagados"))),
        ("No. de empleado", clean(rg("NumEmpleado"))), ("CURP", clean(rg("Curp"))),
        ("No. de seguridad social", clean(rg("NumSeguridadSocial"))),
        ("Inicio de la relación laboral", clean(rg("FechaInicioRelLaboral"))),
        ("Antigüedad", clean(rg("Antigüedad"))),
        ("Tipo de contrato", r.describe("nomina_tipos_contratos", rg("TipoContrato"))),
        ("Tipo de jornada", r.describe("nomina_tipos_jornadas", rg("TipoJornada"))),
        ("Régimen", r.describe("nomina_tipos_regimenes", rg("TipoRegimen"))),
        ("Sindicalizado", clean(rg("Sindicalizado"))), ("Departamento", clean(rg("Departamento"))),
        ("Puesto", clean(rg("Puesto"))),
        ("Riesgo del puesto", r.describe("nomina_riesgos_puestos", rg("RiesgoPuesto"))),
        ("Periodicidad de pago", r.describe("nomina_periodicidades_pagos", rg("PeriodicidadPago"))),
        ("Banco", r.describe("nomina_bancos", rg("Banco"))), ("Cuenta bancaria", clean(rg("CuentaBancaria"))),
        ("Salario base de cotización", money(rg("SalarioBaseCotApor"))),
        ("Salario diario integrado", money(rg("SalarioDiarioIntegrado"))),
        ("Entidad federativa", clean(rg("ClaveEntFed"))),
        ("Registro patronal", clean(eg("RegistroPatronal"))), ("CURP del patrón", clean(eg("Curp"))),
        ("RFC patrón origen", clean(eg("RfcPatronOrigen"))),
    ))
    for sub in _children(rec, "SubContratacion") if rec is not None else []:
        s.fields.append(("Subcontratación", f"RFC {clean(sub.get('RfcLabora'))}, "
                                            f"{quantity(sub.get('PorcentajeTiempo'))}% del tiempo"))
    per = _child(el, "Percepciones")
    if per is not None:
        rows = [[r.describe("nomina_tipos_percepciones", p.get("TipoPercepcion")), clean(p.get("Clave")),
                 clean(p.get("Concepto")), money(p.get("ImporteGravado")), money(p.get("ImporteExento"))]
                for p in _children(per, "Percepcion")]
        totals = _fields((("Total sueldos", money(per.get("TotalSueldos"))),
                          ("Total separación e indemnización", money(per.get("TotalSeparacionIndemnizacion"))),
                          ("Total jubilación, pensión y retiro", money(per.get("TotalJubilacionPensionRetiro"))),
                          ("Total gravado", money(per.get("TotalGravado"))),
                          ("Total exento", money(per.get("TotalExento"))),
                          ("Total percepciones", money(g("TotalPercepciones")))))
        s.tables.append(Table("Percepciones", ["Tipo", "Clave", "Concepto", "Gravado", "Exento"], rows,
                              numeric={3, 4}, widths=[34, 10, 30, 13, 13], totals=totals))
        horas = [[r.describe("nomina_tipos_horas", h.get("TipoHoras")), quantity(h.get("Dias")),
                  quantity(h.get("HorasExtra")), money(h.get("ImportePagado"))]
                 for h in _descendants(per, "HorasExtra")]
        if horas:
            s.tables.append(Table("Horas extra", ["Tipo de horas", "Días", "Horas", "Importe pagado"], horas,
                                  numeric={1, 2, 3}, widths=[40, 15, 15, 30]))
    ded = _child(el, "Deducciones")
    if ded is not None:
        rows = [[r.describe("nomina_tipos_deducciones", d.get("TipoDeduccion")), clean(d.get("Clave")),
                 clean(d.get("Concepto")), money(d.get("Importe"))] for d in _children(ded, "Deduccion")]
        totals = _fields((("Total otras deducciones", money(ded.get("TotalOtrasDeducciones"))),
                          ("Total impuestos retenidos", money(ded.get("TotalImpuestosRetenidos"))),
                          ("Total deducciones", money(g("TotalDeducciones")))))
        s.tables.append(Table("Deducciones", ["Tipo", "Clave", "Concepto", "Importe"], rows, numeric={3},
                              widths=[40, 10, 35, 15], totals=totals))
    otros = _child(el, "OtrosPagos")
    if otros is not None:
        rows, notes = [], []
        for o in _children(otros, "OtroPago"):
            rows.append([r.describe("nomina_tipos_otros_pagos", o.get("TipoOtroPago")), clean(o.get("Clave")),
                         clean(o.get("Concepto")), money(o.get("Importe"))])
            extra = []
            sub = _child(o, "SubsidioAlEmpleo")
            if sub is not None:
                extra.append(f"Subsidio causado: {money(sub.get('SubsidioCausado'))}")
            comp = _child(o, "CompensacionSaldosAFavor")
            if comp is not None:
                extra.append(f"Compensación de saldo a favor {clean(comp.get('Año'))}: saldo "
                             f"{money(comp.get('SaldoAFavor'))}, remanente {money(comp.get('RemanenteSalFav'))}")
            notes.append(" · ".join(extra))
        s.tables.append(Table("Otros pagos", ["Tipo", "Clave", "Concepto", "Importe"], rows, numeric={3},
                              widths=[40, 10, 35, 15], notes=notes if any(notes) else None,
                              totals=_fields((("Total otros pagos", money(g("TotalOtrosPagos"))),))))
    inc = _child(el, "Incapacidades")
    if inc is not None:
        rows = [[r.describe("nomina_tipos_incapacidades", i.get("TipoIncapacidad")), quantity(i.get("DiasIncapacidad")),
                 money(i.get("ImporteMonetario"))] for i in _children(inc, "Incapacidad")]
        s.tables.append(Table("Incapacidades", ["Tipo", "Días", "Importe"], rows, numeric={1, 2},
                              widths=[60, 15, 25]))
    return s


def _address(d: etree._Element | None) -> str:
    if d is None:
        return ""
    g = d.get
    street = " ".join(x for x in (clean(g("Calle")), clean(g("NumeroExterior")),
                                  f"int. {clean(g('NumeroInterior'))}" if g("NumeroInterior") else "") if x)
    parts = [street, clean(g("Colonia")), clean(g("Localidad")), clean(g("Municipio")), clean(g("Estado")),
             clean(g("Pais")), f"CP {clean(g('CodigoPostal'))}" if g("CodigoPostal") else ""]
    return ", ".join(p for p in parts if p)


def _carta_porte(el: etree._Element, r: _Reader, version: str) -> Section:
    g = el.get
    s = Section(f"Complemento Carta Porte {version}".strip())
    s.fields = _fields((
        ("IdCCP", clean(g("IdCCP"))), ("Transporte internacional", clean(g("TranspInternac"))),
        ("Entrada o salida de mercancía", clean(g("EntradaSalidaMerc"))),
        ("País de origen o destino", clean(g("PaisOrigenDestino"))),
        ("Vía de entrada o salida", clean(g("ViaEntradaSalida"))),
        ("Distancia total recorrida (km)", quantity(g("TotalDistRec"))),
        ("Registro ISTMO", clean(g("RegistroISTMO"))),
    ))
    rows = []
    for u in _descendants(_child(el, "Ubicaciones"), "Ubicacion"):
        ug = u.get
        rows.append([clean(ug("TipoUbicacion")), clean(ug("IDUbicacion")), clean(ug("RFCRemitenteDestinatario")),
                     clean(ug("NombreRemitenteDestinatario")), fecha(ug("FechaHoraSalidaLlegada")),
                     quantity(ug("DistanciaRecorrida")), _address(_child(u, "Domicilio"))])
    if rows:
        s.tables.append(Table("Ubicaciones", ["Tipo", "ID", "RFC", "Nombre", "Fecha y hora", "Distancia", "Domicilio"],
                              rows, numeric={5}, widths=[8, 9, 12, 16, 13, 8, 34]))
    merc = _child(el, "Mercancias")
    if merc is not None:
        mg = merc.get
        s.fields += _fields((
            ("Peso bruto total", f"{quantity(mg('PesoBrutoTotal'))} {clean(mg('UnidadPeso'))}".strip()),
            ("Peso neto total", quantity(mg("PesoNetoTotal"))),
            ("Número total de mercancías", clean(mg("NumTotalMercancias")))))
        rows = []
        for m in _children(merc, "Mercancia"):
            x = m.get
            peligroso = clean(x("MaterialPeligroso"))
            if x("CveMaterialPeligroso"):
                peligroso = f"{peligroso} ({clean(x('CveMaterialPeligroso'))})".strip()
            rows.append([clean(x("BienesTransp")), clean(x("Descripcion")), quantity(x("Cantidad")),
                         clean(x("ClaveUnidad")), quantity(x("PesoEnKg")), peligroso,
                         money(x("ValorMercancia")) if x("ValorMercancia") else "", clean(x("Moneda"))])
        if rows:
            s.tables.append(Table("Mercancías", ["Bienes transp.", "Descripción", "Cantidad", "Unidad", "Peso (kg)",
                                                 "Mat. peligroso", "Valor", "Moneda"], rows, numeric={2, 4, 6},
                                  widths=[10, 32, 9, 7, 9, 11, 12, 7]))
        auto = _child(merc, "Autotransporte")
        if auto is not None:
            veh = _child(auto, "IdentificacionVehicular")
            seg = _child(auto, "Seguros")
            vg = veh.get if veh is not None else (lambda *_: None)
            sg = seg.get if seg is not None else (lambda *_: None)
            remolques = ", ".join(f"{clean(x.get('SubTipoRem'))} {clean(x.get('Placa'))}"
                                  for x in _descendants(_child(auto, "Remolques"), "Remolque"))
            s.fields += _fields((
                ("Permiso SCT", f"{clean(auto.get('PermSCT'))} {clean(auto.get('NumPermisoSCT'))}".strip()),
                ("Configuración vehicular", clean(vg("ConfigVehicular"))), ("Placa", clean(vg("PlacaVM"))),
                ("Año del modelo", clean(vg("AnioModeloVM"))),
                ("Peso bruto vehicular", quantity(vg("PesoBrutoVehicular"))),
                ("Aseguradora resp. civil", clean(sg("AseguraRespCivil"))),
                ("Póliza resp. civil", clean(sg("PolizaRespCivil"))), ("Remolques", remolques)))
        for kind, label in (("TransporteMaritimo", "Transporte marítimo"), ("TransporteAereo", "Transporte aéreo"),
                            ("TransporteFerroviario", "Transporte ferroviario")):
            if _child(merc, kind) is not None:
                s.fields.append((label, "sí"))
    figuras = []
    for f in _descendants(_child(el, "FiguraTransporte"), "TiposFigura"):
        fg = f.get
        figuras.append([r.describe("ccp_31_figuras_transporte", fg("TipoFigura")), clean(fg("RFCFigura")),
                        clean(fg("NombreFigura")), clean(fg("NumLicencia")), _address(_child(f, "Domicilio"))])
    if figuras:
        s.tables.append(Table("Figuras de transporte", ["Tipo", "RFC", "Nombre", "Licencia", "Domicilio"], figuras,
                              widths=[14, 14, 22, 12, 38]))
    return s
