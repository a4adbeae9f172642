"""Hostile input at the adapters: REST (JSON issue endpoints, query and path parameters, bodies), SOAP
(envelopes and parameters) and the portal's forms. Property-based (hypothesis) on one app over SQLite per
module; PostgreSQL for the values it cannot store (NUL). Every answer is a success or a coded error with
Spanish and English texts: never a 500 (T900), a traceback, libxml2's words or a file's content.
"""
from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.test_rest import Api, data_dir, emisor_csd, running  # noqa: F401 - fixtures
from tests.reliability.hostile import assert_coded_json, assert_page, assert_soap_answer
from tests.reliability.test_hostile_xml import NASTY_TEXT, _Hits, attacks, listener  # noqa: F401 - fixture
from timbra.api.soap import endpoints
from timbra.cfdi import cancellation
from timbra.clock import SYSTEM
from timbra.store.db import Database

PROPERTY = settings(max_examples=50, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"


@pytest.fixture(scope="module")
def api(data_dir, emisor_csd, tmp_path_factory) -> Iterator[Api]:  # noqa: F811
    """One app on SQLite for the whole module (hypothesis runs many examples against it)."""
    url = f"sqlite:///{(tmp_path_factory.mktemp('hostile') / 'timbra.db').as_posix()}"
    db = Database(url)
    db.upgrade()
    db.dispose()
    with running(data_dir, url, emisor_csd, SYSTEM) as a:
        yield a


def upload_csd(client: TestClient, api: Api) -> None:
    """The sandbox CSD in the vault, so that /v1/issue builds, seals and stamps (the fuzz reaches the builder)."""
    from tests.api.test_issue import upload_csd as upload

    upload(client, api.csd)
    r = client.post("/v1/issue", json=INVOICE)
    assert r.status_code == 201, r.text


@pytest.fixture(scope="module")
def erp(api) -> TestClient:
    c = TestClient(api.app, raise_server_exceptions=False, headers={"X-API-Key": api.demo.api_key})
    upload_csd(c, api)
    yield c
    c.close()


@pytest.fixture(scope="module")
def anon(api) -> TestClient:
    c = TestClient(api.app, raise_server_exceptions=False)
    yield c
    c.close()


# --- JSON values and shapes ----------------------------------------------------------------------------------

JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30),
                         st.floats(allow_nan=False, allow_infinity=False), NASTY_TEXT,
                         st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x1f), max_size=5))
JSON = st.recursive(JSON_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                          st.dictionaries(NASTY_TEXT, inner, max_size=4)),
                    max_leaves=12)
RECEPTOR = {"Rfc": "URE180429TM6", "Nombre": "UNIVERSIDAD ROBOTICA ESPAÑOLA", "DomicilioFiscalReceptor": "86991",
            "RegimenFiscalReceptor": "601", "UsoCFDI": "G03"}
INVOICE = {"Serie": "H", "Folio": "1", "FormaPago": "03", "MetodoPago": "PUE", "LugarExpedicion": "06000",
           "Emisor": {"Rfc": "EKU9003173C9", "RegimenFiscal": "601"}, "Receptor": RECEPTOR,
           "Conceptos": [{"ClaveProdServ": "43232408", "Cantidad": "1", "ClaveUnidad": "E48",
                          "Descripcion": "Licencia", "ValorUnitario": "100.00", "ObjetoImp": "02",
                          "Impuestos": {"Traslados": [{"Impuesto": "002", "TipoFactor": "Tasa",
                                                       "TasaOCuota": "0.160000"}]}}]}
FIELDS = ["Serie", "Folio", "FormaPago", "MetodoPago", "LugarExpedicion", "Moneda", "TipoCambio", "Exportacion",
          "referencia", "Emisor", "Receptor", "Conceptos"]


def _paths(value, prefix=()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(_paths(v, (*prefix, i)))
    return out


def _replace(value, path: tuple, new):
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replace(value[head], rest, new)}
    return [_replace(v, rest, new) if i == head else v for i, v in enumerate(value)]


@PROPERTY
@given(path=st.sampled_from(["/v1/issue", "/v1/issue/nomina", "/v1/issue/pagos"]), body=JSON)
def test_any_json_to_the_issue_endpoints_is_coded(erp, path, body):
    assert_coded_json(erp.post(path, json=body), ok=(200, 201))


