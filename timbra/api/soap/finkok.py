"""Finkok's stamp, cancel and utilities services (/servicios/soap/{stamp,cancel,utilities}.wsdl).

Names follow Finkok's spyne services as public clients show them (phpcfdi/finkok, satcfdi, Java and Delphi
imports; see docs/soap.md): operations in http://facturacion.finkok.com/<service>, result types in
apps.services.soap.core.views, arrays as XArray types, SOAPAction the bare operation name, port type and
binding Application, services StampSOAP / CancelSOAP / UtilitiesSOAP. Clients POST to the .wsdl address
(satcfdi does) or to the address without it (the WSDL's soap:address); both answer.

Errors keep Finkok's places: a stamp's in Incidencias (one Incidencia per finding, SAT's or timbra's code in
CodigoError); a cancellation's in CodEstatus; the rest in their `error` member. A document stamped before
answers as Finkok does: CodEstatus "Comprobante timbrado previamente", the earlier stamp's xml and UUID, and
an Incidencia 307; `stamped` recovers it without one.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from lxml import etree

from timbra.api.soap.common import local_instant, pem_signing, period
from timbra.api.soap.endpoint import Ctx, Endpoint
from timbra.api.soap.envelope import safe_parser
from timbra.api.soap.wsdl import F, Op, Service, T, array
from timbra.cfdi.cancellation import Folio
from timbra.cfdi.tfd import fecha_timbrado
from timbra.clock import SYSTEM
from timbra.codes import error
from timbra.errors import TimbraError
from timbra.pac.cancelling import Signing
from timbra.pac.stamping import StampResult

VIEWS = "apps.services.soap.core.views"
STAMP_NS = "http://facturacion.finkok.com/stamp"
CANCEL_NS = "http://facturacion.finkok.com/cancel"
UTILITIES_NS = "http://facturacion.finkok.com/utilities"
STAMPED = "Comprobante timbrado satisfactoriamente"
STAMPED_BEFORE = "Comprobante timbrado previamente"
AUTH = (F("username"), F("password"))


def _service(name: str, tns: str, ops: tuple[Op, ...], types: tuple[T, ...]) -> Service:
    return Service(name=name, dialect="spyne", tns=tns, types_ns=VIEWS, port_type="Application",
                   binding="Application", port="Application", ops=ops, types=types, definitions_name="Application")


_STAMP_IN = (F("xml", "base64Binary"), *AUTH)
STAMP = _service("StampSOAP", STAMP_NS, (
    Op("stamp", _STAMP_IN, "AcuseRecepcionCFDI"),
    Op("quick_stamp", _STAMP_IN, "AcuseRecepcionCFDI"),
    Op("stamped", _STAMP_IN, "AcuseRecepcionCFDI"),
    Op("sign_stamp", _STAMP_IN, "AcuseRecepcionCFDI"),
    Op("query_pending", (*AUTH, F("uuid")), "QueryPendingResult"),
), (
    T("Incidencia", (F("IdIncidencia"), F("RfcEmisor"), F("Uuid"), F("CodigoError"), F("WorkProcessId"),
                     F("MensajeIncidencia"), F("ExtraInfo"), F("NoCertificadoPac"), F("FechaRegistro"))),
    array("IncidenciaArray", "Incidencia"),
    T("AcuseRecepcionCFDI", (F("xml"), F("UUID"), F("faultstring"), F("Fecha"), F("CodEstatus"), F("faultcode"),
                             F("SatSeal"), F("Incidencias", "IncidenciaArray"), F("NoCertificadoSAT"))),
    T("QueryPendingResult", (F("status"), F("xml"), F("uuid"), F("uuid_status"), F("next_attempt"), F("attempts"),
                             F("error"), F("date"))),
))

_UUIDS = (F("UUIDS", "UUIDS"),)
CANCEL = _service("CancelSOAP", CANCEL_NS, (
    Op("cancel", (*_UUIDS, *AUTH, F("taxpayer_id"), F("cer", "base64Binary"), F("key", "base64Binary"),
                  F("store_pending", "boolean")), "CancelaCFDResult"),
    Op("cancel_signature", (F("xml", "base64Binary"), *AUTH, F("store_pending", "boolean")), "CancelaCFDResult"),
    Op("sign_cancel", (*_UUIDS, *AUTH, F("taxpayer_id"), F("serial"), F("store_pending", "boolean")),
       "CancelaCFDResult"),
    Op("get_sat_status", (*AUTH, F("taxpayer_id"), F("rtaxpayer_id"), F("uuid"), F("total")), "AcuseSatEstatus"),
    Op("get_receipt", (*AUTH, F("taxpayer_id"), F("uuid"), F("type")), "ReceiptResult"),
    Op("get_pending", (*AUTH, F("rtaxpayer_id")), "PendingResult"),
    Op("accept_reject", (F("UUIDS_AR", "UUID_ARArray"), *AUTH, F("rtaxpayer_id"), F("cer", "base64Binary"),
                         F("key", "base64Binary")), "AcceptRejectResult"),
    Op("accept_reject_signature", (F("xml", "base64Binary"), *AUTH), "AcceptRejectResult"),
    Op("get_related", (*AUTH, F("taxpayer_id"), F("rtaxpayer_id"), F("uuid"), F("cer", "base64Binary"),
                       F("key", "base64Binary")), "RelatedResult"),
), (
    T("UUID", (F("UUID", attr=True), F("Motivo", attr=True), F("FolioSustitucion", attr=True))),
    array("UUIDArray", "UUID"),
    T("UUIDS", (F("uuids", "UUIDArray"),)),
    T("Folio", (F("UUID"), F("EstatusUUID"), F("EstatusCancelacion"))),
    array("FolioArray", "Folio"),
    T("CancelaCFDResult", (F("Folios", "FolioArray"), F("Acuse"), F("Fecha"), F("RfcEmisor"), F("CodEstatus"))),
    T("AcuseSATConsulta", (F("CodigoEstatus"), F("Estado"), F("EsCancelable"), F("EstatusCancelacion"))),
    T("AcuseSatEstatus", (F("sat", "AcuseSATConsulta"), F("error"))),
    T("ReceiptResult", (F("success", "boolean"), F("uuid"), F("receipt"), F("taxpayer_id"), F("error"), F("date"))),
    array("stringArray", "string", "string"),
    T("PendingResult", (F("uuids", "stringArray"), F("error"))),
    T("UUID_AR", (F("uuid"), F("respuesta"))),
    array("UUID_ARArray", "UUID_AR"),
    T("Acepta", (F("status"), F("uuid"))),
    array("AceptaArray", "Acepta"),
    T("Rechaza", (F("status"), F("uuid"))),
    array("RechazaArray", "Rechaza"),
    T("AcceptRejectResult", (F("aceptacion", "AceptaArray"), F("rechazo", "RechazaArray"), F("error"))),
    T("Padre", (F("uuid"), F("receptor"), F("emisor"))),
    array("PadreArray", "Padre"),
    T("Hijo", (F("uuid"), F("receptor"), F("emisor"))),
    array("HijoArray", "Hijo"),
    T("RelatedResult", (F("Padres", "PadreArray"), F("Hijos", "HijoArray"), F("error"))),
))

_REPORT_IN = (*AUTH, F("taxpayer_id"), F("invoice_type"), F("date_from"), F("date_to"))
UTILITIES = _service("UtilitiesSOAP", UTILITIES_NS, (
    Op("datetime", (*AUTH, F("zipcode")), "DatetimeResult"),
    Op("get_xml", (*AUTH, F("uuid"), F("taxpayer_id"), F("invoice_type")), "XmlResult"),
    Op("report_credit", (*AUTH, F("taxpayer_id")), "ReportCreditResult"),
    Op("report_total", _REPORT_IN, "ReportTotalResult"),
    Op("report_uuid", _REPORT_IN, "ReportUUIDResult"),
), (
    T("DatetimeResult", (F("datetime"), F("error"))),
    T("XmlResult", (F("xml"), F("error"))),
    T("ReportTotalCredit", (F("credit", "int"), F("date"))),
    array("ReportTotalCreditArray", "ReportTotalCredit"),
    T("ReportCreditResult", (F("result", "ReportTotalCreditArray"), F("error"))),
    T("ReportTotal", (F("total", "int"), F("taxpayer_id"))),
    array("ReportTotalArray", "ReportTotal"),
    T("ReportTotalResult", (F("result", "ReportTotalArray"), F("error"))),
    T("ReportUUID", (F("date"), F("uuid"))),
    array("ReportUUIDArray", "ReportUUID"),
    T("ReportUUIDResult", (F("invoices", "ReportUUIDArray"), F("error"))),
))


# --- errors in Finkok's places -----------------------------------------------------------------------------

def _text(exc: TimbraError) -> str:
    return f"{exc.code} - {exc.message}"


def incidencias(exc: TimbraError, now: datetime) -> list[dict]:
    when = fecha_timbrado(now)
    findings = exc.findings or []
    if not findings:
        return [_incidencia(exc.code, exc.message, exc.message_en, when)]
    return [_incidencia(f.code, f"{f.message}" + (f" ({f.node})" if f.node else ""),
                        "; ".join(x for x in (f.detail, f.value and f"valor: {f.value}",
                                              f.expected and f"se espera: {f.expected}", f.detail_en) if x)
                        or None, when) for f in findings]


def _incidencia(code: str, message: str, extra: str | None, when: str) -> dict:
    return {"IdIncidencia": None, "RfcEmisor": None, "Uuid": None, "CodigoError": code, "WorkProcessId": None,
            "MensajeIncidencia": message, "ExtraInfo": extra, "NoCertificadoPac": None, "FechaRegistro": when}


def on_error_for(service: Service):
    def on_error(op: Op, exc: TimbraError) -> dict:
        t = op.result
        if t == "AcuseRecepcionCFDI":
            return {"xml": None, "UUID": None, "CodEstatus": None,
                    "Incidencias": incidencias(exc, SYSTEM.now())}
        if t == "CancelaCFDResult":
            return {"CodEstatus": _not_found(exc) or _text(exc)}
        names = {f.name for f in service.fields(service.type(t))}
        out = {"error": _text(exc), "success": False}
        return {k: v for k, v in out.items() if k in names}
    return on_error


def _not_found(exc: TimbraError) -> str | None:
    """Finkok says "UUID ... No Encontrado" (satcfdi tells a missing document by that ending)."""
    uuid = exc.detail.get("uuid") if exc.code == "T103" else None
    return f"UUID {uuid} No Encontrado" if uuid else None


# --- stamp -------------------------------------------------------------------------------------------------

def acuse(r: StampResult) -> dict:
    out = {"xml": r.xml.decode("utf-8"), "UUID": r.uuid, "faultstring": None, "Fecha": r.fecha_timbrado,
           "CodEstatus": STAMPED, "faultcode": None, "SatSeal": r.sello_sat, "Incidencias": [],
           "NoCertificadoSAT": r.no_certificado_sat}
    if r.replayed:
        out["CodEstatus"] = STAMPED_BEFORE
        out["Incidencias"] = [_incidencia("307", "El CFDI contiene un timbre previo", None, r.fecha_timbrado)]
    return out


async def stamp(ctx: Ctx, a: dict) -> dict:
    """stamp and quick_stamp: timbra answers after the commit either way (quick_stamp gains nothing by
    answering before; the CFDI reaches SAT through the outbox, as every stamp)."""
    who = await ctx.login(a["username"], a["password"])
    return acuse(await ctx.stamp(ctx.pac.stamps.stamp, who, ctx.document(a["xml"] or b"")))


async def sign_stamp(ctx: Ctx, a: dict) -> dict:
    who = await ctx.login(a["username"], a["password"])
    return acuse(await ctx.stamp(ctx.pac.issuing.seal_and_stamp, who, ctx.document(a["xml"] or b"")))


async def stamped(ctx: Ctx, a: dict) -> dict:
    pac = ctx.pac
    who = await ctx.login(a["username"], a["password"])
    row = await ctx.cpu(pac.cfdis.by_document, who, ctx.document(a["xml"] or b""))
    xml = await ctx.io(pac.cfdis.xml, who, row.uuid)
    return {"xml": xml.decode("utf-8"), "UUID": row.uuid, "faultstring": None,
            "Fecha": fecha_timbrado(row.fecha_timbrado), "CodEstatus": STAMPED_BEFORE, "faultcode": None,
            "SatSeal": row.sello_sat, "Incidencias": [], "NoCertificadoSAT": row.no_certificado_sat}


async def query_pending(ctx: Ctx, a: dict) -> dict:
    """S: stamped, not yet delivered to SAT; F: SAT has it (its acuse de recepción came back)."""
    pac = ctx.pac
    who = await ctx.login(a["username"], a["password"])
    uuid = (a["uuid"] or "").strip()
    row = await ctx.io(pac.cfdis.get, who, uuid)
    xml = await ctx.io(pac.cfdis.xml, who, uuid)
    return {"status": "S" if row.sat_status == "pendiente" else "F", "xml": xml.decode("utf-8"), "uuid": row.uuid,
            "uuid_status": row.sat_status, "next_attempt": None, "attempts": None, "error": None,
            "date": fecha_timbrado(row.fecha_timbrado)}


# --- cancel ------------------------------------------------------------------------------------------------

def _cancel_result(ctx: Ctx, who, result, rfc: str | None) -> dict:
    pac = ctx.pac
    acuse_xml, fecha = None, None
    for f in result.folios:
        if f.request_id is not None and f.code != "T183":
            try:
                acuse_xml = pac.cancels.acuse(who, f.uuid).decode("utf-8")
                break
            except TimbraError:
                continue
    if acuse_xml is not None:
        fecha = etree.fromstring(acuse_xml.encode("utf-8"), safe_parser()).get("Fecha")
    folios = [{"UUID": f.uuid, "EstatusUUID": "708" if f.code == "T183" else f.code,
               "EstatusCancelacion": f.estatus_cancelacion or None} for f in result.folios]
    return {"Folios": folios, "Acuse": acuse_xml, "Fecha": fecha, "RfcEmisor": rfc, "CodEstatus": None}


def _uuids(a: dict) -> list[Folio]:
    items = (a["UUIDS"] or {}).get("uuids") or []
    if not items:
        raise error("T180")
    return [Folio((u.get("UUID") or "").strip(), (u.get("Motivo") or "").strip(),
                  (u.get("FolioSustitucion") or "").strip() or None) for u in items]


def _own_rfc(ctx: Ctx, who, rfc: str | None) -> str | None:
    rfc = (rfc or "").strip().upper() or None
    if rfc is not None and rfc not in ctx.pac.accounts.rfcs(who.account_id):
        raise error("T105", detail={"rfc": rfc})
    return rfc


async def cancel(ctx: Ctx, a: dict) -> dict:
    """With the CSD sent in the call (cer and key: base64 of PEM files, the key without password), used once.
    store_pending is what timbra always does: a request SAT does not answer is kept and sent again."""
    pac = ctx.pac
    who = await ctx.login(a["username"], a["password"])
    rfc = _own_rfc(ctx, who, a["taxpayer_id"])
    folios = _uuids(a)
    signing = await ctx.cpu(pem_signing, pac, who, a["cer"], a["key"])
    result = await ctx.cpu(pac.cancels.cancel, who, folios, signing)
    return await ctx.io(_cancel_result, ctx, who, result, rfc)


async def sign_cancel(ctx: Ctx, a: dict) -> dict:
    """With the CSD kept in timbra's vault (`serial` is not needed: the active CSD of the RFC signs)."""
    pac = ctx.pac
    who = await ctx.login(a["username"], a["password"])
    rfc = _own_rfc(ctx, who, a["taxpayer_id"])
    result = await ctx.cpu(pac.cancels.cancel, who, _uuids(a), Signing())
    return await ctx.io(_cancel_result, ctx, who, result, rfc)


