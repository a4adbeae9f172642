"""FEL's Timbrado service (WSCFDI33.svc) driven by zeep, a SOAP client nobody here wrote, built from the WSDL
timbra serves, on SQLite and PostgreSQL against the sandbox SAT: every operation, its refusal of bad
credentials, FEL's error shape, referencia idempotency shared with REST, and the envelope's faults."""
from __future__ import annotations

import base64
from pathlib import Path

import pytest
import zeep
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
from lxml import etree

from tests.api.soap_clients import zeep_client
from tests.api.test_cancel import XIA, drain, issue, past_next_business_day, receptor_account, sandbox_credential, sat
from tests.api.test_rest import PASSWORD, Api, created, data_dir, emisor_csd, ok  # noqa: F401 - fixtures
from timbra.api.soap.fel_timbrado import SERVICE
from timbra.pac.accounts import Principal

PATH = "/WSTimbrado33/WSCFDI33.svc"
FIXTURES = (sat, data_dir, emisor_csd)  # imported for pytest


def pfx_b64(api: Api, rfc: str, password: str = "pfx-pass") -> str:
    cred = sandbox_credential(api, rfc)
    pfx = pkcs12.serialize_key_and_certificates(b"csd", cred.key.key, cred.certificate.x509, None,
                                                BestAvailableEncryption(password.encode()))
    return base64.b64encode(pfx).decode()


