"""/openapi.json tells the truth, on SQLite and PostgreSQL: it is a valid OpenAPI document; every JSON answer
has a typed schema (no bare `{}`); every error is documented as ErrorOut, the one shape timbra answers (never
FastAPI's HTTPValidationError); every request example in it, sent to the running app with a real account,
is accepted or refused for a reason of the data, never as a request timbra cannot read (T100/T130); and the
real answers of the routes (successes and errors) validate against the schemas the document gives them,
with no key the document does not name."""
from __future__ import annotations

import base64
import copy
import json
import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from jsonschema import Draft202012Validator
from lxml import etree

from tests.api.test_cancel import drain, issue, sat  # noqa: F401 - fixtures
from tests.api.test_e2e import assert_error
from tests.api.test_rest import Api, data_dir, emisor_csd, ok, running  # noqa: F401 - fixtures
from timbra.api.schemas import EXAMPLES, example
from timbra.cfdi.seal import sign_root
from timbra.cfdi.tfd import MEXICO_CITY
from timbra.clock import SYSTEM
from timbra.store.db import Database

ERROR_REF = "#/components/schemas/ErrorOut"
# Refusals of a request timbra could not read: a documented example must never get one of these.
UNREADABLE = {"T100", "T130", "301", "T109"}
# A signed request (a Cancelacion, a SolicitudAceptacionRechazo) carries a signature over its date made with
# the client's own CSD: its example in the document shows the shape, it cannot be sent as it is.
# /readyz answers its own report with 503 when not ready (a load balancer reads the status, an operator the body).
NOT_READY = ("get", "/readyz", "503")
SIGNED_XML = {("/v1/cancel", "application/xml"), ("/v1/pending/{uuid}", "application/xml")}


def operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            yield path, method, op


def schema_of(spec: dict, schema: dict, *, closed: bool = False) -> Draft202012Validator:
    """A validator for a schema of the document (its $refs resolve in the document's components). `closed`:
    every object schema with properties refuses a key it does not name."""
    components = copy.deepcopy(spec["components"])
    if closed:
        def close(node):
            if isinstance(node, dict):
                if "properties" in node and "additionalProperties" not in node:
                    node["additionalProperties"] = False
                for v in node.values():
                    close(v)
            elif isinstance(node, list):
                for v in node:
                    close(v)
        close(components)
    return Draft202012Validator({**schema, "components": components})


def check(spec: dict, r: httpx.Response, method: str, template: str) -> None:
    """The answer is documented: its status (or `default` for an error), its media type, and, for JSON,
    a body that validates against the schema of that status with no undocumented key."""
    op = spec["paths"][template][method.lower()]
    responses = op["responses"]
    status = str(r.status_code)
    assert status in responses or (r.status_code >= 400 and "default" in responses), (method, template, status)
    documented = responses.get(status) or responses["default"]
    if r.status_code == 204:
        assert not r.content and not documented.get("content"), (method, template)
        return
    ctype = (r.headers.get("content-type") or "").split(";")[0].strip()
    assert ctype in documented.get("content", {}), (method, template, status, ctype)
    if ctype == "application/json":
        schema = documented["content"][ctype]["schema"]
        if r.status_code >= 400 and (method.lower(), template, status) != NOT_READY:
            assert schema == {"$ref": ERROR_REF}, (method, template, status)
        errs = sorted(schema_of(spec, schema, closed=True).iter_errors(r.json()), key=str)
        assert not errs, (method, template, status, [e.message for e in errs[:3]], r.text[:300])


# --- the document itself ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def spec(data_dir, emisor_csd, tmp_path_factory) -> dict:  # noqa: F811
    """The document as the running app serves it (it does not depend on the database: SQLite only)."""
    db = tmp_path_factory.mktemp("openapi") / "timbra.db"
    Database(f"sqlite:///{db.as_posix()}").upgrade()
    with running(data_dir, f"sqlite:///{db.as_posix()}", emisor_csd, SYSTEM) as a:
        return ok(a.client().get("/openapi.json"))


def test_the_document_is_valid_openapi(spec):
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(spec)


def test_every_json_answer_has_a_typed_schema(spec):
    bare = []
    for path, method, op in operations(spec):
        for status, resp in op["responses"].items():
            for media, content in resp.get("content", {}).items():
                schema = content.get("schema")
                if schema in (None, {}) or (media == "application/json" and "$ref" not in schema):
                    bare.append((method, path, status, media))
    assert bare == []
    # the non-JSON answers name their media type
    media = {m for _, _, op in operations(spec) for r in op["responses"].values() for m in r.get("content", {})}
    assert {"application/xml", "application/pdf", "image/png", "text/csv", "text/plain"} <= media


