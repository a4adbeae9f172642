"""Hostile XML at the pure layer (timbra.cfdi): the parser, the validator and the cancellation verifier.

Property-based (hypothesis): any bytes, and valid sealed CFDI mutated (attributes set to random text, unicode
digits, control characters, huge numbers; nodes removed or duplicated), give a Document, a Validation whose
findings are coded with Spanish and English texts, or a coded TimbraError, never another exception and never
libxml2's own words. Large inputs are T107 (not 301); XXE, billion laughs, external DTDs, XInclude and
processing instructions are refused without reading a file or the network.
"""
from __future__ import annotations

import copy
import http.server
import threading
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from tests.conftest import NOW
from tests.reliability.hostile import assert_coded_error, known_code, no_leak
from timbra.cfdi import cancellation
from timbra.cfdi.document import MAX_ELEMENTS, parse
from timbra.cfdi.seal import sign_root
from timbra.errors import TimbraError

NS = "http://www.sat.gob.mx/cfd/4"
HEAD = f'<?xml version="1.0" encoding="UTF-8"?>\n<cfdi:Comprobante xmlns:cfdi="{NS}" Version="4.0">'.encode()
TAIL = b"</cfdi:Comprobante>"
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])

# Values an attacker (or a broken ERP) puts in an attribute.
NASTY_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.sampled_from(["٣", "٣٤٥.٦٧", "²", "１２３", "9" * 400, "-1e309", "1e-400", "NaN", "Infinity", "-0",
                     "0x1F", "  ", "", "𝟘𝟙", "\u200b1", "1\u00a0000", "' OR 1=1 --", "<![CDATA[x]]>", "&amp;",
                     "A" * 5000, "\u202e", "ñ" * 300]),
    st.integers(min_value=-10**40, max_value=10**40).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
CONTROL = st.sampled_from(["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1f", "\x7f", "\ud800", "\ufffe", "\uffff"])


def check_validation(v) -> None:
    for f in v.findings:
        assert known_code(f.code) and f.code != "T900", f
        assert f.message, f
        no_leak(" ".join(str(x) for x in (f.message, f.detail, f.detail_en, f.message_en, f.value) if x))


def parsed_or_coded(data: bytes) -> None:
    try:
        parse(data)
    except TimbraError as exc:
        assert_coded_error(exc)


# --- the parser ---------------------------------------------------------------------------------------------

@FAST
@given(st.binary(max_size=600))
def test_any_bytes_parse_or_are_coded(data):
    parsed_or_coded(data)


@FAST
@given(st.text(max_size=300))
def test_any_text_in_a_comprobante_parses_or_is_coded(text):
    parsed_or_coded(HEAD + text.encode("utf-8", "surrogatepass") + TAIL)


@FAST
@given(data=st.data())
def test_a_valid_document_with_bytes_spliced_in_parses_or_is_coded(make_xml, data):
    xml = make_xml(conceptos=1)
    at = data.draw(st.integers(0, len(xml)))
    cut = data.draw(st.integers(0, 20))
    junk = data.draw(st.one_of(st.binary(max_size=20), st.sampled_from(
        [b"<", b">", b"&", b"</x>", b"<!DOCTYPE x>", b"<?pi x?>", b"\x00", b"\xff", b"]]>", b'"', b"&#0;",
         b"<!--", b"<![CDATA["])))
    parsed_or_coded(xml[:at] + junk + xml[at + cut:])


# --- the validator on valid documents, mutated ---------------------------------------------------------------

def _elements(root: etree._Element) -> list[etree._Element]:
    return [e for e in root.iter() if isinstance(e.tag, str)]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data())
def test_validating_a_mutated_document_answers_coded_findings(certifier, csd, data):
    from timbra.cfdi.sample import sample_invoice

    root = sample_invoice(csd, NOW, conceptos=2)
    elements = _elements(root)
    steps = data.draw(st.integers(1, 3))
    for _ in range(steps):
        el = data.draw(st.sampled_from(elements))
        action = data.draw(st.sampled_from(["set", "set", "remove-attr", "remove", "duplicate", "text"]))
        if action == "set" and el.attrib:
            el.set(data.draw(st.sampled_from(sorted(el.attrib))), data.draw(NASTY_TEXT.filter(_xml_ok)))
        elif action == "set":
            el.set(data.draw(st.sampled_from(["Importe", "Rfc", "Total", "x"])), data.draw(NASTY_TEXT.filter(_xml_ok)))
        elif action == "remove-attr" and el.attrib:
            del el.attrib[data.draw(st.sampled_from(sorted(el.attrib)))]
        elif action == "remove" and el.getparent() is not None:
            el.getparent().remove(el)
            elements = _elements(root)
        elif action == "duplicate" and el.getparent() is not None:
            el.addnext(copy.deepcopy(el))
            elements = _elements(root)
        elif action == "text":
            el.text = data.draw(NASTY_TEXT.filter(_xml_ok))
    if data.draw(st.booleans()):
        try:
            sign_root(root, csd)  # sealed again: the checks past the seal run too
        except TimbraError:
            pass
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    if data.draw(st.booleans()):  # a control character, which lxml would not write, put in the bytes
        xml = xml.replace(b'Moneda="', b'Moneda="' + data.draw(CONTROL).encode("utf-8", "surrogatepass"), 1)
    check_validation(certifier.validate(xml))


