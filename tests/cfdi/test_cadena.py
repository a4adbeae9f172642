"""The cadena original written directly (CFDI 4.0 without complements) is SAT's XSLT's, byte for byte: on every
sample, on the bench's invoices and on the edge cases of XPath's normalize-space and of the Opcional/Requerido
templates (an empty optional attribute is written, an absent required one is an empty field)."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import DATA
from timbra.cfdi.cadena import cadena_original, cadena_xslt_of, normalize_space
from timbra.cfdi.sample import sample_invoice
from timbra.gateway.sandbox_ca import SandboxCA

NS = "http://www.sat.gob.mx/cfd/4"
SAMPLES = sorted((DATA / "samples").rglob("*.xml"))
NOW = datetime(2026, 11, 24, 18, 0, 0, tzinfo=timezone.utc)


def both(root: etree._Element) -> tuple[str, str]:
    version = root.get("Version")
    return cadena_original(root, version), cadena_xslt_of(root, version)


@pytest.fixture(scope="module")
def csd():
    ca = SandboxCA.create(now=NOW)
    return ca.issue("EKU9003173C9", "ESCUELA KEMPER URGATE", not_before=datetime(2026, 1, 1, tzinfo=timezone.utc))


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_sample(path: Path):
    root = etree.parse(str(path)).getroot()
    if root.get("Version") not in ("3.3", "4.0"):
        pytest.skip("not a Comprobante")
    fast, xslt = both(root)
    assert fast == xslt


@pytest.mark.parametrize("conceptos", [1, 3, 300])
def test_bench_invoices(csd, conceptos):
    root = sample_invoice(csd, NOW, conceptos=conceptos)
    fast, xslt = both(root)
    assert fast == xslt and fast.startswith("||4.0|A|1|")


def sub(parent: etree._Element, local: str, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, f"{{{NS}}}{local}")
    for k, v in attrs.items():
        el.set(k, v)
    return el


def test_every_node_and_attribute(csd):
    root = sample_invoice(csd, NOW, conceptos=2)
    for k in ("CondicionesDePago", "Descuento", "TipoCambio", "Confirmacion"):
        root.set(k, f"  x\t {k}  ")
    root.set("Serie", "")  # an empty optional attribute is still a field
    del root.attrib["Folio"]
    root.insert(0, etree.Element(f"{{{NS}}}InformacionGlobal", Periodicidad="01", Meses="01", Año="2026"))
    rel = etree.Element(f"{{{NS}}}CfdiRelacionados", TipoRelacion="04")
    sub(rel, "CfdiRelacionado", UUID="5FB2822E-396D-4725-8521-CDC4BDD20CCF")
    sub(rel, "CfdiRelacionado", UUID=" 6FB2822E-396D-4725-8521-CDC4BDD20CCF ")
    root.insert(1, rel)
    root.insert(2, etree.Element(f"{{{NS}}}CfdiRelacionados"))  # TipoRelacion absent: an empty field
    emisor = root.find(f"{{{NS}}}Emisor")
    emisor.set("FacAtrAdquirente", "0123456789")
    receptor = root.find(f"{{{NS}}}Receptor")
    receptor.set("ResidenciaFiscal", "USA")
    receptor.set("NumRegIdTrib", "")
    del receptor.attrib["Nombre"]
    concepto = root.find(f"{{{NS}}}Conceptos/{{{NS}}}Concepto")
    concepto.set("Unidad", "Pieza\u00a0grande")  # NBSP is not XML whitespace: kept
    concepto.set("Descripcion", "uno\u2003 dos\r\n tres\tcuatro ")
    imp = concepto.find(f"{{{NS}}}Impuestos")
    ret = sub(imp, "Retenciones")
    sub(ret, "Retencion", Base="10", Impuesto="001", TipoFactor="Tasa", TasaOCuota="0.100000", Importe="1.00")
    sub(ret, "Retencion", Base="10", Impuesto="002", TipoFactor="Tasa")
    sub(concepto, "ACuentaTerceros", RfcACuentaTerceros="XAXX010101000", NombreACuentaTerceros="N",
        RegimenFiscalACuentaTerceros="601", DomicilioFiscalACuentaTerceros="06000")
    sub(concepto, "InformacionAduanera", NumeroPedimento="21  47  3807  8003832")
    sub(concepto, "CuentaPredial", Numero="1")
    sub(concepto, "CuentaPredial", Numero="2")
    sub(concepto, "ComplementoConcepto")  # empty: nothing to write
    parte = sub(concepto, "Parte", ClaveProdServ="01010101", Cantidad="1", Descripcion="p", Importe="")
    sub(parte, "InformacionAduanera", NumeroPedimento="1")
    sub(concepto, "Parte", ClaveProdServ="01010102", Cantidad="2", Unidad="u", Descripcion="q", ValorUnitario="1")
    imp = root.find(f"{{{NS}}}Impuestos")
    imp.set("TotalImpuestosRetenidos", "1.00")
    ret = etree.Element(f"{{{NS}}}Retenciones")
    sub(ret, "Retencion", Impuesto="001", Importe="1.00")
    sub(ret, "Retencion")
    imp.insert(0, ret)
    sub(root, "Complemento")  # empty
    addenda = sub(root, "Addenda")
    etree.SubElement(addenda, "{urn:x}Libre", A="no es parte de la cadena")
    etree.SubElement(root, "{urn:x}Otro").text = " texto "
    fast, xslt = both(root)
    assert fast == xslt
    assert "|Pieza\u00a0grande|" in fast and "|uno\u2003 dos tres cuatro|" in fast and "||4.0||" in fast


def test_parsed_whitespace_and_character_references():
    xml = (f'<cfdi:Comprobante xmlns:cfdi="{NS}" Version="4.0" Serie="  A  B " Folio="&#9;1&#10;2&#13;"'
           ' Fecha="2026-11-24T12:00:00" NoCertificado="1" SubTotal="1" Moneda="MXN" Total="1"'
           ' TipoDeComprobante="I" Exportacion="01" LugarExpedicion="06000"><cfdi:Emisor Rfc="a&#160;b"'
           ' Nombre="x&#x2028;y" RegimenFiscal="601"/></cfdi:Comprobante>').encode()
    fast, xslt = both(etree.fromstring(xml))
    assert fast == xslt


def test_a_complement_takes_the_xslt(csd):
    root = sample_invoice(csd, NOW, conceptos=1)
    comp = sub(root, "Complemento")
    etree.SubElement(comp, "{http://www.sat.gob.mx/implocal}ImpuestosLocales", version="1.0",
                     TotaldeRetenciones="0.00", TotaldeTraslados="0.00")
    fast, xslt = both(root)
    assert fast == xslt and "|1.0|0.00|0.00||" in fast
    concepto = root.find(f"{{{NS}}}Conceptos/{{{NS}}}Concepto")
    cc = sub(concepto, "ComplementoConcepto")
    etree.SubElement(cc, "{urn:x}Desconocido").text = "texto del complemento"
    fast, xslt = both(root)
    assert fast == xslt and "texto del complemento" in fast


@pytest.mark.parametrize("text", ["", " ", "a", " a  b ", "\ta\n\rb\t", "a\u00a0", "\u3000a", "ñ  ñ", "a\x85b"])
def test_normalize_space_is_xpaths(text):
    xslt = etree.XSLT(etree.XML(
        '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:output method="text"/>'
        '<xsl:template match="/"><xsl:value-of select="normalize-space(/r/@v)"/></xsl:template></xsl:stylesheet>'))
    doc = etree.Element("r")
    doc.set("v", text)
    assert normalize_space(text) == str(xslt(etree.ElementTree(doc)))


def test_odd_shapes_the_schema_would_refuse(csd):
    """The direct path follows the XSLT's paths, not the schema: a Parte anywhere under a Concepto, a comment."""
    root = sample_invoice(csd, NOW, conceptos=3)
    c1, c2, c3 = root.find(f"{{{NS}}}Conceptos")
    sub(c1.find(f"{{{NS}}}Impuestos/{{{NS}}}Traslados/{{{NS}}}Traslado"), "Parte", ClaveProdServ="1", Cantidad="1",
        Descripcion="escondida")
    sub(etree.SubElement(c2, "{urn:x}Ajeno"), "Parte", ClaveProdServ="2", Cantidad="2", Descripcion="ajena")
    c3.find(f"{{{NS}}}Impuestos").append(etree.Comment("comentario"))
    fast, xslt = both(root)
    assert fast == xslt and "|escondida|" in fast and "|ajena|" in fast
