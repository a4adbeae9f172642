"""The ASGI application factory: routes, one error shape, body limits, and the PAC's lifecycle."""
from __future__ import annotations

import json
import logging
import time
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from timbra import __version__
from timbra.codes import error, http_status
from timbra.errors import Finding, TimbraError
from timbra.pac.runtime import BlobError, Pac

log = logging.getLogger("timbra.api")
access_log = logging.getLogger("timbra.access")

STATIC = Path(__file__).parent / "static"
MANUAL = Path(__file__).parent / "manual_html"  # `make manual` builds docs/manual here (MkDocs); not in git
SWAGGER_UI = "/static/swagger-ui"  # Swagger UI's own files, served from the package (see static/README.md)
# Request bodies carry a document as XML or as base64 in JSON: the body limit leaves room for the base64 of a
# document of the maximum size (4/3 of it) plus the JSON around it.
JSON_ALLOWANCE = 64 * 1024

DESCRIPTION = """
**timbra**: PAC de código abierto para CFDI 4.0 / an open-source PAC for Mexico's CFDI.

Autenticación / authentication: `X-API-Key: tbk_...` (or `Authorization: Bearer tbk_...`), or HTTP Basic
with the user and password.

Errores / errors: always `{"code", "message", "message_en", "source": "client"|"pac"|"sat", "findings": [...]}`;
SAT's codes where SAT has one (301-308, 401-403, CFDI40xxx), timbra's own (T...) otherwise.

Tamaño / size: a document (CFDI XML, sent raw or as base64 in JSON) may be up to TIMBRA_MAX_DOCUMENT_BYTES
(20 MiB by default) once decoded; larger is 413 T107.

Fechas / instants: `fecha_timbrado` is ISO 8601 in Mexico City time with its offset
(`2026-11-24T12:00:00-06:00`) in every answer; the TFD inside the XML keeps SAT's own form.
"""


