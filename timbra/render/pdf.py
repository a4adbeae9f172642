"""The representación impresa laid out on US Letter pages with fpdf2.

Every page repeats the header (emisor, the document's title, serie and folio, folio fiscal, dates) and the
footer (SAT's legend, "Página N de M"); the conceptos table repeats its column headings on each page it
continues on; descriptions and sellos wrap. Text is placed with fpdf2's low-level `text()` and measured with
the font's own widths (fpdf2's cells cost ~40 us each, too much for 300 conceptos).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from io import BytesIO

from fpdf import FPDF

from timbra.render import fonts
from timbra.render.model import Invoice, Line, Section, Table, TaxLine
from timbra.render.qr import qr_runs

PT = 25.4 / 72  # mm per point
PAGE_W, PAGE_H = 215.9, 279.4  # US Letter, what Mexican offices print on
LEFT = RIGHT = 12.0
WIDTH = PAGE_W - LEFT - RIGHT
TOP = 10.0
FOOTER_Y = PAGE_H - 12.0
BOTTOM = FOOTER_Y - 3.0
PAD = 1.2

DEFAULT_ACCENT = (31, 78, 121)
INK = (34, 34, 34)
MUTED = (105, 105, 105)
RULE = (200, 200, 200)
ZEBRA = (245, 246, 248)
RED = (190, 30, 30)

BODY, SMALL, TINY, LABEL = 7.3, 6.4, 5.7, 6.0
NOTE = 6.1  # the line of details under a concepto


@dataclass(frozen=True)
class Branding:
    """An account's look: a logo (PNG or JPEG bytes) and an accent colour ("#RRGGBB")."""

    logo: bytes | None = None
    color: str | None = None

    def accent(self) -> tuple[int, int, int]:
        c = (self.color or "").lstrip("#")
        if len(c) == 6:
            try:
                return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)
            except ValueError:
                pass
        return DEFAULT_ACCENT


