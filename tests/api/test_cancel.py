"""Cancellation over the REST API, on SQLite and PostgreSQL, against the sandbox SAT: every path of SAT's
2022 state machine (immediate, accepted, rejected, plazo vencido, related documents, motivo 01 with its
substitute, the yearly deadline), the three ways to sign, the refusals (bad signature, another RFC, another
account's UUID, already cancelled, unknown UUID, 501 UUIDs), the receptor's side, status by UUID and by
the QR expression, acuses that verify independently, events, credits and crash safety."""
from __future__ import annotations

import base64
import json
import uuid as uuidlib
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
import xmlsec
from click.testing import CliRunner
from lxml import etree

from tests.api.test_e2e import assert_error
from tests.api.test_rest import PASSWORD, Api, created, data_dir, emisor_csd, ok, running  # noqa: F401 - fixtures
from tests.gateway.sandbox import empty_sandbox
from timbra.cfdi.cancelable import fin_plazo_receptor
from timbra.cfdi.cancellation import Folio, build_cancelacion, sign_cancelacion, sign_element
from timbra.cfdi.credentials import Credential
from timbra.cfdi.sample import sample_invoice
from timbra.cfdi.seal import sign_root
from timbra.cli import main
from timbra.clock import FixedClock
from timbra.gateway import GatewayUnavailable
from timbra.store.models import CancelRequest

NS40 = "http://www.sat.gob.mx/cfd/4"
XIA = {"Rfc": "XIA190128J61", "Nombre": "XENON INDUSTRIAL ARTICLES", "DomicilioFiscalReceptor": "76343",
       "RegimenFiscalReceptor": "601", "UsoCFDI": "G03"}
KEY_PASSWORD = "12345678a"


@pytest.fixture
def sat(data_dir: Path, db_url: str, emisor_csd: Credential) -> Iterator[Api]:  # noqa: F811
    """The PAC on a clock the test moves (from the real now: the sandbox CSDs' validity) with an empty
    sandbox SAT and EKU9003173C9's CSD in the demo account's vault; the delivery and cancellation worker is
    run by the tests (`drain`)."""
    clock = FixedClock(datetime.now(timezone.utc).replace(microsecond=0))
    with running(data_dir, db_url, emisor_csd, clock) as a:
        empty_sandbox(a.pac.gateway.engine)
        created(a.erp().post("/v1/csd", json=csd_body(sandbox_credential(a, "EKU9003173C9"))))
        yield a


def sandbox_credential(api: Api, rfc: str) -> Credential:
    keys = api.pac.settings.keys_dir
    entry = next(c for c in json.loads((keys / "sandbox.json").read_text())["csd"] if c["rfc"] == rfc)
    return Credential.load((keys / entry["cer"]).read_bytes(), (keys / entry["key"]).read_bytes(), entry["password"])


def csd_body(cred: Credential) -> dict:
    return {"cer": base64.b64encode(cred.certificate.der).decode(),
            "key": base64.b64encode(cred.key.to_der(KEY_PASSWORD)).decode(), "password": KEY_PASSWORD}


def drain(api: Api) -> None:
    """What the worker does: deliver to SAT, send stored cancellations, follow the ones in process."""
    while api.pac.outbox.run_once() > 0:
        pass


def issue(api: Api, erp, folio: str, *, receptor: dict | None = None, tipo: str = "I",
          relacionados: tuple[tuple[str, str], ...] = ()) -> str:
    """Stamp a CFDI of EKU9003173C9 (dated now) and deliver it to SAT; its UUID."""
    root = sample_invoice(api.csd, api.clock.now(), folio=folio, receptor=receptor)
    root.set("TipoDeComprobante", tipo)
    for tipo_relacion, parent in relacionados:
        rel = etree.Element(f"{{{NS40}}}CfdiRelacionados", TipoRelacion=tipo_relacion)
        etree.SubElement(rel, f"{{{NS40}}}CfdiRelacionado", UUID=parent)
        root.find(f"{{{NS40}}}Emisor").addprevious(rel)
    sign_root(root, api.csd)
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    got = created(erp.post("/v1/stamp", content=xml, headers={"Content-Type": "application/xml"}))
    drain(api)
    return got["uuid"]


