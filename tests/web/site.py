"""A running timbra for the portal's tests: the real app served by uvicorn on a loopback port (browser tests)
or in process (TestClient), on SQLite or on a PostgreSQL schema of its own, with a clock the tests move, the
demo accounts, a receptor, a distributor and CFDI issued over several days through pac.issuing (the same
path as POST /v1/issue and the portal's form)."""
from __future__ import annotations

import re
import secrets
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa

from tests.conftest import POSTGRES_URL, _with_schema
from timbra.api.app import create_app
from timbra.clock import FixedClock
from timbra.pac.accounts import SYSTEM_PRINCIPAL, Principal
from timbra.pac.runtime import DemoAccount, Pac
from timbra.settings import Settings
from timbra.store.db import Database

PASSWORD = "una clave bastante larga"
URE = {"Rfc": "URE180429TM6", "Nombre": "UNIVERSIDAD ROBOTICA ESPAÑOLA", "DomicilioFiscalReceptor": "86991",
       "RegimenFiscalReceptor": "601", "UsoCFDI": "G03"}
XIA = {"Rfc": "XIA190128J61", "Nombre": "XENON INDUSTRIAL ARTICLES", "DomicilioFiscalReceptor": "76343",
       "RegimenFiscalReceptor": "601", "UsoCFDI": "G03"}
# A receptor the sandbox's padrón does not know (it is permissive there) with a name that is markup.
MARKUP = {"Rfc": "AAA010101AAA", "Nombre": "<img src=x onerror=alert(1)> & <b>COMERCIAL</b>",
          "DomicilioFiscalReceptor": "06000", "RegimenFiscalReceptor": "601", "UsoCFDI": "G03"}
DAYS = 5  # CFDI are issued over this many days before the tests start


@dataclass
class Site:
    pac: Pac
    app: object
    clock: FixedClock
    demo: DemoAccount
    emisor: Principal
    receptor: Principal
    distributor: Principal
    start: datetime           # when the first CFDI was issued (the clock's start)
    uuids: dict[str, list[str]] = field(default_factory=dict)  # receptor RFC -> UUIDs issued to it
    egresos: list[str] = field(default_factory=list)
    url: str = ""
    kind: str = ""

    def issue(self, receptor: dict, total: str, *, folio: str, tipo: str = "I") -> str:
        data = {"Serie": "F" if tipo == "I" else "NC", "Folio": folio, "TipoDeComprobante": tipo,
                "FormaPago": "03", "MetodoPago": "PUE", "LugarExpedicion": "06000",
                "Emisor": {"Rfc": "EKU9003173C9", "RegimenFiscal": "601"}, "Receptor": receptor,
                "Conceptos": [{"ClaveProdServ": "43232408", "Cantidad": "1", "ClaveUnidad": "E48",
                               "Descripcion": "Licencia de software", "ValorUnitario": total,
                               "Impuestos": {"Traslados": [{"Impuesto": "002", "TipoFactor": "Tasa",
                                                            "TasaOCuota": "0.160000"}]}}]}
        if tipo == "E":
            data["Conceptos"][0].update(ClaveProdServ="84111506", ClaveUnidad="ACT", Descripcion="Descuento")
        uuid = self.pac.issuing.issue(self.emisor, data).uuid
        self.uuids.setdefault(receptor["Rfc"], []).append(uuid)
        return uuid


def free_socket() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    return s


@contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    """A migrated, empty database: a SQLite file, or a PostgreSQL schema of its own, dropped at the end."""
    if kind == "sqlite":
        yield f"sqlite:///{(tmp / 'timbra.db').as_posix()}"
        return
    name = f"t_web_{secrets.token_hex(4)}"
    engine = sa.create_engine(POSTGRES_URL)
    try:
        with engine.begin() as c:
            c.exec_driver_sql(f"CREATE SCHEMA {name}")
    except sa.exc.OperationalError as exc:
        raise AssertionError(f"PostgreSQL is required and not reachable at {POSTGRES_URL}: {exc}") from exc
    try:
        yield _with_schema(POSTGRES_URL, name)
    finally:
        with engine.begin() as c:
            c.exec_driver_sql(f"DROP SCHEMA {name} CASCADE")
        engine.dispose()


@contextmanager
def site(kind: str, tmp: Path, keys_from: Path, *, serve: bool, per_day: int = 6) -> Iterator[Site]:
    """The PAC with its data: `per_day` CFDI on each of DAYS days (to URE, XIA and, once, a markup name),
    an Egreso, a receptor account for XIA and a distributor with 1,000 credits. The clock is then at the
    last day, past the business day after the first stamps (their cancellation needs acceptance)."""
    shutil.copytree(keys_from / "keys", tmp / "keys")
    with database(kind, tmp) as url:
        db = Database(url)
        db.upgrade()
        db.dispose()
        clock = FixedClock(datetime.now(timezone.utc).replace(microsecond=0))
        pac = Pac(Settings(data_dir=tmp, database_url_override=url), clock=clock, worker=serve)
        if kind == "postgresql":
            from tests.gateway.sandbox import empty_sandbox

            empty_sandbox(pac.gateway.engine)
        demo = pac.ensure_demo(csds=True)
        emisor = Principal(demo.account_id, "emisor", None, "demo")
        accounts = pac.accounts
        made = accounts.create_account(SYSTEM_PRINCIPAL, kind="emisor", name="Receptora XIA", username="receptor",
                                       password=PASSWORD)
        accounts.add_rfc(SYSTEM_PRINCIPAL, made.account.id, XIA["Rfc"], shared=True)
        receptor = Principal(made.account.id, "emisor", made.user.id, "receptor")
        _vault_csd(pac, receptor, XIA["Rfc"])
        dist = accounts.create_account(SYSTEM_PRINCIPAL, kind="distributor", name="Distribuidora del Bajío",
                                       username="distribuidor", password=PASSWORD)
        pac.credits.add_package(SYSTEM_PRINCIPAL, dist.account.id, 1000)
        accounts.add_user(SYSTEM_PRINCIPAL, demo.account_id, "contadora", PASSWORD)
        app = create_app(pac)
        s = Site(pac, app, clock, demo, emisor, receptor,
                 Principal(dist.account.id, "distributor", dist.user.id, "distribuidor"), clock.now(), kind=kind)
        n = 0
        for d in range(DAYS):
            for i in range(per_day - (d % 3)):
                n += 1
                receptor_data = XIA if i % 2 else URE
                s.issue(receptor_data, f"{1500 + 137 * n}.50", folio=str(n))
            if d == 1:
                s.issue(MARKUP, "2100.00", folio="X1")
            _deliver(pac)
            clock.advance(days=1)
        s.egresos.append(s.issue(URE, "320.00", folio="1", tipo="E"))
        _deliver(pac)
        if not serve:
            yield s
            pac.stop()
            return
        import uvicorn

        sock = free_socket()
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "the test server did not start"
        s.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        try:
            yield s
        finally:
            server.should_exit = True
            thread.join(timeout=15)
            sock.close()


def _deliver(pac: Pac) -> None:
    """What the worker does the same day: SAT receives the day's CFDI (acuses de envío)."""
    while pac.outbox.run_once() > 0:
        pass


def _vault_csd(pac: Pac, who: Principal, rfc: str) -> None:
    import json

    keys = pac.settings.keys_dir
    entry = next(c for c in json.loads((keys / "sandbox.json").read_text())["csd"] if c["rfc"] == rfc)
    pac.vault.upload(who, (keys / entry["cer"]).read_bytes(), (keys / entry["key"]).read_bytes(), entry["password"])


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)
