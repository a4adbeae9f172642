"""Every route of the app is enumerated: each one refuses a caller without credentials (401 T101; the portal's
pages send a browser to its sign-in instead, 303 to /login), unless it is on the short list of public pages
below. A new route that forgets authentication fails here. (tests/web/test_portal.py enumerates the portal's
routes again, signed in as another account: nothing of one account is reachable by another.)

Also here (issue #16): tenant scoping of every REST route with an id and every SOAP operation that names a
UUID, referencia or sello (a second account asks for the first one's objects: 404/403, never its data); the
throttle of wrong API keys per client address (T224), behind a proxy too; and the security headers of every
kind of answer (REST, SOAP, portal, /docs offline under its CSP, errors), HSTS when configured."""
import base64
import re

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Mount, Route

from tests.api.test_rest import PASSWORD, Api, api, data_dir, emisor_csd  # noqa: F401 (fixtures)
from timbra.api.soap import endpoints as soap_endpoints

# Public by design: the home page, the OpenAPI document and its offline Swagger UI, the manual (a mount), the
# health check and the readiness check (a load balancer asks them; they carry no customer data); the portal's sign-in, its language
# switch, and the receptors' lookup (UUID + RFC emisor + RFC receptor: it answers the same "not found" unless
# all three match, and is throttled per client address).
PUBLIC = {("GET", "/"), ("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/docs/oauth2-redirect"),
          ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/login"), ("POST", "/login"), ("GET", "/idioma/{lang}"),
          ("GET", "/consulta"), ("POST", "/consulta"), ("POST", "/consulta/{kind}")}
PUBLIC_MOUNTS = {"/static", "/assets", "/manual"}  # /manual: the implementation manual (docs/manual)
PORTAL = ("/portal", "/logout")  # a browser without a session is sent to the sign-in
# Public at the HTTP level by design: the SOAP services (FEL's, Finkok's) carry the user and password in the
# body of each operation, so the route lets anyone in and every operation refuses bad credentials in its
# protocol's shape (tests/api/test_soap_*.py). GET answers the WSDL; an anonymous POST that is no operation
# gets a SOAP Fault.
SOAP = {path for path in soap_endpoints()}


def _routes(app_or_router):
    for r in app_or_router.routes:
        if hasattr(r, "original_router"):  # an included router (its routes carry the router's prefix)
            yield from _routes(r.original_router)
        elif isinstance(r, Mount):
            yield "MOUNT", r.path
        elif isinstance(r, APIRoute | Route):
            for m in sorted((r.methods or set()) - {"HEAD", "OPTIONS"}):
                yield m, r.path


def test_every_route_needs_credentials_or_is_public(api: Api):
    anonymous = api.client()
    seen = list(_routes(api.app))
    assert len(seen) > 20  # the enumeration itself works
    for method, path in seen:
        if method == "MOUNT":
            assert path in PUBLIC_MOUNTS, f"unexpected mounted app at {path}"
            continue
        if (method, path) in PUBLIC:
            continue
        if path in SOAP:
            r = anonymous.request(method, path)
            if method == "GET":
                assert r.status_code == 200 and b"wsdl:definitions" in r.content, path
            else:
                assert r.status_code == 500 and b"T200" in r.content and b"Fault" in r.content, path
            continue
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        r = anonymous.request(method, concrete, follow_redirects=False)
        if path.startswith(PORTAL):
            assert r.status_code == 303 and r.headers["location"].startswith("/login"), (method, path, r.status_code)
            continue
        assert r.status_code == 401 and r.json()["code"] == "T101", (method, path, r.status_code, r.text[:200])


def test_public_pages_answer_without_credentials(api: Api):
    anonymous = api.client()
    for method, path in PUBLIC:
        if method == "GET" and "{" not in path and (path != "/docs/oauth2-redirect"
                                                     or any(p == path for _, p in _routes(api.app))):
            assert anonymous.request(method, path).status_code == 200, path
    # The manual: its pages when `make manual` built them, otherwise a page saying how to build it; never a 401.
    r = anonymous.get("/manual/")
    assert (r.status_code, "text/html" in r.headers["content-type"]) in ((200, True), (404, True)), r.status_code
    assert r.status_code == 200 or "make manual" in r.text
    # The public forms refuse a post that does not come from their page (no CSRF token): 403 T212.
    for path in ("/login", "/consulta", "/consulta/xml"):
        r = anonymous.post(path, data={"username": "demo", "uuid": "x"})
        assert r.status_code == 403 and "T212" in r.text, path


