"""Safe parse of the bytes of a CFDI into a Document.

No DTDs, no entities, no network, a size limit; the original bytes are kept untouched (a PAC seals
and stores what it received). Anything that is not a well-formed UTF-8 CFDI 3.3/4.0 is code 301.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from lxml import etree

from timbra.cfdi.xmlerrors import syntax_error
from timbra.codes import CODES, error, finding
from timbra.errors import Finding, TimbraError

NS40 = "http://www.sat.gob.mx/cfd/4"
NS33 = "http://www.sat.gob.mx/cfd/3"
NS_TFD = "http://www.sat.gob.mx/TimbreFiscalDigital"
NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"
NS_CCE20 = "http://www.sat.gob.mx/ComercioExterior20"
NS_PAGOS20 = "http://www.sat.gob.mx/Pagos20"
NS_CCE11 = "http://www.sat.gob.mx/ComercioExterior11"
# The Comercio Exterior complements a CFDI 4.0 may carry (2.0 current, 1.1 in transition).
COMERCIO_EXTERIOR = frozenset({NS_CCE20, NS_CCE11})
VERSION_OF_NS = {NS40: "4.0", NS33: "3.3"}

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# libxml2's own limits without XML_PARSE_HUGE (kept: they bound memory and recursion): one text node or
# attribute value, and the depth of the element tree.
MAX_TEXT_BYTES = 10_000_000
MAX_DEPTH = 256
# Elements in one document: a CFDI of 10,000 Conceptos with their taxes is far below this; more is T107,
# counted on the bytes before a tree is built.
MAX_ELEMENTS = 1_000_000
XML_ERR_RESOURCE_LIMIT = 114
_BOM = b"\xef\xbb\xbf"
NS_XINCLUDE = (b"http://www.w3.org/2001/XInclude", b"http://www.w3.org/2003/XInclude")
_FIRST_ELEMENT_RE = re.compile(rb"<[A-Za-z_]")
_ENCODING_RE = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")

# Elements that may repeat: their paths carry an index (Conceptos/Concepto[3]).
REPEATABLE = frozenset({
    "Concepto", "Traslado", "Retencion", "CfdiRelacionados", "CfdiRelacionado", "Parte",
    "InformacionAduanera", "CuentaPredial", "Pago", "DoctoRelacionado", "TrasladoDR", "RetencionDR",
    "TrasladoP", "RetencionP", "Percepcion", "Deduccion", "OtroPago", "Incapacidad", "HorasExtra",
    "Ubicacion", "Mercancia", "TiposFigura", "Remolque", "Contenedor", "Carro", "SubContratacion",
    # Carta Porte 3.1
    "CantidadTransporta", "DocumentacionAduanera", "GuiasIdentificacion", "RegimenAduaneroCCP",
    "PartesTransporte", "DerechosDePaso", "RemolqueCCP",
})

_local = threading.local()
_T = TypeVar("_T")


class cached(Generic[_T]):  # noqa: N801 - used like functools.cached_property
    """functools.cached_property without its per-instance lock (Python 3.11 takes one on every first read):
    the value is computed on first read and kept in the instance's __dict__, which later reads find before
    this descriptor. Two threads reading one fresh document at once may both compute it, to the same value."""

    def __init__(self, fn: Callable[[Any], _T]) -> None:
        self.fn = fn
        self.name = fn.__name__
        self.__doc__ = fn.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.fn(obj)
        return value


def _parser() -> etree.XMLParser:
    p = getattr(_local, "parser", None)
    if p is None:
        p = _local.parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
            huge_tree=False, collect_ids=False, remove_blank_text=False,
        )
    return p


def too_large(size: int, max_bytes: int) -> TimbraError:
    """T107: a document over the size limit (TIMBRA_MAX_DOCUMENT_BYTES), however it arrived."""
    es = f"El documento mide {size} bytes y el máximo es {max_bytes}."
    return error("T107", message=es, message_en=f"The document is {size} bytes long and the maximum is {max_bytes}.",
                 detail={"max_bytes": max_bytes, "bytes": size}, findings=[finding("T107", detail=es)])


def parse_error(detail: str, node: str = "", detail_en: str | None = None) -> TimbraError:
    c = CODES["301"]
    f = Finding("301", c.es, node, detail=detail, message_en=c.en, detail_en=detail_en)
    extra = {"reason": detail} if detail_en is None else {"reason": detail, "reason_en": detail_en}
    return TimbraError("301", c.es, message_en=c.en, findings=[f], detail=extra)


@dataclass(eq=False)
class Document:
    """A parsed CFDI: the bytes as received and their tree."""

    raw: bytes
    root: etree._Element
    version: str
    ns: str
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def tree(self) -> etree._ElementTree:
        return self.root.getroottree()

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.root.get(name, default)

    def q(self, local: str) -> str:
        return f"{{{self.ns}}}{local}"

    def child(self, local: str) -> etree._Element | None:
        """The first child element `local` of the Comprobante (as root.find, without its path parser)."""
        return self._children.get(f"{{{self.ns}}}{local}")

    @cached
    def _children(self) -> dict[str, etree._Element]:
        """The Comprobante's first child element of each tag, from one pass over its children."""
        found: dict[str, etree._Element] = {}
        for el in self.root:
            tag = el.tag
            if isinstance(tag, str) and tag not in found:
                found[tag] = el
        return found

    @cached
    def emisor(self) -> etree._Element | None:
        return self.child("Emisor")

    @cached
    def receptor(self) -> etree._Element | None:
        return self.child("Receptor")

    @cached
    def conceptos(self) -> list[etree._Element]:
        c = self.child("Conceptos")
        return [] if c is None else children_of(c, self.q("Concepto"))

    @cached
    def impuestos(self) -> etree._Element | None:
        return self.child("Impuestos")

    @cached
    def complemento(self) -> etree._Element | None:
        return self.child("Complemento")

    @cached
    def complementos(self) -> list[etree._Element]:
        """Every complement element (3.3 allows several Complemento nodes)."""
        out: list[etree._Element] = []
        for comp in children_of(self.root, self.q("Complemento")):
            out.extend(e for e in comp if isinstance(e.tag, str))
        return out

    def complement_namespaces(self) -> set[str]:
        return {etree.QName(e).namespace for e in self.complementos}

    @cached
    def tfd(self) -> etree._Element | None:
        for e in self.complementos:
            if e.tag == f"{{{NS_TFD}}}TimbreFiscalDigital":
                return e
        return None

    def has_namespace(self, ns: str) -> bool:
        """Whether any element of the document is in namespace `ns`, decided once per document (a walk of the
        tree inside libxml2: about 1 µs for a 3-concepto invoice, 14 µs at 300)."""
        key = ("ns", ns)
        got = self._cache.get(key)
        if got is None:
            got = self._cache[key] = next(self.root.iter(f"{{{ns}}}*"), None) is not None
        return got

    @property
    def uuid(self) -> str | None:
        return None if self.tfd is None else self.tfd.get("UUID")


