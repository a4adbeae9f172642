"""REST for cancellation, SAT status, acuses de cancelación, related CFDI, events and the receptor's pending
requests. Routes only translate: every decision is in timbra.pac.cancelling."""
from __future__ import annotations

from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError

from timbra.api.rest import XML_TYPES, CsdUploadBody, Who, _b64_file, _cpu, _ids_in_range, _within_limit, pac_of
from timbra.api.schemas import (
    ROUTER_ERRORS,
    AnswerOut,
    CancelOut,
    CfdiStatusOut,
    EventList,
    PendingList,
    RelatedOut,
    SatStatusOut,
    answers,
    binary,
    errors,
)
from timbra.cfdi.cancellation import Folio
from timbra.codes import error
from timbra.pac.accounts import Principal
from timbra.pac.cancelling import Signing
from timbra.pac.runtime import Pac

router = APIRouter(prefix="/v1", dependencies=[Depends(_ids_in_range)], responses=ROUTER_ERRORS)

_UUID = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
_EXAMPLE_UUID = "5FB2822E-396D-4725-8521-CDC4BDD20CCF"


class FolioBody(BaseModel):
    uuid: str = Field(pattern=_UUID, description="Folio fiscal (UUID) a cancelar")
    motivo: str | None = Field(None, description="c_Motivo: 01, 02, 03 o 04 (por omisión, el de la solicitud)")
    folio_sustitucion: str | None = Field(None, description="Solo con motivo 01: UUID del CFDI que sustituye")


class CancelBody(BaseModel):
    """The UUIDs to cancel (1-500): `folios` one by one, or `uuids` sharing `motivo`/`folio_sustitucion`.
    Signed with the CSD in timbra's vault unless `csd` brings one ({cer, key, password} or {pfx, password},
    used once, never stored). A Cancelacion already signed goes as the body with Content-Type application/xml."""

    folios: list[FolioBody] = Field(default_factory=list)
    uuids: list[str] = Field(default_factory=list, description="Atajo: UUIDs con el mismo motivo")
    motivo: str | None = Field(None, description="c_Motivo por omisión: 01, 02, 03 o 04")
    folio_sustitucion: str | None = None
    csd: CsdUploadBody | None = None

    model_config = {"json_schema_extra": {"examples": [
        {"uuids": [_EXAMPLE_UUID], "motivo": "02"},
        {"folios": [{"uuid": _EXAMPLE_UUID, "motivo": "01",
                     "folio_sustitucion": "A39DA66B-52CA-49E3-879B-5C05185B0EF7"}]},
    ]}}

    def to_folios(self) -> list[Folio]:
        out = [Folio(f.uuid, f.motivo or self.motivo or "", f.folio_sustitucion
                     if f.folio_sustitucion is not None else (self.folio_sustitucion if f.motivo is None else None))
               for f in self.folios]
        out += [Folio(u, self.motivo or "", self.folio_sustitucion) for u in self.uuids]
        return out


class AnswerBody(BaseModel):
    respuesta: str = Field(description="Aceptacion o Rechazo", examples=["Aceptacion"])
    csd: CsdUploadBody | None = None


_CANCEL_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/CancelBody"},
                                 "examples": {"vault": {"summary": "Con el CSD guardado en timbra",
                                                        "value": {"uuids": [_EXAMPLE_UUID], "motivo": "02"}},
                                              "sustitucion": {
                                                  "summary": "Motivo 01: con el CFDI que lo sustituye",
                                                  "value": {"folios": [{
                                                      "uuid": _EXAMPLE_UUID, "motivo": "01",
                                                      "folio_sustitucion": "A39DA66B-52CA-49E3-879B-5C05185B0EF7"}]}}}},
            "application/xml": {"schema": {"type": "string"},
                                "example": '<Cancelacion xmlns="http://cancelacfd.sat.gob.mx" RfcEmisor="..." '
                                           'Fecha="..."><Folios><Folio UUID="..." Motivo="02"/></Folios>'
                                           '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">...</Signature>'
                                           '</Cancelacion>'},
        },
    }
}


async def _json_or_xml(request: Request, model: type[BaseModel]) -> BaseModel | bytes:
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    body = await request.body()
    if ctype in XML_TYPES:
        return _within_limit(request, body)
    if ctype not in ("application/json", ""):
        raise error("T109", detail={"content_type": ctype, "accepted": ["application/json", *XML_TYPES]})
    try:
        return model.model_validate_json(body or b"{}")
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc


