"""What the REST API answers, as pydantic models: /openapi.json documents every JSON answer with them, every
error with ErrorOut (the one error shape of timbra.errors), and every request body with a working example
(timbra/api/examples/).

Routes that build their JSON themselves (the stamp's hot path) name their model in `responses=` only, for the
document; routes that answer a dict declare it as `response_model` (with `response_model_exclude_unset`, so
an answer keeps exactly the keys it had: a key a route leaves out is not sent as null).
"""
from __future__ import annotations

import base64
import json
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

EXAMPLES = Path(__file__).parent / "examples"


def _instant(description: str = "ISO 8601 con zona / ISO 8601 with its offset") -> Any:
    return Field(description=description, json_schema_extra={"format": "date-time"})


def _maybe_instant(description: str = "ISO 8601 con zona / ISO 8601 with its offset; null si no hay") -> Any:
    return Field(None, description=description, json_schema_extra={"format": "date-time"})


# --- errors ---------------------------------------------------------------------------------------------

class FindingOut(BaseModel):
    """Un problema encontrado (una validación responde con todos). / One problem found (a validation answers
    with all of them)."""

    # /v1/validate and /v1/verify answer findings through this model: a number a check put in `value` is
    # sent as text, never refused (that would turn a validation into a 500)
    model_config = ConfigDict(coerce_numbers_to_str=True)

    code: str = Field(description="Código del SAT (301, CFDI40xxx...) o de timbra (T...)", examples=["CFDI40108"])
    message: str = Field(description="Texto en español")
    node: str = Field(description="Dónde: nodo del XML o campo del JSON (p. ej. Conceptos[1].Cantidad)")
    value: str | None = Field(None, description="El valor rechazado (nunca el de un secreto)")
    expected: str | None = Field(None, description="Lo que se esperaba")
    detail: str | None = Field(None, description="Precisión en español (p. ej. línea, elemento y atributo de un "
                                                 "error de XML, en palabras de timbra)")
    message_en: str | None = Field(None, description="Text in English")
    detail_en: str | None = Field(None, description="`detail` in English")


class ErrorOut(BaseModel):
    """Todo error de timbra: un código estable (el del SAT cuando el SAT tiene uno), el mensaje en español e
    inglés, de qué lado está el problema y cada hallazgo. / Every error timbra answers: a stable code (SAT's
    where SAT has one), the message in Spanish and English, whose side the problem is on, and every finding."""

    code: str = Field(description="Código estable: del SAT (301-308, 401-403, CFDI40xxx) o de timbra (T...)",
                      examples=["T101"])
    message: str = Field(description="Mensaje en español", examples=["Credenciales inválidas o ausentes."])
    message_en: str | None = Field(None, description="Message in English", examples=["Missing or invalid credentials."])
    source: Literal["client", "pac", "sat"] = Field(description="De quién es el problema / whose side it is on")
    findings: list[FindingOut] = Field(description="Cada hallazgo (vacío si no aplica)")
    detail: dict[str, Any] | None = Field(None, description="Datos del error, p. ej. {\"retry_after\": 1}")


# Statuses every authenticated /v1 route may answer, and those a route adds. A request timbra cannot read
# (a parameter of the wrong type, a missing field) is 400 T100, except the CFDI's data on /v1/issue*: 422 T130.
_ERROR_TEXT = {
    400: "Solicitud inválida (T100; 301 XML mal formado) / bad request",
    401: "Credenciales inválidas o ausentes (T101) / missing or invalid credentials",
    402: "Sin créditos (T104) / no credits left",
    403: "Sin permiso (T102) o RFC ajeno a la cuenta (T105) / not allowed",
    404: "No encontrado (T103) / not found",
    409: "Conflicto (307 ya timbrado, T106, T110, T127...) / conflict",
    410: "XML depurado por la política de retención (T230) / purged by the retention policy",
    413: "Solicitud demasiado grande (T107) / request too large",
    415: "Tipo de contenido no admitido (T109) / unsupported content type",
    422: "Rechazado: reglas del SAT o de timbra (matrices del SAT, T1xx) / refused by SAT's or timbra's rules",
    429: "Demasiados intentos (T150), vea Retry-After / too many attempts",
    500: "Error interno (T900) / internal error",
    503: "No disponible por un momento (T151, T220, T232), vea Retry-After / unavailable for a moment",
}
COMMON_ERRORS = (400, 401, 403, 429, 500, 503)


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for these error statuses, each answered as ErrorOut."""
    return {s: {"model": ErrorOut, "description": _ERROR_TEXT[s]} for s in statuses}


# For an APIRouter's `responses=`: the statuses of every authenticated route, and `default` (any other error
# is ErrorOut too), which keeps FastAPI from documenting its own 422 shape, one timbra never answers.
ROUTER_ERRORS: dict[int | str, dict[str, Any]] = {
    **errors(*COMMON_ERRORS),
    "default": {"model": ErrorOut, "description": "Cualquier otro error: la misma forma / any other error: same shape"},
}


def binary(media_type: str, description: str, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a non-JSON answer: its media type, as a string of bytes."""
    return {status: {"description": description,
                     "content": {media_type: {"schema": {"type": "string", "format": "binary"}}}}}


