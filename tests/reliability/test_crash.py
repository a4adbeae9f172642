"""Crash safety of a real `timbra serve` (a subprocess): stamps fired from several clients, the server killed
with SIGKILL mid-load and restarted, on SQLite and on PostgreSQL; and a PostgreSQL server restarted under
load. Afterwards every stamp a client got an answer for is stored with the bytes it got, every stored stamp
has its credit and every credit its stamp, no document is stamped twice, a client's retry with the same
Idempotency-Key gets the first stamp, and every stored stamp still reaches the sandbox SAT (outbox)."""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import POSTGRES_URL, _with_schema, free_port
from timbra.cfdi.credentials import Credential
from timbra.cfdi.sample import sealed_sample

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Server:
    data_dir: Path
    db_url: str
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    api_key: str = ""
    env: dict[str, str] = field(default_factory=dict)  # more settings (TIMBRA_*) for this server

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "TIMBRA_DATA_DIR": str(self.data_dir), "TIMBRA_DATABASE_URL": self.db_url,
               "TIMBRA_PORT": str(self.port), "PYTHONUNBUFFERED": "1", **self.env}
        log = open(self.data_dir / f"serve-{time.monotonic_ns()}.log", "wb")  # noqa: SIM115 - the process keeps it
        self.proc = subprocess.Popen([sys.executable, "-m", "timbra.cli", "serve"], cwd=ROOT, env=env,
                                     stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, Path(log.name).read_text(errors="replace")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise AssertionError("timbra serve did not start: " + Path(log.name).read_text(errors="replace"))
        if not self.api_key and "api_key" not in self.env:
            for line in Path(log.name).read_text(errors="replace").splitlines():
                if line.strip().startswith("API key"):
                    self.api_key = line.split()[-1]
            assert self.api_key, "the first start prints the demo account's API key"

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def csd(self) -> Credential:
        keys = self.data_dir / "keys"
        c = next(c for c in json.loads((keys / "sandbox.json").read_text())["csd"] if c["rfc"] == "EKU9003173C9")
        return Credential.load((keys / c["cer"]).read_bytes(), (keys / c["key"]).read_bytes(), c["password"])


@dataclass
class Load:
    """Clients stamping in threads; each document has its own Idempotency-Key."""

    server: Server
    clients: int = 4
    answered: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # key -> (uuid, stamped xml)
    documents: dict[str, bytes] = field(default_factory=dict)
    unanswered: set[str] = field(default_factory=set)
    refused: dict[str, int] = field(default_factory=dict)  # HTTP status of clean refusals (503 while the DB is down)
    per_client: int = 20  # the demo account has 100 credits
    errors: list[str] = field(default_factory=list)  # what a client thread saw that it should not have
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, seconds: float) -> list[threading.Thread]:
        csd = self.server.csd()
        threads = [threading.Thread(target=self._client, args=(n, csd, seconds), daemon=True)
                   for n in range(self.clients)]
        for t in threads:
            t.start()
        return threads

    def _client(self, n: int, csd: Credential, seconds: float) -> None:
        end = time.monotonic() + seconds
        with httpx.Client(base_url=self.server.url, headers={"X-API-Key": self.server.api_key}, timeout=10) as c:
            i = 0
            while not self.stop.is_set() and time.monotonic() < end and i < self.per_client:
                key = f"c{n}-{i}"
                i += 1
                doc = sealed_sample(csd, datetime.now(timezone.utc), folio=key)
                with self.lock:
                    self.documents[key] = doc
                self.post(c, key, doc)

    def post(self, c: httpx.Client, key: str, doc: bytes) -> None:
        try:
            r = c.post("/v1/stamp", content=doc, headers={"Content-Type": "application/xml", "Idempotency-Key": key,
                                                          "Accept": "application/xml"})
        except httpx.HTTPError:
            with self.lock:
                self.unanswered.add(key)
            time.sleep(0.05)
            return
        with self.lock:
            if r.status_code in (200, 201):
                self.answered[key] = (r.headers["X-Timbra-UUID"], r.content)
                self.unanswered.discard(key)
            else:
                if not (r.status_code == 503 and r.json().get("code") == "T220"):
                    self.errors.append(f"{key}: {r.status_code} {r.text[:300]}")
                self.refused[key] = r.status_code
                self.unanswered.add(key)
                time.sleep(0.05)

    def retry_unanswered(self) -> None:
        with httpx.Client(base_url=self.server.url, headers={"X-API-Key": self.server.api_key}, timeout=30) as c:
            for key in sorted(self.unanswered):
                self.post(c, key, self.documents[key])
        assert not self.unanswered
        assert not self.errors, self.errors