@PROPERTY
@given(data=st.data())
def test_a_valid_invoice_with_one_value_replaced_is_stamped_or_coded(erp, data):
    paths = _paths(INVOICE)
    where = data.draw(st.sampled_from(paths[1:]))
    body = _replace(INVOICE, where, data.draw(JSON))
    if data.draw(st.booleans()):
        body = {**body, data.draw(st.sampled_from(FIELDS)): data.draw(JSON)}
    assert_coded_json(erp.post("/v1/issue", json=body), ok=(200, 201))


@PROPERTY
@given(body=st.binary(max_size=300), ctype=st.sampled_from(["application/json", "application/xml", "text/plain",
                                                              "", "application/json; charset=latin-1"]),
       path=st.sampled_from(["/v1/issue", "/v1/stamp", "/v1/validate", "/v1/verify", "/v1/cancel",
                             "/v1/issue/pagos", "/v1/apikeys", "/v1/password", "/v1/csd", "/v1/accounts"]))
def test_any_body_to_any_post_is_coded(erp, body, ctype, path):
    headers = {"Content-Type": ctype} if ctype else {}
    assert_coded_json(erp.post(path, content=body, headers=headers), ok=(200, 201))


# --- query and path parameters ---------------------------------------------------------------------------------

PARAM = st.one_of(NASTY_TEXT, st.sampled_from(["٣", "²", "-1", "0", "9" * 30, "2026-13-45", "2026-01-01T00:00:00",
                                               "vigente", "csv", "json", "I", "%00", "\x00", "null", "[]"]))
GETS = {"/v1/cfdi": ["stamped_from", "stamped_to", "issued_from", "issued_to", "rfc_receptor", "tipo", "status",
                     "cursor", "limit", "account_id", "format"],
        "/v1/events": ["after_id", "limit", "account_id"],
        "/v1/pending": ["account_id"],
        "/v1/status": ["expression", "re", "rr", "tt", "id"],
        "/v1/credits": ["account_id"], "/v1/csd": ["account_id"], "/v1/branding": ["account_id"],
        "/v1/accounts": ["account_id"], "/v1/apikeys": ["x"], "/v1/me": ["x"]}
PATHS = ["/v1/cfdi/{}", "/v1/cfdi/{}/xml", "/v1/cfdi/{}/status", "/v1/cfdi/{}/events", "/v1/cfdi/{}/related",
         "/v1/cfdi/{}/acuse-envio", "/v1/cfdi/{}/acuse-cancelacion", "/v1/cfdi/{}/pdf", "/v1/issue/{}",
         "/v1/accounts/{}", "/v1/accounts/{}/credits"]


@PROPERTY
@given(data=st.data())
def test_any_query_parameters_are_coded(erp, data):
    route = data.draw(st.sampled_from(sorted(GETS)))
    params = data.draw(st.dictionaries(st.sampled_from(GETS[route]), PARAM, max_size=4))
    assert_coded_json(erp.get(route, params=params), ok=(200,))


@PROPERTY
@given(path=st.sampled_from(PATHS), value=PARAM.filter(lambda v: v not in ("", ".", "..")),
       account_id=st.one_of(st.none(), PARAM))
def test_any_path_parameter_is_coded(erp, path, value, account_id):
    params = {} if account_id is None else {"account_id": account_id}
    r = erp.get(path.format(quote(value.encode("utf-8", "surrogatepass"), safe="")), params=params)
    assert_coded_json(r, ok=(200,))


@pytest.mark.parametrize("digit", ["٣", "²", "１", "𝟙", "߃"])
def test_unicode_digits_in_ids_are_t100(erp, digit):
    for path in (f"/v1/accounts/{digit}", f"/v1/events?after_id={digit}", f"/v1/cfdi?account_id={digit}",
                 f"/v1/cfdi?limit={digit}"):
        assert assert_coded_json(erp.get(path))["code"] == "T100", path
    assert assert_coded_json(erp.delete(f"/v1/apikeys/{digit}"))["code"] == "T100"


