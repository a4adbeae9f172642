"""A correct CFDI 4.0 invoice (Ingreso, IVA 16%) with any number of conceptos, for demos, tests and
benchmarks. It is what a careful ERP would send: totals computed with Decimal and SAT's rounding.
"""
from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from lxml import etree

from timbra.cfdi.credentials import Credential
from timbra.cfdi.document import NS40, NS_XSI
from timbra.cfdi.seal import sign_root
from timbra.sat.catalogs import catalogs

SCHEMA_LOCATION_40 = "http://www.sat.gob.mx/cfd/4 http://www.sat.gob.mx/sitio_internet/cfd/4/cfdv40.xsd"
CENT = Decimal("0.01")

# A receptor from SAT's published test RFCs.
RECEPTOR = {"Rfc": "URE180429TM6", "Nombre": "UNIVERSIDAD ROBOTICA ESPAÑOLA", "DomicilioFiscalReceptor": "86991",
            "RegimenFiscalReceptor": "601", "UsoCFDI": "G03"}

_ITEMS = [
    ("43232408", "E48", "Licencia de software de facturación", Decimal("1"), Decimal("15390.30")),
    ("84111506", "E48", "Servicio de timbrado, paquete mensual", Decimal("3"), Decimal("250.00")),
    ("81111500", "H87", "Soporte técnico en sitio", Decimal("2.5"), Decimal("820.55")),
]


def money(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def sample_invoice(credential: Credential, fecha: datetime, *, conceptos: int = 3,
                   lugar_expedicion: str = "06000", receptor: dict[str, str] | None = None,
                   serie: str = "A", folio: str = "1") -> etree._Element:
    """An unsealed Comprobante element. `fecha` is written as the local time of lugar_expedicion."""
    zone = catalogs().zone_for_postal_code(lugar_expedicion)
    local = fecha.astimezone(zone) if fecha.tzinfo else fecha
    cert = credential.certificate
    root = etree.Element(f"{{{NS40}}}Comprobante", nsmap={"cfdi": NS40, "xsi": NS_XSI})
    root.set(f"{{{NS_XSI}}}schemaLocation", SCHEMA_LOCATION_40)
    for k, v in (("Version", "4.0"), ("Serie", serie), ("Folio", folio),
                 ("Fecha", local.strftime("%Y-%m-%dT%H:%M:%S")), ("FormaPago", "03")):
        root.set(k, v)
    em = etree.SubElement(root, f"{{{NS40}}}Emisor")
    em.set("Rfc", cert.rfc)
    em.set("Nombre", cert.name)
    em.set("RegimenFiscal", "601" if len(cert.rfc) == 12 else "612")
    rec = etree.SubElement(root, f"{{{NS40}}}Receptor")
    for k, v in (receptor or RECEPTOR).items():
        rec.set(k, v)
    cs = etree.SubElement(root, f"{{{NS40}}}Conceptos")
    subtotal = Decimal(0)
    base_total = Decimal(0)
    iva_total = Decimal(0)
    for i in range(conceptos):
        clave, unidad, desc, qty, price = _ITEMS[i % len(_ITEMS)]
        importe = (qty * price).quantize(CENT, rounding=ROUND_HALF_UP)
        iva = (importe * Decimal("0.16")).quantize(CENT, rounding=ROUND_HALF_UP)
        c = etree.SubElement(cs, f"{{{NS40}}}Concepto")
        for k, v in (("ClaveProdServ", clave), ("NoIdentificacion", f"SKU-{i + 1:05d}"), ("Cantidad", str(qty)),
                     ("ClaveUnidad", unidad), ("Descripcion", desc), ("ValorUnitario", str(price)),
                     ("Importe", money(importe)), ("ObjetoImp", "02")):
            c.set(k, v)
        imp = etree.SubElement(c, f"{{{NS40}}}Impuestos")
        ts = etree.SubElement(imp, f"{{{NS40}}}Traslados")
        t = etree.SubElement(ts, f"{{{NS40}}}Traslado")
        for k, v in (("Base", money(importe)), ("Impuesto", "002"), ("TipoFactor", "Tasa"),
                     ("TasaOCuota", "0.160000"), ("Importe", money(iva))):
            t.set(k, v)
        subtotal += importe
        base_total += importe
        iva_total += iva
    imp = etree.SubElement(root, f"{{{NS40}}}Impuestos")
    imp.set("TotalImpuestosTrasladados", money(iva_total))
    ts = etree.SubElement(imp, f"{{{NS40}}}Traslados")
    t = etree.SubElement(ts, f"{{{NS40}}}Traslado")
    for k, v in (("Base", money(base_total)), ("Impuesto", "002"), ("TipoFactor", "Tasa"),
                 ("TasaOCuota", "0.160000"), ("Importe", money(iva_total))):
        t.set(k, v)
    for k, v in (("SubTotal", money(subtotal)), ("Moneda", "MXN"), ("Total", money(subtotal + iva_total)),
                 ("TipoDeComprobante", "I"), ("Exportacion", "01"), ("MetodoPago", "PUE"),
                 ("LugarExpedicion", lugar_expedicion)):
        root.set(k, v)
    return root


def sealed_sample(credential: Credential, fecha: datetime, **kw) -> bytes:
    """sample_invoice(), sealed with the credential, as UTF-8 bytes."""
    root = sample_invoice(credential, fecha, **kw)
    sign_root(root, credential)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