def cancel(erp, *folios: dict, **extra) -> list[dict]:
    return ok(erp.post("/v1/cancel", json={"folios": list(folios), **extra}))["folios"]


def past_next_business_day(api: Api) -> None:
    """Beyond RMF 2.7.1.35 fr. IX (cancelled by the business day after certification: no acceptance)."""
    api.clock.advance(days=5)


def receptor_account(api: Api) -> object:
    """An account holding XIA190128J61 (shared by the admin: the demo account has it too) with its CSD in
    the vault: the receptor of the invoices the tests cancel."""
    admin = api.admin()
    acc = created(admin.post("/v1/accounts", json={"kind": "emisor", "name": "Receptor", "username": "receptor",
                                                   "password": PASSWORD}))
    assert admin.post(f"/v1/accounts/{acc['id']}/rfcs", json={"rfc": XIA["Rfc"], "shared": True}).status_code == 204
    client = api.basic("receptor", PASSWORD)
    created(client.post("/v1/csd", json=csd_body(sandbox_credential(api, XIA["Rfc"]))))
    return client


def status(erp, uuid: str) -> dict:
    return ok(erp.get(f"/v1/cfdi/{uuid}/status"))


def verify_with_xmlsec(xml: bytes, cert_der: bytes) -> None:
    """XMLDSig checked by xmlsec (libxmlsec1), an implementation nobody here wrote."""
    root = etree.fromstring(xml)
    node = xmlsec.tree.find_node(root, xmlsec.constants.NodeSignature)
    ctx = xmlsec.SignatureContext()
    ctx.key = xmlsec.Key.from_memory(cert_der, xmlsec.constants.KeyDataFormatCertDer)
    ctx.verify(node)


# --- the paths of SAT's state machine -------------------------------------------------------------------

def test_immediate_cancellation_and_its_acuse(sat: Api):
    erp = sat.erp()
    uuid = issue(sat, erp, "C1")
    assert status(erp, uuid)["estado"] == "Vigente"
    assert status(erp, uuid)["es_cancelable"] == "Cancelable sin aceptación"  # fr. IX: stamped today
    [answer] = cancel(erp, {"uuid": uuid, "motivo": "02"})
    assert (answer["code"], answer["status"], answer["estatus_cancelacion"]) == \
        ("201", "cancelado", "Cancelado sin aceptación")
    assert answer["message"] and answer["message_en"] and not answer["replayed"]
    st = status(erp, uuid)
    assert (st["codigo_estatus"], st["estado"], st["estatus_cancelacion"], st["validacion_efos"]) == \
        ("S - Comprobante obtenido satisfactoriamente.", "Cancelado", "Cancelado sin aceptación", "200")
    assert ok(erp.get(f"/v1/cfdi/{uuid}"))["status"] == "cancelado"
    acuse = erp.get(answer["acuse_url"])
    assert acuse.status_code == 200 and acuse.headers["content-type"].startswith("application/xml")
    root = etree.fromstring(acuse.content)
    assert etree.QName(root).localname == "Acuse" and root.get("RfcEmisor") == "EKU9003173C9"
    assert root.findtext(".//{*}UUID").upper() == uuid and root.findtext(".//{*}EstatusUUID") == "201"
    # SAT's signature, checked by xmlsec against the sandbox SAT's certificate, on the stored bytes.
    verify_with_xmlsec(acuse.content, sat.pac.gateway.signer.certificate.der)
    tampered = acuse.content.replace(b"201", b"202", 1)
    with pytest.raises(xmlsec.Error):
        verify_with_xmlsec(tampered, sat.pac.gateway.signer.certificate.der)
    # Idempotent: the same request again answers from what is stored, with the same acuse.
    [again] = cancel(erp, {"uuid": uuid, "motivo": "02"})
    assert (again["code"], again["status"], again["replayed"]) == ("201", "cancelado", True)
    assert erp.get(again["acuse_url"]).content == acuse.content
    kinds = [e["kind"] for e in ok(erp.get(f"/v1/cfdi/{uuid}/events"))["items"]]
    assert kinds == ["cancelacion.solicitada", "cancelacion.cancelada"]
    assert ok(erp.get("/v1/credits"))["available"] == 99  # one stamp; cancelling spent nothing
    listed = ok(erp.get("/v1/cfdi", params={"status": "cancelado"}))["items"]
    assert [c["uuid"] for c in listed] == [uuid]


