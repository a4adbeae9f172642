"""SOAP envelopes: one read safely, one answered, or a Fault.

Reading is as guarded as the REST path: the body limit of the app (BodyLimit) applies before this; the
parser resolves no entities, loads no DTD and reaches no network, and a document with a DOCTYPE at all is
refused (T200), so no entity expansion of any kind happens. A malformed envelope, an unknown operation or a
value of the wrong type is a SOAP Fault carrying timbra's code, never a stack trace.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from lxml import etree

from timbra.cfdi.document import NS_XINCLUDE, XML_ERR_RESOURCE_LIMIT, limit_error
from timbra.cfdi.xmlerrors import syntax_error
from timbra.codes import error
from timbra.errors import TimbraError

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
CONTENT_TYPE = {SOAP11: "text/xml; charset=utf-8", SOAP12: "application/soap+xml; charset=utf-8"}
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_local = threading.local()


def safe_parser() -> etree.XMLParser:
    p = getattr(_local, "parser", None)
    if p is None:
        p = _local.parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                            dtd_validation=False, huge_tree=False, collect_ids=False)
    return p


@dataclass(frozen=True)
class Call:
    soap_ns: str            # SOAP 1.1 or 1.2: the answer uses the same
    operation: str          # the local name of the Body's first element
    element: etree._Element


def _invalid(why: str, why_en: str) -> TimbraError:
    return error("T200", message=f"Sobre SOAP inválido: {why}.", message_en=f"Invalid SOAP envelope: {why_en}.")


def read(body: bytes) -> Call:
    if not body.strip():
        raise _invalid("la solicitud está vacía", "the request is empty")
    if _DOCTYPE.search(body):
        raise _invalid("no se admiten DTD ni entidades", "DTDs and entities are not accepted")
    if any(ns in body for ns in NS_XINCLUDE):
        raise _invalid("no se admite XInclude", "XInclude is not accepted")
    try:
        root = etree.fromstring(body, safe_parser())
    except etree.XMLSyntaxError as exc:
        if exc.code == XML_ERR_RESOURCE_LIMIT:  # too deep, or a huge text node: too large (T107)
            raise limit_error(exc) from None
        e = syntax_error(exc)  # never libxml2's own words
        raise _invalid(f"XML mal formado: {e.es}", f"malformed XML: {e.en}") from None
    ns = etree.QName(root).namespace
    if etree.QName(root).localname != "Envelope" or ns not in (SOAP11, SOAP12):
        raise _invalid("el elemento raíz no es un Envelope de SOAP 1.1 o 1.2",
                       "the root element is not a SOAP 1.1 or 1.2 Envelope")
    body_el = root.find(f"{{{ns}}}Body")
    if body_el is None:
        raise _invalid("falta el Body", "the Body is missing")
    first = next((c for c in body_el if isinstance(c.tag, str)), None)
    if first is None:
        raise _invalid("el Body no contiene una operación", "the Body holds no operation")
    return Call(ns, etree.QName(first).localname, first)


def envelope(soap_ns: str, payload: etree._Element) -> bytes:
    env = etree.Element(f"{{{soap_ns}}}Envelope", nsmap={"s": soap_ns})
    etree.SubElement(env, f"{{{soap_ns}}}Body").append(payload)
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def fault(soap_ns: str, exc: TimbraError) -> bytes:
    """A Fault: the client's (Client / Sender) or the server's, with timbra's code and both languages."""
    client = exc.source == "client"
    text = f"{exc.code}: {exc.message}" + (f" / {exc.message_en}" if exc.message_en else "")
    if soap_ns == SOAP12:
        f = etree.Element(f"{{{SOAP12}}}Fault")
        value = etree.SubElement(etree.SubElement(f, f"{{{SOAP12}}}Code"), f"{{{SOAP12}}}Value")
        value.text = "s:Sender" if client else "s:Receiver"
        reason = etree.SubElement(etree.SubElement(f, f"{{{SOAP12}}}Reason"), f"{{{SOAP12}}}Text")
        reason.set("{http://www.w3.org/XML/1998/namespace}lang", "es-MX")
        reason.text = text
        detail = etree.SubElement(f, f"{{{SOAP12}}}Detail")
    else:
        f = etree.Element(f"{{{SOAP11}}}Fault")
        etree.SubElement(f, "faultcode").text = "s:Client" if client else "s:Server"
        etree.SubElement(f, "faultstring").text = text
        detail = etree.SubElement(f, "detail")
    etree.SubElement(detail, "code").text = exc.code
    return envelope(soap_ns, f)
