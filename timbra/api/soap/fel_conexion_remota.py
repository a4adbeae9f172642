"""FEL's "Conexión Remota" service (ConexionRemota.svc): the ERP sends the data, timbra builds, seals with the
CSD in its vault and stamps (the very path of POST /v1/issue).

Names follow FEL's WCF service as public client code shows it (Axis proxies of IConexionRemota, PHP and n8n
clients; see docs/soap.md): operations in http://tempuri.org/ with SOAPAction
http://tempuri.org/IConexionRemota/<Op>, data contracts in http://schemas.datacontract.org/2004/07/
TES.V33.CFDI.Negocios (members in alphabetical order), binding and port soapHttpEndpoint. Every operation
takes `credenciales` {Cuenta, Password, Usuario}: Usuario and Password (or an API key as Password) log in;
Cuenta, when it is one of the account's RFCs, is the Emisor's RFC (an account with several RFCs needs it).

Comprobante40R carries Anexo 20's names; timbra computes Importe, taxes, SubTotal, Descuento and Total from
the conceptos and writes Fecha (the ones sent are not used), exactly as /v1/issue. A refusal answers
OperacionExitosa false with the code and message in ErrorGeneral and every finding in ErrorDetallado.
"""
from __future__ import annotations

import base64
from datetime import datetime, timezone

from timbra.api.soap.common import STATUS_TEXT, account_named, local_instant, padron_rfc, period
from timbra.api.soap.endpoint import Ctx, Endpoint, findings_text
from timbra.api.soap.wsdl import MS_ARRAYS, F, Op, Service, T, array
from timbra.cfdi.cancellation import Folio
from timbra.cfdi.tfd import fecha_timbrado
from timbra.codes import error
from timbra.errors import TimbraError
from timbra.pac.accounts import Principal
from timbra.pac.cancelling import Signing
from timbra.pac.stamping import StampResult

TNS = "http://tempuri.org/"
TYPES = "http://schemas.datacontract.org/2004/07/TES.V33.CFDI.Negocios"
PAGE = 50
TIPO = {"FAC": "I", "NCR": "E", "NC": "E"}  # ClaveCFDI -> TipoDeComprobante (Ingreso unless a nota de crédito)


def _c(*more: F) -> tuple[F, ...]:
    return (F("credenciales", "Credenciales"), *more)


_UUID = F("uuid")
_PERIOD = (F("fechaInicial", "dateTime"), F("fechaFinal", "dateTime"), F("filaInicial", "int"))
_ERR = (F("ErrorDetallado"), F("ErrorGeneral"))


def _twice(name: str, params: tuple[F, ...], result: str, *, also: tuple[str, ...] = ("40",)) -> tuple[Op, ...]:
    return (Op(name, params, result), *(Op(f"{name}{v}", params, result) for v in also))


