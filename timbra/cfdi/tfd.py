"""TimbreFiscalDigital 1.1: build, seal with the PAC's certificate, insert into the received bytes.

The stamped CFDI is the document exactly as received with the TFD added inside cfdi:Complemento (which
is created if missing, before any Addenda). Nothing else of the client's bytes changes, so the
Comprobante's cadena original, and with it the client's Sello, stays valid.
"""
from __future__ import annotations

import base64
import functools
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from lxml import etree

from timbra.cfdi.credentials import Credential
from timbra.cfdi.document import NS_TFD, NS_XSI, Document, parse
from timbra.clock import MEXICO_CITY

TFD_SCHEMA_LOCATION = ("http://www.sat.gob.mx/TimbreFiscalDigital "
                       "http://www.sat.gob.mx/sitio_internet/cfd/TimbreFiscalDigital/TimbreFiscalDigitalv11.xsd")


@dataclass(frozen=True)
class Timbre:
    uuid: str
    fecha_timbrado: str
    rfc_prov_certif: str
    sello_cfd: str
    no_certificado_sat: str
    sello_sat: str
    cadena: str
    xml: bytes
    leyenda: str | None = None


def fecha_timbrado(moment: datetime) -> str:
    """FechaTimbrado: Mexico City local time, no offset, no fraction. Remembered per second (the stamps of
    one second share it; the zone conversion is most of its cost)."""
    return _fecha_timbrado(moment.replace(microsecond=0))


@functools.lru_cache(maxsize=256)
def _fecha_timbrado(moment: datetime) -> str:
    return moment.astimezone(MEXICO_CITY).replace(tzinfo=None).isoformat(timespec="seconds")