def _xml_ok(text: str) -> bool:
    try:
        etree.Element("x").set("a", text)
        return True
    except ValueError:
        return False


def test_schema_errors_are_in_our_words(certifier, make_xml):
    def bad(root):
        root.set("Total", "1.2.3")
        root.set("Moneda", "QQQ")
        root.set("Exportacion", "99999")
        root.find(f"{{{NS}}}Receptor").attrib.pop("Rfc")
        root.find(f"{{{NS}}}Emisor").set("Rfc", "A" * 20)
    findings = certifier.validate(make_xml(bad)).findings
    assert findings and all(f.code == "301" for f in findings)
    for f in findings:
        assert f.detail and f.detail_en and "línea" in f.detail and "line" in f.detail_en, f
        no_leak(f"{f.detail} {f.detail_en}")
    texts = " ".join(f.detail for f in findings)
    assert "Total" in texts and "Rfc" in texts
    assert "el valor '1.2.3' de Comprobante@Total no es del tipo t_Importe" in texts
    assert "falta el atributo obligatorio Rfc en Receptor" in texts
    assert any(f.expected == "13" and "más de 13 caracteres" in f.detail and "longer than 13" in f.detail_en
               for f in findings), findings


@pytest.mark.parametrize("xml", [b"<a><b></a>", HEAD + b"<cfdi:Emisor>" + TAIL, HEAD + b"&nope;" + TAIL,
                                 HEAD + b"\x01" + TAIL, HEAD + b'<cfdi:Emisor a="1" a="2"/>' + TAIL,
                                 HEAD + TAIL + b"<x/>", b"<x:a/>", HEAD[:-1]])
def test_syntax_errors_are_in_our_words(xml):
    with pytest.raises(TimbraError) as info:
        parse(xml)
    exc = info.value
    assert exc.code == "301"
    assert exc.findings[0].detail and exc.findings[0].detail_en and exc.detail.get("reason_en")
    assert_coded_error(exc)


# --- large inputs: T107, never 301 ------------------------------------------------------------------------

def _code(data: bytes) -> str:
    with pytest.raises(TimbraError) as info:
        parse(data)
    assert_coded_error(info.value)
    return info.value.code


def test_deep_nesting_is_too_large():
    assert _code(HEAD + b"<cfdi:x>" * 10_000 + b"</cfdi:x>" * 10_000 + TAIL) == "T107"


def test_a_20_mb_text_node_is_too_large():
    assert _code(HEAD + b"<cfdi:Addenda>" + b"A" * 20_000_000 + b"</cfdi:Addenda>" + TAIL) == "T107"


def test_a_huge_attribute_is_too_large():
    assert _code(HEAD[:-1] + b' Serie="' + b"A" * 11_000_000 + b'">' + TAIL) == "T107"


def test_more_than_a_million_elements_is_too_large():
    assert _code(HEAD + b"<a/>" * (MAX_ELEMENTS + 1) + TAIL) == "T107"


def test_a_document_over_the_size_limit_is_too_large():
    with pytest.raises(TimbraError) as info:
        parse(b" " * 100 + HEAD + TAIL, max_bytes=100)
    assert info.value.code == "T107"


def test_20000_conceptos_are_refused_before_the_rules(certifier, make_xml):
    def many(root):
        conceptos = root.find(f"{{{NS}}}Conceptos")
        first = conceptos[0]
        for _ in range(20_000 - len(conceptos)):
            conceptos.append(copy.deepcopy(first))
    v = certifier.validate(make_xml(many, conceptos=1, seal=False))
    assert [f.code for f in v.findings] == ["T107"]
    assert "20000" in v.findings[0].detail and v.findings[0].detail_en
    assert v.findings[0].expected == "<= 10000"


def test_max_conceptos_is_a_setting(certifier, make_xml):
    import dataclasses

    certifier.settings = dataclasses.replace(certifier.settings, max_conceptos=2)
    assert [f.code for f in certifier.validate(make_xml(conceptos=3)).findings] == ["T107"]
    assert certifier.validate(make_xml(conceptos=2)).ok


# --- XXE, billion laughs, external DTDs, XInclude, processing instructions --------------------------------