def first_child(el: etree._Element, tag: str) -> etree._Element | None:
    """el.find(tag) for a "{namespace}local" tag: its first child with that tag. A loop over a few children
    costs less than lxml's tag matcher (iterchildren(tag)) or ElementPath (find) take to set up."""
    for x in el:
        if x.tag == tag:
            return x
    return None


def children_of(el: etree._Element, tag: str) -> list[etree._Element]:
    """el.findall(tag) for a "{namespace}local" tag, as first_child does it."""
    return [x for x in el if x.tag == tag]


def path_of(el: etree._Element, attr: str | None = None) -> str:
    """A readable node path: Conceptos/Concepto[3]/Impuestos/Traslados/Traslado[1]@Importe."""
    parts: list[str] = []
    node = el
    while node is not None:
        parent = node.getparent()
        local = etree.QName(node).localname
        if parent is None:
            if not parts:
                parts.append(local)
            break
        if local in REPEATABLE:
            n = 1
            sib = node.getprevious()
            while sib is not None:
                if sib.tag == node.tag:
                    n += 1
                sib = sib.getprevious()
            local = f"{local}[{n}]"
        parts.append(local)
        node = parent
    text = "/".join(reversed(parts))
    return f"{text}@{attr}" if attr else text


def limit_error(exc: etree.XMLSyntaxError) -> TimbraError:
    """One of libxml2's limits, in timbra's words (libxml2's own text names a parser option, not the
    problem): too deep or a huge text or attribute is too large (T107)."""
    where = f"línea {exc.lineno}, columna {exc.offset}"
    if "depth" in (exc.msg or "").lower():
        es = f"El documento anida más de {MAX_DEPTH} niveles de elementos, el máximo que se admite ({where})."
        return error("T107", message=es, findings=[finding("T107", detail=es)],
                     message_en=f"The document nests more than {MAX_DEPTH} levels of elements, the maximum "
                                f"accepted (line {exc.lineno}, column {exc.offset}).",
                     detail={"max_depth": MAX_DEPTH})
    es = f"Un texto o atributo del documento mide más de {MAX_TEXT_BYTES} bytes, el máximo que se admite ({where})."
    return error("T107", message=es, findings=[finding("T107", detail=es)],
                 message_en=f"A text or attribute of the document is longer than {MAX_TEXT_BYTES} bytes, the "
                            f"maximum accepted (line {exc.lineno}, column {exc.offset}).",
                 detail={"max_text_bytes": MAX_TEXT_BYTES})


