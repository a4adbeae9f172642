"""Make timbra/render/fonts/*.ttf: DejaVu Sans Condensed (regular and bold) cut down to the characters a
Mexican invoice uses (Latin with every accent, Greek, punctuation, currency and a few symbols), without
hinting or OpenType layout tables (fpdf2 uses neither). ~50 KB each instead of ~700 KB, and fast to load.

    .venv/bin/python scripts/subset_fonts.py DIR

DIR holds DejaVuSansCondensed.ttf and DejaVuSansCondensed-Bold.ttf (Debian's fonts-dejavu-extra puts them
in /usr/share/fonts/truetype/dejavu; upstream: https://dejavu-fonts.github.io/). Glyph names are kept
(post table format 2): timbra.render.fonts subsets again per glyph set and finds glyphs by name.
"""
from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "timbra" / "render" / "fonts"
FONTS = ("DejaVuSansCondensed.ttf", "DejaVuSansCondensed-Bold.ttf")
# Basic Latin, Latin-1, Latin Extended-A/B, spacing accents, combining diacritics (NFC leaves a few), Greek
# letters, general punctuation, currency, №/™/℮, fractions, four arrows, a few mathematical operators, squares
# and bullets, check marks, the replacement character.
UNICODES = ("U+0020-007E,U+00A0-024F,U+02C6-02DD,U+0300-036F,U+0391-03C9,U+2010-2044,U+20A0-20C0,U+2116,U+2122,"
            "U+212E,U+2150-215E,U+2190-2193,U+2212,U+2215,U+2219,U+221A,U+221E,U+2248,U+2260,U+2264,U+2265,"
            "U+25A0,U+25A1,U+25CB,U+25CF,U+2713-2717,U+FFFD")


def main(source: Path) -> None:
    TARGET.mkdir(parents=True, exist_ok=True)
    for name in FONTS:
        options = subset.Options()
        options.glyph_names = True
        options.hinting = False
        options.layout_features = []
        options.drop_tables += ["GSUB", "GPOS", "GDEF", "MATH", "FFTM", "kern"]
        options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]  # names, copyright, license and its URL
        options.notdef_outline = True
        font = subset.load_font(str(source / name), options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=subset.parse_unicodes(UNICODES))
        subsetter.subset(font)
        subset.save_font(font, str(TARGET / name), options)
        print(f"{name}: {(TARGET / name).stat().st_size} bytes")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
