"""FEL's "Timbrado" service (WSCFDI33.svc): the ERP sends a CFDI it sealed itself.

Names, namespaces and member order follow FEL's WCF service as public client code shows it (Delphi WSDL
imports of WSCFDI33.svc, Java wsimport classes; see /docs/soap.md): operations in http://tempuri.org/ with
SOAPAction http://tempuri.org/IWSCFDI33/<Op>, data contracts in
http://schemas.datacontract.org/2004/07/TES.TFD.V33.Negocios with their members in alphabetical order,
binding and port soapHttpEndpoint, service WSCFDI33. CancelarCFDI takes the 2022 DetalleCFDICancelacion
(with Motivo and FolioSustitucion).

Every answer says OperacionExitosa; a refusal carries timbra's or SAT's code in CodigoRespuesta (301-308,
CFDI40xxx, T...), the message in MensajeError and every finding, one per line, in MensajeErrorDetallado.
"""
from __future__ import annotations

import base64
import binascii

from timbra.api.soap.common import STATUS_TEXT, local_instant, padron_rfc, period, pfx_signing, sello_cfd, xml_text
from timbra.api.soap.endpoint import Ctx, Endpoint, findings_text
from timbra.api.soap.wsdl import MS_ARRAYS, F, Op, Service, T, array
from timbra.cfdi.cancellation import Folio
from timbra.cfdi.tfd import fecha_timbrado
from timbra.codes import error
from timbra.errors import TimbraError
from timbra.pac.stamping import StampResult

TNS = "http://tempuri.org/"
TYPES = "http://schemas.datacontract.org/2004/07/TES.TFD.V33.Negocios"
PAGE = 50  # ConsultarComprobantes: rows per call

_BASE = (F("CodigoRespuesta"), F("MensajeError"), F("MensajeErrorDetallado"), F("OperacionExitosa", "boolean"))
_CANCEL_PARAMS = (F("usuario"), F("password"), F("rFCEmisor"), F("listaCFDI", "ArrayOfDetalleCFDICancelacion"),
                  F("clavePrivada_Base64"), F("passwordClavePrivada"))


def _auth(*more: F) -> tuple[F, ...]:
    return (F("usuario"), F("password"), *more)


