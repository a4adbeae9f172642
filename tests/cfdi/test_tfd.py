"""The stamped CFDI, verified independently of the code that made it."""
import base64
import re
import uuid

import pytest
from lxml import etree

from tests.conftest import NOW
from timbra.cfdi.document import NS_TFD, parse
from timbra.sat import XML_ROOT
from timbra.sat.schemas import schema


def sat_xslt(path: str) -> etree.XSLT:
    """A fresh compile of SAT's stylesheet, independent of timbra's cached ones."""
    return etree.XSLT(etree.parse(str(XML_ROOT / path)))


def verify_stamped(stamped: bytes, original: bytes, pac, csd) -> etree._Element:
    root = etree.fromstring(stamped)
    # 1. the stamped document is valid against SAT's schema (cfdv40 + TFD 1.1)
    assert schema("4.0").validate(root.getroottree()), schema("4.0").error_log
    tfd = root.find(f"{{http://www.sat.gob.mx/cfd/4}}Complemento/{{{NS_TFD}}}TimbreFiscalDigital")
    assert tfd is not None
    # 2. SelloSAT verifies with the PAC certificate over the TFD cadena from SAT's XSLT
    tfd_doc = etree.ElementTree(etree.fromstring(etree.tostring(tfd)))
    cadena_tfd = str(sat_xslt("TimbreFiscalDigital/cadenaoriginal_TFD_1_1.xslt")(tfd_doc))
    assert cadena_tfd.startswith("||1.1|" + tfd.get("UUID") + "|")
    assert pac.certificate.verify(base64.b64decode(tfd.get("SelloSAT")), cadena_tfd.encode())
    assert tfd.get("NoCertificadoSAT") == pac.certificate.no_certificado
    # 3. the CFDI's Sello still verifies: the stamped bytes keep the original cadena
    cadena = str(sat_xslt("4/cadenaoriginal_4_0/cadenaoriginal_4_0.xslt")(root.getroottree()))
    original_cadena = str(sat_xslt("4/cadenaoriginal_4_0/cadenaoriginal_4_0.xslt")(etree.fromstring(original).getroottree()))
    assert cadena == original_cadena
    assert csd.certificate.verify(base64.b64decode(root.get("Sello")), cadena.encode())
    assert tfd.get("SelloCFD") == root.get("Sello")
    # 4. the bytes outside the TFD are the bytes received
    tfd_bytes = re.search(rb"<tfd:TimbreFiscalDigital[^>]*/>", stamped).group(0)
    assert stamped.replace(tfd_bytes, b"").replace(b"<cfdi:Complemento></cfdi:Complemento>", b"") == \
        original.replace(b"<cfdi:Complemento/>", b"").replace(b"<cfdi:Complemento></cfdi:Complemento>", b"")
    return tfd


def test_stamp_verifies_independently(make_xml, certifier, pac, csd):
    xml = make_xml()
    stamp = certifier.stamp(xml)
    tfd = verify_stamped(stamp.xml, xml, pac, csd)
    u = uuid.UUID(tfd.get("UUID"))
    assert u.version == 4 and tfd.get("UUID") == str(u).upper()
    assert tfd.get("Version") == "1.1" and tfd.get("RfcProvCertif") == "SPR190613I52"
    # NOW is 18:00 UTC = 12:00 in Mexico City; no offset in FechaTimbrado
    assert tfd.get("FechaTimbrado") == "2026-11-24T12:00:00"
    assert stamp.uuid == tfd.get("UUID")


@pytest.mark.parametrize("variant", ["empty", "selfclosed", "other-complement", "addenda", "comment", "no-prefix",
                                     "crlf-spaces"])
