"""The printed CFDI: every item SAT and accountants require is in the PDF's text (extracted with pypdf, an
implementation nobody here wrote), amounts as the XML states them, the QR decodes (zxing-cpp, on a page
rasterized by pdfium) to SAT's verification URL, long invoices flow over pages with their header and page
numbers, and the complements get their sections."""
from __future__ import annotations

from decimal import Decimal
from io import BytesIO

import pytest
import zxingcpp
from lxml import etree
from PIL import Image
from pypdf import PdfReader

from tests.conftest import NOW
from tests.render.conftest import (
    EMISOR,
    LONG,
    RECEPTOR,
    RELATED,
    SAMPLES,
    concepto,
    flat,
    pdf_text,
    rasterize,
    squeezed,
)
from timbra.build.invoice import Invoice, build
from timbra.cfdi.document import Document, parse
from timbra.cfdi.tfd import tfd_cadena
from timbra.errors import TimbraError
from timbra.pac.printing import normalize_logo
from timbra.render import Branding, render_pdf


def fmt(value: str | None) -> str:
    """An amount as the page writes it, by the test's own rule: thousands separated, two decimals."""
    return f"{Decimal(value):,.2f}"


def expected_url(doc: Document) -> str:
    """SAT's expression, spelled out independently of timbra.cfdi.expression."""
    total = Decimal(doc.get("Total")).quantize(Decimal("0.000001"))
    tt = f"{total:f}".rstrip("0")
    tt = tt + "0" if tt.endswith(".") else tt
    return ("https://verificacfdi.facturaelectronica.sat.gob.mx/default.aspx"
            f"?id={doc.uuid}&re={doc.emisor.get('Rfc').replace('&', '&amp;')}"
            f"&rr={doc.receptor.get('Rfc').replace('&', '&amp;')}&tt={tt}&fe={doc.get('Sello')[-8:]}")