def test_every_error_is_documented_as_error_out(spec):
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert set(schemas["ErrorOut"]["required"]) == {"code", "message", "source", "findings"}
    assert {"message_en", "detail"} <= set(schemas["ErrorOut"]["properties"])
    assert set(schemas["FindingOut"]["required"]) == {"code", "message", "node"}
    for path, method, op in operations(spec):
        responses = op["responses"]
        for status, resp in responses.items():
            if (status == "default" or int(status) >= 400) and (method, path, status) != NOT_READY:
                assert resp["content"] == {"application/json": {"schema": {"$ref": ERROR_REF}}}, (method, path, status)
        if path.startswith("/v1/"):
            # every /v1 route reads credentials and parameters: 400, 401 and the rest are ErrorOut
            assert {"400", "401", "403", "429", "500", "503", "default"} <= set(responses), (method, path)
            if "requestBody" in op:
                assert "413" in responses, (method, path)
            if any(p["name"] == "account_id" for p in op.get("parameters", [])):
                assert "404" in responses, (method, path)  # an account the caller does not manage: T103
    paths = spec["paths"]
    assert paths["/v1/cfdi/{uuid}/pdf"]["get"]["parameters"][0] == {
        "name": "uuid", "in": "path", "required": True, "schema": {"type": "string", "title": "Uuid"},
        "example": "5FB2822E-396D-4725-8521-CDC4BDD20CCF"}
    stamp = spec["paths"]["/v1/stamp"]["post"]["responses"]
    assert {"402", "409", "413", "415", "422"} <= set(stamp)
    assert {"402", "422"} <= set(spec["paths"]["/v1/issue"]["post"]["responses"])
    assert "404" in spec["paths"]["/v1/cfdi/{uuid}"]["get"]["responses"]


def request_examples(spec: dict):
    """(path, method, media type, example name, value) of every request body example in the document."""
    for path, method, op in operations(spec):
        body = op.get("requestBody")
        if body is None:
            continue
        for media, content in body["content"].items():
            found = [("example", content["example"])] if "example" in content else []
            found += [(name, e["value"]) for name, e in content.get("examples", {}).items()]
            assert found, f"{method.upper()} {path} {media}: no example"
            for name, value in found:
                yield path, method, media, name, value


def test_every_json_example_matches_its_request_schema(spec):
    checked = 0
    for path, method, media, name, value in request_examples(spec):
        if media == "application/json":
            schema = spec["paths"][path][method]["requestBody"]["content"][media]["schema"]
            errs = [e.message for e in schema_of(spec, schema).iter_errors(value)]
            assert errs == [], (method, path, name, errs[:3])
            checked += 1
    assert checked >= 20


def test_every_request_example_works(sat: Api):  # noqa: F811
    erp, admin = sat.erp(), sat.admin()
    spec = ok(erp.get("/openapi.json"))
    uuid = issue(sat, erp, "OPENAPI-1")
    values = {"uuid": uuid, "account_id": str(sat.demo.account_id)}
    seen = set()
    for path, method, media, name, value in request_examples(spec):
        seen.add((method, path))
        concrete = re.sub(r"\{([^}]+)\}", lambda m: values[m.group(1)], path)
        client = admin if path.startswith("/v1/accounts") else erp
        kw = {"json": value} if media == "application/json" else {"content": value.encode("utf-8")}
        r = client.request(method, concrete, headers={"Content-Type": media}, **kw)
        where = (method, path, media, name, r.status_code, r.text[:300])
        check(spec, r, method, path)
        assert r.status_code < 500, where
        if (path, media) in SIGNED_XML:
            continue
        if r.status_code >= 400:
            assert r.json()["code"] not in UNREADABLE, where
    assert len(seen) >= 17  # every route with a body: stamp, validate, verify, issue x3, cancel, accounts...


