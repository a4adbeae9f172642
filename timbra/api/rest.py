"""REST API v1. Routes only translate HTTP to timbra.pac calls and back; every decision is in pac/."""
from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated, Literal

from anyio import CapacityLimiter, to_thread
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBasic, HTTPBasicCredentials, HTTPBearer
from pydantic import BaseModel, Field
from starlette.datastructures import Headers
from starlette.routing import Match, Route

from timbra.api.schemas import (
    ROUTER_ERRORS,
    AccountDetailOut,
    AccountList,
    ApiKeyList,
    CfdiList,
    CfdiOut,
    CreditsOut,
    CsdList,
    CsdOut,
    MeOut,
    NewAccountOut,
    NewApiKeyOut,
    NewPackageOut,
    TransferOut,
    UserOut,
    ValidationOut,
    VerificationOut,
    answers,
    binary,
    document_body,
    errors,
    example,
    json_examples,
    stamped,
)
from timbra.build.invoice import Invoice
from timbra.build.nomina import NominaInvoice
from timbra.build.pagos import PagosInvoice
from timbra.cfdi.document import too_large
from timbra.codes import error
from timbra.errors import Finding
from timbra.pac.accounts import Principal, RfcEntry
from timbra.pac.cfdis import CfdiFilter, cfdi_dict
from timbra.pac.runtime import Pac

MAX_ID = 2**63 - 1  # ids are 64-bit integers in the database


async def _ids_in_range(request: Request) -> None:
    """Every id in a path or query (/v1/accounts/{account_id}, ?account_id=...) fits the database's 64-bit
    integers: a larger one is a bad request (T100) here, not an overflow in the database driver."""
    for params in (request.path_params, request.query_params):
        for name, value in params.items():
            if name != "id" and not name.endswith("_id"):
                continue
            digits = str(value).strip().lstrip("+-")
            if not digits.isascii():  # int() reads '٣' and isdigit() says '²' is one: pydantic refuses both (T100)
                continue
            if digits.isdigit() and (len(digits) > 19 or int(digits) > MAX_ID):
                raise error("T100", message=f"{name} fuera de rango (máximo {MAX_ID}).",
                            message_en=f"{name} out of range (maximum {MAX_ID}).",
                            findings=[Finding("T100", "fuera de rango / out of range", node=name,
                                              value=str(value)[:40], expected=f"<= {MAX_ID}")])


router = APIRouter(prefix="/v1", dependencies=[Depends(_ids_in_range)], responses=ROUTER_ERRORS)

_basic = HTTPBasic(auto_error=False, description="Usuario y contraseña / user and password")
_bearer = HTTPBearer(auto_error=False, description="API key (tbk_...)")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key (tbk_...)")

XML_TYPES = ("application/xml", "text/xml")
_DOCUMENT_BODY = document_body()


def pac_of(request: Request) -> Pac:
    return request.app.state.pac


def _cpu(request: Request) -> CapacityLimiter:
    """Stamps and validations run a few at a time per process (TIMBRA_STAMP_CONCURRENCY): the rest wait in
    the event loop, not in threads fighting over the GIL while holding a credit row lock."""
    state = request.app.state
    limiter = getattr(state, "cpu_limiter", None)
    if limiter is None:
        limiter = state.cpu_limiter = CapacityLimiter(pac_of(request).settings.stamp_concurrency)
    return limiter


def _logins(request: Request) -> CapacityLimiter:
    """Password logins get threads of their own (twice the argon2 slots), so a crowd of them never holds
    the threads that API-key requests and the routes use; a longer queue than this is refused at once."""
    state = request.app.state
    limiter = getattr(state, "login_limiter", None)
    if limiter is None:
        limiter = state.login_limiter = CapacityLimiter(2 * pac_of(request).accounts.argon2_slots)
    return limiter


