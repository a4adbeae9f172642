"""The REST API at its edges, in process on SQLite and PostgreSQL: hostile or odd requests get a coded 4xx
(never a 500 or a library's own message), every error speaks Spanish and English, one form of
FechaTimbrado, a CSV that a spreadsheet cannot run, /docs without any outside host, `/`, the access log."""
from __future__ import annotations

import ast
import base64
import csv
import io
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import timbra
from tests.api.test_e2e import assert_error
from tests.api.test_rest import Api, api, created, data_dir, emisor_csd, ok, running, stamp  # noqa: F401
from timbra.api.app import create_app
from timbra.clock import SYSTEM
from timbra.codes import CODES, error
from timbra.pac.runtime import Pac
from timbra.settings import Settings

XML = {"Content-Type": "application/xml"}
HUGE_ID = 2**63  # one past the largest 64-bit id
DEEP = 100_000  # levels of JSON nesting: past Python's recursion limit


def deep_json(levels: int = DEEP) -> bytes:
    return b'{"xml": ' + b"[" * levels + b"]" * levels + b"}"


def chunks(total: int, piece: int = 1024 * 1024) -> Iterator[bytes]:
    """A body sent chunked (no Content-Length)."""
    sent = 0
    while sent < total:
        n = min(piece, total - sent)
        yield b"x" * n
        sent += n


def both_languages(body: dict) -> None:
    assert body["message"] and body["message_en"] and body["message"] != body["message_en"], body


# --- item 7: no 500s ------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/v1/stamp", "/v1/validate"])
def test_deeply_nested_json_document_is_a_bad_request(api: Api, path: str):  # noqa: F811
    r = api.erp().post(path, content=deep_json(), headers={"Content-Type": "application/json"})
    both_languages(assert_error(r, 400, "T100"))


def test_deeply_nested_json_data_is_refused(api: Api):  # noqa: F811
    head = b'{"Receptor": ' + b"[" * DEEP + b"]" * DEEP + b"}"
    r = api.erp().post("/v1/issue", content=head, headers={"Content-Type": "application/json"})
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["code"] in ("T100", "T130")


def test_nested_cursor_is_a_bad_request(api: Api):  # noqa: F811
    cursor = base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode().rstrip("=")  # fits in a URL
    body = assert_error(api.erp().get("/v1/cfdi", params={"cursor": cursor}), 400, "T100")
    assert body["message_en"] == "invalid cursor"


@pytest.mark.parametrize("method,path", [
    ("DELETE", f"/v1/apikeys/{HUGE_ID}"),
    ("POST", f"/v1/csd/{HUGE_ID}/activate"),
    ("DELETE", f"/v1/csd/{HUGE_ID}"),
    ("GET", f"/v1/accounts/{HUGE_ID}"),
    ("GET", f"/v1/accounts/{HUGE_ID}/credits"),
    ("GET", f"/v1/accounts/-{HUGE_ID}"),
    ("GET", f"/v1/accounts/{'9' * 5000}"),
    ("GET", f"/v1/cfdi?account_id={HUGE_ID}"),
    ("GET", f"/v1/csd?account_id={HUGE_ID}"),
])
def test_out_of_range_ids_are_bad_requests(api: Api, method: str, path: str):  # noqa: F811
    body = assert_error(api.admin().request(method, path), 400, "T100")
    assert body["findings"][0]["value"]
    both_languages(body)


@pytest.mark.parametrize("path,payload", [
    ("/v1/accounts", {"kind": "emisor", "name": "X", "parent_id": HUGE_ID}),
    ("/v1/accounts/1/packages", {"size": HUGE_ID}),
])
def test_out_of_range_integers_in_bodies_are_refused(api: Api, path: str, payload: dict):  # noqa: F811
    r = api.admin().post(path, json=payload)
    assert_error(r, 400, "T100")


def test_the_largest_id_is_just_not_found(api: Api):  # noqa: F811
    assert_error(api.admin().get(f"/v1/accounts/{HUGE_ID - 1}"), 404, "T103")