def request_limit(settings) -> int:
    """The request-body limit: TIMBRA_MAX_REQUEST_BYTES, and never less than a document of
    TIMBRA_MAX_DOCUMENT_BYTES needs as base64 in JSON."""
    as_base64 = 4 * -(-settings.max_document_bytes // 3)
    return max(settings.max_request_bytes, as_base64 + JSON_ALLOWANCE)


def json_field(loc) -> str:
    """("body", "Conceptos", 1, "Cantidad") -> "Conceptos[1].Cantidad"; query and path parameters keep
    their name."""
    out = ""
    for i, p in enumerate(loc):
        if i == 0 and p == "body" and len(loc) > 1:
            continue
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def error_response(exc: TimbraError, headers: dict[str, str] | None = None) -> JSONResponse:
    from timbra.api.ops import count_error

    count_error(exc.code)
    status = http_status(exc.code)
    if exc.code == "T101":
        headers = {**(headers or {}), "WWW-Authenticate": 'Basic realm="timbra", charset="UTF-8"'}
    retry_after = exc.detail.get("retry_after")
    if retry_after is not None:
        headers = {**(headers or {}), "Retry-After": str(retry_after)}
    return JSONResponse(exc.as_dict(), status_code=status, headers=headers)


_SECRET_FIELDS = ("password", "key", "pfx", "cer")


def rejected_value(e: dict) -> str | None:
    """The value a validation finding refused (pydantic's `input`), short, and never a secret's."""
    if e.get("type") == "missing" or "input" not in e:
        return None
    if any(str(p).lower() in _SECRET_FIELDS or "password" in str(p).lower() for p in e.get("loc", ())):
        return None
    value = e["input"]
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 200 else text[:200] + "…"


class BodyLimit:
    """Refuses request bodies over `limit` bytes (T107) before they are read whole, declared or chunked."""

    def __init__(self, app, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await error_response(_too_large(self.limit))(scope, receive, send)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _BodyTooLarge:
            await error_response(_too_large(self.limit))(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


class AccessLog:
    """One line per request on "timbra.access": method, path (never the query string: it may carry a
    value a client should not have put there), status, duration in ms and the client's address. Headers
    (API keys, Authorization) and bodies are never logged."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = 500

        async def sending(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            client = scope.get("client")
            access_log.info("%s %s %s %.1fms %s", scope.get("method", "-"), scope.get("path", "-"), status,
                            (time.perf_counter() - start) * 1000, client[0] if client else "-")


MANUAL_NOT_BUILT = """<!doctype html>
<html lang="es"><head><meta charset="utf-8"><title>timbra - manual</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>El manual no está construido</h1>
<p>Este servidor sirve el manual de implementación en <code>/manual</code> cuando está construido. Desde una copia
del repositorio: <code>make manual</code> (o <code>mkdocs build</code>, con <code>pip install -e '.[docs]'</code>),
y recargue esta página. <code>make run</code> lo construye antes de arrancar.</p>
<h2 lang="en">The manual is not built</h2>
<p lang="en">Build it from a checkout with <code>make manual</code> (or <code>mkdocs build</code> after
<code>pip install -e '.[docs]'</code>) and reload; <code>make run</code> builds it before starting.</p>
<p>Mientras tanto / meanwhile: la referencia de la API en <a href="/docs">/docs</a>.</p>
</body></html>
"""


class Manual:
    """The manual's static HTML at /manual; until it is built, a page that says how to build it (404)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.files: StaticFiles | None = None

    async def __call__(self, scope, receive, send):
        if self.files is None:
            if not (self.directory / "index.html").is_file():
                return await HTMLResponse(MANUAL_NOT_BUILT, status_code=404)(scope, receive, send)
            self.files = StaticFiles(directory=self.directory, html=True)
        await self.files(scope, receive, send)


def _too_large(limit: int) -> TimbraError:
    return error("T107", detail={"max_bytes": limit})


def create_app(pac: Pac, *, manage_lifecycle: bool = True) -> FastAPI:
    from timbra import web
    from timbra.api import cancel, ops, printing, rest, schemas, soap
    from timbra.api.schemas import HealthOut

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        if manage_lifecycle:
            pac.start()
        try:
            yield
        finally:
            if manage_lifecycle:
                pac.stop()

    app = FastAPI(title="timbra", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, openapi_url="/openapi.json", redoc_url=None)
    app.state.pac = pac
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/manual", Manual(MANUAL), name="manual")

    @app.exception_handler(TimbraError)
    async def _timbra_error(request: Request, exc: TimbraError):
        if web.handles(request):
            return web.page_for(request, exc)
        pac.errors.record(exc.code)
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError):
        # The CFDI's data (POST /v1/issue) has its own code, T130; the node is the JSON field and the value
        # what was refused there.
        code = "T130" if "/v1/issue" in request.url.path else "T100"
        pac.errors.record(code)
        findings = [Finding(code, str(e.get("msg", "")), node=json_field(e.get("loc", ())), value=rejected_value(e))
                    for e in exc.errors()]
        return error_response(error(code, findings=findings))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        if isinstance(exc.__cause__, _BodyTooLarge):  # FastAPI reading a JSON body past the limit
            return error_response(_too_large(request_limit(pac.settings)))
        code = {401: "T101", 404: "T103", 405: "T108", 413: "T107", 415: "T109"}.get(exc.status_code, "T100")
        if web.handles(request) and request.url.path != "/":
            return web.page_for(request, error(code))
        pac.errors.record(code)
        if code == "T103":
            return error_response(error(code, detail={"path": request.url.path}))
        if code == "T108":
            where = f"{request.method} {request.url.path}"
            return error_response(error(code, message=f"Método no permitido: {where}",
                                        message_en=f"Method not allowed: {where}"),
                                  headers=getattr(exc, "headers", None))
        return error_response(error(code), headers=getattr(exc, "headers", None))

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def _database_down(request: Request, exc: OperationalError | InterfaceError):
        # The database is down or restarting: the transaction did not commit, so nothing was stored or
        # spent. A clean 503 the client retries, not an internal error.
        log.warning("base de datos no disponible: %s", type(exc.orig).__name__ if exc.orig else exc)
        if web.handles(request):
            return web.page_for(request, error("T220", detail={"retry_after": 1}))
        return error_response(error("T220", detail={"retry_after": 1}))

    @app.exception_handler(BlobError)
    async def _blobs_down(_request: Request, exc: BlobError):
        log.warning("almacén de objetos no disponible: %s", exc)
        return error_response(error("T232", detail={"retry_after": 1}))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception):
        log.exception("unexpected error")
        if web.handles(request):
            return web.page_for(request, error("T900"))
        pac.errors.record("T900")
        return error_response(error("T900"))

    @app.get("/healthz", tags=["operación"], summary="El proceso responde / the process answers",
             response_model=HealthOut)
    def healthz() -> dict:
        return {"status": "ok", "version": __version__}

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url, title="timbra - API",
                                   swagger_js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{SWAGGER_UI}/swagger-ui.css",
                                   swagger_favicon_url=f"{SWAGGER_UI}/favicon-32x32.png",
                                   swagger_ui_parameters={"validatorUrl": None})  # no call to an outside validator

    app.include_router(ops.router)
    app.include_router(rest.router)
    app.include_router(cancel.router)
    app.include_router(printing.router)
    web.install(app)  # the portal: /, /login, /consulta, /portal/..., its assets at /assets
    cancel.register_schemas(app)
    schemas.register(app)  # examples of the path parameters in /openapi.json
    soap.register(app)
    app.add_middleware(BodyLimit, limit=request_limit(pac.settings))
    app.add_middleware(AccessLog)
    app.add_middleware(ops.RequestContext)  # outermost: the access log line carries the request id
    return app