SERVICE = Service(
    name="WSCFDI33", dialect="wcf", tns=TNS, types_ns=TYPES, port_type="IWSCFDI33", binding="soapHttpEndpoint",
    port="soapHttpEndpoint",
    ops=(
        Op("TimbrarCFDI", _auth(F("cadenaXML"), F("referencia")), "RespuestaTFD33"),
        Op("CancelarCFDI", _CANCEL_PARAMS, "RespuestaCancelacion"),
        Op("CancelacionAsincrona", _CANCEL_PARAMS, "RespuestaCancelacionAsincrona"),
        Op("EstatusCancelacionAsincrona", _auth(F("referencia")), "RespuestaEstatusCancelacionAsincrona"),
        Op("ObtenerPDF", _auth(F("uUID"), F("LogoBase64")), "RespuestaTFD33"),
        Op("ObtenerAcuseEnvio", _auth(F("uUID")), "RespuestaTFD33"),
        Op("ObtenerAcuseCancelacion", _auth(F("uUID")), "RespuestaTFD33"),
        Op("CambiarPassword", (F("usuario"), F("passwordActual"), F("passwordNuevo")), "RespuestaTFD33"),
        Op("ConsultarComplementoTimbre", _auth(F("uUID")), "RespuestaTFD33"),
        Op("ConsultarTimbrePorReferencia", _auth(F("referencia")), "RespuestaTFD33"),
        Op("ConsultarTimbrePorSello", _auth(F("sello")), "RespuestaTFD33"),
        Op("ConsultarCreditos", _auth(), "RespuestaCreditos"),
        Op("ConsultarComprobantes", _auth(F("fechaInicial", "dateTime"), F("fechaFinal", "dateTime"),
                                          F("filaInicial", "int")), "RespuestaReporte"),
        Op("ValidarRFC", _auth(F("rfc")), "RespuestaValidacionRFC"),
        Op("ObtenerPeticionesPendientesCancelacion", _auth(F("rFCReceptor")), "RespuestaPeticionesPendientes"),
        Op("ProcesarAceptacionRechazo", _auth(F("rFCReceptor"), F("uUIDs", "ArrayOfUUIDProcesarRespuesta"),
                                              F("clavePrivada_Base64"), F("passwordClavePrivada")),
           "RespuestaAceptacionRechazo"),
        Op("CancelarCFDIConValidacion", _CANCEL_PARAMS, "RespuestaCancelacion"),
        Op("ConsultarComprobantesRelacionados", _auth(F("UUID"), F("RFCReceptor"), F("pfxReceptorBase64"),
                                                      F("passwdPfx")), "RespuestaRelacionados"),
    ),
    types=(
        T("RespuestaTFD33", (F("CodigoConfirmacion"), F("CodigoRespuesta"), F("CreditosRestantes", "int"),
                             F("MensajeError"), F("MensajeErrorDetallado"), F("OperacionExitosa", "boolean"),
                             F("PDFResultado"), F("Timbre", "Timbre33"), F("XMLResultado"))),
        T("Timbre33", (F("Estado"), F("FechaTimbrado", "dateTime"), F("NumeroCertificadoSAT"), F("SelloCFD"),
                       F("SelloSAT"), F("UUID"))),
        T("RespuestaBase", _BASE),
        T("RespuestaPeticionesPendientes", (F("UUIDs", "ArrayOfstring"),), base="RespuestaBase"),
        T("UUIDProcesarRespuesta", (F("Aceptar", "boolean"), F("UUID"))),
        array("ArrayOfUUIDProcesarRespuesta", "UUIDProcesarRespuesta"),
        T("FolioRespuesta", (F("EstatusUUID"), F("Respuesta"), F("UUID"))),
        array("ArrayOfFolioRespuesta", "FolioRespuesta"),
        T("RespuestaAceptacionRechazo", (F("Fecha", "dateTime"), F("Folios", "ArrayOfFolioRespuesta"),
                                         F("RFCReceptor"), F("XMLAcuse")), base="RespuestaBase"),
        T("RespuestaValidacionRFC", (F("Cancelado", "boolean"), F("MensajeError"), F("RFC"),
                                     F("RFCLocalizado", "boolean"), F("Subcontratacion", "boolean"),
                                     F("UnidadSNCF", "boolean"))),
        T("RegistroTimbre", (F("Estado"), F("FechaTimbrado", "dateTime"), F("NoFila", "int"), F("RFCEmisor"),
                             F("RFCReceptor"), F("UUID"))),
        array("ArrayOfRegistroTimbre", "RegistroTimbre"),
        T("RespuestaReporte", (F("ListaComprobantes", "ArrayOfRegistroTimbre"), F("MensajeError"),
                               F("OperacionExitosa", "boolean"), F("TotalComprobantesPeriodo", "int"))),
        T("DetallesPaqueteCreditos", (F("EnUso", "boolean"), F("FechaActivacion", "dateTime"),
                                      F("FechaVencimiento", "dateTime"), F("Paquete"), F("Timbres", "int"),
                                      F("TimbresRestantes", "int"), F("TimbresUsados", "int"),
                                      F("Vigente", "boolean"))),
        array("ArrayOfDetallesPaqueteCreditos", "DetallesPaqueteCreditos"),
        T("RespuestaCreditos", (F("MensajeError"), F("OperacionExitosa", "boolean"),
                                F("Paquetes", "ArrayOfDetallesPaqueteCreditos"))),
        T("RespuestaEstatusCancelacionAsincrona", (F("Estatus"), F("MensajeError"), F("OperacionExitosa", "boolean"),
                                                   F("Referencia"), F("XMLAcuse"))),
        T("DetalleCancelacion", (F("CodigoResultado"), F("EsCancelable"), F("MensajeResultado"), F("UUID"))),
        array("ArrayOfDetalleCancelacion", "DetalleCancelacion"),
        T("RespuestaCancelacion", (F("DetallesCancelacion", "ArrayOfDetalleCancelacion"), F("MensajeError"),
                                   F("MensajeErrorDetallado"), F("OperacionExitosa", "boolean"), F("XMLAcuse"))),
        T("RespuestaCancelacionAsincrona", (F("DetallesCancelacion", "ArrayOfDetalleCancelacion"), F("MensajeError"),
                                            F("OperacionExitosa", "boolean"), F("Referencia"))),
        T("DetalleCFDICancelacion", (F("EsCancelable"), F("FolioSustitucion"), F("Motivo"), F("RFCReceptor"),
                                     F("Total", "decimal"), F("UUID"))),
        array("ArrayOfDetalleCFDICancelacion", "DetalleCFDICancelacion"),
        T("UUID", (F("RfcEmisor"), F("RfcReceptor"), F("Uuid"))),
        array("ArrayOfUUID", "UUID"),
        T("Relacionados", (F("Resultado"), F("UuidConsultado"), F("UuidsRelacionadosHijos", "ArrayOfUUID"),
                           F("UuidsRelacionadosPadres", "ArrayOfUUID"))),
        T("RespuestaRelacionados", (F("MensajeError"), F("OperacionExitosa", "boolean"),
                                    F("Relacionados", "Relacionados"))),
        array("ArrayOfstring", "string", ns=MS_ARRAYS),
    ),
)