def _on(color: tuple[int, int, int]) -> tuple[int, int, int]:
    """White or black text, whichever reads better on `color` (WCAG relative luminance)."""
    def lin(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    lum = 0.2126 * lin(color[0]) + 0.7152 * lin(color[1]) + 0.0722 * lin(color[2])
    return (255, 255, 255) if lum < 0.45 else (0, 0, 0)


def _light(color: tuple[int, int, int], amount: float = 0.88) -> tuple[int, int, int]:
    r, g, b = color
    return (round(r + (255 - r) * amount), round(g + (255 - g) * amount), round(b + (255 - b) * amount))


class _Widths(dict):
    """A face's advance widths (1/1000 em) by character; a character the face lacks has its missing width."""

    def __init__(self, cw: dict[int, float], missing: float) -> None:
        super().__init__((chr(code), width) for code, width in cw.items())
        self.missing = missing

    def __missing__(self, key: str) -> float:
        return self.missing


_widths: dict[str, _Widths] = {}


def _tables() -> dict[str, _Widths]:
    if not _widths:
        for style, face in fonts.faces().items():
            _widths[style] = _Widths(face.proto.cw, face.proto.desc.missing_width)
    return _widths


@lru_cache(maxsize=1)
def _unprintable() -> re.Pattern[str]:
    """Any character the regular face has no glyph for (its cmap as ranges, negated)."""
    codes = sorted(fonts.faces()[""].proto.cmap)
    ranges, start, prev = [], codes[0], codes[0]
    for c in codes[1:] + [-1]:
        if c != prev + 1:
            ranges.append(re.escape(chr(start)) + ("-" + re.escape(chr(prev)) if prev > start else ""))
            start = c
        prev = c
    return re.compile(f"[^{''.join(ranges)}]")


class Page:
    """Text measuring, wrapping and drawing on one fpdf2 document."""

    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf
        self._w = _tables()
        self._unprintable = _unprintable()
        self._font: tuple[str, float] | None = None
        self._color: tuple[int, int, int] | None = None

    # -- text ----------------------------------------------------------------------------------------
    def printable(self, text: str) -> str:
        """Characters the shipped font lacks become U+FFFD (a visible mark instead of nothing)."""
        if text.isascii():
            return text
        return self._unprintable.sub("\ufffd", text)

    def units(self, text: str, bold: bool = False) -> float:
        """The advance of `text` in 1/1000 em."""
        return sum(map(self._w["B" if bold else ""].__getitem__, text))

    def width(self, text: str, size: float, bold: bool = False) -> float:
        return self.units(text, bold) * size * PT / 1000

    def wrap(self, text: str, width: float, size: float, bold: bool = False) -> list[str]:
        """Lines of at most `width` mm: breaks at spaces, and inside words longer than a line (UUIDs, sellos)."""
        text = self.printable(text)
        if not text:
            return [""]
        table = self._w["B" if bold else ""]
        get = table.__getitem__
        limit = width / (size * PT / 1000)
        if "\n" not in text and sum(map(get, text)) <= limit:
            return [text]
        lines: list[str] = []
        space = table[" "]
        for paragraph in text.split("\n"):
            line, line_w = "", 0.0
            for word in paragraph.split(" "):
                w = sum(map(get, word))
                extra = w + (space if line else 0)
                if line_w + extra <= limit:
                    line = f"{line} {word}" if line else word
                    line_w += extra
                    continue
                if line:
                    lines.append(line)
                    line, line_w = "", 0.0
                if w <= limit:
                    line, line_w = word, w
                    continue
                chunk, chunk_w = "", 0.0
                for ch in word:  # a word longer than the line: break it anywhere
                    c = table[ch]
                    if chunk_w + c > limit and chunk:
                        lines.append(chunk)
                        chunk, chunk_w = "", 0.0
                    chunk += ch
                    chunk_w += c
                line, line_w = chunk, chunk_w
            lines.append(line)
        return lines

    def font(self, size: float, bold: bool = False) -> None:
        key = ("B" if bold else "", size)
        if key != self._font:
            self.pdf.set_font(fonts.FAMILY, key[0], size)
            self._font = key

    def color(self, rgb: tuple[int, int, int]) -> None:
        if rgb != self._color:
            self.pdf.set_text_color(*rgb)
            self._color = rgb

    def text(self, x: float, top: float, text: str, size: float, *, bold: bool = False,
             rgb: tuple[int, int, int] = INK, align: str = "L", width: float = 0.0) -> None:
        """One line whose box starts at `top` (mm); align R/C within `width` from x."""
        if not text:
            return
        text = self.printable(text)
        self.font(size, bold)
        self.color(rgb)
        if align == "R":
            x = x + width - self.width(text, size, bold)
        elif align == "C":
            x = x + (width - self.width(text, size, bold)) / 2
        self.pdf.text(x, top + size * PT * 0.92, text)

    def lines(self, x: float, top: float, lines: Sequence[str], size: float, *, bold: bool = False,
              rgb: tuple[int, int, int] = INK, align: str = "L", width: float = 0.0, leading: float = 1.18) -> float:
        """Lines one under the other; returns their height."""
        step = size * PT * leading
        for i, line in enumerate(lines):
            self.text(x, top + i * step, line, size, bold=bold, rgb=rgb, align=align, width=width)
        return len(lines) * step

    @staticmethod
    def height(n: int, size: float, leading: float = 1.18) -> float:
        return n * size * PT * leading

    # -- shapes --------------------------------------------------------------------------------------
    def fill(self, x: float, y: float, w: float, h: float, rgb: tuple[int, int, int]) -> None:
        self.pdf.set_fill_color(*rgb)
        self.pdf.rect(x, y, w, h, style="F")

    def rule(self, x1: float, y1: float, x2: float, y2: float, rgb: tuple[int, int, int] = RULE,
             width: float = 0.2) -> None:
        self.pdf.set_draw_color(*rgb)
        self.pdf.set_line_width(width)
        self.pdf.line(x1, y1, x2, y2)

    def box(self, x: float, y: float, w: float, h: float, rgb: tuple[int, int, int] = RULE) -> None:
        self.pdf.set_draw_color(*rgb)
        self.pdf.set_line_width(0.2)
        self.pdf.rect(x, y, w, h)


@dataclass
class Column:
    title: str
    width: float
    align: str = "L"


class Renderer:
    def __init__(self, inv: Invoice, branding: Branding | None = None) -> None:
        self.inv = inv
        self.branding = branding or Branding()
        self.accent = self.branding.accent()
        self.on_accent = _on(self.accent)
        self.tint = _light(self.accent)
        pdf = FPDF(unit="mm", format="Letter")
        pdf.set_auto_page_break(False)
        pdf.set_margins(LEFT, TOP, RIGHT)
        pdf.alias_nb_pages(None)
        fonts.attach(pdf)
        self.pdf = pdf
        self.p = Page(pdf)
        self.y = TOP
        self._logo = None

    # -- pages ---------------------------------------------------------------------------------------
    def new_page(self) -> None:
        self.pdf.add_page()
        self.p._font = None
        self.p._color = None
        self.y = self.header()

    def ensure(self, height: float) -> bool:
        """Room for `height` mm on this page, or a new page. True when a page was added."""
        if self.y + height > BOTTOM:
            self.new_page()
            return True
        return False

    def header(self) -> float:
        p, inv = self.p, self.inv
        # Right: the document's title band and its identifiers.
        bx, bw = LEFT + WIDTH - 70.0, 70.0
        band = RED if inv.cancelled else self.accent
        p.fill(bx, TOP, bw, 7.0, band)
        p.text(bx, TOP + 1.6, inv.title, 10.0, bold=True, rgb=_on(band), align="C", width=bw)
        half = (bw - 2 * PAD) / 2
        rows = [
            (("Serie y folio", "-".join(x for x in (inv.serie, inv.folio) if x) or "—"),
             ("Tipo de comprobante", inv.tipo_desc)),
            (("Folio fiscal (UUID)", inv.stamp.uuid),),
            (("Fecha de emisión", inv.fecha), ("Fecha de certificación", inv.stamp.fecha_timbrado)),
            (("Lugar de expedición (CP)", inv.lugar), ("Versión del CFDI", inv.version)),
        ]
        y = TOP + 8.0
        for row in rows:
            w = half if len(row) == 2 else bw - 2 * PAD
            for i, (label, value) in enumerate(row):
                x = bx + PAD + i * half
                p.text(x, y, label, LABEL, rgb=MUTED)
                p.text(x, y + 2.6, (p.wrap(value, w, BODY, bold=True) or [""])[0], BODY, bold=True)
            y += 6.4
        right_bottom = y
        p.box(bx, TOP, bw, right_bottom - TOP)

        # Left: logo and the emisor.
        x, limit = LEFT, bx - 4.0
        logo_bottom = TOP
        if self.branding.logo:
            info = self.pdf.image(BytesIO(self.branding.logo), x=LEFT, y=TOP, w=42.0, h=22.0, keep_aspect_ratio=True)
            drawn = getattr(info, "rendered_width", 42.0) or 42.0
            x = LEFT + drawn + 4.0
            logo_bottom = TOP + (getattr(info, "rendered_height", 22.0) or 22.0)
            if limit - x < 55.0:  # a wide logo: the emisor goes under it
                x, y0 = LEFT, logo_bottom + 2.0
            else:
                y0 = TOP
        else:
            y0 = TOP
        w = limit - x
        em = inv.emisor
        y = y0 + p.lines(x, y0, p.wrap(em.nombre or em.rfc, w, 10.5, bold=True)[:3], 10.5, bold=True, rgb=self.accent)
        y += 0.8
        for label, value in (("RFC", em.rfc), ("Régimen fiscal", em.regimen)):
            if value:
                y += self._pair(x, y, w, label, value, BODY)
        if inv.cancelled:
            y += 1.0
            p.text(x, y, "CFDI CANCELADO ANTE EL SAT", 8.0, bold=True, rgb=RED)
            y += 4.0
        bottom = max(right_bottom, y, logo_bottom) + 2.0
        p.rule(LEFT, bottom, LEFT + WIDTH, bottom, self.accent, 0.5)
        return bottom + 2.5

    def _pair(self, x: float, y: float, w: float, label: str, value: str, size: float) -> float:
        """'Label: value' with the value wrapped beside the label; returns the height."""
        p = self.p
        head = f"{label}: "
        lw = p.width(head, size, bold=True)
        lines = p.wrap(value, max(w - lw, 10.0), size)
        p.text(x, y, head, size, bold=True, rgb=MUTED)
        return p.lines(x + lw, y, lines, size)

    def _pair_height(self, w: float, label: str, value: str, size: float) -> float:
        lw = self.p.width(f"{label}: ", size, bold=True)
        return Page.height(len(self.p.wrap(value, max(w - lw, 10.0), size)), size)

    def footers(self) -> None:
        """Footer and, for a cancelled CFDI, the watermark, on every page (now that their number is known)."""
        pdf, p, inv = self.pdf, self.p, self.inv
        total = pdf.pages_count
        legend = "Este documento es una representación impresa de un CFDI"
        for n in range(1, total + 1):
            pdf.page = n
            pdf.current_font_is_set_on_page = False  # fpdf2 then selects the font again on this page
            p._font = None
            p._color = None
            p.rule(LEFT, FOOTER_Y, LEFT + WIDTH, FOOTER_Y, RULE, 0.3)
            p.text(LEFT, FOOTER_Y + 1.2, legend, SMALL, bold=True, rgb=MUTED)
            p.text(LEFT + p.width(legend + "  ", SMALL, bold=True), FOOTER_Y + 1.2,
                   f"· Folio fiscal {inv.stamp.uuid}", SMALL, rgb=MUTED)
            p.text(LEFT, FOOTER_Y + 1.2, f"Página {n} de {total}", SMALL, bold=True, rgb=MUTED, align="R",
                   width=WIDTH)
            if inv.cancelled:
                with pdf.local_context(fill_opacity=0.16), pdf.rotation(35, PAGE_W / 2, PAGE_H / 2):
                    p._font = p._color = None
                    p.text(0, PAGE_H / 2 - 14, "CANCELADO", 96, bold=True, rgb=RED, align="C", width=PAGE_W)
                p._font = p._color = None

    # -- blocks --------------------------------------------------------------------------------------
    def section_title(self, title: str, *, keep: float = 12.0) -> None:
        self.ensure(6.5 + keep)
        self.y += 1.0
        p = self.p
        p.text(LEFT, self.y, title.upper(), 7.6, bold=True, rgb=self.accent)
        self.y += 3.6
        p.rule(LEFT, self.y, LEFT + WIDTH, self.y, self.accent, 0.3)
        self.y += 1.4

    def parties(self) -> None:
        inv, p = self.inv, self.p
        gap = 5.0
        w = (WIDTH - gap) / 2
        rec = inv.receptor
        left = [("RFC", rec.rfc), ("Domicilio fiscal (CP)", rec.domicilio), ("Régimen fiscal", rec.regimen),
                ("Uso del CFDI", rec.uso), ("Residencia fiscal", rec.residencia),
                ("Número de registro de identidad fiscal", rec.num_reg_id_trib)]
        left = [(k, v) for k, v in left if v]
        right = [("Forma de pago", inv.forma_pago), ("Método de pago", inv.metodo_pago),
                 ("Moneda", inv.moneda_desc), ("Tipo de cambio", inv.tipo_cambio),
                 ("Exportación", inv.exportacion), ("Condiciones de pago", inv.condiciones),
                 ("No. de certificado del emisor (CSD)", inv.no_certificado), ("Confirmación", inv.confirmacion),
                 ("Información global", inv.informacion_global)]
        right = [(k, v) for k, v in right if v]
        inner = w - 2 * PAD
        name_lines = p.wrap(rec.nombre or rec.rfc, inner, 8.4, bold=True)
        lh = 4.6 + Page.height(len(name_lines), 8.4) + sum(self._pair_height(inner, k, v, BODY) for k, v in left)
        rh = 4.6 + sum(self._pair_height(inner, k, v, BODY) for k, v in right)
        h = max(lh, rh) + 2 * PAD
        self.ensure(h)
        y0 = self.y
        for x, title in ((LEFT, "Receptor"), (LEFT + w + gap, "Datos del comprobante")):
            p.fill(x, y0, w, 4.2, self.tint)
            p.text(x + PAD, y0 + 0.8, title.upper(), 6.8, bold=True, rgb=self.accent)
            p.box(x, y0, w, h)
        y = y0 + 4.2 + PAD
        y += p.lines(LEFT + PAD, y, name_lines, 8.4, bold=True)
        for k, v in left:
            y += self._pair(LEFT + PAD, y, inner, k, v, BODY)
        y = y0 + 4.2 + PAD
        for k, v in right:
            y += self._pair(LEFT + w + gap + PAD, y, inner, k, v, BODY)
        self.y = y0 + h + 3.0

    def relations(self) -> None:
        if not self.inv.relacionados:
            return
        self.section_title("CFDI relacionados", keep=4.0)
        for tipo, uuids in self.inv.relacionados:
            h = self._pair_height(WIDTH, f"Tipo de relación {tipo}", ", ".join(uuids), BODY)
            self.ensure(h)
            self.y += self._pair(LEFT, self.y, WIDTH, f"Tipo de relación {tipo}", ", ".join(uuids), BODY) + 0.8
        self.y += 2.0

    def concept_columns(self) -> list[Column]:
        discount = any(line.descuento for line in self.inv.lines)
        cols = [Column("Clave SAT", 15.5), Column("No. ident.", 16.0), Column("Cantidad", 13.0, "R"),
                Column("Unidad", 22.0), Column("Descripción", 0.0), Column("Valor unitario", 20.0, "R")]
        if discount:
            cols.append(Column("Descuento", 16.0, "R"))
        cols.append(Column("Importe", 21.0, "R"))
        fixed = sum(c.width for c in cols)
        cols[4].width = WIDTH - fixed
        return cols

    def table_head(self, cols: Sequence[Column]) -> None:
        p = self.p
        h = 5.0
        p.fill(LEFT, self.y, WIDTH, h, self.accent)
        x = LEFT
        for c in cols:
            p.text(x + PAD, self.y + 1.3, c.title, SMALL, bold=True, rgb=self.on_accent, align=c.align,
                   width=c.width - 2 * PAD)
            x += c.width
        self.y += h

    def concepts(self) -> None:
        inv, p = self.inv, self.p
        cols = self.concept_columns()
        self.section_title("Conceptos", keep=14.0)
        self.table_head(cols)
        desc_x = LEFT + sum(c.width for c in cols[:4])
        note_w = WIDTH - (desc_x - LEFT) - 2 * PAD
        discount = any(line.descuento for line in inv.lines)
        for i, line in enumerate(inv.lines):
            cells = self._concept_cells(line, discount)
            wrapped = [p.wrap(text, c.width - 2 * PAD, BODY) for text, c in zip(cells, cols, strict=True)]
            unit = p.wrap(line.unidad, cols[3].width - 2 * PAD, SMALL) if line.unidad else []
            note = self._concept_note(line)
            notes = p.wrap(note, note_w, NOTE) if note else []
            heights = [Page.height(len(w), BODY) for w in wrapped]
            heights[3] += Page.height(len(unit), SMALL)
            desc_h = heights[4]
            heights[4] += Page.height(len(notes), NOTE) + (0.5 if notes else 0)
            h = max(heights) + 2 * PAD
            if self.ensure(h):
                self.table_head(cols)
            if i % 2:
                p.fill(LEFT, self.y, WIDTH, h, ZEBRA)
            x = LEFT
            for c, lines in zip(cols, wrapped, strict=True):
                p.lines(x + PAD, self.y + PAD, lines, BODY, align=c.align, width=c.width - 2 * PAD)
                x += c.width
            if unit:
                p.lines(LEFT + sum(c.width for c in cols[:3]) + PAD, self.y + PAD + Page.height(len(wrapped[3]), BODY),
                        unit, SMALL, rgb=MUTED)
            if notes:
                p.lines(desc_x + PAD, self.y + PAD + desc_h + 0.5, notes, NOTE, rgb=MUTED)
            self.y += h
            p.rule(LEFT, self.y, LEFT + WIDTH, self.y)
        self.y += 3.0

    def _concept_cells(self, line: Line, discount: bool) -> list[str]:
        cells = [line.clave_prod_serv, line.no_identificacion, line.cantidad, line.clave_unidad, line.descripcion,
                 line.valor_unitario]
        if discount:
            cells.append(line.descuento)
        cells.append(line.importe)
        return cells

    @staticmethod
    def _concept_note(line: Line) -> str:
        parts = [f"Clave SAT: {line.prod_serv}"] if line.prod_serv else []
        if line.objeto_imp:
            parts.append(f"Objeto de impuesto: {line.objeto_imp}")
        for t in line.taxes:
            parts.append(_tax_line_text(t))
        parts.extend(line.notes)
        return " · ".join(parts)

    # -- totals --------------------------------------------------------------------------------------
    def totals(self) -> None:
        inv, p = self.inv, self.p
        rows: list[tuple[str, str]] = [("Subtotal", inv.subtotal)]
        if inv.descuento:
            rows.append(("Descuento", "-" + inv.descuento))
        for t in inv.taxes:
            if t.kind == "traslado":
                label = f"{t.label} (base {t.base})" if t.base else t.label
                rows.append((label, t.importe if t.importe else "exento"))
        for t in inv.taxes:
            if t.kind == "retencion":
                rows.append((t.label, "-" + t.importe))
        rows.extend(inv.local_taxes)
        bw = 78.0
        row_h = 4.4
        words_w = WIDTH - bw - 5.0
        words = p.wrap(inv.total_words, words_w - 2 * PAD, BODY, bold=True) if inv.total_words else []
        summary = []
        if inv.total_traslados:
            summary.append(("Total de impuestos trasladados", inv.total_traslados))
        if inv.total_retenidos:
            summary.append(("Total de impuestos retenidos", inv.total_retenidos))
        left_h = (4.2 + Page.height(len(words), BODY) + 2 * PAD if words else 0) + \
            sum(self._pair_height(words_w, k, v, BODY) for k, v in summary) + (2.0 if summary else 0)
        h = max(len(rows) * row_h + 6.5, left_h)
        self.ensure(h + 2.0)
        y0 = self.y
        x0 = LEFT + WIDTH - bw
        y = y0
        for label, value in rows:
            p.text(x0 + PAD, y + 0.8, label, BODY, rgb=MUTED)
            p.text(x0, y + 0.8, value, BODY, align="R", width=bw - PAD)
            y += row_h
            p.rule(x0, y, x0 + bw, y)
        p.fill(x0, y + 0.6, bw, 5.8, self.accent)
        p.text(x0 + PAD, y + 1.6, "NETO A PAGAR" if inv.tipo == "N" else "TOTAL", 8.6, bold=True,
               rgb=self.on_accent)
        p.text(x0, y + 1.6, f"{inv.total} {inv.moneda}".strip(), 8.6, bold=True, rgb=self.on_accent, align="R",
               width=bw - PAD)
        ly = y0
        if words:
            box_h = 4.2 + Page.height(len(words), BODY) + 2 * PAD
            p.fill(LEFT, ly, words_w, 4.2, self.tint)
            p.text(LEFT + PAD, ly + 0.8, "IMPORTE CON LETRA", 6.8, bold=True, rgb=self.accent)
            p.box(LEFT, ly, words_w, box_h)
            p.lines(LEFT + PAD, ly + 4.2 + PAD, words, BODY, bold=True)
            ly += box_h + 2.0
        for k, v in summary:
            ly += self._pair(LEFT, ly, words_w, k, v, BODY)
        self.y = y0 + h + 4.0

    # -- complements ---------------------------------------------------------------------------------
    def section(self, s: Section) -> None:
        self.section_title(s.title, keep=10.0)
        if s.fields:
            self.grid(s.fields)
        for t in s.tables:
            self.table(t)

    def grid(self, fields: Sequence[tuple[str, str]], columns: int = 4) -> None:
        p = self.p
        w = WIDTH / columns
        for start in range(0, len(fields), columns):
            row = fields[start:start + columns]
            wrapped = [p.wrap(v, w - 2 * PAD, BODY) for _, v in row]
            h = 2.6 + max(Page.height(len(x), BODY) for x in wrapped) + 1.2
            self.ensure(h)
            for i, ((label, _), lines) in enumerate(zip(row, wrapped, strict=True)):
                x = LEFT + i * w
                p.text(x + PAD, self.y, label, LABEL, rgb=MUTED)
                p.lines(x + PAD, self.y + 2.6, lines, BODY)
            self.y += h
        self.y += 1.5

    def table(self, t: Table) -> None:
        p = self.p
        weights = t.widths or [1.0] * len(t.headers)
        total = sum(weights)
        cols = [Column(h, WIDTH * wt / total, "R" if i in t.numeric else "L")
                for i, (h, wt) in enumerate(zip(t.headers, weights, strict=True))]
        title_lines = p.wrap(t.title, WIDTH, BODY, bold=True)
        self.ensure(Page.height(len(title_lines), BODY) + 11.0)
        self.y += p.lines(LEFT, self.y, title_lines, BODY, bold=True) + 0.6
        if t.fields:
            self.grid(t.fields)
            self.y -= 1.0
        self.table_head(cols)
        for i, row in enumerate(t.rows):
            wrapped = [p.wrap(text, c.width - 2 * PAD, SMALL + 0.4) for text, c in zip(row, cols, strict=True)]
            note = t.notes[i] if t.notes and i < len(t.notes) else ""
            notes = p.wrap(note, WIDTH - 2 * PAD, SMALL) if note else []
            h = max(Page.height(len(w), SMALL + 0.4) for w in wrapped) + 2 * PAD + \
                (Page.height(len(notes), SMALL) if notes else 0)
            if self.ensure(h):
                self.table_head(cols)
            if i % 2:
                p.fill(LEFT, self.y, WIDTH, h, ZEBRA)
            x = LEFT
            for c, lines in zip(cols, wrapped, strict=True):
                p.lines(x + PAD, self.y + PAD, lines, SMALL + 0.4, align=c.align, width=c.width - 2 * PAD)
                x += c.width
            if notes:
                p.lines(LEFT + PAD, self.y + h - PAD - Page.height(len(notes), SMALL), notes, SMALL, rgb=MUTED)
            self.y += h
            p.rule(LEFT, self.y, LEFT + WIDTH, self.y)
        if t.totals:
            bw = 78.0
            x0 = LEFT + WIDTH - bw
            self.ensure(len(t.totals) * 4.2 + 1.0)
            self.y += 0.6
            for label, value in t.totals:
                p.text(x0 + PAD, self.y + 0.6, label, BODY, bold=True, rgb=MUTED)
                p.text(x0, self.y + 0.6, value, BODY, bold=True, align="R", width=bw - PAD)
                self.y += 4.2
        self.y += 3.0

    # -- the stamp -----------------------------------------------------------------------------------
    def stamp(self) -> None:
        inv, p = self.inv, self.p
        st = inv.stamp
        qr = 32.0
        x = LEFT + qr + 4.0
        w = LEFT + WIDTH - x
        fields = [("No. de serie del CSD del emisor", inv.no_certificado),
                  ("No. de serie del certificado del SAT", st.no_certificado_sat),
                  ("RFC del proveedor de certificación", st.rfc_prov_certif),
                  ("Fecha y hora de certificación", st.fecha_timbrado)]
        blocks = [("Sello digital del CFDI", st.sello_cfd), ("Sello digital del SAT", st.sello_sat),
                  ("Cadena original del complemento de certificación digital del SAT", st.cadena)]
        if st.leyenda:
            blocks.append(("Leyenda", st.leyenda))
        wrapped = [(label, p.wrap(value, w, TINY)) for label, value in blocks]
        fw = w / 4
        field_h = 2.6 + Page.height(max(len(p.wrap(v, fw - 2 * PAD, SMALL)) for _, v in fields), SMALL) + 1.6
        text_h = field_h + sum(2.8 + Page.height(len(lines), TINY, 1.12) + 0.8 for _, lines in wrapped)
        h = max(qr, text_h) + 7.0
        self.section_title("Timbre fiscal digital", keep=h)
        y0 = self.y
        self.qr(LEFT, y0, qr)
        for i, (label, value) in enumerate(fields):
            fx = x + i * fw
            p.text(fx, y0, label, LABEL - 0.4, rgb=MUTED)
            p.lines(fx, y0 + 2.6, p.wrap(value, fw - 2 * PAD, SMALL), SMALL, bold=True)
        y = y0 + field_h
        for label, lines in wrapped:
            p.text(x, y, label + ":", LABEL, bold=True, rgb=MUTED)
            y += 2.8
            y += p.lines(x, y, lines, TINY, leading=1.12) + 0.8
        y = max(y, y0 + qr + 1.0)
        p.text(LEFT, y + 0.6, "Este documento es una representación impresa de un CFDI", BODY, bold=True)
        p.text(LEFT, y + 0.6, "Verifique en verificacfdi.facturaelectronica.sat.gob.mx", SMALL, rgb=MUTED,
               align="R", width=WIDTH)
        self.y = y + 6.0

    def qr(self, x: float, y: float, size: float) -> None:
        """The code as one path of black squares, written straight into the page's content stream (fpdf2's rect()
        per run costs ~25 us, and a code has ~700 runs)."""
        code = qr_runs(self.inv.qr_url)
        quiet = 1.2
        k = self.pdf.k
        module = (size - 2 * quiet) / code.size * k
        left, top = (x + quiet) * k, (PAGE_H - y - quiet) * k
        ops = [f"{left + col * module:.3f} {top - (row + 1) * module:.3f} {n * module:.3f} {module:.3f} re"
               for row, col, n in code.runs]
        self.pdf._out("q 0 g\n" + "\n".join(ops) + "\nf Q")

    def complements_note(self) -> None:
        shown = {"Pagos", "Nómina", "Carta Porte"}
        rest = [c for c in self.inv.complements if not any(c.startswith(s) for s in shown)]
        if rest:
            h = self._pair_height(WIDTH, "Complementos", ", ".join(rest), BODY)
            self.ensure(h)
            self.y += self._pair(LEFT, self.y, WIDTH, "Complementos", ", ".join(rest), BODY) + 2.0

    # -- the whole document --------------------------------------------------------------------------
    def render(self) -> bytes:
        inv, pdf = self.inv, self.pdf
        pdf.set_title(f"{inv.title.capitalize()} {inv.serie}{inv.folio} {inv.stamp.uuid}".replace("  ", " "))
        pdf.set_author(inv.emisor.nombre or inv.emisor.rfc)
        pdf.set_subject(f"Representación impresa del CFDI {inv.stamp.uuid}")
        pdf.set_creator("timbra")
        pdf.set_producer("timbra")
        try:
            pdf.set_creation_date(datetime.fromisoformat(inv.stamp.fecha_timbrado.replace(" ", "T")))
        except ValueError:
            pass
        self.new_page()
        self.parties()
        self.relations()
        self.concepts()
        if inv.tipo == "N":  # a payroll receipt reads employee, percepciones and deducciones, then the net pay
            for s in inv.sections:
                self.section(s)
        if inv.tipo != "P" or inv.total_words:
            self.totals()
        if inv.tipo != "N":
            for s in inv.sections:
                self.section(s)
        self.complements_note()
        self.stamp()
        self.footers()
        return bytes(pdf.output(output_producer_class=fonts.FontProducer))


def _tax_line_text(t: TaxLine) -> str:
    kind = "Retención" if t.kind == "retencion" else "Traslado"
    head = f"{kind} {t.impuesto} " + ("exento" if t.factor == "Exento" else t.tasa)
    parts = [f"base {t.base}"] if t.base else []
    if t.importe:
        parts.append(f"importe {t.importe}")
    return f"{head.strip()}: {', '.join(parts)}"