def fecha_timbrado_iso(moment: datetime | str) -> str:
    """FechaTimbrado as the API and its reports write it: Mexico City time with its offset, ISO 8601
    ("2026-11-24T12:00:00-06:00"), the same instant and wall time as the TFD's offset-less value. A naive
    datetime is UTC (as stored); a string is the TFD's own value (Mexico City time)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment).replace(tzinfo=MEXICO_CITY)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(MEXICO_CITY).replace(microsecond=0).isoformat()


def _uuid4() -> str:
    """str(uuid.uuid4()) without building a UUID object: 16 random bytes with the version (4) and variant
    (RFC 4122) bits set as uuid4 sets them."""
    b = bytearray(os.urandom(16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def build_tfd(*, sello_cfd: str, pac: Credential, rfc_prov_certif: str, moment: datetime,
              uuid: str | None = None, leyenda: str | None = None) -> Timbre:
    """The sealed TFD. Its XML is written as text, attribute by attribute in the order an lxml element with
    the same attributes serializes them, escaped as libxml2 escapes an attribute value (the tests prove the
    bytes equal to lxml's); a value XML cannot hold raises ValueError, as lxml's set() does."""
    uid = (uuid or _uuid4()).upper()
    fecha = fecha_timbrado(moment)
    no_cert = pac.certificate.no_certificado
    values = [uid, fecha, rfc_prov_certif, *([leyenda] if leyenda else []), sello_cfd, no_cert]
    names = _TFD_NAMES_LEYENDA if leyenda else _TFD_NAMES
    attrs = "".join([f' {n}="{_attr(v)}"' for n, v in zip(names, values, strict=True)])  # before signing
    cadena = _cadena_of(["1.1", *values])
    sello_sat = base64.b64encode(pac.sign(cadena.encode("utf-8"))).decode("ascii")
    xml = f'{_TFD_OPEN} Version="1.1"{attrs} SelloSAT="{sello_sat}"/>'.encode()
    return Timbre(uid, fecha, rfc_prov_certif, sello_cfd, no_cert, sello_sat, cadena, xml, leyenda)


_TFD_OPEN = (f'<tfd:TimbreFiscalDigital xmlns:tfd="{NS_TFD}" xmlns:xsi="{NS_XSI}" '
             f'xsi:schemaLocation="{TFD_SCHEMA_LOCATION}"')
_TFD_NAMES = ("UUID", "FechaTimbrado", "RfcProvCertif", "SelloCFD", "NoCertificadoSAT")
_TFD_NAMES_LEYENDA = ("UUID", "FechaTimbrado", "RfcProvCertif", "Leyenda", "SelloCFD", "NoCertificadoSAT")
# What XML 1.0 cannot hold (lxml refuses it in set()); surrogates cannot be encoded either.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# libxml2's escaping of an attribute value: &, <, >, the double quote and the three whitespace controls.
_TO_ESCAPE = re.compile('[&<>"\t\n\r]')
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                          "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"})


# Printable ASCII that an attribute value keeps as it is.
_PLAIN_ASCII = bytes(b for b in range(0x20, 0x7F) if b not in b'&<>"')


def _attr(value: str) -> str:
    """An attribute value as lxml writes it; ValueError for what XML cannot hold."""
    if value.isascii() and not value.encode("ascii").translate(None, _PLAIN_ASCII):
        return value  # the common case (base64, RFCs, dates), decided in one C pass
    if _NOT_XML.search(value):
        raise ValueError("All strings must be XML compatible: Unicode or ASCII, no NULL bytes or control characters")
    return value.translate(_ESCAPES) if _TO_ESCAPE.search(value) else value


def _cadena_of(fields: list[str | None]) -> str:
    return "||" + "|".join(" ".join((f or "").split()) for f in fields) + "||"


def tfd_cadena(el: etree._Element) -> str:
    """The TFD 1.1 cadena original, as SAT's cadenaoriginal_TFD_1_1.xslt writes it: required fields
    Version|UUID|FechaTimbrado|RfcProvCertif, optional Leyenda, then SelloCFD|NoCertificadoSAT, each
    with normalize-space. Formatted directly (25 us less per stamp than the XSLT); the tests prove it
    equal to SAT's XSLT."""
    fields = [el.get("Version"), el.get("UUID"), el.get("FechaTimbrado"), el.get("RfcProvCertif")]
    if el.get("Leyenda"):
        fields.append(el.get("Leyenda"))
    fields += [el.get("SelloCFD"), el.get("NoCertificadoSAT")]
    return _cadena_of(fields)


class InsertError(ValueError):
    pass


@dataclass(frozen=True)
class _Tags:
    """The tags insert_tfd looks for, for one prefix of the CFDI namespace (compiled once per prefix)."""

    complemento: bytes  # b"<cfdi:Complemento"
    complemento_close: bytes  # b"</cfdi:Complemento"
    addenda: bytes
    comprobante_close: bytes
    addenda_re: re.Pattern[bytes]
    closing_re: re.Pattern[bytes]
    complemento_close_re: re.Pattern[bytes]
    empty_re: re.Pattern[bytes]
    closed: bytes  # b"</cfdi:Complemento>"


@functools.lru_cache(maxsize=64)
def _tags(prefix: str | None) -> _Tags:
    qname = (f"{prefix}:" if prefix else "").encode("ascii")
    comp = re.escape(qname + b"Complemento")
    return _Tags(
        complemento=b"<" + qname + b"Complemento", complemento_close=b"</" + qname + b"Complemento",
        addenda=b"<" + qname + b"Addenda", comprobante_close=b"</" + qname + b"Comprobante",
        addenda_re=re.compile(rb"<" + re.escape(qname + b"Addenda") + rb"[\s/>]"),
        closing_re=re.compile(rb"</" + re.escape(qname + b"Comprobante") + rb"\s*>"),
        complemento_close_re=re.compile(rb"</" + comp + rb"\s*>"),
        empty_re=re.compile(rb"<" + comp + rb"(\s[^<>]*)?/>"),
        closed=b"</" + qname + b"Complemento>")


def insert_tfd(doc: Document, tfd_xml: bytes) -> bytes:
    """The received bytes with the TFD added as the last child of cfdi:Complemento. The tags are found by a
    byte search from the right end (the TFD goes near the end), each candidate confirmed by the same regular
    expression a left-to-right scan would use: 15x faster on a 300-concepto invoice, the same positions."""
    raw = doc.raw
    prefix = doc.root.prefix
    t = _tags(prefix) if prefix is None or len(prefix) <= 40 else _tags.__wrapped__(prefix)  # a long one: not kept
    addenda = _first(t.addenda_re, t.addenda, raw)
    limit = addenda if addenda is not None else _last(t.closing_re, t.comprobante_close, raw, len(raw))
    if limit is None:
        raise InsertError("no se encontró el cierre de cfdi:Comprobante")
    if doc.complemento is not None:
        close = _last(t.complemento_close_re, t.complemento_close, raw, limit)
        empty = _last(t.empty_re, t.complemento, raw, limit)
        if close is not None and (empty is None or close > empty):
            out = raw[:close] + tfd_xml + raw[close:]
        elif empty is not None:
            m = t.empty_re.match(raw, empty)
            attrs = m.group(1) or b""
            out = raw[:empty] + t.complemento + attrs + b">" + tfd_xml + t.closed + raw[m.end():]
        else:
            raise InsertError("no se encontró cfdi:Complemento en el documento")
    else:
        out = raw[:limit] + t.complemento + b">" + tfd_xml + t.closed + raw[limit:]
    if b"<!--" in raw or b"<![CDATA[" in raw:
        _check_inserted(out, tfd_xml)
    return out


def _first(pattern: re.Pattern[bytes], literal: bytes, raw: bytes) -> int | None:
    """Where the first match of `pattern` (which starts with `literal`) begins, as pattern.search finds it."""
    pos = raw.find(literal)
    while pos != -1:
        if pattern.match(raw, pos):
            return pos
        pos = raw.find(literal, pos + 1)
    return None


def _last(pattern: re.Pattern[bytes], literal: bytes, raw: bytes, limit: int) -> int | None:
    """Where the last match of `pattern` (which starts with `literal`) within raw[:limit] begins, as the last
    of pattern.finditer(raw, 0, limit): its matches cannot overlap (they start with "<" and have no "<" inside)."""
    end = limit
    while True:
        pos = raw.rfind(literal, 0, end)
        if pos == -1:
            return None
        if pattern.match(raw, pos, limit):
            return pos
        end = pos + len(literal) - 1


def _check_inserted(out: bytes, tfd_xml: bytes) -> None:
    """Comments and CDATA can hide look-alike tags: prove the TFD landed where SAT expects it."""
    stamped = parse(out, max_bytes=len(out) + 1)
    uid = etree.fromstring(tfd_xml).get("UUID")
    if stamped.tfd is None or stamped.tfd.get("UUID") != uid:
        raise InsertError("el timbre no quedó dentro de cfdi:Complemento")