async def cancel_signature(ctx: Ctx, a: dict) -> dict:
    pac = ctx.pac
    who = await ctx.login(a["username"], a["password"])
    xml = ctx.document(a["xml"] or b"")
    result = await ctx.cpu(pac.cancels.cancel_signed, who, xml)
    rfc = etree.fromstring(xml, safe_parser()).get("RfcEmisor")  # verified by cancel_signed
    return await ctx.io(_cancel_result, ctx, who, result, rfc)


async def get_sat_status(ctx: Ctx, a: dict) -> dict:
    """SAT's ConsultaCFDIService for any CFDI, by its emisor, receptor and total (as Finkok asks it)."""
    pac = ctx.pac
    await ctx.login(a["username"], a["password"])
    expression = (f"?id={(a['uuid'] or '').strip()}&re={(a['taxpayer_id'] or '').strip()}"
                  f"&rr={(a['rtaxpayer_id'] or '').strip()}&tt={(a['total'] or '').strip()}")
    st = await ctx.io(pac.cancels.status_by_expression, expression)
    return {"sat": {"CodigoEstatus": st["codigo_estatus"], "Estado": st["estado"], "EsCancelable":
                    st["es_cancelable"], "EstatusCancelacion": st["estatus_cancelacion"]}, "error": None}