def test_every_operation(sat: Api):
    fel = zeep_client(sat.client(), PATH).service
    user, pw = sat.demo.username, sat.demo.password
    # TimbrarCFDI with a referencia: a retry with the same referencia (even other bytes) answers the first stamp
    doc = sat.document("FEL-1")
    r = fel.TimbrarCFDI(usuario=user, password=pw, cadenaXML=doc.decode(), referencia="ERP-0001")
    assert r.OperacionExitosa and r.CodigoRespuesta is None and r.CreditosRestantes == 99
    uuid = r.Timbre.UUID
    assert etree.fromstring(r.XMLResultado.encode()).find(".//{*}TimbreFiscalDigital").get("UUID") == uuid
    assert r.Timbre.SelloCFD == etree.fromstring(doc).get("Sello") and r.Timbre.SelloSAT
    again = fel.TimbrarCFDI(usuario=user, password=pw, cadenaXML=sat.document("FEL-2").decode(),
                            referencia="ERP-0001")
    assert again.OperacionExitosa and uuid == again.Timbre.UUID and again.CreditosRestantes == 99
    for bytes_again in (doc.decode(), "<no es un CFDI", ""):  # the same bytes, not XML, nothing
        retry = fel.TimbrarCFDI(usuario=user, password=pw, cadenaXML=bytes_again, referencia="ERP-0001")
        assert retry.OperacionExitosa and uuid == retry.Timbre.UUID and retry.CreditosRestantes == 99
    # the referencia is the one REST's issue path uses: found from REST too
    assert ok(sat.erp().get("/v1/issue/ERP-0001"))["uuid"] == uuid
    by_ref = fel.ConsultarTimbrePorReferencia(usuario=user, password=pw, referencia="ERP-0001")
    assert by_ref.OperacionExitosa and uuid == by_ref.Timbre.UUID
    by_uuid = fel.ConsultarComplementoTimbre(usuario=user, password=pw, uUID=uuid)
    assert uuid == by_uuid.Timbre.UUID and by_uuid.Timbre.Estado == "Vigente"
    by_sello = fel.ConsultarTimbrePorSello(usuario=user, password=pw, sello=etree.fromstring(doc).get("Sello"))
    assert uuid == by_sello.Timbre.UUID
    missing = fel.ConsultarTimbrePorReferencia(usuario=user, password=pw, referencia="NO-EXISTE")
    assert not missing.OperacionExitosa and missing.CodigoRespuesta == "T103"
    # acuse de envío once the worker delivered it
    pending_ack = fel.ObtenerAcuseEnvio(usuario=user, password=pw, uUID=uuid)
    assert not pending_ack.OperacionExitosa and pending_ack.CodigoRespuesta == "T103"
    drain(sat)
    ack = fel.ObtenerAcuseEnvio(usuario=user, password=pw, uUID=uuid)
    assert ack.OperacionExitosa and b"Acuse" in ack.XMLResultado.encode()
    # credits, listing, RFC lookup
    [pkg] = fel.ConsultarCreditos(usuario=user, password=pw).Paquetes.DetallesPaqueteCreditos
    assert (pkg.Timbres, pkg.TimbresUsados, pkg.TimbresRestantes, pkg.Vigente, pkg.EnUso) == (100, 1, 99, True, True)
    report = fel.ConsultarComprobantes(usuario=user, password=pw, fechaInicial="2020-01-01T00:00:00",
                                       fechaFinal="2099-12-31T00:00:00", filaInicial=1)
    assert report.TotalComprobantesPeriodo == 1
    [row] = report.ListaComprobantes.RegistroTimbre
    assert (row.UUID, row.NoFila, row.RFCEmisor, row.Estado) == (uuid, 1, "EKU9003173C9", "Vigente")
    rfc = fel.ValidarRFC(usuario=user, password=pw, rfc="eku9003173c9")
    assert (rfc.RFC, rfc.RFCLocalizado, rfc.Cancelado) == ("EKU9003173C9", True, False)
    # cancel with the vault's CSD, then the acuse
    lista = {"DetalleCFDICancelacion": [{"UUID": uuid, "Motivo": "02", "RFCReceptor": "URE180429TM6",
                                         "Total": "1"}]}
    c = fel.CancelarCFDI(usuario=user, password=pw, rFCEmisor="EKU9003173C9", listaCFDI=lista)
    [d] = c.DetallesCancelacion.DetalleCancelacion
    assert c.OperacionExitosa and (d.UUID, d.CodigoResultado) == (uuid, "201") and "<" in c.XMLAcuse
    acuse = fel.ObtenerAcuseCancelacion(usuario=user, password=pw, uUID=uuid)
    assert acuse.OperacionExitosa and acuse.XMLResultado == c.XMLAcuse
    assert fel.ConsultarComplementoTimbre(usuario=user, password=pw, uUID=uuid).Timbre.Estado == "Cancelado"
    # CancelarCFDIConValidacion with a .pfx sent in the call; asynchronous cancellation and its status
    other = issue(sat, sat.erp(), "FEL-3")
    v = fel.CancelarCFDIConValidacion(
        usuario=user, password=pw, rFCEmisor="EKU9003173C9",
        listaCFDI={"DetalleCFDICancelacion": [{"UUID": other, "Motivo": "02"}]},
        clavePrivada_Base64=pfx_b64(sat, "EKU9003173C9"), passwordClavePrivada="pfx-pass")
    [d] = v.DetallesCancelacion.DetalleCancelacion
    assert (d.CodigoResultado, d.EsCancelable) == ("201", "Cancelable sin aceptación")  # as SAT said before
    third = issue(sat, sat.erp(), "FEL-4")
    a = fel.CancelacionAsincrona(usuario=user, password=pw, rFCEmisor="EKU9003173C9",
                                 listaCFDI={"DetalleCFDICancelacion": [{"UUID": third, "Motivo": "03"}]})
    assert a.OperacionExitosa and a.Referencia == third
    st = fel.EstatusCancelacionAsincrona(usuario=user, password=pw, referencia=a.Referencia)
    assert st.OperacionExitosa and st.Estatus == "Cancelado sin aceptación" and "<" in st.XMLAcuse
    # a wrong .pfx password: FEL's error shape, nothing cancelled
    fourth = issue(sat, sat.erp(), "FEL-5")
    bad = fel.CancelarCFDI(usuario=user, password=pw, listaCFDI={"DetalleCFDICancelacion": [{"UUID": fourth,
                                                                                             "Motivo": "02"}]},
                           clavePrivada_Base64=pfx_b64(sat, "EKU9003173C9"), passwordClavePrivada="wrong")
    assert not bad.OperacionExitosa and bad.MensajeError and bad.DetallesCancelacion is None
    # related documents
    rel = fel.ConsultarComprobantesRelacionados(usuario=user, password=pw, UUID=fourth, RFCReceptor="URE180429TM6")
    assert rel.OperacionExitosa and rel.Relacionados.UuidConsultado == fourth
    # the printed representation, with the account's look or with a logo for this one PDF
    pdf = fel.ObtenerPDF(usuario=user, password=pw, uUID=uuid)
    assert pdf.OperacionExitosa
    printed = base64.b64decode(pdf.PDFResultado)
    assert printed == sat.pac.printing.pdf(Principal(sat.demo.account_id, "emisor"), uuid).pdf and uuid in _pdf_text(printed)
    logo = _png(40, 20)
    with_logo = base64.b64decode(fel.ObtenerPDF(usuario=user, password=pw, uUID=uuid,
                                                LogoBase64=base64.b64encode(logo).decode()).PDFResultado)
    assert with_logo != printed and uuid in _pdf_text(with_logo)
    bad_logo = fel.ObtenerPDF(usuario=user, password=pw, uUID=uuid, LogoBase64="bm8gZXMgdW5hIGltYWdlbg==")
    assert not bad_logo.OperacionExitosa and bad_logo.CodigoRespuesta == "T190"