def test_the_shipped_examples_are_the_documented_ones(spec):
    """The document carries the files of timbra/api/examples as they are (docs/examples links to them)."""
    def body(path, name):
        return spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["examples"][name]["value"]

    assert body("/v1/issue", "factura") == example("issue-factura.json")
    assert body("/v1/issue/pagos", "pago") == example("issue-pagos.json")
    assert body("/v1/issue/nomina", "nomina") == example("issue-nomina.json")
    assert body("/v1/csd", "pfx") == example("csd-pfx.json")
    xml = spec["paths"]["/v1/stamp"]["post"]["requestBody"]["content"]["application/xml"]["example"]
    assert xml == example("cfdi.xml") and xml.startswith("<?xml")
    docs = Path(__file__).resolve().parents[2] / "docs" / "examples"
    for name in ("issue-factura.json", "issue-pagos.json", "issue-nomina.json"):
        assert json.loads((docs / name).read_text(encoding="utf-8")) == example(name)


def test_the_cfdi_example_is_a_cfdi_to_seal(sat: Api):  # noqa: F811
    """The XML example of /v1/stamp is a CFDI 4.0 sealed with the sandbox CSD of one installation: sent as it
    is, another installation refuses its certificate or its date (SAT's rules), never its form; re-dated and
    sealed with this installation's CSD it is stamped."""
    erp = sat.erp()
    xml = example("cfdi.xml")
    assert xml == (EXAMPLES / "cfdi.xml").read_text(encoding="utf-8")
    as_is = erp.post("/v1/stamp", content=xml.encode(), headers={"Content-Type": "application/xml"})
    assert as_is.status_code == 422 and as_is.json()["code"] not in UNREADABLE, as_is.text
    root = etree.fromstring(xml.encode())
    root.set("Fecha", (sat.clock.now() - timedelta(hours=1)).astimezone(MEXICO_CITY).strftime("%Y-%m-%dT%H:%M:%S"))
    sign_root(root, sat.csd)
    r = erp.post("/v1/stamp", json={"xml": base64.b64encode(etree.tostring(root, xml_declaration=True,
                                                                           encoding="UTF-8")).decode()})
    assert r.status_code == 201, r.text


# --- real answers against their schemas ---------------------------------------------------------------------

