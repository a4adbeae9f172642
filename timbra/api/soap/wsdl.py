"""A SOAP service described once. The WSDL that a client generates its proxy from, the reading of each
request and the writing of each answer all come from that one description, so they cannot disagree.

Two dialects are written, the two that the services timbra imitates were generated with:

* "wcf": Microsoft WCF (FEL). Every operation is a wrapper element in the service's namespace with its
  parameters in order; the answer is `<Op>Response/<Op>Result`; complex types (data contracts) live in
  their own namespace with members in alphabetical order; arrays are `ArrayOfX` types whose items are
  named after their type (`ArrayOfstring` in Microsoft's arrays namespace); SOAPAction
  `<namespace><PortType>/<Op>`; a global element per type; binding and port `soapHttpEndpoint`.
* "spyne": Python's spyne (Finkok). Operations and their `op`/`opResponse` wrapper types in the service's
  namespace, result types in `apps.services.soap.core.views`, arrays as `XArray` types, messages named as
  the operation, port type and binding `Application`, SOAPAction the bare operation name.

Element order inside each type is the one written here: it is the originals' order (see each service's
module for the public material it comes from).
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cached_property

from lxml import etree

from timbra.codes import error

XS = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
SOAP_BIND = "http://schemas.xmlsoap.org/wsdl/soap/"
WSAW = "http://www.w3.org/2006/05/addressing/wsdl"
MS_ARRAYS = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"
SOAP_HTTP = "http://schemas.xmlsoap.org/soap/http"

PRIMITIVES = frozenset({"string", "int", "short", "long", "boolean", "dateTime", "decimal", "base64Binary",
                        "double"})
_VALUE_TYPES = frozenset({"int", "short", "long", "boolean", "double"})  # WCF: not nillable


@dataclass(frozen=True)
class F:
    """A member of a complex type, or a parameter of an operation. `many`: repeated in place (the item of an
    array type); `attr`: an XML attribute."""

    name: str
    type: str = "string"
    many: bool = False
    attr: bool = False


@dataclass(frozen=True)
class T:
    """A complex type. `ns`: its namespace when it is not the service's types namespace."""

    name: str
    fields: tuple[F, ...]
    base: str | None = None
    ns: str | None = None


def array(name: str, item: str, item_type: str | None = None, ns: str | None = None) -> T:
    """An array type: one repeated member (`ArrayOfX` of `X`, or spyne's `XArray`)."""
    return T(name, (F(item, item_type or item, many=True),), ns=ns)


@dataclass(frozen=True)
class Op:
    name: str
    params: tuple[F, ...]
    result: str  # the result's type


