"""Shared fixtures: a sandbox CA, CSDs and a PAC certificate made once per session, a fixed clock,
and `make_xml` to build a correct, sealed CFDI 4.0 that a test then breaks in one place."""
from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from lxml import etree

from timbra.cfdi.credentials import Credential
from timbra.cfdi.sample import sample_invoice
from timbra.cfdi.seal import sign_root
from timbra.cfdi.trust import TrustStore
from timbra.clock import FixedClock
from timbra.gateway.sandbox_ca import SandboxCA
from timbra.pac.stamping import Certifier
from timbra.store.db import Database
from timbra.store.models import Base

DATA = Path(__file__).parent / "data"
NOW = datetime(2026, 11, 24, 18, 0, 0, tzinfo=timezone.utc)  # 12:00 in Mexico City


# TIMBRA_TEST_SHIFT_YEARS=10 (make test-future): the whole run happens that many years ahead of the real clock
# (time-machine moves time.time, datetime.now and date.today in this process and, through tests/shift's
# sitecustomize, in every Python process a test starts), so a test that depends on the real clock with a fixed
# date shows up now instead of the day it starts failing.
SHIFT_YEARS = int(os.environ.get("TIMBRA_TEST_SHIFT_YEARS") or 0)


def pytest_configure(config: pytest.Config) -> None:
    from tests.observe import install

    install(config)  # what the rules did: docs/validations.md's evidence, and a rule crash fails its test
    if SHIFT_YEARS:
        from tests.shift import sitecustomize

        sitecustomize.shift(SHIFT_YEARS)
        folder = str(Path(sitecustomize.__file__).parent)
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (folder, os.environ.get("PYTHONPATH")) if p)


def pytest_report_header(config: pytest.Config) -> str | None:
    if SHIFT_YEARS:
        return f"TIMBRA_TEST_SHIFT_YEARS={SHIFT_YEARS}: the clock reads {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
    return None


@pytest.fixture(scope="session")
def sandbox_ca() -> SandboxCA:
    return SandboxCA.create(now=datetime(2020, 1, 1, tzinfo=timezone.utc))


@pytest.fixture(scope="session")
def csd(sandbox_ca: SandboxCA) -> Credential:
    return sandbox_ca.issue("EKU9003173C9", "ESCUELA KEMPER URGATE", sucursal="Sucursal 1",
                            not_before=datetime(2025, 1, 1, tzinfo=timezone.utc))


@pytest.fixture(scope="session")
def pac(sandbox_ca: SandboxCA) -> Credential:
    return sandbox_ca.issue("SPR190613I52", "timbra sandbox PAC", not_before=datetime(2025, 1, 1, tzinfo=timezone.utc))


@pytest.fixture(scope="session")
def trust(sandbox_ca: SandboxCA) -> TrustStore:
    return TrustStore.for_environment(True, [sandbox_ca.certificate])


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def certifier(pac: Credential, trust: TrustStore, clock: FixedClock) -> Certifier:
    return Certifier(pac=pac, trust=trust, clock=clock)


def free_port() -> int:
    """A free TCP port on loopback, for the tests that start a real `timbra serve`."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


MakeXml = Callable[..., bytes]


@pytest.fixture
def make_xml(csd: Credential) -> MakeXml:
    """make_xml(mutate=None, *, conceptos=3, cred=None, fecha=NOW, seal=True, **sample_kw) -> bytes.

    `mutate(root)` changes the unsealed Comprobante; the result is then sealed, so only the rule under
    test can fail."""

    def build(mutate: Callable[[etree._Element], object] | None = None, *, conceptos: int = 3,
              cred: Credential | None = None, fecha: datetime = NOW, seal: bool = True, **kw) -> bytes:
        c = cred or csd
        root = sample_invoice(c, fecha, conceptos=conceptos, **kw)
        if mutate is not None:
            mutate(root)
        if seal:
            sign_root(root, c)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    return build


@pytest.fixture
def codes(certifier: Certifier) -> Callable[[bytes], list[str]]:
    """The codes of every finding for a document, in order."""

    def run(xml: bytes) -> list[str]:
        return [f.code for f in certifier.validate(xml).findings]

    return run


@pytest.fixture
def findings(certifier: Certifier):
    def run(xml: bytes):
        return certifier.validate(xml).findings

    return run


# --- databases: every storage test runs on SQLite and on PostgreSQL -------------------------------------

POSTGRES_URL = os.environ.get("TIMBRA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """A schema of its own for this test session in the `test` database, dropped at the end.

    PostgreSQL is required, never skipped: `make test` starts it when it is down (scripts/services.sh)."""
    import sqlalchemy as sa

    name = f"t_{os.getpid()}_{secrets.token_hex(3)}"
    engine = sa.create_engine(POSTGRES_URL)
    try:
        with engine.begin() as c:
            c.exec_driver_sql(f"CREATE SCHEMA {name}")
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL is required for the storage tests and is not reachable at {POSTGRES_URL}: {exc}")
    db = Database(_with_schema(POSTGRES_URL, name))
    db.upgrade()
    db.dispose()
    yield name
    with engine.begin() as c:
        c.exec_driver_sql(f"DROP SCHEMA {name} CASCADE")
    engine.dispose()


def _with_schema(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path: Path) -> str:
    """A migrated, empty database URL: a new SQLite file, or this session's PostgreSQL schema emptied."""
    if request.param == "sqlite":
        url = f"sqlite:///{(tmp_path / 'timbra.db').as_posix()}"
        db = Database(url)
        db.upgrade()
        db.dispose()
        return url
    schema = request.getfixturevalue("postgres_schema")
    url = _with_schema(POSTGRES_URL, schema)
    db = Database(url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with db.engine.begin() as c:
        c.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    db.dispose()
    return url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    d = Database(db_url)
    yield d
    d.dispose()


@pytest.fixture
def verifies(monkeypatch) -> list[int]:
    """Counts the RSA verifications of a Sello (Certificate.verify), still verifying."""
    from timbra.cfdi.credentials import Certificate

    calls: list[int] = []
    real = Certificate.verify

    def spy(self, signature, message):  # noqa: ANN001, ANN202
        calls.append(1)
        return real(self, signature, message)

    monkeypatch.setattr(Certificate, "verify", spy)
    return calls
