"""Retention: the worker purges the XML of CFDI older than TIMBRA_RETENTION_MONTHS (never sooner than SAT's
3 months), only once SAT has received them and no cancellation waits on them; the CFDI's row stays and its
XML answers 410 T230. On SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.api.test_cancel import XIA, cancel, drain, issue, sat  # noqa: F401 - fixtures
from tests.api.test_e2e import assert_error
from tests.api.test_rest import Api, data_dir, emisor_csd, ok  # noqa: F401 - fixtures
from timbra.errors import TimbraError
from timbra.pac.retention import months_before
from timbra.settings import Settings


def test_months_before_keeps_the_day_or_takes_the_months_last():
    at = datetime(2026, 3, 31, 18, 0, tzinfo=timezone.utc)
    assert months_before(at, 1) == datetime(2026, 2, 28, 18, 0, tzinfo=timezone.utc)
    assert months_before(at, 3) == datetime(2025, 12, 31, 18, 0, tzinfo=timezone.utc)
    assert months_before(datetime(2028, 5, 29, tzinfo=timezone.utc), 3) == datetime(2028, 2, 29, tzinfo=timezone.utc)


@pytest.mark.parametrize("months", ["1", "2", "-1", "tres"])
def test_never_sooner_than_sats_three_months(monkeypatch, months):
    monkeypatch.setenv("TIMBRA_RETENTION_MONTHS", months)
    with pytest.raises(TimbraError) as caught:
        Settings.from_env()
    assert caught.value.code == "T170" and "TIMBRA_RETENTION_MONTHS" in caught.value.message


def test_the_worker_purges_old_xml_only(sat: Api):  # noqa: F811
    erp = sat.erp()
    old = issue(sat, erp, "R1")
    waiting = issue(sat, erp, "R2", receptor=XIA)
    sat.pac.gateway.unavailable = True  # SAT down from here on
    assert cancel(erp, {"uuid": waiting, "motivo": "02"})[0]["code"] == "T183"  # its cancellation waits on SAT
    undelivered = issue(sat, erp, "R3")  # stored, but SAT has not received it
    sat.clock.advance(days=100)
    sat.pac.retention.months = 0
    drain(sat)
    assert erp.get(f"/v1/cfdi/{old}/xml").status_code == 200  # retention off: nothing purged
    sat.pac.retention.months = 3
    drain(sat)
    assert_error(erp.get(f"/v1/cfdi/{old}/xml"), 410, "T230")
    assert ok(erp.get(f"/v1/cfdi/{old}"))["uuid"] == old  # the row, its status and report data stay
    assert old in erp.get("/v1/cfdi", params={"format": "csv"}).text
    assert erp.get(f"/v1/cfdi/{waiting}/xml").status_code == 200  # its cancellation waits on SAT
    assert erp.get(f"/v1/cfdi/{undelivered}/xml").status_code == 200  # SAT has not received it
    sat.pac.gateway.unavailable = False
    assert_error(erp.get("/v1/cfdi/00000000-0000-4000-8000-000000000000/xml"), 404, "T103")
