"""POST /v1/issue's referencia and POST /v1/stamp's Idempotency-Key are two namespaces (issue #9): a client's
Idempotency-Key "referencia:OC-9" on /v1/stamp has nothing to do with the referencia OC-9 of /v1/issue, in
either order. Rows written before the change (key "referencia:OC-9") are still found as referencias."""
from __future__ import annotations

import base64

from sqlalchemy import text

from tests.api.test_issue import body, upload_csd
from tests.api.test_rest import api, data_dir, emisor_csd  # noqa: F401 - fixtures
from timbra.store.db import Database


def test_stamp_key_then_issue_referencia(api):  # noqa: F811
    erp = api.erp()
    upload_csd(erp, api.csd)
    doc = api.document("S-1")
    stamped = erp.post("/v1/stamp", content=doc,
                       headers={"Content-Type": "application/xml", "Idempotency-Key": "referencia:OC-9"})
    assert stamped.status_code == 201, stamped.text
    issued = erp.post("/v1/issue", json={**body(), "referencia": "OC-9"})
    assert issued.status_code == 201, issued.text  # a new CFDI, not the stamped one replayed
    assert issued.json()["uuid"] != stamped.json()["uuid"] and not issued.json()["replayed"]
    assert erp.get("/v1/issue/OC-9").json()["uuid"] == issued.json()["uuid"]
    # the client's key still answers its own document
    again = erp.post("/v1/stamp", content=doc,
                     headers={"Content-Type": "application/xml", "Idempotency-Key": "referencia:OC-9"})
    assert again.status_code == 200 and again.json()["uuid"] == stamped.json()["uuid"]


def test_issue_referencia_then_stamp_key(api):  # noqa: F811
    erp = api.erp()
    upload_csd(erp, api.csd)
    issued = erp.post("/v1/issue", json={**body(), "referencia": "OC-9"})
    assert issued.status_code == 201, issued.text
    stamped = erp.post("/v1/stamp", content=api.document("S-2"),
                       headers={"Content-Type": "application/xml", "Idempotency-Key": "referencia:OC-9"})
    assert stamped.status_code == 201, stamped.text  # not T106 "key used with another document"
    assert stamped.json()["uuid"] != issued.json()["uuid"]
    assert base64.b64decode(stamped.json()["xml"]) != base64.b64decode(issued.json()["xml"])
    # a client cannot reach the referencia's namespace: its key has no spaces
    r = erp.post("/v1/stamp", content=api.document("S-3"),
                 headers={"Content-Type": "application/xml", "Idempotency-Key": "referencia OC-9"})
    assert r.status_code == 400 and r.json()["code"] == "T100"


def test_migration_keeps_earlier_referencias(api, db_url):  # noqa: F811
    erp = api.erp()
    upload_csd(erp, api.csd)
    issued = erp.post("/v1/issue", json={**body(), "referencia": "OC-7"}).json()
    db = Database(db_url)
    try:
        db.downgrade("0002")
        with db.engine.begin() as c:
            assert c.execute(text("SELECT key FROM idempotency_keys")).scalars().all() == ["referencia:OC-7"]
        db.upgrade()
        with db.engine.begin() as c:
            assert c.execute(text("SELECT key FROM idempotency_keys")).scalars().all() == ["referencia OC-7"]
    finally:
        db.dispose()
    again = erp.post("/v1/issue", json={**body(Folio="otro"), "referencia": "OC-7"})
    assert again.status_code == 200 and again.json()["uuid"] == issued["uuid"]
