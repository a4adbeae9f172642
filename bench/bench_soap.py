"""SOAP and the portal next to REST: `timbra serve` stamped over loopback through REST (/v1/stamp, API key),
FEL's TimbrarCFDI, Finkok's stamp (user and password in the body, as their ERPs send them) and the portal's
issue form, in the same run.

    .venv/bin/python bench/bench_soap.py [--seconds 5] [--workers 2] [--clients 1,16]
        [--database-url URL [--schema S]] [--tiny]

Prints stamps/s and p50/p99 per protocol and concurrency level. Every request is a distinct sealed CFDI (its
own Folio and Sello), so every answer is a real stamp committed before it is sent. The SOAP bodies are built
as their clients send them (FEL: the XML as a string; Finkok: its base64); the answer is parsed for its UUID.
The portal's issue form is posted as a browser does, signed in (session cookie, the form's CSRF token), one
invoice as data per request with its own Folio: timbra builds it, seals it with the vault's CSD and stamps it
(two signatures, so its figures are issuing's, not a stamp's); a request succeeds on the redirect to the CFDI.
--tiny: 1 and 2 clients, a few stamps each (CI).
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import escape

import aiohttp

sys.path.insert(0, str(Path(__file__).parent))
from bench_http import _wait, add_database_options, free_port, sandbox_csd, schema_url  # noqa: E402
from bench_stamp import percentile  # noqa: E402

from timbra.cfdi.credentials import Credential  # noqa: E402
from timbra.cfdi.sample import sealed_sample  # noqa: E402
from timbra.clock import SYSTEM  # noqa: E402
from timbra.pac.accounts import SYSTEM_PRINCIPAL  # noqa: E402
from timbra.pac.runtime import Pac  # noqa: E402
from timbra.settings import Settings  # noqa: E402

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"


def fel_body(doc: bytes, user: str, password: str) -> bytes:
    return (f'<s:Envelope xmlns:s="{SOAP11}"><s:Body><TimbrarCFDI xmlns="http://tempuri.org/">'
            f"<usuario>{escape(user)}</usuario><password>{escape(password)}</password>"
            f"<cadenaXML>{escape(doc.decode('utf-8'))}</cadenaXML><referencia/></TimbrarCFDI></s:Body>"
            f"</s:Envelope>").encode()


def finkok_body(doc: bytes, user: str, password: str) -> bytes:
    return (f'<s:Envelope xmlns:s="{SOAP11}"><s:Body><stamp xmlns="http://facturacion.finkok.com/stamp">'
            f"<xml>{base64.b64encode(doc).decode('ascii')}</xml><username>{escape(user)}</username>"
            f"<password>{escape(password)}</password></stamp></s:Body></s:Envelope>").encode()


PROTOCOLS = {
    # name: (path, headers, body builder, what a stamped answer contains)
    "REST /v1/stamp": ("/v1/stamp", None, None, b'"uuid"'),
    "SOAP FEL TimbrarCFDI": ("/WSTimbrado33/WSCFDI33.svc",
                             {"Content-Type": "text/xml; charset=utf-8",
                              "SOAPAction": "http://tempuri.org/IWSCFDI33/TimbrarCFDI"}, fel_body,
                             b"<a:OperacionExitosa>true</a:OperacionExitosa>"),
    "SOAP Finkok stamp": ("/servicios/soap/stamp.wsdl", {"Content-Type": "text/xml; charset=utf-8",
                                                         "SOAPAction": "stamp"}, finkok_body,
                          b"Comprobante timbrado satisfactoriamente"),
    # the emisor's issue form in the portal: a session cookie and the form's CSRF token, the invoice as data
    # (timbra builds, seals with the vault's CSD and stamps it); success is the redirect to the new CFDI
    "portal /portal/emitir": ("/portal/emitir", None, None, b"/portal/cfdi/"),
}
PORTAL = "portal /portal/emitir"


def portal_form(folio: str, csrf: str) -> dict[str, str]:
    """The issue form as a person fills it in: one concepto, IVA 16 %, the sample's receptor."""
    return {"csrf": csrf, "emisor_rfc": "EKU9003173C9", "emisor_regimen": "601", "folio": folio,
            "lugar_expedicion": "06000",
            "forma_pago": "01", "metodo_pago": "PUE", "moneda": "MXN", "receptor_rfc": "URE180429TM6",
            "receptor_nombre": "UNIVERSIDAD ROBOTICA ESPAÑOLA", "receptor_cp": "86991", "receptor_regimen": "601",
            "uso_cfdi": "G03", "c0_descripcion": "Consultoría fiscal", "c0_clave": "80101500", "c0_unidad": "E48",
            "c0_valor": "2500", "c0_cantidad": "2", "c0_iva": "16"}


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    if found is None:
        raise SystemExit("the portal's page has no CSRF token")
    return found.group(1)


async def portal_login(session: aiohttp.ClientSession, auth: dict) -> str:
    """Signs the emisor in (the login form and its CSRF token); the issue form's CSRF token."""
    async with session.get("/login") as r:
        token = _csrf(await r.text())
    async with session.post("/login", data={"csrf": token, "username": auth["user"], "password": auth["password"]},
                            allow_redirects=False) as r:
        if r.status != 303:
            raise SystemExit(f"portal login: {r.status}")
    async with session.get("/portal/emitir") as r:
        return _csrf(await r.text())