def test_accepted_by_the_receptor(sat: Api):
    erp, receptor = sat.erp(), receptor_account(sat)
    uuid = issue(sat, erp, "C2", receptor=XIA)
    past_next_business_day(sat)
    assert status(erp, uuid)["es_cancelable"] == "Cancelable con aceptación"
    [answer] = cancel(erp, {"uuid": uuid, "motivo": "03"})
    assert (answer["code"], answer["status"], answer["estatus_cancelacion"]) == ("201", "en_proceso", "En proceso")
    assert status(erp, uuid)["estado"] == "Vigente"
    assert [c["uuid"] for c in ok(erp.get("/v1/cfdi", params={"status": "en_proceso"}))["items"]] == [uuid]
    [waiting] = ok(receptor.get("/v1/pending"))["items"]
    assert (waiting["uuid"].upper(), waiting["rfc_emisor"], waiting["rfc_receptor"]) == \
        (uuid, "EKU9003173C9", XIA["Rfc"])
    assert datetime.fromisoformat(waiting["deadline"]) > sat.clock.now()
    [got] = ok(receptor.post(f"/v1/pending/{uuid}", json={"respuesta": "Aceptacion"}))["items"]
    assert got["code"] == "1000"
    st = status(erp, uuid)
    assert (st["estado"], st["estatus_cancelacion"], st["status"]) == \
        ("Cancelado", "Cancelado con aceptación", "cancelado")
    assert ok(receptor.get("/v1/pending"))["items"] == []
    assert_error(receptor.post(f"/v1/pending/{uuid}", json={"respuesta": "Rechazo"}), 404, "T184")
    kinds = [e["kind"] for e in ok(erp.get(f"/v1/cfdi/{uuid}/events"))["items"]]
    assert kinds == ["cancelacion.solicitada", "cancelacion.en_proceso", "cancelacion.cancelada"]
    assert [e["kind"] for e in ok(receptor.get("/v1/events"))["items"]] == ["cancelacion.respuesta_receptor"]


def test_rejected_by_the_receptor_then_requested_again(sat: Api):
    erp, receptor = sat.erp(), receptor_account(sat)
    uuid = issue(sat, erp, "C3", receptor=XIA)
    past_next_business_day(sat)
    cancel(erp, {"uuid": uuid, "motivo": "02"})
    [got] = ok(receptor.post(f"/v1/pending/{uuid}", json={"respuesta": "Rechazo"}))["items"]
    assert got["code"] == "1000"
    st = status(erp, uuid)
    assert (st["estado"], st["estatus_cancelacion"], st["status"]) == ("Vigente", "Solicitud rechazada", "vigente")
    # After a rejection the emisor may ask again: a new request, in process again. (A signed request is
    # deterministic: the same folios in the same second are the same bytes, which SAT answers as before.)
    sat.clock.advance(seconds=1)
    [again] = cancel(erp, {"uuid": uuid, "motivo": "02"})
    assert (again["code"], again["status"], again["replayed"]) == ("201", "en_proceso", False)


def test_plazo_vencido_run_by_the_worker(sat: Api):
    erp = sat.erp()
    uuid = issue(sat, erp, "C4", receptor=XIA)
    past_next_business_day(sat)
    requested = sat.clock.now()
    cancel(erp, {"uuid": uuid, "motivo": "02"})
    deadline = fin_plazo_receptor(requested)
    sat.clock.advance(seconds=(deadline - sat.clock.now()).total_seconds() - 60)
    drain(sat)  # a minute before the end of the third business day: still waiting
    assert ok(erp.get(f"/v1/cfdi/{uuid}"))["status"] == "en_proceso"
    sat.clock.advance(seconds=120)
    drain(sat)  # the worker's poll, due at the deadline, records SAT's "Plazo vencido"
    assert ok(erp.get(f"/v1/cfdi/{uuid}"))["status"] == "cancelado"
    events = ok(erp.get(f"/v1/cfdi/{uuid}/events"))["items"]
    assert events[-1]["kind"] == "cancelacion.cancelada"
    assert events[-1]["data"]["estatus_cancelacion"] == "Plazo vencido"
    assert status(erp, uuid)["estatus_cancelacion"] == "Plazo vencido"


