"""The portal's rules in process (TestClient), on SQLite and PostgreSQL: the session cookie and the security
headers, CSRF on every form, sign-out and a password change ending sessions, the login throttle shared with
HTTP Basic, tenancy on every portal route (enumerated: another account's objects are "not found"), the
receptors' lookup (the same answer unless all three match; throttled), escaping, documents of a
registration, and English."""
from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.test_rest import data_dir  # noqa: F401 - fixture
from tests.web.site import MARKUP, PASSWORD, URE, XIA, Site, csrf_of, site
from timbra.pac.accounts import SYSTEM_PRINCIPAL
from timbra.pac.lookup import FAILED_PER_CLIENT

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def s(request, tmp_path_factory, data_dir: Path) -> Iterator[Site]:  # noqa: F811
    with site(request.param, tmp_path_factory.mktemp(f"portal-{request.param}"), data_dir, serve=False,
              per_day=2) as made, TestClient(made.app):
        yield made


def client(s: Site) -> TestClient:
    return TestClient(s.app, follow_redirects=False)


def signed_in(s: Site, username: str, password: str) -> TestClient:
    c = client(s)
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"csrf": token, "username": username, "password": password})
    assert r.status_code == 303, r.text[:500]
    return c


def form_token(c: TestClient, path: str) -> str:
    return csrf_of(c.get(path).text)


def test_session_cookie_and_security_headers(s: Site):
    c = client(s)
    page = c.get("/login")
    for header in ("content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy"):
        assert header in page.headers
    assert "script-src 'self'" in page.headers["content-security-policy"]
    csrf_cookie = page.headers["set-cookie"]  # the form's CSRF cookie: HttpOnly and SameSite=Strict
    assert "timbra_csrf=" in csrf_cookie and "HttpOnly" in csrf_cookie and "SameSite=strict" in csrf_cookie
    lang = client(s).get("/idioma/en").headers["set-cookie"]
    assert "timbra_lang=en" in lang and "HttpOnly" in lang and "SameSite=lax" in lang and "Secure" not in lang
    r = c.post("/login", data={"csrf": csrf_of(page.text), "username": "demo", "password": s.demo.password})
    cookie = r.headers["set-cookie"]
    assert "timbra_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie and r.headers["location"] == "/portal"
    assert c.get("/portal").headers["cache-control"] == "no-store"
    original = s.pac.settings
    s.pac.settings = dataclasses.replace(original, cookie_secure=True)  # TIMBRA_COOKIE_SECURE=1 behind TLS
    try:
        c2 = client(s)
        r = c2.post("/login", data={"csrf": csrf_of(c2.get("/login").text), "username": "demo",
                                    "password": s.demo.password})
        assert "Secure" in r.headers["set-cookie"]
        assert "Secure" in c2.get("/login").headers["set-cookie"]  # the CSRF cookie too
        assert "Secure" in c2.get("/idioma/es").headers["set-cookie"]
    finally:
        s.pac.settings = original
    # No open redirect after signing in: only a path of this site.
    c3 = client(s)
    r = c3.post("/login", data={"csrf": csrf_of(c3.get("/login").text), "username": "demo",
                                "password": s.demo.password, "next": "//evil.example/x"})
    assert r.headers["location"] == "/portal"


def test_every_form_needs_its_csrf_token_and_origin(s: Site):
    c, other = signed_in(s, "demo", s.demo.password), signed_in(s, "receptor", PASSWORD)
    before = len(s.pac.accounts.list_keys(s.emisor))
    assert c.post("/portal/apikeys", data={"name": "sin token"}).status_code == 403
    assert c.post("/portal/apikeys", data={"name": "ajeno", "csrf": form_token(other, "/portal/apikeys")}
                  ).status_code == 403
    token = form_token(c, "/portal/apikeys")
    r = c.post("/portal/apikeys", data={"name": "otro sitio", "csrf": token},
               headers={"Origin": "http://evil.example"})
    assert r.status_code == 403 and "T212" in r.text
    assert len(s.pac.accounts.list_keys(s.emisor)) == before
    r = c.post("/portal/apikeys", data={"name": "bien", "csrf": token}, headers={"Origin": "http://testserver"})
    assert r.status_code == 201 and "tbk_" in r.text
    assert len(s.pac.accounts.list_keys(s.emisor)) == before + 1


def test_sign_out_and_a_password_change_end_sessions(s: Site):
    s.pac.accounts.add_user(SYSTEM_PRINCIPAL, s.demo.account_id, "auditor", PASSWORD)
    first, second = signed_in(s, "auditor", PASSWORD), signed_in(s, "auditor", PASSWORD)
    token = form_token(first, "/portal/contrasena")
    r = first.post("/portal/contrasena", data={"csrf": token, "current_password": PASSWORD,
                                               "new_password": "otra clave muy larga",
                                               "new_password2": "otra clave muy larga"})
    assert r.status_code == 200 and "Contraseña cambiada" in r.text
    assert second.get("/portal").headers["location"].startswith("/login")  # the other session ended
    assert first.get("/portal").status_code == 200  # this one stays
    stolen = first.cookies.get("timbra_session")
    assert first.post("/logout", data={"csrf": form_token(first, "/portal")}).status_code == 303
    again = client(s)
    again.cookies.set("timbra_session", stolen)
    assert again.get("/portal").status_code == 303  # the cookie's session is gone on the server