@dataclass(frozen=True)
class Service:
    name: str            # wsdl:service
    dialect: str         # "wcf" | "spyne"
    tns: str             # the operations' namespace
    types_ns: str        # the complex types' namespace
    port_type: str
    binding: str
    port: str
    ops: tuple[Op, ...]
    types: tuple[T, ...]
    definitions_name: str = ""
    ops_map: dict[str, Op] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.ops_map.update({o.name: o for o in self.ops})

    @cached_property
    def _types(self) -> dict[str, T]:
        return {t.name: t for t in self.types}

    def type(self, name: str) -> T:
        return self._types[name]

    def ns_of(self, t: T) -> str:
        return t.ns or self.types_ns

    def fields(self, t: T) -> list[F]:
        """Members in document order: the base type's first."""
        return (self.fields(self.type(t.base)) if t.base else []) + list(t.fields)

    def items_of(self, type_name: str) -> F | None:
        """The repeated member of an array type, or None."""
        if type_name in PRIMITIVES:
            return None
        t = self.type(type_name)
        return t.fields[0] if len(t.fields) == 1 and t.fields[0].many and t.base is None else None

    def action(self, op: str) -> str:
        return f"{self.tns}{self.port_type}/{op}" if self.dialect == "wcf" else op

    def result_name(self, op: str) -> str:
        return f"{op}Result"

    # --- answers ----------------------------------------------------------------------------------------

    def answer(self, op: Op, value) -> etree._Element:
        """`<Op>Response><Op>Result>...` for the result `value` (a dict in the type's member names; a list for
        an array type; a key left out is an element left out; None is xsi:nil)."""
        wrapper = etree.Element(f"{{{self.tns}}}{op.name}Response", nsmap=self._answer_nsmap())
        self._put(wrapper, self.result_name(op.name), self.tns, op.result, value)
        return wrapper

    def _answer_nsmap(self) -> dict:
        if self.dialect == "wcf":
            return {None: self.tns, "a": self.types_ns, "i": XSI}
        return {"tns": self.tns, "s0": self.types_ns, "xsi": XSI}

    def _put(self, parent: etree._Element, name: str, ns: str, type_name: str, value) -> None:
        el = etree.SubElement(parent, f"{{{ns}}}{name}")
        if value is None:
            el.set(f"{{{XSI}}}nil", "true")
            return
        if type_name in PRIMITIVES:
            el.text = _text(type_name, value)
            return
        t = self.type(type_name)
        item = self.items_of(type_name)
        if item is not None and isinstance(value, list | tuple):
            value = {item.name: value}
        self._fill(el, t, value)

    def _fill(self, el: etree._Element, t: T, value: dict) -> None:
        ns = self.ns_of(t)
        for f in self.fields(t):
            if f.name not in value:
                continue
            v = value[f.name]
            if f.attr:
                if v is not None:
                    el.set(f.name, _text(f.type, v))
            elif f.many:
                for item in v or ():
                    self._put(el, f.name, ns, f.type, item)
            elif v is None and self.dialect == "wcf" and f.type in _VALUE_TYPES:
                continue  # not nillable in WCF's schema: left out (minOccurs 0) rather than nil
            else:
                self._put(el, f.name, ns, f.type, v)

    # --- requests ---------------------------------------------------------------------------------------

    def read(self, op: Op, el: etree._Element) -> dict:
        """The operation's parameters by name (local names: a client that qualifies them otherwise is still
        understood). A parameter left out is None; an array is a list; a complex value a dict."""
        return self._read_members(el, op.params)

    def _read_members(self, el: etree._Element, members: Iterable[F]) -> dict:
        children: dict[str, list[etree._Element]] = {}
        for child in el:
            if isinstance(child.tag, str):
                children.setdefault(etree.QName(child).localname, []).append(child)
        out: dict = {}
        for f in members:
            if f.attr:
                raw = el.get(f.name)
                out[f.name] = None if raw is None else _value(f.type, raw, f.name)
            elif f.many:
                out[f.name] = [self._read_value(c, f) for c in children.get(f.name, [])]
            else:
                found = children.get(f.name)
                out[f.name] = self._read_value(found[0], f) if found else None
        return out

    def _read_value(self, el: etree._Element, f: F):
        if el.get(f"{{{XSI}}}nil") in ("true", "1"):
            return None
        if f.type in PRIMITIVES:
            return _value(f.type, el.text or "", f.name)
        item = self.items_of(f.type)
        if item is not None:
            return self._read_members(el, [item])[item.name]
        return self._read_members(el, self.fields(self.type(f.type)))

    # --- the WSDL ---------------------------------------------------------------------------------------

    def wsdl(self, location: str) -> bytes:
        root = wcf_wsdl(self, location) if self.dialect == "wcf" else spyne_wsdl(self, location)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _text(type_name: str, value) -> str:
    if type_name == "boolean":
        return "true" if value else "false"
    if type_name == "base64Binary":
        return base64.b64encode(value if isinstance(value, bytes) else str(value).encode("utf-8")).decode("ascii")
    if type_name == "dateTime" and isinstance(value, datetime):
        return value.isoformat()
    if type_name == "decimal" and isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


_INT_RANGE = {"short": 2**15, "int": 2**31, "long": 2**63}


def _value(type_name: str, text: str, name: str):
    text = text.strip() if type_name != "string" else text
    try:
        if type_name == "string":
            return text
        if text == "":
            return None
        if type_name != "base64Binary" and not text.isascii():  # int() and Decimal() read '٣': XML Schema does not
            raise ValueError(text)
        if type_name in ("int", "short", "long"):
            n = int(text)
            if not -_INT_RANGE[type_name] <= n < _INT_RANGE[type_name]:
                raise ValueError(text)
            return n
        if type_name == "boolean":
            if text.lower() not in ("true", "false", "1", "0"):
                raise ValueError(text)
            return text.lower() in ("true", "1")
        if type_name == "decimal":
            return Decimal(text)
        if type_name == "double":
            return float(text)
        if type_name == "dateTime":
            return datetime.fromisoformat(text)
        if type_name == "base64Binary":
            return base64.b64decode("".join(text.split()), validate=True)
    except (ValueError, InvalidOperation, binascii.Error):
        raise error("T203", message=f"Parámetro SOAP inválido: {name} no es un {type_name}.",
                    message_en=f"Invalid SOAP parameter: {name} is not a valid {type_name}.",
                    detail={"parameter": name, "type": type_name}) from None
    return text