class _Hits(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        _Hits.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'<!ENTITY x "EXFILTRATED">')

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def listener() -> Iterator[str]:
    """A loopback HTTP server: an external DTD or entity that was fetched would show up in its hits."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hits)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def attacks(url: str, root: bytes = b"cfdi:Comprobante", ns: bytes = NS.encode()) -> dict[str, bytes]:
    """Hostile documents whose root is `root` (declared in namespace `ns`): each must be refused."""
    decl = b'<?xml version="1.0" encoding="UTF-8"?>\n'
    open_ = b"<" + root + b' xmlns:' + root.split(b":")[0] + b'="' + ns + b'" Version="4.0"'
    close = b"</" + root + b">"
    u = url.encode()
    lol = b"".join(b'<!ENTITY l%d "&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;">' % ((i,) + (i - 1,) * 10)
                   for i in range(1, 10))
    return {
        "xxe-file": decl + b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + open_ + b">&x;" + close,
        "xxe-http": decl + b'<!DOCTYPE r [<!ENTITY x SYSTEM "' + u + b'/xxe">]>' + open_ + b">&x;" + close,
        "parameter-entity": decl + b'<!DOCTYPE r [<!ENTITY % p SYSTEM "' + u + b'/pe"> %p;]>' + open_ + b"/>",
        "external-dtd-file": decl + b'<!DOCTYPE r SYSTEM "file:///etc/passwd">' + open_ + b"/>",
        "external-dtd-http": decl + b'<!DOCTYPE r SYSTEM "' + u + b'/dtd">' + open_ + b"/>",
        "billion-laughs": decl + b'<!DOCTYPE r [<!ENTITY l0 "ha">' + lol + b"]>" + open_ + b">&l9;" + close,
        "quadratic-blowup": decl + b'<!DOCTYPE r [<!ENTITY a "' + b"A" * 50_000 + b'">]>' + open_ + b">"
                            + b"&a;" * 2000 + close,
        "doctype-lowercase": decl + b'<!doctype r SYSTEM "' + u + b'/lower">' + open_ + b"/>",
        "xinclude": decl + open_ + b' xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="file:///etc/passwd"'
                    b' parse="text"/><xi:include href="' + u + b'/xi"/>' + close,
        "processing-instruction": decl + b'<?xml-stylesheet type="text/xsl" href="' + u + b'/xsl"?>' + open_ + b"/>",
        "inner-processing-instruction": decl + open_ + b"><?php system('id'); ?>" + close,
    }


@pytest.mark.parametrize("name", list(attacks("http://127.0.0.1:1")))
def test_cfdi_attacks_are_refused(listener, name):
    xml = attacks(listener)[name]
    before = len(_Hits.hits)
    assert _code(xml) in ("301", "T107")
    assert len(_Hits.hits) == before, _Hits.hits


@pytest.mark.parametrize("name", list(attacks("http://127.0.0.1:1")))
def test_cancellation_attacks_are_refused(listener, name):
    xml = attacks(listener, b"c:Cancelacion", b"http://cancelacfd.sat.gob.mx")[name]
    before = len(_Hits.hits)
    with pytest.raises(TimbraError) as info:
        cancellation.verify_cancelacion(xml)
    assert info.value.code in ("301", "302", "T107")
    assert_coded_error(info.value)
    assert len(_Hits.hits) == before, _Hits.hits


# --- the cancellation verifier ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def signed_cancelacion(sandbox_ca) -> bytes:
    cred = sandbox_ca.issue("EKU9003173C9", "ESCUELA KEMPER URGATE",
                            not_before=datetime(2025, 1, 1, tzinfo=timezone.utc))
    folios = [cancellation.Folio("11111111-2222-3333-4444-000000000001", "02", None)]
    return cancellation.sign_cancelacion(cred, "2026-11-24T12:00:00", folios)


DS = "{http://www.w3.org/2000/09/xmldsig#}"


def test_text_inside_signed_info_is_a_bad_seal(signed_cancelacion):
    root = etree.fromstring(signed_cancelacion)
    root.find(f".//{DS}SignedInfo").text = "hola"
    with pytest.raises(TimbraError) as info:
        cancellation.verify_cancelacion(etree.tostring(root))
    assert info.value.code == "302"
    assert_coded_error(info.value)
    assert info.value.detail["reason_en"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_mutated_cancellation_is_verified_or_coded(signed_cancelacion, data):
    root = etree.fromstring(signed_cancelacion)
    elements = _elements(root)
    for _ in range(data.draw(st.integers(1, 3))):
        el = data.draw(st.sampled_from(elements))
        action = data.draw(st.sampled_from(["text", "tail", "set", "remove", "duplicate"]))
        if action == "text":
            el.text = data.draw(NASTY_TEXT.filter(_xml_ok))
        elif action == "tail" and el.getparent() is not None:
            el.tail = data.draw(NASTY_TEXT.filter(_xml_ok))
        elif action == "set":
            el.set(data.draw(st.sampled_from(sorted(el.attrib) or ["Algorithm"])), data.draw(NASTY_TEXT.filter(_xml_ok)))
        elif action == "remove" and el.getparent() is not None:
            el.getparent().remove(el)
            elements = _elements(root)
        elif action == "duplicate" and el.getparent() is not None:
            el.addnext(copy.deepcopy(el))
            elements = _elements(root)
    try:
        cancellation.verify_cancelacion(etree.tostring(root))
    except TimbraError as exc:
        assert_coded_error(exc)
