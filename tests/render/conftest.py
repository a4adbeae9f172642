"""Stamped CFDI to print: built from data by timbra's builders, sealed with the sandbox CSD and stamped by the
real Certifier (every rule passes), plus SAT-style samples with complements that a TFD is added to."""
from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from lxml import etree
from pypdf import PdfReader

from tests.build.test_nomina import data as nomina_data
from tests.build.test_pagos import UUID_A, UUID_B, docto, iva, pago
from tests.build.test_pagos import data as pagos_data
from tests.conftest import DATA, NOW
from timbra.build.common import Emisor
from timbra.build.invoice import Invoice, build
from timbra.build.nomina import NominaInvoice, build_nomina
from timbra.build.pagos import PagosInvoice, build_pagos
from timbra.cfdi.credentials import Credential
from timbra.cfdi.document import parse
from timbra.cfdi.seal import sign_root
from timbra.cfdi.tfd import build_tfd, insert_tfd
from timbra.pac.stamping import Certifier

SAMPLES = DATA / "samples" / "comprobante40"
EMISOR = Emisor("EKU9003173C9", "ESCUELA KEMPER URGATE", "601")
RECEPTOR = {"Rfc": "URE180429TM6", "Nombre": "UNIVERSIDAD ROBOTICA ESPAÑOLA", "DomicilioFiscalReceptor": "86991",
            "RegimenFiscalReceptor": "601", "UsoCFDI": "G03"}
IVA16 = {"Traslados": [{"Impuesto": "002", "TipoFactor": "Tasa", "TasaOCuota": "0.16"}]}
LONG = ("Licencia anual de software de facturación electrónica con timbrado ilimitado, soporte técnico en sitio "
        "y en línea, capacitación para cinco usuarios, actualizaciones de catálogos del SAT y respaldo diario "
        "de los comprobantes en dos centros de datos dentro del territorio nacional")
RELATED = "5FB2822E-396D-4725-8521-CDC4BDD20CCF"


def concepto(valor: str, cantidad: str = "1", descripcion: str = "Servicio de consultoría", **kw) -> dict:
    return {"ClaveProdServ": "84111506", "Cantidad": cantidad, "ClaveUnidad": "E48", "Descripcion": descripcion,
            "ValorUnitario": valor, **kw}


def invoice_mxn() -> dict:
    """Several rates (16 %, 0 %, exento), discounts, retenciones de honorarios, a long description, a relation."""
    tasa0 = {"Traslados": [{"Impuesto": "002", "TipoFactor": "Tasa", "TasaOCuota": "0"}]}
    exento = {"Traslados": [{"Impuesto": "002", "TipoFactor": "Exento"}]}
    honorarios = {"Traslados": [{"Impuesto": "002", "TipoFactor": "Tasa", "TasaOCuota": "0.16"}],
                  "Retenciones": [{"Impuesto": "001", "TipoFactor": "Tasa", "TasaOCuota": "0.10"},
                                  {"Impuesto": "002", "TipoFactor": "Tasa", "TasaOCuota": "0.106667"}]}
    return {"Serie": "F", "Folio": "1024", "FormaPago": "03", "MetodoPago": "PUE", "LugarExpedicion": "06000",
            "CondicionesDePago": "Contado", "Receptor": dict(RECEPTOR),
            "CfdiRelacionados": [{"TipoRelacion": "04", "UUIDs": [RELATED]}],
            "Conceptos": [
                concepto("1000", descripcion=LONG, Descuento="100", Impuestos=IVA16, NoIdentificacion="LIC-001"),
                concepto("50", "2", descripcion="Libro de texto", Impuestos=tasa0, ClaveUnidad="H87"),
                concepto("80", descripcion="Consulta médica", Impuestos=exento),
                concepto("10000", descripcion="Honorarios por asesoría fiscal", Impuestos=honorarios),
            ]}


