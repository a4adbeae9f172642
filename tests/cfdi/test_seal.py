"""Sello and certificate: 302, 303, 304, 305, 306, 308, CFDI40102, CFDI40106, each failing and passing."""
import base64
from datetime import timedelta

from lxml import etree

from tests.conftest import DATA, NOW
from tests.xmlhelp import node, set_attrs
from timbra.cfdi.cadena import cadena_original
from timbra.cfdi.credentials import Credential
from timbra.gateway.sandbox_ca import SandboxCA


def resign_tampered(xml: bytes, **attrs: str) -> bytes:
    root = etree.fromstring(xml)
    set_attrs(root, **attrs)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_valid_document_has_no_seal_findings(make_xml, codes):
    assert codes(make_xml()) == []


def test_cfdi40102_document_changed_after_sealing(make_xml, findings):
    xml = resign_tampered(make_xml(), Folio="999")
    got = findings(xml)
    assert [f.code for f in got] == ["CFDI40102"]
    assert got[0].node == "Comprobante@Sello"


def test_302_sello_not_base64_or_wrong_length(make_xml, codes):
    assert codes(resign_tampered(make_xml(), Sello="@@no-base64@@")) == ["302"]
    assert codes(resign_tampered(make_xml(), Sello="QUJD")) == ["302"]


def test_cfdi40106_bad_certificate_or_number(make_xml, codes, csd):
    assert "CFDI40106" in codes(resign_tampered(make_xml(), Certificado="TUlJ"))
    # a NoCertificado that is not the certificate's, in a document correctly sealed with it
    root = etree.fromstring(make_xml())
    root.set("NoCertificado", "30001000000500003416")
    root.set("Sello", "")
    cadena = cadena_original(root, "4.0")
    root.set("Sello", base64.b64encode(csd.sign(cadena.encode())).decode())
    assert codes(etree.tostring(root, xml_declaration=True, encoding="UTF-8")) == ["CFDI40106"]


def test_303_certificate_of_another_rfc(make_xml, findings):
    got = findings(make_xml(lambda r: node(r, "cfdi:Emisor").set("Rfc", "XIA190128J61")))
    assert [(f.code, f.node, f.expected) for f in got] == [("303", "Emisor@Rfc", "EKU9003173C9")]


def test_304_certificate_expired_at_stamp_time(make_xml, codes, sandbox_ca):
    cred = sandbox_ca.issue("EKU9003173C9", "ESCUELA KEMPER URGATE", not_before=NOW - timedelta(days=400),
                            not_after=NOW - timedelta(hours=1))
    assert codes(make_xml(cred=cred, fecha=NOW - timedelta(hours=2))) == ["304"]
    assert codes(make_xml(cred=cred, fecha=NOW - timedelta(hours=2))) == ["304"]


def test_305_fecha_before_certificate_validity(make_xml, codes, sandbox_ca):
    cred = sandbox_ca.issue("EKU9003173C9", "ESCUELA KEMPER URGATE", not_before=NOW - timedelta(hours=1))
    assert codes(make_xml(cred=cred, fecha=NOW - timedelta(hours=2))) == ["305"]
    assert codes(make_xml(cred=cred, fecha=NOW - timedelta(minutes=30))) == []


def test_306_sealed_with_efirma(make_xml, codes, sandbox_ca):
    fiel = sandbox_ca.issue("EKU9003173C9", "ESCUELA KEMPER URGATE", fiel=True,
                            not_before=NOW - timedelta(days=1))
    assert codes(make_xml(cred=fiel)) == ["306"]


def test_306_with_sats_real_test_efirma(make_xml, codes):
    fiel = Credential.load((DATA / "csd/EKU9003173C9_fiel_2027.cer").read_bytes(),
                           (DATA / "csd/EKU9003173C9_fiel_2027.key").read_bytes(), "12345678a")
    assert codes(make_xml(cred=fiel)) == ["306"]


def test_308_not_issued_by_a_trusted_ca(make_xml, codes):
    rogue = SandboxCA.create(now=NOW - timedelta(days=10)).issue(
        "EKU9003173C9", "ESCUELA KEMPER URGATE", not_before=NOW - timedelta(days=1))
    assert codes(make_xml(cred=rogue)) == ["308"]


def test_sats_real_test_csd_passes(make_xml, codes):
    real = Credential.load((DATA / "csd/EKU9003173C9_csd_2027.cer").read_bytes(),
                           (DATA / "csd/EKU9003173C9_csd_2027.key").read_bytes(), "12345678a")
    assert codes(make_xml(cred=real)) == []


def test_sample_signed_by_sat_cadena_matches(certifier):
    """A CFDI 4.0 sealed elsewhere (SAT's 2017 test CSD): the Sello verifies with our cadena."""
    from timbra.cfdi.document import parse
    from timbra.cfdi.seal import verify_seal

    doc = parse((DATA / "samples/comprobante40/cfdv40-ejemplo-signed-tfd.xml").read_bytes())
    check = verify_seal(doc, trust=certifier.trust, fecha=None, now=NOW)
    assert "CFDI40102" not in [f.code for f in check.findings]
    assert check.cadena.startswith("||4.0|")
