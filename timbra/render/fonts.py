"""The shipped fonts (DejaVu Sans Condensed, regular and bold; fonts/SOURCES.md), loaded once per process.

fpdf2 spends most of a small document's time on fonts: `add_font` parses the TrueType file (~50 ms for a
full DejaVu face) and `output` subsets it with fontTools (~7 ms per face, per document). Here both happen
once: each face is parsed once into a prototype that documents copy (`attach`), and the embedded font program
is made once per *set of glyphs* and cached (`Face.program`). The set is the glyphs a document uses plus a
base set (ASCII, Latin-1 and common punctuation), so almost every invoice needs the same program and the
cache answers. `FontProducer` is fpdf2's OutputProducer with that embedding for these faces (fpdf2's own for
any other font); it writes the same PDF objects fpdf2 writes for a TrueType font (Type0 + CIDFontType2,
Identity-H, ToUnicode, CIDToGIDMap, FontFile2).

This leans on fpdf2's font internals (TTFFont, SubsetMap, OutputProducer._add_fonts): fpdf2 is pinned, and the
tests extract text from the PDFs and rasterize them, which fails if the embedding goes wrong.
"""
from __future__ import annotations

import copy
import threading
import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from fontTools import subset as ftsubset
from fontTools import ttLib
from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont
from fpdf.output import (
    CIDSystemInfo,
    OutputProducer,
    PDFContentStream,
    PDFFont,
    _build_cmap_blocks,
    _tt_font_widths,
)
from fpdf.syntax import Name, PDFArray

FONT_DIR = Path(__file__).parent / "fonts"
FAMILY = "dejavu"
FILES = {"": "DejaVuSansCondensed.ttf", "B": "DejaVuSansCondensed-Bold.ttf"}
# Always in the embedded program: what Spanish invoices print, so most documents share one cached program.
BASE_CHARS = ("".join(chr(c) for c in range(0x20, 0x7F)) + "".join(chr(c) for c in range(0xA0, 0x100))
              + "–—‘’“”•…€™№")


class _Precompressed(PDFContentStream):
    """A FontFile2 stream whose compressed bytes are cached with the program (zlib once, not per document)."""

    def __init__(self, compressed: bytes, length1: int) -> None:
        super().__init__(b"", compress=False)
        self._contents = compressed
        self.filter = Name("FlateDecode")
        self.length = len(compressed)
        self.length1 = length1


@dataclass(frozen=True)
class Program:
    """An embedded font program for one set of glyphs: its bytes (zlib'd) and each glyph name's id in it."""

    compressed: bytes
    length: int
    gids: dict[str, int]


class Face:
    """One TrueType face: the file's bytes and fpdf2's parsed prototype (metrics, cmap, widths)."""

    def __init__(self, style: str, path: Path) -> None:
        self.style = style
        self.data = path.read_bytes()
        scratch = FPDF()
        scratch.add_font(FAMILY, style, str(path))
        self.proto: TTFFont = scratch.fonts[f"{FAMILY}{style}"]
        self.proto.close()  # the prototype's fontTools object is not used again
        self.proto.ttfont = None
        cmap = self.proto.cmap
        self.base_names = frozenset(cmap[ord(c)] for c in BASE_CHARS if ord(c) in cmap)
        self._program = lru_cache(maxsize=64)(self._make_program)

    def program(self, names: Iterable[str]) -> Program:
        return self._program(frozenset(names) | self.base_names)

    def _make_program(self, names: frozenset[str]) -> Program:
        font = ttLib.TTFont(BytesIO(self.data), recalcTimestamp=False, lazy=True)
        options = ftsubset.Options(notdef_outline=True, recommended_glyphs=True)
        options.drop_tables += ["FFTM", "GDEF", "GPOS", "GSUB", "MATH", "hdmx", "meta"]
        subsetter = ftsubset.Subsetter(options)
        subsetter.populate(glyphs=sorted(names))
        subsetter.subset(font)
        gids = {name: font.getGlyphID(name) for name in font.getGlyphOrder()}
        out = BytesIO()
        font.save(out)
        raw = out.getvalue()
        return Program(zlib.compress(raw), len(raw), gids)

    def attach(self, pdf: FPDF) -> None:
        """Give `pdf` this face as fpdf2 would after add_font, without parsing the file again."""
        font = copy.copy(self.proto)
        font.i = len(pdf.fonts) + 1
        cw = self.proto.cw
        font.cw = defaultdict(cw.default_factory, cw)  # a document may add default widths for missing chars
        font.missing_glyphs = []
        font.biggest_size_pt = 0
        font.subset = SubsetMap(font)
        pdf.fonts[font.fontkey] = font