# --- tenancy: one account's resources, asked for by another account --------------------------------------
#
# Every route whose path carries an id (or that takes ?account_id=), asked by a second emisor account (and a
# distributor that does not manage the first) for the first account's objects: 404 (T103) or 403 (T102), never
# 200 with its data and never 200 with an empty list that would confirm nothing and hide a missing check. A new
# route with an id fails `test_every_route_with_an_id_is_in_the_tenancy_table` until it is added to CROSS
# (checked here) or to NOT_A_TENANT_ID with the reason.

# (method, path) -> the JSON body to send (a valid one, so the answer is about scoping, not validation)
CROSS: dict[tuple[str, str], dict | None] = {
    ("GET", "/v1/cfdi/{uuid}"): None,
    ("GET", "/v1/cfdi/{uuid}/xml"): None,
    ("GET", "/v1/cfdi/{uuid}/acuse-envio"): None,
    ("GET", "/v1/cfdi/{uuid}/status"): None,
    ("GET", "/v1/cfdi/{uuid}/acuse-cancelacion"): None,
    ("GET", "/v1/cfdi/{uuid}/related"): None,
    ("GET", "/v1/cfdi/{uuid}/events"): None,
    ("GET", "/v1/cfdi/{uuid}/pdf"): None,
    ("GET", "/v1/issue/{referencia}"): None,
    ("DELETE", "/v1/apikeys/{key_id}"): None,
    ("GET", "/v1/accounts/{account_id}"): None,
    ("POST", "/v1/accounts/{account_id}/users"): {"username": "intruso", "password": "una clave bastante larga"},
    ("POST", "/v1/accounts/{account_id}/rfcs"): {"rfc": "IIA040805DZ4"},
    ("GET", "/v1/accounts/{account_id}/credits"): None,
    ("POST", "/v1/accounts/{account_id}/packages"): {"size": 10},
    ("POST", "/v1/accounts/{account_id}/credits"): {"amount": 1},
    ("POST", "/v1/csd/{csd_id}/activate"): None,
    ("DELETE", "/v1/csd/{csd_id}"): None,
}
# Routes that take ?account_id= (the account the operation is about): asked with the first account's id.
CROSS_ACCOUNT_QUERY = {("GET", "/v1/cfdi"), ("GET", "/v1/csd"), ("POST", "/v1/csd"), ("GET", "/v1/events"),
                       ("GET", "/v1/pending"), ("GET", "/v1/branding"), ("PUT", "/v1/branding"),
                       ("DELETE", "/v1/branding"), ("GET", "/v1/branding/logo"), ("POST", "/v1/cancel"),
                       ("POST", "/v1/pending/{uuid}"), *CROSS}
# Routes with a path parameter that names no tenant's object, or whose objects another test covers:
NOT_A_TENANT_ID = {
    # the portal's language switch: "es" or "en", nobody's object
    ("GET", "/idioma/{lang}"): "no object",
    # the receptors' lookup: the format of the download (xml, pdf); the lookup itself needs UUID + both RFCs
    # (tests/web/test_portal.py::test_receptor_lookup_says_the_same_unless_all_three_match_and_is_throttled)
    ("POST", "/consulta/{kind}"): "format, not an id",
    # accept or reject a cancellation of a CFDI issued TO the caller's RFCs: the UUID is looked up among the
    # caller's own pending requests (SAT's 1001 "no pending request" otherwise); checked in CROSS_ACCOUNT_QUERY
    # with ?account_id= and in test_the_receptors_answer_is_about_its_own_requests below
    ("POST", "/v1/pending/{uuid}"): "the caller's own pending list",
}
# The portal's pages with an id: tests/web/test_portal.py::test_no_page_of_one_account_is_reachable_by_another
# enumerates every one of them (signed in as another emisor and another distributor) the same way.
PORTAL_COVERED_ELSEWHERE = "/portal"