async def get_receipt(ctx: Ctx, a: dict) -> dict:
    """type C: SAT's acuse de cancelación; R (or I): SAT's acuse de recepción."""
    pac = ctx.pac
    who = await ctx.login(a["username"], a["password"])
    uuid = (a["uuid"] or "").strip().upper()
    if (a["type"] or "C").strip().upper() == "C":
        receipt = (await ctx.io(pac.cancels.acuse, who, uuid)).decode("utf-8")
    else:
        receipt = (await ctx.io(pac.cfdis.acuse, who, uuid)).xml.decode("utf-8")
    row = await ctx.io(pac.cfdis.get, who, uuid)
    return {"success": True, "uuid": uuid, "receipt": receipt, "taxpayer_id": row.rfc_emisor, "error": None,
            "date": fecha_timbrado(row.fecha_timbrado)}


async def get_pending(ctx: Ctx, a: dict) -> dict:
    who = await ctx.login(a["username"], a["password"])
    rfc = (a["rtaxpayer_id"] or "").strip().upper()
    items = await ctx.io(ctx.pac.cancels.pending, who)
    return {"uuids": [p.uuid for p in items if not rfc or p.rfc_receptor.upper() == rfc], "error": None}


def _accept_reject_result(items: list[dict]) -> dict:
    ok = [{"status": i["code"], "uuid": i["uuid"]} for i in items if i["respuesta"] == "Aceptacion"]
    no = [{"status": i["code"], "uuid": i["uuid"]} for i in items if i["respuesta"] == "Rechazo"]
    return {"aceptacion": ok, "rechazo": no, "error": None}