async def load(base: str, protocol: str, docs: list[bytes], clients: int, seconds: float,
               auth: dict) -> tuple[list[float], int, float]:
    path, headers, build, success = PROTOCOLS[protocol]
    if build is None:
        headers = {"X-API-Key": auth["key"], "Content-Type": "application/xml"}
    queue = iter(docs)
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    portal = protocol == PORTAL
    if portal:
        headers = None
    async with aiohttp.ClientSession(base, connector=aiohttp.TCPConnector(limit=clients), headers=headers,
                                     cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:  # unsafe: an IP host
        csrf = await portal_login(session, auth) if portal else ""

        async def client() -> None:
            nonlocal errors
            for doc in queue:
                if time.perf_counter() > deadline:
                    return
                if portal:
                    t0 = time.perf_counter()
                    async with session.post(path, data=portal_form(doc.decode(), csrf), allow_redirects=False) as r:
                        content = (await r.read()) + r.headers.get("Location", "").encode()
                    latencies.append(time.perf_counter() - t0)
                    if r.status != 303 or success not in content:
                        errors += 1
                        if errors <= 3:
                            alert = re.search(rb'class="alert error"[^>]*>(.*?)</div>', content, re.S)
                            text = alert.group(1) if alert else content
                            text = re.sub(rb"\s+", b" ", re.sub(rb"<[^>]+>", b" ", text))
                            print(f"  {protocol}: unexpected {r.status}: {text[:500].decode(errors='replace')}")
                    continue
                body = doc if build is None else build(doc, auth["user"], auth["password"])
                t0 = time.perf_counter()
                async with session.post(path, data=body) as r:
                    content = await r.read()
                latencies.append(time.perf_counter() - t0)
                if r.status not in (200, 201) or success not in content:
                    errors += 1
                    if errors <= 3:
                        print(f"  {protocol}: unexpected {r.status}: {content[:300]!r}")

        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.perf_counter() - start
    return latencies, errors, elapsed


def prepare(data_dir: Path, database_url: str | None, credits: int) -> tuple[dict, Credential]:
    os.environ["TIMBRA_DATA_DIR"] = str(data_dir)
    if database_url:
        os.environ["TIMBRA_DATABASE_URL"] = database_url
    pac = Pac(Settings.from_env(), worker=False)
    try:
        demo = pac.ensure_demo(csds=True)  # the sandbox CSDs in the vault: the portal issues with them
        if demo is None:
            raise SystemExit("the database already has accounts: give an empty one")
        pac.credits.add_package(SYSTEM_PRINCIPAL, demo.account_id, credits)
    finally:
        pac.stop()
    return {"key": demo.api_key, "user": demo.username, "password": demo.password}, sandbox_csd(data_dir)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0, help="duration of each protocol at each level")
    ap.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    ap.add_argument("--clients", default="1,16", help="concurrency levels, comma-separated")
    ap.add_argument("--docs", type=int, default=3000, help="documents prepared per protocol and level (bound)")
    add_database_options(ap)
    ap.add_argument("--tiny", action="store_true", help="1 and 2 clients, a few stamps each (CI)")
    args = ap.parse_args()
    levels = [int(x) for x in args.clients.split(",")]
    if args.tiny:
        levels, args.docs, args.workers, args.seconds = [1, 2], 4, 1, min(args.seconds, 2.0)
    data_dir = Path(tempfile.mkdtemp(prefix="timbra-bench-soap-"))
    failed = 0
    try:
        auth, csd = prepare(data_dir, schema_url(args.database_url, args.schema), credits=1_000_000)
        now = SYSTEM.now()
        print(f"preparing {args.docs * len(levels) * len(PROTOCOLS):,} sealed documents ...", flush=True)
        sets = {(p, level): [f"P-{level}-{n}".encode() if p == PORTAL else
                             sealed_sample(csd, now, folio=f"{i}-{level}-{n}") for n in range(args.docs)]
                for i, p in enumerate(PROTOCOLS) for level in levels}
        port = free_port()
        env = {**os.environ, "TIMBRA_PORT": str(port), "TIMBRA_WORKER_IN_PROCESS": "0"}
        log = (data_dir / "server.log").open("wb")
        server = subprocess.Popen([sys.executable, "-m", "timbra.cli", "serve", "--workers", str(args.workers)],
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait(base, server)
            backend = "PostgreSQL" if args.database_url else "SQLite (WAL, synchronous=FULL)"
            print(f"timbra serve --workers {args.workers}, {backend}, stamps committed before each answer")
            for i, p in enumerate(PROTOCOLS):  # warm-up: connections, the verified-password cache, imports
                warm = [f"W-{n}".encode() if p == PORTAL else sealed_sample(csd, now, folio=f"w{i}-{n}")
                        for n in range(2 if args.tiny else 50)]
                asyncio.run(load(base, p, warm, 2, 2, auth))
            for level in levels:
                for p in PROTOCOLS:
                    lat, errors, elapsed = asyncio.run(load(base, p, sets[(p, level)], level, args.seconds, auth))
                    failed += errors
                    print(f"{level:>3} clients  {p:<23} {len(lat) / elapsed:7,.0f} stamps/s  "
                          f"p50 {percentile(lat, 50) * 1000:6.2f} ms  p99 {percentile(lat, 99) * 1000:6.2f} ms  "
                          f"({len(lat):,} stamps, {errors} errors)", flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    if failed:
        raise SystemExit(f"{failed} requests were not stamped")


if __name__ == "__main__":
    main()