# --- stamping -------------------------------------------------------------------------------------------

class StampOut(BaseModel):
    """Un CFDI timbrado; los encabezados lo repiten: X-Timbra-UUID, X-Timbra-Credits-Left (e Idempotent-Replayed
    en un reintento). Con `Accept: application/xml` el cuerpo es el XML timbrado. / A stamped CFDI; its headers
    repeat it. With `Accept: application/xml` the body is the stamped XML itself."""

    uuid: str = Field(description="Folio fiscal (UUID) del TimbreFiscalDigital")
    fecha_timbrado: str = _instant("ISO 8601 en hora de la Ciudad de México con su zona "
                                   "(2026-11-24T12:00:00-06:00)")
    no_certificado_sat: str
    sello_sat: str
    credits_left: int = Field(description="Créditos que quedan / credits left")
    replayed: bool = Field(description="true: la respuesta del primer timbrado (reintento), nada se cobró")
    xml: str = Field(description="El CFDI timbrado, en base64", json_schema_extra={"format": "byte"})


class NotEvaluatedOut(BaseModel):
    what: str = Field(description='Qué no se revisó, p. ej. "padrón:XAXX010101000"')
    reason: str
    reason_en: str


class ValidationOut(BaseModel):
    valid: bool
    findings: list[FindingOut]
    not_evaluated: list[NotEvaluatedOut] = Field(description="Lo que no se pudo revisar y por qué")


class CheckOut(BaseModel):
    check: Literal["estructura", "timbre", "sello", "certificado", "sello_sat", "reglas"]
    status: Literal["ok", "failed", "not_verifiable"]
    findings: list[FindingOut]
    detail: str | None = None


class VerificationOut(BaseModel):
    verified: bool = Field(description="true solo si todas las revisiones son ok")
    uuid: str | None
    fecha_timbrado: str | None
    no_certificado_sat: str | None
    as_of: str | None = Field(json_schema_extra={"format": "date-time"})
    checks: list[CheckOut]


# --- stamped CFDI ---------------------------------------------------------------------------------------

class CfdiOut(BaseModel):
    uuid: str
    version: str
    rfc_emisor: str
    rfc_receptor: str
    nombre_receptor: str | None
    serie: str | None
    folio: str | None
    tipo: str = Field(description="TipoDeComprobante: I, E, T, N o P")
    fecha: str = Field(description="Fecha del comprobante (hora local de LugarExpedicion, sin zona)")
    fecha_timbrado: str = _instant("ISO 8601 en hora de la Ciudad de México con su zona")
    total: str = Field(description="Importe como texto decimal", examples=["1160.00"])
    moneda: str
    status: Literal["vigente", "en_proceso", "cancelado"]
    sat_status: str | None = Field(description="Entrega al SAT")
    no_certificado_sat: str


class CfdiList(BaseModel):
    items: list[CfdiOut]
    next_cursor: str | None = Field(description="Para la página siguiente (?cursor=); null al final")


# --- credits, users, keys -------------------------------------------------------------------------------

class PackageOut(BaseModel):
    id: int
    size: int
    used: int
    left: int
    activation: str = _instant()
    expiry: str | None = _maybe_instant("null: sin vencimiento / no expiry")
    active: bool


class CreditsOut(BaseModel):
    account_id: int
    available: int = Field(description="Créditos disponibles hoy / credits available now")
    packages: list[PackageOut]


class MeOut(BaseModel):
    account_id: int
    kind: Literal["admin", "distributor", "emisor"]
    name: str
    username: str | None
    rfcs: list[str]


class ApiKeyOut(BaseModel):
    id: int
    prefix: str
    name: str
    created_at: str = _instant()
    revoked_at: str | None = _maybe_instant()


class NewApiKeyOut(ApiKeyOut):
    key: str = Field(description="La llave completa: solo en esta respuesta (se guarda su hash)")


class ApiKeyList(BaseModel):
    items: list[ApiKeyOut]


# --- accounts -------------------------------------------------------------------------------------------