@pytest.mark.parametrize("value", ["x\x01y", "a\x00b", "\x1f", "\ufffe"])
def test_characters_xml_cannot_hold_in_issued_data_are_t131(erp, value):
    for body in ({**INVOICE, "Receptor": {**RECEPTOR, "Nombre": value}},
                 {**INVOICE, "Conceptos": [{**INVOICE["Conceptos"][0], "Descripcion": value}]}):
        found = assert_coded_json(erp.post("/v1/issue", json=body))
        assert found["code"] == "T131" and found["findings"][0]["message_en"], found
        assert found["findings"][0]["node"] in ("Receptor.Nombre", "Concepto.Descripcion"), found


def test_validation_findings_speak_both_languages(erp):
    body = assert_coded_json(erp.post("/v1/issue", json={**INVOICE, "Conceptos": "x", "Serie": 5}))
    assert body["code"] == "T130"
    for f in body["findings"]:
        assert f["message"] and f["message_en"] and f["message"] != f["message_en"], f


# --- large inputs: T107 ---------------------------------------------------------------------------------------

MB25 = 25 * 1024 * 1024


def test_a_25_mb_body_is_t107(erp, anon):
    xml = b'<cfdi:Comprobante xmlns:cfdi="http://www.sat.gob.mx/cfd/4" Version="4.0" Serie="' + b"A" * MB25 + b'"/>'
    for path in ("/v1/stamp", "/v1/validate", "/v1/cancel"):
        r = erp.post(path, content=xml, headers={"Content-Type": "application/xml"})
        assert assert_coded_json(r)["code"] == "T107", path
    data = json.dumps({**INVOICE, "Serie": "A" * MB25}).encode()
    for path in ("/v1/issue", "/v1/issue/nomina", "/v1/issue/pagos"):
        r = erp.post(path, content=data, headers={"Content-Type": "application/json"})
        assert assert_coded_json(r)["code"] == "T107", path
    for body in (b"<" + b"A" * 30 * 1024 * 1024, _envelope("http://facturacion.finkok.com/stamp", "stamp",
                                                            {"xml": "A" * MB25})):
        r = anon.post("/servicios/soap/stamp.wsdl", content=body, headers={"Content-Type": "text/xml"})
        assert "T107" in r.text, r.text[:300]


def test_20000_conceptos_are_t107(erp):
    body = {**INVOICE, "Conceptos": INVOICE["Conceptos"] * 20_000}
    found = assert_coded_json(erp.post("/v1/issue", json=body))
    assert found["code"] == "T107" and found["detail"]["max_conceptos"] == 10_000


def test_large_documents_are_t107_not_301(erp):
    head = b'<cfdi:Comprobante xmlns:cfdi="http://www.sat.gob.mx/cfd/4" Version="4.0">'
    tail = b"</cfdi:Comprobante>"
    for doc in (head + b"<cfdi:a>" * 10_000 + b"</cfdi:a>" * 10_000 + tail,
                head + b"<cfdi:Addenda>" + b"A" * 20_000_000 + b"</cfdi:Addenda>" + tail,
                head + b"<a/>" * 1_000_001 + tail):
        for path in ("/v1/stamp", "/v1/validate"):
            r = erp.post(path, content=doc, headers={"Content-Type": "application/xml"})
            body = assert_coded_json(r, ok=(200,))
            codes = [body["code"]] if "code" in body else [f["code"] for f in body["findings"]]
            assert codes == ["T107"], (path, body)


# --- libxml2's words never reach a client -------------------------------------------------------------------

MALFORMED = [b"<a><b></a>", b"<cfdi:Comprobante", b"<a>&x;</a>", b'<a x="1" x="2"/>', b"<a/><b/>"]


@pytest.mark.parametrize("xml", MALFORMED)
def test_malformed_xml_is_answered_in_our_words(erp, anon, xml):
    for path in ("/v1/stamp", "/v1/validate", "/v1/verify", "/v1/cancel"):
        r = erp.post(path, content=xml, headers={"Content-Type": "application/xml"})
        assert_coded_json(r, ok=(200,))
    for path in ("/servicios/soap/stamp.wsdl", "/WSTimbrado33/WSCFDI33.svc", "/CR33/ConexionRemota.svc"):
        assert_soap_answer(anon.post(path, content=xml, headers={"Content-Type": "text/xml"}))