async def accept_reject(ctx: Ctx, a: dict) -> dict:
    pac = ctx.pac
    who = await ctx.login(a["username"], a["password"])
    signing = await ctx.cpu(pem_signing, pac, who, a["cer"], a["key"])
    items = []
    for item in a["UUIDS_AR"] or []:
        uuid = (item.get("uuid") or "").strip()
        respuesta = {"a": "Aceptacion", "r": "Rechazo"}.get((item.get("respuesta") or "").strip()[:1].lower(), "")
        try:
            items.append(await ctx.cpu(pac.cancels.answer, who, uuid, respuesta, signing))
        except TimbraError as exc:
            if exc.code != "T184":
                raise
            items.append({"uuid": uuid, "respuesta": respuesta, "code": "1001"})
    return _accept_reject_result(items)


async def accept_reject_signature(ctx: Ctx, a: dict) -> dict:
    who = await ctx.login(a["username"], a["password"])
    items = await ctx.cpu(ctx.pac.cancels.answer_signed, who, ctx.document(a["xml"] or b""))
    return _accept_reject_result(items)


async def get_related(ctx: Ctx, a: dict) -> dict:
    pac = ctx.pac
    who = await ctx.login(a["username"], a["password"])
    r = await ctx.io(pac.cancels.related, who, (a["uuid"] or "").strip())

    def items(rows):
        out = []
        for u, _tipo, _estado in rows:
            try:
                row = pac.cfdis.get(who, u)
                out.append({"uuid": u, "receptor": row.rfc_receptor, "emisor": row.rfc_emisor})
            except TimbraError:
                out.append({"uuid": u, "receptor": None, "emisor": None})
        return out

    return {"Padres": await ctx.io(items, r.parents), "Hijos": await ctx.io(items, r.children), "error": None}