def _route_objects(app_or_router):
    for r in app_or_router.routes:
        if hasattr(r, "original_router"):
            yield from _route_objects(r.original_router)
        elif isinstance(r, APIRoute | Route):
            for m in sorted((r.methods or set()) - {"HEAD", "OPTIONS"}):
                yield m, r


def test_every_route_with_an_id_is_in_the_tenancy_table(api: Api):
    with_ids, with_account = set(), set()
    for method, route in _route_objects(api.app):
        if route.path.startswith(PORTAL_COVERED_ELSEWHERE):
            continue
        if "{" in route.path:
            with_ids.add((method, route.path))
        dependant = getattr(route, "dependant", None)
        if dependant is not None and any(q.name == "account_id" for q in dependant.query_params):
            with_account.add((method, route.path))
    missing = with_ids - set(CROSS) - set(NOT_A_TENANT_ID)
    assert not missing, f"routes with an id missing from the tenancy table (CROSS or NOT_A_TENANT_ID): {missing}"
    assert not with_account - CROSS_ACCOUNT_QUERY, with_account - CROSS_ACCOUNT_QUERY
    assert len(with_ids) >= 15


def _two_tenants(api: Api):
    from tests.api.test_issue import body, upload_csd
    from timbra.pac.accounts import SYSTEM_PRINCIPAL

    accounts = api.pac.accounts
    owner = api.erp()
    upload_csd(owner, api.csd)
    stamped = owner.post("/v1/stamp", content=api.document("TEN-1"),
                         headers={"Content-Type": "application/xml", "Idempotency-Key": "K-1"})
    assert stamped.status_code == 201, stamped.text
    issued = owner.post("/v1/issue", json={**body(), "referencia": "TEN-REF"})
    assert issued.status_code == 201, issued.text
    [csd] = owner.get("/v1/csd").json()["items"]
    keys = owner.get("/v1/apikeys").json()["items"]
    other = accounts.create_account(SYSTEM_PRINCIPAL, kind="emisor", name="Otra empresa", username="otra-empresa",
                                    password=PASSWORD)
    accounts.create_account(SYSTEM_PRINCIPAL, kind="distributor", name="Otro distribuidor",
                            username="otro-distribuidor", password=PASSWORD)
    values = {"uuid": stamped.json()["uuid"], "referencia": "TEN-REF", "key_id": keys[0]["id"],
              "csd_id": csd["id"], "account_id": api.demo.account_id,
              "csd_body": {"cer": base64.b64encode(api.csd.certificate.der).decode(),
                           "key": base64.b64encode(api.csd.key.to_der(PASSWORD)).decode(), "password": PASSWORD}}
    intruders = [api.basic("otra-empresa", PASSWORD), api.basic("otro-distribuidor", PASSWORD)]
    assert other.account.id != api.demo.account_id
    return owner, intruders, values


def _assert_refused(r, where) -> None:
    assert r.status_code in (403, 404), (where, r.status_code, r.text[:300])
    assert r.json()["code"] in ("T102", "T103"), (where, r.text[:300])