async def principal(request: Request,
                    basic: Annotated[HTTPBasicCredentials | None, Depends(_basic)] = None,
                    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
                    api_key: Annotated[str | None, Depends(_api_key)] = None) -> Principal:
    """The caller, from an API key (X-API-Key or Bearer) or HTTP Basic user and password.
    A key or a login seen in the last seconds is answered from memory, without a thread or the database."""
    accounts = pac_of(request).accounts
    key = api_key or (bearer.credentials if bearer is not None else None)
    client = request.client.host if request.client else None
    if key:
        hit = accounts.cached_key(key)
        if hit is not None:
            return hit
        accounts.key_throttle.check(client=client)  # an address sending wrong keys is answered without a thread
        return await run_in_threadpool(accounts.authenticate_key, key, client)
    if basic is not None:
        hit = accounts.cached_login(basic.username, basic.password, client)  # a throttled address: T150 here
        if hit is not None:
            return hit
        limiter = _logins(request)
        if limiter.statistics().tasks_waiting >= 8 * accounts.argon2_slots:
            raise error("T151", detail={"retry_after": 1})
        return await to_thread.run_sync(accounts.authenticate, basic.username, basic.password, client,
                                        limiter=limiter)
    raise error("T101")


Who = Annotated[Principal, Depends(principal)]


async def document_body(request: Request) -> bytes:
    """The CFDI from the body: raw XML, or JSON {"xml": base64}. Either way the document itself may be up to
    TIMBRA_MAX_DOCUMENT_BYTES (T107)."""
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    body = await request.body()
    if ctype in XML_TYPES or ctype == "":
        return _within_limit(request, body)
    if ctype == "application/json":
        try:
            payload = json.loads(body)
            text = payload["xml"]
            if not isinstance(text, str):
                raise TypeError
            return _within_limit(request, base64.b64decode(text, validate=True))
        except (ValueError, KeyError, TypeError, binascii.Error, RecursionError) as exc:
            raise error("T100", message='JSON inválido: se espera {"xml": "<CFDI en base64>"}.',
                        message_en='Invalid JSON: expected {"xml": "<CFDI in base64>"}.') from exc
    raise error("T109", detail={"content_type": ctype, "accepted": [*XML_TYPES, "application/json"]})


def _within_limit(request: Request, document: bytes) -> bytes:
    limit = pac_of(request).settings.max_document_bytes
    if len(document) > limit:
        raise too_large(len(document), limit)
    return document


# --- stamping --------------------------------------------------------------------------------------------

@router.post("/stamp", tags=["timbrado"], openapi_extra=_DOCUMENT_BODY, status_code=201,
             responses={**stamped(201, 200), **errors(402, 409, 413, 415, 422)},
             summary="Timbrar un CFDI sellado / stamp a sealed CFDI")
async def stamp(request: Request, who: Who,
                idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None) -> Response:
    """Answers the stamped XML (base64) with its UUID, FechaTimbrado (`fecha_timbrado`: ISO 8601, Mexico City
    time with its offset, e.g. 2026-11-24T12:00:00-06:00), NoCertificadoSAT, SelloSAT and the credits left.
    A retry (same Idempotency-Key, same document, or the same Sello from the same account) answers 200 with
    the first stamp and `replayed: true`, spending nothing.
    With `Accept: application/xml` the body is the stamped XML itself and the rest goes in headers."""
    return await _stamp(request, who, idempotency_key)


async def _stamp(request: Request, who: Principal, idempotency_key: str | None) -> Response:
    """The body's CFDI stamped for `who`: `stamp` and QuickStamp's answer."""
    data = await document_body(request)
    # One thread: the stamp service validates and signs a few at a time (the CPU) and stores outside that
    # limit, so waits for the disk overlap and concurrent stamps share one commit (StampService).
    result = await to_thread.run_sync(pac_of(request).stamps.stamp, who, data, idempotency_key)
    return _stamp_response(request, result)


