"""Operations: readiness (database and outbox lag), Prometheus metrics for the admin, the request id on
answers and log lines, JSON logs. On SQLite and PostgreSQL."""
from __future__ import annotations

import json
import logging
import logging.config

from tests.api.test_cancel import sat  # noqa: F401 - fixture
from tests.api.test_e2e import assert_error
from tests.api.test_rest import Api, data_dir, emisor_csd, stamp  # noqa: F401 - fixtures
from timbra.api.ops import request_id
from timbra.api.server import log_config


def test_readiness_follows_the_database_and_the_outbox(sat: Api):  # noqa: F811
    anonymous = sat.client()
    r = anonymous.get("/readyz")
    assert r.status_code == 200 and r.json()["status"] == "ok" and r.json()["database"] == "ok"
    stamp(sat.erp(), sat.document("RZ1"))  # the test's worker does not run: the delivery waits in the outbox
    assert anonymous.get("/readyz").json()["outbox"] == [{"kind": "deliver", "pending": 1, "oldest_seconds": 0.0}]
    sat.clock.advance(minutes=6)  # the worker fell behind
    r = anonymous.get("/readyz")
    assert r.status_code == 503 and r.json()["status"] == "unavailable"
    sat.pac.outbox.run_once()
    assert anonymous.get("/readyz").status_code == 200


def test_metrics_are_the_admins(sat: Api):  # noqa: F811
    erp = sat.erp()
    stamps = 'timbra_requests_total{method="POST",route="/v1/stamp",status="201"} '
    before = _counter(sat.admin().get("/metrics").text, stamps)  # the counters are the process's
    uuid = stamp(erp, sat.document("M1"))["uuid"]
    stamp(erp, sat.document("M2"))  # the key is known now: the quick route (rest.QuickStamp), counted alike
    assert erp.get(f"/v1/cfdi/{uuid}").status_code == 200
    assert_error(sat.client().get("/v1/credits"), 401, "T101")
    assert_error(sat.client().get("/metrics"), 401, "T101")
    assert_error(erp.get("/metrics"), 403, "T102")
    r = sat.admin().get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert _counter(text, stamps) == before + 2
    assert 'route="/v1/cfdi/{uuid}",status="200"' in text and uuid not in text  # templates, not one series per UUID
    assert 'timbra_errors_total{code="T101"}' in text and 'timbra_errors_total{code="T102"}' in text
    assert "timbra_credits_sold 100.0" in text and "timbra_stamps_stored 2.0" in text
    assert 'timbra_outbox_pending{kind="deliver"} 2.0' in text
    assert "timbra_request_seconds_bucket" in text


def _counter(text: str, series: str) -> float:
    line = next((x for x in text.splitlines() if x.startswith(series)), None)
    return 0.0 if line is None else float(line[len(series):])


def test_request_id_on_answers_and_log_lines(sat: Api, capsys):  # noqa: F811
    erp = sat.erp()
    assert erp.get("/v1/credits", headers={"X-Request-ID": "erp-77.a"}).headers["x-request-id"] == "erp-77.a"
    made = erp.get("/v1/credits", headers={"X-Request-ID": "not valid; has spaces <and> more"}).headers["x-request-id"]
    assert len(made) == 16 and int(made, 16) >= 0  # an unsafe id is replaced, never echoed
    names = ("timbra", "uvicorn", "uvicorn.error", "uvicorn.access")
    saved = {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).level, logging.getLogger(n).propagate)
             for n in names}
    try:
        _request_id_lines(capsys)
    finally:  # the handlers write to this test's captured stderr: later tests must not log into it
        for n, (handlers, level, propagate) in saved.items():
            lg = logging.getLogger(n)
            lg.handlers[:] = handlers
            lg.setLevel(level)
            lg.propagate = propagate


def _request_id_lines(capsys) -> None:
    for fmt in ("text", "json"):
        logging.config.dictConfig(log_config("info", fmt))
        token = request_id.set("abc123")
        try:
            logging.getLogger("timbra.access").info("GET /v1/credits 200 1.0ms 127.0.0.1")
        finally:
            request_id.reset(token)
        line = capsys.readouterr().err.strip().splitlines()[-1]
        if fmt == "json":
            record = json.loads(line)
            assert (record["request_id"], record["logger"], record["level"]) == ("abc123", "timbra.access", "INFO")
            assert record["message"].startswith("GET /v1/credits 200")
        else:
            assert "[abc123]" in line and "timbra.access" in line