def test_no_resource_of_one_account_is_reachable_by_another(api: Api):
    owner, intruders, values = _two_tenants(api)
    a = values["account_id"]
    for (method, path), payload in CROSS.items():
        concrete = re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path)
        for who in intruders:
            _assert_refused(who.request(method, concrete, json=payload), (method, path))
            # naming the owner's account explicitly does not help either
            _assert_refused(who.request(method, concrete, params={"account_id": a}, json=payload),
                            (method, path, "account_id"))
    for method, path in sorted(CROSS_ACCOUNT_QUERY - set(CROSS)):
        concrete = re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path)
        payload = {"uuids": [values["uuid"]], "motivo": "02"} if path == "/v1/cancel" else \
            {"respuesta": "Rechazo"} if path.startswith("/v1/pending/") else \
            {"color": "#112233"} if path == "/v1/branding" else \
            values["csd_body"] if (method, path) == ("POST", "/v1/csd") else None
        for who in intruders:
            _assert_refused(who.request(method, concrete, params={"account_id": a}, json=payload),
                            (method, path))
    # ...while the owner reaches every one of its objects (the ids above are real)
    for path in ("/v1/cfdi/{uuid}", "/v1/cfdi/{uuid}/xml", "/v1/cfdi/{uuid}/events", "/v1/cfdi/{uuid}/pdf",
                 "/v1/issue/{referencia}", "/v1/accounts/{account_id}", "/v1/accounts/{account_id}/credits"):
        concrete = re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path)
        assert owner.get(concrete).status_code == 200, path
    # The lists of another account never show the owner's objects
    for who in intruders:
        for path in ("/v1/cfdi", "/v1/csd", "/v1/events", "/v1/apikeys"):
            r = who.get(path)
            assert r.status_code == 200 and values["uuid"] not in r.text and "TEN-REF" not in r.text, path
            if path == "/v1/csd":
                assert all(i["id"] != values["csd_id"] for i in r.json()["items"])
    # Idempotency-Keys are per account: another account's "K-1" is a new request of its own (its RFC is not
    # EKU9003173C9, so T-coded refusal), never the owner's stamp replayed
    r = intruders[0].post("/v1/stamp", content=api.document("TEN-2"),
                          headers={"Content-Type": "application/xml", "Idempotency-Key": "K-1"})
    assert r.status_code >= 400 and values["uuid"] not in r.text


def test_the_receptors_answer_is_about_its_own_requests(api: Api):
    """POST /v1/pending/{uuid} looks the UUID up among the caller's own pending cancellations: another
    account's UUID is SAT's 1001 "no pending request" (nothing about the CFDI or its owner)."""
    _, intruders, values = _two_tenants(api)
    r = intruders[0].post(f"/v1/pending/{values['uuid']}", json={"respuesta": "Rechazo"})
    assert r.status_code in (200, 400, 404), r.text
    assert "EKU9003173C9" not in r.text and "URE180429TM6" not in r.text


# SOAP operations that name one object (a UUID, a referencia, a sello): (service path, operation) -> the
# arguments besides the credentials. Asked by another account with the owner's ids: the protocol's "not
# found" (T103), never the object. Operations that list or stamp act on the caller's own account only.
FEL, FEL_CR = "/WSTimbrado33/WSCFDI33.svc", "/CR33/ConexionRemota.svc"
FK_STAMP, FK_CANCEL, FK_UTIL = ("/servicios/soap/stamp.wsdl", "/servicios/soap/cancel.wsdl",
                                "/servicios/soap/utilities.wsdl")
SOAP_CROSS = {
    (FEL, "ConsultarComplementoTimbre"): {"uUID": "{uuid}"},
    (FEL, "ObtenerAcuseEnvio"): {"uUID": "{uuid}"},
    (FEL, "ObtenerAcuseCancelacion"): {"uUID": "{uuid}"},
    (FEL, "ObtenerPDF"): {"uUID": "{uuid}"},
    (FEL, "ConsultarTimbrePorReferencia"): {"referencia": "{referencia}"},
    (FEL, "ConsultarTimbrePorSello"): {"sello": "{sello}"},
    (FEL, "EstatusCancelacionAsincrona"): {"referencia": "{uuid}"},
    (FK_STAMP, "query_pending"): {"uuid": "{uuid}"},
    **{(FEL_CR, f"{op}{v}"): {"uuid": "{uuid}"} for v in ("", "40")
       for op in ("ObtenerXMLPorUUID", "ObtenerXMLyAddendaPorUUID", "ObtenerPDF", "ObtenerAcuseEnvio",
                  "ObtenerAcuseCancelacion")},
    **{(FEL_CR, f"ObtenerXMLPorReferencia{v}"): {"referencia": "{referencia}"} for v in ("", "40")},
    (FK_UTIL, "get_xml"): {"uuid": "{uuid}", "taxpayer_id": "EKU9003173C9", "invoice_type": "I"},
    (FK_CANCEL, "get_receipt"): {"uuid": "{uuid}", "taxpayer_id": "EKU9003173C9", "type": "R"},
}
# Operations whose id parameter is checked elsewhere or names nothing of an account: cancelling another's
# UUID (tests/api/test_soap_*.py: T103/SAT's "not found" per folio), the receptor's answers (the caller's own
# pending list), related CFDI and SAT status (SAT's public services, with RFC and total); TimbrarCFDI's
# referencia is per account (another account's same referencia is a stamp of its own: tests/reliability/
# test_retries.py).
SOAP_ELSEWHERE = {"TimbrarCFDI", "CancelarCFDI", "CancelacionAsincrona", "CancelarCFDIConValidacion", "CancelarCFDIs",
                  "CancelarCFDIsConValidacion", "CancelarCFDIsV4", "ProcesarAceptacionRechazo",
                  "ProcesarSolicitudesCancelacion", "ConsultarComprobantesRelacionados", "cancel", "sign_cancel",
                  "accept_reject", "get_related", "get_sat_status"}