def test_the_receptor_accepts_over_soap(sat: Api):
    fel = zeep_client(sat.client(), PATH).service
    receptor_account(sat)  # user "receptor" holds XIA190128J61 and its CSD
    uuid = issue(sat, sat.erp(), "FEL-R", receptor=XIA)
    past_next_business_day(sat)
    c = fel.CancelarCFDI(usuario=sat.demo.username, password=sat.demo.password,
                         listaCFDI={"DetalleCFDICancelacion": [{"UUID": uuid, "Motivo": "02"}]})
    assert c.DetallesCancelacion.DetalleCancelacion[0].CodigoResultado == "201"
    p = fel.ObtenerPeticionesPendientesCancelacion(usuario="receptor", password=PASSWORD, rFCReceptor=XIA["Rfc"])
    assert p.OperacionExitosa and p.CodigoRespuesta == "1100" and [u.upper() for u in p.UUIDs.string] == [uuid]
    r = fel.ProcesarAceptacionRechazo(usuario="receptor", password=PASSWORD, rFCReceptor=XIA["Rfc"],
                                      uUIDs={"UUIDProcesarRespuesta": [{"UUID": uuid, "Aceptar": True}]},
                                      clavePrivada_Base64=pfx_b64(sat, XIA["Rfc"]), passwordClavePrivada="pfx-pass")
    [folio] = r.Folios.FolioRespuesta
    assert r.OperacionExitosa and (folio.UUID.upper(), folio.EstatusUUID, folio.Respuesta) == \
        (uuid, "1000", "Aceptacion")
    done = fel.EstatusCancelacionAsincrona(usuario=sat.demo.username, password=sat.demo.password, referencia=uuid)
    assert done.Estatus == "Cancelado con aceptación"
    empty = fel.ObtenerPeticionesPendientesCancelacion(usuario="receptor", password=PASSWORD, rFCReceptor="")
    assert empty.CodigoRespuesta == "1101" and empty.UUIDs is None


def test_errors_credentials_and_password_change(sat: Api):
    client = sat.client()
    fel = zeep_client(client, PATH).service
    user, pw = sat.demo.username, sat.demo.password
    # SAT's code and every finding: a document whose Sello does not match
    tampered = sat.document("FEL-E").replace(b'Folio="FEL-E"', b'Folio="FEL-X"')
    r = fel.TimbrarCFDI(usuario=user, password=pw, cadenaXML=tampered.decode(), referencia="")
    assert not r.OperacionExitosa and r.CodigoRespuesta == "CFDI40102" and r.Timbre is None
    assert "CFDI40102" in r.MensajeErrorDetallado and r.MensajeError
    # every operation refuses bad credentials in FEL's shape (an API key is accepted as the password); a user
    # per operation keeps the login throttle (10 failures per user) out of the way
    for op in SERVICE.ops:
        args = {p.name: None for p in op.params}
        for name, value in (("usuario", f"nadie-{op.name}"), ("password", "not the password"),
                            ("passwordActual", "not the password")):
            if name in args:
                args[name] = value
        got = getattr(fel, op.name)(**args)
        assert getattr(got, "OperacionExitosa", None) is not True, op.name
        if hasattr(got, "CodigoRespuesta"):
            assert got.CodigoRespuesta == "T101", op.name
        assert got.MensajeError == "Credenciales inválidas o ausentes.", op.name
    assert fel.ConsultarCreditos(usuario="", password=sat.demo.api_key).OperacionExitosa
    # CambiarPassword, then the new one works and the old one does not
    new = "una clave nueva y larga"
    assert fel.CambiarPassword(usuario=user, passwordActual=pw, passwordNuevo=new).OperacionExitosa
    assert fel.ConsultarCreditos(usuario=user, password=new).OperacionExitosa
    assert not fel.ConsultarCreditos(usuario=user, password=pw).OperacionExitosa
    short = fel.CambiarPassword(usuario=user, passwordActual=new, passwordNuevo="corta")
    assert not short.OperacionExitosa and short.CodigoRespuesta == "T111"


