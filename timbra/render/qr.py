"""The QR code of the representación impresa: SAT's verification URL (timbra.cfdi.expression), drawn as
vector squares so it prints sharp at any size. segno makes the matrix (pure Python, no system library).
"""
from __future__ import annotations

from dataclasses import dataclass

import segno


@dataclass(frozen=True)
class Runs:
    """The dark modules as horizontal runs: (row, first column, length); `size` modules a side."""

    size: int
    runs: tuple[tuple[int, int, int], ...]


def qr_runs(data: str) -> Runs:
    """Error correction M (15% of the code can be damaged or stained and it still reads), segno's mask choice."""
    code = segno.make(data, error="m", micro=False, boost_error=False)
    matrix = code.matrix
    runs = []
    for row, line in enumerate(matrix):
        start = None
        for col, dark in enumerate(line):
            if dark and start is None:
                start = col
            elif not dark and start is not None:
                runs.append((row, start, col - start))
                start = None
        if start is not None:
            runs.append((row, start, len(line) - start))
    return Runs(len(matrix), tuple(runs))