_ID_PARAM = re.compile(r"(?i)^(uuids?|referencia|sello|uuids_ar)$")


def test_every_soap_operation_with_an_id_is_in_the_tenancy_table():
    for path, ep in soap_endpoints().items():
        for op in ep.service.ops:
            if any(_ID_PARAM.match(p.name) for p in op.params):
                assert any(o == op.name for _, o in SOAP_CROSS) or op.name in SOAP_ELSEWHERE, (path, op.name)


def test_no_soap_operation_reaches_another_accounts_object(api: Api):
    from lxml import etree

    from tests.api.soap_clients import zeep_client

    owner, intruders, values = _two_tenants(api)
    xml = owner.get(f"/v1/cfdi/{values['uuid']}/xml").content
    values["sello"] = etree.fromstring(xml).get("Sello")
    creds = {FEL: ("usuario", "password"), FK_STAMP: ("username", "password"), FK_UTIL: ("username", "password"),
             FK_CANCEL: ("username", "password")}
    clients = {}
    for (path, op), args in SOAP_CROSS.items():
        if path not in clients:
            clients[path] = zeep_client(api.client(), path).service
        filled = {k: v.format(**values) for k, v in args.items()}
        if path == FEL_CR:
            def call(user, pw, op=op, path=path, filled=filled):
                return getattr(clients[path], op)(credenciales={"Usuario": user, "Password": pw}, **filled)
        else:
            def call(user, pw, op=op, path=path, filled=filled, u=creds[path][0], p=creds[path][1]):
                return getattr(clients[path], op)(**{u: user, p: pw}, **filled)
        got = call("otra-empresa", PASSWORD)
        text = str(got)
        assert any(w in text.lower() for w in ("t103", "no encontrado", "not found")), (op, text[:400])
        assert "<cfdi:Comprobante" not in text and "TimbreFiscalDigital" not in text, (op, text[:400])
        # and the owner does get it (the ids are real; acuses and cancellation states exist later)
        if not any(w in op for w in ("Acuse", "Estatus", "receipt", "pending")):
            assert str(call(api.demo.username, api.demo.password)) != text, op


# --- brute force: wrong API keys from one address ----------------------------------------------------------

def test_wrong_api_keys_from_one_address_are_throttled_rest_and_soap(api: Api):
    from fastapi.testclient import TestClient

    from tests.api.soap_clients import zeep_client

    api.pac.accounts.key_throttle.per_client = 5
    guesser = TestClient(api.app, client=("203.0.113.7", 4000))
    wrong = [f"tbk_{i:012x}_{'x' * 43}" for i in range(5)]
    for k in wrong:
        r = guesser.get("/v1/me", headers={"X-API-Key": k})
        assert r.status_code == 401 and r.json()["code"] == "T101"
    r = guesser.get("/v1/me", headers={"X-API-Key": "tbk_000000000009_" + "y" * 43})
    assert r.status_code == 429 and r.json()["code"] == "T224", r.text
    assert int(r.headers["Retry-After"]) > 0 and r.json()["message_en"]
    r = guesser.get("/v1/me", headers={"Authorization": "Bearer nope"})  # Bearer is the same key
    assert r.status_code == 429 and r.json()["code"] == "T224"
    # SOAP from the same address: the key as the password is refused in the protocol's shape, with T224
    fel = zeep_client(guesser, "/WSTimbrado33/WSCFDI33.svc").service
    got = fel.ConsultarTimbrePorReferencia(usuario="", password="tbk_00000000000a_" + "z" * 43, referencia="x")
    assert got.OperacionExitosa is False and got.CodigoRespuesta == "T224", got
    # the right key from another address still works (and passwords are a separate throttle)
    assert api.erp().get("/v1/me").status_code == 200
    assert api.basic(api.demo.username, api.demo.password).get("/v1/me").status_code == 200
    guesser.close()


