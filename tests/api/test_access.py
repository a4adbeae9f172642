"""Every route of the app is enumerated: each one refuses a caller without credentials (401 T101; the portal's
pages send a browser to its sign-in instead, 303 to /login), unless it is on the short list of public pages
below. A new route that forgets authentication fails here. (tests/web/test_portal.py enumerates the portal's
routes again, signed in as another account: nothing of one account is reachable by another.)"""
import re

from fastapi.routing import APIRoute
from starlette.routing import Mount, Route

from tests.api.test_rest import Api, api, data_dir, emisor_csd  # noqa: F401 (fixtures)
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