def check_store(server: Server, load: Load) -> None:
    """What the database holds after the crash and the retries."""
    engine = create_engine(server.db_url)
    try:
        with engine.connect() as conn:
            stored = {u: bytes(x) for u, x in conn.execute(
                text("SELECT c.uuid, x.xml FROM cfdis c JOIN cfdi_xml x ON x.uuid = c.uuid")).all()}
            keys = {k: u for k, u in conn.execute(text("SELECT key, uuid FROM idempotency_keys")).all()}
            used = conn.execute(text("SELECT coalesce(sum(used), 0) FROM packages")).scalar()
            digests = conn.execute(text("SELECT count(DISTINCT document_digest) FROM cfdis")).scalar()
    finally:
        engine.dispose()
    for key, (uuid, xml) in load.answered.items():
        assert stored[uuid] == xml, f"{key}: the stored stamp differs from the answer"
        assert keys[key] == uuid, f"{key}: the idempotency key names another stamp"
    assert len(stored) == digests, "a document was stamped twice"
    assert used == len(stored), f"{used} credits spent for {len(stored)} stored stamps"
    by_uuid = {u: k for k, u in keys.items()}
    assert set(stored) == set(by_uuid), "a stamp stored without its Idempotency-Key, or a key without its stamp"
    # A stamp no client has heard of can only be one whose answer died with the server (in flight); after the
    # clients' retries, every stored stamp was answered to someone.
    assert all(k in load.answered or k in load.unanswered for k in by_uuid.values())
    if not load.unanswered:
        assert set(stored) == {u for u, _ in load.answered.values()}, "a stored stamp no client was ever told of"


def wait_delivered(server: Server, seconds: float = 90) -> None:
    engine = create_engine(server.db_url)
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                pending = conn.execute(text("SELECT count(*) FROM cfdis WHERE sat_status <> 'recibido'")).scalar()
            if pending == 0:
                return
            time.sleep(0.5)
        raise AssertionError(f"{pending} stored stamps never reached the sandbox SAT")
    finally:
        engine.dispose()


@pytest.fixture
def data_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="timbra-crash-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def server_db(request, data_dir: Path) -> Iterator[str]:
    """An empty database for the server: a SQLite file, or a PostgreSQL schema of its own (dropped after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{(data_dir / 'timbra.db').as_posix()}"
        return
    with fresh_schema() as url:
        yield url


@contextmanager
def fresh_schema() -> Iterator[str]:
    """A PostgreSQL schema of its own in the test database, dropped afterwards: its URL."""
    schema = f"crash_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as c:
        c.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield _with_schema(POSTGRES_URL, schema)
    finally:
        with admin.begin() as c:
            c.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def test_sigkill_mid_load_loses_nothing(data_dir: Path, server_db: str):
    server = Server(data_dir, server_db)
    server.start()
    load = Load(server)
    try:
        threads = load.run(seconds=30)
        deadline = time.monotonic() + 30
        while len(load.answered) < 25 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill()  # mid-load: requests in flight die with the process
        load.stop.set()
        for t in threads:
            t.join(15)
        assert len(load.answered) >= 25
        server.start()
        check_store(server, load)  # before the retries: what was answered is there, nothing half-written
        load.retry_unanswered()  # the in-flight ones: the first stamp if it committed, else a new one
        check_store(server, load)
        wait_delivered(server)
    finally:
        server.stop()


# --- a PostgreSQL server restarted under load ------------------------------------------------------------

def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / name).exists():
            return str(folder / name)
    raise AssertionError(f"{name} not found: PostgreSQL's server binaries are needed for this test")


@contextmanager
def private_postgres() -> Iterator[tuple[str, Callable[[], None], Callable[[], None]]]:
    """A PostgreSQL cluster of this test's own (initdb in a temporary folder, its own port), so it can be
    stopped and started without touching the machine's server; yields its URL, stop and start."""
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    folder = Path(tempfile.mkdtemp(prefix="timbra-pg-"))
    if as_user:
        shutil.chown(folder, "postgres", "postgres")
    port = free_port()
    pgdata, log = folder / "data", folder / "pg.log"

    def ctl(*args: str) -> None:
        subprocess.run([*as_user, _pg_bin("pg_ctl"), "-D", str(pgdata), "-l", str(log), "-w", "-t", "30", *args],
                       check=True, capture_output=True)

    subprocess.run([*as_user, _pg_bin("initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True)
    def start() -> None:
        ctl("-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=on", "start")

    def stop() -> None:
        ctl("-m", "fast", "stop")  # in-flight transactions abort

    start()
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", stop, start
    finally:
        subprocess.run([*as_user, _pg_bin("pg_ctl"), "-D", str(pgdata), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def test_postgres_restarted_under_load(data_dir: Path):
    with private_postgres() as (url, stop_db, start_db):
        server = Server(data_dir, url)
        server.start()
        load = Load(server)
        try:
            threads = load.run(seconds=40)
            while len(load.answered) < 15:
                time.sleep(0.05)
            stop_db()  # clients get 503 T220 meanwhile
            time.sleep(2)
            answered_while_down = len(load.answered)
            start_db()
            time.sleep(3)
            load.stop.set()
            for t in threads:
                t.join(20)
            assert load.refused, "no client saw a clean 503 while the database was down"
            assert len(load.answered) >= answered_while_down
            load.retry_unanswered()
            check_store(server, load)
            wait_delivered(server)
        finally:
            server.stop()