def test_related_documents_block_until_cancelled(sat: Api):
    erp = sat.erp()
    parent = issue(sat, erp, "P1")
    child = issue(sat, erp, "N1", tipo="E", relacionados=(("01", parent),))
    rel = ok(erp.get(f"/v1/cfdi/{parent}/related"))
    assert [(c["uuid"].upper(), c["tipo_relacion"], c["estado"]) for c in rel["children"]] == \
        [(child, "01", "Vigente")]
    assert [p["uuid"].upper() for p in ok(erp.get(f"/v1/cfdi/{child}/related"))["parents"]] == [parent]
    assert status(erp, parent)["es_cancelable"] == "No cancelable"
    [refused] = cancel(erp, {"uuid": parent, "motivo": "02"})
    assert (refused["code"], refused["status"]) == ("204", "vigente")
    assert [c["code"] for c in cancel(erp, {"uuid": child, "motivo": "02"})] == ["201"]  # an egreso: no acceptance
    sat.clock.advance(seconds=1)
    [now_ok] = cancel(erp, {"uuid": parent, "motivo": "02"})
    assert (now_ok["code"], now_ok["status"]) == ("201", "cancelado")


def test_motivo_01_with_its_substitute(sat: Api):
    erp = sat.erp()
    old = issue(sat, erp, "S1")
    unrelated = issue(sat, erp, "S2")
    new = issue(sat, erp, "S3", relacionados=(("04", old),))
    [bad] = cancel(erp, {"uuid": old, "motivo": "01", "folio_sustitucion": unrelated})
    assert bad["code"] == "212"  # the substitute does not relate to it with TipoRelacion 04
    assert_error(erp.post("/v1/cancel", json={"folios": [{"uuid": old, "motivo": "01"}]}), 422, "208")
    assert_error(erp.post("/v1/cancel", json={"folios": [{"uuid": old, "motivo": "02",
                                                          "folio_sustitucion": new}]}), 422, "209")
    assert_error(erp.post("/v1/cancel", json={"uuids": [old], "motivo": "05"}), 422, "311")
    [good] = cancel(erp, {"uuid": old, "motivo": "01", "folio_sustitucion": new})
    assert (good["code"], good["status"]) == ("201", "cancelado")
    assert ok(erp.get(f"/v1/cfdi/{new}"))["status"] == "vigente"


def test_the_yearly_deadline(sat: Api):
    erp = sat.erp()
    uuid = issue(sat, erp, "Y1")
    sat.clock.advance(days=500)  # past March of the year after issue (EKU9003173C9 is a persona moral)
    [answer] = cancel(erp, {"uuid": uuid, "motivo": "02"})
    assert (answer["code"], answer["status"]) == ("210", "vigente")
    assert status(erp, uuid)["es_cancelable"] == "No cancelable"


# --- signing ----------------------------------------------------------------------------------------------

def test_three_ways_to_sign(sat: Api):
    erp = sat.erp()
    a, b, c = (issue(sat, erp, f"F{i}") for i in range(3))
    csd = sandbox_credential(sat, "EKU9003173C9")
    # No CSD in the vault: T127, nothing stored.
    [stored] = ok(erp.get("/v1/csd"))["items"]
    assert erp.delete(f"/v1/csd/{stored['id']}").status_code == 204
    assert_error(erp.post("/v1/cancel", json={"uuids": [a], "motivo": "02"}), 409, "T127")
    with sat.pac.db.reader() as s:
        assert s.query(CancelRequest).count() == 0
    # A CSD pair in the request, used once.
    [one] = cancel(erp, {"uuid": a, "motivo": "02"}, csd=csd_body(csd))
    assert one["code"] == "201"
    # A Cancelacion the client signed, sent as it is.
    signed = sign_cancelacion(csd, sat.clock.now(), [Folio(b, "03")])
    r = erp.post("/v1/cancel", content=signed, headers={"Content-Type": "application/xml"})
    assert ok(r)["folios"][0]["code"] == "201"
    with sat.pac.db.reader() as s:
        sent = [row.xml for row in s.query(CancelRequest).filter_by(signed_by="client")]
    assert sent == [signed]  # forwarded byte for byte
    verify_with_xmlsec(signed, csd.certificate.der)
    # The vault's CSD: upload it, then just the UUID (as FEL promises).
    created(erp.post("/v1/csd", json=csd_body(csd)))
    [three] = cancel(erp, {"uuid": c, "motivo": "02"})
    assert three["code"] == "201"
    # Two means at once: refused.
    pfx_and_pair = {**csd_body(csd), "pfx": csd_body(csd)["cer"]}
    assert_error(erp.post("/v1/cancel", json={"uuids": [c], "motivo": "02", "csd": pfx_and_pair}), 400, "T185")