def test_insertion_keeps_bytes(variant, make_xml, certifier, pac, csd):
    xml = make_xml()
    if variant == "empty":
        xml = xml.replace(b"</cfdi:Comprobante>", b"<cfdi:Complemento></cfdi:Complemento></cfdi:Comprobante>")
    elif variant == "selfclosed":
        xml = xml.replace(b"</cfdi:Comprobante>", b"<cfdi:Complemento/></cfdi:Comprobante>")
    elif variant == "other-complement":
        leyenda = (b'<leyendasFisc:LeyendasFiscales xmlns:leyendasFisc="http://www.sat.gob.mx/leyendasFiscales" '
                   b'version="1.0"><leyendasFisc:Leyenda textoLeyenda="Leyenda de prueba"/></leyendasFisc:LeyendasFiscales>')
        xml = xml.replace(b"</cfdi:Comprobante>", b"<cfdi:Complemento>" + leyenda + b"</cfdi:Complemento></cfdi:Comprobante>")
        root = etree.fromstring(xml)
        from timbra.cfdi.seal import sign_root
        sign_root(root, csd)
        xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    elif variant == "addenda":
        xml = xml.replace(b"</cfdi:Comprobante>",
                          b'<cfdi:Addenda><erp:Pedido xmlns:erp="urn:mi-erp" numero="PO-1"><erp:Nota>'
                          b'</cfdi:Complemento> no es un cierre real</erp:Nota></erp:Pedido></cfdi:Addenda></cfdi:Comprobante>'
                          .replace(b"</cfdi:Complemento>", b"&lt;/cfdi:Complemento&gt;"))
    elif variant == "comment":
        xml = xml.replace(b"</cfdi:Comprobante>", b"<!-- </cfdi:Comprobante> --><cfdi:Complemento/></cfdi:Comprobante>")
    elif variant == "no-prefix":
        xml = xml.replace(b"cfdi:", b"").replace(b'xmlns:cfdi="', b'xmlns="')
    elif variant == "crlf-spaces":
        xml = xml.replace(b"><", b">\r\n  <").replace(b"</cfdi:Comprobante>", b"</cfdi:Comprobante >")
    stamp = certifier.stamp(xml)
    out = stamp.xml
    doc = parse(out)
    assert doc.tfd is not None and doc.tfd.get("UUID") == stamp.uuid
    if variant not in ("no-prefix",):
        verify_stamped(out, xml, pac, csd)
    # everything before the TFD and after it is the original, byte for byte
    start = out.index(b"<tfd:TimbreFiscalDigital")
    end = out.index(b"/>", start) + 2
    assert out[:start] + out[end:] in (xml, xml.replace(b"<cfdi:Complemento/>", b"<cfdi:Complemento></cfdi:Complemento>"),
                                       xml.replace(b"</cfdi:Comprobante", b"<cfdi:Complemento></cfdi:Complemento></cfdi:Comprobante", 1)
                                       if b"<cfdi:Complemento" not in xml else xml,
                                       xml.replace(b"<cfdi:Addenda>", b"<cfdi:Complemento></cfdi:Complemento><cfdi:Addenda>"),
                                       xml.replace(b"</Comprobante>", b"<Complemento></Complemento></Comprobante>"))
    if variant == "addenda":
        assert out.index(b"<tfd:TimbreFiscalDigital") < out.index(b"<cfdi:Addenda>")


def test_addenda_in_foreign_namespace_does_not_fail_validation(make_xml, codes):
    xml = make_xml().replace(b"</cfdi:Comprobante>",
                             b'<cfdi:Addenda><erp:Pedido xmlns:erp="urn:mi-erp" numero="PO-1"/></cfdi:Addenda></cfdi:Comprobante>')
    assert codes(xml) == []


@pytest.mark.parametrize("leyenda", [None, "  Leyenda   con  espacios ", "Ñandú & <cosas>"])
def test_tfd_cadena_equals_sats_xslt(leyenda, pac):
    from timbra.cfdi.cadena import cadena_tfd
    from timbra.cfdi.tfd import build_tfd, tfd_cadena

    t = build_tfd(sello_cfd="  abc\n def ", pac=pac, rfc_prov_certif="SPR190613I52", moment=NOW, leyenda=leyenda)
    el = etree.fromstring(t.xml)
    assert tfd_cadena(el) == cadena_tfd(el) == t.cadena


def _tfd_by_lxml(*, sello_cfd, pac, rfc_prov_certif, moment, uuid, leyenda=None):
    """The TFD as an lxml element serialized by lxml (how build_tfd wrote it before it wrote text): the
    reference its bytes are compared with."""
    from timbra.cfdi.document import NS_XSI
    from timbra.cfdi.tfd import TFD_SCHEMA_LOCATION, Timbre, fecha_timbrado, tfd_cadena

    el = etree.Element(f"{{{NS_TFD}}}TimbreFiscalDigital", nsmap={"tfd": NS_TFD, "xsi": NS_XSI})
    el.set(f"{{{NS_XSI}}}schemaLocation", TFD_SCHEMA_LOCATION)
    el.set("Version", "1.1")
    el.set("UUID", uuid.upper())
    el.set("FechaTimbrado", fecha_timbrado(moment))
    el.set("RfcProvCertif", rfc_prov_certif)
    if leyenda:
        el.set("Leyenda", leyenda)
    el.set("SelloCFD", sello_cfd)
    el.set("NoCertificadoSAT", pac.certificate.no_certificado)
    cadena = tfd_cadena(el)
    sello_sat = base64.b64encode(pac.sign(cadena.encode("utf-8"))).decode("ascii")
    el.set("SelloSAT", sello_sat)
    return Timbre(uuid.upper(), el.get("FechaTimbrado"), rfc_prov_certif, sello_cfd, pac.certificate.no_certificado,
                  sello_sat, cadena, etree.tostring(el, encoding="utf-8"), leyenda)