class QuickStamp(Route):
    """POST /v1/stamp for the caller every ERP is: an API key checked in the last seconds (X-API-Key or
    Bearer), no query string. First among the app's routes (`install_quick_stamp`), it answers exactly as
    `stamp` above does without the per-request work of FastAPI's dependencies and of trying the routes
    before it: the same body reading, stamp service and answer; an error leaves as an exception for the
    app's handlers, as from any route. It matches nothing else (a password, an unknown key, a query, another
    method), so those reach `stamp` and every rule of the documented route applies; OpenAPI shows `stamp`."""

    def __init__(self) -> None:
        super().__init__("/v1/stamp", quick_stamp, methods=["POST"], include_in_schema=False)

    def matches(self, scope) -> tuple[Match, dict]:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path or scope["query_string"]:
            return Match.NONE, {}
        who = _known_key_caller(scope)
        if who is None:
            return Match.NONE, {}
        return Match.FULL, {"endpoint": self.endpoint, "route": self, "timbra.caller": who}  # route: the metrics


def _known_key_caller(scope) -> Principal | None:
    """`principal`'s answer when it needs neither a thread nor the database: an API key in the cache. None
    for anything else, HTTP Basic included (its parsing and errors are `principal`'s)."""
    headers = Headers(scope=scope)
    scheme, _, credentials = (headers.get("authorization") or "").partition(" ")
    if scheme.lower() == "basic":
        return None
    key = headers.get("x-api-key") or (credentials.strip() if scheme.lower() == "bearer" else None)
    return scope["app"].state.pac.accounts.cached_key(key) if key else None


async def quick_stamp(request: Request) -> Response:
    """`stamp`, for the caller QuickStamp found."""
    return await _stamp(request, request.scope["timbra.caller"], request.headers.get("idempotency-key"))


def install_quick_stamp(app) -> None:
    app.router.routes.insert(0, QuickStamp())


def _stamp_response(request: Request, result, status: int | None = None) -> Response:
    """A stamped CFDI as JSON (XML in base64), or as the XML itself for `Accept: application/xml`."""
    status = status or (200 if result.replayed else 201)
    headers = {"X-Timbra-UUID": result.uuid, "X-Timbra-Credits-Left": str(result.credits_left)}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    if "application/xml" in (request.headers.get("accept") or ""):
        return Response(result.xml, status_code=status, media_type="application/xml", headers=headers)
    body = {**result.as_dict(), "xml": base64.b64encode(result.xml).decode("ascii")}
    return JSONResponse(body, status_code=status, headers=headers)


@router.post("/validate", tags=["timbrado"], openapi_extra=_DOCUMENT_BODY, **answers(ValidationOut),
             responses=errors(413, 415),
             summary="Validar sin timbrar / validate without stamping")
async def validate(request: Request, who: Who) -> dict:
    """Every finding, as the stamp would report them; no stamp and no credit."""
    data = await document_body(request)
    result = await to_thread.run_sync(pac_of(request).stamps.validate, who, data, limiter=_cpu(request))
    return {"valid": not result.findings, "findings": [f.as_dict() for f in result.findings],
            "not_evaluated": [n.as_dict() for n in result.not_evaluated]}


@router.post("/verify", tags=["timbrado"], openapi_extra=_DOCUMENT_BODY, **answers(VerificationOut),
             responses=errors(413, 415),
             summary="Verificar un CFDI timbrado recibido / verify a received, stamped CFDI")
async def verify(request: Request, who: Who) -> dict:
    """Sello, certificate, the TFD's SelloSAT against the PAC certificates timbra knows, structure and rules as
    of FechaTimbrado (no 307): each check "ok", "failed" or "not_verifiable"; `verified` only when all are ok.
    No stamp and no credit."""
    from timbra.pac.verify import verify_stamped

    data = await document_body(request)
    result = await to_thread.run_sync(verify_stamped, pac_of(request).certifier, data, limiter=_cpu(request))
    return result.as_dict()


# --- stamped CFDI ----------------------------------------------------------------------------------------

def _require_zone(names: str, *values: datetime | None) -> None:
    """Instants must say their zone: a naive one would be read in whatever zone the server runs."""
    if any(v is not None and v.tzinfo is None for v in values):
        raise error("T100", message=f"{names}: indique la zona horaria (p. ej. Z o -06:00).",
                    message_en=f"{names}: give the time zone (e.g. Z or -06:00).")