def test_bad_signature_and_another_rfc(sat: Api):
    erp = sat.erp()
    uuid = issue(sat, erp, "B1")
    eku, xia = sandbox_credential(sat, "EKU9003173C9"), sandbox_credential(sat, "XIA190128J61")
    signed = sign_cancelacion(eku, sat.clock.now(), [Folio(uuid, "02")])
    tampered = signed.replace(b'Motivo="02"', b'Motivo="03"')
    assert_error(erp.post("/v1/cancel", content=tampered, headers={"Content-Type": "application/xml"}), 422, "302")
    # A request whose RfcEmisor is EKU9003173C9 signed with XIA190128J61's CSD: SAT's 303.
    root = build_cancelacion("EKU9003173C9", sat.clock.now(), [Folio(uuid, "02")])
    forged = sign_element(root, xia)
    assert_error(erp.post("/v1/cancel", content=forged, headers={"Content-Type": "application/xml"}), 422, "303")
    # XIA190128J61's CSD sent for a CFDI of EKU9003173C9: SAT's 203 for that UUID.
    [answer] = cancel(erp, {"uuid": uuid, "motivo": "02"}, csd=csd_body(xia))
    assert (answer["code"], answer["status"]) == ("203", "vigente")
    assert status(erp, uuid)["estado"] == "Vigente"


def test_refusals_per_uuid_and_for_the_request(sat: Api):
    erp = sat.erp()
    csd = sandbox_credential(sat, "EKU9003173C9")
    mine = issue(sat, erp, "R1")
    # Another account (sharing the RFC) stamps a CFDI: for the demo account it does not exist (205), and
    # a signed request naming it is refused whole (T182).
    admin = sat.admin()
    other = created(admin.post("/v1/accounts", json={"kind": "emisor", "name": "Otra", "username": "otra",
                                                     "password": PASSWORD}))
    assert admin.post(f"/v1/accounts/{other['id']}/rfcs", json={"rfc": "EKU9003173C9", "shared": True}).status_code == 204
    created(admin.post(f"/v1/accounts/{other['id']}/packages", json={"size": 5}))
    theirs = issue(sat, sat.basic("otra", PASSWORD), "R2")
    unknown = str(uuidlib.uuid4()).upper()
    answers = cancel(erp, {"uuid": theirs, "motivo": "02"}, {"uuid": unknown, "motivo": "02"},
                     {"uuid": mine, "motivo": "02"})
    assert [(a["uuid"], a["code"]) for a in answers] == [(theirs, "205"), (unknown, "205"), (mine, "201")]
    assert ok(sat.basic("otra", PASSWORD).get(f"/v1/cfdi/{theirs}"))["status"] == "vigente"
    signed = sign_cancelacion(csd, sat.clock.now(), [Folio(theirs, "02")])
    assert_error(erp.post("/v1/cancel", content=signed, headers={"Content-Type": "application/xml"}), 422, "T182")
    # Already cancelled at SAT (say, on SAT's portal) without timbra knowing: SAT's 202, and timbra's record
    # follows SAT.
    elsewhere = issue(sat, erp, "R3")
    sat.pac.gateway.cancel(sign_cancelacion(csd, sat.clock.now(), [Folio(elsewhere, "02")]))
    sat.clock.advance(seconds=1)
    [answer] = cancel(erp, {"uuid": elsewhere, "motivo": "02"})
    assert (answer["code"], answer["status"]) == ("202", "cancelado")
    # 501 UUIDs, a repeated one, a malformed one: refused before anything is signed or stored.
    many = [str(uuidlib.uuid4()) for _ in range(501)]
    assert_error(erp.post("/v1/cancel", json={"uuids": many, "motivo": "02"}), 422, "T180")
    assert_error(erp.post("/v1/cancel", json={"uuids": [mine, mine.lower()], "motivo": "02"}), 422, "T181")
    assert_error(erp.post("/v1/cancel", json={"folios": [{"uuid": "no-es-uuid", "motivo": "02"}]}), 400, "T100")
    assert_error(erp.post("/v1/cancel", content=b"<a/>", headers={"Content-Type": "application/xml"}), 400, "301")


