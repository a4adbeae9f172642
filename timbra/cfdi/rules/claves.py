"""Catalog values of every attribute that SAT's schemas type with a catalog (c_FormaPago, c_Moneda, ...).

The shipped XSDs are lean (no enumerations), so this one rule does what libxml2 did with the
enumerations, from in-memory sets, for the Comprobante and every complement. Where SAT's CFDI 4.0 matrix
has a code for the attribute (FormaPago -> CFDI40104) the finding carries it; elsewhere the finding is
301, as a schema failure would have been.
"""
from __future__ import annotations

from lxml import etree

from timbra.cfdi.document import NS40
from timbra.cfdi.rules import Context, rule
from timbra.sat.catalogs import collapse

# (element, attribute) -> code, for CFDI 4.0's own namespace. Concepto-level and Comprobante-level
# Traslado/Retencion have different codes; the key uses "Concepto/" for the concepto level.
CODES_40: dict[tuple[str, str], str] = {
    ("Comprobante", "FormaPago"): "CFDI40104",
    ("Comprobante", "Moneda"): "CFDI40113",
    ("Comprobante", "TipoDeComprobante"): "CFDI40121",
    ("Comprobante", "Exportacion"): "CFDI40123",
    ("Comprobante", "MetodoPago"): "CFDI40124",
    ("Comprobante", "LugarExpedicion"): "CFDI40126",
    ("InformacionGlobal", "Periodicidad"): "CFDI40131",
    ("InformacionGlobal", "Meses"): "CFDI40133",
    ("CfdiRelacionados", "TipoRelacion"): "CFDI40137",
    ("Emisor", "RegimenFiscal"): "CFDI40140",
    ("Receptor", "ResidenciaFiscal"): "CFDI40150",
    ("Receptor", "RegimenFiscalReceptor"): "CFDI40157",
    ("Receptor", "UsoCFDI"): "CFDI40160",
    ("Concepto", "ClaveProdServ"): "CFDI40162",
    ("Concepto", "ClaveUnidad"): "CFDI40165",
    ("Concepto", "ObjetoImp"): "CFDI40170",
    ("Concepto/Traslado", "Impuesto"): "CFDI40175",
    ("Concepto/Traslado", "TipoFactor"): "CFDI40176",
    ("Concepto/Retencion", "Impuesto"): "CFDI40182",
    ("Concepto/Retencion", "TipoFactor"): "CFDI40183",
    ("ACuentaTerceros", "RegimenFiscalACuentaTerceros"): "CFDI40191",
    ("Parte", "ClaveProdServ"): "CFDI40196",
    ("Retencion", "Impuesto"): "CFDI40207",
    ("Traslado", "Impuesto"): "CFDI40217",
}
CATALOG_CODES = frozenset(CODES_40.values())

# catCFDI.xsd is shared by CFDI 3.3 and 4.0 and still lists values that 4.0 dropped (UsoCFDI P01,
# TipoRelacion 08 and 09). For a 4.0 document these types take their values from SAT's 4.0 catalog table.
TABLES_40 = {"c_UsoCFDI": "cfdi_40_usos_cfdi", "c_TipoRelacion": "cfdi_40_tipos_relaciones"}


# (namespace, element, attribute) -> code, for the complements' own catalog codes. Each complement module
# registers its codes at import with `catalog_codes(ns, {...})`, so the finding carries the complement
# matrix's code (e.g. a Pago's FormaDePagoP) instead of 301.
COMPLEMENT_CODES: dict[tuple[str, str, str], str] = {}


def catalog_codes(namespace: str, codes: dict[tuple[str, str], str]) -> None:
    """Register the matrix codes for catalog-typed attributes of a complement: {(element, attr): code}."""
    for (element, attr), code in codes.items():
        COMPLEMENT_CODES[(namespace, element, attr)] = code


def _code(ns: str, el: etree._Element, local: str, attr: str) -> str:
    if ns != NS40:
        return COMPLEMENT_CODES.get((ns, local, attr), "301")
    if local in ("Traslado", "Retencion"):
        parent = el.getparent()
        grand = parent.getparent() if parent is not None else None
        owner = grand.getparent() if grand is not None else None
        if owner is not None and etree.QName(owner).localname == "Concepto":
            return CODES_40.get((f"Concepto/{local}", attr), "301")
    return CODES_40.get((local, attr), "301")