def _signing(pac: Pac, who: Principal, csd: CsdUploadBody | None, account_id: int | None) -> Signing:
    if csd is None:
        return Signing()
    if csd.pfx is not None and csd.cer is None and csd.key is None:
        return Signing(pac.vault.one_time(who, pfx=_b64_file(csd.pfx, "pfx"), password=csd.password,
                                          account_id=account_id))
    if csd.pfx is None and csd.cer is not None and csd.key is not None:
        return Signing(pac.vault.one_time(who, cer=_b64_file(csd.cer, "cer"), key=_b64_file(csd.key, "key"),
                                          password=csd.password, account_id=account_id))
    raise error("T185")


@router.post("/cancel", tags=["cancelación"], openapi_extra=_CANCEL_BODY, **answers(CancelOut),
             responses=errors(404, 409, 413, 415, 422),
             summary="Cancelar CFDI por UUID / cancel CFDI by UUID")
async def cancel(request: Request, who: Who, account_id: int | None = None) -> dict:
    """One answer per UUID, in order: `code` is SAT's EstatusUUID (201 accepted: `status` en_proceso while
    the receptor decides, cancelado when no acceptance is needed; 202 already cancelled; 203 not the
    emisor's; 204 not cancelable now, e.g. live related CFDI; 205 not a CFDI of the account / unknown to SAT;
    208/209/311 motivo and sustitución; 210 past the yearly deadline) or T183 (stored; SAT did not answer,
    timbra resends it). A repeated request answers from what is stored (`replayed`), spending nothing."""
    pac = pac_of(request)
    body = await _json_or_xml(request, CancelBody)
    if isinstance(body, bytes):
        result = await to_thread.run_sync(lambda: pac.cancels.cancel_signed(who, body, account_id=account_id),
                                          limiter=_cpu(request))
    else:
        assert isinstance(body, CancelBody)
        signing = _signing(pac, who, body.csd, account_id)
        result = await to_thread.run_sync(
            lambda: pac.cancels.cancel(who, body.to_folios(), signing, account_id=account_id), limiter=_cpu(request))
    out = result.as_dict()
    for item in out["folios"]:
        if item.pop("acuse"):
            item["acuse_url"] = f"/v1/cfdi/{item['uuid']}/acuse-cancelacion"
    return out


@router.get("/cfdi/{uuid}/status", tags=["cancelación"], **answers(CfdiStatusOut), responses=errors(404),
            summary="Estado en el SAT / status at SAT (ConsultaCFDIService)")
def cfdi_status(request: Request, who: Who, uuid: str, account_id: int | None = None) -> dict:
    """Estado (Vigente, Cancelado, No Encontrado), EsCancelable, EstatusCancelacion and ValidacionEFOS as
    SAT's ConsultaCFDIService answers them, with timbra's record of the cancellation."""
    return pac_of(request).cancels.status(who, uuid, account_id)


@router.get("/status", tags=["cancelación"], summary="Estado por expresión impresa (QR) / status by QR expression",
            **answers(SatStatusOut))
def status_by_expression(request: Request, who: Who,
                         expresion: Annotated[str | None, Query(description="URL del QR o ?id=&re=&rr=&tt=&fe=")]
                         = None) -> dict:
    """Any CFDI SAT holds, by the data printed in its QR (id, re, rr, tt; fe is not checked by SAT)."""
    expr = expresion if expresion is not None else "?" + str(request.url.query)
    return pac_of(request).cancels.status_by_expression(expr)


@router.get("/cfdi/{uuid}/acuse-cancelacion", tags=["cancelación"], response_class=Response,
            responses={**binary("application/xml", "El acuse de cancelación del SAT (XML firmado) / SAT's acuse"),
                       **errors(404)})
def acuse_cancelacion(request: Request, who: Who, uuid: str, account_id: int | None = None) -> Response:
    """SAT's acuse de cancelación (signed XML, the bytes SAT sent) of the request that carries the UUID."""
    data = pac_of(request).cancels.acuse(who, uuid, account_id)
    return Response(data, media_type="application/xml",
                    headers={"Content-Disposition": f'attachment; filename="acuse-cancelacion-{uuid.upper()}.xml"'})


@router.get("/cfdi/{uuid}/related", tags=["cancelación"], summary="CFDI relacionados / related CFDI",
            **answers(RelatedOut), responses=errors(404))
