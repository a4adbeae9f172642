"""Validate a CFDI as a PAC must before stamping it: every finding at once.

Order: safe parse (301) -> structure against SAT's schemas (301) -> Sello and certificate (302-308,
CFDI40102, CFDI40106) -> Fecha (401, 403) -> version and complements in force (T001, T161) -> previous
stamp (307) -> the Anexo 20 matrix rules. What is in force is read from timbra.sat.vigencias with the
validation's "as of" instant (`Options.now`). A CFDI 3.3 is answered with SAT's 3.3 codes (CFDI33xxx), never
with CFDI 4.0's.
A document whose structure fails stops after the structure findings: the rules assume the structure.
Pure: no I/O, the time and the trust anchors come in as arguments.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from lxml import etree

from timbra.cfdi import rules
from timbra.cfdi.document import Document, parse
from timbra.cfdi.rules import Context, run_rules
from timbra.cfdi.seal import KnownSeal, verify_seal
from timbra.cfdi.trust import TrustStore
from timbra.cfdi.xmlerrors import processing_finding_texts, schema_error
from timbra.codes import finding
from timbra.errors import Finding, NotEvaluated, TimbraError
from timbra.sat.catalogs import Catalogs, catalogs
from timbra.sat.padron import Padron
from timbra.sat.schemas import schema
from timbra.sat.vigencias import VIGENCIAS, vigencia

# Start of each version: a Fecha before it cannot be a CFDI of that version (403).
VERSION_START = {v: datetime.combine(VIGENCIAS[v].inicio, datetime.min.time()) for v in ("4.0", "3.3")}
CFDI33_RETIRED = VIGENCIAS["3.3"].fin.isoformat()
# The CFDI 4.0 codes the validation itself emits and their exact equivalents in SAT's CFDI 3.3 matrix; any
# other CFDI40 code on a 3.3 document becomes the neutral T162.
CFDI33_EQUIVALENT = {"CFDI40102": "CFDI33102", "CFDI40106": "CFDI33105"}
# The matrix codes the seal check reports (timbra/cfdi/seal.py), not a rule.
SEAL_CODES = ("CFDI40102", "CFDI40106")
_FECHA = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}")  # t_FechaH, without fractions or offset


def local_fecha(text: str | None) -> datetime | None:
    """Fecha as the naive local time it states, or None when it is not SAT's t_FechaH (fromisoformat is 20x
    faster than strptime; the regex keeps it as strict). Remembered per text: documents of the same second
    share it, and validation reads it twice."""
    text = text or ""
    return _local_fecha(text) if len(text) <= 64 else _read_fecha(text)


def _read_fecha(text: str) -> datetime | None:
    text = text.strip()
    if not _FECHA.fullmatch(text):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:  # 2026-02-30T...
        return None


@dataclass
class Options:
    trust: TrustStore
    now: datetime
    catalogs: Catalogs = field(default_factory=catalogs)
    stamp_window_hours: int = 72
    future_tolerance_seconds: int = 120
    allow_cfdi33: bool = False
    max_bytes: int = 20 * 1024 * 1024
    max_conceptos: int = 10_000  # more is T107, before the schema and the rules
    # SAT's lists for the padrón rules (l_RFC, l_LCO, Confirmacion keys); None skips those rules.
    padron: Padron | None = None
    # A received, stamped CFDI (timbra verify): its own TFD is not a previous stamp (no 307).
    received: bool = False


@dataclass
class Validation:
    findings: list[Finding]
    doc: Document | None = None
    cadena: str | None = None
    fecha_utc: datetime | None = None
    # Checks that could not run (no padrón, an RFC a permissive padrón does not know): not "passed".
    not_evaluated: list[NotEvaluated] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def _schema_findings(doc: Document) -> list[Finding]:
    xsd = schema(doc.version)
    if xsd.validate(doc.tree):
        return []
    out = []
    for err in xsd.error_log:
        node = (err.path or "").replace("/cfdi:Comprobante", "Comprobante", 1).replace("cfdi:", "")
        e = schema_error(err)
        out.append(finding("301", node, detail=e.es, detail_en=e.en, value=e.value, expected=e.expected))
    return out


def fecha_utc(doc: Document, cats: Catalogs) -> datetime | None:
    """The Comprobante's Fecha as an aware UTC time, read in the zone of LugarExpedicion's postal code."""
    fecha, lugar = doc.get("Fecha") or "", doc.get("LugarExpedicion") or ""
    if len(fecha) <= 64 and len(lugar) <= 64:  # remembered: documents of the same second share it
        return _fecha_utc_cached(cats, fecha, lugar)
    return _fecha_utc(cats, fecha, lugar)


def _fecha_utc(cats: Catalogs, fecha: str, lugar: str) -> datetime | None:
    naive = local_fecha(fecha)  # xs:dateTime collapses whitespace; CFDI40101 reports it
    if naive is None:
        return None
    zone = cats.zone_for_postal_code(lugar)
    if zone is None:
        return None
    return naive.replace(tzinfo=zone).astimezone(timezone.utc)


_local_fecha = lru_cache(maxsize=4096)(_read_fecha)
_fecha_utc_cached = lru_cache(maxsize=4096)(_fecha_utc)


def _fecha_findings(doc: Document, when: datetime | None, opts: Options) -> list[Finding]:
    if when is None:
        return []
    out = []
    text = doc.get("Fecha")
    start = VERSION_START[doc.version]
    if local_fecha(text) < start:  # Fecha is local time; so is the start
        out.append(finding("403", "Comprobante@Fecha", value=text, expected=f">= {start:%Y-%m-%d}"))
    earliest = opts.now - timedelta(hours=opts.stamp_window_hours)
    latest = opts.now + timedelta(seconds=opts.future_tolerance_seconds)
    if when < earliest:
        out.append(finding("401", "Comprobante@Fecha", value=text,
                           detail=f"la Fecha es de hace más de {opts.stamp_window_hours} horas"))
    elif when > latest:
        out.append(finding("401", "Comprobante@Fecha", value=text,
                           detail="la Fecha es posterior a la hora actual del lugar de expedición"))
    return out


def _vigencia_findings(doc: Document, opts: Options) -> list[Finding]:
    """T001: a version SAT no longer accepts at `opts.now` (a Fecha before its start is 403); T161: a complement
    not in force at `opts.now`."""
    out = []
    if doc.version == "3.3" and not opts.allow_cfdi33 and VIGENCIAS["3.3"].retirada(opts.now):
        out.append(finding("T001", "Comprobante@Version", value="3.3",
                           detail=f"el SAT dejó de aceptar CFDI 3.3 el {CFDI33_RETIRED}; emita CFDI 4.0"))
    for el in doc.complementos:
        ns = etree.QName(el).namespace or ""
        v = vigencia(ns)
        if v is not None and not v.en_vigor(opts.now):
            out.append(finding("T161", f"Complemento/{etree.QName(el).localname}", value=ns,
                               detail=f"{v.texto()}; se valida al {opts.now.isoformat()}"))
    return out


def _for_version(findings: list[Finding], version: str) -> list[Finding]:
    """A CFDI 3.3's findings carry SAT's 3.3 codes: the exact equivalent, else the neutral T162."""
    if version == "4.0":
        return findings
    out = []
    for f in findings:
        if f.code.startswith(("CFDI40", "CFDI140")):
            code = CFDI33_EQUIVALENT.get(f.code, "T162")
            detail = f.detail if code != "T162" else "; ".join(x for x in (f"{f.code}: {f.message}", f.detail) if x)
            f = finding(code, f.node, detail=detail, value=f.value, expected=f.expected)
        out.append(f)
    return out


def too_many_conceptos(doc: Document, limit: int) -> Finding | None:
    """T107 when the document has more Conceptos than `limit` (TIMBRA_MAX_CONCEPTOS)."""
    if doc.child("Conceptos") is None:
        return None
    n = len(doc.conceptos)  # the Concepto children of the first Conceptos, kept for the rules
    if n <= limit:
        return None
    return finding("T107", "Comprobante/Conceptos", value=str(n), expected=f"<= {limit}",
                   detail=f"el comprobante tiene {n} conceptos y el máximo es {limit}",
                   detail_en=f"the document has {n} Conceptos and the maximum is {limit}")


def validate_document(doc: Document, opts: Options, known_seal: KnownSeal | None = None) -> Validation:
    """`known_seal`: the seal this process made of `doc` (issuing), if it did: see seal.KnownSeal."""
    many = too_many_conceptos(doc, opts.max_conceptos)
    if many is not None:
        return Validation([many], doc)
    findings = _schema_findings(doc)
    if findings:
        return Validation(findings, doc)
    when = fecha_utc(doc, opts.catalogs)
    seal = verify_seal(doc, trust=opts.trust, fecha=when, now=opts.now, known=known_seal)
    findings.extend(seal.findings)
    findings.extend(_fecha_findings(doc, when, opts))
    findings.extend(_vigencia_findings(doc, opts))
    if doc.tfd is not None and not opts.received:
        findings.append(finding("307", "Complemento/TimbreFiscalDigital", value=doc.uuid))
    ctx = Context(doc=doc, catalogs=opts.catalogs, now=opts.now, padron=opts.padron)
    if rules.OBSERVER is not None and doc.version == "4.0":  # the test suite watching: the seal's own codes
        rules.OBSERVER.observed(SEAL_CODES, True, [f for f in seal.findings if f.code in SEAL_CODES], ctx)
    findings.extend(run_rules(ctx))
    return Validation(_for_version(findings, doc.version), doc, seal.cadena, when, ctx.skipped)


def validate(data: bytes, opts: Options) -> Validation:
    """Validate bytes; never raises for bad input: problems come back as findings."""
    try:
        doc = parse(data, max_bytes=opts.max_bytes)
    except TimbraError as exc:
        return Validation(exc.findings)
    return validate_parsed(doc, opts)


def validate_parsed(doc: Document, opts: Options, known_seal: KnownSeal | None = None) -> Validation:
    """validate() of a document already parsed (the stamp path parses once, before its first read)."""
    try:
        return validate_document(doc, opts, known_seal)
    except etree.LxmlError as exc:  # e.g. an XSLT failure on a hostile document
        es, en = processing_finding_texts(exc)
        return Validation([finding("301", "Comprobante", detail=es, detail_en=en)], doc)