def test_schema_errors_over_rest_are_in_our_words(api, erp):
    xml = re.sub(rb' Total="[^"]*"', b' Total="1.2.3"', api.document("SCHEMA"), count=1)
    r = erp.post("/v1/validate", content=xml, headers={"Content-Type": "application/xml"})
    body = assert_coded_json(r, ok=(200,))
    [f] = [f for f in body["findings"] if f["code"] == "301"]
    assert "Total" in f["detail"] and "Total" in f["detail_en"]


# --- SOAP -------------------------------------------------------------------------------------------------

SERVICES = {path: ep for path, ep in endpoints().items() if not path.endswith(".wsdl") and "Test" not in path}


def _envelope(ns: str, op: str, params: dict[str, str]) -> bytes:
    from xml.sax.saxutils import escape

    inner = "".join(f"<t:{k}>{escape(v)}</t:{k}>" for k, v in params.items())
    return (f'<s:Envelope xmlns:s="{SOAP11}"><s:Body><t:{op} xmlns:t="{ns}">{inner}</t:{op}></s:Body>'
            f"</s:Envelope>").encode()


XML_TEXT = NASTY_TEXT.filter(lambda t: all(c in "\t\n\r" or 0x20 <= ord(c) < 0xD800 or 0xE000 <= ord(c) < 0xFFFE
                                           or ord(c) > 0xFFFF for c in t))


@PROPERTY
@given(data=st.data())
def test_any_soap_operation_with_any_parameters_is_answered(anon, api, data):
    path = data.draw(st.sampled_from(sorted(SERVICES)))
    service = SERVICES[path].service
    op = data.draw(st.sampled_from(service.ops))
    params = {}
    for p in op.params:
        if data.draw(st.booleans()):
            if p.name in ("username", "usuario", "Usuario", "UserName") and data.draw(st.booleans()):
                params[p.name] = api.demo.username
            elif p.name.lower() in ("password", "contrasena", "contraseña") and data.draw(st.booleans()):
                params[p.name] = api.demo.password
            else:
                params[p.name] = data.draw(XML_TEXT)
    assert_soap_answer(anon.post(path, content=_envelope(service.tns, op.name, params),
                                 headers={"Content-Type": "text/xml; charset=utf-8"}))


@PROPERTY
@given(body=st.one_of(st.binary(max_size=300), st.text(max_size=200).map(lambda t: t.encode("utf-8", "replace"))),
       path=st.sampled_from(sorted(SERVICES)))
def test_any_bytes_to_a_soap_endpoint_are_a_fault(anon, body, path):
    assert_soap_answer(anon.post(path, content=body, headers={"Content-Type": "text/xml"}))


@pytest.mark.parametrize("name", list(attacks("http://127.0.0.1:1")))
def test_soap_envelope_attacks_are_refused(anon, listener, name):  # noqa: F811
    xml = attacks(listener, b"s:Envelope", SOAP11.encode())[name]
    before = len(_Hits.hits)
    r = anon.post("/servicios/soap/stamp.wsdl", content=xml, headers={"Content-Type": "text/xml"})
    assert_soap_answer(r)
    assert r.status_code == 500 and re.search(r"<code>T(200|107)</code>", r.text), r.text
    assert len(_Hits.hits) == before


# --- cancellation XML over REST --------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(attacks("http://127.0.0.1:1")))
def test_cancel_attacks_are_refused(erp, listener, name):  # noqa: F811
    xml = attacks(listener, b"c:Cancelacion", b"http://cancelacfd.sat.gob.mx")[name]
    before = len(_Hits.hits)
    body = assert_coded_json(erp.post("/v1/cancel", content=xml, headers={"Content-Type": "application/xml"}))
    assert body["code"] in ("301", "302", "T107")
    assert len(_Hits.hits) == before


def test_text_in_signed_info_over_rest_is_302(api, erp):
    from lxml import etree

    signed = cancellation.sign_cancelacion(api.csd, datetime.now(timezone.utc),
                                           [cancellation.Folio("11111111-2222-3333-4444-000000000001", "02")])
    root = etree.fromstring(signed)
    root.find(".//{http://www.w3.org/2000/09/xmldsig#}SignedInfo").text = "hola"
    body = assert_coded_json(erp.post("/v1/cancel", content=etree.tostring(root),
                                      headers={"Content-Type": "application/xml"}))
    assert body["code"] == "302"