# --- utilities ---------------------------------------------------------------------------------------------

async def now(ctx: Ctx, a: dict) -> dict:
    """The PAC's time in Mexico City (a zip code is not needed: the CFDI's Fecha is local to LugarExpedicion,
    which the CFDI's rules check)."""
    await ctx.login(a["username"], a["password"])
    return {"datetime": fecha_timbrado(ctx.pac.clock.now()), "error": None}


async def get_xml(ctx: Ctx, a: dict) -> dict:
    who = await ctx.login(a["username"], a["password"])
    uuid = (a["uuid"] or "").strip()
    row = await ctx.io(ctx.pac.cfdis.get, who, uuid)
    rfc = (a["taxpayer_id"] or "").strip().upper()
    if rfc and rfc != row.rfc_emisor:
        raise error("T103", detail={"uuid": uuid})
    return {"xml": (await ctx.io(ctx.pac.cfdis.xml, who, uuid)).decode("utf-8"), "error": None}


async def report_credit(ctx: Ctx, a: dict) -> dict:
    """Each package the account received: its credits and when it became usable."""
    who = await ctx.login(a["username"], a["password"])
    balance = await ctx.io(ctx.pac.credits.balance, who)
    return {"result": [{"credit": p.size, "date": p.activation.replace(tzinfo=None).isoformat()}
                       for p in balance.packages], "error": None}


