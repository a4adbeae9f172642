"""The ASGI application factory: routes, one error shape, body limits, and the PAC's lifecycle."""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import time
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from timbra import __version__
from timbra.codes import error, http_status, validation_message
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


# Routes whose body is a CFDI's data as JSON, never a document in base64: no larger than a document itself.
DATA_ROUTES = ("/v1/issue",)


class BodyLimit:
    """Refuses request bodies over `limit` bytes (T107) before they are read whole, declared or chunked;
    the JSON issue routes (DATA_ROUTES) over `data_limit`."""

    def __init__(self, app, limit: int, data_limit: int | None = None) -> None:
        self.app = app
        self.limit = limit
        self.data_limit = data_limit or limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.data_limit if str(scope.get("path", "")).startswith(DATA_ROUTES) else self.limit
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await error_response(_too_large(limit))(scope, receive, send)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _BodyTooLarge:
            await error_response(_too_large(limit))(scope, receive, send)


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


def unstorable_value() -> TimbraError:
    """T100 for a value the database refuses (DataError): NUL in a text on PostgreSQL, a number out of range."""
    return error("T100", message="Un valor de la solicitud no se admite: contiene el carácter NUL (\\0) o está "
                                 "fuera del rango que se puede guardar.",
                 message_en="A value of the request is not accepted: it holds the NUL character (\\0) or is out "
                            "of the range that can be stored.")


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
    """The manual's static HTML at /manual; until it is built, a page that says how to build it (404).
    Its pages carry a CSP that allows their own inline scripts by hash (MkDocs writes one, `base_url`)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.files: StaticFiles | None = None
        self.csp = page_csp(inline_styles=True)

    async def __call__(self, scope, receive, send):
        if self.files is None:
            if not (self.directory / "index.html").is_file():
                response = HTMLResponse(MANUAL_NOT_BUILT, status_code=404, headers={"Content-Security-Policy":
                                                                                   self.csp})
                return await response(scope, receive, send)
            self.csp = page_csp(_inline_scripts(self.directory.rglob("*.html")), inline_styles=True)
            self.files = StaticFiles(directory=self.directory, html=True)
        csp = self.csp.encode()

        async def sending(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                if any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers):
                    message = {**message, "headers": [*headers, (b"content-security-policy", csp)]}
            await send(message)

        await self.files(scope, receive, sending)


def _inline_scripts(pages) -> set[bytes]:
    return {x for page in pages for x in re.findall(rb"<script>(.*?)</script>", page.read_bytes(), re.S)}


# HTML pages (the portal, /docs): scripts, styles and images from timbra itself only, no frames, no plugins,
# forms post back to timbra. Every other answer (JSON, XML, PDF, files) gets the headers without a CSP.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def page_csp(inline_scripts=(), *, inline_styles: bool = False) -> str:
    """PAGE_CSP, allowing these inline scripts by their hash (never 'unsafe-inline' for scripts) and, for
    pages written by tools (Swagger UI, MkDocs), inline style attributes."""
    csp = PAGE_CSP
    hashes = " ".join(sorted(f"'sha256-{base64.b64encode(hashlib.sha256(x).digest()).decode()}'"
                             for x in inline_scripts))
    if hashes:
        csp = csp.replace("script-src 'self'", f"script-src 'self' {hashes}")
    if inline_styles:
        csp = csp.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
    return csp


def docs_csp(html: bytes) -> str:
    """/docs's CSP: the hash of Swagger UI's one inline script (it starts the UI) and the inline styles
    Swagger UI sets on its elements; its files come from /static (offline)."""
    return page_csp(re.findall(rb"<script>(.*?)</script>", html, re.S), inline_styles=True)


class SecurityHeaders:
    """The security headers of every answer (REST, SOAP, the portal, /docs, static files, errors):
    nosniff, X-Frame-Options DENY, Referrer-Policy, a CSP on HTML pages (PAGE_CSP unless the page brings its
    own, as /docs does) and Strict-Transport-Security when TIMBRA_HSTS_SECONDS > 0. One place owns them."""

    def __init__(self, app, hsts_seconds: int = 0) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
        if hsts_seconds > 0:
            self.headers.append((b"strict-transport-security", f"max-age={hsts_seconds}".encode()))

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def sending(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in self.headers if k not in present]
                ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if ctype.startswith(b"text/html") and b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", PAGE_CSP.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, sending)


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
        if web.handles(request):  # a portal address (/portal/admin/registros/abc): a page, not JSON
            return web.page_for(request, error(code))
        findings = [Finding(code, *validation_message(e)[:1], node=json_field(e.get("loc", ())),
                            value=rejected_value(e), message_en=validation_message(e)[1])
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

    @app.exception_handler(DataError)
    @app.exception_handler(OverflowError)  # SQLite's driver: an integer over 64 bits, unwrapped by SQLAlchemy
    async def _unstorable_value(request: Request, exc: DataError | OverflowError):
        # A value the database cannot hold or compare: NUL (\0) in a text on PostgreSQL, a number out of range.
        # Nothing was stored (the transaction rolled back): the client's request, 400 T100.
        orig = getattr(exc, "orig", None)
        log.info("valor rechazado por la base de datos: %s", type(orig or exc).__name__)
        e = unstorable_value()
        if web.handles(request):
            return web.page_for(request, e)
        pac.errors.record(e.code)
        return error_response(e)

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
        page = get_swagger_ui_html(openapi_url=app.openapi_url, title="timbra - API",
                                   swagger_js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{SWAGGER_UI}/swagger-ui.css",
                                   swagger_favicon_url=f"{SWAGGER_UI}/favicon-32x32.png",
                                   swagger_ui_parameters={"validatorUrl": None})  # no call to an outside validator
        page.headers["Content-Security-Policy"] = docs_csp(page.body)
        return page

    app.include_router(ops.router)
    app.include_router(rest.router)
    app.include_router(cancel.router)
    app.include_router(printing.router)
    web.install(app)  # the portal: /, /login, /consulta, /portal/..., its assets at /assets
    cancel.register_schemas(app)
    schemas.register(app)  # examples of the path parameters in /openapi.json
    soap.register(app)
    rest.install_quick_stamp(app)  # POST /v1/stamp for a known API key, ahead of every route
    app.add_middleware(BodyLimit, limit=request_limit(pac.settings), data_limit=pac.settings.max_document_bytes)
    app.add_middleware(AccessLog)
    app.add_middleware(ops.RequestContext)  # the access log line carries the request id
    # The security headers wrap everything, Starlette's ServerErrorMiddleware too (a T900 answer gets them).
    build, hsts = app.build_middleware_stack, pac.settings.hsts_seconds
    app.build_middleware_stack = lambda: SecurityHeaders(build(), hsts_seconds=hsts)
    return app