# --- the portal's forms -----------------------------------------------------------------------------------

def _csrf(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html[:300]
    return m.group(1)


@pytest.fixture(scope="module")
def portal(api) -> TestClient:
    c = TestClient(api.app, raise_server_exceptions=False)
    r = c.post("/login", data={"csrf": _csrf(c.get("/login").text), "username": api.demo.username,
                               "password": api.demo.password})
    assert r.status_code in (200, 303), r.text[:300]
    yield c
    c.close()


FORM_TEXT = st.one_of(NASTY_TEXT, st.text(max_size=30), st.sampled_from(["\x00", "٣", "²", "a\x00b", "-1"]))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])  # argon2 per login
@given(username=FORM_TEXT, password=FORM_TEXT, nxt=FORM_TEXT)
def test_any_login_form_is_a_page(anon, username, password, nxt):
    token = _csrf(anon.get("/login").text)
    assert_page(anon.post("/login", data={"csrf": token, "username": username, "password": password, "next": nxt}))


@PROPERTY
@given(uuid=FORM_TEXT, re_=FORM_TEXT, rr=FORM_TEXT, kind=st.sampled_from(["", "/xml", "/pdf", "/x"]))
def test_any_consulta_form_is_a_page(anon, uuid, re_, rr, kind):
    token = _csrf(anon.get("/consulta").text)
    r = anon.post(f"/consulta{kind}", data={"csrf": token, "uuid": uuid, "rfc_emisor": re_, "rfc_receptor": rr})
    assert_page(r)
    assert "T212" not in r.text, r.text[:300]


@PROPERTY
@given(params=st.dictionaries(st.sampled_from(["desde", "hasta", "receptor", "folio", "tipo", "estado", "orden",
                                               "dir", "pagina"]), FORM_TEXT, max_size=5),
       path=st.sampled_from(["/portal", "/portal/cfdi", "/portal/cfdi/filas", "/portal/cfdi/descarga.csv"]))
def test_any_search_filter_is_a_page(portal, params, path):
    assert_page(portal.get(path, params=params))


# --- PostgreSQL: values it cannot store ---------------------------------------------------------------------

def test_nul_and_control_characters_on_postgresql(data_dir, emisor_csd, postgres_schema):  # noqa: F811
    from tests.conftest import POSTGRES_URL, _with_schema
    from timbra.store.models import Base

    url = _with_schema(POSTGRES_URL, postgres_schema)
    db = Database(url)
    with db.engine.begin() as c:
        c.exec_driver_sql(f"TRUNCATE {', '.join(t.name for t in Base.metadata.sorted_tables)} RESTART IDENTITY "
                          "CASCADE")
    db.dispose()
    with running(data_dir, url, emisor_csd, SYSTEM) as a:
        erp = a.erp()
        upload_csd(erp, a)
        for value in ("a\x00b", "\x00", "x\x01\x1f\x7f"):
            for r in (erp.get("/v1/cfdi", params={"rfc_receptor": value, "issued_from": value}),
                      erp.get(f"/v1/cfdi/{quote(value)}"), erp.get(f"/v1/issue/{quote(value)}"),
                      erp.post("/v1/apikeys", json={"name": value}),
                      erp.post("/v1/issue", json={**INVOICE, "referencia": value}),
                      erp.post("/v1/issue", json={**INVOICE, "Receptor": {**RECEPTOR, "Nombre": value}})):
                assert_coded_json(r, ok=(200, 201))
            assert erp.get(f"/v1/cfdi/{quote(value)}").status_code in (400, 404)
        c = a.client()
        token = _csrf(c.get("/login").text)
        assert_page(c.post("/login", data={"csrf": token, "username": "demo\x00", "password": "x\x00" * 6}))
        token = _csrf(c.get("/consulta").text)
        assert_page(c.post("/consulta", data={"csrf": token, "uuid": "\x00", "rfc_emisor": "\x00",
                                               "rfc_receptor": "\x00"}))
        r = c.post("/servicios/soap/stamp.wsdl", content=_envelope(
            "http://facturacion.finkok.com/stamp", "stamp", {"username": "demo\ufffd", "password": "x"}).replace(
            "demo\ufffd".encode(), b"demo&#x1;"), headers={"Content-Type": "text/xml"})
        assert_soap_answer(r)


