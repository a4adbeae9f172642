"""FEL's Conexión Remota (ConexionRemota.svc) driven by zeep built from the WSDL timbra serves, on SQLite and
PostgreSQL: GenerarCFDI40 from Comprobante40R through /v1/issue's builder (the same referencia namespace, the
same refusals naming the field), retrieval, cancellation with the vault's CSD, credits (ActivarPaquete by
the admin, TraspasarPaquete by a distributor), RFC lookup, the receptor's side, bad credentials."""
from __future__ import annotations

import base64
from decimal import Decimal

from lxml import etree

from tests.api.soap_clients import zeep_client
from tests.api.test_cancel import XIA, drain, issue, past_next_business_day, receptor_account, sat
from tests.api.test_rest import PASSWORD, Api, created, data_dir, emisor_csd, ok  # noqa: F401 - fixtures
from timbra.api.soap.fel_conexion_remota import SERVICE

FIXTURES = (sat, data_dir, emisor_csd)
PATH = "/CR33/ConexionRemota.svc"


def comprobante(folio: str, referencia: str | None = None, **extra) -> dict:
    return {
        "ClaveCFDI": "FAC", "Serie": "CR", "Folio": folio, "FormaDePago": "03", "MetodoDePago": "PUE",
        "Moneda": "MXN", "Exportacion": "01", "LugarExpedicion": "06000", "Referencia": referencia,
        "SubTotal": Decimal("300.00"), "Total": Decimal("348.00"),
        "Emisor": {"RegimenFiscal": "601"},
        "Receptor": {"Rfc": "URE180429TM6", "Nombre": "UNIVERSIDAD ROBOTICA ESPAÑOLA",
                     "DomicilioFiscalReceptor": "86991", "RegimenFiscalReceptor": "601", "UsoCFDI": "G03"},
        "Conceptos": {"Concepto40R": [{
            "ClaveProdServ": "84111506", "Cantidad": Decimal("2"), "ClaveUnidad": "E48", "Unidad": "Servicio",
            "Descripcion": "Servicio de facturación", "ValorUnitario": Decimal("150.00"), "ObjetoImp": "02",
            "Traslados": {"TrasladoConcepto40R": [{"Impuesto": "002", "TipoFactor": "Tasa",
                                                   "TasaOCuota": Decimal("0.160000")}]}}]},
        **extra,
    }


def test_generar_retrieve_and_cancel(sat: Api):
    cr = zeep_client(sat.client(), PATH).service
    cred = {"Cuenta": "EKU9003173C9", "Usuario": sat.demo.username, "Password": sat.demo.password}
    r = cr.GenerarCFDI40(credenciales=cred, cfdi=comprobante("1", "PED-77"))
    assert r.OperacionExitosa and r.ErrorGeneral is None and r.FolioGenerado == "1"
    root = etree.fromstring(r.XML.encode())
    uuid = root.find(".//{*}TimbreFiscalDigital").get("UUID")
    assert (root.get("SubTotal"), root.get("Total"), root.find("{*}Emisor").get("Rfc")) == \
        ("300.00", "348.00", "EKU9003173C9")
    # the referencia: a retry answers the first CFDI, found over REST too
    again = cr.GenerarCFDI40(credenciales=cred, cfdi=comprobante("2", "PED-77"))
    assert etree.fromstring(again.XML.encode()).find(".//{*}TimbreFiscalDigital").get("UUID") == uuid
    assert ok(sat.erp().get("/v1/issue/PED-77"))["uuid"] == uuid
    for op in ("ObtenerXMLPorReferencia", "ObtenerXMLPorReferencia40"):
        assert getattr(cr, op)(credenciales=cred, referencia="PED-77").XML == r.XML
    for op in ("ObtenerXMLPorUUID", "ObtenerXMLPorUUID40", "ObtenerXMLyAddendaPorUUID40"):
        assert getattr(cr, op)(credenciales=cred, uuid=uuid).XML == r.XML
    # a refusal names the field of the data
    bad = cr.GenerarCFDI40(credenciales=cred, cfdi=comprobante("3", LugarExpedicion="0600"))
    assert not bad.OperacionExitosa and bad.ErrorGeneral.startswith("T130") and "LugarExpedicion" in bad.ErrorDetallado
    # acuses, listing, PDF not available yet
    drain(sat)
    assert b"Acuse" in cr.ObtenerAcuseEnvio40(credenciales=cred, uuid=uuid).XML.encode()
    report = cr.ObtenerComprobantes40(credenciales=cred, fechaInicial="2020-01-01T00:00:00",
                                      fechaFinal="2099-01-01T00:00:00", filaInicial=1)
    [row] = report.ListaComprobantes.RegistroComprobanteCR
    assert (report.TotalComprobantesPeriodo, row.UUID, row.Serie, row.Folio, row.Total) == \
        (1, uuid, "CR", "1", Decimal("348.00"))
    pdf = cr.ObtenerPDF40(credenciales=cred, uuid=uuid, nombrePlantilla="")
    assert pdf.OperacionExitosa and base64.b64decode(pdf.PDF).startswith(b"%PDF")
    assert base64.b64decode(pdf.PDF) == base64.b64decode(cr.ObtenerPDF(credenciales=cred, uuid=uuid,
                                                                        nombrePlantilla="").PDF)
    # cancellation with the vault's CSD: V4 with motivos, the pre-2022 one with 02, and with validation
    other, third = issue(sat, sat.erp(), "CR-2"), issue(sat, sat.erp(), "CR-3")
    c = cr.CancelarCFDIsV4(credenciales=cred, uuids={"UUIDMotivoCancelacionCR": [{"UUID": uuid, "Motivo": "02"}]})
    [d] = c.DetallesCancelacion.DetalleCancelacionCR
    assert c.OperacionExitosa and (d.UUID, d.CodigoResultado) == (uuid, "201") and "Acuse" in c.Acuse
    assert c.Acuse == cr.ObtenerAcuseCancelacion40(credenciales=cred, uuid=uuid).XML
    old = cr.CancelarCFDIs(credenciales=cred, uuids={"string": [other]})
    assert old.DetallesCancelacion.DetalleCancelacionCR[0].CodigoResultado == "201"
    v = cr.CancelarCFDIsConValidacion(credenciales=cred,
                                      uuids={"UUIDMotivoCancelacionCR": [{"UUID": third, "Motivo": "03"}]})
    [d] = v.DetallesCancelacion.DetalleCancelacionCR
    assert (d.CodigoResultado, d.EsCancelable) == ("201", "Cancelable sin aceptación")
    assert cr.ValidarRFC(credenciales=cred, rfc="EKU9003173C9").RFCLocalizado


