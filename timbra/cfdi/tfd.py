"""TimbreFiscalDigital 1.1: build, seal with the PAC's certificate, insert into the received bytes.

The stamped CFDI is the document exactly as received with the TFD added inside cfdi:Complemento (which
is created if missing, before any Addenda). Nothing else of the client's bytes changes, so the
Comprobante's cadena original, and with it the client's Sello, stays valid.
"""
from __future__ import annotations

import base64
import re
import uuid as uuidlib
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
    """FechaTimbrado: Mexico City local time, no offset, no fraction."""
    return moment.astimezone(MEXICO_CITY).strftime("%Y-%m-%dT%H:%M:%S")


def fecha_timbrado_iso(moment: datetime | str) -> str:
    """FechaTimbrado as the API and its reports write it: Mexico City time with its offset, ISO 8601
    ("2026-11-24T12:00:00-06:00"), the same instant and wall time as the TFD's offset-less value. A naive
    datetime is UTC (as stored); a string is the TFD's own value (Mexico City time)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment).replace(tzinfo=MEXICO_CITY)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(MEXICO_CITY).replace(microsecond=0).isoformat()


def build_tfd(*, sello_cfd: str, pac: Credential, rfc_prov_certif: str, moment: datetime,
              uuid: str | None = None, leyenda: str | None = None) -> Timbre:
    uid = (uuid or str(uuidlib.uuid4())).upper()
    el = etree.Element(f"{{{NS_TFD}}}TimbreFiscalDigital", nsmap={"tfd": NS_TFD, "xsi": NS_XSI})
    el.set(f"{{{NS_XSI}}}schemaLocation", TFD_SCHEMA_LOCATION)
    el.set("Version", "1.1")
    el.set("UUID", uid)
    el.set("FechaTimbrado", fecha_timbrado(moment))
    el.set("RfcProvCertif", rfc_prov_certif)
    if leyenda:
        el.set("Leyenda", leyenda)
    el.set("SelloCFD", sello_cfd)
    el.set("NoCertificadoSAT", pac.certificate.no_certificado)
    cadena = tfd_cadena(el)
    sello_sat = base64.b64encode(pac.sign(cadena.encode("utf-8"))).decode("ascii")
    el.set("SelloSAT", sello_sat)
    return Timbre(uid, el.get("FechaTimbrado"), rfc_prov_certif, sello_cfd, pac.certificate.no_certificado,
                  sello_sat, cadena, etree.tostring(el, encoding="utf-8"), leyenda)


def tfd_cadena(el: etree._Element) -> str:
    """The TFD 1.1 cadena original, as SAT's cadenaoriginal_TFD_1_1.xslt writes it: required fields
    Version|UUID|FechaTimbrado|RfcProvCertif, optional Leyenda, then SelloCFD|NoCertificadoSAT, each
    with normalize-space. Formatted directly (25 us less per stamp than the XSLT); the tests prove it
    equal to SAT's XSLT."""
    fields = [el.get("Version"), el.get("UUID"), el.get("FechaTimbrado"), el.get("RfcProvCertif")]
    if el.get("Leyenda"):
        fields.append(el.get("Leyenda"))
    fields += [el.get("SelloCFD"), el.get("NoCertificadoSAT")]
    return "||" + "|".join(" ".join((f or "").split()) for f in fields) + "||"


class InsertError(ValueError):
    pass


def insert_tfd(doc: Document, tfd_xml: bytes) -> bytes:
    """The received bytes with the TFD added as the last child of cfdi:Complemento. The tags are found by a
    byte search from the right end (the TFD goes near the end), each candidate confirmed by the same regular
    expression a left-to-right scan would use: 15x faster on a 300-concepto invoice, the same positions."""
    raw = doc.raw
    prefix = doc.root.prefix
    qname = (f"{prefix}:" if prefix else "").encode("ascii")
    comp = re.escape(qname + b"Complemento")
    addenda = _first(re.compile(rb"<" + re.escape(qname + b"Addenda") + rb"[\s/>]"), b"<" + qname + b"Addenda", raw)
    closing = re.compile(rb"</" + re.escape(qname + b"Comprobante") + rb"\s*>")
    limit = addenda if addenda is not None else _last(closing, b"</" + qname + b"Comprobante", raw, len(raw))
    if limit is None:
        raise InsertError("no se encontró el cierre de cfdi:Comprobante")
    if doc.complemento is not None:
        close = _last(re.compile(rb"</" + comp + rb"\s*>"), b"</" + qname + b"Complemento", raw, limit)
        empty_re = re.compile(rb"<" + comp + rb"(\s[^<>]*)?/>")
        empty = _last(empty_re, b"<" + qname + b"Complemento", raw, limit)
        if close is not None and (empty is None or close > empty):
            out = raw[:close] + tfd_xml + raw[close:]
        elif empty is not None:
            m = empty_re.match(raw, empty)
            attrs = m.group(1) or b""
            opening = b"<" + qname + b"Complemento" + attrs + b">"
            out = raw[:empty] + opening + tfd_xml + b"</" + qname + b"Complemento>" + raw[m.end():]
        else:
            raise InsertError("no se encontró cfdi:Complemento en el documento")
    else:
        node = b"<" + qname + b"Complemento>" + tfd_xml + b"</" + qname + b"Complemento>"
        out = raw[:limit] + node + raw[limit:]
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
