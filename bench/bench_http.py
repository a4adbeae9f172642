"""HTTP load benchmark: `timbra serve` with durable storage, stamped over loopback by 1, 16 and 64 clients.

    .venv/bin/python bench/bench_http.py [--seconds 5] [--workers 2] [--database-url URL] [--tiny]

Prints stamps/s and p50/p99 latency per concurrency level, next to the in-process stamping rate of the same
machine measured first (issue #3 targets: p50 <= 5 ms at 1 client; over HTTP at least half of the
in-process throughput). Every request is a distinct sealed CFDI (its own Folio and Sello) sent with an API
key, so every answer is a real stamp committed to the database and spends a credit. Loopback only; each
level is bounded by time and by the number of documents prepared. The server runs on the real clock, so
the sandbox keys and documents are made from it too; --tiny is 1 and 2 clients, a few stamps each (CI).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).parent))
from bench_stamp import add_size_options, percentile  # noqa: E402

from timbra.cfdi.credentials import Credential  # noqa: E402
from timbra.cfdi.sample import sealed_sample  # noqa: E402
from timbra.clock import SYSTEM  # noqa: E402
from timbra.pac.accounts import SYSTEM_PRINCIPAL  # noqa: E402
from timbra.pac.runtime import Pac  # noqa: E402
from timbra.settings import Settings  # noqa: E402

LEVELS = (1, 16, 64)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(data_dir: Path, database_url: str | None, credits: int) -> tuple[str, Credential, Pac]:
    os.environ["TIMBRA_DATA_DIR"] = str(data_dir)
    if database_url:
        os.environ["TIMBRA_DATABASE_URL"] = database_url
    pac = Pac(Settings.from_env(), worker=False)
    demo = pac.ensure_demo()
    if demo is None:
        raise SystemExit("the database already has accounts: give an empty one")
    pac.credits.add_package(SYSTEM_PRINCIPAL, demo.account_id, credits)
    keys = data_dir / "keys"
    import json

    c = json.loads((keys / "sandbox.json").read_text())["csd"][0]
    csd = Credential.load((keys / c["cer"]).read_bytes(), (keys / c["key"]).read_bytes(), c["password"])
    return demo.api_key, csd, pac


def in_process_rate(pac: Pac, docs: list[bytes]) -> float:
    """The in-process stamp path alone (parse, validate, sign, insert the TFD), as bench_stamp measures it."""
    start = time.perf_counter()
    for d in docs:
        pac.certifier.stamp(d)
    return len(docs) / (time.perf_counter() - start)


async def load(base: str, key: str, docs: list[bytes], clients: int,
               seconds: float) -> tuple[list[float], int, float]:
    queue = iter(docs)
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    headers = {"X-API-Key": key, "Content-Type": "application/xml"}
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(base, connector=connector, headers=headers) as session:
        async def client() -> None:
            nonlocal errors
            for doc in queue:
                if time.perf_counter() > deadline:
                    return
                t0 = time.perf_counter()
                async with session.post("/v1/stamp", data=doc) as r:
                    await r.read()
                    if r.status != 201:
                        errors += 1
                        if errors <= 3:
                            print(f"  unexpected {r.status}: {(await r.text())[:300]}")
                latencies.append(time.perf_counter() - t0)

        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.perf_counter() - start
    return latencies, errors, elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0, help="duration of each concurrency level")
    ap.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    ap.add_argument("--database-url", help="default: SQLite in a temporary data directory")
    ap.add_argument("--docs", type=int, default=4000, help="documents prepared per level (upper bound)")
    add_size_options(ap)
    args = ap.parse_args()
    levels, warm_docs, warm_load = LEVELS, 600, 200
    if args.tiny:
        levels, warm_docs, warm_load = (1, 2), 12, 2
        args.docs, args.workers, args.seconds = min(args.docs, 4), 1, min(args.seconds, 2.0)
    data_dir = Path(tempfile.mkdtemp(prefix="timbra-bench-"))
    failed = 0
    try:
        key, csd, pac = prepare(data_dir, args.database_url, credits=1_000_000)
        now = SYSTEM.now()
        print(f"preparing {args.docs * len(levels):,} sealed documents ...", flush=True)
        sets = [[sealed_sample(csd, now, folio=f"{level}-{i}") for i in range(args.docs)] for level in levels]
        warm = [sealed_sample(csd, now, folio=f"w{i}") for i in range(warm_docs)]
        in_process_rate(pac, warm[:warm_docs // 6])  # warm-up
        rate = in_process_rate(pac, warm[warm_docs // 6:])
        pac.stop()
        print(f"in-process stamping (3 conceptos, no storage): {rate:,.0f} stamps/s")
        port = free_port()
        # Delivery to the sandbox SAT (which verifies and signs an acuse per CFDI: SAT's work, simulated here)
        # is left to the outbox and drained after the load, then timed on its own.
        env = {**os.environ, "TIMBRA_PORT": str(port), "TIMBRA_WORKER_IN_PROCESS": "0"}
        log = (data_dir / "server.log").open("wb")
        server = subprocess.Popen([sys.executable, "-m", "timbra.cli", "serve", "--workers", str(args.workers)],
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait(base, server)
            backend = "PostgreSQL" if args.database_url else "SQLite (WAL, synchronous=FULL)"
            print(f"timbra serve --workers {args.workers}, {backend}, stamps committed before each answer")
            asyncio.run(load(base, key, [sealed_sample(csd, now, folio=f"x{i}") for i in range(warm_load)],
                             min(4, warm_load), 2))
            for level, docs in zip(levels, sets, strict=True):
                lat, errors, elapsed = asyncio.run(load(base, key, docs, level, args.seconds))
                failed += errors
                per_s = len(lat) / elapsed
                print(f"{level:>3} clients: {per_s:7,.0f} stamps/s  p50 {percentile(lat, 50) * 1000:6.2f} ms  "
                      f"p99 {percentile(lat, 99) * 1000:6.2f} ms  ({len(lat):,} stamps, {errors} errors)  "
                      f"= {per_s / rate:.0%} of in-process", flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
        drain(data_dir)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    if failed:
        raise SystemExit(f"{failed} requests were not stamped")


def drain(data_dir: Path) -> None:
    """Deliver every stamped CFDI to the sandbox SAT, as `timbra worker` does, and time it."""
    pac = Pac(Settings.from_env(), worker=False)
    try:
        start, n = time.perf_counter(), 0
        while (done := pac.delivery.run_once(200)) > 0:
            n += done
        elapsed = time.perf_counter() - start
        print(f"delivery to the sandbox SAT afterwards (one worker): {n:,} CFDI in {elapsed:.1f} s "
              f"= {n / elapsed:,.0f}/s")
    finally:
        pac.stop()


def _wait(base: str, server: subprocess.Popen) -> None:
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("timbra serve exited")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("timbra serve did not start")


if __name__ == "__main__":
    main()
