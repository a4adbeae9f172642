"""The tests' one set of helpers for reading and changing CFDI XML.

- `node(root, path)` / `nodes(root, path)`: the element(s) at an XPath relative to the Comprobante, with the
  prefixes of `NSMAP` (cfdi, tfd, pago20, nomina12, cp).
- `attrs_at(root, path)`: the attributes of that element, as a dict (reading).
- `set_attrs(el, **attrs)`: set attributes of an element; None removes one (changing).
- `setting(path, **attrs)`: a mutate function for `make_xml` and the complement builders that does
  `set_attrs` on the element at `path`.
- `q(local, ns=NS40)`: a qualified name; `money(d)`: an amount with two decimals, rounded half up.
"""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from lxml import etree

from timbra.cfdi.amounts import fmt
from timbra.cfdi.document import NS40, NS_PAGOS20, NS_TFD

NS_NOMINA = "http://www.sat.gob.mx/nomina12"
NS_CP = "http://www.sat.gob.mx/CartaPorte31"
NSMAP = {"cfdi": NS40, "tfd": NS_TFD, "pago20": NS_PAGOS20, "nomina12": NS_NOMINA, "cp": NS_CP}

Mutate = Callable[[etree._Element], object]


def nodes(root: etree._Element, path: str) -> list[etree._Element]:
    return root.xpath(path, namespaces=NSMAP)


def node(root: etree._Element, path: str) -> etree._Element:
    """The first element at `path`; a test that names a missing element fails here, loudly."""
    found = nodes(root, path)
    if not found:
        raise AssertionError(f"no element at {path}")
    return found[0]


def attrs_at(root: etree._Element, path: str) -> dict[str, str]:
    return dict(node(root, path).attrib)


def set_attrs(el: etree._Element, **attrs: str | None) -> etree._Element:
    for k, v in attrs.items():
        if v is None:
            el.attrib.pop(k, None)
        else:
            el.set(k, v)
    return el


def setting(path: str, **attrs: str | None) -> Mutate:
    def mutate(root: etree._Element) -> None:
        set_attrs(node(root, path), **attrs)

    return mutate


def q(local: str, ns: str = NS40) -> str:
    return f"{{{ns}}}{local}"


def money(d: Decimal) -> str:
    return fmt(d, 2)