def invoice_usd() -> dict:
    return {"Serie": "USD", "Folio": "7", "FormaPago": "03", "MetodoPago": "PUE", "LugarExpedicion": "06000",
            "Moneda": "USD", "TipoCambio": "17.2513", "Receptor": dict(RECEPTOR),
            "Conceptos": [concepto("1234.5", "2", Impuestos=IVA16), concepto("99.99", Impuestos=IVA16)]}


@pytest.fixture(scope="session")
def stamp(csd: Credential, pac: Credential, trust) -> Callable[[etree._Element], bytes]:
    """Seal a built Comprobante with the emisor's CSD and stamp it with the real Certifier."""
    from timbra.clock import FixedClock

    certifier = Certifier(pac=pac, trust=trust, clock=FixedClock(NOW))

    def run(root: etree._Element) -> bytes:
        sign_root(root, csd)
        return certifier.stamp(etree.tostring(root, xml_declaration=True, encoding="UTF-8")).xml

    return run


@pytest.fixture(scope="session")
def add_tfd(pac: Credential) -> Callable[[bytes], bytes]:
    """A SAT-style sample (its own, unverified Sello) with a TimbreFiscalDigital added as a PAC would."""

    def run(xml: bytes) -> bytes:
        doc = parse(xml)
        t = build_tfd(sello_cfd=doc.get("Sello") or "", pac=pac, rfc_prov_certif="SPR190613I52", moment=NOW)
        return insert_tfd(doc, t.xml)

    return run


@pytest.fixture(scope="session")
def docs(stamp, add_tfd) -> dict[str, bytes]:
    nom = nomina_data()
    nom["Nomina"]["Percepciones"][0] = {**nom["Nomina"]["Percepciones"][0]}
    pagos = pagos_data(pago(docto("1160.00", "2320.00", uuid=UUID_A, traslados=[iva()]),
                            docto("580.00", uuid=UUID_B, parcialidad=2, traslados=[iva()]), Monto="1740.00"))
    return {
        "mxn": stamp(build(Invoice.model_validate(invoice_mxn()), emisor=EMISOR, fecha=NOW)),
        "usd": stamp(build(Invoice.model_validate(invoice_usd()), emisor=EMISOR, fecha=NOW)),
        "pagos": stamp(build_pagos(PagosInvoice.model_validate(pagos), emisor=EMISOR, fecha=NOW)),
        "nomina": stamp(build_nomina(NominaInvoice.model_validate(copy.deepcopy(nom)), emisor=EMISOR, fecha=NOW)),
        "nomina_sat": add_tfd((SAMPLES / "cfdv40-nomina12.xml").read_bytes()),
        "cartaporte": add_tfd((SAMPLES / "cfdv40-cartaporte20.xml").read_bytes()),
        "ejemplo": (SAMPLES / "cfdv40-ejemplo-signed-tfd.xml").read_bytes(),
    }


def pdf_text(pdf: bytes) -> list[str]:
    """Each page's text as pypdf extracts it (test-only: it reads the ToUnicode maps timbra wrote)."""
    from io import BytesIO

    return [page.extract_text() for page in PdfReader(BytesIO(pdf)).pages]


def flat(pdf: bytes) -> str:
    """All the text with runs of whitespace as one space (a wrapped line reads as words with a space)."""
    return " ".join(" ".join(pdf_text(pdf)).split())


def squeezed(pdf: bytes) -> str:
    """All the text without any whitespace (for sellos, which wrap inside a word)."""
    return "".join("".join(pdf_text(pdf)).split())


def rasterize(pdf: bytes, page: int = 0, dpi: int = 150):
    """A page as a PIL image (pypdfium2, test-only)."""
    doc = pdfium.PdfDocument(pdf)
    return doc[page].render(scale=dpi / 72).to_pil().convert("RGB")


def money(text: str) -> str:
    return f"{Decimal(text):,.2f}"


def write(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path
