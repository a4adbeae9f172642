"""SAT's error matrices (CFDI 4.0 and 3.3): the official text of each code."""
from __future__ import annotations

import csv
from functools import lru_cache

from timbra.sat import DATA


@lru_cache(maxsize=1)
def matrix_rows() -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for name in ("MatrizDeErrores_CFDI_v40_20241213.tsv", "MatrizDeErrores_CFDI_v33.tsv"):
        with (DATA / "matrices" / name).open(encoding="utf-8", newline="") as fh:
            rows.extend(csv.DictReader(fh, delimiter="\t"))
    return rows


@lru_cache(maxsize=1)
def matrix_texts() -> dict[str, str]:
    out = {}
    for r in matrix_rows():
        text = (r.get("descripcion") or r.get("error") or "").strip()
        out[(r.get("codigo") or "").strip()] = text.strip('"').replace('""', '"')
    return out