class AccountOut(BaseModel):
    id: int
    kind: Literal["admin", "distributor", "emisor"]
    name: str
    parent_id: int | None
    active: bool
    created_at: str = _instant()


class AccountList(BaseModel):
    items: list[AccountOut]


class AccountUserOut(BaseModel):
    id: int
    username: str
    password: str | None = Field(None, description="La contraseña generada: solo en esta respuesta")


class NewAccountOut(AccountOut):
    rfcs: list[str]
    user: AccountUserOut | None = None


class AccountDetailOut(AccountOut):
    rfcs: list[str]
    nombres: dict[str, str | None] = Field(description="Nombre registrado por RFC (null: el del CSD)")


class UserOut(BaseModel):
    id: int
    username: str
    account_id: int
    password: str | None = Field(None, description="La contraseña generada: solo en esta respuesta")


class NewPackageOut(BaseModel):
    id: int
    account_id: int
    size: int
    activation: str = _instant()
    expiry: str | None = _maybe_instant()


class TransferredPackageOut(BaseModel):
    id: int
    size: int
    source_id: int | None = Field(description="El paquete del distribuidor de donde salieron")
    expiry: str | None = _maybe_instant()


class TransferOut(BaseModel):
    packages: list[TransferredPackageOut]


# --- CSD vault ------------------------------------------------------------------------------------------

class CsdOut(BaseModel):
    """Un CSD guardado: los datos del certificado, nunca la llave. / A stored CSD: the certificate's facts, never
    key material."""

    id: int
    account_id: int
    rfc: str
    no_certificado: str
    name: str
    valid_from: str = _instant()
    valid_to: str = _instant()
    active: bool
    expired: bool
    created_at: str = _instant()


class CsdList(BaseModel):
    items: list[CsdOut]


# --- cancellation ---------------------------------------------------------------------------------------

class CancelFolioOut(BaseModel):
    uuid: str
    code: str = Field(description="EstatusUUID del SAT (201, 202, 203, 204, 205...) o T183 (reintento pendiente)")
    message: str
    message_en: str
    status: Literal["vigente", "en_proceso", "cancelado"]
    estatus_cancelacion: str = Field(description="EstatusCancelacion del SAT")
    replayed: bool = Field(description="true: respondido de una solicitud anterior, nada se envió de nuevo")
    acuse_url: str | None = Field(None, description="Dónde descargar el acuse de cancelación, cuando hay")


class CancelOut(BaseModel):
    folios: list[CancelFolioOut] = Field(description="Una respuesta por UUID, en orden")


class SatStatusOut(BaseModel):
    """La respuesta de ConsultaCFDIService del SAT. / SAT's ConsultaCFDIService answer."""

    codigo_estatus: str = Field(examples=["S - Comprobante obtenido satisfactoriamente."])
    estado: str = Field(description="Vigente, Cancelado o No Encontrado")
    es_cancelable: str = Field(description="Cancelable sin aceptación, Cancelable con aceptación, No cancelable")
    estatus_cancelacion: str
    validacion_efos: str
    uuid: str | None = Field(None, description="Falta si la expresión no es válida (601)")


class CancellationRecordOut(BaseModel):
    code: str
    motivo: str
    folio_sustitucion: str | None
    estatus_cancelacion: str
    requested_at: str = _instant()
    updated_at: str = _instant()


class CfdiStatusOut(SatStatusOut):
    uuid: str  # type: ignore[assignment]
    status: Literal["vigente", "en_proceso", "cancelado"] = Field(description="El de timbra")
    cancelacion: CancellationRecordOut | None = Field(description="La solicitud de cancelación registrada, si hay")


class RelatedItemOut(BaseModel):
    uuid: str
    tipo_relacion: str = Field(description='c_TipoRelacion, o "pago" (un DoctoRelacionado de Pagos)')
    estado: str


class RelatedOut(BaseModel):
    uuid: str
    parents: list[RelatedItemOut] = Field(description="Los CFDI con que este se relaciona")
    children: list[RelatedItemOut] = Field(description="Los CFDI que se relacionan con este (vivos, bloquean "
                                                       "su cancelación)")


class EventOut(BaseModel):
    id: int
    uuid: str | None
    kind: str = Field(examples=["cancelacion.solicitada"])
    data: dict[str, Any]
    created_at: str = _instant()


class EventList(BaseModel):
    items: list[EventOut]


class PendingOut(BaseModel):
    uuid: str
    rfc_emisor: str
    rfc_receptor: str
    total: str
    requested_at: str = _instant()
    deadline: str = _instant("Sin respuesta después de esta fecha, se acepta (Plazo vencido)")


class PendingList(BaseModel):
    items: list[PendingOut]


