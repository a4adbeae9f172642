"""Cancellation in process with durable storage against the sandbox SAT: batches of UUIDs (500 by default,
SAT's maximum per request) signed with the vault's CSD, stored, sent, SAT's acuse and each UUID's state
recorded; then status queries.

    .venv/bin/python bench/bench_cancel.py [--batch 500] [--batches 3] [--database-url URL] [--tiny] [--at ISO]

Prints cancellations/s and p50/p99 per batch, and status queries/s with p50/p99. The CFDI are stamped and
delivered to the sandbox SAT first (not timed). --tiny runs one batch of 5 (CI).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_stamp import add_size_options, moment, percentile  # noqa: E402

from timbra.cfdi.cancellation import Folio  # noqa: E402
from timbra.cfdi.credentials import Credential  # noqa: E402
from timbra.cfdi.sample import sealed_sample  # noqa: E402
from timbra.clock import FixedClock  # noqa: E402
from timbra.gateway.sandbox_ca import create_sandbox_keys  # noqa: E402
from timbra.pac.accounts import SYSTEM_PRINCIPAL, Principal  # noqa: E402
from timbra.pac.runtime import Pac  # noqa: E402
from timbra.settings import Settings  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--batches", type=int, default=3)
    ap.add_argument("--database-url", help="default: SQLite in a temporary data directory")
    ap.add_argument("--at", help="run as of this moment (ISO 8601); default: now")
    add_size_options(ap)
    args = ap.parse_args()
    if args.tiny:
        args.batch, args.batches = min(args.batch, 5), 1
    clock = FixedClock(moment(args.at))
    data_dir = Path(tempfile.mkdtemp(prefix="timbra-bench-cancel-"))
    os.environ["TIMBRA_DATA_DIR"] = str(data_dir)
    if args.database_url:
        os.environ["TIMBRA_DATABASE_URL"] = args.database_url
    settings = Settings.from_env()
    create_sandbox_keys(settings.keys_dir, pac_rfc=settings.pac_rfc, password=settings.pac_password,
                        now=clock.now())
    pac = Pac(settings, clock=clock, worker=False)
    try:
        demo = pac.ensure_demo()
        if demo is None:
            raise SystemExit("the database already has accounts: give an empty one")
        count = args.batch * args.batches
        pac.credits.add_package(SYSTEM_PRINCIPAL, demo.account_id, count + 10)
        keys = data_dir / "keys"
        c = next(c for c in json.loads((keys / "sandbox.json").read_text())["csd"] if c["rfc"] == "EKU9003173C9")
        who = Principal(demo.account_id, "emisor")
        cer, key = (keys / c["cer"]).read_bytes(), (keys / c["key"]).read_bytes()
        pac.vault.upload(who, cer, key, c["password"])
        cred = Credential.load(cer, key, c["password"])
        uuids = [pac.stamps.stamp(who, sealed_sample(cred, clock.now(), folio=f"c{i}")).uuid for i in range(count)]
        while pac.delivery.run_once(200) > 0:
            pass
        times = []
        for b in range(args.batches):
            folios = [Folio(u, "02") for u in uuids[b * args.batch:(b + 1) * args.batch]]
            t0 = time.perf_counter()
            result = pac.cancels.cancel(who, folios)
            times.append(time.perf_counter() - t0)
            codes = {f.code for f in result.folios}
            if codes != {"201"}:
                raise SystemExit(f"unexpected answers: {sorted(codes)}")
        backend = "PostgreSQL" if args.database_url else "SQLite (WAL, synchronous=FULL)"
        print(f"cancel batches of {args.batch} UUIDs (vault CSD, sandbox SAT), {backend}: "
              f"{count / sum(times):,.0f} cancellations/s  per batch p50 {percentile(times, 50) * 1000:.0f} ms  "
              f"p99 {percentile(times, 99) * 1000:.0f} ms")
        sample = uuids[: min(len(uuids), 5 if args.tiny else 300)]
        st_times = []
        for u in sample:
            t0 = time.perf_counter()
            pac.cancels.status(who, u)
            st_times.append(time.perf_counter() - t0)
        print(f"status by UUID (ConsultaCFDI, sandbox): {len(st_times) / sum(st_times):,.0f} queries/s  "
              f"p50 {percentile(st_times, 50) * 1000:.2f} ms  p99 {percentile(st_times, 99) * 1000:.2f} ms")
    finally:
        pac.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
