"""Safe parse: everything that is not a well-formed UTF-8 CFDI is 301, never a traceback."""
import pytest

from timbra.cfdi.document import parse
from timbra.errors import TimbraError

BASE = b'<cfdi:Comprobante xmlns:cfdi="http://www.sat.gob.mx/cfd/4" Version="4.0"/>'


def codes_of(data: bytes, **kw) -> tuple[str, str]:
    with pytest.raises(TimbraError) as exc:
        parse(data, **kw)
    return exc.value.code, exc.value.findings[0].detail or ""


@pytest.mark.parametrize("data", [b"", b"   \n", b"garbage", b"<a", b"\x00\x01\x02", b"<?xml version='1.0'?>",
                                  b'{"json": true}', b"<cfdi:Comprobante>"])
def test_garbage_is_301(data):
    assert codes_of(data)[0] == "301"


def test_non_utf8_bytes_are_301():
    data = '<cfdi:Comprobante xmlns:cfdi="http://www.sat.gob.mx/cfd/4" Version="4.0" Serie="Ñ"/>'.encode("latin-1")
    code, detail = codes_of(data)
    assert code == "301" and "UTF-8" in detail


def test_declared_latin1_is_301():
    data = b'<?xml version="1.0" encoding="ISO-8859-1"?>' + BASE
    code, detail = codes_of(data)
    assert code == "301" and "ISO-8859-1" in detail


def test_utf16_is_301():
    data = ('<?xml version="1.0" encoding="UTF-16"?>' + BASE.decode()).encode("utf-16")
    assert codes_of(data)[0] == "301"


def test_billion_laughs_is_301_and_not_expanded():
    lol = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">""" + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10 if i > 1 else b"&lol;" * 10) for i in range(1, 10)
    ) + b"""]><cfdi:Comprobante xmlns:cfdi="http://www.sat.gob.mx/cfd/4" Version="4.0" Serie="&lol9;"/>"""
    code, detail = codes_of(lol)
    assert code == "301" and "DOCTYPE" in detail


def test_xxe_file_and_network_are_301(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    for target in (secret.as_uri(), "http://127.0.0.1:9/x"):
        data = (f'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY xxe SYSTEM "{target}">]>'
                '<cfdi:Comprobante xmlns:cfdi="http://www.sat.gob.mx/cfd/4" Version="4.0" Serie="&xxe;"/>').encode()
        code, detail = codes_of(data)
        assert code == "301"
        assert "TOP SECRET" not in detail


def test_doctype_hidden_after_prolog_comment_is_301():
    data = b'<?xml version="1.0"?><!-- <a> --><!DOCTYPE c [<!ENTITY e "x">]>' + BASE
    assert codes_of(data)[0] == "301"


def test_size_limit():
    """Too large is T107 (413 over HTTP), not "XML mal formado"."""
    code, detail = codes_of(BASE + b" " * 100, max_bytes=50)
    assert code == "T107" and "50" in detail
    assert parse(BASE, max_bytes=len(BASE)).version == "4.0"


def test_libxml2_limits_in_timbras_words():
    """A text node past libxml2's limit is T107, too deep is 301; neither repeats libxml2's own message."""
    code, detail = codes_of(b'<cfdi:Comprobante xmlns:cfdi="http://www.sat.gob.mx/cfd/4" Version="4.0">'
                            + b"A" * 10_000_001 + b"</cfdi:Comprobante>")
    assert code == "T107" and "10000000" in detail
    code, detail = codes_of(b"<a>" * 300 + b"</a>" * 300)
    assert code == "T107" and "256" in detail
    for text in (detail, code):
        assert "XML_PARSE_HUGE" not in text and "Resource limit" not in text


def test_wrong_root_and_version_mismatch():
    assert "raíz" in codes_of(b"<html/>")[1]
    code, detail = codes_of(b'<cfdi:Comprobante xmlns:cfdi="http://www.sat.gob.mx/cfd/4" Version="3.3"/>')
    assert code == "301" and "Version" in detail


def test_bom_is_accepted_and_bytes_are_kept():
    data = b"\xef\xbb\xbf" + BASE
    doc = parse(data)
    assert doc.raw == data and doc.version == "4.0"


def test_non_bytes_input():
    assert codes_of("<cfdi:Comprobante/>")[0] == "301"  # type: ignore[arg-type]


def test_cfdi33_namespace():
    doc = parse(b'<cfdi:Comprobante xmlns:cfdi="http://www.sat.gob.mx/cfd/3" Version="3.3"/>')
    assert doc.version == "3.3"


@pytest.mark.parametrize(("body", "refused"), [
    (b"<?xml version='1.0'?><a/>", False),
    (b"<?xml version='1.0'?>\n<a b='?' c='<?'/>".replace(b"'<?'", b"'&lt;?'"), False),
    (b"<?xml version='1.0'?><a>?</a>", False),
    (b"<?xml version='1.0'?><a/><?pi x?>", True),
    (b"<?xml version='1.0'?><?pi?><a/>", True),
    (b"<?xml version='1.0'?><a><?pi?></a>", True),
    (b"<?xml\tversion='1.0'?><a><b/><?pi?></a>", True),
    (b"<?xml-stylesheet <? ?><a/>", True),
    (b"<a/><?x?>", True),
])
def test_processing_instructions_after_the_declaration_are_refused(body, refused):
    """The fast look for "?" past the XML declaration refuses exactly what the look for "<?" refused."""
    from lxml import etree

    from timbra.cfdi.document import _parser, refuse_instructions

    root = etree.fromstring(body, _parser())
    if refused:
        with pytest.raises(TimbraError):
            refuse_instructions(body, root)
    else:
        refuse_instructions(body, root)
