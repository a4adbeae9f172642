"""POST /v1/verify (issue #9 item 16): authenticated like /v1/validate, no credit, each check's result."""
from __future__ import annotations

import base64

from tests.api.test_e2e import assert_error
from tests.api.test_rest import Api, api, data_dir, emisor_csd, ok, stamp  # noqa: F401 (fixtures)
from tests.conftest import DATA
from timbra.pac.runtime import DEMO_CREDITS

XML = {"Content-Type": "application/xml"}


def test_verify_a_stamped_cfdi_without_spending(api: Api):
    erp = api.erp()
    stamped = base64.b64decode(stamp(erp, api.document("V1"))["xml"])
    left = ok(erp.get("/v1/credits"))["available"]
    assert left == DEMO_CREDITS - 1
    body = ok(erp.post("/v1/verify", content=stamped, headers=XML))
    assert body["verified"] is True and body["uuid"]
    assert {c["check"]: c["status"] for c in body["checks"]} == {
        "estructura": "ok", "timbre": "ok", "sello": "ok", "certificado": "ok", "sello_sat": "ok", "reglas": "ok"}
    assert ok(erp.get("/v1/credits"))["available"] == left
    r = ok(erp.post("/v1/validate", content=stamped, headers=XML))
    assert "307" in [f["code"] for f in r["findings"]]  # validate still refuses it; verify does not


def test_verify_reports_failures_and_unknown_pac(api: Api):
    erp = api.erp()
    stamped = base64.b64decode(stamp(erp, api.document("V2"))["xml"])
    body = ok(erp.post("/v1/verify", json={"xml": base64.b64encode(stamped.replace(b'Folio="', b'Folio="9', 1)).decode()}))
    assert body["verified"] is False
    assert {c["check"]: c["status"] for c in body["checks"]}["sello"] == "failed"
    sample = (DATA / "samples/comprobante40/cfdv40-ejemplo-signed-tfd.xml").read_bytes()
    body = ok(erp.post("/v1/verify", content=sample, headers=XML))
    checks = {c["check"]: c for c in body["checks"]}
    assert checks["sello_sat"]["status"] == "not_verifiable"
    assert checks["sello_sat"]["findings"][0]["code"] == "T165" and checks["sello"]["status"] == "ok"


def test_verify_needs_credentials(api: Api):
    assert_error(api.client().post("/v1/verify", content=b"<x/>", headers=XML), 401, "T101")