def test_login_throttle_is_the_same_as_http_basics(s: Site):
    s.pac.accounts.add_user(SYSTEM_PRINCIPAL, s.demo.account_id, "adivinado", PASSWORD)
    c = client(s)
    for _ in range(10):
        r = c.post("/login", data={"csrf": form_token(c, "/login"), "username": "adivinado", "password": "x" * 12})
        assert r.status_code == 401
    r = c.post("/login", data={"csrf": form_token(c, "/login"), "username": "adivinado", "password": PASSWORD})
    assert r.status_code == 429 and "Retry-After" in r.headers
    api = TestClient(s.app)
    api.auth = ("adivinado", PASSWORD)
    r = api.get("/v1/me")
    assert r.status_code == 429 and r.json()["code"] == "T150"


def _portal_routes(app) -> set[tuple[str, str]]:
    from tests.api.test_access import _routes

    return {(m, p) for m, p in _routes(app) if p.startswith("/portal") and "{" in p}


def test_no_page_of_one_account_is_reachable_by_another(s: Site):
    """Every portal route with an id in its path, asked by a signed-in user of another account with the ids
    of the demo account's objects: not found (or not allowed for the wrong kind of account)."""
    uuid = s.uuids[URE["Rfc"]][0]
    key = s.pac.accounts.create_key(dataclasses.replace(s.emisor, user_id=_user_id(s, "demo")), "mía")
    dist2 = s.pac.accounts.create_account(SYSTEM_PRINCIPAL, kind="distributor", name="Otra distribuidora",
                                          username="otra", password=PASSWORD)
    reg = s.pac.registrations.submit(s.distributor, name="Cliente", rfc="CLI010101AB1", nombre=None, email="",
                                     username="cliente-tenancy",
                                     files=[_upload(k) for k in ("alta", "constancia", "contrato", "pago")])
    file_id = s.pac.registrations.get(s.distributor, reg.id)[1][0].id
    client_of_dist = s.pac.accounts.create_account(s.distributor, kind="emisor", name="Cliente del distribuidor")
    values = {"uuid": uuid, "key_id": key.record.id, "registration_id": reg.id, "file_id": file_id,
              "account_id": client_of_dist.account.id}
    emisor_b, dist_b = signed_in(s, "receptor", PASSWORD), signed_in(s, "otra", PASSWORD)
    checked = set()
    for method, path in sorted(_portal_routes(s.app)):
        if path == "/portal/cfdi/descarga.{fmt}":  # no id: the caller's own selection, checked below
            continue
        concrete = re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path)
        for who in (emisor_b, dist_b):
            data = {"csrf": form_token(who, "/portal/contrasena"), "motivo": "02", "cantidad": "1",
                    "respuesta": "Rechazo", "note": "x"}
            r = who.request(method, concrete, data=data if method == "POST" else None)
            assert r.status_code in (403, 404), (method, path, r.status_code, r.text[:300])
        checked.add((method, path))
    assert len(checked) >= 12
    import io
    import zipfile

    own = emisor_b.get("/portal/cfdi/descarga.zip")
    assert own.status_code == 200 and not any(uuid in n for n in zipfile.ZipFile(io.BytesIO(own.content)).namelist())
    assert uuid not in emisor_b.get("/portal/cfdi/descarga.csv").text
    assert dist_b.get("/portal/cfdi/descarga.zip").status_code == 403
    # ...while their owners reach them.
    demo = signed_in(s, "demo", s.demo.password)
    assert demo.get(f"/portal/cfdi/{uuid}").status_code == 200
    assert signed_in(s, "distribuidor", PASSWORD).get(f"/portal/registros/{reg.id}/archivos/{file_id}").content == PDF
    assert dist2.account.id != s.distributor.account_id


def _user_id(s: Site, username: str) -> int:
    return next(u.id for u in s.pac.accounts.users(SYSTEM_PRINCIPAL, s.demo.account_id) if u.username == username)


def _upload(kind: str, data: bytes = PDF):
    from timbra.pac.registrations import Upload

    return Upload(kind, f"{kind}.pdf", data)