def test_schema_errors_over_soap_are_in_both_languages(api, anon):
    from timbra.api.soap import fel_timbrado

    xml = re.sub(rb' Total="[^"]*"', b' Total="1.2.3"', api.document("SOAP-SCHEMA"), count=1).decode()
    service = fel_timbrado.ENDPOINT.service
    names = [p.name for p in service.ops_map["TimbrarCFDI"].params]
    params = dict(zip(names, [api.demo.username, api.demo.password, xml, "hostil-1"], strict=False))
    r = anon.post("/WSTimbrado33/WSCFDI33.svc", content=_envelope(service.tns, "TimbrarCFDI", params),
                  headers={"Content-Type": "text/xml; charset=utf-8"})
    assert_soap_answer(r)
    assert r.status_code == 200 and "301" in r.text and "Total" in r.text, r.text[:1000]
    assert "línea" in r.text and "line" in r.text, r.text[:1000]


EMITIR_FIELDS = ["serie", "folio", "forma_pago", "metodo_pago", "moneda", "lugar_expedicion", "emisor_rfc",
                 "emisor_regimen", "receptor_rfc", "receptor_nombre", "receptor_cp", "receptor_regimen", "uso_cfdi",
                 "tipo_cambio", "c0_clave", "c0_cantidad", "c0_unidad", "c0_descripcion", "c0_valor", "c0_iva"]
EMITIR = {"forma_pago": "03", "metodo_pago": "PUE", "moneda": "MXN", "lugar_expedicion": "06000",
          "emisor_rfc": "EKU9003173C9", "emisor_regimen": "601", "receptor_rfc": "URE180429TM6",
          "receptor_nombre": "UNIVERSIDAD ROBOTICA ESPAÑOLA", "receptor_cp": "86991", "receptor_regimen": "601",
          "uso_cfdi": "G03", "c0_clave": "43232408", "c0_cantidad": "1", "c0_unidad": "E48",
          "c0_descripcion": "Licencia", "c0_valor": "100", "c0_iva": "16"}


@PROPERTY
@given(data=st.data())
def test_any_portal_form_is_a_page(portal, data):
    form, fields = data.draw(st.sampled_from([
        ("/portal/emitir", EMITIR_FIELDS), ("/portal/apikeys", ["name"]), ("/portal/usuarios", ["username"]),
        ("/portal/cfdi/{}/cancelar", ["motivo", "folio_sustitucion", "cantidad"]),
        ("/portal/pendientes/{}", ["respuesta"]), ("/portal/apikeys/{}/revocar", []),
    ]))
    token = _csrf(portal.get("/portal/apikeys").text)
    values = dict(EMITIR) if form == "/portal/emitir" else {}
    values.update(data.draw(st.dictionaries(st.sampled_from(fields or ["x"]), FORM_TEXT, max_size=4)))
    # never a real id: revoking the module's API key would leave the other tests unauthenticated
    target_id = data.draw(PARAM.filter(lambda v: bool(v) and not (v.isascii() and v.strip().lstrip("+").isdigit())))
    target = form.format(quote(target_id.encode("utf-8", "surrogatepass"), safe=""))
    r = portal.post(target, data={**values, "csrf": token}, follow_redirects=False)
    assert_page(r)
    assert "T212" not in r.text, r.text[:300]  # the form got past CSRF: its fields were read


@pytest.mark.parametrize("name", list(attacks("http://127.0.0.1:1")))
def test_signed_answer_attacks_are_refused(erp, listener, name):  # noqa: F811
    xml = attacks(listener, b"c:SolicitudAceptacionRechazo", b"http://cancelacfd.sat.gob.mx")[name]
    before = len(_Hits.hits)
    body = assert_coded_json(erp.post("/v1/pending/11111111-2222-3333-4444-000000000001", content=xml,
                                      headers={"Content-Type": "application/xml"}))
    assert body["code"] in ("301", "302", "T107")
    assert len(_Hits.hits) == before