def test_status_by_qr_expression_and_access(sat: Api):
    erp = sat.erp()
    uuid = issue(sat, erp, "Q1")
    total = ok(erp.get(f"/v1/cfdi/{uuid}"))["total"]
    url = (f"https://verificacfdi.facturaelectronica.sat.gob.mx/default.aspx?id={uuid}&re=EKU9003173C9"
           f"&rr=URE180429TM6&tt={total}&fe=abcdefgh")
    got = ok(erp.get("/v1/status", params={"expresion": url}))
    assert (got["estado"], got["es_cancelable"]) == ("Vigente", "Cancelable sin aceptación")
    same = ok(erp.get(f"/v1/status?id={uuid}&re=EKU9003173C9&rr=URE180429TM6&tt={total}"))
    assert same["estado"] == "Vigente"
    wrong_total = ok(erp.get(f"/v1/status?id={uuid}&re=EKU9003173C9&rr=URE180429TM6&tt=1.00"))
    assert (wrong_total["estado"], wrong_total["codigo_estatus"][:5]) == ("No Encontrado", "N - 6")
    assert ok(erp.get("/v1/status", params={"expresion": "basura"}))["codigo_estatus"].startswith("N - 601")
    assert erp.get("/v1/status").status_code == 200
    anonymous = sat.client()
    for path in (f"/v1/cfdi/{uuid}/status", "/v1/pending", f"/v1/cfdi/{uuid}/acuse-cancelacion"):
        assert_error(anonymous.get(path), 401, "T101")
    assert_error(erp.get(f"/v1/cfdi/{uuid}/acuse-cancelacion"), 404, "T103")  # nothing requested yet
    assert_error(erp.get(f"/v1/cfdi/{uuidlib.uuid4()}/status"), 404, "T103")


def test_openapi_documents_the_cancellation(sat: Api):
    spec = ok(sat.erp().get("/openapi.json"))
    post = spec["paths"]["/v1/cancel"]["post"]
    assert set(post["requestBody"]["content"]) == {"application/json", "application/xml"}
    schemas = spec["components"]["schemas"]
    assert {"uuids", "folios", "motivo", "csd"} <= set(schemas["CancelBody"]["properties"])
    assert "respuesta" in schemas["AnswerBody"]["properties"]
    for path in ("/v1/cfdi/{uuid}/status", "/v1/status", "/v1/pending", "/v1/pending/{uuid}",
                 "/v1/cfdi/{uuid}/acuse-cancelacion", "/v1/cfdi/{uuid}/related", "/v1/events"):
        assert path in spec["paths"]


# --- durability and credits -------------------------------------------------------------------------------

def test_sat_down_then_worker_sends_the_stored_request(sat: Api):
    erp = sat.erp()
    uuid = issue(sat, erp, "D1")
    sat.pac.gateway.unavailable = True
    [answer] = cancel(erp, {"uuid": uuid, "motivo": "02"})
    assert (answer["code"], answer["status"]) == ("T183", "vigente")
    [retry] = cancel(erp, {"uuid": uuid, "motivo": "02"})  # still down: the same stored request
    assert retry["code"] == "T183"
    sat.pac.gateway.unavailable = False
    sat.clock.advance(minutes=5)  # past the first retry's backoff
    drain(sat)
    [done] = cancel(erp, {"uuid": uuid, "motivo": "02"})
    assert (done["code"], done["status"], done["replayed"]) == ("201", "cancelado", True)
    with sat.pac.db.reader() as s:
        assert s.query(CancelRequest).count() == 1  # one request, sent once it could be


