"""What the three builders share: the data model's base, BuildError, the Comprobante's header and the walk from
a finding's XML node path back to the JSON the ERP sent.

    root, zone = comprobante(data, emisor=emisor, fecha=fecha, namespaces=..., schema_location=...,
                             attrs=[...])   # Version..Fecha, then `attrs`; CfdiRelacionados, Emisor, Receptor
    element(root, "Conceptos")              # a child with the attributes that have a value, in order

Amounts are rounded and written by timbra.cfdi.amounts (round_half_up, fmt); `fmt_shortest` is the one
way of writing numbers the builders add: as people write them (no trailing zeros), for the amounts the ERP
states with more decimals than a currency's (Cantidad, TipoCambio, a stated Base).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Annotated, Protocol

from lxml import etree
from pydantic import BaseModel, ConfigDict, Field

from timbra.cfdi.amounts import quantum
from timbra.cfdi.document import NS40, NS_XSI
from timbra.sat.catalogs import catalogs

SCHEMA_LOCATION_40 = "http://www.sat.gob.mx/cfd/4 http://www.sat.gob.mx/sitio_internet/cfd/4/cfdv40.xsd"

Rate = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=6)]


class DataModel(BaseModel):
    """The base of every model of issue data. Unknown fields are errors (a typo must not silently drop data);
    Anexo 20's names, as sent."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)


class CfdiRelacionadosData(DataModel):
    TipoRelacion: str
    UUIDs: list[str] = Field(min_length=1)


# cfdi:Emisor as the ERP may state it; RFC, name and régimen default to the account's. (No docstrings on the
# models below DataModel unless meant for the API's schema: pydantic publishes them as descriptions.)
class EmisorCfdi(DataModel):

    Rfc: str | None = Field(None, description="Solo si la cuenta tiene varios RFC")
    Nombre: str | None = Field(None, max_length=254, description="Por omisión, el nombre registrado en la cuenta "
                               "para el RFC, o el del CSD sin régimen de capital")
    RegimenFiscal: str | None = Field(None, description="Por omisión, el régimen registrado de la cuenta")


# cfdi:Emisor of a factura or a CFDI de pagos, which may carry FacAtrAdquirente (a nómina's may not).
class EmisorData(EmisorCfdi):

    FacAtrAdquirente: str | None = None


@dataclass(frozen=True)
class Emisor:
    rfc: str
    nombre: str
    regimen_fiscal: str


class BuildError(ValueError):
    """Data that cannot make a CFDI, with the JSON path of the field (e.g. Conceptos[0].Descuento)."""

    def __init__(self, path: str, message: str, value: object = None, message_en: str | None = None) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message
        self.value = value
        self.message_en = message_en


def fmt_shortest(value: Decimal, min_decimals: int = 0) -> str:
    """A number as written by people: no exponent, no trailing zeros beyond `min_decimals`."""
    d = value.normalize()
    if d.as_tuple().exponent > -min_decimals:
        d = d.quantize(quantum(min_decimals))
    return f"{d:f}"


def element(parent: etree._Element, local: str, attrs: Iterable[tuple[str, str | None]] = (), ns: str = NS40
            ) -> etree._Element:
    """A child element with the attributes that have a value, in the order given."""
    el = etree.SubElement(parent, f"{{{ns}}}{local}")
    set_attrs(el, attrs)
    return el


def set_attrs(el: etree._Element, attrs: Iterable[tuple[str, str | None]]) -> None:
    """Set the attributes that have a value, in the order given."""
    for k, v in attrs:
        if v is not None:
            try:
                el.set(k, v)
            except ValueError:  # NUL or a control character: XML cannot hold it
                raise xml_incompatible(f"{etree.QName(el).localname}.{k}", v) from None


def xml_incompatible(path: str, value: object) -> BuildError:
    return BuildError(path, "El valor contiene un carácter que XML no admite (NUL o un carácter de control).",
                      None if value is None else repr(value)[:80],
                      "The value holds a character XML cannot hold (NUL or a control character).")


# -- the Comprobante's header ---------------------------------------------------------------------------

class _Receptor(Protocol):
    Rfc: str
    Nombre: str
    DomicilioFiscalReceptor: str
    RegimenFiscalReceptor: str
    UsoCFDI: str


class _Header(Protocol):
    """What `comprobante` reads of a kind's data (ResidenciaFiscal, NumRegIdTrib, FacAtrAdquirente where the
    kind has them)."""

    Serie: str | None
    Folio: str | None
    LugarExpedicion: str
    CfdiRelacionados: list[CfdiRelacionadosData]

    @property
    def Emisor(self) -> EmisorCfdi: ...  # noqa: N802 (Anexo 20's names)

    @property
    def Receptor(self) -> _Receptor: ...  # noqa: N802