def refuse_instructions(body: bytes, root: etree._Element) -> None:
    """301 for processing instructions (<?...?> other than the XML declaration) and XInclude: a CFDI is data,
    nothing in it is processed or included (timbra never runs XInclude; this says so to the sender)."""
    if NS_XINCLUDE[0] in body or NS_XINCLUDE[1] in body:
        raise parse_error("el documento usa XInclude, que no se permite",
                          detail_en="the document uses XInclude, which is not allowed")
    if body[:5] == b"<?xml" and body[5:6] in (b" ", b"\t", b"\r", b"\n"):
        # After the XML declaration (well-formed: no "<" inside), a "<?" needs a "?": one byte is cheaper to
        # look for than two, and most documents have no "?" past their declaration.
        end = body.find(b"?>")
        if end != -1 and body.find(b"?", end + 2) == -1:
            return
    if body.find(b"<?", 2) == -1:
        return
    tree = root.getroottree()
    pis = any(isinstance(n, etree._ProcessingInstruction) for n in root.itersiblings(preceding=True))
    pis = pis or any(isinstance(n, etree._ProcessingInstruction) for n in root.itersiblings())
    if pis or next(iter(tree.iter(etree.ProcessingInstruction)), None) is not None:
        raise parse_error("el documento contiene instrucciones de procesamiento (<?...?>), que no se permiten",
                          detail_en="the document holds processing instructions (<?...?>), which are not allowed")


def parse(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Document:
    """Parse untrusted bytes into a CFDI Document, or raise TimbraError 301."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise parse_error("el documento debe recibirse como bytes", detail_en="the document must be given as bytes")
    data = bytes(data)
    if not data or data.isspace():  # as "not data.strip()", without copying the document
        raise parse_error("el documento está vacío", detail_en="the document is empty")
    if len(data) > max_bytes:
        raise too_large(len(data), max_bytes)
    body = data[3:] if data.startswith(_BOM) else data
    if body[:2] in (b"\xff\xfe", b"\xfe\xff") or body[:1] == b"\x00" or body[1:2] == b"\x00":
        raise parse_error("el documento debe estar codificado en UTF-8 (se recibió UTF-16)",
                          detail_en="the document must be encoded in UTF-8 (UTF-16 was received)")
    m = _ENCODING_RE.match(body[:200])
    if m and m.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        declared = m.group(1).decode("ascii")
        raise parse_error(f"el documento declara la codificación {declared}; el SAT exige UTF-8",
                          detail_en=f"the document declares the encoding {declared}; SAT requires UTF-8")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise parse_error(f"el documento no es UTF-8 válido (byte {exc.start})",
                          detail_en=f"the document is not valid UTF-8 (byte {exc.start})") from None
    # Each element opens with a "<", so a body of at most MAX_ELEMENTS bytes cannot hold more (no counting).
    elements = 0 if len(body) <= MAX_ELEMENTS else (
        body.count(b"<") - body.count(b"</") - body.count(b"<!") - body.count(b"<?"))
    if elements > MAX_ELEMENTS:
        es = f"El documento tiene más de {MAX_ELEMENTS} elementos, el máximo que se admite."
        raise error("T107", message=es, findings=[finding("T107", detail=es)],
                    message_en=f"The document has more than {MAX_ELEMENTS} elements, the maximum accepted.",
                    detail={"max_elements": MAX_ELEMENTS})
    first = _FIRST_ELEMENT_RE.search(body)
    prolog = body[: first.start() if first else len(body)]
    if b"<!DOCTYPE" in prolog.upper():
        raise parse_error("el documento contiene una declaración DOCTYPE/ENTITY, que no se permite",
                          detail_en="the document holds a DOCTYPE/ENTITY declaration, which is not allowed")
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        if exc.code == XML_ERR_RESOURCE_LIMIT:
            raise limit_error(exc) from None
        e = syntax_error(exc)
        raise parse_error(f"XML mal formado: {e.es}", detail_en=f"malformed XML: {e.en}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise parse_error("el documento contiene una declaración DOCTYPE, que no se permite",
                          detail_en="the document holds a DOCTYPE declaration, which is not allowed")
    refuse_instructions(body, root)
    qn = etree.QName(root)
    version = VERSION_OF_NS.get(qn.namespace or "")
    if qn.localname != "Comprobante" or version is None:
        tag = root.tag if isinstance(root.tag, str) else "?"
        raise parse_error(f"el elemento raíz es {tag[:80]!r}; se esperaba cfdi:Comprobante de CFDI 4.0 o 3.3",
                          detail_en=f"the root element is {tag[:80]!r}; expected a CFDI 4.0 or 3.3 cfdi:Comprobante")
    declared = root.get("Version")
    if declared != version:
        shown = None if declared is None else declared[:40]
        raise parse_error(f"el atributo Version es {shown!r} pero el espacio de nombres es el de CFDI {version}",
                          "Comprobante@Version",
                          detail_en=f"the Version attribute is {shown!r} but the namespace is CFDI {version}'s")
    return Document(raw=data, root=root, version=version, ns=qn.namespace)