SERVICE = Service(
    name="ConexionRemota", dialect="wcf", tns=TNS, types_ns=TYPES, port_type="IConexionRemota",
    binding="soapHttpEndpoint", port="soapHttpEndpoint",
    ops=(
        Op("GenerarCFDI40", _c(F("cfdi", "Comprobante40R")), "RespuestaOperacionCR"),
        *_twice("ObtenerXMLPorUUID", _c(_UUID), "RespuestaOperacionCR"),
        *_twice("ObtenerXMLPorReferencia", _c(F("referencia")), "RespuestaOperacionCR"),
        *_twice("ObtenerXMLyAddendaPorUUID", _c(_UUID), "RespuestaOperacionCR"),
        *_twice("ObtenerPDF", _c(_UUID, F("nombrePlantilla")), "RespuestaOperacionCR"),
        *_twice("ObtenerAcuseEnvio", _c(_UUID), "RespuestaOperacionCR"),
        *_twice("ObtenerAcuseCancelacion", _c(_UUID), "RespuestaOperacionCR"),
        Op("CancelarCFDIs", _c(F("uuids", "ArrayOfstring")), "RespuestaCancelacionCR"),
        Op("CancelarCFDIsConValidacion", _c(F("uuids", "ArrayOfUUIDMotivoCancelacionCR")), "RespuestaCancelacionCR"),
        Op("CancelarCFDIsV4", _c(F("uuids", "ArrayOfUUIDMotivoCancelacionCR")), "RespuestaCancelacionCR"),
        *_twice("ObtenerComprobantes", _c(*_PERIOD), "RespuestaReporteCR"),
        Op("ObtenerNumerosCreditos", _c(), "RespuestaNumeroCreditosCR"),
        Op("ActivarPaquete", _c(F("numCreditos", "int")), "RespuestaNumeroCreditosCR"),
        Op("TraspasarPaquete", _c(F("numCreditos", "int"), F("cuentaDestino")), "RespuestaNumeroCreditosCR"),
        Op("ValidarRFC", _c(F("rfc")), "RespuestaValidacionRFCCR"),
        Op("ObtenerSolicitudesPendientesCancelacion", _c(), "RespuestaSolicitudesPendientesCR"),
        Op("ProcesarSolicitudesCancelacion", _c(F("uuids", "ArrayOfUUIDProcesarRespuesta")),
           "RespuestaProcesarSolicitudCR"),
        Op("ObtenerSolicitudesCancelacionProcesadas", _c(*_PERIOD), "RespuestaSolicitudesProcesadasCR"),
    ),
    types=(
        T("Credenciales", (F("Cuenta"), F("Password"), F("Usuario"))),
        T("Comprobante40R", (
            F("CfdiRelacionados40R", "CfdiRelacionados40R"), F("ClaveCFDI"), F("Conceptos", "ArrayOfConcepto40R"),
            F("CondicionesDePago"), F("Confirmacion"), F("Descuento", "decimal"), F("Emisor", "Emisor40R"),
            F("Exportacion"), F("Fecha", "dateTime"), F("Folio"), F("FormaDePago"),
            F("InformacionGlobal", "InformacionGlobal40R"), F("LugarExpedicion"), F("MetodoDePago"), F("Moneda"),
            F("Receptor", "Receptor40R"), F("Referencia"), F("Serie"), F("SubTotal", "decimal"),
            F("TipoCambio", "decimal"), F("Total", "decimal"))),
        T("CfdiRelacionado40R", (F("UUID"),)),
        array("ArrayOfCfdiRelacionado40R", "CfdiRelacionado40R"),
        T("CfdiRelacionados40R", (F("CfdiRelacionado40R", "ArrayOfCfdiRelacionado40R"), F("TipoRelacion"))),
        T("Emisor40R", (F("FacAtrAdquirente"), F("Nombre"), F("RegimenFiscal"))),
        T("Receptor40R", (F("DomicilioFiscalReceptor"), F("Nombre"), F("NumRegIdTrib"), F("RegimenFiscalReceptor"),
                          F("ResidenciaFiscal"), F("Rfc"), F("UsoCFDI"))),
        T("InformacionGlobal40R", (F("Año", "int"), F("Meses"), F("Periodicidad"))),
        T("TrasladoConcepto40R", (F("Base", "decimal"), F("Importe", "decimal"), F("Impuesto"),
                                  F("TasaOCuota", "decimal"), F("TipoFactor"))),
        array("ArrayOfTrasladoConcepto40R", "TrasladoConcepto40R"),
        T("RetencionConcepto40R", (F("Base", "decimal"), F("Importe", "decimal"), F("Impuesto"),
                                   F("TasaOCuota", "decimal"), F("TipoFactor"))),
        array("ArrayOfRetencionConcepto40R", "RetencionConcepto40R"),
        T("Concepto40R", (F("Cantidad", "decimal"), F("ClaveProdServ"), F("ClaveUnidad"), F("CuentaPredial"),
                          F("Descripcion"), F("Descuento", "decimal"), F("Importe", "decimal"),
                          F("NoIdentificacion"), F("ObjetoImp"), F("Retenciones", "ArrayOfRetencionConcepto40R"),
                          F("Traslados", "ArrayOfTrasladoConcepto40R"), F("Unidad"),
                          F("ValorUnitario", "decimal"))),
        array("ArrayOfConcepto40R", "Concepto40R"),
        T("RespuestaOperacionCR", (F("CBB"), F("CodigoConfirmacion"), *_ERR, F("FechaGenerada", "dateTime"),
                                   F("FolioGenerado"), F("OperacionExitosa", "boolean"), F("PDF"), F("XML"))),
        T("UUIDMotivoCancelacionCR", (F("FolioSustitucion"), F("Motivo"), F("UUID"))),
        array("ArrayOfUUIDMotivoCancelacionCR", "UUIDMotivoCancelacionCR"),
        T("DetalleCancelacionCR", (F("CodigoResultado"), F("EsCancelable"), F("MensajeResultado"), F("UUID"))),
        array("ArrayOfDetalleCancelacionCR", "DetalleCancelacionCR"),
        T("RespuestaCancelacionCR", (F("Acuse"), F("DetallesCancelacion", "ArrayOfDetalleCancelacionCR"), *_ERR,
                                     F("OperacionExitosa", "boolean"))),
        T("RegistroComprobanteCR", (F("Estado"), F("FechaTimbrado", "dateTime"), F("Folio"), F("NoFila", "int"),
                                    F("RFCEmisor"), F("RFCReceptor"), F("Serie"), F("Total", "decimal"),
                                    F("UUID"))),
        array("ArrayOfRegistroComprobanteCR", "RegistroComprobanteCR"),
        T("RespuestaReporteCR", (*_ERR, F("ListaComprobantes", "ArrayOfRegistroComprobanteCR"),
                                 F("OperacionExitosa", "boolean"), F("TotalComprobantesPeriodo", "int"))),
        T("RespuestaNumeroCreditosCR", (F("CreditosRestantes", "int"), F("CreditosUsados", "int"), *_ERR,
                                        F("OperacionExitosa", "boolean"))),
        T("RespuestaValidacionRFCCR", (F("Cancelado", "boolean"), *_ERR, F("OperacionExitosa", "boolean"), F("RFC"),
                                       F("RFCLocalizado", "boolean"), F("Subcontratacion", "boolean"),
                                       F("UnidadSNCF", "boolean"))),
        T("SolicitudPendienteCR", (F("FechaSolicitud", "dateTime"), F("FechaVencimiento", "dateTime"),
                                   F("RfcEmisor"), F("RfcReceptor"), F("Total"), F("UUID"))),
        array("ArrayOfSolicitudPendienteCR", "SolicitudPendienteCR"),
        T("RespuestaSolicitudesPendientesCR", (*_ERR, F("OperacionExitosa", "boolean"),
                                               F("Solicitudes", "ArrayOfSolicitudPendienteCR"))),
        T("UUIDProcesarRespuesta", (F("Aceptar", "boolean"), F("UUID"))),
        array("ArrayOfUUIDProcesarRespuesta", "UUIDProcesarRespuesta"),
        T("FolioRespuestaCR", (F("EstatusUUID"), F("Respuesta"), F("UUID"))),
        array("ArrayOfFolioRespuestaCR", "FolioRespuestaCR"),
        T("RespuestaProcesarSolicitudCR", (*_ERR, F("Folios", "ArrayOfFolioRespuestaCR"),
                                           F("OperacionExitosa", "boolean"))),
        T("SolicitudProcesadaCR", (F("CodigoRespuesta"), F("FechaRespuesta", "dateTime"), F("Respuesta"),
                                   F("UUID"))),
        array("ArrayOfSolicitudProcesadaCR", "SolicitudProcesadaCR"),
        T("RespuestaSolicitudesProcesadasCR", (*_ERR, F("OperacionExitosa", "boolean"),
                                               F("Solicitudes", "ArrayOfSolicitudProcesadaCR"),
                                               F("TotalSolicitudes", "int"))),
        array("ArrayOfstring", "string", ns=MS_ARRAYS),
    ),
)