def on_error(op: Op, exc: TimbraError) -> dict:
    names = {f.name for f in SERVICE.fields(SERVICE.type(op.result))}
    out = {"OperacionExitosa": False, "CodigoRespuesta": exc.code, "MensajeError": exc.message,
           "MensajeErrorDetallado": findings_text(exc)}
    return {k: v for k, v in out.items() if k in names}


def tfd_answer(r: StampResult, *, code: str | None = None, message: str | None = None) -> dict:
    return {"CodigoConfirmacion": None, "CodigoRespuesta": code, "CreditosRestantes": r.credits_left,
            "MensajeError": message, "MensajeErrorDetallado": None, "OperacionExitosa": True, "PDFResultado": None,
            "Timbre": {"Estado": "Vigente", "FechaTimbrado": r.fecha_timbrado, "NumeroCertificadoSAT":
                       r.no_certificado_sat, "SelloCFD": sello_cfd(r.xml), "SelloSAT": r.sello_sat, "UUID": r.uuid},
            "XMLResultado": r.xml.decode("utf-8")}


def _ok(**values) -> dict:
    return {"OperacionExitosa": True, **values}


async def timbrar(ctx: Ctx, a: dict) -> dict:
    who = await ctx.login(a["usuario"], a["password"])
    xml = ctx.document(xml_text(a["cadenaXML"]))
    result = await ctx.stamp(ctx.pac.issuing.stamp, who, xml, (a["referencia"] or "").strip() or None)
    if result.replayed and not (a["referencia"] or "").strip():
        # the same document again: the first stamp, said as SAT's 307 (no credit was spent)
        return tfd_answer(result, code="307", message="Comprobante timbrado previamente: se devuelve el timbre "
                                                      "original.")
    return tfd_answer(result)


def _folios(lista: list[dict] | None) -> list[Folio]:
    if not lista:
        raise error("T180")
    return [Folio((d.get("UUID") or "").strip(), (d.get("Motivo") or "").strip(),
                  (d.get("FolioSustitucion") or "").strip() or None) for d in lista]


