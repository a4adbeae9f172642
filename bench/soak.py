"""Soak: `timbra serve` stamping at a steady rate for minutes, its memory sampled all along (issue #16).

    .venv/bin/python bench/soak.py [--rate 50] [--minutes 10] [--clients 8] [--sample 10]
                                   [--database-url URL] [--strict] [--tiny]

Starts `timbra serve` (a subprocess, one process, the outbox worker inside it delivering to the sandbox SAT as
in production; SQLite in a temporary data directory unless --database-url names an empty database), then a
few client threads send distinct sealed CFDI over loopback on a fixed schedule (`--rate` stamps/s in total,
each request at its slot, not as fast as possible). Every `--sample` seconds it reads the server process's
resident memory (RSS, from /proc, children included). It prints, per minute, the stamps, errors and latency
p50/p99, then RSS over time and a verdict: memory is flat when, after the warm-up (the first sixth of the run),
the median RSS of the last third is within 10% of the first third's. `--strict` exits 1 when it is not;
any request that is not a 201 exits 1. `--tiny` runs a few seconds (CI checks the soak still runs).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from bench_http import _wait, free_port, sandbox_csd  # noqa: E402
from bench_stamp import add_size_options, percentile  # noqa: E402

from timbra.cfdi.credentials import Credential  # noqa: E402
from timbra.cfdi.sample import sealed_sample  # noqa: E402
from timbra.clock import SYSTEM  # noqa: E402
from timbra.pac.accounts import SYSTEM_PRINCIPAL  # noqa: E402
from timbra.pac.runtime import Pac  # noqa: E402
from timbra.settings import Settings  # noqa: E402

FLAT_TOLERANCE = 0.10  # the last third's median RSS within 10% of the first third's


def rss_bytes(pid: int) -> int:
    """Resident memory of a process and its descendants (uvicorn's workers, if any), from /proc."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def prepare(data_dir: Path, database_url: str | None, credits: int) -> tuple[str, Credential]:
    os.environ["TIMBRA_DATA_DIR"] = str(data_dir)
    if database_url:
        os.environ["TIMBRA_DATABASE_URL"] = database_url
    else:
        os.environ.pop("TIMBRA_DATABASE_URL", None)
    pac = Pac(Settings.from_env(), worker=False)
    try:
        demo = pac.ensure_demo()
        if demo is None:
            raise SystemExit("the database already has accounts: give an empty one")
        pac.credits.add_package(SYSTEM_PRINCIPAL, demo.account_id, credits)
    finally:
        pac.stop()
    return demo.api_key, sandbox_csd(data_dir)


class Load:
    """`clients` threads sharing one schedule: request i is sent at start + i / rate."""

    def __init__(self, base: str, key: str, csd: Credential, rate: float, seconds: float, clients: int) -> None:
        self.base, self.key, self.csd = base, key, csd
        self.rate, self.seconds, self.clients = rate, seconds, clients
        self.results: list[tuple[float, float, int]] = []  # (sent at, latency, status)
        self._next = 0
        self._lock = threading.Lock()
        self.start = 0.0
        self.late = 0  # slots sent more than a second late (the clients could not keep the rate)

    def _take(self) -> int | None:
        with self._lock:
            i = self._next
            self._next += 1
        return i if i / self.rate < self.seconds else None

    def _client(self) -> None:
        now = SYSTEM.now()
        with httpx.Client(base_url=self.base, timeout=60,
                          headers={"X-API-Key": self.key, "Content-Type": "application/xml"}) as http:
            while (i := self._take()) is not None:
                doc = sealed_sample(self.csd, now, folio=f"soak-{i}")
                slot = self.start + i / self.rate
                wait = slot - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                elif wait < -1:
                    self.late += 1
                t0 = time.perf_counter()
                try:
                    status = http.post("/v1/stamp", content=doc).status_code
                except httpx.HTTPError:
                    status = 0
                t1 = time.perf_counter()
                with self._lock:
                    self.results.append((t0 - self.start, t1 - t0, status))

    def run(self) -> None:
        self.start = time.perf_counter() + 0.2
        threads = [threading.Thread(target=self._client, daemon=True) for _ in range(self.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


def verdict(samples: list[tuple[float, int]], seconds: float) -> tuple[bool | None, float]:
    """(flat?, growth): medians of the first and last thirds of the samples after the warm-up."""
    after = [rss for at, rss in samples if at >= seconds / 6]
    if len(after) < 3:
        return None, 0.0
    third = len(after) // 3
    first, last = statistics.median(after[:third]), statistics.median(after[-third:])
    growth = last / first - 1
    return growth <= FLAT_TOLERANCE, growth


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=50.0, help="stamps per second, in total")
    ap.add_argument("--minutes", type=float, default=10.0, help="how long")
    ap.add_argument("--clients", type=int, default=8, help="client threads sharing the schedule")
    ap.add_argument("--sample", type=float, default=10.0, help="seconds between RSS samples")
    ap.add_argument("--window", type=float, default=60.0, help="seconds per latency line")
    ap.add_argument("--database-url", help="default: SQLite in a temporary data directory")
    ap.add_argument("--strict", action="store_true", help="exit 1 when memory did not stay flat")
    add_size_options(ap)
    args = ap.parse_args()
    seconds = args.minutes * 60
    if args.tiny:
        seconds, args.rate, args.sample, args.window, args.clients = 3.0, 10.0, 0.25, 1.0, 2
    data_dir = Path(tempfile.mkdtemp(prefix="timbra-soak-"))
    try:
        key, csd = prepare(data_dir, args.database_url, credits=int(args.rate * seconds) + 1000)
        port = free_port()
        env = {**os.environ, "TIMBRA_PORT": str(port)}
        log = (data_dir / "server.log").open("wb")
        server = subprocess.Popen([sys.executable, "-m", "timbra.cli", "serve", "--log-level", "warning"], env=env,
                                  stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        samples: list[tuple[float, int]] = []
        try:
            _wait(base, server)
            backend = "PostgreSQL" if args.database_url else "SQLite"
            print(f"soak: timbra serve (1 process, worker inside, {backend}), {args.rate:g} stamps/s from "
                  f"{args.clients} clients for {seconds / 60:g} min, RSS every {args.sample:g} s", flush=True)
            warm = 5 if args.tiny else 100  # first stamps load catalogs and schemas: not part of the soak
            with httpx.Client(base_url=base, timeout=120, headers={"X-API-Key": key,
                                                                   "Content-Type": "application/xml"}) as http:
                for i in range(warm):
                    http.post("/v1/stamp", content=sealed_sample(csd, SYSTEM.now(), folio=f"warm-{i}"))
            load = Load(base, key, csd, args.rate, seconds, args.clients)
            stop = threading.Event()

            def sampler() -> None:
                t0 = time.perf_counter()
                while True:
                    samples.append((time.perf_counter() - t0, rss_bytes(server.pid)))
                    if stop.wait(args.sample):
                        return

            watcher = threading.Thread(target=sampler, daemon=True)
            watcher.start()
            runner = threading.Thread(target=load.run, daemon=True)
            runner.start()
            printed = 0
            while runner.is_alive():
                runner.join(timeout=args.window)
                printed = _print_windows(load.results, args.window, printed, final=not runner.is_alive())
            stop.set()
            watcher.join()
            samples.append((samples[-1][0] if samples else 0.0, rss_bytes(server.pid)))
        finally:
            server.terminate()
            server.wait(timeout=30)
        lat = [r[1] for r in load.results]
        errors = sum(1 for r in load.results if r[2] != 201)
        elapsed = max((r[0] + r[1] for r in load.results), default=0.0) or 1.0
        print(f"total: {len(lat):,} stamps in {elapsed:,.0f} s = {len(lat) / elapsed:,.1f}/s, {errors} errors, "
              f"{load.late} sent late; p50 {percentile(lat, 50) * 1000:.1f} ms  "
              f"p99 {percentile(lat, 99) * 1000:.1f} ms")
        print("server RSS over time:")
        step = max(1, len(samples) // 20)
        for at, rss in samples[::step]:
            print(f"  {at:7.1f} s  {rss / 2**20:7.1f} MiB")
        flat, growth = verdict(samples, seconds)
        if flat is None:
            print("memory: too few samples after the warm-up to judge")
        else:
            print(f"memory: {'flat' if flat else 'GROWING'} (median of the last third {growth:+.1%} against the "
                  f"first third after the warm-up; limit +{FLAT_TOLERANCE:.0%})")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    if errors:
        raise SystemExit(f"{errors} requests were not stamped")
    if args.strict and flat is False:
        raise SystemExit("memory did not stay flat")


def _print_windows(results: list[tuple[float, float, int]], window: float, printed: int, *, final: bool) -> int:
    """The latency lines of every window that is complete (all of them at the end)."""
    rows = sorted(results)
    last = rows[-1][0] if rows else 0.0
    n = int(last // window) + (1 if final else 0)
    for w in range(printed, n):
        got = [r for r in rows if w * window <= r[0] < (w + 1) * window]
        if not got:
            continue
        lat = [r[1] for r in got]
        errors = sum(1 for r in got if r[2] != 201)
        label = f"minute {w + 1:>2}" if window == 60 else f"{w * window:6.0f}-{(w + 1) * window:.0f} s"
        print(f"  {label}: {len(got):6,} stamps  p50 {percentile(lat, 50) * 1000:7.1f} ms  "
              f"p99 {percentile(lat, 99) * 1000:7.1f} ms  {errors} errors", flush=True)
    return max(n, printed)


if __name__ == "__main__":
    main()