def comprobante(data: _Header, *, emisor: Emisor, fecha: datetime, namespaces: Mapping[str, str],
                schema_location: str, attrs: Iterable[tuple[str, str | None]] = (),
                informacion_global: Iterable[tuple[str, str | None]] | None = None,
                ) -> tuple[etree._Element, tzinfo]:
    """A cfdi:Comprobante with Version, Serie, Folio, Fecha (`fecha` in LugarExpedicion's zone) and then
    `attrs`; its InformacionGlobal (when given), CfdiRelacionados, Emisor (`emisor`, the régimen the data
    states winning) and Receptor. Returns it and LugarExpedicion's zone; the caller adds the rest.

    Raises BuildError when LugarExpedicion is not in c_CodigoPostal."""
    zone = catalogs().zone_for_postal_code(data.LugarExpedicion)
    if zone is None:
        raise BuildError("LugarExpedicion", "no está en el catálogo c_CodigoPostal", data.LugarExpedicion)
    root = etree.Element(f"{{{NS40}}}Comprobante", nsmap={"cfdi": NS40, "xsi": NS_XSI, **namespaces})
    root.set(f"{{{NS_XSI}}}schemaLocation", schema_location)
    set_attrs(root, (("Version", "4.0"), ("Serie", data.Serie), ("Folio", data.Folio),
                     ("Fecha", fecha.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S")), *attrs))
    if informacion_global is not None:
        element(root, "InformacionGlobal", informacion_global)
    for rel in data.CfdiRelacionados:
        node = element(root, "CfdiRelacionados", [("TipoRelacion", rel.TipoRelacion)])
        for u in rel.UUIDs:
            element(node, "CfdiRelacionado", [("UUID", u)])
    e = data.Emisor
    element(root, "Emisor", [("Rfc", emisor.rfc), ("Nombre", emisor.nombre),
                             ("RegimenFiscal", e.RegimenFiscal or emisor.regimen_fiscal),
                             ("FacAtrAdquirente", getattr(e, "FacAtrAdquirente", None))])
    r = data.Receptor
    element(root, "Receptor", [("Rfc", r.Rfc.upper()), ("Nombre", r.Nombre),
                               ("DomicilioFiscalReceptor", r.DomicilioFiscalReceptor),
                               ("ResidenciaFiscal", getattr(r, "ResidenciaFiscal", None)),
                               ("NumRegIdTrib", getattr(r, "NumRegIdTrib", None)),
                               ("RegimenFiscalReceptor", r.RegimenFiscalReceptor), ("UsoCFDI", r.UsoCFDI)])
    return root, zone


# -- findings back to the JSON ----------------------------------------------------------------------------

_STEP = re.compile(r"([A-Za-zñÑ]+)(?:\[(\d+)\])?")


@dataclass(frozen=True)
class JsonPaths:
    """How one kind's XML maps onto the JSON the ERP sends, for `walk`:

    lists: XML element -> the JSON list that holds it; its XPath index (from 1) becomes the JSON's (from 0).
    skip: elements the JSON does not have (Comprobante, Complemento, the XML's wrappers of lists).
    containers: wrappers named as their JSON list: skipped before an item, the list's name when the path
        ends there (a finding on a computed total of Percepciones names "Nomina.Percepciones").
    scalars: (element, attribute) of a list the JSON holds as plain values: the attribute is the item.
    renames: attribute -> the JSON field it comes from (Año -> Anio).
    computed: attributes timbra computes: a finding on one names its element."""

    lists: Mapping[str, str]
    skip: frozenset[str]
    containers: frozenset[str] = frozenset()
    scalars: frozenset[tuple[str, str]] = frozenset()
    renames: Mapping[str, str] = field(default_factory=dict)
    computed: frozenset[str] = frozenset()

    def walk(self, node: str) -> str:
        """`node` ("Conceptos/Concepto[3]/Impuestos/Traslados/Traslado[1]@TasaOCuota") as a JSON path
        ("Conceptos[2].Impuestos.Traslados[0].TasaOCuota"); a path it cannot read is returned as it is."""
        elements, _, attr = node.partition("@")
        out: list[str] = []
        last = ""
        pending: str | None = None  # a container whose items may follow
        for step in (s for s in elements.split("/") if s):
            m = _STEP.fullmatch(step)
            if m is None:
                return node
            name = last = m.group(1)
            if name in self.skip:
                continue
            if name in self.containers:
                pending = name
                continue
            if name in self.lists:
                out.append(f"{self.lists[name]}[{int(m.group(2) or 1) - 1}]")
            else:
                out.append(name)
            pending = None
        if pending is not None:
            out.append(pending)
        if attr and attr not in self.computed and (last, attr) not in self.scalars:
            out.append(self.renames.get(attr, attr))
        return ".".join(out)