def on_error(op: Op, exc: TimbraError) -> dict:
    return {"OperacionExitosa": False, "ErrorGeneral": f"{exc.code}: {exc.message}",
            "ErrorDetallado": findings_text(exc)}


async def _login(ctx: Ctx, a: dict) -> tuple[Principal, str | None]:
    """The caller, and Cuenta when it is one of the account's RFCs (then the Emisor's RFC)."""
    c = a["credenciales"] or {}
    who = await ctx.login(c.get("Usuario"), c.get("Password"))
    cuenta = (c.get("Cuenta") or "").strip().upper()
    rfcs = await ctx.io(ctx.pac.accounts.rfcs, who.account_id)
    return who, cuenta if cuenta in rfcs else None


# --- issuing -------------------------------------------------------------------------------------------------

def _clean(d: dict) -> dict:
    return {k: v for k, v in d.items() if v not in (None, "", [], {})}


def _taxes(items: list[dict] | None) -> list[dict]:
    return [_clean({"Impuesto": t.get("Impuesto"), "TipoFactor": t.get("TipoFactor"),
                    "TasaOCuota": t.get("TasaOCuota"), "Base": t.get("Base")}) for t in items or []]


def invoice_data(c: dict, rfc: str | None) -> dict:
    """Comprobante40R -> the data of /v1/issue (timbra.build.invoice.Invoice), in Anexo 20's names."""
    e, r, g, rel = c.get("Emisor") or {}, c.get("Receptor") or {}, c.get("InformacionGlobal"), \
        c.get("CfdiRelacionados40R")
    conceptos = []
    for k in c.get("Conceptos") or []:
        impuestos = _clean({"Traslados": _taxes(k.get("Traslados")), "Retenciones": _taxes(k.get("Retenciones"))})
        conceptos.append(_clean({
            "ClaveProdServ": k.get("ClaveProdServ"), "NoIdentificacion": k.get("NoIdentificacion"),
            "Cantidad": k.get("Cantidad"), "ClaveUnidad": k.get("ClaveUnidad"), "Unidad": k.get("Unidad"),
            "Descripcion": k.get("Descripcion"), "ValorUnitario": k.get("ValorUnitario"),
            "Descuento": k.get("Descuento"), "ObjetoImp": k.get("ObjetoImp"), "Impuestos": impuestos or None,
            "CuentaPredial": [k["CuentaPredial"]] if k.get("CuentaPredial") else None}))
    return _clean({
        "Serie": c.get("Serie"), "Folio": c.get("Folio"),
        "TipoDeComprobante": TIPO.get((c.get("ClaveCFDI") or "FAC").strip().upper(), "I"),
        "FormaPago": c.get("FormaDePago"), "MetodoPago": c.get("MetodoDePago"),
        "CondicionesDePago": c.get("CondicionesDePago"), "Moneda": c.get("Moneda"), "TipoCambio": c.get("TipoCambio"),
        "Exportacion": c.get("Exportacion"), "LugarExpedicion": c.get("LugarExpedicion"),
        "Emisor": _clean({"Rfc": rfc, "Nombre": e.get("Nombre"), "RegimenFiscal": e.get("RegimenFiscal"),
                          "FacAtrAdquirente": e.get("FacAtrAdquirente")}),
        "Receptor": _clean({k: r.get(k) for k in ("Rfc", "Nombre", "DomicilioFiscalReceptor", "RegimenFiscalReceptor",
                                                   "UsoCFDI", "ResidenciaFiscal", "NumRegIdTrib")}),
        "InformacionGlobal": _clean({"Periodicidad": g.get("Periodicidad"), "Meses": g.get("Meses"),
                                     "Año": g.get("Año")}) if g else None,
        "CfdiRelacionados": [{"TipoRelacion": rel.get("TipoRelacion"),
                              "UUIDs": [x.get("UUID") for x in rel.get("CfdiRelacionado40R") or []]}]
        if rel else None,
        "Conceptos": conceptos,
    })