def related(request: Request, who: Who, uuid: str, account_id: int | None = None) -> dict:
    """SAT's ConsultaRelacionados: `children` relate to this CFDI (while live, they block its cancellation),
    `parents` are the CFDI it relates to; each with its TipoRelacion ("pago": a Pagos DoctoRelacionado)."""
    r = pac_of(request).cancels.related(who, uuid, account_id)

    def items(rows):
        return [{"uuid": u, "tipo_relacion": t, "estado": e} for u, t, e in rows]

    return {"uuid": r.uuid, "parents": items(r.parents), "children": items(r.children)}


@router.get("/cfdi/{uuid}/events", tags=["cancelación"], summary="Eventos de un CFDI / a CFDI's events",
            **answers(EventList), responses=errors(404))
def cfdi_events(request: Request, who: Who, uuid: str, account_id: int | None = None) -> dict:
    return {"items": pac_of(request).cancels.events(who, uuid, account_id=account_id)}


@router.get("/events", tags=["cancelación"], summary="Eventos de la cuenta / the account's events",
            **answers(EventList), responses=errors(404))
def events(request: Request, who: Who, after_id: Annotated[int, Query(ge=0)] = 0,
           limit: Annotated[int, Query(ge=1, le=500)] = 100, account_id: int | None = None) -> dict:
    """Every state change, oldest first; page with `after_id` = the last `id` seen."""
    return {"items": pac_of(request).cancels.events(who, None, account_id=account_id, after_id=after_id,
                                                    limit=limit)}


@router.get("/pending", tags=["cancelación"], summary="Solicitudes por aceptar / requests awaiting your answer",
            **answers(PendingList), responses=errors(404))
def pending(request: Request, who: Who, account_id: int | None = None) -> dict:
    """Cancellations of CFDI issued to the account's RFCs that wait for its acceptance or rejection."""
    items = pac_of(request).cancels.pending(who, account_id)
    return {"items": [{"uuid": p.uuid, "rfc_emisor": p.rfc_emisor, "rfc_receptor": p.rfc_receptor,
                       "total": p.total, "requested_at": p.requested_at.isoformat(),
                       "deadline": p.deadline.isoformat()} for p in items]}


@router.post("/pending/{uuid}", tags=["cancelación"],
             summary="Aceptar o rechazar una cancelación / accept or reject a cancellation",
             **answers(AnswerOut), responses=errors(404, 413, 415, 422),
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": {"$ref": "#/components/schemas/AnswerBody"},
                                      "examples": {"aceptar": {"summary": "Aceptar con el CSD guardado en timbra",
                                                               "value": {"respuesta": "Aceptacion"}},
                                                   "rechazar": {"summary": "Rechazar",
                                                                "value": {"respuesta": "Rechazo"}}}},
                 "application/xml": {"schema": {"type": "string",
                                                "description": "SolicitudAceptacionRechazo ya firmada"},
                                     "example": '<SolicitudAceptacionRechazo xmlns="http://cancelacfd.sat.gob.mx" '
                                                'RfcReceptor="..." RfcPacEnviaSolicitud="..." Fecha="...">'
                                                '<Folios Respuesta="Aceptacion" UUID="..."/>'
                                                '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">...</Signature>'
                                                '</SolicitudAceptacionRechazo>'}}}})
async def answer(request: Request, who: Who, uuid: str, account_id: int | None = None) -> dict:
    """Signed with the receptor's CSD (the vault's, or `csd` in the body), or a SolicitudAceptacionRechazo
    the receptor signed. `code` is SAT's: 1000 received; 1001 no pending request; 1002 already answered."""
    pac = pac_of(request)
    body = await _json_or_xml(request, AnswerBody)
    if isinstance(body, bytes):
        items = await to_thread.run_sync(lambda: pac.cancels.answer_signed(who, body, account_id=account_id),
                                         limiter=_cpu(request))
        return {"items": items}
    assert isinstance(body, AnswerBody)
    signing = _signing(pac, who, body.csd, account_id)
    item = await to_thread.run_sync(
        lambda: pac.cancels.answer(who, uuid, body.respuesta, signing, account_id=account_id), limiter=_cpu(request))
    return {"items": [item]}


def register_schemas(app: FastAPI) -> None:
    """CancelBody and AnswerBody are read by hand (JSON or signed XML), so FastAPI does not see them: put
    their schemas in /openapi.json's components, where the routes' openapi_extra points."""
    from pydantic.json_schema import models_json_schema

    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        _, defs = models_json_schema([(m, "validation") for m in (CancelBody, AnswerBody)],
                                     ref_template="#/components/schemas/{model}")
        schema.setdefault("components", {}).setdefault("schemas", {}).update(defs.get("$defs", {}))
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
