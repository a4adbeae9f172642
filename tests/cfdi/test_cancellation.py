"""SAT's cancellation XML (Cancelacion, SolicitudAceptacionRechazo): built and signed as SAT's CancelaCFD
service receives it, and a client-signed request verified before anything else."""
from __future__ import annotations

import base64
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
import xmlsec
from lxml import etree

from timbra.cfdi import cancellation as c
from timbra.cfdi.credentials import Credential
from timbra.cfdi.trust import TrustStore
from timbra.codes import CANCELLATION_CODES, CODES, cancellation_text
from timbra.errors import TimbraError
from timbra.gateway.sandbox_ca import SandboxCA

DATA = Path(__file__).resolve().parent.parent / "data"
SAMPLES = DATA / "cancelacion"
DS = "{http://www.w3.org/2000/09/xmldsig#}"
NS = "{http://cancelacfd.sat.gob.mx}"
FECHA = "2026-11-24T12:00:00"
U1 = "11111111-2222-3333-4444-000000000001"
U2 = "11111111-2222-3333-4444-000000000002"
SUST = "00000000-0000-0000-0000-000000000001"


def _sat_csd(stem: str) -> Credential:
    return Credential.load((DATA / f"csd/{stem}.cer").read_bytes(), (DATA / f"csd/{stem}.key").read_bytes(),
                           "12345678a")


def _compact(xml: bytes) -> bytes:
    return etree.tostring(etree.fromstring(xml, etree.XMLParser(remove_blank_text=True)),
                          xml_declaration=True, encoding="UTF-8")


def _xmlsec_verify(xml: bytes) -> None:
    """An independent verifier (libxmlsec1), keyed by the certificate the document carries."""
    root = etree.fromstring(xml)
    cert = base64.b64decode(root.findtext(f".//{DS}X509Certificate"))
    ctx = xmlsec.SignatureContext()
    ctx.key = xmlsec.Key.from_memory(cert, xmlsec.constants.KeyDataFormatCertDer)
    ctx.verify(xmlsec.tree.find_node(root, xmlsec.constants.NodeSignature))


def _code(fn, *args, **kwargs) -> str:
    return _error(fn, *args, **kwargs).code


def _error(fn, *args, **kwargs) -> TimbraError:
    with pytest.raises(TimbraError) as exc:
        fn(*args, **kwargs)
    return exc.value


@pytest.fixture(scope="module")
def sat_trust() -> TrustStore:
    return TrustStore.for_environment(True)


# ---- the other implementation's signed samples ----------------------------------------------------------

def test_phpcfdi_signed_cancelacion_verifies(sat_trust):
    xml = _compact((SAMPLES / "cancellation-signed.xml").read_bytes())
    _xmlsec_verify(xml)
    got = c.verify_cancelacion(xml, trust=sat_trust)
    assert (got.rfc_emisor, got.fecha) == ("EKU9003173C9", "2022-01-06T17:49:12")
    assert got.folios == (c.Folio("62B00C5E-4187-4336-B569-44E0030DC729", "02"),)
    assert got.certificate.no_certificado == "30001000000400002434"


def test_phpcfdi_signed_answer_verifies(sat_trust):
    xml = _compact((SAMPLES / "cancellation-answer-signed.xml").read_bytes())
    _xmlsec_verify(xml)
    got = c.verify_aceptacion_rechazo(xml, trust=sat_trust)
    assert (got.rfc_receptor, got.rfc_pac, got.fecha) == ("LAN7008173R5", "CVD110412TF6", "2019-01-13T14:15:16")
    assert got.folios == (c.Respuesta(U1, "Aceptacion"),)


def test_samples_as_stored_were_indented_after_signing():
    """Whitespace between elements is signed content: the indented copies fail both verifiers alike."""
    for name, verify in (("cancellation-signed.xml", c.verify_cancelacion),
                         ("cancellation-answer-signed.xml", c.verify_aceptacion_rechazo)):
        xml = (SAMPLES / name).read_bytes()
        with pytest.raises(xmlsec.Error):
            _xmlsec_verify(xml)
        assert _code(verify, xml) == "302"


