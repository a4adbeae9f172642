"""The ASGI application factory: routes, one error shape, body limits, and the PAC's lifecycle."""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from timbra import __version__
from timbra.codes import error, http_status
from timbra.errors import Finding, TimbraError
from timbra.pac.runtime import Pac

log = logging.getLogger("timbra.api")

DESCRIPTION = """
**timbra**: PAC de código abierto para CFDI 4.0 / an open-source PAC for Mexico's CFDI.

Autenticación / authentication: `X-API-Key: tbk_...` (or `Authorization: Bearer tbk_...`), or HTTP Basic
with the user and password.

Errores / errors: always `{"code", "message", "source": "client"|"pac"|"sat", "findings": [...]}`; SAT's
codes where SAT has one (301-308, 401-403, CFDI40xxx), timbra's own (T...) otherwise.
"""


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
    status = http_status(exc.code)
    if exc.code == "T101":
        headers = {**(headers or {}), "WWW-Authenticate": 'Basic realm="timbra", charset="UTF-8"'}
    return JSONResponse(exc.as_dict(), status_code=status, headers=headers)


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


def _too_large(limit: int) -> TimbraError:
    return error("T107", detail={"max_bytes": limit})


def create_app(pac: Pac, *, manage_lifecycle: bool = True) -> FastAPI:
    from timbra.api import rest

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
                  docs_url="/docs", openapi_url="/openapi.json", redoc_url=None)
    app.state.pac = pac

    @app.exception_handler(TimbraError)
    async def _timbra_error(_request: Request, exc: TimbraError):
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError):
        # The CFDI's data (POST /v1/issue) has its own code, T130; the node is the JSON field.
        code = "T130" if "/v1/issue" in request.url.path else "T100"
        findings = [Finding(code, str(e.get("msg", "")), node=json_field(e.get("loc", ())))
                    for e in exc.errors()]
        return error_response(error(code, findings=findings))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException):
        code = {404: "T103", 405: "T108", 413: "T107", 415: "T109"}.get(exc.status_code, "T100")
        return error_response(error(code), headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _crash(_request: Request, exc: Exception):
        log.exception("unexpected error")
        return error_response(error("T900"))

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"status": "ok", "version": __version__}

    app.include_router(rest.router)
    app.add_middleware(BodyLimit, limit=pac.settings.max_request_bytes)
    return app
