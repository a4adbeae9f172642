"""The QR code of the representación impresa: SAT's verification URL (timbra.cfdi.expression), drawn as
vector squares so it prints sharp at any size.

segno (pure Python, no system library) encodes it, error correction M (15% of the code can be stained or torn
and it still reads). The one step done here is choosing the data mask: ISO/IEC 18004 7.8.3 scores the eight
masks and keeps the one with the lowest penalty (fewest long runs, 2x2 blocks, finder-like patterns, the most
even dark/light balance), which is what makes a code easy to scan; segno's scoring loops over every module
in Python (about half the time of a whole 3-concepto invoice). `_best_mask` scores the same rules on whole
rows at once (bytes, big integers, regular expressions) and picks the mask segno would pick; the tests compare
the two codes module by module. The matrix is then segno's own.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from segno import consts
from segno import encoder as enc

ERROR = consts.ERROR_LEVEL_M
_RUN = re.compile(rb"\x00{5,}|\x01{5,}")
_FINDER_LIKE = bytes((1, 0, 1, 1, 1, 0, 1))


@dataclass(frozen=True)
class Runs:
    """The dark modules as horizontal runs: (row, first column, length); `size` modules a side."""

    size: int
    runs: tuple[tuple[int, int, int], ...]


@lru_cache(maxsize=8)
def _mask_rows(width: int) -> tuple[tuple[int, ...], ...]:
    """For each of the 8 masks, each row's modules the mask flips (encoding region only), as an integer with
    one byte per module (0x01 = flip), so a row is masked with one XOR."""
    function = enc.make_matrix(width, width)
    enc.add_finder_patterns(function, width, width)
    enc.add_alignment_patterns(function, width, width)
    function[-8][8] = 0x1  # the dark module is not data
    patterns = enc.get_data_mask_functions(False)
    out = []
    for pattern in patterns:
        rows = []
        for i in range(width):
            flips = bytes(1 if function[i][j] > 0x1 and pattern(i, j) else 0 for j in range(width))
            rows.append(int.from_bytes(flips, "big"))
        out.append(tuple(rows))
    return tuple(out)


def _finder_like(seq: bytes, size: int) -> int:
    """N3 of one row or column, counted exactly as segno counts it (40 points per occurrence)."""
    count = 0
    idx = seq.find(_FINDER_LIKE)
    while idx != -1:
        offset = idx + 7
        if idx in (0, size - 7) or not any(seq[max(idx - 4, 0):idx]) or not any(seq[offset:offset + 4]):
            count += 40
        else:
            offset = idx + 4
        idx = seq.find(_FINDER_LIKE, offset)
    return count


def _penalty(rows: list[bytes], ints: list[int], width: int) -> int:
    score = 0
    cols = [bytes(c) for c in zip(*rows, strict=True)]
    for line in (*rows, *cols):
        for m in _RUN.finditer(line):  # N1: 3 points for a run of 5, one more per module beyond
            score += len(m.group()) - 2
        score += _finder_like(line, width)  # N3
    for a, b in zip(ints, ints[1:], strict=False):  # N2: 2x2 blocks of one colour, 3 points each
        x = a ^ b
        z = (x | (x >> 8) | (a ^ (a >> 8))).to_bytes(width, "big")
        score += 3 * z[1:].count(0)
    dark = sum(r.count(1) for r in rows)  # N4: 10 points per 5% away from half dark
    score += 10 * int(abs(dark / (width * width) * 100 - 50) / 5)
    return score


def _best_mask(matrix, width: int) -> int:
    raw = [int.from_bytes(bytes(r), "big") for r in matrix]
    best, best_score = 0, None
    for number, flips in enumerate(_mask_rows(width)):
        ints = [r ^ f for r, f in zip(raw, flips, strict=True)]
        rows = [i.to_bytes(width, "big") for i in ints]
        score = _penalty(rows, ints, width)
        if best_score is None or score < best_score:
            best, best_score = number, score
    return best


def qr_matrix(data: str) -> tuple[bytearray, ...]:
    """The QR code of `data` (error correction M, the smallest version it fits), as segno lays it out."""
    segments = enc.prepare_data(data, None, None)
    version = enc.find_version(segments, ERROR, eci=False, micro=False)
    buff = enc.Buffer()
    ver_range = enc.version_range(version)
    for segment in segments:
        enc.write_segment(buff, segment, None, ver_range, False)
    capacity = consts.SYMBOL_CAPACITY[version][ERROR]
    enc.write_terminator(buff, capacity, None, len(buff))
    enc.write_padding_bits(buff, version, len(buff))
    enc.write_pad_codewords(buff, version, capacity, len(buff))
    buff = enc.make_final_message(version, ERROR, buff)
    width = enc.calc_matrix_size(version)
    matrix = enc.make_matrix(width, width)
    enc.add_finder_patterns(matrix, width, width)
    enc.add_alignment_patterns(matrix, width, width)
    enc.add_codewords(matrix, buff, version)
    mask = _best_mask(matrix, width)
    flips = _mask_rows(width)[mask]
    for i, row in enumerate(matrix):
        row[:] = (int.from_bytes(bytes(row), "big") ^ flips[i]).to_bytes(width, "big")
    enc.add_format_info(matrix, version, ERROR, mask)
    enc.add_version_info(matrix, version)
    return matrix


def qr_runs(data: str) -> Runs:
    matrix = qr_matrix(data)
    runs = []
    for row, line in enumerate(matrix):
        for m in re.finditer(rb"\x01+", bytes(line)):
            runs.append((row, m.start(), m.end() - m.start()))
    return Runs(len(matrix), tuple(runs))
