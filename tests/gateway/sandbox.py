"""Test helpers for the sandbox SAT gateway: SAT's own signing credential and a fresh sandbox."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Engine

from timbra.cfdi.credentials import Credential
from timbra.gateway.sandbox import METADATA
from timbra.gateway.sandbox_ca import SandboxCA

SAT_RFC = "SAT970701NN3"


def sat_credential(ca: SandboxCA) -> Credential:
    """The certificate SAT signs its acuses with (issued by the sandbox CA for the tests)."""
    return ca.issue(SAT_RFC, "SERVICIO DE ADMINISTRACION TRIBUTARIA",
                    not_before=datetime(2025, 1, 1, tzinfo=timezone.utc))


def empty_sandbox(engine: Engine) -> None:
    """Create the sandbox's tables and empty them: on PostgreSQL the test schema outlives a test, and
    the `db` fixture only empties timbra's own tables."""
    METADATA.create_all(engine)
    with engine.begin() as conn:
        for table in reversed(METADATA.sorted_tables):
            conn.execute(table.delete())