def test_real_answers_validate_against_the_document(sat: Api):  # noqa: F811
    erp, admin, anonymous = sat.erp(), sat.admin(), sat.client()
    spec = ok(erp.get("/openapi.json"))

    def call(client, method: str, template: str, path: str | None = None, **kw) -> httpx.Response:
        r = client.request(method, path or template, **kw)
        check(spec, r, method, template)
        return r

    call(anonymous, "GET", "/healthz")
    call(anonymous, "GET", "/readyz")
    # stamping: new, replayed, as XML; validation and verification
    doc = sat.document("OPENAPI-S1")
    xml_type = {"Content-Type": "application/xml"}
    first = call(erp, "POST", "/v1/stamp", content=doc, headers=xml_type)
    assert first.status_code == 201
    again = call(erp, "POST", "/v1/stamp", content=doc, headers=xml_type)
    assert again.status_code == 200 and again.json()["replayed"] is True
    as_xml = call(erp, "POST", "/v1/stamp", content=sat.document("OPENAPI-S2"),
                  headers={**xml_type, "Accept": "application/xml"})
    assert as_xml.headers["content-type"].startswith("application/xml")
    uuid = first.json()["uuid"]
    stamped_xml = base64.b64decode(first.json()["xml"])
    assert call(erp, "POST", "/v1/validate", content=doc, headers=xml_type).json()["valid"] is True
    assert call(erp, "POST", "/v1/validate", content=sat.document("X").replace(b'Folio="X"', b'Folio="Y"'),
                headers=xml_type).json()["valid"] is False
    call(erp, "POST", "/v1/verify", content=stamped_xml, headers=xml_type)
    # stamped CFDI
    assert call(erp, "GET", "/v1/cfdi").json()["items"]
    call(erp, "GET", "/v1/cfdi", params={"format": "csv"})
    call(erp, "GET", "/v1/cfdi/{uuid}", f"/v1/cfdi/{uuid}")
    call(erp, "GET", "/v1/cfdi/{uuid}/xml", f"/v1/cfdi/{uuid}/xml")
    call(erp, "GET", "/v1/cfdi/{uuid}/pdf", f"/v1/cfdi/{uuid}/pdf")
    # the account, its keys and credits
    call(erp, "GET", "/v1/credits")
    call(erp, "GET", "/v1/me")
    call(erp, "POST", "/v1/apikeys", json={"name": "otra"})
    call(erp, "GET", "/v1/apikeys")
    call(erp, "GET", "/v1/csd")
    # accounts (the admin)
    call(admin, "GET", "/v1/accounts")
    made = call(admin, "POST", "/v1/accounts", json={"kind": "emisor", "name": "Otra", "username": "otra-openapi"})
    assert made.status_code == 201 and made.json()["user"]["password"]
    acc = made.json()["id"]
    call(admin, "GET", "/v1/accounts/{account_id}", f"/v1/accounts/{acc}")
    call(admin, "POST", "/v1/accounts/{account_id}/users", f"/v1/accounts/{acc}/users", json={"username": "o2"})
    call(admin, "POST", "/v1/accounts/{account_id}/packages", f"/v1/accounts/{acc}/packages", json={"size": 1000})
    call(admin, "GET", "/v1/accounts/{account_id}/credits", f"/v1/accounts/{acc}/credits")
    # issuing from data
    factura = call(erp, "POST", "/v1/issue", json=example("issue-factura.json"))
    assert factura.status_code == 201
    call(erp, "GET", "/v1/issue/{referencia}", "/v1/issue/FAC-2026-0001")
    # cancellation and SAT status
    issued = issue(sat, erp, "OPENAPI-C1")
    cancelled = call(erp, "POST", "/v1/cancel", json={"uuids": [issued], "motivo": "02"})
    assert cancelled.json()["folios"][0]["code"] == "201"
    drain(sat)
    call(erp, "GET", "/v1/cfdi/{uuid}/status", f"/v1/cfdi/{issued}/status")
    call(erp, "GET", "/v1/status", params={"expresion": f"?id={issued}&re=EKU9003173C9&rr=URE180429TM6&tt=1"})
    call(erp, "GET", "/v1/status", params={"expresion": "nada"})
    call(erp, "GET", "/v1/cfdi/{uuid}/related", f"/v1/cfdi/{issued}/related")
    assert call(erp, "GET", "/v1/cfdi/{uuid}/events", f"/v1/cfdi/{issued}/events").json()["items"]
    call(erp, "GET", "/v1/events")
    call(erp, "GET", "/v1/pending")
    call(erp, "GET", "/v1/cfdi/{uuid}/acuse-cancelacion", f"/v1/cfdi/{issued}/acuse-cancelacion")
    # branding
    call(erp, "GET", "/v1/branding")
    call(erp, "PUT", "/v1/branding", json=example("branding.json"))
    call(erp, "GET", "/v1/branding/logo")
    call(erp, "DELETE", "/v1/branding")
    # operations
    call(admin, "GET", "/metrics")

    # errors: each one answered as ErrorOut under a status the route documents
    assert_error(call(anonymous, "GET", "/v1/credits"), 401, "T101")
    assert_error(call(erp, "GET", "/v1/cfdi/{uuid}", "/v1/cfdi/5FB2822E-396D-4725-8521-CDC4BDD20CCF"), 404, "T103")
    assert_error(call(erp, "GET", "/v1/cfdi", params={"limit": 0}), 400, "T100")
    assert_error(call(erp, "POST", "/v1/apikeys", json={"name": 5}), 400, "T100")  # request validation: 400
    assert_error(call(erp, "GET", "/v1/accounts/{account_id}", f"/v1/accounts/{2**64}"), 400, "T100")
    assert_error(call(erp, "POST", "/v1/stamp", content=b"<a", headers=xml_type), 400, "301")
    assert_error(call(erp, "POST", "/v1/stamp", content=doc, headers={"Content-Type": "text/plain"}), 415, "T109")
    call(erp, "POST", "/v1/stamp", content=sat.document("OPENAPI-S3"), headers={**xml_type, "Idempotency-Key": "k1"})
    assert_error(call(erp, "POST", "/v1/stamp", content=sat.document("OPENAPI-S4"),
                      headers={**xml_type, "Idempotency-Key": "k1"}), 409, "T106")
    bad = example("issue-factura.json") | {"Conceptos": [{"Cantidad": "dos"}]}
    got = assert_error(call(erp, "POST", "/v1/issue", json=bad), 422, "T130")
    assert got["findings"] and got["findings"][0]["node"]
    assert_error(call(erp, "GET", "/metrics"), 403, "T102")
    assert_error(call(erp, "GET", "/v1/events", params={"account_id": acc}), 404, "T103")
    assert_error(call(erp, "PUT", "/v1/branding", json={"color": "azul"}), 422, "T192")
    assert_error(call(erp, "POST", "/v1/cancel", content=b"x", headers={"Content-Type": "text/plain"}), 415, "T109")
    assert_error(call(erp, "POST", "/v1/pending/{uuid}", f"/v1/pending/{issued}", json={"respuesta": "Aceptacion"}),
                 404, "T184")