def _operacion(r: StampResult, folio: str | None = None) -> dict:
    return {"CBB": None, "CodigoConfirmacion": None, "ErrorDetallado": None, "ErrorGeneral": None,
            "FechaGenerada": r.fecha_timbrado, "FolioGenerado": folio, "OperacionExitosa": True, "PDF": None,
            "XML": r.xml.decode("utf-8")}


async def generar(ctx: Ctx, a: dict) -> dict:
    who, rfc = await _login(ctx, a)
    c = a["cfdi"] or {}
    referencia = (c.get("Referencia") or "").strip() or None
    result = await ctx.stamp(ctx.pac.issuing.issue, who, invoice_data(c, rfc), referencia)
    return _operacion(result, c.get("Folio"))


# --- retrieval -----------------------------------------------------------------------------------------------

def _xml(xml: bytes | str) -> dict:
    return {"OperacionExitosa": True, "XML": xml if isinstance(xml, str) else xml.decode("utf-8")}


async def xml_por_uuid(ctx: Ctx, a: dict) -> dict:
    who, _ = await _login(ctx, a)
    return _xml(await ctx.io(ctx.pac.cfdis.xml, who, (a["uuid"] or "").strip()))


async def xml_por_referencia(ctx: Ctx, a: dict) -> dict:
    who, _ = await _login(ctx, a)
    return _operacion(await ctx.io(ctx.pac.issuing.by_referencia, who, (a["referencia"] or "").strip()))