async def _cancel(ctx: Ctx, a: dict, *, validate: bool = False):
    pac = ctx.pac
    who = await ctx.login(a["usuario"], a["password"])
    rfc = (a["rFCEmisor"] or "").strip().upper()
    if rfc and rfc not in pac.accounts.rfcs(who.account_id):
        raise error("T105", detail={"rfc": rfc})
    folios = _folios(a["listaCFDI"])
    signing = await ctx.cpu(pfx_signing, pac, who, a["clavePrivada_Base64"], a["passwordClavePrivada"])
    cancelable: dict[str, str] = {}
    if validate:  # SAT's EsCancelable of each UUID as the request is made
        for f in folios:
            try:
                cancelable[f.uuid.upper()] = (await ctx.io(pac.cancels.status, who, f.uuid))["es_cancelable"]
            except TimbraError:
                pass
    result = await ctx.cpu(pac.cancels.cancel, who, folios, signing)
    detalles = [{"CodigoResultado": f.code, "EsCancelable": cancelable.get(f.uuid), "MensajeResultado": f.message,
                 "UUID": f.uuid} for f in result.folios]
    acuse = None
    for f in result.folios:
        if f.request_id is not None and f.code != "T183":
            try:
                acuse = (await ctx.io(pac.cancels.acuse, who, f.uuid)).decode("utf-8")
                break
            except TimbraError:
                continue
    return detalles, acuse


async def cancelar(ctx: Ctx, a: dict) -> dict:
    detalles, acuse = await _cancel(ctx, a)
    return _ok(DetallesCancelacion=detalles, MensajeError=None, MensajeErrorDetallado=None, XMLAcuse=acuse)


async def cancelar_con_validacion(ctx: Ctx, a: dict) -> dict:
    detalles, acuse = await _cancel(ctx, a, validate=True)
    return _ok(DetallesCancelacion=detalles, MensajeError=None, MensajeErrorDetallado=None, XMLAcuse=acuse)


async def cancelacion_asincrona(ctx: Ctx, a: dict) -> dict:
    """The request is stored and sent at once, as every cancellation; Referencia is its first UUID, which
    EstatusCancelacionAsincrona follows."""
    detalles, _ = await _cancel(ctx, a)
    return _ok(DetallesCancelacion=detalles, MensajeError=None, Referencia=detalles[0]["UUID"] if detalles else None)


async def estatus_cancelacion_asincrona(ctx: Ctx, a: dict) -> dict:
    pac = ctx.pac
    who = await ctx.login(a["usuario"], a["password"])
    uuid = (a["referencia"] or "").strip()
    st = await ctx.io(pac.cancels.status, who, uuid)
    acuse = None
    if st.get("cancelacion") and st["cancelacion"]["code"]:
        try:
            acuse = (await ctx.io(pac.cancels.acuse, who, uuid)).decode("utf-8")
        except TimbraError:
            acuse = None
    return _ok(Estatus=st["estatus_cancelacion"] or st["estado"], MensajeError=None, Referencia=uuid,
               XMLAcuse=acuse)


async def obtener_pdf(ctx: Ctx, a: dict) -> dict:
    """The representación impresa (base64 PDF in PDFResultado); LogoBase64, when sent, is this PDF's logo."""
    who = await ctx.login(a["usuario"], a["password"])
    logo = _base64_or_none(a.get("LogoBase64"))
    printed = await ctx.io(lambda: ctx.pac.printing.pdf(who, (a["uUID"] or "").strip(), logo=logo))
    return _ok(MensajeError=None, MensajeErrorDetallado=None,
               PDFResultado=base64.b64encode(printed.pdf).decode("ascii"))


def _base64_or_none(text: str | None) -> bytes | None:
    if not text or not text.strip():
        return None
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise error("T190", detail={"field": "LogoBase64"}) from None


def _xml_answer(xml: bytes | str) -> dict:
    return {"OperacionExitosa": True, "XMLResultado": xml if isinstance(xml, str) else xml.decode("utf-8")}


async def acuse_envio(ctx: Ctx, a: dict) -> dict:
    who = await ctx.login(a["usuario"], a["password"])
    ack = await ctx.io(ctx.pac.cfdis.acuse, who, (a["uUID"] or "").strip())
    return {**_xml_answer(ack.xml), "CodigoRespuesta": ack.code}


