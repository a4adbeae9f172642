"""The stamp path end to end, in process."""
from dataclasses import replace
from datetime import timedelta

import pytest
from lxml import etree

from tests.conftest import DATA, NOW
from tests.xmlhelp import node, set_attrs
from timbra.cfdi.credentials import Credential
from timbra.cfdi.document import NS33, NS_XSI
from timbra.cfdi.seal import sign_root
from timbra.errors import TimbraError
from timbra.pac.stamping import Certifier
from timbra.settings import Settings


def test_stamp_answers_what_a_client_needs(make_xml, certifier):
    s = certifier.stamp(make_xml())
    assert len(s.uuid) == 36 and s.fecha_timbrado == "2026-11-24T12:00:00"
    assert s.timbre.sello_sat and s.timbre.no_certificado_sat == certifier.pac.certificate.no_certificado


def test_307_document_already_stamped(make_xml, certifier):
    s = certifier.stamp(make_xml())
    with pytest.raises(TimbraError) as exc:
        certifier.stamp(s.xml)
    assert exc.value.code == "307"
    assert exc.value.findings[0].value == s.uuid


def test_all_findings_come_back_at_once(make_xml, certifier):
    def break_many(root):
        node(root, "cfdi:Emisor").set("Rfc", "XIA190128J61")  # 303
        root.set("FormaPago", "77")  # CFDI40104
    with pytest.raises(TimbraError) as exc:
        certifier.stamp(make_xml(break_many, fecha=NOW - timedelta(days=5)))  # 401
    got = {f.code for f in exc.value.findings}
    assert {"303", "401", "CFDI40104"} <= got
    assert exc.value.as_dict()["source"] == "client"


def test_sats_real_test_csd_stamps(make_xml, certifier):
    real = Credential.load((DATA / "csd/EKU9003173C9_csd_2027.cer").read_bytes(),
                           (DATA / "csd/EKU9003173C9_csd_2027.key").read_bytes(), "12345678a")
    s = certifier.stamp(make_xml(cred=real))
    root = etree.fromstring(s.xml)
    assert root.get("NoCertificado") == "30001000000500003416"


def test_300_conceptos(make_xml, certifier):
    s = certifier.stamp(make_xml(conceptos=300))
    assert s.xml.count(b"<cfdi:Concepto ") == 300


def cfdi33(csd, fecha):
    """A minimal CFDI 3.3 sealed with the sandbox CSD."""
    root = etree.Element(f"{{{NS33}}}Comprobante", nsmap={"cfdi": NS33, "xsi": NS_XSI})
    root.set(f"{{{NS_XSI}}}schemaLocation", "http://www.sat.gob.mx/cfd/3 http://www.sat.gob.mx/sitio_internet/cfd/3/cfdv33.xsd")
    set_attrs(root, Version="3.3", Fecha=fecha, FormaPago="01", SubTotal="100.00", Moneda="MXN", Total="116.00",
              TipoDeComprobante="I", MetodoPago="PUE", LugarExpedicion="06000")
    etree.SubElement(root, f"{{{NS33}}}Emisor", Rfc="EKU9003173C9", Nombre="ESCUELA KEMPER URGATE", RegimenFiscal="601")
    etree.SubElement(root, f"{{{NS33}}}Receptor", Rfc="URE180429TM6", UsoCFDI="G03")
    cs = etree.SubElement(root, f"{{{NS33}}}Conceptos")
    c = etree.SubElement(cs, f"{{{NS33}}}Concepto", ClaveProdServ="84111506", Cantidad="1", ClaveUnidad="E48",
                         Descripcion="Servicio", ValorUnitario="100.00", Importe="100.00")
    etree.SubElement(etree.SubElement(etree.SubElement(c, f"{{{NS33}}}Impuestos"), f"{{{NS33}}}Traslados"),
                         f"{{{NS33}}}Traslado", Base="100.00", Impuesto="002", TipoFactor="Tasa", TasaOCuota="0.160000",
                         Importe="16.00")
    imp = etree.SubElement(root, f"{{{NS33}}}Impuestos", TotalImpuestosTrasladados="16.00")
    etree.SubElement(etree.SubElement(imp, f"{{{NS33}}}Traslados"), f"{{{NS33}}}Traslado", Impuesto="002",
                     TipoFactor="Tasa", TasaOCuota="0.160000", Importe="16.00")
    sign_root(root, csd)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_cfdi33_is_refused_with_a_clear_message(csd, certifier):
    xml = cfdi33(csd, "2026-11-24T11:00:00")
    with pytest.raises(TimbraError) as exc:
        certifier.stamp(xml)
    assert [f.code for f in exc.value.findings] == ["T001"]
    assert "2023-03-31" in exc.value.findings[0].detail


def test_cfdi33_stamps_when_allowed(csd, pac, trust, clock):
    st = Certifier(pac=pac, trust=trust, clock=clock, settings=replace(Settings(), allow_cfdi33=True))
    xml = cfdi33(csd, "2026-11-24T11:00:00")
    s = st.stamp(xml)
    assert b"<tfd:TimbreFiscalDigital" in s.xml
    tampered = xml.replace(b'Total="116.00"', b'Total="117.00"')
    with pytest.raises(TimbraError) as exc:
        st.stamp(tampered)
    assert "CFDI33102" in [f.code for f in exc.value.findings]  # SAT's 3.3 code, never CFDI40xxx


def test_cfdi33_sample_signed_with_tfd(certifier):
    """SAT's 3.3 sample: parsed, its cadena/seal verified (no CFDI40102), refused as already stamped."""
    v = certifier.validate((DATA / "samples/comprobante33/cfdv33-signed-tfd.xml").read_bytes())
    got = [f.code for f in v.findings]
    assert "CFDI40102" not in got and "307" in got and "T001" in got


def test_threads_stamp_in_parallel(make_xml, certifier):
    from concurrent.futures import ThreadPoolExecutor

    docs = [make_xml(lambda r, i=i: r.set("Folio", str(i))) for i in range(40)]
    with ThreadPoolExecutor(8) as pool:
        uuids = list(pool.map(lambda d: certifier.stamp(d).uuid, docs))
    assert len(set(uuids)) == 40
