"""Two `timbra serve` machines (processes on two ports, each with its own data folder) share one PostgreSQL
database and nothing else: the same configuration (PAC certificate, sandbox CA, vault master key) is
deployed to both, as an operator would. Stamps through either one spend the same credits, an
Idempotency-Key sent to one is honoured by the other, a CSD uploaded through one seals on the other, and a
CFDI stamped on one is cancelled through the other."""
from __future__ import annotations

import base64
import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import httpx

from tests.reliability.test_crash import Server, data_dir, fresh_schema, wait_delivered  # noqa: F401
from timbra.cfdi.sample import sealed_sample
from timbra.pac.vault import MasterKeys


def test_two_servers_one_database(data_dir: Path):  # noqa: F811 - PostgreSQL: SQLite serves one machine
    with fresh_schema() as url:
        _two_servers(data_dir, url)


def _two_servers(data_dir: Path, server_db: str) -> None:
    master = MasterKeys.generate().to_text()
    a = Server(data_dir / "a", server_db, env={"TIMBRA_MASTER_KEY": master})
    (data_dir / "a").mkdir()
    a.start()
    (data_dir / "b" / "keys").parent.mkdir()
    shutil.copytree(data_dir / "a" / "keys", data_dir / "b" / "keys")  # the same configuration, deployed
    b = Server(data_dir / "b", server_db, env={"TIMBRA_MASTER_KEY": master})
    b.api_key = a.api_key
    try:
        b.start()
        csd = a.csd()
        headers = {"X-API-Key": a.api_key}
        with httpx.Client(base_url=a.url, headers=headers, timeout=30) as ca, \
                httpx.Client(base_url=b.url, headers=headers, timeout=30) as cb:
            uuids = []
            for i, client in enumerate([ca, cb, ca, cb]):
                doc = sealed_sample(csd, datetime.now(timezone.utc), folio=f"two-{i}")
                r = client.post("/v1/stamp", content=doc, headers={"Content-Type": "application/xml",
                                                                 "Idempotency-Key": f"k{i}"})
                assert r.status_code == 201, r.text
                uuids.append(r.json()["uuid"])
                again = (cb if client is ca else ca).post("/v1/stamp", content=doc, headers={
                    "Content-Type": "application/xml", "Idempotency-Key": f"k{i}"})
                assert again.status_code == 200 and again.json()["uuid"] == uuids[-1]  # the other server knows
            assert ca.get("/v1/credits").json()["available"] == cb.get("/v1/credits").json()["available"] == 96
            # The CSD uploaded through A seals on B (same master key, rows in the shared database).
            keys = json.loads((data_dir / "a" / "keys" / "sandbox.json").read_text())["csd"]
            c = next(k for k in keys if k["rfc"] == "EKU9003173C9")
            folder = data_dir / "a" / "keys"
            listed = ca.get("/v1/csd").json()["items"]
            if not any(x["rfc"] == "EKU9003173C9" for x in listed):
                r = ca.post("/v1/csd", json={"cer": base64.b64encode((folder / c["cer"]).read_bytes()).decode(),
                                             "key": base64.b64encode((folder / c["key"]).read_bytes()).decode(),
                                             "password": c["password"]})
                assert r.status_code == 201, r.text
            issued = cb.post("/v1/issue", json=json.loads(
                (Path(__file__).parents[2] / "docs" / "examples" / "issue-factura.json").read_text()))
            assert issued.status_code == 201, issued.text
            # Stamped on A, cancelled through B (both reach the same sandbox SAT tables).
            wait_delivered(a)
            r = cb.post("/v1/cancel", json={"uuids": [uuids[0]], "motivo": "02"})
            assert r.status_code == 200 and r.json()["folios"][0]["code"] == "201", r.text
            assert ca.get(f"/v1/cfdi/{uuids[0]}").json()["status"] == "cancelado"
    finally:
        a.stop()
        b.stop()