_faces: dict[str, Face] | None = None
_lock = threading.Lock()


def faces() -> dict[str, Face]:
    global _faces
    if _faces is None:
        with _lock:
            if _faces is None:
                _faces = {style: Face(style, FONT_DIR / name) for style, name in FILES.items()}
    return _faces


def attach(pdf: FPDF) -> None:
    """Add the shipped faces to a new document (family FAMILY, styles "" and "B")."""
    for face in faces().values():
        face.attach(pdf)


class FontProducer(OutputProducer):
    """fpdf2's output, embedding the shipped faces from the program cache."""

    def _add_fonts(self, image_objects_per_index, gfxstate_objs_per_name, pattern_objs_per_name):
        ours = {f"{FAMILY}{style}": face for style, face in faces().items()}
        registry = self.fpdf.fonts  # fpdf2's own dict: ours leave it while fpdf2 embeds the others
        taken = {key: registry.pop(key) for key in ours if key in registry}
        try:
            objects = super()._add_fonts(image_objects_per_index, gfxstate_objs_per_name, pattern_objs_per_name)
        finally:
            registry.update(taken)
        for key, font in taken.items():
            objects[font.i] = self._embed(font, ours[key])
        return objects

    def _embed(self, font: TTFFont, face: Face) -> PDFFont:
        program = face.program(font.subset.get_all_glyph_names())
        fontname = f"MPDFAA+{font.name}"
        composite = PDFFont(subtype="Type0", base_font=fontname, encoding="Identity-H")
        self._add_pdf_obj(composite, "fonts")
        cid_font = PDFFont(subtype="CIDFontType2", base_font=fontname, d_w=font.desc.missing_width,
                           w=_tt_font_widths(font))
        self._add_pdf_obj(cid_font, "fonts")
        composite.descendant_fonts = PDFArray([cid_font])

        # ToUnicode: what text extraction and search read.
        entries = []
        code_to_gid: dict[int, int] = {}
        for glyph, code in font.subset.items():
            if glyph is None:
                continue
            code_to_gid[code] = program.gids.get(glyph.glyph_name, 0)
            if isinstance(glyph.unicode, tuple) and glyph.unicode:
                text = "".join(_utf16(u) for u in glyph.unicode)
                entries.append(f"<{code:04X}> <{text}>\n")
        to_unicode = PDFContentStream((
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo\n<</Registry (Adobe)\n/Ordering (UCS)\n/Supplement 0\n>> def\n"
            "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
            "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
            f"{_build_cmap_blocks(entries, 'bfchar')}"
            "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend").encode("latin-1"))
        self._add_pdf_obj(to_unicode, "fonts")
        composite.to_unicode = to_unicode

        info = CIDSystemInfo()
        self._add_pdf_obj(info, "fonts")
        cid_font.c_i_d_system_info = info

        descriptor = copy.copy(font.desc)  # the prototype's is shared by every document: never number it
        descriptor.font_name = Name(fontname)
        self._add_pdf_obj(descriptor, "fonts")
        cid_font.font_descriptor = descriptor

        top = max(code_to_gid, default=0)
        cid_to_gid = bytearray(2 * (top + 1))
        for code, gid in code_to_gid.items():
            cid_to_gid[2 * code] = gid >> 8
            cid_to_gid[2 * code + 1] = gid & 0xFF
        cid_map = PDFContentStream(contents=bytes(cid_to_gid), compress=True)
        self._add_pdf_obj(cid_map, "fonts")
        cid_font.c_i_d_to_g_i_d_map = cid_map

        stream = _Precompressed(program.compressed, program.length)
        self._add_pdf_obj(stream, "fonts")
        descriptor.font_file2 = stream
        return composite


def _utf16(code: int) -> str:
    if code > 0xFFFF:
        high = 0xD800 | (code - 0x10000) >> 10
        low = 0xDC00 | (code & 0x3FF)
        return f"{high:04X}{low:04X}"
    return f"{code:04X}"