@pytest.mark.parametrize("name", list(attacks("http://127.0.0.1:1")))
def test_cancel_signature_attacks_over_soap_are_refused(api, anon, listener, name):  # noqa: F811
    import base64

    xml = attacks(listener, b"c:Cancelacion", b"http://cancelacfd.sat.gob.mx")[name]
    before = len(_Hits.hits)
    r = anon.post("/servicios/soap/cancel", content=_envelope(
        "http://facturacion.finkok.com/cancel", "cancel_signature",
        {"xml": base64.b64encode(xml).decode(), "username": api.demo.username, "password": api.demo.password}),
        headers={"Content-Type": "text/xml"})
    assert_soap_answer(r)
    assert re.search(r"\b(301|302|T107)\b", r.text), r.text[:800]
    assert len(_Hits.hits) == before


HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xff, exclude_characters="\x7f"),
                      max_size=60)


@PROPERTY
@given(auth=st.one_of(HEADER_TEXT, HEADER_TEXT.map(lambda t: "Basic " + t), HEADER_TEXT.map(lambda t: "Bearer " + t),
                      st.binary(max_size=40).map(lambda b: "Basic " + base64.b64encode(b).decode())),
       key=st.one_of(st.none(), HEADER_TEXT), idem=st.one_of(st.none(), HEADER_TEXT),
       ctype=st.one_of(st.none(), HEADER_TEXT),
       path=st.sampled_from(["/v1/me", "/v1/cfdi", "/v1/stamp", "/v1/issue", "/v1/credits"]))
def test_any_headers_are_coded(anon, auth, key, idem, ctype, path):
    headers = {"Authorization": auth.encode("latin-1")}  # bytes: as a client may send them, not only ASCII
    for name, value in (("X-API-Key", key), ("Idempotency-Key", idem), ("Content-Type", ctype)):
        if value is not None:
            headers[name] = value.encode("latin-1")
    method = anon.get if path in ("/v1/me", "/v1/cfdi", "/v1/credits") else anon.post
    kwargs = {} if method == anon.get else {"content": b"<x/>"}
    assert_coded_json(method(path, headers=headers, **kwargs), ok=(200,))


@pytest.fixture(scope="module")
def admin_portal(api) -> TestClient:
    c = TestClient(api.app, raise_server_exceptions=False)
    r = c.post("/login", data={"csrf": _csrf(c.get("/login").text), "username": api.demo.admin_username,
                               "password": api.demo.admin_password})
    assert r.status_code in (200, 303), r.text[:300]
    yield c
    c.close()


NUMBERISH = st.one_of(st.sampled_from(["٣" * 25, "9" * 25, "-" + "9" * 25, "1e9", "0", "-1", "²"]), FORM_TEXT)


@PROPERTY
@given(data=st.data())
def test_any_admin_form_is_a_page(admin_portal, data):
    form, fields = data.draw(st.sampled_from([
        ("/portal/admin/paquetes", {"account_id": NUMBERISH, "size": NUMBERISH, "expiry": FORM_TEXT}),
        ("/portal/admin/distribuidores", {"name": FORM_TEXT, "username": FORM_TEXT}),
        ("/portal/admin/registros/{}/rechazar", {"motivo": FORM_TEXT}),
        ("/portal/admin/registros/{}/aprobar", {}),
    ]))
    values = {k: data.draw(v) for k, v in fields.items() if data.draw(st.booleans())}
    token = _csrf(admin_portal.get("/portal/admin/paquetes").text)
    target = form.format(quote(data.draw(NUMBERISH.filter(bool)).encode("utf-8", "surrogatepass"), safe=""))
    r = admin_portal.post(target, data={**values, "csrf": token}, follow_redirects=False)
    assert_page(r)
    assert "T212" not in r.text, r.text[:300]


@pytest.mark.parametrize("number", ["9" * 25, "٣" * 25, "-" + "9" * 25])
def test_ids_over_64_bits_in_portal_forms_are_t100(admin_portal, number):
    token = _csrf(admin_portal.get("/portal/admin/paquetes").text)
    for path, data in (("/portal/admin/paquetes", {"account_id": number, "size": "10"}),
                       (f"/portal/admin/registros/{quote(number)}/rechazar", {})):
        r = admin_portal.post(path, data={**data, "csrf": token}, follow_redirects=False)
        assert_page(r)
        assert r.status_code in (400, 404, 422) and ("(T100)" in r.text or "(T103)" in r.text), r.status_code