class AnswerItemOut(BaseModel):
    uuid: str
    respuesta: Literal["Aceptacion", "Rechazo"]
    code: str = Field(description="Del SAT: 1000 recibida; 1001 sin solicitud pendiente; 1002 ya respondida")
    message: str
    message_en: str


class AnswerOut(BaseModel):
    items: list[AnswerItemOut]


# --- printing -------------------------------------------------------------------------------------------

class BrandingOut(BaseModel):
    color: str | None = Field(description="#RRGGBB, o null (el color de timbra)")
    logo: bool = Field(description="Hay un logo guardado (GET /v1/branding/logo)")
    logo_width: int | None
    logo_height: int | None
    version: int = Field(description="Sube con cada cambio")
    updated_at: str | None = _maybe_instant()


# --- operations -----------------------------------------------------------------------------------------

class HealthOut(BaseModel):
    status: Literal["ok"]
    version: str


class BacklogOut(BaseModel):
    kind: str
    pending: int
    oldest_seconds: float


class ReadinessOut(BaseModel):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "down"]
    outbox: list[BacklogOut]
    outbox_lag_limit_seconds: float
    error: str | None = None


# --- request examples -----------------------------------------------------------------------------------

@cache
def example(name: str) -> Any:
    """A shipped example (timbra/api/examples/): JSON parsed, anything else as text."""
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    return json.loads(text) if name.endswith(".json") else text


def json_examples(**named: tuple[str, Any]) -> dict[str, Any]:
    """`openapi_extra=` giving the JSON request body named examples: name=(summary, value)."""
    return {"requestBody": {"content": {"application/json": {
        "examples": {k: {"summary": s, "value": v} for k, (s, v) in named.items()}}}}}


def document_body() -> dict[str, Any]:
    """`openapi_extra=` of the routes that read a CFDI (/v1/stamp, /v1/validate, /v1/verify): XML as the body,
    or JSON {"xml": base64}, each with the shipped example (a CFDI 4.0 to seal with your CSD)."""
    xml = example("cfdi.xml")
    return {
        "requestBody": {
            "required": True,
            "description": "El CFDI 4.0 sellado: XML tal cual, o JSON {\"xml\": base64}. El ejemplo está sellado con "
                           "un CSD del sandbox de otra instalación: ponga su Fecha y séllelo con su CSD. / The sealed "
                           "CFDI, as XML or base64 in JSON; the example is sealed with another sandbox's CSD: date it "
                           "and seal it with yours.",
            "content": {
                "application/xml": {"schema": {"type": "string", "format": "binary"},
                                    "example": xml},
                "application/json": {"schema": {"type": "object", "required": ["xml"],
                                                "properties": {"xml": {"type": "string", "format": "byte",
                                                                       "description": "CFDI XML en base64"}}},
                                     "example": {"xml": base64.b64encode(xml.encode("utf-8")).decode("ascii")}},
            },
        }
    }


def answers(model: type[BaseModel]) -> dict[str, Any]:
    """Decorator arguments of a route that answers a dict: the model documents it, and the answer keeps the
    keys the route gave (none added as null)."""
    return {"response_model": model, "response_model_exclude_unset": True}


_STAMPED_TEXT = {201: "Timbrado / stamped", 200: "Reintento: el primer timbrado (replayed) / a retry: the first stamp"}


def stamped(*statuses: int, text: dict[int, str] | None = None) -> dict[int | str, dict[str, Any]]:
    """`responses=` of a route that answers a stamped CFDI (built by the route itself: documentation only):
    201 a new stamp, 200 a retry answered with the first one; JSON, or the XML for Accept: application/xml."""
    text = {**_STAMPED_TEXT, **(text or {})}
    return {s: {"model": StampOut, "description": text[s],
                "content": {"application/xml": {"schema": {"type": "string", "format": "binary"}}}}
            for s in statuses}


# Examples of the path parameters that name something, for Swagger UI's "Try it out" (ids are an account's
# own; optional parameters get none: Swagger UI would send the example as a filter, or an Idempotency-Key).
_EXAMPLE_UUID = "5FB2822E-396D-4725-8521-CDC4BDD20CCF"
PATH_EXAMPLES: dict[str, Any] = {"uuid": _EXAMPLE_UUID, "referencia": "FAC-2026-0001"}


def register(app) -> None:
    """Puts PATH_EXAMPLES on the path parameters of /openapi.json."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        for item in schema.get("paths", {}).values():
            for op in item.values():
                for param in op.get("parameters", []):
                    if param["in"] == "path" and param["name"] in PATH_EXAMPLES and "example" not in param:
                        param["example"] = PATH_EXAMPLES[param["name"]]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