def _day(text: str | None, end: bool = False) -> datetime | None:
    """date_from / date_to: a date-time, or a date (date_to then includes that whole day)."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise error("T203", message=f"Fecha inválida: {text}.", message_en=f"Invalid date: {text}.") from None
    if end and len(text) == 10:
        value += timedelta(days=1)
    return local_instant(value)


async def _period_rows(ctx: Ctx, a: dict) -> list:
    who = await ctx.login(a["username"], a["password"])
    rfc = (a["taxpayer_id"] or "").strip().upper() or None
    return await ctx.io(lambda: period(ctx.pac, who, _day(a["date_from"]), _day(a["date_to"], True),
                                       rfc_emisor=rfc))


async def report_total(ctx: Ctx, a: dict) -> dict:
    rows = await _period_rows(ctx, a)
    totals: dict[str, int] = {}
    for r in rows:
        totals[r.rfc_emisor] = totals.get(r.rfc_emisor, 0) + 1
    return {"result": [{"total": n, "taxpayer_id": rfc} for rfc, n in sorted(totals.items())], "error": None}


async def report_uuid(ctx: Ctx, a: dict) -> dict:
    rows = await _period_rows(ctx, a)
    return {"invoices": [{"date": fecha_timbrado(r.fecha_timbrado), "uuid": r.uuid} for r in rows], "error": None}


STAMP_ENDPOINT = Endpoint(STAMP, {"stamp": stamp, "quick_stamp": stamp, "stamped": stamped, "sign_stamp": sign_stamp,
                                  "query_pending": query_pending}, on_error_for(STAMP))
CANCEL_ENDPOINT = Endpoint(CANCEL, {
    "cancel": cancel, "cancel_signature": cancel_signature, "sign_cancel": sign_cancel,
    "get_sat_status": get_sat_status, "get_receipt": get_receipt, "get_pending": get_pending,
    "accept_reject": accept_reject, "accept_reject_signature": accept_reject_signature, "get_related": get_related,
}, on_error_for(CANCEL))
UTILITIES_ENDPOINT = Endpoint(UTILITIES, {"datetime": now, "get_xml": get_xml, "report_credit": report_credit,
                                          "report_total": report_total, "report_uuid": report_uuid},
                              on_error_for(UTILITIES))
