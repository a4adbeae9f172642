"""Finkok's stamp, cancel and utilities services driven by zeep built from the WSDL timbra serves, on SQLite and
PostgreSQL against the sandbox SAT: every operation, Finkok's places for errors (Incidencias, CodEstatus,
`error`), 307 answered with the earlier stamp, idempotency across REST and SOAP. satcfdi's own Finkok client
is in test_soap_satcfdi.py."""
from __future__ import annotations

import pytest
import zeep
from cryptography.hazmat.primitives import serialization
from lxml import etree

from tests.api.soap_clients import zeep_client
from tests.api.test_cancel import XIA, drain, issue, past_next_business_day, receptor_account, sandbox_credential, sat
from tests.api.test_rest import PASSWORD, Api, created, data_dir, emisor_csd, ok  # noqa: F401 - fixtures
from timbra.api.soap import finkok
from timbra.cfdi.cancellation import Folio, Respuesta, sign_aceptacion_rechazo, sign_cancelacion
from timbra.cfdi.sample import sample_invoice
from timbra.gateway.sandbox_ca import SandboxCA

FIXTURES = (sat, data_dir, emisor_csd)
STAMP, CANCEL, UTILITIES = ("/servicios/soap/stamp.wsdl", "/servicios/soap/cancel.wsdl",
                            "/servicios/soap/utilities.wsdl")


def pem(api: Api, rfc: str) -> tuple[bytes, bytes]:
    """Finkok's cer and key: PEM files (the key without password), sent as base64Binary."""
    cred = sandbox_credential(api, rfc)
    cer = cred.certificate.x509.public_bytes(serialization.Encoding.PEM)
    key = cred.key.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
    return cer, key


def uuids(*items: tuple[str, str]) -> dict:
    return {"uuids": {"UUID": [{"UUID": u, "Motivo": m} for u, m in items]}}


def test_stamp_service(sat: Api):
    fk = zeep_client(sat.client(), STAMP).service
    auth = {"username": sat.demo.username, "password": sat.demo.password}
    doc = sat.document("FK-1")
    r = fk.stamp(xml=doc, **auth)
    assert r.CodEstatus == finkok.STAMPED and not r.Incidencias  # zeep reads the empty <Incidencias/> as None
    tfd = etree.fromstring(r.xml.encode()).find(".//{*}TimbreFiscalDigital")
    assert tfd.get("UUID") == r.UUID and r.SatSeal == tfd.get("SelloSAT") and r.NoCertificadoSAT
    # the same document again: Finkok's 307 with the earlier stamp, no credit spent
    again = fk.stamp(xml=doc, **auth)
    assert again.CodEstatus == finkok.STAMPED_BEFORE and again.UUID == r.UUID
    assert [i.CodigoError for i in again.Incidencias.Incidencia] == ["307"]
    assert ok(sat.erp().get("/v1/credits"))["available"] == 99
    # and over REST: the same UUID (idempotency crosses protocols)
    rest = sat.erp().post("/v1/stamp", content=doc, headers={"Content-Type": "application/xml"})
    assert rest.status_code == 200 and rest.json()["uuid"] == r.UUID
    # stamped recovers it; for a document never stamped it says so
    rec = fk.stamped(xml=doc, **auth)
    assert rec.UUID == r.UUID and rec.xml == r.xml and not rec.Incidencias
    never = fk.stamped(xml=sat.document("FK-never"), **auth)
    assert never.UUID is None and never.Incidencias.Incidencia[0].CodigoError == "T103"
    # quick_stamp, and a REST stamp answered over SOAP
    q = fk.quick_stamp(xml=sat.document("FK-2"), **auth)
    assert q.CodEstatus == finkok.STAMPED and q.UUID != r.UUID
    other = sat.document("FK-3")
    first = created(sat.erp().post("/v1/stamp", content=other, headers={"Content-Type": "application/xml"}))
    assert first["uuid"] == fk.stamp(xml=other, **auth).UUID
    # sign_stamp seals with the vault's CSD
    unsealed = etree.tostring(sample_invoice(sat.csd, sat.clock.now(), folio="FK-4"), xml_declaration=True,
                              encoding="UTF-8")
    s = fk.sign_stamp(xml=unsealed, **auth)
    assert s.CodEstatus == finkok.STAMPED
    assert etree.fromstring(s.xml.encode()).get("NoCertificado") == sat.csd.certificate.no_certificado
    assert fk.sign_stamp(xml=unsealed, **auth).UUID == s.UUID  # sealing is deterministic: a retry is a replay
    # query_pending: S until SAT has it, then F
    p = fk.query_pending(uuid=r.UUID, **auth)
    assert (p.status, p.uuid, p.error) == ("S", r.UUID, None) and p.xml == r.xml
    drain(sat)
    assert fk.query_pending(uuid=r.UUID, **auth).status == "F"
    # SAT's codes, one Incidencia per finding
    bad = fk.stamp(xml=sat.document("FK-5").replace(b'Folio="FK-5"', b'Folio="FK-6"'), **auth)
    assert bad.UUID is None and bad.CodEstatus is None
    assert "CFDI40102" in [i.CodigoError for i in bad.Incidencias.Incidencia]