async def acuse_cancelacion(ctx: Ctx, a: dict) -> dict:
    who = await ctx.login(a["usuario"], a["password"])
    return _xml_answer(await ctx.io(ctx.pac.cancels.acuse, who, (a["uUID"] or "").strip()))


async def cambiar_password(ctx: Ctx, a: dict) -> dict:
    who = await ctx.login(a["usuario"], a["passwordActual"])
    await ctx.io(ctx.pac.accounts.change_password, who, a["passwordActual"] or "", a["passwordNuevo"] or "")
    return {"OperacionExitosa": True}


def _stored_answer(row, xml: bytes, credits_left: int | None = None) -> dict:
    return {"OperacionExitosa": True, "CreditosRestantes": credits_left,
            "Timbre": {"Estado": STATUS_TEXT.get(row.status, row.status),
                       "FechaTimbrado": fecha_timbrado(row.fecha_timbrado), "NumeroCertificadoSAT":
                       row.no_certificado_sat, "SelloCFD": sello_cfd(xml), "SelloSAT": row.sello_sat,
                       "UUID": row.uuid},
            "XMLResultado": xml.decode("utf-8")}


async def complemento_timbre(ctx: Ctx, a: dict) -> dict:
    who = await ctx.login(a["usuario"], a["password"])
    uuid = (a["uUID"] or "").strip()
    row = await ctx.io(ctx.pac.cfdis.get, who, uuid)
    return _stored_answer(row, await ctx.io(ctx.pac.cfdis.xml, who, uuid))


async def por_referencia(ctx: Ctx, a: dict) -> dict:
    who = await ctx.login(a["usuario"], a["password"])
    return tfd_answer(await ctx.io(ctx.pac.issuing.by_referencia, who, (a["referencia"] or "").strip()))


async def por_sello(ctx: Ctx, a: dict) -> dict:
    who = await ctx.login(a["usuario"], a["password"])
    row = await ctx.io(ctx.pac.cfdis.by_sello, who, a["sello"] or "")
    return _stored_answer(row, await ctx.io(ctx.pac.cfdis.xml, who, row.uuid))


async def creditos(ctx: Ctx, a: dict) -> dict:
    who = await ctx.login(a["usuario"], a["password"])
    balance = await ctx.io(ctx.pac.credits.balance, who)
    in_use = next((p.id for p in sorted(balance.packages, key=lambda p: (p.expiry is None, p.expiry, p.id))
                   if p.active and p.left > 0), None)
    return _ok(MensajeError=None, Paquetes=[
        {"EnUso": p.id == in_use, "FechaActivacion": p.activation, "FechaVencimiento": p.expiry,
         "Paquete": str(p.id), "Timbres": p.size, "TimbresRestantes": p.left, "TimbresUsados": p.used,
         "Vigente": p.active} for p in balance.packages])


async def comprobantes(ctx: Ctx, a: dict) -> dict:
    """The CFDI stamped in the period, 50 per call from filaInicial (1 = the first)."""
    who = await ctx.login(a["usuario"], a["password"])
    rows = await ctx.io(lambda: period(ctx.pac, who, local_instant(a["fechaInicial"]),
                                       local_instant(a["fechaFinal"])))
    first = max(1, a["filaInicial"] or 1)
    return _ok(MensajeError=None, TotalComprobantesPeriodo=len(rows), ListaComprobantes=[
        {"Estado": STATUS_TEXT.get(r.status, r.status), "FechaTimbrado": fecha_timbrado(r.fecha_timbrado),
         "NoFila": n, "RFCEmisor": r.rfc_emisor, "RFCReceptor": r.rfc_receptor, "UUID": r.uuid}
        for n, r in enumerate(rows[first - 1: first - 1 + PAGE], start=first)])


async def validar_rfc(ctx: Ctx, a: dict) -> dict:
    await ctx.login(a["usuario"], a["password"])
    rfc = (a["rfc"] or "").strip().upper()
    found = padron_rfc(ctx.pac, rfc)
    return {"Cancelado": bool(found is not None and not found.puede_facturar), "MensajeError": None, "RFC": rfc,
            "RFCLocalizado": found is not None, "Subcontratacion": False, "UnidadSNCF": False}