def test_same_document_over_rest_and_soap_is_one_stamp(sat: Api):
    doc = sat.document("X-1")
    rest = created(sat.erp().post("/v1/stamp", content=doc, headers={"Content-Type": "application/xml"}))
    fel = zeep_client(sat.client(), PATH).service
    r = fel.TimbrarCFDI(usuario=sat.demo.username, password=sat.demo.password, cadenaXML=doc.decode())
    assert r.OperacionExitosa and rest["uuid"] == r.Timbre.UUID and r.CodigoRespuesta == "307"
    assert r.CreditosRestantes == 99  # one credit for one stamp, whichever protocol asked twice
    # base64 of the document is understood too (some ERPs send it so)
    b64 = fel.TimbrarCFDI(usuario=sat.demo.username, password=sat.demo.password,
                          cadenaXML=base64.b64encode(doc).decode())
    assert rest["uuid"] == b64.Timbre.UUID


ENVELOPE = ('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>{}</s:Body></s:Envelope>')


def fault_code(r) -> str:
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/xml"), r.text[:300]
    assert "Traceback" not in r.text
    root = etree.fromstring(r.content)
    return root.findtext(".//detail/code")


def test_faults_for_what_is_not_an_operation(sat: Api, tmp_path: Path):
    c = sat.client()
    post = lambda body: c.post(PATH, content=body, headers={"Content-Type": "text/xml"})  # noqa: E731
    assert fault_code(post(b"")) == "T200"
    assert fault_code(post(b"<not-xml")) == "T200"
    assert fault_code(post(b"<a/>")) == "T200"
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cr3t")
    xxe = (f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret}">]>'
           + ENVELOPE.format('<ConsultarCreditos xmlns="http://tempuri.org/"><usuario>&e;</usuario>'
                             '</ConsultarCreditos>'))
    r = post(xxe.encode())
    assert fault_code(r) == "T200" and "s3cr3t" not in r.text
    assert fault_code(post(ENVELOPE.format('<Nada xmlns="http://tempuri.org/"/>').encode())) == "T201"
    wrong_type = ENVELOPE.format('<ConsultarComprobantes xmlns="http://tempuri.org/"><usuario>u</usuario>'
                                 '<filaInicial>uno</filaInicial></ConsultarComprobantes>')
    assert fault_code(post(wrong_type.encode())) == "T203"
    # SOAP 1.2 is answered in SOAP 1.2
    soap12 = ('<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><ConsultarCreditos '
              'xmlns="http://tempuri.org/"><usuario>x</usuario><password>y</password></ConsultarCreditos>'
              '</e:Body></e:Envelope>')
    r = c.post(PATH, content=soap12, headers={"Content-Type": "application/soap+xml"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/soap+xml")
    assert "Credenciales inválidas".encode() in r.content
    # the WSDL, for ?wsdl and ?singleWsdl, is a document zeep reads (and says where to call)
    for q in ("wsdl", "singleWsdl"):
        w = c.get(f"{PATH}?{q}")
        assert w.status_code == 200 and b'location="http://testserver/WSTimbrado33/WSCFDI33.svc"' in w.content
    client = zeep_client(c, PATH)
    assert set(client.service._binding._operations) == {o.name for o in SERVICE.ops}
    with pytest.raises(zeep.exceptions.Fault) as raised:  # a Fault is what zeep raises, not a parse error
        zeep_client(c, PATH).service._binding.process_reply(client, None, post(b"<a/>"))
    assert "T200" in str(raised.value.message)


def _pdf_text(data: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def _png(width: int, height: int) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()