def test_cancel_service(sat: Api):
    fk = zeep_client(sat.client(), CANCEL).service
    auth = {"username": sat.demo.username, "password": sat.demo.password}
    erp = sat.erp()
    a, b, c = (issue(sat, erp, f"FKC{i}") for i in range(3))
    cer, key = pem(sat, "EKU9003173C9")
    r = fk.cancel(UUIDS=uuids((a, "02")), taxpayer_id="EKU9003173C9", cer=cer, key=key, store_pending=True, **auth)
    [folio] = r.Folios.Folio
    assert (folio.UUID, folio.EstatusUUID, folio.EstatusCancelacion) == (a, "201", "Cancelado sin aceptación")
    assert r.CodEstatus is None and r.RfcEmisor == "EKU9003173C9" and r.Fecha
    assert etree.fromstring(r.Acuse.encode()).findtext(".//{*}EstatusUUID") == "201"
    # the vault's CSD; a Cancelacion the client signed
    assert fk.sign_cancel(UUIDS=uuids((b, "03")), taxpayer_id="EKU9003173C9", **auth).Folios.Folio[0].EstatusUUID \
        == "201"
    signed = sign_cancelacion(sandbox_credential(sat, "EKU9003173C9"), sat.clock.now(), [Folio(c, "02")])
    assert fk.cancel_signature(xml=signed, store_pending=False, **auth).Folios.Folio[0].EstatusUUID == "201"
    # SAT's status, the acuses
    st = fk.get_sat_status(taxpayer_id="EKU9003173C9", rtaxpayer_id="URE180429TM6", uuid=a,
                           total=ok(erp.get(f"/v1/cfdi/{a}"))["total"], **auth)
    assert (st.sat.Estado, st.sat.EstatusCancelacion, st.error) == ("Cancelado", "Cancelado sin aceptación", None)
    receipt = fk.get_receipt(taxpayer_id="EKU9003173C9", uuid=a, type="C", **auth)
    assert receipt.success and receipt.receipt == r.Acuse and receipt.taxpayer_id == "EKU9003173C9"
    reception = fk.get_receipt(taxpayer_id="EKU9003173C9", uuid=a, type="R", **auth)
    assert reception.success and b"Acuse" in reception.receipt.encode()
    # a UUID that is not the account's: per UUID, SAT's 205; refused requests say it in CodEstatus
    assert fk.sign_cancel(UUIDS=uuids(("00000000-0000-4000-8000-000000000000", "02")), **auth) \
        .Folios.Folio[0].EstatusUUID == "205"
    refused = fk.sign_cancel(UUIDS={"uuids": {"UUID": []}}, **auth)
    assert refused.CodEstatus.startswith("T180") and refused.Folios is None
    missing = fk.get_receipt(uuid="00000000-0000-4000-8000-000000000000", type="C", **auth)
    assert missing.success is False and missing.error.startswith("T103")
    # related documents
    rel = fk.get_related(uuid=a, rtaxpayer_id="URE180429TM6", **auth)
    assert rel.error is None


