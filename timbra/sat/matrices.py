"""SAT's error matrices: the official text of each code, for CFDI 4.0 and 3.3 and the complements.

The files are TSV copies of SAT's matrices (scripts/import_sat_data.py converts the complements' XLS), with
the columns num, elemento, atributo, validacion, codigo, descripcion (and aclaraciones where SAT has them).
"""
from __future__ import annotations

import csv
from functools import cache, lru_cache

from timbra.sat import DATA

# Matrix name -> TSV file (names used by the coverage table, docs/validations.md).
MATRICES = {
    "cfdi40": "MatrizDeErrores_CFDI_v40_20241213.tsv",
    "cfdi33": "MatrizDeErrores_CFDI_v33.tsv",
    "pagos20": "pagos20.tsv",
    "nomina12": "nomina12.tsv",
    "cartaporte31": "cartaporte31.tsv",
    "cce20": "cce20.tsv",
    "retenciones20": "retenciones20.tsv",
}


@cache
def matrix(name: str) -> tuple[dict[str, str], ...]:
    """The rows of one matrix, in SAT's order, each with a non-empty `codigo`."""
    with (DATA / "matrices" / MATRICES[name]).open(encoding="utf-8", newline="") as fh:
        rows = [{k: (v or "").strip() for k, v in r.items()} for r in csv.DictReader(fh, delimiter="\t")]
    return tuple(r for r in rows if r.get("codigo"))


def matrix_rows() -> list[dict[str, str]]:
    return [r for name in MATRICES for r in matrix(name)]


@lru_cache(maxsize=1)
def matrix_texts() -> dict[str, str]:
    out: dict[str, str] = {}
    for r in matrix_rows():
        text = (r.get("descripcion") or r.get("error") or "").strip()
        out.setdefault(r["codigo"], text)
    return out
