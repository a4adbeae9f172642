"""What the CFDI 4.0 rules read from the Conceptos, read once per document (`Context.conceptos`).

Before, each rule walked the Conceptos and read (and converted) the same attributes again: Importe was read
by four rules, ObjetoImp by three, every Traslado's amounts by several. Here each Concepto's amounts and
its Traslados and Retenciones are read once and every rule takes them from the same place.

The facts keep what the document says as it says it: an attribute that is absent is None, a number that
cannot be read is None next to its text (a rule that skipped an unreadable Importe still does), and the
node shapes are kept as the rules read them (the taxes of a Concepto are those of its first Impuestos child,
from the last Traslados and Retenciones groups in it; `traslados_groups` counts them for the rules that
read the first one).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from lxml import etree

from timbra.cfdi.amounts import to_decimal
from timbra.cfdi.document import Document


@dataclass(slots=True)
class Tax:
    """A Traslado or Retencion as written (texts) and read (Decimal, None when absent or not a number)."""

    el: etree._Element
    impuesto: str | None
    factor: str | None
    tasa_text: str | None
    tasa: Decimal | None
    base_text: str | None
    base: Decimal | None
    importe_text: str | None
    importe: Decimal | None


_TAX_NAMES: dict[str, tuple[str, ...]] = {}


def read_tax(el: etree._Element, suffix: str = "") -> Tax:
    """A Traslado or Retencion; `suffix` reads a complement's twin (Pagos 2.0: TrasladoDR's BaseDR, ...)."""
    names = _TAX_NAMES.get(suffix)
    if names is None:
        names = _TAX_NAMES[suffix] = tuple(f"{n}{suffix}" for n in ("Impuesto", "TipoFactor", "TasaOCuota", "Base",
                                                                       "Importe"))
    impuesto, factor, tasa_text, base_text, importe_text = map(el.get, names)
    return Tax(el, impuesto, factor, tasa_text, to_decimal(tasa_text),
               base_text, to_decimal(base_text), importe_text, to_decimal(importe_text))


class Concepto:
    """One cfdi:Concepto: its attributes the rules read (text and, for amounts, Decimal) and its taxes."""

    __slots__ = ("el", "cantidad_text", "cantidad", "valor_text", "valor", "importe_text", "importe",
                 "descuento_text", "descuento", "objeto_imp", "clave", "impuestos", "impuestos_first", "traslados",
                 "retenciones", "traslados_groups")

    def __init__(self, el: etree._Element, q_imp: str, q_ts: str, q_t: str, q_rs: str, q_r: str) -> None:
        self.el = el
        get = el.get
        self.cantidad_text = cantidad = get("Cantidad")
        self.valor_text = valor = get("ValorUnitario")
        self.importe_text = importe = get("Importe")
        self.descuento_text = descuento = get("Descuento")
        self.cantidad = to_decimal(cantidad)
        self.valor = to_decimal(valor)
        self.importe = to_decimal(importe)
        self.descuento = to_decimal(descuento)
        self.objeto_imp = get("ObjetoImp")
        self.clave = get("ClaveProdServ")
        # The first Impuestos child (as first_child finds it), and whether it is the first child element.
        imp = None
        first = True
        for x in el:
            tag = x.tag
            if tag == q_imp:
                imp = x
                break
            if isinstance(tag, str):
                first = False
        self.impuestos = imp
        self.impuestos_first = imp is not None and first
        tras: list[Tax] = []
        rets: list[Tax] = []
        groups = 0
        if imp is not None:
            for group in imp:
                tag = group.tag
                if tag == q_ts:
                    groups += 1
                    tras = [read_tax(t) for t in group if t.tag == q_t]
                elif tag == q_rs:
                    rets = [read_tax(r) for r in group if r.tag == q_r]
        self.traslados = tras
        self.retenciones = rets
        self.traslados_groups = groups


class Conceptos:
    """Every Concepto of the document (Document.conceptos, in order) and all their taxes in one list each."""

    __slots__ = ("items", "traslados", "retenciones")

    def __init__(self, doc: Document) -> None:
        q = doc.q
        q_imp, q_ts, q_t, q_rs, q_r = q("Impuestos"), q("Traslados"), q("Traslado"), q("Retenciones"), q("Retencion")
        self.items = [Concepto(c, q_imp, q_ts, q_t, q_rs, q_r) for c in doc.conceptos]
        self.traslados = [t for c in self.items for t in c.traslados]
        self.retenciones = [r for c in self.items for r in c.retenciones]


class Totales:
    """The Comprobante's amounts (SubTotal, Descuento, Total) and its Impuestos' totals, each read once: several
    rules compare them. Texts as written (None when absent), values as read (None when not a number)."""

    __slots__ = ("subtotal_text", "subtotal", "descuento_text", "descuento", "total_text", "total",
                 "trasladados_text", "trasladados", "retenidos_text", "retenidos")

    def __init__(self, doc: Document) -> None:
        get = doc.root.get
        self.subtotal_text = text = get("SubTotal")
        self.subtotal = to_decimal(text)
        self.descuento_text = text = get("Descuento")
        self.descuento = to_decimal(text)
        self.total_text = text = get("Total")
        self.total = to_decimal(text)
        imp = doc.impuestos
        if imp is None:
            self.trasladados_text = self.trasladados = self.retenidos_text = self.retenidos = None
        else:
            self.trasladados_text = text = imp.get("TotalImpuestosTrasladados")
            self.trasladados = to_decimal(text)
            self.retenidos_text = text = imp.get("TotalImpuestosRetenidos")
            self.retenidos = to_decimal(text)
