"""Clients that time out and retry (issue #16): N clients send the same thing at the same instant, over a real
server on loopback (uvicorn, the app's threads and database pool as in production), on SQLite and on
PostgreSQL. Whatever the door (REST /v1/stamp with the same document, with the same Idempotency-Key, /v1/issue
with the same referencia, FEL's TimbrarCFDI with the same referencia, Finkok's stamp with the same document,
or REST and SOAP mixed), there is exactly one stamp, one credit spent, and every client gets the same UUID.
(tests/pac/test_service.py and test_issuing.py prove the same below HTTP; test_crash.py adds SIGKILL.)"""
from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
import zeep
from lxml import etree

from tests.api.test_issue import body, upload_csd
from tests.api.test_rest import Api, api, data_dir, emisor_csd  # noqa: F401 - fixtures
from tests.web.site import free_socket

N = 8  # clients retrying at once
FEL = "/WSTimbrado33/WSCFDI33.svc"
FINKOK = "/servicios/soap/stamp.wsdl"


@contextmanager
def serving(app, **options) -> Iterator[str]:
    """The app on a real uvicorn server on loopback (`options`: more of uvicorn's settings)."""
    sock = free_socket()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", **options))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@pytest.fixture
def served(api: Api) -> Iterator[tuple[Api, str]]:  # noqa: F811
    upload_csd(api.erp(), api.csd)  # /v1/issue seals with the vault's CSD
    with serving(api.app) as url:
        yield api, url


def at_once(calls: list[Callable[[], str]]) -> list[str]:
    """Run the calls in N threads released together; each returns the UUID it got."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _state(api: Api, url: str) -> tuple[int, int]:
    with httpx.Client(base_url=url, headers={"X-API-Key": api.demo.api_key}, timeout=30) as c:
        stamps = len(c.get("/v1/cfdi", params={"limit": 500}).json()["items"])
        return stamps, c.get("/v1/credits").json()["available"]


def _one_stamp(api: Api, url: str, calls: list[Callable[[], str]]) -> str:
    before = _state(api, url)
    uuids = at_once(calls)
    assert len(set(uuids)) == 1 and uuids[0], uuids
    stamps, available = _state(api, url)
    assert (stamps, available) == (before[0] + 1, before[1] - 1), (before, stamps, available)
    return uuids[0]


def _rest(url: str, key: str, path: str, **kw) -> Callable[[], str]:
    def call() -> str:
        with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=60) as c:
            r = c.post(path, **kw)
        assert r.status_code in (200, 201), r.text
        return r.json()["uuid"]
    return call


def _fel(url: str, user: str, password: str, xml: bytes, referencia: str) -> Callable[[], str]:
    client = zeep.Client(f"{url}{FEL}?wsdl")

    def call() -> str:
        r = client.service.TimbrarCFDI(usuario=user, password=password, cadenaXML=xml.decode(),
                                       referencia=referencia)
        assert r.OperacionExitosa, (r.CodigoRespuesta, r.MensajeError)
        return r.Timbre.UUID
    return call


def _finkok(url: str, user: str, password: str, xml: bytes) -> Callable[[], str]:
    client = zeep.Client(f"{url}{FINKOK}?wsdl")

    def call() -> str:
        r = client.service.stamp(xml=xml, username=user, password=password)
        assert r.UUID, r
        return r.UUID
    return call


def test_same_document_over_rest(served):
    api, url = served
    doc = api.document("RET-1")
    _one_stamp(api, url, [_rest(url, api.demo.api_key, "/v1/stamp", content=doc,
                                headers={"Content-Type": "application/xml"}) for _ in range(N)])


def test_same_idempotency_key_over_rest(served):
    api, url = served
    doc = api.document("RET-2")
    as_json = {"xml": base64.b64encode(doc).decode()}
    calls = [_rest(url, api.demo.api_key, "/v1/stamp", json=as_json, headers={"Idempotency-Key": "erp-42"})
             if i % 2 else
             _rest(url, api.demo.api_key, "/v1/stamp", content=doc,
                   headers={"Content-Type": "application/xml", "Idempotency-Key": "erp-42"})
             for i in range(N)]
    _one_stamp(api, url, calls)


def test_same_referencia_over_rest_issue(served):
    api, url = served
    payload = {**body(), "referencia": "PED-900"}
    uuid = _one_stamp(api, url, [_rest(url, api.demo.api_key, "/v1/issue", json=payload) for _ in range(N)])
    with httpx.Client(base_url=url, headers={"X-API-Key": api.demo.api_key}) as c:
        assert c.get("/v1/issue/PED-900").json()["uuid"] == uuid


def test_same_referencia_over_fel_soap(served):
    api, url = served
    doc = api.document("RET-3")
    calls = [_fel(url, api.demo.username, api.demo.api_key if i % 2 else api.demo.password, doc, "ERP-77")
             for i in range(N)]
    _one_stamp(api, url, calls)
    # a retry with the same referencia and other bytes (the ERP rebuilt the document) is the first stamp too
    again = _fel(url, api.demo.username, api.demo.api_key, api.document("RET-3b"), "ERP-77")()
    assert _state(api, url)[0] == 1 and again


def test_same_document_over_finkok_soap(served):
    api, url = served
    doc = api.document("RET-4")
    _one_stamp(api, url, [_finkok(url, api.demo.username, api.demo.api_key, doc) for _ in range(N)])


def test_same_document_over_rest_and_both_soap_services_at_once(served):
    api, url = served
    doc = api.document("RET-5")
    calls = []
    for i in range(N):
        if i % 3 == 0:
            calls.append(_rest(url, api.demo.api_key, "/v1/stamp", content=doc,
                               headers={"Content-Type": "application/xml"}))
        elif i % 3 == 1:
            calls.append(_finkok(url, api.demo.username, api.demo.api_key, doc))
        else:
            calls.append(_fel(url, api.demo.username, api.demo.api_key, doc, f"ERP-M{i}"))
    uuid = _one_stamp(api, url, calls)
    with httpx.Client(base_url=url, headers={"X-API-Key": api.demo.api_key}) as c:
        xml = c.get(f"/v1/cfdi/{uuid}/xml").content
    assert etree.fromstring(xml).find(".//{*}TimbreFiscalDigital").get("UUID") == uuid


def test_a_referencia_belongs_to_its_account(served):
    """Two accounts (sharing an RFC, as the admin allows) using the same referencia at once: one stamp each,
    each its own UUID; neither ever gets the other's CFDI."""
    from tests.api.test_rest import PASSWORD
    from timbra.pac.accounts import SYSTEM_PRINCIPAL

    api, url = served
    api.pac.accounts.create_account(SYSTEM_PRINCIPAL, kind="emisor", name="Otra", rfcs=["EKU9003173C9"],
                                    username="otra", password=PASSWORD, shared=True)
    other = api.pac.accounts.list(SYSTEM_PRINCIPAL)
    other_id = next(a.id for a in other if a.name == "Otra")
    api.pac.credits.add_package(SYSTEM_PRINCIPAL, other_id, 10)
    mine, theirs = api.document("REF-A"), api.document("REF-B")
    calls = [_fel(url, api.demo.username, api.demo.api_key, mine, "SAME-REF") if i % 2 else
             _fel(url, "otra", PASSWORD, theirs, "SAME-REF") for i in range(N)]
    uuids = at_once(calls)
    assert len(set(uuids[1::2])) == 1 and len(set(uuids[0::2])) == 1 and uuids[0] != uuids[1]
    assert _state(api, url)[0] == 1  # the demo account: one stamp