@pytest.mark.parametrize("value", ["Basic %%%", "Basic", "Basic " + base64.b64encode(b"\xff\xfe:x").decode()])
def test_malformed_basic_credentials_are_401(api: Api, value: str):  # noqa: F811
    body = assert_error(api.client().get("/v1/me", headers={"Authorization": value}), 401, "T101")
    both_languages(body)


@pytest.mark.parametrize("path", ["/v1/issue", "/v1/accounts", "/v1/stamp"])
def test_oversize_chunked_json_is_413(data_dir, db_url, emisor_csd, path: str):  # noqa: F811
    limit = 256 * 1024
    with small_limits(data_dir, db_url, emisor_csd, max_document_bytes=1024, max_request_bytes=limit) as a:
        r = a.erp().post(path, content=chunks(limit + 1, 16 * 1024), headers={"Content-Type": "application/json"})
        assert assert_error(r, 413, "T107")["detail"]["max_bytes"] == limit


def test_an_xml_over_the_document_limit_is_too_large_not_malformed(api: Api):  # noqa: F811
    xml = b'<?xml version="1.0" encoding="UTF-8"?><a>' + b"x" * (21 * 1024 * 1024) + b"</a>"
    body = assert_error(api.erp().post("/v1/stamp", content=xml, headers=XML), 413, "T107")
    assert "mal formado" not in body["message"]
    assert body["detail"]["max_bytes"] == api.pac.settings.max_document_bytes


def test_a_huge_text_node_does_not_surface_libxml2(api: Api):  # noqa: F811
    xml = (b'<cfdi:Comprobante xmlns:cfdi="http://www.sat.gob.mx/cfd/4" Version="4.0">'
           + b"A" * 20_000_000 + b"</cfdi:Comprobante>")
    r = api.erp().post("/v1/stamp", content=xml, headers=XML)
    assert_error(r, 413, "T107")
    assert not re.search(r"xmlSAX2|huge text|XML_PARSE_HUGE|Resource limit", r.text, re.I), r.text
    r = api.erp().post("/v1/validate", content=xml, headers=XML)  # validation answers every finding: 200
    assert [f["code"] for f in ok(r)["findings"]] == ["T107"]
    assert not re.search(r"xmlSAX2|huge text|XML_PARSE_HUGE|Resource limit", r.text, re.I), r.text


@contextmanager
def small_limits(data_dir: Path, db_url: str, emisor_csd, **settings) -> Iterator[Api]:  # noqa: F811
    """The Pac with other size limits than the default ones."""
    pac = Pac(Settings(data_dir=data_dir, database_url_override=db_url, **settings), clock=SYSTEM, worker=False)
    demo = pac.ensure_demo()
    app = create_app(pac)
    a = Api(app, pac, demo, emisor_csd, SYSTEM)
    try:
        with TestClient(app):
            yield a
    finally:
        a.close()


def test_one_document_limit_for_xml_and_base64_json(data_dir, db_url, emisor_csd):  # noqa: F811
    """TIMBRA_MAX_DOCUMENT_BYTES is the size of the document itself, raw or in base64 JSON; the request limit
    leaves room for the base64 of the largest document even when it is set lower."""
    limit = 256 * 1024
    with small_limits(data_dir, db_url, emisor_csd, max_document_bytes=limit, max_request_bytes=limit) as a:
        erp = a.erp()
        at_limit = b"<a>" + b"x" * (limit - 7) + b"</a>"
        over = b"<a>" + b"x" * (limit - 6) + b"</a>"
        assert len(at_limit) == limit
        as_json = lambda doc: {"xml": base64.b64encode(doc).decode()}  # noqa: E731
        # at the limit: not "too large" either way (it is not a CFDI: 301)
        for r in (erp.post("/v1/stamp", content=at_limit, headers=XML), erp.post("/v1/stamp", json=as_json(at_limit))):
            assert_error(r, 400, "301")
        # one byte over: T107 with the same limit either way
        for r in (erp.post("/v1/stamp", content=over, headers=XML), erp.post("/v1/stamp", json=as_json(over))):
            assert assert_error(r, 413, "T107")["detail"]["max_bytes"] == limit