# The caches below are keyed by tags, and tags come from documents: an Addenda holds any element a client
# writes. Each is emptied when it reaches CACHE_LIMIT entries, so a stream of documents with ever new tags
# costs time, never memory (a real document has a few dozen kinds of element).
CACHE_LIMIT = 4096


def _remember(cache: dict, key, value):
    if len(cache) >= CACHE_LIMIT:
        cache.clear()
    cache[key] = value
    return value


_split_cache: dict[str, tuple[str, str]] = {}


def _split(tag: str) -> tuple[str, str]:
    got = _split_cache.get(tag)
    if got is None:
        ns, _, local = tag[1:].partition("}") if tag[:1] == "{" else ("", "", tag)
        got = _remember(_split_cache, tag, (ns, local))
    return got


Plan = list[tuple[str, "frozenset[str] | set[str]", str]]
# (catalogs id, tag, parent local name or "") -> [(attribute, allowed values, catalog name)], built once per
# element kind: the hot loop over a 300-concepto invoice then does two dict lookups per element.
_plans: dict[tuple[int, str, str], Plan] = {}


def _plan(ctx: Context, el: etree._Element, tag: str) -> Plan:
    ns, local = _split(tag)
    by_element = ctx.catalogs.bindings.get(ns)
    parent_name = ""
    attrs = by_element.get(local) if by_element else None
    if by_element and attrs is None:
        parent = el.getparent()
        parent_name = _split(parent.tag)[1] if parent is not None else ""
        attrs = by_element.get(f"{parent_name}/{local}")
    key = (id(ctx.catalogs), tag, parent_name)
    got = _plans.get(key)
    if got is None:
        got = []
        for attr, catalog in (attrs or {}).items():
            name = catalog.rsplit("}", 1)[-1]
            allowed = ctx.catalogs.enum(catalog)
            if ns == NS40 and name in TABLES_40:
                allowed = set(ctx.catalogs.index(TABLES_40[name]))
            if allowed:
                got.append((attr, allowed, name))
        _remember(_plans, key, got)
    return got


# (catalogs id) -> tag -> the tag's plan, or _BY_PARENT when it depends on the parent's name: one dict lookup
# per element of the document instead of a namespace split and two binding lookups.
_by_tag: dict[int, dict[str, Plan | None]] = {}
_BY_PARENT = None
_UNKNOWN: Plan = []  # a tag not planned yet (by identity)
# (catalogs id) -> (tag, parent's tag) -> plan, for the tags whose plan depends on the parent.
_by_parent: dict[int, dict[tuple[str, str | None], Plan]] = {}


def _tag_plan(ctx: Context, el: etree._Element, tag: str, by_tag: dict[str, Plan | None]) -> Plan | None:
    ns, local = _split(tag)
    by_element = ctx.catalogs.bindings.get(ns)
    if not by_element:
        got: Plan | None = []
    elif by_element.get(local) is not None:
        got = _plan(ctx, el, tag)
    elif any(key.endswith(f"/{local}") for key in by_element):
        got = _BY_PARENT
    else:
        got = []  # typed under no parent either
    return _remember(by_tag, tag, got)


@rule(*sorted(CATALOG_CODES))
def catalog_values(ctx: Context) -> None:
    by_tag = _by_tag.get(id(ctx.catalogs))
    if by_tag is None:
        by_tag = _by_tag[id(ctx.catalogs)] = {}
    by_parent = _by_parent.get(id(ctx.catalogs))
    if by_parent is None:
        by_parent = _by_parent[id(ctx.catalogs)] = {}
    for el in ctx.root.iter(etree.Element):
        tag = el.tag
        plan = by_tag.get(tag, _UNKNOWN)
        if plan is _UNKNOWN:
            plan = _tag_plan(ctx, el, tag, by_tag)
        if plan is _BY_PARENT:
            parent = el.getparent()
            key = (tag, parent.tag if parent is not None else None)
            plan = by_parent.get(key)
            if plan is None:
                plan = _remember(by_parent, key, _plan(ctx, el, tag))
        for attr, allowed, name in plan:
            value = el.get(attr)
            if value is None or value in allowed or collapse(value) in allowed:
                continue
            ns, local = _split(tag)
            ctx.fail(_code(ns, el, local, attr), el, attr, value=value,
                     detail=f"el valor {value!r} no está en el catálogo {name}")