@pytest.mark.parametrize(("sello_cfd", "rfc", "leyenda"), [
    ("QUJD" * 86, "SPR190613I52", None),
    ("QUJD" * 86, "SPR190613I52", ""),
    ("  abc\n def\t\r ", "SPR190613I52", "  Leyenda   con  espacios "),
    ('a&b<c>d"e\'f ]]> &amp; &#10;', "A&B<C>\"", "Ñandú & <cosas> \"citas\" 'simples'\n\ttab\r"),
    ("ñ \u00a0 \u2028 \U0001F600 \ufffd", "ÑÑÑ", "\u00a0nbsp\u00a0"),
])
def test_tfd_text_equals_lxml(sello_cfd, rfc, leyenda, pac):
    """build_tfd writes its XML as text: the same bytes, cadena and SelloSAT lxml gives for the same values."""
    from timbra.cfdi.tfd import build_tfd

    u = "6f1c1b0e-8a52-4c1e-9a43-5b3d2f1e0a77"
    got = build_tfd(sello_cfd=sello_cfd, pac=pac, rfc_prov_certif=rfc, moment=NOW, uuid=u, leyenda=leyenda)
    want = _tfd_by_lxml(sello_cfd=sello_cfd, pac=pac, rfc_prov_certif=rfc, moment=NOW, uuid=u, leyenda=leyenda)
    assert got == want
    el = etree.fromstring(got.xml)
    assert [el.get(a) for a in ("SelloCFD", "RfcProvCertif", "Leyenda")] == [sello_cfd, rfc, leyenda or None]


@pytest.mark.parametrize("bad", ["a\x00b", "a\x01b", "a\x1fb", "a\ufffeb", "a\uffffb", "a\ud800b"])
@pytest.mark.parametrize("where", ["sello_cfd", "leyenda", "rfc_prov_certif"])
def test_tfd_refuses_what_xml_cannot_hold(bad, where, pac):
    """As lxml's set() did: a value XML cannot hold is a ValueError, never a malformed TFD."""
    from timbra.cfdi.tfd import build_tfd

    kw = {"sello_cfd": "abc", "rfc_prov_certif": "SPR190613I52", "leyenda": None, where: bad}
    with pytest.raises(ValueError):
        build_tfd(pac=pac, moment=NOW, **kw)
    with pytest.raises(ValueError):
        _tfd_by_lxml(pac=pac, moment=NOW, uuid="6f1c1b0e-8a52-4c1e-9a43-5b3d2f1e0a77", **kw)


def test_uuid_is_a_random_version_4_uuid():
    """build_tfd's UUIDs are what uuid.uuid4() gives: version 4, RFC 4122 variant, all distinct."""
    from timbra.cfdi.tfd import _uuid4

    seen = set()
    for _ in range(2000):
        text = _uuid4()
        u = uuid.UUID(text)
        assert str(u) == text and u.version == 4 and u.variant == uuid.RFC_4122
        seen.add(text)
    assert len(seen) == 2000


def test_fecha_timbrado_is_mexico_city_wall_time_to_the_second():
    """fecha_timbrado (remembered per second) equals strftime of the moment in Mexico City, across the
    years Mexico City still changed its clocks and for moments given in other zones."""
    import random
    from datetime import datetime, timedelta, timezone

    from timbra.cfdi.tfd import MEXICO_CITY, fecha_timbrado

    rng = random.Random(17)
    start = datetime(2015, 1, 1, tzinfo=timezone.utc)
    for i in range(3000):
        m = start + timedelta(seconds=rng.randrange(0, 13 * 365 * 86400), microseconds=rng.randrange(10**6))
        if i % 2:
            m = m.astimezone(timezone(timedelta(hours=rng.randrange(-12, 13))))
        assert fecha_timbrado(m) == m.astimezone(MEXICO_CITY).strftime("%Y-%m-%dT%H:%M:%S"), m
        assert fecha_timbrado(m) == fecha_timbrado(m)  # the remembered answer