def test_wrong_api_keys_over_soap_count_too(api: Api):
    from fastapi.testclient import TestClient

    from tests.api.soap_clients import zeep_client

    api.pac.accounts.key_throttle.per_client = 3
    guesser = TestClient(api.app, client=("198.51.100.9", 4000))
    fk = zeep_client(guesser, "/servicios/soap/utilities.wsdl").service
    for i in range(3):
        assert fk.datetime(username="", password=f"tbk_{i:012x}_{'x' * 43}").error.startswith("T101")
    assert fk.datetime(username="", password="tbk_0000000000ff_" + "x" * 43).error.startswith("T224")
    r = guesser.get("/v1/me", headers={"X-API-Key": "tbk_0000000000fe_" + "x" * 43})
    assert r.status_code == 429 and r.json()["code"] == "T224"
    other = TestClient(api.app, client=("198.51.100.10", 4000))
    assert zeep_client(other, "/servicios/soap/utilities.wsdl").service.datetime(
        username="", password=api.demo.api_key).error is None
    guesser.close()
    other.close()


# --- security headers on every answer --------------------------------------------------------------------

BASE_HEADERS = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "same-origin"}


def _secure_headers(r, where) -> None:
    for k, v in BASE_HEADERS.items():
        assert r.headers.get(k) == v, (where, k, dict(r.headers))
    if r.headers.get("content-type", "").startswith("text/html"):
        csp = r.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "object-src 'none'" in csp, where
        assert "unsafe-inline" not in csp.split("style-src")[0], (where, csp)  # never for scripts


def test_security_headers_on_every_kind_of_answer(api: Api):
    anonymous, erp = api.client(), api.erp()
    answers = {
        "REST 200": erp.get("/v1/me"), "REST 401": anonymous.get("/v1/me"), "REST 404": erp.get("/v1/nada"),
        "REST 400": erp.post("/v1/stamp", content=b"<x", headers={"Content-Type": "application/xml"}),
        "REST 413": erp.post("/v1/stamp", content=b"x" * (api.pac.settings.max_request_bytes + 70_000),
                             headers={"Content-Type": "application/xml"}),
        "healthz": anonymous.get("/healthz"), "openapi": anonymous.get("/openapi.json"),
        "SOAP WSDL": anonymous.get("/servicios/soap/stamp.wsdl"),
        "SOAP fault": anonymous.post("/servicios/soap/stamp.wsdl", content=b"<nope/>"),
        "portal login": anonymous.get("/login"), "portal home": anonymous.get("/"),
        "portal redirect": anonymous.get("/portal", follow_redirects=False),
        "portal 404": anonymous.get("/portal/no-existe", follow_redirects=False),
        "docs": anonymous.get("/docs"), "static": anonymous.get("/static/swagger-ui/swagger-ui-bundle.js"),
    }
    for where, r in answers.items():
        _secure_headers(r, where)
    assert "strict-transport-security" not in answers["REST 200"].headers  # TIMBRA_HSTS_SECONDS=0: none
    # an unexpected error (T900, answered by the outermost error middleware) too
    from fastapi.testclient import TestClient

    def broken(*_a, **_k):
        raise RuntimeError("boom")

    api.pac.credits.balance = broken
    c = TestClient(api.app, raise_server_exceptions=False, headers={"X-API-Key": api.demo.api_key})
    r = c.get("/v1/credits")
    c.close()
    assert r.status_code == 500 and r.json()["code"] == "T900" and "boom" not in r.text
    _secure_headers(r, "T900")
    assert answers["portal login"].headers["content-type"].startswith("text/html")
    assert answers["portal login"].headers["cache-control"] == "no-store"


