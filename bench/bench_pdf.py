"""The printed CFDI: render_pdf (parse + read + lay out + the QR + write the PDF) of stamped invoices.

    .venv/bin/python bench/bench_pdf.py [--seconds 3] [--tiny] [--at ISO-8601]

Prints, for a 3-concepto and a 300-concepto invoice: PDFs/s and p50/p99 per PDF (issue #12 targets: under
30 ms and under 300 ms), the pages and the size; then the first PDF of a fresh process (fonts and SAT's
catalogs loaded) and an answer from the PAC's cache. Every document rendered is distinct (its own Folio, Sello
and UUID). Certificates are made relative to one moment: now, or --at; --tiny renders a few (CI runs it so).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_stamp import add_size_options, moment, percentile  # noqa: E402

from timbra.cfdi.sample import sealed_sample  # noqa: E402
from timbra.cfdi.trust import TrustStore  # noqa: E402
from timbra.clock import FixedClock  # noqa: E402
from timbra.gateway.sandbox_ca import SandboxCA  # noqa: E402
from timbra.pac.printing import PdfCache  # noqa: E402
from timbra.pac.stamping import Certifier  # noqa: E402
from timbra.render import render_pdf  # noqa: E402

COLD = """
import sys, time
xml = open(sys.argv[1], "rb").read()
t0 = time.perf_counter()
from timbra.render import render_pdf
render_pdf(xml)
print(time.perf_counter() - t0)
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0, help="target duration of each measurement")
    ap.add_argument("--at", help="run as of this moment (ISO 8601); default: now")
    add_size_options(ap)
    args = ap.parse_args()
    now = moment(args.at)
    ca = SandboxCA.create(now=now)
    since = now - timedelta(days=1)
    csd = ca.issue("EKU9003173C9", "ESCUELA KEMPER URGATE", not_before=since)
    certifier = Certifier(pac=ca.issue("SPR190613I52", "PAC", not_before=since),
                          trust=TrustStore.for_environment(True, [ca.certificate]), clock=FixedClock(now))

    def stamped(conceptos: int, folio: str) -> bytes:
        return certifier.stamp(sealed_sample(csd, now, conceptos=conceptos, folio=folio)).xml

    render_pdf(stamped(3, "warm"))  # fonts and catalogs, once per process
    last = b""
    for conceptos in (3, 300):
        estimate = 0.015 if conceptos == 3 else 0.1
        count = 3 if args.tiny else max(10, min(2000, int(args.seconds / estimate)))
        docs = [stamped(conceptos, f"P{conceptos}-{i}") for i in range(count)]
        times = []
        for xml in docs:
            t0 = time.perf_counter()
            pdf = render_pdf(xml)
            times.append(time.perf_counter() - t0)
        pages = pdf.count(b"/Type /Page\n")
        p50, p99 = percentile(times, 50) * 1000, percentile(times, 99) * 1000
        print(f"pdf {conceptos:3d} conceptos: {len(times) / sum(times):7.1f} PDFs/s  p50 {p50:6.2f} ms  "
              f"p99 {p99:6.2f} ms  ({pages} pages, {len(pdf) / 1024:.0f} KB, {len(times)} PDFs)")
        last = docs[-1] if conceptos == 3 else last

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cfdi.xml"
        path.write_bytes(last)
        cold = float(subprocess.run([sys.executable, "-c", COLD, str(path)], capture_output=True, text=True,
                                    check=True).stdout)
    print(f"first PDF of a fresh process (fonts, SAT's catalogs): {cold * 1000:.0f} ms")

    cache = PdfCache(32 << 20)
    cache.put(("acc", "uuid", False, 0), render_pdf(last))
    n, t0 = 0, time.perf_counter()
    while n < (100 if args.tiny else 100_000):
        cache.get(("acc", "uuid", False, 0))
        n += 1
    print(f"from the PAC's cache: {(time.perf_counter() - t0) / n * 1e6:.2f} us per PDF")


if __name__ == "__main__":
    main()
