"""Fixtures of the sandbox SAT gateway tests: SAT's signing credential, a fresh gateway per test, the
receptor's and another taxpayer's CSD, and `sat_side` to talk to the gateway."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.gateway.sandbox import OTRO, RECEPTOR, Sat, empty_sandbox, sat_credential
from timbra.cfdi.credentials import Credential
from timbra.gateway.sandbox import SandboxGateway


@pytest.fixture(scope="module")
def sat(sandbox_ca):
    return sat_credential(sandbox_ca)


@pytest.fixture
def make_gateway(db, clock, pac, trust, sat):
    empty_sandbox(db.engine)

    def build(**kw) -> SandboxGateway:
        args = {"clock": clock, "pac_certificates": [pac.certificate], "signer": sat, "trust": trust} | kw
        return SandboxGateway(db.engine, **args)

    return build


@pytest.fixture
def gateway(make_gateway) -> SandboxGateway:
    return make_gateway()


@pytest.fixture(scope="module")
def receptor_csd(sandbox_ca) -> Credential:
    return sandbox_ca.issue(RECEPTOR, "UNIVERSIDAD ROBOTICA ESPAÑOLA", not_before=datetime(2025, 1, 1, tzinfo=timezone.utc))


@pytest.fixture(scope="module")
def otro_csd(sandbox_ca) -> Credential:
    return sandbox_ca.issue(OTRO, "XENON INDUSTRIAL ARTICLES", not_before=datetime(2025, 1, 1, tzinfo=timezone.utc))


@pytest.fixture
def sat_side(gateway, certifier, make_xml, clock, csd, receptor_csd) -> Sat:
    return Sat(gateway, certifier, make_xml, clock, csd, receptor_csd)