def qr_text(pdf: bytes, page: int = -1) -> str:
    pages = len(PdfReader(BytesIO(pdf)).pages)
    image = rasterize(pdf, page % pages, dpi=150)
    found = [b for b in zxingcpp.read_barcodes(image) if b.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(found) == 1
    return found[0].text


def assert_stamp_block(doc: Document, pdf: bytes) -> None:
    """The fiscal stamp: folio fiscal, certificates, PAC, dates, both sellos, SAT's cadena, the legend, the QR."""
    text, tight = flat(pdf), squeezed(pdf)
    tfd = doc.tfd
    for item in (doc.uuid.upper(), doc.get("NoCertificado"), tfd.get("NoCertificadoSAT"), tfd.get("RfcProvCertif"),
                 tfd.get("FechaTimbrado").replace("T", " "), doc.get("Fecha").replace("T", " "),
                 "Este documento es una representación impresa de un CFDI"):
        assert item in text, item
    for long in (tfd.get("SelloCFD"), tfd.get("SelloSAT"), tfd_cadena(tfd)):
        assert "".join(long.split()) in tight
    assert qr_text(pdf) == expected_url(doc)


def test_an_invoice_in_mxn_with_several_rates_discounts_and_retenciones(docs):
    xml = docs["mxn"]
    doc = parse(xml)
    pdf = render_pdf(xml)
    text = flat(pdf)
    assert doc.get("Total") == "10757.33" and len(pdf_text(pdf)) == 1
    for item in ("FACTURA", "F-1024", "I - Ingreso", "06000", "4.0",
                 # emisor and receptor, with SAT's descriptions of their catalog keys
                 "ESCUELA KEMPER URGATE", "RFC: EKU9003173C9", "Régimen fiscal: 601 - General de Ley Personas Morales",
                 "UNIVERSIDAD ROBOTICA ESPAÑOLA", "RFC: URE180429TM6", "Domicilio fiscal (CP): 86991",
                 "Uso del CFDI: G03 - Gastos en general",
                 # the comprobante
                 "Forma de pago: 03 - Transferencia electrónica de fondos",
                 "Método de pago: PUE - Pago en una sola exhibición", "Moneda: MXN - Peso Mexicano",
                 "Exportación: 01 - No aplica", "Condiciones de pago: Contado",
                 f"Tipo de relación 04 - Sustitución de los CFDI previos: {RELATED}",
                 # the words, and the totals by tax and rate
                 "DIEZ MIL SETECIENTOS CINCUENTA Y SIETE PESOS 33/100 M.N.",
                 f"Subtotal {fmt(doc.get('SubTotal'))}", f"Descuento -{fmt(doc.get('Descuento'))}",
                 "IVA 16% (base 10,900.00) 1,744.00", "IVA 0% (base 100.00) 0.00", "IVA exento (base 80.00) exento",
                 "Retención ISR 10% -1,000.00", "Retención IVA 10.6667% -1,066.67", "TOTAL 10,757.33 MXN",
                 "Total de impuestos trasladados: 1,744.00", "Total de impuestos retenidos: 2,066.67"):
        assert item in text, item
    # every concepto: clave, no. identificación, cantidad, unidad, descripción (wrapped), amounts, its taxes
    for c in doc.conceptos:
        row = [c.get("ClaveProdServ"), c.get("Cantidad"), c.get("ClaveUnidad"), fmt(c.get("ValorUnitario")),
               fmt(c.get("Importe")), "Objeto de impuesto: 02 - Sí objeto de impuesto"]
        row += [c.get(k) for k in ("NoIdentificacion",) if c.get(k)]
        row += [fmt(c.get("Descuento"))] if c.get("Descuento") else []
        for item in row:
            assert item in text, item
        for t in c.iterfind(".//{*}Traslado"):
            assert f"base {fmt(t.get('Base'))}" in text
            if t.get("Importe"):
                assert f"importe {fmt(t.get('Importe'))}" in text
    assert LONG in text  # wrapped over lines, every word kept
    assert "Unidad de servicio" in text and "Pieza" in text  # ClaveUnidad with its name
    assert "Clave SAT: Servicios de facturación · Objeto de impuesto" in text  # and ClaveProdServ
    assert "Traslado IVA 16%: base 10,000.00, importe 1,600.00 · Retención ISR 10%: base 10,000.00, importe " \
           "1,000.00 · Retención IVA 10.6667%: base 10,000.00, importe 1,066.67" in text
    assert_stamp_block(doc, pdf)


def test_an_invoice_in_dollars(docs):
    doc = parse(docs["usd"])
    pdf = render_pdf(docs["usd"])
    text = flat(pdf)
    assert doc.get("Total") == "2980.03"  # 2 x 1234.50 + 99.99 = 2568.99, IVA 411.04
    for item in ("Moneda: USD - Dólar americano", f"Tipo de cambio: {doc.get('TipoCambio')}",
                 "DOS MIL NOVECIENTOS OCHENTA DÓLARES 03/100 USD", "TOTAL 2,980.03 USD",
                 "2,469.00", "1,234.50", "99.99"):
        assert item in text, item
    assert qr_text(pdf) == expected_url(doc)


def test_a_long_invoice_flows_over_pages_with_its_header_and_page_numbers(stamp):
    data = {"Serie": "L", "Folio": "120", "FormaPago": "03", "MetodoPago": "PUE", "LugarExpedicion": "06000",
            "Receptor": dict(RECEPTOR),
            "Conceptos": [concepto(f"{i}.50", descripcion=f"Artículo número {i:03d}", NoIdentificacion=f"SKU-{i:03d}",
                                   Impuestos={"Traslados": [{"Impuesto": "002", "TipoFactor": "Tasa",
                                                             "TasaOCuota": "0.16"}]}) for i in range(1, 121)]}
    xml = stamp(build(Invoice.model_validate(data), emisor=EMISOR, fecha=NOW))
    doc = parse(xml)
    pdf = render_pdf(xml)
    pages = pdf_text(pdf)
    n = len(pages)
    assert n >= 4
    for i, page in enumerate(pages, 1):
        flat_page = " ".join(page.split())
        # the header on every page: emisor, title, serie-folio, folio fiscal; the footer with its numbers
        for item in ("ESCUELA KEMPER URGATE", "FACTURA", "L-120", doc.uuid, f"Página {i} de {n}",
                     "Este documento es una representación impresa de un CFDI"):
            assert item in flat_page, (i, item)
    conceptos_pages = [p for p in pages if "SKU-" in p]
    assert len(conceptos_pages) >= n - 1 and all("Clave SAT" in p and "Valor unitario" in p for p in conceptos_pages)
    text = flat(pdf)
    assert all(text.count(f"SKU-{i:03d} ") == 1 for i in range(1, 121))  # each once, none lost at a page break
    assert f"TOTAL {fmt(doc.get('Total'))} MXN" in text
    assert_stamp_block(doc, pdf)


def test_a_cfdi_de_pagos(docs):
    doc = parse(docs["pagos"])
    pdf = render_pdf(docs["pagos"])
    text = flat(pdf)
    for item in ("RECIBO ELECTRÓNICO DE PAGO", "P - Pago", "Uso del CFDI: CP01 - Pagos", "COMPLEMENTO PARA RECEPCIÓN DE PAGOS",
                 "Fecha de pago 2026-11-23 10:00:00", "Forma de pago 03 - Transferencia electrónica de fondos",
                 "Monto 1,740.00", "Monto total de pagos 1,740.00", "Saldo anterior", "Importe pagado", "Saldo insoluto"):
        assert item in text, item
    pagos = doc.complementos[0]
    totales = pagos.find("{*}Totales")
    for attr in ("TotalTrasladosBaseIVA16", "TotalTrasladosImpuestoIVA16"):
        assert fmt(totales.get(attr)) in text
    for d in pagos.iterfind(".//{*}DoctoRelacionado"):
        row = " ".join([d.get("IdDocumento"), f"{d.get('Serie')}-{d.get('Folio')}", d.get("MonedaDR"),
                        d.get("EquivalenciaDR"), d.get("NumParcialidad"), fmt(d.get("ImpSaldoAnt")),
                        fmt(d.get("ImpPagado")), fmt(d.get("ImpSaldoInsoluto")), d.get("ObjetoImpDR")])
        assert row in text, row
        t = d.find(".//{*}TrasladoDR")
        assert f"Traslado IVA 16%: base {fmt(t.get('BaseDR'))}, importe {fmt(t.get('ImporteDR'))}" in text
    assert "IMPORTE CON LETRA" not in text  # Moneda XXX, Total 0: no amount in words
    assert_stamp_block(doc, pdf)


def test_a_cfdi_de_nomina(docs):
    doc = parse(docs["nomina"])
    pdf = render_pdf(docs["nomina"])
    text = flat(pdf)
    assert doc.get("Total") == "6309.53"
    for item in ("RECIBO DE NÓMINA", "N - Nómina", "KARLA FUENTE NOLASCO", "FUNK671228PH6", "Uso del CFDI: CN01 - Nómina",
                 "Régimen fiscal: 605 - Sueldos y Salarios e Ingresos Asimilados a Salarios", "NÓMINA 1.2",
                 "Tipo de nómina O - Ordinaria", "Periodo 2026-11-01 al 2026-11-15", "CURP FUNK671228MDFNLR09",
                 "No. de seguridad social 04078873454", "No. de empleado 120", "Departamento Desarrollo",
                 "Puesto Programador", "Tipo de contrato 01 - Contrato de trabajo por tiempo indeterminado",
                 "Periodicidad de pago 04 - Quincenal", "Salario diario integrado 520.00", "Registro patronal B5510768108",
                 "001 - Sueldos, Salarios Rayas y Jornales P001 Sueldo 7,500.00 0.00",
                 "001 - Seguridad social D001 Cuota obrera IMSS 210.35", "002 - ISR D002 ISR 980.12",
                 "Total percepciones 7,500.00", "Total deducciones 1,190.47", "Subsidio causado: 0.00",
                 "SEIS MIL TRESCIENTOS NUEVE PESOS 53/100 M.N.", "NETO A PAGAR 6,309.53 MXN"):
        assert item in text, item
    # the payroll reads employee, percepciones and deducciones first, then the net pay
    assert text.index("Total deducciones") < text.index("NETO A PAGAR")
    assert_stamp_block(doc, pdf)


def test_every_section_of_sats_nomina_sample(docs):
    """SAT's sample with every node of Nómina 1.2 (a TFD added): horas extra, otros pagos, incapacidades."""
    doc = parse(docs["nomina_sat"])
    text = flat(render_pdf(docs["nomina_sat"]))
    for item in ("Horas extra", "01 - Dobles 2 8 228.45", "03 - Simples 2 8 288.45",
                 "Incapacidades", "01 - Riesgo de trabajo 1 22.45", "02 - Enfermedad en general 2 22.45",
                 "Otros pagos", "Otro pago 111 1,234.56", "Subsidio causado: 1,234.56",
                 "Compensación de saldo a favor 2016: saldo 12,345.67, remanente 1,234.56",
                 "005 - Fondo de Ahorro BBB Sueldo Regular 89.00 90.00", "100 - Ajuste en Viáticos exentos",
                 "Subcontratación RFC AAA010101AAA, 23.45% del tiempo", "Riesgo del puesto 3 - Clase III",
                 "Banco 002 - BANAMEX", "Tipo de relación 09 - Factura generada por pagos diferidos"):
        assert item in text, item
    assert doc.uuid in text


def test_carta_porte(docs):
    text = flat(render_pdf(docs["cartaporte"]))
    for item in ("COMPLEMENTO CARTA PORTE 2.0", "Transporte internacional Sí", "Distancia total recorrida (km) 123.9",
                 "Ubicaciones", "Origen OR123456 AAA010101AAA", "Destino DE234567 BASJ600902KL9",
                 "Mercancías", "60141405 Descripcion 1.000001 ZZ 1.123", "Permiso SCT TPAF01 6789", "Placa 123ABC",
                 "Figuras de transporte", "BASJ600902KL9", "Calle 2 int. 1, Colonia"):
        assert item in text, item


def test_a_cfdi_another_pac_stamped(docs):
    """A stamped sample timbra never saw: its UUID (lower case in the XML) prints in upper case; the QR carries
    it as written."""
    doc = parse(docs["ejemplo"])
    pdf = render_pdf(docs["ejemplo"])
    text = flat(pdf)
    for item in (doc.uuid.upper(), "PUT211201AX4", "Cuenta predial: 51888", "Pedimento: 15 48 4567 6001234",
                 "A cuenta de terceros: NombreACuentaTerceros (RFC AAA010101AAA",
                 "Información global: Periodicidad: 05 - Bimestral", "Retención ISR 30%"):
        assert item in text, item
    assert "Descuento -" not in text  # Descuento="0" is not a discount
    assert_stamp_block(doc, pdf)


def test_a_cancelled_cfdi_is_marked(docs):
    pdf = render_pdf(docs["nomina"], cancelled=True)
    pages = pdf_text(pdf)
    assert len(pages) == 2  # the header's notice and the watermark on every page
    assert all("CFDI CANCELADO ANTE EL SAT" in p and "CANCELADO" in p.replace("CFDI CANCELADO ANTE EL SAT", "")
               for p in pages)
    assert "CANCELADO" not in flat(render_pdf(docs["nomina"]))
    # red on every page: the title band and the watermark
    for page in (0, 1):
        image = rasterize(pdf, page, dpi=30)
        reds = sum(1 for r, g, b in image.get_flattened_data() if r > 150 and g < 90 and b < 90)
        assert reds > 100


def test_logo_and_accent_colour(docs):
    logo = Image.new("RGB", (400, 160), (10, 160, 60))
    buf = BytesIO()
    logo.save(buf, format="JPEG")
    png = normalize_logo(buf.getvalue()).png
    pdf = render_pdf(docs["mxn"], branding=Branding(logo=png, color="#7A1FA2"))
    reader = PdfReader(BytesIO(pdf))
    assert len(reader.pages[0].images) == 1
    image = rasterize(pdf, dpi=72)  # 1 pt = 1 px
    mm = 72 / 25.4
    band = image.getpixel((int(180 * mm), int(12.5 * mm)))  # the title band, right of the header
    assert all(abs(a - b) <= 3 for a, b in zip(band, (0x7A, 0x1F, 0xA2), strict=True)), band
    pixel = image.getpixel((int(20 * mm), int(15 * mm)))  # inside the logo, top left
    assert all(abs(a - b) <= 12 for a, b in zip(pixel, (10, 160, 60), strict=True)), pixel
    default = rasterize(render_pdf(docs["mxn"]), dpi=72).getpixel((int(180 * mm), int(12.5 * mm)))
    assert default != band
    assert "UNIVERSIDAD ROBOTICA ESPAÑOLA" in flat(pdf)  # text still all there beside the logo


def test_text_the_fonts_lack_and_decomposed_accents(stamp):
    """NFC joins a decomposed accent; Latin beyond Spanish prints (a program cache miss); a character the
    shipped font lacks becomes U+FFFD instead of vanishing; nothing crashes."""
    data = {"Serie": "U", "Folio": "1", "FormaPago": "03", "MetodoPago": "PUE", "LugarExpedicion": "06000",
            "Receptor": dict(RECEPTOR),
            "Conceptos": [concepto("10", descripcion="Cafe\u0301 de Łódź, Ñandú «grande» 漢字", Impuestos={
                "Traslados": [{"Impuesto": "002", "TipoFactor": "Tasa", "TasaOCuota": "0.16"}]})]}
    xml = stamp(build(Invoice.model_validate(data), emisor=EMISOR, fecha=NOW))
    text = flat(render_pdf(xml))
    assert "Café de Łódź, Ñandú «grande» \ufffd\ufffd" in text


def test_what_cannot_be_printed():
    unstamped = (SAMPLES / "cfdv40-min.xml").read_bytes()
    with pytest.raises(TimbraError) as e:
        render_pdf(unstamped)
    assert e.value.code == "T163"
    for bad in (b"", b"<x/>", b"not xml", b"\xff\xfe<\x00"):
        with pytest.raises(TimbraError) as e:
            render_pdf(bad)
        assert e.value.code == "301"


def test_rendering_is_deterministic(docs):
    """Same document, same bytes (the creation date is the FechaTimbrado): what the PAC's cache relies on."""
    assert render_pdf(docs["pagos"]) == render_pdf(docs["pagos"])


def test_the_qr_url_for_an_rfc_with_an_ampersand(stamp, add_tfd):
    """SAT writes an RFC's '&' escaped in the expression; the QR carries exactly that."""
    root = etree.fromstring((SAMPLES / "cfdv40-min.xml").read_bytes())
    root.find("{*}Receptor").set("Rfc", "&AB010101AB1")
    root.set("Total", "1000.00")
    xml = add_tfd(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    url = qr_text(render_pdf(xml))
    assert "&rr=&amp;AB010101AB1&tt=1000.0&fe=" in url


def test_threads_render_what_one_thread_renders(docs):
    """The fonts' prototypes and program cache are shared by every document: threads must not mix them."""
    from concurrent.futures import ThreadPoolExecutor

    names = ["mxn", "usd", "pagos", "nomina", "cartaporte", "ejemplo"] * 3
    alone = {n: render_pdf(docs[n]) for n in set(names)}
    with ThreadPoolExecutor(max_workers=6) as pool:
        together = list(pool.map(lambda n: render_pdf(docs[n]), names))
    assert all(pdf == alone[n] for n, pdf in zip(names, together, strict=True))


def test_values_no_cfdi_can_hold_never_blow_up():
    """A file from anywhere (timbra pdf): an Importe of 10^100000 prints as written, not as 100,000 digits; a
    Total or an RFC the QR cannot hold is 301, not a crash."""
    def sample(**changes) -> bytes:
        root = etree.fromstring((SAMPLES / "cfdv40-ejemplo-signed-tfd.xml").read_bytes().lstrip(b"\xef\xbb\xbf"))
        for path, attr, value in changes.values():
            (root.find(path) if path else root).set(attr, value)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    pdf = render_pdf(sample(a=("{*}Conceptos/{*}Concepto", "Importe", "1E+100000"),
                            b=("{*}Conceptos/{*}Concepto", "Cantidad", "-0.0000000000001")))
    assert len(pdf) < 200_000 and "1E+100000" in flat(pdf)
    for bad in (sample(t=(None, "Total", "1E+40")), sample(r=("{*}Receptor", "Rfc", "X" * 5000))):
        with pytest.raises(TimbraError) as e:
            render_pdf(bad)
        assert e.value.code == "301" and "no se puede representar" in e.value.findings[0].detail
