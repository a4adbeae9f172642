"""The web portal: server-rendered pages (Jinja2, a little htmx) for emisores, distributors, the PAC's admin
and receptors, on the same timbra.pac calls as the API. `install(app)` adds its routes, its assets at
/assets and its error pages to the HTTP application (timbra/api/app.py)."""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles

from timbra.errors import TimbraError
from timbra.web.core import STATIC, LoginRequired, error_page, is_portal, login_redirect

__all__ = ["install", "is_portal", "error_page"]


def install(app: FastAPI) -> None:
    from timbra.web import emisor, partners, public

    app.mount("/assets", StaticFiles(directory=STATIC), name="assets")
    app.include_router(public.router)
    app.include_router(emisor.router)
    app.include_router(partners.router)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, _exc: LoginRequired):
        return login_redirect(request)


def handles(request: Request) -> bool:
    """True for the portal's pages: their errors are pages, not the API's JSON."""
    return is_portal(request) and "application/json" not in (request.headers.get("accept") or "")


def page_for(request: Request, exc: TimbraError):
    return error_page(request, exc, getattr(request.state, "web_session", None))
