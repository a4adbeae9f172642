"""End to end: `timbra serve` runs as its own process on SQLite and on PostgreSQL, and an HTTP client drives
it the way an ERP does: stamp, duplicate, idempotent retry, list, download, acuse, credits, zero credits,
password change, cross-tenant denial, and the error shape of bad requests."""
from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from timbra.cfdi.credentials import Credential
from timbra.cfdi.sample import sealed_sample

MAX_BODY = 256 * 1024
MAX_DOCUMENT = 64 * 1024  # small enough that its base64 fits in MAX_BODY (else the body limit grows to fit)


class Server:
    def __init__(self, data_dir: Path, db_url: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "TIMBRA_DATA_DIR": str(data_dir), "TIMBRA_DATABASE_URL": db_url,
               "TIMBRA_PORT": str(self.port), "TIMBRA_MAX_REQUEST_BYTES": str(MAX_BODY),
               "TIMBRA_MAX_DOCUMENT_BYTES": str(MAX_DOCUMENT), "PYTHONUNBUFFERED": "1"}
        self.log = data_dir / "server.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([sys.executable, "-m", "timbra.cli", "serve"], env=env,
                                     stdout=self.log.open("wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"server did not start:\n{self.log.read_text()}")
            time.sleep(0.1)
        self.output = self.log.read_text()

    def printed(self, label: str) -> str:
        m = re.search(rf"^\s+{label}\s+(\S+)", self.output, re.M)
        assert m, f"{label!r} not printed:\n{self.output}"
        return m.group(1)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


@pytest.fixture
def server(tmp_path, db_url):
    srv = Server(tmp_path / "data", db_url)
    yield srv
    srv.stop()


def sandbox_csd(data_dir: Path) -> Credential:
    keys = data_dir / "keys"
    c = json.loads((keys / "sandbox.json").read_text())["csd"][0]
    return Credential.load((keys / c["cer"]).read_bytes(), (keys / c["key"]).read_bytes(), c["password"])


def assert_error(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code and body["source"] in ("client", "pac", "sat")
    assert isinstance(body["message"], str) and isinstance(body["findings"], list)
    return body


def test_an_erp_over_http(server, tmp_path):
    key = server.printed("API key")
    password = server.printed("contraseña")
    admin_password = re.search(r"administrador\s+admin / (\S+)", server.output).group(1)
    csd = sandbox_csd(tmp_path / "data")
    now = datetime.now(timezone.utc)
    doc = lambda folio: sealed_sample(csd, now, folio=folio)  # noqa: E731
    erp = httpx.Client(base_url=server.base, headers={"X-API-Key": key}, timeout=30)
    admin = httpx.Client(base_url=server.base, auth=("admin", admin_password), timeout=30)
    anon = httpx.Client(base_url=server.base, timeout=30)

    # credits of the demo account
    r = erp.get("/v1/credits")
    assert r.status_code == 200 and r.json()["available"] == 100

    # stamp (raw XML), then the same document again: the first answer, no credit spent
    xml1 = doc("1")
    r = erp.post("/v1/stamp", content=xml1, headers={"Content-Type": "application/xml"})
    assert r.status_code == 201, r.text
    first = r.json()
    uuid1 = first["uuid"]
    assert first["credits_left"] == 99 and not first["replayed"] and len(first["sello_sat"]) > 300
    stamped = base64.b64decode(first["xml"])
    assert stamped.startswith(xml1[:100]) and uuid1.encode() in stamped
    r = erp.post("/v1/stamp", content=xml1, headers={"Content-Type": "application/xml"})
    assert r.status_code == 200 and r.json()["replayed"] and r.json()["uuid"] == uuid1
    assert r.json()["credits_left"] == 99 and r.headers["Idempotent-Replayed"] == "true"

    # JSON body with an Idempotency-Key: a retry answers the same; the key with another document is refused
    body2 = {"xml": base64.b64encode(doc("2")).decode()}
    r = erp.post("/v1/stamp", json=body2, headers={"Idempotency-Key": "pedido-2"})
    assert r.status_code == 201
    uuid2 = r.json()["uuid"]
    r = erp.post("/v1/stamp", json=body2, headers={"Idempotency-Key": "pedido-2"})
    assert r.status_code == 200 and r.json()["uuid"] == uuid2
    assert_error(erp.post("/v1/stamp", json={"xml": base64.b64encode(doc("3")).decode()},
                          headers={"Idempotency-Key": "pedido-2"}), 409, "T106")
    # Accept: application/xml answers the stamped XML itself
    r = erp.post("/v1/stamp", content=doc("4"), headers={"Content-Type": "application/xml",
                                                          "Accept": "application/xml"})
    assert r.status_code == 201 and r.headers["X-Timbra-UUID"].encode() in r.content
    uuid4 = r.headers["X-Timbra-UUID"]
    assert erp.get("/v1/credits").json()["available"] == 97

    # an invalid document: SAT's code and every finding, no credit
    bad = doc("5").replace(b'Folio="5"', b'Folio="55"')  # changed after sealing
    body = assert_error(erp.post("/v1/stamp", content=bad, headers={"Content-Type": "application/xml"}),
                        422, "CFDI40102")
    assert body["findings"] and erp.get("/v1/credits").json()["available"] == 97
    r = erp.post("/v1/validate", content=bad, headers={"Content-Type": "application/xml"})
    assert r.status_code == 200 and not r.json()["valid"] and r.json()["findings"][0]["code"] == "CFDI40102"

    # list, paginate, CSV, download
    r = erp.get("/v1/cfdi")
    assert [i["uuid"] for i in r.json()["items"]] == [uuid4, uuid2, uuid1] or \
        sorted(i["uuid"] for i in r.json()["items"]) == sorted([uuid1, uuid2, uuid4])
    page1 = erp.get("/v1/cfdi", params={"limit": 2}).json()
    page2 = erp.get("/v1/cfdi", params={"limit": 2, "cursor": page1["next_cursor"]}).json()
    assert len(page1["items"]) == 2 and len(page2["items"]) == 1 and page2["next_cursor"] is None
    assert {i["uuid"] for i in page1["items"] + page2["items"]} == {uuid1, uuid2, uuid4}
    assert erp.get("/v1/cfdi", params={"rfc_receptor": "NOBODY010101AAA"}).json()["items"] == []
    csv_text = erp.get("/v1/cfdi", params={"format": "csv"}).text
    assert csv_text.splitlines()[0].startswith("uuid,") and len(csv_text.splitlines()) == 4
    assert erp.get(f"/v1/cfdi/{uuid1}/xml").content == stamped
    assert erp.get(f"/v1/cfdi/{uuid1}").json()["folio"] == "1"

    # the worker delivers to the sandbox SAT: the acuse de envío appears
    deadline = time.monotonic() + 20
    while (r := erp.get(f"/v1/cfdi/{uuid1}/acuse-envio")).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert r.status_code == 200 and uuid1.encode() in r.content, r.text
    assert erp.get(f"/v1/cfdi/{uuid1}").json()["sat_status"] == "recibido"

    # an admin creates a client with no credits: its stamp is refused with the balance
    r = admin.post("/v1/accounts", json={"kind": "emisor", "name": "Sin créditos", "rfcs": [csd.certificate.rfc],
                                         "shared": True,  # the demo's RFC: only the admin can share it
                                         "username": "pobre@example.mx", "password": "una clave larga"})
    assert r.status_code == 201, r.text
    poor = httpx.Client(base_url=server.base, auth=("pobre@example.mx", "una clave larga"), timeout=30)
    body = assert_error(poor.post("/v1/stamp", content=doc("6"), headers={"Content-Type": "application/xml"}),
                        402, "T104")
    assert body["detail"]["available"] == 0

    # cross-tenant: the other emisor cannot read, list or count the demo's CFDI
    for path in (f"/v1/cfdi/{uuid1}", f"/v1/cfdi/{uuid1}/xml", f"/v1/cfdi/{uuid1}/acuse-envio"):
        assert_error(poor.get(path), 404, "T103")
    assert poor.get("/v1/cfdi").json() == {"items": [], "next_cursor": None}
    assert len(poor.get("/v1/cfdi", params={"format": "csv"}).text.splitlines()) == 1
    demo_account = erp.get("/v1/me").json()["account_id"]
    assert_error(poor.get("/v1/cfdi", params={"account_id": demo_account}), 404, "T103")
    # the same sealed document from another account: 307, not the other's stamp
    body = assert_error(poor.post("/v1/stamp", content=xml1, headers={"Content-Type": "application/xml"}),
                        409, "307")
    assert "xml" not in body and uuid1 not in str(body) and uuid1.lower() not in str(body)  # not its UUID

    # password change
    demo = httpx.Client(base_url=server.base, auth=("demo", password), timeout=30)
    assert demo.get("/v1/me").status_code == 200
    r = demo.post("/v1/password", json={"current_password": password, "new_password": "otra clave segura"})
    assert r.status_code == 204
    assert_error(demo.get("/v1/me"), 401, "T101")
    assert httpx.get(server.base + "/v1/me", auth=("demo", "otra clave segura")).status_code == 200

    # the error shape everywhere
    assert_error(anon.get("/v1/credits"), 401, "T101")
    assert_error(anon.get("/v1/credits", headers={"X-API-Key": "tbk_nope"}), 401, "T101")
    assert_error(erp.get("/v1/nothing-here"), 404, "T103")
    assert_error(erp.get("/v1/stamp"), 405, "T108")
    assert_error(erp.post("/v1/stamp", content=b"{not json", headers={"Content-Type": "application/json"}),
                 400, "T100")
    assert_error(erp.post("/v1/stamp", content=b"x", headers={"Content-Type": "text/plain"}), 415, "T109")
    assert_error(erp.post("/v1/stamp", content=b"<" * (MAX_BODY + 1), headers={"Content-Type": "application/xml"}),
                 413, "T107")
    assert_error(erp.post("/v1/stamp", content=b"not xml at all", headers={"Content-Type": "application/xml"}),
                 400, "301")
    assert_error(erp.get("/v1/cfdi", params={"cursor": "garbage!"}), 400, "T100")
    assert_error(erp.get("/v1/cfdi", params={"limit": 0}), 400, "T100")
    assert_error(admin.post("/v1/accounts", json={"kind": "nope"}), 400, "T100")

    # OpenAPI
    spec = anon.get("/openapi.json").json()
    assert {"/v1/stamp", "/v1/validate", "/v1/cfdi", "/v1/cfdi/{uuid}/acuse-envio", "/v1/credits"} <= set(spec["paths"])
    assert anon.get("/docs").status_code == 200
    assert uuid4 != uuid1