def test_signing_the_sample_reproduces_its_signature_byte_for_byte():
    """Same CSD, same content: the same DigestValue and SignatureValue as the other implementation."""
    sample = etree.fromstring((SAMPLES / "cancellation-signed.xml").read_bytes())
    ours = etree.fromstring(c.sign_cancelacion(_sat_csd("30001000000400002434"), "2022-01-06T17:49:12",
                                               [c.Folio("62B00C5E-4187-4336-B569-44E0030DC729", "02")]))
    for path in (f"{DS}Signature/{DS}SignedInfo/{DS}Reference/{DS}DigestValue", f"{DS}Signature/{DS}SignatureValue",
                 f"{DS}Signature/{DS}KeyInfo/{DS}X509Data/{DS}X509Certificate"):
        assert "".join(ours.findtext(path).split()) == "".join(sample.findtext(path).split())


# ---- building and signing -------------------------------------------------------------------------------

def test_signed_request_has_sats_shape(csd, trust):
    xml = c.sign_cancelacion(csd, FECHA, [c.Folio(U1, "01", SUST), c.Folio(U2, "02")])
    root = etree.fromstring(xml)
    assert root.tag == NS + "Cancelacion" and root.nsmap == {
        None: "http://cancelacfd.sat.gob.mx", "xsd": "http://www.w3.org/2001/XMLSchema",
        "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
    assert dict(root.attrib) == {"RfcEmisor": "EKU9003173C9", "Fecha": FECHA}
    folios = [f.attrib for f in root.iter(NS + "Folio")]
    assert [dict(a) for a in folios] == [{"UUID": U1, "Motivo": "01", "FolioSustitucion": SUST},
                                         {"UUID": U2, "Motivo": "02"}]
    assert len(root.findall(NS + "Folios")) == 2  # one Folios per Folio
    sig = root[-1]
    assert sig.tag == DS + "Signature" and sig.prefix is None
    si = sig.find(DS + "SignedInfo")
    assert si.find(DS + "CanonicalizationMethod").get("Algorithm") == \
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
    assert si.find(DS + "SignatureMethod").get("Algorithm") == "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
    ref = si.find(DS + "Reference")
    assert ref.get("URI") == ""
    assert [t.get("Algorithm") for t in ref.iter(DS + "Transform")] == [
        "http://www.w3.org/2000/09/xmldsig#enveloped-signature"]
    assert ref.find(DS + "DigestMethod").get("Algorithm") == "http://www.w3.org/2000/09/xmldsig#sha1"
    x509 = sig.find(f"{DS}KeyInfo/{DS}X509Data")
    assert x509.findtext(f"{DS}X509IssuerSerial/{DS}X509SerialNumber") == str(csd.certificate.x509.serial_number)
    assert x509.findtext(DS + "X509Certificate") == csd.certificate.base64
    assert sig.find(f"{DS}KeyInfo/{DS}KeyValue/{DS}RSAKeyValue/{DS}Modulus") is not None


def test_own_signature_verifies_here_and_with_xmlsec(csd, trust):
    xml = c.sign_cancelacion(csd, FECHA, [c.Folio(U1, "01", SUST), c.Folio(U2, "03")])
    _xmlsec_verify(xml)
    got = c.verify_cancelacion(xml, trust=trust)
    assert got.rfc_emisor == "EKU9003173C9" and got.fecha == FECHA
    assert got.folios == (c.Folio(U1, "01", SUST), c.Folio(U2, "03"))
    assert got.certificate.der == csd.certificate.der


def test_aware_fecha_is_written_in_mexico_city_time(csd):
    xml = c.sign_cancelacion(csd, datetime(2026, 11, 24, 18, 0, tzinfo=timezone.utc), [c.Folio(U1, "02")])
    assert etree.fromstring(xml).get("Fecha") == "2026-11-24T12:00:00"


def test_retenciones_namespace(csd, trust):
    xml = c.sign_cancelacion(csd, FECHA, [c.Folio(U1, "02")], namespace=c.NS_RETENCIONES)
    _xmlsec_verify(xml)
    assert c.verify_cancelacion(xml, trust=trust).namespace == c.NS_RETENCIONES


def test_aceptacion_rechazo_roundtrip(csd, trust):
    answers = [c.Respuesta(U1, "Aceptacion"), c.Respuesta(U2, "Rechazo")]
    xml = c.sign_aceptacion_rechazo(csd, FECHA, answers, rfc_pac="SPR190613I52")
    _xmlsec_verify(xml)
    got = c.verify_aceptacion_rechazo(xml, trust=trust)
    assert (got.rfc_receptor, got.rfc_pac, got.folios) == ("EKU9003173C9", "SPR190613I52", tuple(answers))
    assert _code(c.build_aceptacion_rechazo, "EKU9003173C9", "SPR190613I52", FECHA,
                 [c.Respuesta(U1, "Acepto")]) == "301"


# ---- verification failures ------------------------------------------------------------------------------

@pytest.mark.parametrize("attr,value", [("UUID", U2), ("Motivo", "03")])
def test_tampered_folio_fails(csd, attr, value):
    xml = c.sign_cancelacion(csd, FECHA, [c.Folio(U1, "02")])
    tampered = xml.replace(f'{attr}="{U1 if attr == "UUID" else "02"}"'.encode(), f'{attr}="{value}"'.encode())
    assert tampered != xml
    assert _code(c.verify_cancelacion, tampered) == "302"
    with pytest.raises(xmlsec.Error):
        _xmlsec_verify(tampered)


def test_swapped_certificate_fails(csd, sandbox_ca):
    other = sandbox_ca.issue("EKU9003173C9", "ESCUELA KEMPER URGATE", not_before=datetime(2025, 1, 1, tzinfo=timezone.utc))
    xml = c.sign_cancelacion(csd, FECHA, [c.Folio(U1, "02")]).replace(
        csd.certificate.base64.encode(), other.certificate.base64.encode())
    assert _code(c.verify_cancelacion, xml) == "302"


def test_signature_by_another_rfcs_csd_fails_303(sandbox_ca):
    other = sandbox_ca.issue("JES900109Q90", "JIMENEZ ESTRADA SALAS", not_before=datetime(2025, 1, 1, tzinfo=timezone.utc))
    root = c.build_cancelacion("EKU9003173C9", FECHA, [c.Folio(U1, "02")])
    xml = c.sign_element(root, other)
    _xmlsec_verify(xml)  # a valid signature, by the wrong taxpayer
    for err in (_error(c.verify_cancelacion, xml),
                _error(c.sign_cancelacion, other, FECHA, [c.Folio(U1, "02")], rfc_emisor="EKU9003173C9")):
        # the cancellation service's 303, not stamping's "Sello no corresponde a emisor" about a CFDI's Emisor
        assert err.code == "303" and err.source == "sat"
        assert (err.message, err.message_en) == cancellation_text("303") != (CODES["303"].es, CODES["303"].en)
        assert err.message == "Sello no corresponde al RFC emisor."


def test_efirma_signed_request_fails_310():
    fiel = _sat_csd("EKU9003173C9_fiel_2027")
    assert fiel.certificate.is_fiel
    xml = c.sign_element(c.build_cancelacion("EKU9003173C9", FECHA, [c.Folio(U1, "02")]), fiel)
    _xmlsec_verify(xml)
    assert _code(c.verify_cancelacion, xml) == "310"
    assert _code(c.sign_cancelacion, fiel, FECHA, [c.Folio(U1, "02")]) == "310"


def test_certificate_not_valid_at_fecha_fails_304(csd):
    xml = c.sign_cancelacion(csd, "2024-06-01T10:00:00", [c.Folio(U1, "02")])  # CSD valid from 2025
    assert _code(c.verify_cancelacion, xml) == "304"
    assert c.verify_cancelacion(xml, at=datetime(2026, 1, 1, tzinfo=timezone.utc)).rfc_emisor == "EKU9003173C9"


def test_certificate_of_an_unknown_ca_fails_308(trust):
    stranger = SandboxCA.create(now=datetime(2020, 1, 1, tzinfo=timezone.utc)).issue(
        "EKU9003173C9", "ESCUELA KEMPER URGATE", not_before=datetime(2025, 1, 1, tzinfo=timezone.utc))
    xml = c.sign_cancelacion(stranger, FECHA, [c.Folio(U1, "02")])
    assert c.verify_cancelacion(xml).rfc_emisor == "EKU9003173C9"  # no trust store: signature and signer only
    assert _code(c.verify_cancelacion, xml, trust=trust) == "308"


def test_unsigned_or_unsafe_documents_fail():
    unsigned = (SAMPLES / "cancellation-document.xml").read_bytes()
    assert _code(c.verify_cancelacion, unsigned) == "302"
    assert _code(c.verify_cancelacion, b"<Cancelacion") == "301"
    assert _code(c.verify_cancelacion, b'<Otro xmlns="http://cancelacfd.sat.gob.mx"/>') == "301"
    for doctype in (b'<!DOCTYPE c [<!ENTITY e SYSTEM "file:///etc/passwd">]>', b'<!DOCTYPE c [<!ENTITY e "x">]>'):
        xml = (b'<?xml version="1.0"?>' + doctype + b'<Cancelacion xmlns="http://cancelacfd.sat.gob.mx" '
               b'RfcEmisor="EKU9003173C9" Fecha="2026-01-01T00:00:00"><Folios>&e;</Folios></Cancelacion>')
        assert _code(c.verify_cancelacion, xml) == "301"
    assert _code(c.verify_cancelacion, b"<a/>" * 10, max_bytes=10) == "T107"


# ---- the request's own rules, building and verifying ----------------------------------------------------

@pytest.mark.parametrize("folio,code", [
    (c.Folio(U1, "01"), "208"),                 # 01 requires the replacement's UUID
    (c.Folio(U1, "01", ""), "208"),
    (c.Folio(U1, "01", "no-es-uuid"), "208"),
    (c.Folio(U1, "02", SUST), "209"),           # only 01 carries FolioSustitucion
    (c.Folio(U1, "03", SUST), "209"),
    (c.Folio(U1, "04", SUST), "209"),
    (c.Folio(U1, "05"), "311"),
    (c.Folio(U1, ""), "311"),
    (c.Folio("no-es-uuid", "02"), "301"),
])
def test_folio_rules_when_building(csd, folio, code):
    err = _error(c.sign_cancelacion, csd, FECHA, [folio])
    assert err.code == code
    assert (err.message, err.message_en) == cancellation_text(code)  # SAT's cancellation texts, es and en


def test_every_sat_code_raised_here_is_a_cancellation_code():
    """cancellation.py raises SAT's codes from the cancellation table only; 208-311 are no stamping codes."""
    source = Path(c.__file__).read_text(encoding="utf-8")
    raised = set(re.findall(r'cancellation_error\("(\d+)"', source))
    assert raised == {"208", "209", "301", "302", "303", "304", "308", "310", "311"}
    assert raised <= CANCELLATION_CODES.keys()
    assert not re.search(r'\berror\("\d', source)  # no SAT number through the stamping table's error()
    assert not {"208", "209", "310", "311"} & CODES.keys()


def _signed_raw(csd: Credential, folios: list[dict[str, str]]) -> bytes:
    """A request signed without the builder's checks: what a careless client might send."""
    root = etree.Element(NS + "Cancelacion", nsmap={None: NS[1:-1]}, RfcEmisor="EKU9003173C9", Fecha=FECHA)
    for attrs in folios:
        etree.SubElement(etree.SubElement(root, NS + "Folios"), NS + "Folio", attrs)
    return c.sign_element(root, csd)


@pytest.mark.parametrize("attrs,code", [
    ({"UUID": U1, "Motivo": "01"}, "208"),
    ({"UUID": U1, "Motivo": "02", "FolioSustitucion": SUST}, "209"),
    ({"UUID": U1, "Motivo": "02", "FolioSustitucion": ""}, "209"),  # an empty attribute is still there
    ({"UUID": U1, "Motivo": "09"}, "311"),
    ({"UUID": U1}, "301"),
])
def test_folio_rules_when_verifying(csd, attrs, code):
    assert _code(c.verify_cancelacion, _signed_raw(csd, [attrs])) == code


def test_500_folios_pass_and_501_are_refused(csd):
    folios = [c.Folio(f"11111111-2222-3333-4444-{i:012d}", "02") for i in range(501)]
    xml = c.sign_cancelacion(csd, FECHA, folios[:500])
    assert len(c.verify_cancelacion(xml).folios) == 500
    assert _code(c.sign_cancelacion, csd, FECHA, folios) == "T180"
    assert _code(c.sign_cancelacion, csd, FECHA, []) == "T180"
    raw = _signed_raw(csd, [{"UUID": f.uuid, "Motivo": "02"} for f in folios])
    assert _code(c.verify_cancelacion, raw) == "T180"


def test_repeated_uuid_refused(csd):
    assert _code(c.sign_cancelacion, csd, FECHA, [c.Folio(U1, "02"), c.Folio(U1.lower(), "03")]) == "T181"
    raw = _signed_raw(csd, [{"UUID": U1, "Motivo": "02"}, {"UUID": U1, "Motivo": "02"}])
    assert _code(c.verify_cancelacion, raw) == "T181"