async def pdf(ctx: Ctx, a: dict) -> dict:
    """The representación impresa as base64 in PDF (nombrePlantilla: timbra has one layout, with the
    account's logo and colour)."""
    who, _ = await _login(ctx, a)
    printed = await ctx.io(ctx.pac.printing.pdf, who, (a["uuid"] or "").strip())
    return {"OperacionExitosa": True, "PDF": base64.b64encode(printed.pdf).decode("ascii")}


async def acuse_envio(ctx: Ctx, a: dict) -> dict:
    who, _ = await _login(ctx, a)
    return _xml((await ctx.io(ctx.pac.cfdis.acuse, who, (a["uuid"] or "").strip())).xml)


async def acuse_cancelacion(ctx: Ctx, a: dict) -> dict:
    who, _ = await _login(ctx, a)
    return _xml(await ctx.io(ctx.pac.cancels.acuse, who, (a["uuid"] or "").strip()))


# --- cancellation --------------------------------------------------------------------------------------------

async def _cancel(ctx: Ctx, a: dict, folios: list[Folio], *, validate: bool = False) -> dict:
    pac = ctx.pac
    who, _ = await _login(ctx, a)
    if not folios:
        raise error("T180")
    cancelable: dict[str, str] = {}
    if validate:
        for f in folios:
            try:
                cancelable[f.uuid.upper()] = (await ctx.io(pac.cancels.status, who, f.uuid))["es_cancelable"]
            except TimbraError:
                pass
    result = await ctx.cpu(pac.cancels.cancel, who, folios, Signing())
    acuse = None
    for f in result.folios:
        if f.request_id is not None and f.code != "T183":
            try:
                acuse = (await ctx.io(pac.cancels.acuse, who, f.uuid)).decode("utf-8")
                break
            except TimbraError:
                continue
    return {"Acuse": acuse, "ErrorDetallado": None, "ErrorGeneral": None, "OperacionExitosa": True,
            "DetallesCancelacion": [{"CodigoResultado": f.code, "EsCancelable": cancelable.get(f.uuid),
                                     "MensajeResultado": f.message, "UUID": f.uuid} for f in result.folios]}


async def cancelar(ctx: Ctx, a: dict) -> dict:
    """The pre-2022 operation, UUIDs without a motivo: cancelled with motivo 02 (errors without relation)."""
    return await _cancel(ctx, a, [Folio((u or "").strip(), "02") for u in a["uuids"] or []])