def test_the_receptor_side(sat: Api):
    fk = zeep_client(sat.client(), CANCEL).service
    receptor_account(sat)
    erp = sat.erp()
    first, second = issue(sat, erp, "FKR1", receptor=XIA), issue(sat, erp, "FKR2", receptor=XIA)
    past_next_business_day(sat)
    emisor = {"username": sat.demo.username, "password": sat.demo.password}
    for u in (first, second):
        assert fk.sign_cancel(UUIDS=uuids((u, "02")), **emisor).Folios.Folio[0].EstatusUUID == "201"
    receptor = {"username": "receptor", "password": PASSWORD}
    pending = fk.get_pending(rtaxpayer_id=XIA["Rfc"], **receptor)
    assert sorted(u.upper() for u in pending.uuids.string) == sorted([first, second]) and pending.error is None
    cer, key = pem(sat, XIA["Rfc"])
    r = fk.accept_reject(UUIDS_AR={"UUID_AR": [{"uuid": first, "respuesta": "Aceptacion"}]},
                         rtaxpayer_id=XIA["Rfc"], cer=cer, key=key, **receptor)
    assert [(x.uuid.upper(), x.status) for x in r.aceptacion.Acepta] == [(first, "1000")] and not r.rechazo
    signed = sign_aceptacion_rechazo(sandbox_credential(sat, XIA["Rfc"]), sat.clock.now(),
                                     [Respuesta(second, "Rechazo")], rfc_pac=sat.pac.certifier.pac.certificate.rfc)
    r2 = fk.accept_reject_signature(xml=signed, **receptor)
    assert [(x.uuid.upper(), x.status) for x in r2.rechazo.Rechaza] == [(second, "1000")]
    assert not fk.get_pending(rtaxpayer_id=XIA["Rfc"], **receptor).uuids
    assert ok(erp.get(f"/v1/cfdi/{first}/status"))["estado"] == "Cancelado"


def test_utilities_service(sat: Api):
    fk = zeep_client(sat.client(), UTILITIES).service
    auth = {"username": sat.demo.username, "password": sat.demo.password}
    uuid = issue(sat, sat.erp(), "FKU1")
    assert fk.datetime(**auth).datetime[:4].isdigit()
    got = fk.get_xml(uuid=uuid, taxpayer_id="EKU9003173C9", invoice_type="I", **auth)
    assert got.error is None and etree.fromstring(got.xml.encode()).find(".//{*}TimbreFiscalDigital").get("UUID") \
        == uuid
    assert fk.get_xml(uuid=uuid, taxpayer_id="XIA190128J61", **auth).error.startswith("T103")
    [credit] = fk.report_credit(taxpayer_id="EKU9003173C9", **auth).result.ReportTotalCredit
    assert credit.credit == 100
    total = fk.report_total(taxpayer_id="EKU9003173C9", invoice_type="I", date_from="2020-01-01",
                            date_to="2099-12-31", **auth)
    assert [(t.taxpayer_id, t.total) for t in total.result.ReportTotal] == [("EKU9003173C9", 1)]
    report = fk.report_uuid(taxpayer_id="", invoice_type="I", date_from="2020-01-01T00:00:00",
                            date_to="2099-12-31T00:00:00", **auth)
    assert [i.uuid for i in report.invoices.ReportUUID] == [uuid]
    with pytest.raises(zeep.exceptions.Fault) as fault:  # a date that is not one: the client's fault
        fk.report_uuid(date_from="el lunes", **auth)
    assert "T203" in fault.value.message


def test_every_operation_refuses_bad_credentials(sat: Api):
    for path, svc in ((STAMP, finkok.STAMP), (CANCEL, finkok.CANCEL), (UTILITIES, finkok.UTILITIES)):
        client = zeep_client(sat.client(), path).service
        for op in svc.ops:
            args = {p.name: None for p in op.params}
            args.update(username=f"nadie-{op.name}", password="not the password")
            got = getattr(client, op.name)(**args)
            if op.result == "AcuseRecepcionCFDI":
                assert got.Incidencias.Incidencia[0].CodigoError == "T101" and got.UUID is None, op.name
            elif op.result == "CancelaCFDResult":
                assert got.CodEstatus.startswith("T101") and got.Folios is None, op.name
            else:
                assert got.error.startswith("T101"), op.name
    # an API key is accepted as the password
    stamp = zeep_client(sat.client(), STAMP).service
    assert stamp.stamp(xml=sat.document("FK-K"), username="", password=sat.demo.api_key).CodEstatus == \
        finkok.STAMPED