# --- item 15: every error in two languages, with what was refused and what was not found ---------------

def test_every_code_has_both_languages():
    for code in CODES:
        body = error(code).as_dict()
        assert body["message"] and body["message_en"], code
        with_message = error(code, message="Un texto propio.").as_dict()
        assert with_message["message_en"], code  # a Spanish-only override still carries English


def test_every_custom_message_has_its_english():
    """Each `error(..., message=...)` (and `cancellation_error`) in timbra gives its own `message_en` too
    (else the English would be the code's generic text while the Spanish says more)."""
    missing = []
    for path in Path(timbra.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("error", "cancellation_error"):
                names = {k.arg for k in node.keywords}
                if "message" in names and "message_en" not in names:
                    missing.append(f"{path.name}:{node.lineno}")
    assert missing == []


def test_error_paths_carry_message_en(api: Api):  # noqa: F811
    erp, admin = api.erp(), api.admin()
    answers = [
        (erp.post("/v1/stamp", content=b"{not json", headers={"Content-Type": "application/json"}), 400, "T100"),
        (erp.get("/v1/cfdi", params={"cursor": "garbage!"}), 400, "T100"),
        (erp.get("/v1/cfdi", params={"stamped_from": "2026-01-01T00:00:00"}), 400, "T100"),
        (erp.post("/v1/csd", json={"cer": "eA=="}), 400, "T100"),
        (admin.post("/v1/accounts", json={"kind": "emisor", "name": " "}), 400, "T100"),
        (admin.post("/v1/accounts", json={"kind": "emisor", "name": "X", "rfcs": ["nope"]}), 400, "T100"),
        (erp.get("/v1/cfdi/00000000-0000-0000-0000-000000000000"), 404, "T103"),
        (erp.get("/v1/nothing-here"), 404, "T103"),
        (erp.get("/v1/stamp"), 405, "T108"),
        (api.client().get("/v1/me"), 401, "T101"),
    ]
    for r, status, code in answers:
        body = assert_error(r, status, code)
        assert body["message_en"], (r.request.url, body)


def test_t130_findings_carry_the_rejected_value(api: Api):  # noqa: F811
    r = api.erp().post("/v1/issue", json={"Receptor": {"Rfc": 12345}, "Conceptos": "no es una lista",
                                          "Moneda": ["MXN"]})
    body = assert_error(r, 422, "T130")
    values = {f["node"]: f.get("value") for f in body["findings"]}
    assert values["Conceptos"] == "no es una lista"
    assert values["Moneda"] == '["MXN"]'


def test_a_refused_password_is_not_echoed(api: Api):  # noqa: F811
    r = api.erp().post("/v1/password", json={"current_password": ["secreto-1234"], "new_password": "x"})
    assert r.status_code == 400
    assert "secreto-1234" not in r.text


def test_not_found_says_what(api: Api):  # noqa: F811
    erp = api.erp()
    uuid = "00000000-0000-4000-8000-000000000000"
    body = assert_error(erp.get(f"/v1/cfdi/{uuid}"), 404, "T103")
    assert uuid in body["message"] and uuid in body["message_en"] and "CFDI" in body["message_en"]
    body = assert_error(erp.get("/v1/no-such-route"), 404, "T103")
    assert "/v1/no-such-route" in body["message"] and "/v1/no-such-route" in body["message_en"]


# --- item 13: one form of FechaTimbrado --------------------------------------------------------------

def test_fecha_timbrado_is_one_form_in_stamp_and_report(api: Api):  # noqa: F811
    erp = api.erp()
    stamped = stamp(erp, api.document("FT-1"))
    listed = ok(erp.get(f"/v1/cfdi/{stamped['uuid']}"))
    page = ok(erp.get("/v1/cfdi"))["items"][0]
    assert stamped["fecha_timbrado"] == listed["fecha_timbrado"] == page["fecha_timbrado"]
    moment = datetime.fromisoformat(stamped["fecha_timbrado"])
    assert moment.utcoffset() is not None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-0[56]:00", stamped["fecha_timbrado"])
    # the wall time is the TFD's own FechaTimbrado
    xml = base64.b64decode(stamped["xml"]).decode()
    tfd = re.search(r'FechaTimbrado="([^"]+)"', xml).group(1)
    assert stamped["fecha_timbrado"].startswith(tfd)
    spec = erp.get("/openapi.json").json()
    assert "-06:00" in spec["info"]["description"]


# --- item 9: CSV without formulas ------------------------------------------------------------------------

def test_csv_neutralises_formulas(api: Api):  # noqa: F811
    erp = api.erp()
    name = '=HYPERLINK("http://example.invalid/x","clic")'
    # an RFC the sandbox's padrón does not know, so any Nombre passes (TIMBRA_PADRON_PERMISSIVE)
    receptor = {"Rfc": "AAA010101AAA", "Nombre": name, "DomicilioFiscalReceptor": "06000",
                "RegimenFiscalReceptor": "601", "UsoCFDI": "G03"}
    stamp(erp, api.document("CSV-1", receptor=receptor))
    r = erp.get("/v1/cfdi", params={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert rows[0]["nombre_receptor"] == "'" + name
    assert all(not v.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for v in row.values())


def test_csv_cell_rules():
    from timbra.pac.cfdis import csv_cell

    for text in ("=1+1", "+52", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert csv_cell(text) == "'" + text
    assert csv_cell("ACME") == "ACME" and csv_cell(None) == "" and csv_cell("1.00") == "1.00"


# --- item 14: /docs offline, `/`, one access-log line per request -------------------------------------

def test_docs_reference_no_outside_host(api: Api):  # noqa: F811
    c = api.client()
    r = c.get("/docs")
    assert r.status_code == 200
    urls = re.findall(r"""(?:src|href|url)\s*[:=]\s*['"]([^'"]+)['"]""", r.text)
    assert not re.search(r"https?://", r.text), re.findall(r"https?://\S+", r.text)
    assets = [u for u in urls if u.startswith("/static/")]
    assert len(assets) >= 2, urls
    for u in assets + ["/openapi.json"]:
        assert c.get(u).status_code == 200, u
    assert '"validatorUrl": null' in r.text


def test_home_page(api: Api):  # noqa: F811
    c = api.client()
    r = c.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert 'href="/docs"' in r.text and 'href="/openapi.json"' in r.text
    j = c.get("/", headers={"Accept": "application/json"})
    assert j.status_code == 200 and j.json()["docs"] == "/docs" and j.json()["openapi"] == "/openapi.json"


def test_one_access_log_line_per_request_without_secrets(api: Api, caplog):  # noqa: F811
    caplog.set_level(logging.INFO, logger="timbra.access")
    secret_password = api.demo.admin_password
    key = api.demo.api_key
    api.erp().get("/v1/credits", params={"token": "query-secret"})
    api.admin().get("/v1/me")
    api.client().get("/v1/me", headers={"Authorization": "Bearer tbk_nope_" + "x" * 43})
    api.basic(api.demo.admin_username, "una clave equivocada").get("/v1/me")
    lines = [r.getMessage() for r in caplog.records if r.name == "timbra.access"]
    assert len(lines) == 4, lines
    assert re.fullmatch(r"GET /v1/credits 200 \d+\.\dms \S+", lines[0]), lines[0]
    assert lines[1].startswith("GET /v1/me 200 ") and lines[2].startswith("GET /v1/me 401 ")
    text = "\n".join(lines)
    for secret in (key, secret_password, "query-secret", "tbk_nope", "una clave equivocada", "Basic", "Bearer"):
        assert secret not in text
