"""In-process stamp path benchmark: parse + validate + stamp, next to the machine's raw RSA-2048 signing rate.

    .venv/bin/python bench/bench_stamp.py [--seconds 3] [--tiny] [--at ISO-8601]

Prints, for a 3-concepto and a 300-concepto invoice: stamps/s and p50/p99 latency per stamp, and the
ratio to the raw RSA-2048 signing rate measured in the same run, on the same core (issue #17's targets: >= 50%
of the raw rate on the 3-concepto invoice, i.e. everything besides the PAC's one signature costs no more
than that signature; a 300-concepto invoice under 12 ms). Every stamped document is distinct (its own
Folio and Sello), so nothing is served from a cache. Each figure is given twice: by the wall clock and by
the CPU time of the bench's own thread (what the work costs a core, unchanged when other processes share
the machine: on a loaded machine compare the CPU figures). Everything (CA, CSD, PAC certificate, Fecha, the
certifier's clock) is made relative to one moment: now, or --at; --tiny runs a few stamps (CI runs it so).
"""
from __future__ import annotations

import argparse
import gc
import statistics
import time
from datetime import datetime, timedelta, timezone

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from timbra.cfdi.sample import sealed_sample
from timbra.cfdi.trust import TrustStore
from timbra.clock import SYSTEM, FixedClock
from timbra.gateway.sandbox_ca import SandboxCA
from timbra.pac.stamping import Certifier


def moment(at: str | None) -> datetime:
    """The bench's "now": --at (ISO 8601, UTC without an offset) or the real clock, to the second."""
    if not at:
        return SYSTEM.now().replace(microsecond=0)
    value = datetime.fromisoformat(at)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def add_size_options(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--tiny", action="store_true", help="a few operations only (CI checks the bench still runs)")


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def raw_sign_rate(seconds: float) -> tuple[float, float]:
    """Signatures per second by the wall clock and per second of this thread's CPU time."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    msg = b"||1.1|" + b"x" * 400 + b"||"
    n, start, cpu = 0, time.perf_counter(), time.thread_time()
    while time.perf_counter() - start < seconds:
        key.sign(msg, padding.PKCS1v15(), hashes.SHA256())
        n += 1
    return n / (time.perf_counter() - start), n / (time.thread_time() - cpu)


def run(certifier: Certifier, docs: list[bytes], cpu: list[float] | None = None) -> list[float]:
    """Wall-clock seconds per stamp; `cpu` gets the thread's CPU seconds per stamp."""
    times = []
    for d in docs:
        t0, c0 = time.perf_counter(), time.thread_time()
        certifier.stamp(d)
        times.append(time.perf_counter() - t0)
        if cpu is not None:
            cpu.append(time.thread_time() - c0)
    return times


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
    rate, cpu_rate = raw_sign_rate(0.2 if args.tiny else args.seconds)
    print(f"raw RSA-2048 PKCS#1 v1.5 SHA-256 signing: {rate:,.0f} signatures/s ({1000 / rate:.3f} ms each); "
          f"by CPU time {cpu_rate:,.0f}/s ({1000 / cpu_rate:.3f} ms each)")
    for conceptos, count in ((3, 10), (300, 2)) if args.tiny else ((3, 1500), (300, 60)):
        warm = [sealed_sample(csd, now, conceptos=conceptos, folio=f"w{i}") for i in range(5)]
        run(certifier, warm)
        docs = [sealed_sample(csd, now, conceptos=conceptos, folio=str(i)) for i in range(count)]
        gc.collect()
        gc.freeze()  # as `timbra serve`'s workers do once warm: what lives as long as the process leaves the GC
        cpu: list[float] = []
        times = run(certifier, docs, cpu)
        total = sum(times)
        per_s = len(times) / total
        cpu_per_s = len(cpu) / sum(cpu)
        print(f"stamp {conceptos:>3} conceptos ({len(docs[0]) // 1024} KiB): {per_s:,.0f} stamps/s  "
              f"p50 {percentile(times, 50) * 1000:.2f} ms  p99 {percentile(times, 99) * 1000:.2f} ms  "
              f"mean {statistics.fmean(times) * 1000:.2f} ms  = {per_s / rate:.0%} of the raw signing rate; "
              f"by CPU time {cpu_per_s:,.0f} stamps/s, p50 {percentile(cpu, 50) * 1000:.2f} ms "
              f"= {cpu_per_s / cpu_rate:.0%} (target: {'>= 50%' if conceptos == 3 else 'p50 < 12 ms'})")


if __name__ == "__main__":
    main()