def _v4(a: dict) -> list[Folio]:
    return [Folio((u.get("UUID") or "").strip(), (u.get("Motivo") or "").strip(),
                  (u.get("FolioSustitucion") or "").strip() or None) for u in a["uuids"] or []]


async def cancelar_v4(ctx: Ctx, a: dict) -> dict:
    return await _cancel(ctx, a, _v4(a))


async def cancelar_con_validacion(ctx: Ctx, a: dict) -> dict:
    return await _cancel(ctx, a, _v4(a), validate=True)


# --- listing, credits, RFCs ----------------------------------------------------------------------------------

async def comprobantes(ctx: Ctx, a: dict) -> dict:
    who, _ = await _login(ctx, a)
    rows = await ctx.io(lambda: period(ctx.pac, who, local_instant(a["fechaInicial"]),
                                       local_instant(a["fechaFinal"])))
    first = max(1, a["filaInicial"] or 1)
    return {"ErrorDetallado": None, "ErrorGeneral": None, "OperacionExitosa": True,
            "TotalComprobantesPeriodo": len(rows), "ListaComprobantes": [
                {"Estado": STATUS_TEXT.get(r.status, r.status), "FechaTimbrado": fecha_timbrado(r.fecha_timbrado),
                 "Folio": r.folio or None, "NoFila": n, "RFCEmisor": r.rfc_emisor, "RFCReceptor": r.rfc_receptor,
                 "Serie": r.serie or None, "Total": r.total, "UUID": r.uuid}
                for n, r in enumerate(rows[first - 1: first - 1 + PAGE], start=first)]}


def _numbers(balance) -> dict:
    return {"CreditosRestantes": balance.available, "CreditosUsados": sum(p.used for p in balance.packages),
            "ErrorDetallado": None, "ErrorGeneral": None, "OperacionExitosa": True}


async def numeros_creditos(ctx: Ctx, a: dict) -> dict:
    who, _ = await _login(ctx, a)
    return _numbers(await ctx.io(ctx.pac.credits.balance, who))


async def activar_paquete(ctx: Ctx, a: dict) -> dict:
    """The PAC's admin sells a package of numCreditos to the account named in Cuenta (its id or an RFC of it)."""
    pac = ctx.pac
    c = a["credenciales"] or {}
    who, _ = await _login(ctx, a)
    if not who.is_admin:
        raise error("T102", message="Solo el administrador del PAC activa paquetes.",
                    message_en="Only the PAC admin activates packages.")
    target = await ctx.io(account_named, ctx.pac, who, c.get("Cuenta") or "")
    await ctx.io(lambda: pac.credits.add_package(who, target, a["numCreditos"] or 0))
    return _numbers(await ctx.io(pac.credits.balance, who, target))


async def traspasar_paquete(ctx: Ctx, a: dict) -> dict:
    """A distributor hands numCreditos to one of its clients (cuentaDestino: its id or an RFC of it); the answer
    is the distributor's balance after it."""
    pac = ctx.pac
    who, _ = await _login(ctx, a)
    target = await ctx.io(account_named, ctx.pac, who, a["cuentaDestino"] or "")
    await ctx.io(pac.credits.transfer, who, target, a["numCreditos"] or 0)
    return _numbers(await ctx.io(pac.credits.balance, who))


async def validar_rfc(ctx: Ctx, a: dict) -> dict:
    await _login(ctx, a)
    rfc = (a["rfc"] or "").strip().upper()
    found = padron_rfc(ctx.pac, rfc)
    return {"Cancelado": bool(found is not None and not found.puede_facturar), "ErrorDetallado": None,
            "ErrorGeneral": None, "OperacionExitosa": True, "RFC": rfc, "RFCLocalizado": found is not None,
            "Subcontratacion": False, "UnidadSNCF": False}


# --- the receptor's side -------------------------------------------------------------------------------------