def test_the_wsdls(sat: Api):
    c = sat.client()
    for name, svc in (("stamp", finkok.STAMP), ("cancel", finkok.CANCEL), ("utilities", finkok.UTILITIES)):
        w = c.get(f"/servicios/soap/{name}.wsdl")
        root = etree.fromstring(w.content)
        assert root.get("targetNamespace") == f"http://facturacion.finkok.com/{name}"
        address = root.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address").get("location")
        assert address == f"http://testserver/servicios/soap/{name}"
        assert root.find(f".//{{http://schemas.xmlsoap.org/wsdl/}}service[@name='{svc.name}']") is not None
        # the address without .wsdl answers too (PHP's SoapClient posts there)
        client = zeep_client(c, f"/servicios/soap/{name}")
        assert set(client.service._binding._operations) == {o.name for o in svc.ops}


def test_registration_service(sat: Api):
    """A distributor is Finkok's reseller: add, edit, get, assign, customers."""
    from timbra.api.soap import finkok_registration

    a = sat.admin()
    dist = created(a.post("/v1/accounts", json={"kind": "distributor", "name": "Reseller", "username": "reseller",
                                                "password": PASSWORD}))
    created(a.post(f"/v1/accounts/{dist['id']}/packages", json={"size": 30}))
    fk = zeep_client(sat.client(), "/servicios/soap/registration.wsdl").service
    reseller = {"reseller_username": "reseller", "reseller_password": PASSWORD}
    # a CSD of an RFC no account holds yet, from the sandbox's certificate authority
    cred = SandboxCA.load(sat.pac.settings.keys_dir).issue("IIA040805DZ4", "INDISTRIA ILUMINADORA DE ALMACENES")
    added = fk.add(taxpayer_id="IIA040805DZ4", type_user="P", cer=cred.certificate.der,
                   key=cred.key.to_der("clave-del-csd"), passphrase="clave-del-csd", **reseller)
    assert added.success and "IIA040805DZ4" in added.message
    generated = added.message.split("contraseña ")[1].split(" ")[0]
    assert fk.add(taxpayer_id="IIA040805DZ4", type_user="P", **reseller).success is False  # already there
    got = fk.get(taxpayer_id="IIA040805DZ4", **reseller).users.ResellerUser
    assert [(u.taxpayer_id, u.status, u.credit, u.counter) for u in got] == [("IIA040805DZ4", "A", 0, 0)]
    assigned = fk.assign(username="reseller", password=PASSWORD, taxpayer_id="IIA040805DZ4", credit=12)
    assert assigned.success and assigned.credit == 12
    # the new customer stamps over Finkok's stamp service with its user and the CSD the reseller uploaded
    stamp = zeep_client(sat.client(), STAMP).service
    unsealed = etree.tostring(sample_invoice(cred, sat.clock.now(), folio="R-1"), xml_declaration=True,
                              encoding="UTF-8")
    r = stamp.sign_stamp(xml=unsealed, username="IIA040805DZ4", password=generated)
    assert r.CodEstatus == finkok.STAMPED
    listed = fk.customers(page=1, **reseller)
    assert listed.message == "Showing 1 to 1 of 1 entries"
    assert [(u.taxpayer_id, u.credit, u.counter) for u in listed.users.ResellerUser] == [("IIA040805DZ4", 11, 1)]
    # suspended: its user no longer logs in; active again: it does
    assert fk.edit(taxpayer_id="IIA040805DZ4", status="S", **reseller).success
    assert fk.get(taxpayer_id="IIA040805DZ4", **reseller).users.ResellerUser[0].status == "S"
    assert stamp.stamped(xml=unsealed, username="IIA040805DZ4", password=generated) \
        .Incidencias.Incidencia[0].CodigoError == "T101"
    assert fk.edit(taxpayer_id="IIA040805DZ4", status="A", **reseller).success
    # only a reseller manages customers; bad credentials on every operation
    emisor = {"reseller_username": sat.demo.username, "reseller_password": sat.demo.password}
    assert fk.customers(page=1, **emisor).message.startswith("T102")
    for op in finkok_registration.SERVICE.ops:
        args = {p.name: None for p in op.params}
        for name in ("reseller_username", "username"):
            if name in args:
                args[name] = f"nadie-{op.name}"
        for name in ("reseller_password", "password"):
            if name in args:
                args[name] = "not the password"
        got = getattr(fk, op.name)(**args)
        assert got.message.startswith("T101") and getattr(got, "success", False) is False, op.name