# --- WSDL writers ---------------------------------------------------------------------------------------

def _x(parent: etree._Element, ns: str, tag: str, **attrs) -> etree._Element:
    return etree.SubElement(parent, f"{{{ns}}}{tag}", {k: v for k, v in attrs.items() if v is not None})


class _Prefixes:
    """The prefix a type reference uses for each namespace (declared on the element that refers)."""

    def __init__(self, svc: Service) -> None:
        self.svc = svc

    def ref(self, type_name: str) -> tuple[str, str]:
        """(qualified name, namespace) of a type."""
        if type_name in PRIMITIVES:
            return f"xs:{type_name}", XS
        t = self.svc.type(type_name)
        ns = self.svc.ns_of(t)
        return f"{self.prefix(ns)}:{type_name}", ns

    def prefix(self, ns: str) -> str:
        if ns == self.svc.tns:
            return "tns"
        if ns == self.svc.types_ns:
            return "s0" if self.svc.dialect == "spyne" else "q"
        if ns == MS_ARRAYS:
            return "arr"
        return "x"


def _schema(types: etree._Element, ns: str, imports: Iterable[str], prefixes: _Prefixes) -> etree._Element:
    nsmap = {"xs": XS, prefixes.prefix(ns): ns}
    for i in imports:
        nsmap[prefixes.prefix(i)] = i
    s = etree.SubElement(types, f"{{{XS}}}schema", {"targetNamespace": ns, "elementFormDefault": "qualified"},
                         nsmap=nsmap)
    for i in imports:
        _x(s, XS, "import", namespace=i)
    return s


def _member(seq: etree._Element, f: F, prefixes: _Prefixes, dialect: str) -> None:
    qname, _ = prefixes.ref(f.type)
    attrs = {"minOccurs": "0", "name": f.name, "type": qname}
    if f.many:
        attrs["maxOccurs"] = "unbounded"
    if dialect == "spyne" or f.type not in _VALUE_TYPES:
        attrs["nillable"] = "true"
    _x(seq, XS, "element", **attrs)


def _complex_type(schema: etree._Element, t: T, svc: Service, prefixes: _Prefixes) -> None:
    ct = _x(schema, XS, "complexType", name=t.name)
    attrs = [f for f in t.fields if f.attr]
    elements = [f for f in t.fields if not f.attr]
    host = ct
    if t.base:
        ext = _x(_x(ct, XS, "complexContent"), XS, "extension", base=prefixes.ref(t.base)[0])
        host = ext
    seq = _x(host, XS, "sequence")
    for f in elements:
        _member(seq, f, prefixes, svc.dialect)
    for f in attrs:
        _x(host, XS, "attribute", name=f.name, type=prefixes.ref(f.type)[0])


def _namespaces_used(svc: Service) -> list[str]:
    out = [svc.types_ns]
    if any(t.ns == MS_ARRAYS for t in svc.types):
        out.append(MS_ARRAYS)
    return out


def wcf_wsdl(svc: Service, location: str) -> etree._Element:
    p = _Prefixes(svc)
    nsmap = {"wsdl": WSDL_NS, "soap": SOAP_BIND, "wsaw": WSAW, "xsd": XS, "tns": svc.tns}
    root = etree.Element(f"{{{WSDL_NS}}}definitions", {"name": svc.definitions_name or svc.name,
                                                       "targetNamespace": svc.tns}, nsmap=nsmap)
    types = _x(root, WSDL_NS, "types")
    used = _namespaces_used(svc)
    ops_schema = _schema(types, svc.tns, used, p)
    for op in svc.ops:
        el = _x(ops_schema, XS, "element", name=op.name)
        seq = _x(_x(el, XS, "complexType"), XS, "sequence")
        for f in op.params:
            _member(seq, f, p, "wcf")
        el = _x(ops_schema, XS, "element", name=f"{op.name}Response")
        seq = _x(_x(el, XS, "complexType"), XS, "sequence")
        _member(seq, F(svc.result_name(op.name), op.result), p, "wcf")
    for ns in used:
        schema = _schema(types, ns, [u for u in used if u != ns and _refers(svc, ns, u)], p)
        for t in svc.types:
            if svc.ns_of(t) == ns:
                _complex_type(schema, t, svc, p)
                _x(schema, XS, "element", name=t.name, nillable="true", type=p.ref(t.name)[0])
    for op in svc.ops:
        for kind, el in (("Input", op.name), ("Output", f"{op.name}Response")):
            m = _x(root, WSDL_NS, "message", name=f"{svc.port_type}_{op.name}_{kind}Message")
            _x(m, WSDL_NS, "part", name="parameters", element=f"tns:{el}")
    pt = _x(root, WSDL_NS, "portType", name=svc.port_type)
    for op in svc.ops:
        o = _x(pt, WSDL_NS, "operation", name=op.name)
        o_in = _x(o, WSDL_NS, "input", message=f"tns:{svc.port_type}_{op.name}_InputMessage")
        o_in.set(f"{{{WSAW}}}Action", svc.action(op.name))
        o_out = _x(o, WSDL_NS, "output", message=f"tns:{svc.port_type}_{op.name}_OutputMessage")
        o_out.set(f"{{{WSAW}}}Action", f"{svc.action(op.name)}Response")
    _binding(root, svc, style_on_operation=True)
    service = _x(root, WSDL_NS, "service", name=svc.name)
    port = _x(service, WSDL_NS, "port", name=svc.port, binding=f"tns:{svc.binding}")
    _x(port, SOAP_BIND, "address", location=location)
    return root


