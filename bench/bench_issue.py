"""Issuing from data (conexión remota), in process with durable storage: build + seal with the vault's CSD +
validate + stamp + store, per invoice.

    .venv/bin/python bench/bench_issue.py [--count 500] [--conceptos 3] [--database-url URL] [--tiny] [--at ISO]

Prints issues/s and p50/p99 per issue next to stamping the same invoices already sealed through the same
service and storage, the two interleaved (issue #17's target: issuing costs at most 1.3x that, its floor
being the second RSA signature), by the wall clock and in CPU time, the raw RSA-2048 signing rate, and the
in-process stamp rate without storage. The sandbox keys and the PAC's clock share one
moment (now, or --at); --tiny issues a few invoices (CI).
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
from bench_stamp import add_size_options, moment, percentile, raw_sign_rate  # noqa: E402
from lxml import etree  # noqa: E402

from timbra.build.common import Emisor  # noqa: E402
from timbra.cfdi.credentials import Credential  # noqa: E402
from timbra.cfdi.seal import sign_root  # noqa: E402
from timbra.clock import FixedClock  # noqa: E402
from timbra.gateway.sandbox_ca import create_sandbox_keys  # noqa: E402
from timbra.pac.accounts import SYSTEM_PRINCIPAL, Principal  # noqa: E402
from timbra.pac.issuing import KINDS  # noqa: E402
from timbra.pac.runtime import Pac  # noqa: E402
from timbra.settings import Settings  # noqa: E402

IVA16 = {"Traslados": [{"Impuesto": "002", "TipoFactor": "Tasa", "TasaOCuota": "0.16"}]}
RECEPTOR = {"Rfc": "URE180429TM6", "Nombre": "UNIVERSIDAD ROBOTICA ESPAÑOLA", "DomicilioFiscalReceptor": "86991",
            "RegimenFiscalReceptor": "601", "UsoCFDI": "G03"}


def invoice(i: int, conceptos: int) -> dict:
    return {"Serie": "B", "Folio": str(i), "FormaPago": "03", "MetodoPago": "PUE", "LugarExpedicion": "06000",
            "Emisor": {"Rfc": "EKU9003173C9", "RegimenFiscal": "601"}, "Receptor": RECEPTOR,
            "Conceptos": [{"ClaveProdServ": "43232408", "Cantidad": "2", "ClaveUnidad": "E48",
                           "Descripcion": f"Licencia {n}", "ValorUnitario": f"{100 + n}.35", "Impuestos": IVA16}
                          for n in range(conceptos)]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=500)
    ap.add_argument("--conceptos", type=int, default=3)
    ap.add_argument("--database-url", help="default: SQLite in a temporary data directory")
    ap.add_argument("--at", help="run as of this moment (ISO 8601); default: now")
    add_size_options(ap)
    args = ap.parse_args()
    if args.tiny:
        args.count = min(args.count, 5)
    warmup = 2 if args.tiny else 20
    clock = FixedClock(moment(args.at))
    data_dir = Path(tempfile.mkdtemp(prefix="timbra-bench-issue-"))
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
        pac.credits.add_package(SYSTEM_PRINCIPAL, demo.account_id, 2 * args.count + 100)
        keys = data_dir / "keys"
        c = next(c for c in json.loads((keys / "sandbox.json").read_text())["csd"] if c["rfc"] == "EKU9003173C9")
        who = Principal(demo.account_id, "emisor")
        password = c["password"]
        pac.vault.upload(who, (keys / c["cer"]).read_bytes(), (keys / c["key"]).read_bytes(), password)
        cred = Credential.load((keys / c["cer"]).read_bytes(), (keys / c["key"]).read_bytes(), password)
        def sealed(i: int) -> bytes:
            k = KINDS["factura"]
            root = k.build(k.model.model_validate(invoice(i, args.conceptos)),
                           emisor=Emisor("EKU9003173C9", cred.certificate.name, "601"), fecha=clock.now())
            sign_root(root, cred)
            return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

        for i in range(warmup):  # warm-up (catalogs, schemas, the vault's decrypted key)
            pac.issuing.issue(who, invoice(-i - 1, args.conceptos))
            pac.stamps.stamp(who, sealed(-1000 - i))
        sealed_docs = [sealed(100_000 + i) for i in range(args.count)]
        # Interleaved, one issue then one stamp, so that whatever else runs on the machine weighs on both alike.
        times, cpu, stamp_times, stamp_cpu = [], [], [], []
        for i in range(args.count):
            t0, c0 = time.perf_counter(), time.thread_time()
            pac.issuing.issue(who, invoice(i, args.conceptos))
            times.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
            t0, c0 = time.perf_counter(), time.thread_time()
            pac.stamps.stamp(who, sealed_docs[i])
            stamp_times.append(time.perf_counter() - t0)
            stamp_cpu.append(time.thread_time() - c0)
        backend = "PostgreSQL" if args.database_url else "SQLite (WAL, synchronous=FULL)"
        print(f"issue {args.conceptos} conceptos from data, {backend}: {len(times) / sum(times):,.0f} issues/s  "
              f"p50 {percentile(times, 50) * 1000:.2f} ms  p99 {percentile(times, 99) * 1000:.2f} ms  "
              f"CPU p50 {percentile(cpu, 50) * 1000:.2f} ms")
        ratio = percentile(times, 50) / percentile(stamp_times, 50)
        print(f"stamp the same invoices already sealed, same service and storage: "
              f"{len(stamp_times) / sum(stamp_times):,.0f} stamps/s  p50 {percentile(stamp_times, 50) * 1000:.2f} ms  "
              f"CPU p50 {percentile(stamp_cpu, 50) * 1000:.2f} ms")
        print(f"-> issuing costs {ratio:.2f}x (p50; target <= 1.3x), "
              f"{percentile(cpu, 50) / percentile(stamp_cpu, 50):.2f}x in CPU time (p50)")
        rate, rate_cpu = raw_sign_rate(0.2 if args.tiny else 2.0)
        print(f"raw RSA-2048 signing: {rate:,.0f}/s ({rate_cpu:,.0f}/s of CPU): one signature "
              f"{1000 / rate_cpu:.2f} ms of CPU")
        from timbra.cfdi.sample import sealed_sample

        docs = [sealed_sample(cred, clock.now(), folio=f"s{i}") for i in range(5 if args.tiny else 200)]
        t0 = time.perf_counter()
        for d in docs:
            pac.certifier.stamp(d)
        print(f"for reference, stamping an already sealed 3-concepto CFDI in process (no storage): "
              f"{len(docs) / (time.perf_counter() - t0):,.0f} stamps/s")
    finally:
        pac.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
