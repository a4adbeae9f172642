"""The stamped XML in an S3-compatible object store (TIMBRA_BLOB_URL), over HTTP against a local S3 server
(moto's server mode) through boto3, the client production uses; on SQLite and PostgreSQL. The row keeps the
key, the object holds the exact bytes, every reader (API, replay, delivery to SAT) gets them back, retention
deletes the object, and a store that does not answer is a clean 503 with nothing stored or charged."""
from __future__ import annotations

import json
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from fastapi.testclient import TestClient
from moto.server import ThreadedMotoServer
from sqlalchemy import text

from tests.api.test_e2e import assert_error
from tests.api.test_rest import data_dir as shared_data_dir  # noqa: F401 - fixture
from tests.api.test_rest import emisor_csd  # noqa: F401 - fixture
from timbra.api.app import create_app
from timbra.cfdi.credentials import Credential
from timbra.cfdi.sample import sealed_sample
from timbra.clock import SYSTEM, FixedClock
from timbra.pac.accounts import Principal
from timbra.pac.runtime import Pac
from timbra.settings import Settings
from timbra.store.blobs import cfdi_key


@pytest.fixture
def s3(monkeypatch) -> Iterator[str]:
    """A local S3 server on a free port with an empty bucket; the endpoint URL."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="timbra-xml")
    try:
        yield endpoint
    finally:
        server.stop()


def test_xml_in_the_object_store(tmp_path: Path, shared_data_dir: Path, db_url: str, s3: str):  # noqa: F811
    data = tmp_path / "data"
    shutil.copytree(shared_data_dir / "keys", data / "keys")
    settings = Settings(data_dir=data, database_url_override=db_url,
                        blob_url=f"s3://timbra-xml/prod?endpoint_url={s3}&region=us-east-1")
    clock = FixedClock(SYSTEM.now().replace(microsecond=0))
    pac = Pac(settings, clock=clock, worker=False)
    try:
        demo = pac.ensure_demo()
        who = Principal(demo.account_id, "emisor")
        keys = data / "keys"
        c = json.loads((keys / "sandbox.json").read_text())["csd"][0]
        csd = Credential.load((keys / c["cer"]).read_bytes(), (keys / c["key"]).read_bytes(), c["password"])
        doc = sealed_sample(csd, clock.now(), folio="S3-1")
        stamp = pac.stamps.stamp(who, doc)
        with pac.db.reader() as s:
            row = s.execute(text("SELECT xml, blob FROM cfdi_xml WHERE uuid = :u"), {"u": stamp.uuid}).one()
        assert row[0] is None and row[1] == cfdi_key(stamp.uuid)
        client = boto3.client("s3", endpoint_url=s3, region_name="us-east-1")
        stored = client.get_object(Bucket="timbra-xml", Key=f"prod/{cfdi_key(stamp.uuid)}")["Body"].read()
        assert stored == stamp.xml
        assert pac.cfdis.xml(who, stamp.uuid) == stamp.xml
        replay = pac.stamps.stamp(who, doc)  # a retry is answered from the object
        assert replay.replayed and replay.xml == stamp.xml
        assert pac.delivery.run_once() == 1  # the worker reads it from the store to deliver it
        assert pac.cfdis.get(who, stamp.uuid).sat_status == "recibido"
        with TestClient(create_app(pac, manage_lifecycle=False)) as api:
            r = api.get(f"/v1/cfdi/{stamp.uuid}/xml", headers={"X-API-Key": demo.api_key})
            assert r.status_code == 200 and r.content == stamp.xml
            # Retention deletes the object once the row is gone.
            clock.advance(days=200)
            pac.retention.months = 3
            assert pac.retention.run_once() == 1
            assert client.list_objects_v2(Bucket="timbra-xml").get("KeyCount") == 0
            assert_error(api.get(f"/v1/cfdi/{stamp.uuid}/xml", headers={"X-API-Key": demo.api_key}), 410, "T230")
            # The store does not answer: 503 T232, nothing stored and no credit spent.
            pac.db.blobs.bucket = "no-such-bucket"
            before = pac.credits.balance(who).available
            r = api.post("/v1/stamp", content=sealed_sample(csd, clock.now(), folio="S3-2"),
                         headers={"X-API-Key": demo.api_key, "Content-Type": "application/xml"})
            assert_error(r, 503, "T232")
            assert r.headers["retry-after"] == "1"
            assert pac.credits.balance(who).available == before
            with pac.db.reader() as s:
                assert s.execute(text("SELECT count(*) FROM cfdis")).scalar() == 1
    finally:
        pac.stop()


def test_a_bad_blob_url_is_a_configuration_error(tmp_path: Path):
    from timbra.errors import TimbraError

    with pytest.raises(TimbraError) as caught:
        Pac(Settings(data_dir=tmp_path, blob_url="ftp://x"), worker=False)
    assert caught.value.code == "T170"