def _filter(stamped_from: datetime | None, stamped_to: datetime | None, issued_from: str | None,
            issued_to: str | None, rfc_receptor: str | None, tipo: str | None, status: str | None) -> CfdiFilter:
    _require_zone("stamped_from/stamped_to", stamped_from, stamped_to)
    return CfdiFilter(stamped_from=stamped_from, stamped_to=stamped_to, issued_from=issued_from,
                      issued_to=issued_to, rfc_receptor=rfc_receptor.upper() if rfc_receptor else None,
                      tipo=tipo, status=status)


@router.get("/cfdi", tags=["cfdi"], summary="Reporte en tiempo real / real-time report", response_model=CfdiList,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}, **errors(404)})
def list_cfdi(request: Request, who: Who,
              stamped_from: datetime | None = None, stamped_to: datetime | None = None,
              issued_from: Annotated[str | None, Query(description="Fecha de emisión (local), ISO")] = None,
              issued_to: str | None = None, rfc_receptor: str | None = None,
              tipo: Literal["I", "E", "T", "N", "P"] | None = None,
              status: Literal["vigente", "en_proceso", "cancelado"] | None = None,
              cursor: str | None = None, limit: Annotated[int, Query(ge=1, le=500)] = 100,
              account_id: int | None = None,
              format: Literal["json", "csv"] | None = None) -> Response:
    """Newest stamp first, cursor-paginated (`next_cursor`); `fecha_timbrado` as in /v1/stamp (ISO 8601,
    Mexico City time with its offset). `format=csv` (or `Accept: text/csv`) streams every matching CFDI as CSV;
    a cell that a spreadsheet would take for a formula (=, +, -, @, tab, CR first) starts with a quote."""
    cfdis = pac_of(request).cfdis
    f = _filter(stamped_from, stamped_to, issued_from, issued_to, rfc_receptor, tipo, status)
    if format == "csv" or (format is None and "text/csv" in (request.headers.get("accept") or "")):
        pac_of(request).accounts.scope(who, account_id)  # a scope error answers before streaming starts
        return StreamingResponse(cfdis.csv_lines(who, f, account_id), media_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition": 'attachment; filename="cfdi.csv"'})
    page = cfdis.page(who, f, limit=limit, cursor=cursor, account_id=account_id)
    return JSONResponse({"items": [cfdi_dict(r) for r in page.items], "next_cursor": page.next_cursor})


@router.get("/cfdi/{uuid}", tags=["cfdi"], **answers(CfdiOut), responses=errors(404))
def get_cfdi(request: Request, who: Who, uuid: str, account_id: int | None = None) -> dict:
    return cfdi_dict(pac_of(request).cfdis.get(who, uuid, account_id))


@router.get("/cfdi/{uuid}/xml", tags=["cfdi"], response_class=Response,
            responses={**binary("application/xml", "El CFDI timbrado / the stamped CFDI"), **errors(404, 410)})
def get_cfdi_xml(request: Request, who: Who, uuid: str, account_id: int | None = None) -> Response:
    data = pac_of(request).cfdis.xml(who, uuid, account_id)
    return Response(data, media_type="application/xml",
                    headers={"Content-Disposition": f'attachment; filename="{uuid.upper()}.xml"'})


@router.get("/cfdi/{uuid}/acuse-envio", tags=["cfdi"], response_class=Response,
            responses={**binary("application/xml", "El acuse de recepción del SAT / SAT's acknowledgment"),
                       **errors(404)})
def get_acuse_envio(request: Request, who: Who, uuid: str, account_id: int | None = None) -> Response:
    """SAT's acknowledgment that it received the CFDI (404 T103 until the delivery worker gets it)."""
    ack = pac_of(request).cfdis.acuse(who, uuid, account_id)
    return Response(ack.xml, media_type="application/xml",
                    headers={"X-SAT-Status": ack.status, "X-SAT-Code": ack.code,
                             "Content-Disposition": f'attachment; filename="acuse-envio-{ack.uuid}.xml"'})


# --- credits, users, keys ---------------------------------------------------------------------------------

@router.get("/credits", tags=["créditos"], summary="Saldo por paquete / balance per package", **answers(CreditsOut))
def get_credits(request: Request, who: Who) -> dict:
    return pac_of(request).credits.balance(who).as_dict()


class PasswordChange(BaseModel):
    current_password: str
    new_password: str = Field(min_length=1)


@router.post("/password", tags=["cuenta"], status_code=204, responses=errors(413, 422),
             openapi_extra=json_examples(cambio=("Cambiar la contraseña / change the password",
                                                 {"current_password": "la contraseña actual",
                                                  "new_password": "una nueva bastante larga"})))
def change_password(request: Request, who: Who, body: PasswordChange) -> Response:
    pac_of(request).accounts.change_password(who, body.current_password, body.new_password)
    return Response(status_code=204)


@router.get("/me", tags=["cuenta"], **answers(MeOut))
def me(request: Request, who: Who) -> dict:
    acc, rfcs = pac_of(request).accounts.get(who, who.account_id)
    return {"account_id": acc.id, "kind": acc.kind, "name": acc.name, "username": who.username, "rfcs": rfcs}


class NewKey(BaseModel):
    name: str = ""


def _key_dict(rec) -> dict:
    return {"id": rec.id, "prefix": rec.prefix, "name": rec.name, "created_at": rec.created_at.isoformat(),
            "revoked_at": rec.revoked_at.isoformat() if rec.revoked_at else None}


@router.post("/apikeys", tags=["cuenta"], status_code=201, **answers(NewApiKeyOut), responses=errors(413),
             openapi_extra=json_examples(erp=("Una llave para el ERP / a key for the ERP", {"name": "ERP producción"})))
def create_api_key(request: Request, who: Who, body: NewKey | None = None) -> dict:
    """The key is in this answer only: it is stored hashed."""
    made = pac_of(request).accounts.create_key(who, body.name if body else "")
    return {**_key_dict(made.record), "key": made.key}


@router.get("/apikeys", tags=["cuenta"], **answers(ApiKeyList))
def list_api_keys(request: Request, who: Who) -> dict:
    return {"items": [_key_dict(k) for k in pac_of(request).accounts.list_keys(who)]}


@router.delete("/apikeys/{key_id}", tags=["cuenta"], status_code=204, responses=errors(404))
def revoke_api_key(request: Request, who: Who, key_id: int) -> Response:
    pac_of(request).accounts.revoke_key(who, key_id)
    return Response(status_code=204)


# --- accounts (admins and distributors) ---------------------------------------------------------------

class RfcItem(BaseModel):
    rfc: str
    nombre: str | None = Field(None, description="Nombre registrado ante el SAT para el RFC (Emisor@Nombre de lo "
                               "que timbra emite); por omisión, el del CSD sin régimen de capital")


class RfcBody(RfcItem):
    shared: bool = Field(False, description="Solo el administrador: registrar un RFC que ya tiene otra cuenta")


class NewAccountBody(BaseModel):
    kind: Literal["admin", "distributor", "emisor"]
    name: str
    rfcs: list[str | RfcItem] = Field([], description='"EKU9003173C9" o {"rfc", "nombre"}')
    username: str | None = None
    password: str | None = None
    parent_id: int | None = Field(None, ge=1, le=MAX_ID)
    shared: bool = Field(False, description="Solo el administrador: RFC que ya tiene otra cuenta")


class NewUserBody(BaseModel):
    username: str
    password: str | None = None


class PackageBody(BaseModel):
    size: int = Field(gt=0, le=2**31 - 1)
    activation: datetime | None = None
    expiry: datetime | None = None


class TransferBody(BaseModel):
    amount: int = Field(gt=0, le=2**31 - 1)


def _account_dict(acc, rfcs: list[str] | None = None) -> dict:
    out = {"id": acc.id, "kind": acc.kind, "name": acc.name, "parent_id": acc.parent_id, "active": acc.active,
           "created_at": acc.created_at.isoformat()}
    if rfcs is not None:
        out["rfcs"] = rfcs
    return out


@router.post("/accounts", tags=["cuentas"], status_code=201, **answers(NewAccountOut),
             responses=errors(404, 409, 413, 422),
             openapi_extra=json_examples(emisor=("Un emisor con su RFC / an emisor with its RFC",
                                                 example("account.json"))))
def create_account(request: Request, who: Who, body: NewAccountBody) -> dict:
    """An admin creates distributors and emisores; a distributor creates its own emisores. A generated
    password is in this answer only."""
    accounts = pac_of(request).accounts
    rfcs = [r if isinstance(r, str) else RfcEntry(r.rfc, r.nombre) for r in body.rfcs]
    made = accounts.create_account(who, kind=body.kind, name=body.name, parent_id=body.parent_id, rfcs=rfcs,
                                   username=body.username, password=body.password, shared=body.shared)
    out = _account_dict(made.account, accounts.rfcs(made.account.id))
    if made.user is not None:
        out["user"] = {"id": made.user.id, "username": made.user.username}
        if made.password:
            out["user"]["password"] = made.password
    return out


@router.get("/accounts", tags=["cuentas"], **answers(AccountList))
def list_accounts(request: Request, who: Who) -> dict:
    return {"items": [_account_dict(a) for a in pac_of(request).accounts.list(who)]}


@router.get("/accounts/{account_id}", tags=["cuentas"], **answers(AccountDetailOut), responses=errors(404))
def get_account(request: Request, who: Who, account_id: int) -> dict:
    acc, rfcs = pac_of(request).accounts.get(who, account_id)
    return {**_account_dict(acc, rfcs), "nombres": pac_of(request).accounts.rfc_nombres(acc.id)}


@router.post("/accounts/{account_id}/users", tags=["cuentas"], status_code=201, **answers(UserOut),
             responses=errors(404, 409, 413, 422),
             openapi_extra=json_examples(generada=("Contraseña generada / a generated password",
                                                   {"username": "contabilidad"})))
def add_user(request: Request, who: Who, account_id: int, body: NewUserBody) -> dict:
    user, generated = pac_of(request).accounts.add_user(who, account_id, body.username, body.password)
    out = {"id": user.id, "username": user.username, "account_id": user.account_id}
    if generated:
        out["password"] = generated
    return out


@router.post("/accounts/{account_id}/rfcs", tags=["cuentas"], status_code=204,
             responses=errors(404, 409, 413, 422),
             openapi_extra=json_examples(rfc=("Un RFC más / one more RFC",
                                              {"rfc": "XIA190128J61", "nombre": "XENON INDUSTRIAL ARTICLES"})))
def add_rfc(request: Request, who: Who, account_id: int, body: RfcBody) -> Response:
    """The admin or the account's distributor; an RFC another account holds only with the admin's `shared`."""
    pac_of(request).accounts.add_rfc(who, account_id, body.rfc, nombre=body.nombre, shared=body.shared)
    return Response(status_code=204)


@router.get("/accounts/{account_id}/credits", tags=["créditos"], **answers(CreditsOut), responses=errors(404))
def account_credits(request: Request, who: Who, account_id: int) -> dict:
    return pac_of(request).credits.balance(who, account_id).as_dict()


@router.post("/accounts/{account_id}/packages", tags=["créditos"], status_code=201, **answers(NewPackageOut),
             responses=errors(404, 413),
             openapi_extra=json_examples(mil=("Un paquete de 1,000 / a package of 1,000", {"size": 1000})))
def add_package(request: Request, who: Who, account_id: int, body: PackageBody) -> dict:
    """The PAC admin sells a package (e.g. 1,000 / 50,000 / 100,000 / 200,000 credits)."""
    _require_zone("activation/expiry", body.activation, body.expiry)
    pkg = pac_of(request).credits.add_package(who, account_id, body.size, activation=body.activation,
                                              expiry=body.expiry)
    return {"id": pkg.id, "account_id": pkg.account_id, "size": pkg.size, "activation": pkg.activation.isoformat(),
            "expiry": pkg.expiry.isoformat() if pkg.expiry else None}


@router.post("/accounts/{account_id}/credits", tags=["créditos"], status_code=201, **answers(TransferOut),
             responses=errors(404, 409, 413),
             openapi_extra=json_examples(cien=("100 créditos a un cliente / 100 credits to a client", {"amount": 100})))
def transfer_credits(request: Request, who: Who, account_id: int, body: TransferBody) -> dict:
    """A distributor hands credits from its packages (earliest expiry first) to one of its clients."""
    made = pac_of(request).credits.transfer(who, account_id, body.amount)
    return {"packages": [{"id": p.id, "size": p.size, "source_id": p.source_id,
                          "expiry": p.expiry.isoformat() if p.expiry else None} for p in made]}


# --- CSD vault (conexión remota) ----------------------------------------------------------------------------

_CSD_B64_MAX = 64 * 1024  # a .cer, .key or .pfx is a few KB


class CsdUploadBody(BaseModel):
    """SAT's files in base64: {"cer", "key", "password"} or {"pfx", "password"}. The password opens the
    key once and is not kept."""

    cer: str | None = Field(None, max_length=_CSD_B64_MAX, description=".cer (DER) en base64")
    key: str | None = Field(None, max_length=_CSD_B64_MAX, description=".key (PKCS#8 DER cifrado) en base64")
    pfx: str | None = Field(None, max_length=_CSD_B64_MAX, description=".pfx (PKCS#12) en base64")
    password: str = Field(max_length=256, description="Contraseña de la llave privada")


def _b64_file(text: str, name: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise error("T100", message=f"{name}: se espera el archivo en base64.",
                    message_en=f"{name}: the file is expected in base64.") from exc


@router.post("/csd", tags=["csd"], status_code=201, summary="Subir un CSD / upload a CSD", **answers(CsdOut),
             responses=errors(404, 409, 413, 422), openapi_extra=json_examples(
                 cer_key=("El .cer y el .key en base64 / the .cer and .key in base64", example("csd.json")),
                 pfx=("Un .pfx en base64 / a .pfx in base64", example("csd-pfx.json"))))
def upload_csd(request: Request, who: Who, body: CsdUploadBody, account_id: int | None = None) -> dict:
    """The CSD becomes the active one of its RFC (the others stay, inactive). It must be a CSD (not an
    e.firma) of one of the account's RFCs, valid, issued by SAT, with its own key."""
    vault = pac_of(request).vault
    if body.pfx is not None and body.cer is None and body.key is None:
        info = vault.upload_pfx(who, _b64_file(body.pfx, "pfx"), body.password, account_id=account_id)
    elif body.pfx is None and body.cer is not None and body.key is not None:
        info = vault.upload(who, _b64_file(body.cer, "cer"), _b64_file(body.key, "key"), body.password,
                            account_id=account_id)
    else:
        raise error("T100", message='Envíe {"cer", "key", "password"} o {"pfx", "password"}.',
                    message_en='Send {"cer", "key", "password"} or {"pfx", "password"}.')
    return info.as_dict()


@router.get("/csd", tags=["csd"], summary="CSD de la cuenta / the account's CSDs", **answers(CsdList),
            responses=errors(404))
def list_csd(request: Request, who: Who, account_id: int | None = None) -> dict:
    """Certificates only (never key material), with validity and which one is active per RFC."""
    return {"items": [i.as_dict() for i in pac_of(request).vault.list(who, account_id=account_id)]}


@router.post("/csd/{csd_id}/activate", tags=["csd"], summary="Activar un CSD / make a CSD the active one",
             **answers(CsdOut), responses=errors(404, 422))
def activate_csd(request: Request, who: Who, csd_id: int) -> dict:
    return pac_of(request).vault.activate(who, csd_id).as_dict()


@router.delete("/csd/{csd_id}", tags=["csd"], status_code=204, summary="Eliminar un CSD / remove a CSD",
               responses=errors(404))
def remove_csd(request: Request, who: Who, csd_id: int) -> Response:
    """The private key is erased for good; an active CSD leaves its RFC without one."""
    pac_of(request).vault.remove(who, csd_id)
    return Response(status_code=204)


# --- issuing from data (conexión remota) -------------------------------------------------------------------

class IssueBody(Invoice):
    """The CFDI's data in Anexo 20's names. timbra fills Emisor (from the account and its CSD), Fecha (now, in
    LugarExpedicion's zone), Importe, tax bases and amounts, Impuestos, SubTotal, Descuento and Total."""

    referencia: str | None = Field(None, min_length=1, max_length=200,
                                   description="Id del ERP, único por emisor: un reintento devuelve el primer CFDI")


@router.post("/issue", tags=["emisión"], status_code=201, responses={**stamped(201, 200), **errors(402, 409, 413, 422)},
             openapi_extra=json_examples(factura=("Una factura (ingreso) / an invoice", example("issue-factura.json"))),
             summary="Emitir un CFDI desde datos / issue a CFDI from data")
async def issue(request: Request, who: Who, body: IssueBody) -> Response:
    """Builds, seals with the account's active CSD and stamps (same validation, credit and storage as
    /v1/stamp). Errors name the JSON field (`findings[].node`, e.g. Conceptos[1].Impuestos.Traslados[0].
    TasaOCuota) and nothing is sealed. A retry with the same `referencia` answers 200 with the first CFDI."""
    pac = pac_of(request)
    # One thread, no limit here: issuing builds, seals and validates a few at a time itself (the stamp
    # service's CPU limit) and commits outside that limit.
    result = await to_thread.run_sync(pac.issuing.issue, who, body, body.referencia)
    return _stamp_response(request, result)


class IssuePagosBody(PagosInvoice):
    """A CFDI de pagos (Pagos 2.0): the payments and the documents they pay, with their tax lines. timbra
    computes ImpSaldoInsoluto, BaseDR/ImporteDR, Monto, ImpuestosP and Totales."""

    referencia: str | None = Field(None, min_length=1, max_length=200,
                                   description="Id del ERP, único por emisor: un reintento devuelve el primer CFDI")


class IssueNominaBody(NominaInvoice):
    """A CFDI de nómina (Nómina 1.2): the employee, the period and the lines. timbra computes Antigüedad,
    every total of the complement, and the Comprobante's Concepto, SubTotal, Descuento and Total."""

    referencia: str | None = Field(None, min_length=1, max_length=200,
                                   description="Id del ERP, único por emisor: un reintento devuelve el primer CFDI")


@router.post("/issue/nomina", tags=["emisión"], status_code=201,
             responses={**stamped(201, 200), **errors(402, 409, 413, 422)},
             openapi_extra=json_examples(nomina=("Un recibo de nómina / a payslip", example("issue-nomina.json"))),
             summary="Emitir un CFDI de nómina desde datos / issue a Nómina 1.2 CFDI from data")
async def issue_nomina(request: Request, who: Who, body: IssueNominaBody) -> Response:
    pac = pac_of(request)
    result = await to_thread.run_sync(lambda: pac.issuing.issue(who, body, body.referencia, kind="nomina"))
    return _stamp_response(request, result)


@router.post("/issue/pagos", tags=["emisión"], status_code=201,
             responses={**stamped(201, 200), **errors(402, 409, 413, 422)},
             openapi_extra=json_examples(pago=("Un pago de una factura / a payment of an invoice",
                                               example("issue-pagos.json"))),
             summary="Emitir un CFDI de pagos desde datos / issue a Pagos 2.0 CFDI from data")
async def issue_pagos(request: Request, who: Who, body: IssuePagosBody) -> Response:
    pac = pac_of(request)
    result = await to_thread.run_sync(lambda: pac.issuing.issue(who, body, body.referencia, kind="pagos"))
    return _stamp_response(request, result)


@router.get("/issue/{referencia}", tags=["emisión"], summary="El CFDI de una referencia / the CFDI of a referencia",
            responses={**stamped(200, text={200: "El CFDI de la referencia / the referencia's CFDI"}),
                       **errors(404, 410)})
def issued_by_referencia(request: Request, who: Who, referencia: str) -> Response:
    return _stamp_response(request, pac_of(request).issuing.by_referencia(who, referencia), status=200)