async def pendientes(ctx: Ctx, a: dict) -> dict:
    who = await ctx.login(a["usuario"], a["password"])
    rfc = (a["rFCReceptor"] or "").strip().upper()
    items = await ctx.io(ctx.pac.cancels.pending, who)
    uuids = [p.uuid for p in items if not rfc or p.rfc_receptor.upper() == rfc]
    return _ok(CodigoRespuesta="1100" if uuids else "1101", MensajeError=None, MensajeErrorDetallado=None,
               UUIDs=uuids)


async def aceptacion_rechazo(ctx: Ctx, a: dict) -> dict:
    pac = ctx.pac
    who = await ctx.login(a["usuario"], a["password"])
    signing = await ctx.cpu(pfx_signing, pac, who, a["clavePrivada_Base64"], a["passwordClavePrivada"])
    folios = []
    for item in a["uUIDs"] or []:
        respuesta = "Aceptacion" if item.get("Aceptar") else "Rechazo"
        uuid = (item.get("UUID") or "").strip()
        try:
            r = await ctx.cpu(pac.cancels.answer, who, uuid, respuesta, signing)
            folios.append({"EstatusUUID": r["code"], "Respuesta": respuesta, "UUID": r["uuid"]})
        except TimbraError as exc:
            folios.append({"EstatusUUID": "1001" if exc.code == "T184" else exc.code, "Respuesta": respuesta,
                           "UUID": uuid})
    return _ok(CodigoRespuesta=None, MensajeError=None, MensajeErrorDetallado=None, Fecha=ctx.pac.clock.now(),
               Folios=folios, RFCReceptor=(a["rFCReceptor"] or "").strip().upper(), XMLAcuse=None)


async def relacionados(ctx: Ctx, a: dict) -> dict:
    pac = ctx.pac
    who = await ctx.login(a["usuario"], a["password"])
    uuid = (a["UUID"] or "").strip().upper()
    r = await ctx.io(pac.cancels.related, who, uuid)

    def items(rows):
        out = []
        for u, _tipo, _estado in rows:
            try:
                row = pac.cfdis.get(who, u)
                out.append({"RfcEmisor": row.rfc_emisor, "RfcReceptor": row.rfc_receptor, "Uuid": u})
            except TimbraError:
                out.append({"RfcEmisor": None, "RfcReceptor": None, "Uuid": u})
        return out

    resultado = "Clave: 2000 Se encontraron CFDI relacionados" if (r.parents or r.children) else \
        "Clave: 2001 No existen CFDI relacionados"
    return _ok(MensajeError=None, Relacionados={
        "Resultado": resultado, "UuidConsultado": uuid,
        "UuidsRelacionadosHijos": await ctx.io(items, r.children),
        "UuidsRelacionadosPadres": await ctx.io(items, r.parents)})


ENDPOINT = Endpoint(SERVICE, {
    "TimbrarCFDI": timbrar, "CancelarCFDI": cancelar, "CancelacionAsincrona": cancelacion_asincrona,
    "EstatusCancelacionAsincrona": estatus_cancelacion_asincrona, "ObtenerPDF": obtener_pdf,
    "ObtenerAcuseEnvio": acuse_envio, "ObtenerAcuseCancelacion": acuse_cancelacion,
    "CambiarPassword": cambiar_password, "ConsultarComplementoTimbre": complemento_timbre,
    "ConsultarTimbrePorReferencia": por_referencia, "ConsultarTimbrePorSello": por_sello,
    "ConsultarCreditos": creditos, "ConsultarComprobantes": comprobantes, "ValidarRFC": validar_rfc,
    "ObtenerPeticionesPendientesCancelacion": pendientes, "ProcesarAceptacionRechazo": aceptacion_rechazo,
    "CancelarCFDIConValidacion": cancelar_con_validacion, "ConsultarComprobantesRelacionados": relacionados,
}, on_error)
