"""HTTP load benchmark: `timbra serve` with durable storage, stamped over loopback by 1, 16 and 64 clients.

    .venv/bin/python bench/bench_http.py [--seconds 5] [--workers 2] [--database-url URL [--schema S]] [--tiny]

Prints stamps/s and p50/p99 latency per concurrency level, next to the in-process stamping rate and p50 of the
same machine measured first, the share of a core the load client itself used (it competes with the server for
the same cores) and the server's CPU time per stamp (its processes' CPU over the level, divided by the stamps
answered: what a stamp costs the server however loaded the machine is, next to the in-process stamp's CPU),
then the same for GET /healthz: the floor of any request. Issue #17's targets: at 1 client the HTTP p50 at
most 1.5 ms above the in-process p50; at 16 and 64 clients with --workers 2 at least 1.3x the in-process
single-core rate on SQLite (1.1x on PostgreSQL), p99 under 50 ms at 16 clients. Every request is a distinct
sealed CFDI (its own Folio and Sello) sent with an API key, so every answer is a real stamp committed to the
database and spends a credit; afterwards the bench checks the database: every answered UUID stored once,
nothing stored that was not answered, one credit per stamp. Loopback only; each level is bounded by time and
by the number of documents prepared. The server runs on the real clock, so the sandbox keys and documents are
made from it too; --tiny is 1 and 2 clients, a few stamps each (CI).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import resource
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


def schema_url(database_url: str | None, schema: str | None) -> str | None:
    """`--schema`: the bench's own PostgreSQL schema (emptied, created), so it never writes the public one
    that other users of the database share."""
    if not schema or not database_url:
        return database_url
    import re

    import sqlalchemy as sa

    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", schema):
        raise SystemExit("--schema: lower-case letters, digits and _")
    engine = sa.create_engine(database_url)
    with engine.begin() as c:
        c.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        c.execute(sa.text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    return f"{database_url}{'&' if '?' in database_url else '?'}options=-csearch_path%3D{schema}"


def add_database_options(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--database-url", help="default: SQLite in a temporary data directory")
    ap.add_argument("--schema", help="PostgreSQL: a schema of the bench's own, emptied first (default: the URL's)")


def prepare(data_dir: Path, database_url: str | None, credits: int) -> tuple[str, Credential, Pac]:
    os.environ["TIMBRA_DATA_DIR"] = str(data_dir)
    if database_url:
        os.environ["TIMBRA_DATABASE_URL"] = database_url
    pac = Pac(Settings.from_env(), worker=False)
    demo = pac.ensure_demo()
    if demo is None:
        raise SystemExit("the database already has accounts: give an empty one")
    pac.credits.add_package(SYSTEM_PRINCIPAL, demo.account_id, credits)
    return demo.api_key, sandbox_csd(data_dir), pac


def sandbox_csd(data_dir: Path) -> Credential:
    """The first sandbox CSD `timbra serve` wrote into the data directory (the demo account's Emisor)."""
    import json

    keys = data_dir / "keys"
    c = json.loads((keys / "sandbox.json").read_text())["csd"][0]
    return Credential.load((keys / c["cer"]).read_bytes(), (keys / c["key"]).read_bytes(), c["password"])


def in_process(pac: Pac, docs: list[bytes]) -> tuple[float, float]:
    """The in-process stamp path alone (parse, validate, sign, insert the TFD), as bench_stamp measures it:
    stamps/s on one core and the p50 of one stamp (seconds)."""
    times = []
    for d in docs:
        t0 = time.perf_counter()
        pac.certifier.stamp(d)
        times.append(time.perf_counter() - t0)
    return len(times) / sum(times), percentile(times, 50)


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def server_cpu_seconds(server: subprocess.Popen) -> float | None:
    """CPU seconds used so far by `timbra serve` and its worker processes (Linux /proc; None elsewhere): a
    request's cost to the server, unchanged when other processes share the cores."""
    total = 0.0
    try:
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        for pid in [server.pid, *map(int, children)]:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
    return total


async def load(base: str, key: str, docs: list[bytes], clients: int,
               seconds: float, uuids: list[str] | None = None) -> tuple[list[float], int, float]:
    queue = iter(docs)
    latencies: list[float] = []
    uuids = [] if uuids is None else uuids
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
                    if r.status == 201:
                        uuids.append(r.headers["X-Timbra-UUID"])
                    else:
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
    add_database_options(ap)
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
        key, csd, pac = prepare(data_dir, schema_url(args.database_url, args.schema), credits=1_000_000)
        now = SYSTEM.now()
        print(f"preparing {args.docs * len(levels):,} sealed documents ...", flush=True)
        sets = [[sealed_sample(csd, now, folio=f"{level}-{i}") for i in range(args.docs)] for level in levels]
        warm = [sealed_sample(csd, now, folio=f"w{i}") for i in range(warm_docs)]
        in_process(pac, warm[:warm_docs // 6])  # warm-up
        c0 = time.thread_time()
        rate, p50_in = in_process(pac, warm[warm_docs // 6:])
        cpu_in = (time.thread_time() - c0) / len(warm[warm_docs // 6:])
        pac.stop()
        print(f"in-process stamping (3 conceptos, no storage, one core): {rate:,.0f} stamps/s  "
              f"p50 {p50_in * 1000:.2f} ms; CPU {cpu_in * 1000:.2f} ms a stamp")
        uuids: list[str] = []
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
                             min(4, warm_load), 2, uuids))
            for level, docs in zip(levels, sets, strict=True):
                cpu0, server0 = cpu_seconds(), server_cpu_seconds(server)
                lat, errors, elapsed = asyncio.run(load(base, key, docs, level, args.seconds, uuids))
                client_cpu = (cpu_seconds() - cpu0) / elapsed
                server1 = server_cpu_seconds(server)
                per_request = (f"; server CPU {(server1 - server0) / len(lat) * 1000:.2f} ms a stamp"
                               if server0 is not None and server1 is not None and lat else "")
                failed += errors
                per_s = len(lat) / elapsed
                p50 = percentile(lat, 50)
                print(f"{level:>3} clients: {per_s:7,.0f} stamps/s  p50 {p50 * 1000:6.2f} ms  "
                      f"p99 {percentile(lat, 99) * 1000:6.2f} ms  ({len(lat):,} stamps, {errors} errors)  "
                      f"= {per_s / rate:.2f}x in-process, p50 {(p50 - p50_in) * 1000:+.2f} ms over it; "
                      f"client CPU {client_cpu:.0%} of a core{per_request}", flush=True)
            floor(base, server, 20 if args.tiny else 2000)
        finally:
            server.terminate()
            server.wait(timeout=30)
        failed += check_database(uuids)
        drain(data_dir)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    if failed:
        raise SystemExit(f"{failed} requests were not stamped, or the database disagrees with the answers")


def floor(base: str, server: subprocess.Popen, n: int) -> None:
    """What any request costs this server before timbra's work: GET /healthz (no database, no stamp) from one
    client, as requests/s, p50 and the server's CPU per request (the HTTP server, the framework and timbra's
    middleware; a stamp's server CPU above minus this is the stamp's own)."""
    async def run() -> list[float]:
        times = []
        async with aiohttp.ClientSession(base) as session:
            for _ in range(n):
                t0 = time.perf_counter()
                async with session.get("/healthz") as r:
                    await r.read()
                times.append(time.perf_counter() - t0)
        return times

    asyncio.run(run())  # warm-up
    cpu0, start = server_cpu_seconds(server), time.perf_counter()
    lat = asyncio.run(run())
    elapsed, cpu1 = time.perf_counter() - start, server_cpu_seconds(server)
    cpu = f"; server CPU {(cpu1 - cpu0) / n * 1000:.2f} ms a request" if cpu0 is not None and cpu1 is not None else ""
    print(f"the request floor, GET /healthz from 1 client: {n / elapsed:,.0f}/s  "
          f"p50 {percentile(lat, 50) * 1000:.2f} ms{cpu}")


def check_database(uuids: list[str]) -> int:
    """No lost and no double stamps: the answered UUIDs are distinct and are exactly the CFDI stored, and the
    credits spent are as many. The number of problems found (0: all well)."""
    import sqlalchemy as sa

    pac = Pac(Settings.from_env(), worker=False, migrate=False)
    try:
        with pac.db.engine.connect() as c:
            stored = [r[0] for r in c.execute(sa.text("SELECT uuid FROM cfdis"))]
            spent = c.execute(sa.text("SELECT COALESCE(SUM(used), 0) FROM packages")).scalar()
    finally:
        pac.stop()
    answered = set(uuids)
    problems = (len(uuids) - len(answered)) + len(answered ^ set(stored)) + (len(stored) - len(set(stored)))
    problems += abs(int(spent) - len(stored))
    print(f"database check: {len(uuids):,} stamps answered, {len(stored):,} CFDI stored, {int(spent):,} credits "
          f"spent: {'all well' if not problems else f'{problems} problems'}")
    return problems


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
