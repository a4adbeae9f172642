"""The QR's mask choice (ISO/IEC 18004 7.8.3) done on whole rows is segno's own: the same code, module by
module, for SAT URLs and for data of every length up to version 14 (version information included)."""
from __future__ import annotations

import random
import string

import segno
import zxingcpp
from PIL import Image

from timbra.render.qr import qr_matrix, qr_runs


def sat_url(rng: random.Random) -> str:
    hexa = "0123456789ABCDEF"
    uuid = "-".join("".join(rng.choice(hexa) for _ in range(k)) for k in (8, 4, 4, 4, 12))
    fe = "".join(rng.choice(string.ascii_letters + string.digits + "+/=") for _ in range(8))
    return (f"https://verificacfdi.facturaelectronica.sat.gob.mx/default.aspx?id={uuid}&re=EKU9003173C9"
            f"&rr=URE180429TM6&tt={rng.randint(0, 10**9)}.{rng.randint(1, 99)}&fe={fe}")


def test_the_same_code_as_segno():
    rng = random.Random(12)
    inputs = [sat_url(rng) for _ in range(40)] + ["a" * n for n in (1, 17, 60, 150, 200, 330)]
    inputs += ["".join(rng.choice(string.printable) for _ in range(rng.randint(1, 300))) for _ in range(20)]
    for data in inputs:
        ours = [bytes(r) for r in qr_matrix(data)]
        theirs = [bytes(r) for r in segno.make(data, error="m", micro=False, boost_error=False).matrix]
        assert ours == theirs, data


def test_the_runs_draw_a_code_that_reads():
    url = sat_url(random.Random(3))
    code = qr_runs(url)
    scale, quiet = 4, 4
    side = (code.size + 2 * quiet) * scale
    img = Image.new("L", (side, side), 255)
    for row, col, n in code.runs:
        img.paste(0, ((col + quiet) * scale, (row + quiet) * scale, (col + quiet + n) * scale, (row + quiet + 1) * scale))
    assert [b.text for b in zxingcpp.read_barcodes(img)] == [url]