def test_credits_and_the_receptor(sat: Api):
    cr = zeep_client(sat.client(), PATH).service
    emisor = {"Usuario": sat.demo.username, "Password": sat.demo.password}
    n = cr.ObtenerNumerosCreditos(credenciales=emisor)
    assert (n.CreditosRestantes, n.CreditosUsados, n.OperacionExitosa) == (100, 0, True)
    # ActivarPaquete: the admin sells a package to the account named in Cuenta
    admin = {"Usuario": sat.demo.admin_username, "Password": sat.demo.admin_password,
             "Cuenta": str(sat.demo.account_id)}
    assert cr.ActivarPaquete(credenciales=admin, numCreditos=50).CreditosRestantes == 150
    refused = cr.ActivarPaquete(credenciales=emisor, numCreditos=50)
    assert not refused.OperacionExitosa and refused.ErrorGeneral.startswith("T102")
    # TraspasarPaquete: a distributor hands credits to its client, named by its RFC
    a = sat.admin()
    dist = created(a.post("/v1/accounts", json={"kind": "distributor", "name": "Dist", "username": "dist",
                                                "password": PASSWORD}))
    created(a.post(f"/v1/accounts/{dist['id']}/packages", json={"size": 40}))
    d = sat.basic("dist", PASSWORD)
    created(d.post("/v1/accounts", json={"kind": "emisor", "name": "Cliente", "rfcs": ["IIA040805DZ4"],
                                         "username": "cliente", "password": PASSWORD}))
    t = cr.TraspasarPaquete(credenciales={"Usuario": "dist", "Password": PASSWORD}, numCreditos=15,
                            cuentaDestino="IIA040805DZ4")
    assert t.OperacionExitosa and t.CreditosRestantes == 25
    assert cr.ObtenerNumerosCreditos(credenciales={"Usuario": "cliente", "Password": PASSWORD}).CreditosRestantes == 15
    nowhere = cr.TraspasarPaquete(credenciales={"Usuario": "dist", "Password": PASSWORD}, numCreditos=1,
                                  cuentaDestino="EKU9003173C9")
    assert nowhere.ErrorGeneral.startswith("T103")
    # the receptor's side, with its CSD in the vault
    receptor_account(sat)
    uuid = issue(sat, sat.erp(), "CR-R", receptor=XIA)
    past_next_business_day(sat)
    cr.CancelarCFDIsV4(credenciales=emisor, uuids={"UUIDMotivoCancelacionCR": [{"UUID": uuid, "Motivo": "02"}]})
    receptor = {"Usuario": "receptor", "Password": PASSWORD}
    [p] = cr.ObtenerSolicitudesPendientesCancelacion(credenciales=receptor).Solicitudes.SolicitudPendienteCR
    assert (p.UUID.upper(), p.RfcEmisor, p.RfcReceptor) == (uuid, "EKU9003173C9", XIA["Rfc"])
    r = cr.ProcesarSolicitudesCancelacion(credenciales=receptor,
                                          uuids={"UUIDProcesarRespuesta": [{"UUID": uuid, "Aceptar": False}]})
    [f] = r.Folios.FolioRespuestaCR
    assert (f.EstatusUUID, f.Respuesta) == ("1000", "Rechazo")
    done = cr.ObtenerSolicitudesCancelacionProcesadas(credenciales=receptor, fechaInicial="2020-01-01T00:00:00",
                                                      fechaFinal="2099-01-01T00:00:00", filaInicial=1)
    [s] = done.Solicitudes.SolicitudProcesadaCR
    assert (done.TotalSolicitudes, s.UUID.upper(), s.Respuesta, s.CodigoRespuesta) == (1, uuid, "Rechazo", "1000")


def test_every_operation_refuses_bad_credentials(sat: Api):
    cr = zeep_client(sat.client(), PATH).service
    for op in SERVICE.ops:
        args = {p.name: None for p in op.params}
        args["credenciales"] = {"Usuario": f"nadie-{op.name}", "Password": "not the password", "Cuenta": "X"}
        got = getattr(cr, op.name)(**args)
        assert got.OperacionExitosa is False and got.ErrorGeneral.startswith("T101"), op.name
    assert cr.ObtenerNumerosCreditos(credenciales={"Password": sat.demo.api_key}).OperacionExitosa