async def pendientes(ctx: Ctx, a: dict) -> dict:
    who, _ = await _login(ctx, a)
    items = await ctx.io(ctx.pac.cancels.pending, who)
    return {"ErrorDetallado": None, "ErrorGeneral": None, "OperacionExitosa": True, "Solicitudes": [
        {"FechaSolicitud": p.requested_at, "FechaVencimiento": p.deadline, "RfcEmisor": p.rfc_emisor,
         "RfcReceptor": p.rfc_receptor, "Total": p.total, "UUID": p.uuid} for p in items]}


async def procesar(ctx: Ctx, a: dict) -> dict:
    """Signed with the receptor's CSD in the vault (Conexión Remota keeps the CSD at the PAC)."""
    pac = ctx.pac
    who, _ = await _login(ctx, a)
    folios = []
    for item in a["uuids"] or []:
        respuesta = "Aceptacion" if item.get("Aceptar") else "Rechazo"
        uuid = (item.get("UUID") or "").strip()
        try:
            r = await ctx.cpu(pac.cancels.answer, who, uuid, respuesta, Signing())
            folios.append({"EstatusUUID": r["code"], "Respuesta": respuesta, "UUID": r["uuid"]})
        except TimbraError as exc:
            if exc.code != "T184":
                raise
            folios.append({"EstatusUUID": "1001", "Respuesta": respuesta, "UUID": uuid})
    return {"ErrorDetallado": None, "ErrorGeneral": None, "Folios": folios, "OperacionExitosa": True}


async def procesadas(ctx: Ctx, a: dict) -> dict:
    """The receptor's answers given through timbra in the period (its events), 50 per call from filaInicial."""
    pac = ctx.pac
    who, _ = await _login(ctx, a)
    start, end = local_instant(a["fechaInicial"]), local_instant(a["fechaFinal"])

    def answers() -> list[dict]:
        out, after = [], 0
        while True:
            page = pac.cancels.events(who, None, after_id=after, limit=500)
            if not page:
                return out
            after = page[-1]["id"]
            for e in page:
                at = local_instant(_instant(e["created_at"]))
                if e["kind"] == "cancelacion.respuesta_receptor" and (start is None or at >= start) and \
                        (end is None or at <= end):
                    out.append({"CodigoRespuesta": e["data"].get("code"), "FechaRespuesta": at,
                                "Respuesta": e["data"].get("respuesta"), "UUID": e["uuid"]})

    rows = await ctx.io(answers)
    first = max(1, a["filaInicial"] or 1)
    return {"ErrorDetallado": None, "ErrorGeneral": None, "OperacionExitosa": True,
            "Solicitudes": rows[first - 1: first - 1 + PAGE], "TotalSolicitudes": len(rows)}


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


_HANDLERS = {
    "GenerarCFDI40": generar, "CancelarCFDIs": cancelar, "CancelarCFDIsConValidacion": cancelar_con_validacion,
    "CancelarCFDIsV4": cancelar_v4, "ObtenerNumerosCreditos": numeros_creditos, "ActivarPaquete": activar_paquete,
    "TraspasarPaquete": traspasar_paquete, "ValidarRFC": validar_rfc,
    "ObtenerSolicitudesPendientesCancelacion": pendientes, "ProcesarSolicitudesCancelacion": procesar,
    "ObtenerSolicitudesCancelacionProcesadas": procesadas,
}
for _v in ("", "40"):
    _HANDLERS.update({f"ObtenerXMLPorUUID{_v}": xml_por_uuid, f"ObtenerXMLPorReferencia{_v}": xml_por_referencia,
                      f"ObtenerXMLyAddendaPorUUID{_v}": xml_por_uuid, f"ObtenerPDF{_v}": pdf,
                      f"ObtenerAcuseEnvio{_v}": acuse_envio, f"ObtenerAcuseCancelacion{_v}": acuse_cancelacion,
                      f"ObtenerComprobantes{_v}": comprobantes})

ENDPOINT = Endpoint(SERVICE, _HANDLERS, on_error)