def test_receptor_lookup_says_the_same_unless_all_three_match_and_is_throttled(s: Site):
    uuid = s.uuids[URE["Rfc"]][0]
    c = client(s)

    def ask(u: str, re_: str, rr: str):
        return c.post("/consulta", data={"csrf": form_token(c, "/consulta"), "uuid": u, "rfc_emisor": re_,
                                         "rfc_receptor": rr})

    def body(r) -> str:
        return re.sub(r'value="[^"]*"', "", r.text)  # what was typed is echoed in the form; the rest is equal

    answers = [ask(uuid, "EKU9003173C9", XIA["Rfc"]), ask(uuid, "XIA190128J61", URE["Rfc"]),
               ask("6E1C7E6B-0000-4000-8000-000000000000", "EKU9003173C9", URE["Rfc"])]
    answers = [(r.status_code, body(r)) for r in answers]
    assert {a[0] for a in answers} == {404} and len({a[1] for a in answers}) == 1
    assert "T211" in answers[0][1]
    r = ask(uuid, "EKU9003173C9", URE["Rfc"])
    assert r.status_code == 200 and uuid in r.text
    r = c.post("/consulta/xml", data={"csrf": form_token(c, "/consulta"), "uuid": uuid,
                                      "rfc_emisor": "EKU9003173C9", "rfc_receptor": URE["Rfc"]})
    assert r.content == s.pac.cfdis.xml(s.emisor, uuid) and "attachment" in r.headers["content-disposition"]
    r = c.post("/consulta/pdf", data={"csrf": form_token(c, "/consulta"), "uuid": uuid,
                                      "rfc_emisor": "EKU9003173C9", "rfc_receptor": URE["Rfc"]})
    assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")
    assert uuid.encode() not in r.headers.get("location", "").encode()  # nothing of it in a URL
    assert pdf_text(r.content).count(uuid) >= 1  # the receptor's PDF is that CFDI's representación impresa
    for _ in range(FAILED_PER_CLIENT - 3):
        ask(uuid, "EKU9003173C9", "AAA010101AAA")
    r = ask(uuid, "EKU9003173C9", URE["Rfc"])  # even the right three now wait
    assert r.status_code == 429 and "T210" in r.text and int(r.headers["retry-after"]) > 0


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_emisor_downloads_the_pdf(s: Site):
    c = signed_in(s, "demo", s.demo.password)
    uuid = s.uuids[URE["Rfc"]][0]
    assert 'id="descargar-pdf"' in c.get(f"/portal/cfdi/{uuid}").text
    r = c.get(f"/portal/cfdi/{uuid}/pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content == s.pac.printing.pdf(s.emisor, uuid).pdf and uuid in pdf_text(r.content)
    other = signed_in(s, "receptor", PASSWORD)
    assert other.get(f"/portal/cfdi/{uuid}/pdf").status_code in (403, 404)


def test_markup_is_text_and_english_is_one_click_away(s: Site):
    c = signed_in(s, "demo", s.demo.password)
    html = c.get("/portal/cfdi", params={"receptor": "comercial"}).text
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert MARKUP["Rfc"] in html
    assert c.get("/idioma/en", params={"next": "/portal/cfdi"}).headers["location"] == "/portal/cfdi"
    assert "Invoices" in c.get("/portal/cfdi").text and "Comprobantes" not in c.get("/portal/cfdi").text
    c.get("/idioma/es")
    assert "Comprobantes" in c.get("/portal/cfdi").text


def test_registration_documents_are_checked_and_a_rejection_says_why(s: Site):
    dist = signed_in(s, "distribuidor", PASSWORD)
    token = form_token(dist, "/portal/registros/nuevo")
    fields = {"csrf": token, "name": "Ferretería", "rfc": "FER010101AB1", "username": "ferreteria"}
    files = {f"doc_{k}": (f"{k}.pdf", PDF, "application/pdf") for k in ("alta", "constancia", "contrato")}
    r = dist.post("/portal/registros", data=fields, files={**files, "doc_pago": ("pago.exe", b"MZ\x90\x00", "image/png")})
    assert r.status_code == 422 and "T213" in r.text  # the bytes decide, not the claimed type
    r = dist.post("/portal/registros", data=fields, files=files)
    assert r.status_code == 422 and "Comprobante de pago" in r.text  # the missing one is named
    r = dist.post("/portal/registros", data=fields, files={**files, "doc_pago": ("pago.png", b"\x89PNG\r\n\x1a\n..",
                                                                                   "image/png")})
    assert r.status_code == 303
    reg_id = int(r.headers["location"].split("/")[-1].split("?")[0])
    admin = signed_in(s, "admin", s.demo.admin_password)
    r = admin.post(f"/portal/admin/registros/{reg_id}/rechazar",
                   data={"csrf": form_token(admin, f"/portal/registros/{reg_id}"), "note": "La constancia es ilegible"})
    assert r.status_code == 303
    page = dist.get(f"/portal/registros/{reg_id}").text
    assert "Rechazado" in page and "La constancia es ilegible" in page
    r = admin.post(f"/portal/admin/registros/{reg_id}/aprobar",
                   data={"csrf": form_token(admin, f"/portal/registros/{reg_id}")})
    assert r.status_code == 409 and "T214" in r.text  # decided once