def test_a_crash_after_sat_accepted_loses_nothing(sat: Api, monkeypatch):
    erp = sat.erp()
    uuid = issue(sat, erp, "K1")
    real_cancel = sat.pac.gateway.cancel
    acuses = []

    def accepted_then_crash(xml: bytes):
        acuses.append(real_cancel(xml).xml)
        raise GatewayUnavailable("la conexión se cayó después de que el SAT aceptó")

    monkeypatch.setattr(sat.pac.gateway, "cancel", accepted_then_crash)
    [answer] = cancel(erp, {"uuid": uuid, "motivo": "02"})
    assert answer["code"] == "T183" and len(acuses) == 1
    monkeypatch.setattr(sat.pac.gateway, "cancel", real_cancel)
    sat.clock.advance(minutes=5)
    drain(sat)  # the same stored bytes again: SAT answers with the same acuse
    [done] = cancel(erp, {"uuid": uuid, "motivo": "02"})
    assert (done["code"], done["status"]) == ("201", "cancelado")
    assert erp.get(done["acuse_url"]).content == acuses[0]


def test_cancellation_credits_when_the_setting_says_so(sat: Api):
    sat.pac.cancels.credits_per_uuid = 1
    erp = sat.erp()
    uuids = [issue(sat, erp, f"G{i}") for i in range(2)]
    assert ok(erp.get("/v1/credits"))["available"] == 98
    cancel(erp, *({"uuid": u, "motivo": "02"} for u in uuids))
    assert ok(erp.get("/v1/credits"))["available"] == 96
    cancel(erp, *({"uuid": u, "motivo": "02"} for u in uuids))  # replayed: spends nothing
    assert ok(erp.get("/v1/credits"))["available"] == 96


def test_a_batch_of_uuids_is_one_request_and_one_acuse(sat: Api):
    erp = sat.erp()
    uuids = [issue(sat, erp, f"L{i}") for i in range(4)]
    answers = ok(erp.post("/v1/cancel", json={"uuids": uuids, "motivo": "02"}))["folios"]
    assert [a["code"] for a in answers] == ["201"] * 4
    acuse = erp.get(answers[0]["acuse_url"]).content
    assert all(erp.get(a["acuse_url"]).content == acuse for a in answers)
    assert sorted(u.upper() for u in etree.fromstring(acuse).xpath("//*[local-name()='UUID']/text()")) == sorted(uuids)


def test_timbra_cancel_and_status_cli(sat: Api, tmp_path, monkeypatch):
    erp = sat.erp()
    eku = sandbox_credential(sat, "EKU9003173C9")
    uuid, second = issue(sat, erp, "CLI1"), issue(sat, erp, "CLI2")
    monkeypatch.setenv("TIMBRA_DATA_DIR", str(sat.pac.settings.data_dir))
    monkeypatch.setenv("TIMBRA_DATABASE_URL", sat.pac.settings.database_url)
    account = str(sat.demo.account_id)
    r = CliRunner().invoke(main, ["status", uuid, "--account", account, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["estado"] == "Vigente"
    cer, key = tmp_path / "eku.cer", tmp_path / "eku.key"
    cer.write_bytes(eku.certificate.der)
    key.write_bytes(eku.key.to_der(KEY_PASSWORD))
    r = CliRunner().invoke(main, ["cancel", uuid, "--account", account, "--motivo", "02", "--cer", str(cer),
                                  "--key", str(key), "--password", KEY_PASSWORD, "--json"])
    assert r.exit_code == 0, r.output
    [folio] = json.loads(r.output)["folios"]
    assert (folio["code"], folio["status"]) == ("201", "cancelado")
    signed = tmp_path / "cancelacion.xml"
    signed.write_bytes(sign_cancelacion(eku, datetime.now(timezone.utc), [Folio(second, "03")]))
    r = CliRunner().invoke(main, ["cancel", "--signed", str(signed), "--account", account])
    assert r.exit_code == 0, r.output
    assert second in r.output and "201" in r.output and "cancelado" in r.output
    total = ok(erp.get(f"/v1/cfdi/{uuid}"))["total"]
    r = CliRunner().invoke(main, ["status", "--expresion",
                                  f"?id={uuid}&re=EKU9003173C9&rr=URE180429TM6&tt={total}&fe=x", "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["estado"] == "Cancelado", r.output
    assert CliRunner().invoke(main, ["cancel", uuid, "--account", account]).exit_code == 2  # no --motivo
    assert CliRunner().invoke(main, ["status", uuid]).exit_code == 2  # no --account
