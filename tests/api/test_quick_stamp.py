"""POST /v1/stamp's quick route (timbra.api.rest.QuickStamp): a caller whose API key is known answers without
FastAPI's dependencies, everyone else goes to the documented route, and both answer every request alike."""
from __future__ import annotations

import base64

import httpx
import pytest
from lxml import etree

from tests.api.test_rest import Api, api, data_dir, emisor_csd  # noqa: F401 - fixtures
from timbra.api import rest
from timbra.api.app import request_limit


@pytest.fixture
def quick_route(api: Api, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the requests the quick route answered (the others went to the documented route)."""
    route = api.app.router.routes[0]
    assert isinstance(route, rest.QuickStamp)
    seen: list[str] = []
    handle = route.handle

    async def counting(scope, receive, send):
        seen.append(scope["path"])
        await handle(scope, receive, send)

    monkeypatch.setattr(route, "handle", counting)
    return seen


XML = {"Content-Type": "application/xml"}


def test_a_known_key_takes_the_quick_route_and_every_other_caller_the_documented_one(api: Api, quick_route):
    key = api.demo.api_key
    erp = api.key(key)
    first = erp.post("/v1/stamp", content=api.document("Q1"), headers=XML)
    assert first.status_code == 201, first.text
    assert quick_route == []  # the key was not known yet: the documented route checks it in the database

    second = erp.post("/v1/stamp", content=api.document("Q2"), headers=XML)
    bearer = api.client(headers={"Authorization": f"Bearer {key}"}).post(
        "/v1/stamp", content=api.document("Q3"), headers=XML)
    for r in (second, bearer):
        assert r.status_code == 201, r.text
        assert r.json().keys() == first.json().keys()
        assert r.headers["X-Timbra-UUID"] == r.json()["uuid"]
        assert int(r.headers["X-Timbra-Credits-Left"]) == r.json()["credits_left"]
    assert bearer.json()["credits_left"] == second.json()["credits_left"] - 1 == first.json()["credits_left"] - 2
    assert quick_route == ["/v1/stamp"] * 2  # both on the quick route

    # A password, a password beside the key, a query string: the documented route.
    basic = api.basic(api.demo.username, api.demo.password)
    assert basic.post("/v1/stamp", content=api.document("Q4"), headers=XML).status_code == 201
    both = api.client(headers={"X-API-Key": key, "Authorization": "Basic !!"})
    assert both.post("/v1/stamp", content=api.document("Q5"), headers=XML).status_code == 401
    assert erp.post("/v1/stamp?x=1", content=api.document("Q6"), headers=XML).status_code == 201
    assert api.key("tbk_not_a_key").post("/v1/stamp", content=api.document("Q7"), headers=XML).status_code == 401
    assert len(quick_route) == 2

    # Another method is refused as before, and OpenAPI documents the one route.
    r = erp.get("/v1/stamp")
    assert r.status_code == 405 and r.json()["code"] == "T108"
    paths = api.client().get("/openapi.json").json()["paths"]
    assert list(paths["/v1/stamp"]) == ["post"]


def _answer(r: httpx.Response) -> tuple:
    """What a client can tell of an answer: status, error code or stamp fields, the timbra headers."""
    headers = {k: v for k, v in r.headers.items() if k.startswith(("x-timbra-", "idempotent-", "www-", "retry-"))
               and k not in ("x-timbra-uuid", "x-timbra-request-id")}
    if r.headers["content-type"].startswith("application/json"):
        body = r.json()
        shape = body.get("code") or sorted(body)
        findings = [(f["code"], f.get("node")) for f in body.get("findings", ())]
        return r.status_code, shape, findings, sorted(headers)
    return r.status_code, r.headers["content-type"], r.content[:5], sorted(headers)


def _chunks(total: int, size: int = 1 << 20):
    """A body of `total` bytes sent in chunks, without Content-Length (read by the route, not refused before)."""
    while total > 0:
        yield b" " * min(size, total)
        total -= size


def test_both_routes_answer_every_request_alike(api: Api, quick_route):
    """Each case goes once through the quick route (the known key) and once through the documented one (the
    same account's password): same status, same code and findings, same headers, same kind of body."""
    quick = api.key(api.demo.api_key)
    quick.get("/v1/credits")  # the key is known from here on
    full = api.basic(api.demo.username, api.demo.password)
    broken = etree.fromstring(api.document("B"))
    broken.set("Total", "1.00")
    cases = [
        ("stamp", lambda folio: ({"content": api.document(folio)}, XML)),
        ("as xml", lambda folio: ({"content": api.document(folio)}, {**XML, "Accept": "application/xml"})),
        ("json", lambda folio: ({"json": {"xml": base64.b64encode(api.document(folio)).decode()}}, {})),
        ("no content type", lambda folio: ({"content": api.document(folio)}, {})),
        ("json without xml", lambda folio: ({"json": {"cfdi": "x"}}, {})),
        ("bad base64", lambda folio: ({"json": {"xml": "***"}}, {})),
        ("other content type", lambda folio: ({"content": b"a=b"}, {"Content-Type": "text/plain"})),
        ("not xml", lambda folio: ({"content": b"<no"}, XML)),
        ("seal broken", lambda folio: ({"content": etree.tostring(broken)}, XML)),
        ("empty", lambda folio: ({"content": b""}, XML)),
        ("over the limit, chunked", lambda folio: ({"content": _chunks(request_limit(api.pac.settings) + 1)}, XML)),
    ]
    seen = {}
    for name, make in cases:
        answers = []
        for client, folio in ((quick, f"{name}-q"), (full, f"{name}-f")):
            kwargs, headers = make(folio)
            answers.append(_answer(client.post("/v1/stamp", headers=headers, **kwargs)))
        assert answers[0] == answers[1], name
        seen[name] = answers[0][:2]
    assert len(quick_route) == len(cases)  # the key's requests, none of the password's
    assert seen["stamp"][0] == seen["json"][0] == 201 and seen["as xml"][0] == 201
    assert seen["other content type"] == (415, "T109") and seen["over the limit, chunked"] == (413, "T107")
    assert seen["json without xml"] == seen["bad base64"] == (400, "T100")

    # A retry (same document) and an Idempotency-Key reused with another document, on both routes.
    for client, tag in ((quick, "q"), (full, "f")):
        doc = api.document(f"retry-{tag}")
        assert client.post("/v1/stamp", content=doc, headers=XML).status_code == 201
        again = client.post("/v1/stamp", content=doc, headers=XML)
        assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["replayed"] is True
        keyed = {**XML, "Idempotency-Key": f"pedido-{tag}"}
        assert client.post("/v1/stamp", content=api.document(f"k1-{tag}"), headers=keyed).status_code == 201
        r = client.post("/v1/stamp", content=api.document(f"k2-{tag}"), headers=keyed)
        assert r.status_code == 409 and r.json()["code"] == "T106"