def _refers(svc: Service, ns: str, other: str) -> bool:
    """Whether a type of namespace `ns` has a member of a type of namespace `other`."""
    for t in svc.types:
        if svc.ns_of(t) != ns:
            continue
        for f in t.fields:
            if f.type not in PRIMITIVES and svc.ns_of(svc.type(f.type)) == other:
                return True
    return False


def _binding(root: etree._Element, svc: Service, *, style_on_operation: bool) -> None:
    b = _x(root, WSDL_NS, "binding", name=svc.binding, type=f"tns:{svc.port_type}")
    _x(b, SOAP_BIND, "binding", style=None if style_on_operation else "document", transport=SOAP_HTTP)
    for op in svc.ops:
        o = _x(b, WSDL_NS, "operation", name=op.name)
        _x(o, SOAP_BIND, "operation", soapAction=svc.action(op.name), style="document")
        names = (None, None) if svc.dialect == "wcf" else (op.name, f"{op.name}Response")
        for kind, name in zip(("input", "output"), names, strict=True):
            _x(_x(o, WSDL_NS, kind, name=name), SOAP_BIND, "body", use="literal")


def spyne_wsdl(svc: Service, location: str) -> etree._Element:
    p = _Prefixes(svc)
    nsmap = {"wsdl": WSDL_NS, "soap": SOAP_BIND, "xs": XS, "xsi": XSI, "tns": svc.tns, "s0": svc.types_ns}
    root = etree.Element(f"{{{WSDL_NS}}}definitions", {"name": svc.definitions_name or "Application",
                                                       "targetNamespace": svc.tns}, nsmap=nsmap)
    types = _x(root, WSDL_NS, "types")
    views = _schema(types, svc.types_ns, [], p)
    for t in svc.types:
        _complex_type(views, t, svc, p)
    for t in svc.types:
        _x(views, XS, "element", name=t.name, type=p.ref(t.name)[0])
    ops_schema = _schema(types, svc.tns, [svc.types_ns], p)
    for op in svc.ops:
        for name, members in ((op.name, op.params), (f"{op.name}Response", (F(svc.result_name(op.name), op.result),))):
            seq = _x(_x(ops_schema, XS, "complexType", name=name), XS, "sequence")
            for f in members:
                _member(seq, f, p, "spyne")
    for op in svc.ops:
        for name in (op.name, f"{op.name}Response"):
            _x(ops_schema, XS, "element", name=name, type=f"tns:{name}")
    for op in svc.ops:
        for name in (op.name, f"{op.name}Response"):
            _x(_x(root, WSDL_NS, "message", name=name), WSDL_NS, "part", name=name, element=f"tns:{name}")
    pt = _x(root, WSDL_NS, "portType", name=svc.port_type)
    for op in svc.ops:
        o = _x(pt, WSDL_NS, "operation", name=op.name, parameterOrder=op.name)
        _x(o, WSDL_NS, "input", name=op.name, message=f"tns:{op.name}")
        _x(o, WSDL_NS, "output", name=f"{op.name}Response", message=f"tns:{op.name}Response")
    _binding(root, svc, style_on_operation=False)
    service = _x(root, WSDL_NS, "service", name=svc.name)
    port = _x(service, WSDL_NS, "port", name=svc.port, binding=f"tns:{svc.binding}")
    _x(port, SOAP_BIND, "address", location=location)
    return root