def test_docs_work_offline_under_their_csp(api: Api):
    """/docs loads Swagger UI from timbra's own /static (no CDN), its one inline script is allowed by hash (not
    'unsafe-inline'), and every file it names is served."""
    import base64 as b64
    import hashlib

    c = api.client()
    page = c.get("/docs")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    scripts = re.findall(r"<script>(.*?)</script>", page.text, re.S)
    assert len(scripts) == 1
    digest = b64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp and "script-src 'self' 'sha256-" in csp
    assert "http://" not in page.text and "https://" not in page.text  # nothing from outside
    for url in re.findall(r'(?:src|href)="([^"]+)"', page.text):
        assert url.startswith("/static/"), url
        assert c.get(url).status_code == 200, url
    assert c.get("/openapi.json").status_code == 200


def test_hsts_when_configured(api: Api):
    import dataclasses

    from fastapi.testclient import TestClient

    from timbra.api.app import create_app

    original = api.pac.settings
    api.pac.settings = dataclasses.replace(original, hsts_seconds=31536000)
    try:
        app = create_app(api.pac, manage_lifecycle=False)
    finally:
        api.pac.settings = original
    c = TestClient(app)
    for path in ("/v1/me", "/login", "/docs", "/servicios/soap/stamp.wsdl", "/healthz"):
        assert c.get(path).headers["strict-transport-security"] == "max-age=31536000", path
    c.close()


@pytest.mark.parametrize("behind_proxy", [False, True])
def test_throttles_count_the_forwarded_client_only_from_the_configured_proxy(api: Api, behind_proxy: bool):
    """Behind the reverse proxy (FORWARDED_ALLOW_IPS: uvicorn believes X-Forwarded-For from it) one client's
    wrong keys do not throttle the others behind the proxy; without it a client cannot pick its address with
    that header."""
    import httpx

    from tests.reliability.test_retries import serving

    options = {"proxy_headers": True, "forwarded_allow_ips": "127.0.0.1"} if behind_proxy else \
        {"proxy_headers": False}
    api.pac.accounts.key_throttle.per_client = 3
    with serving(api.app, **options) as url, httpx.Client(base_url=url) as c:
        for i in range(3):
            r = c.get("/v1/me", headers={"X-API-Key": f"tbk_{i:012x}_{'x' * 43}", "X-Forwarded-For": "192.0.2.1"})
            assert r.status_code == 401
        r = c.get("/v1/me", headers={"X-API-Key": "tbk_0000000000ff_" + "x" * 43, "X-Forwarded-For": "192.0.2.1"})
        assert r.status_code == 429 and r.json()["code"] == "T224"
        other = c.get("/v1/me", headers={"X-API-Key": "tbk_0000000000fe_" + "x" * 43,
                                         "X-Forwarded-For": "192.0.2.2"})
        assert other.status_code == (401 if behind_proxy else 429), other.text


def test_the_manual_under_its_csp(api: Api, tmp_path):
    """/manual: MkDocs' pages keep their one inline script (`base_url`), allowed by its hash; built or not, the
    answer has the security headers of every page."""
    import base64 as b64
    import hashlib

    from fastapi.testclient import TestClient
    from starlette.applications import Starlette
    from starlette.routing import Mount as StarletteMount

    from timbra.api.app import Manual, SecurityHeaders

    r = api.client().get("/manual/")  # built or not (a page saying how to build it)
    _secure_headers(r, "manual")
    script = b'var base_url = ".",\n shortcuts = {"help": 191};'
    (tmp_path / "index.html").write_bytes(b"<!doctype html><html><head><script src=\"js/base.js\"></script>"
                                          b"<script>" + script + b"</script></head><body>x</body></html>")
    (tmp_path / "base.css").write_text("body{}")
    app = SecurityHeaders(Starlette(routes=[StarletteMount("/manual", Manual(tmp_path))]))
    c = TestClient(app)
    page = c.get("/manual/")
    digest = b64.b64encode(hashlib.sha256(script).digest()).decode()
    assert page.status_code == 200 and f"'sha256-{digest}'" in page.headers["content-security-policy"]
    _secure_headers(page, "built manual")
    assert "content-security-policy" not in c.get("/manual/base.css").headers  # a CSP is for pages
