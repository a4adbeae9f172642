"""The portal's public pages: the start page with the sign-in, sign-in and sign-out, the language, and the
receptors' lookup (UUID + RFC emisor + RFC receptor gives the XML and the status at SAT, no account)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import FormData

from timbra import __version__
from timbra.errors import TimbraError
from timbra.web import downloads
from timbra.web.core import (
    CSRF_COOKIE,
    LANG_COOKIE,
    SESSION_COOKIE,
    Form,
    anonymous_form,
    client_of,
    home_of,
    pac_of,
    redirect,
    render,
    safe_next,
    set_cookie,
)

router = APIRouter(include_in_schema=False)
Anonymous = Annotated[FormData, Depends(anonymous_form)]


def _current(request: Request):
    return pac_of(request).sessions.resolve(request.cookies.get(SESSION_COOKIE))


@router.get("/")
def home(request: Request) -> Response:
    """The start page: the sign-in and what timbra is (or JSON with where the API's documents are)."""
    if "application/json" in (request.headers.get("accept") or ""):
        return JSONResponse({"name": "timbra", "version": __version__, "docs": "/docs", "openapi": "/openapi.json",
                             "api": "/v1", "health": "/healthz", "portal": "/login", "lookup": "/consulta"})
    session = _current(request)
    if session is not None:
        return redirect(home_of(session))
    return render(request, "login.html", next="")


@router.get("/login")
def login_page(request: Request, next: str = "") -> Response:
    session = _current(request)
    if session is not None:
        return redirect(safe_next(next, home_of(session)))
    return render(request, "login.html", next=safe_next(next, ""))


@router.post("/login")
async def login(request: Request, form: Anonymous) -> Response:
    username = str(form.get("username") or "")[:254]
    password = str(form.get("password") or "")[:1024]
    target = str(form.get("next") or "")
    pac = pac_of(request)
    try:
        session = await run_in_threadpool(pac.sessions.login, username, password, client_of(request))
    except TimbraError as exc:
        pac.errors.record(exc.code)
        status = 401 if exc.code == "T101" else 429 if exc.code == "T150" else 503
        response = render(request, "login.html", status=status, error=_login_error(exc), username=username,
                          next=safe_next(target, ""))
        if exc.detail.get("retry_after") is not None:
            response.headers["Retry-After"] = str(exc.detail["retry_after"])
        return response
    response = redirect(safe_next(target, home_of(session)))
    # A browser-session cookie (no Max-Age): it goes when the browser closes; the server ends it sooner.
    set_cookie(request, response, SESSION_COOKIE, session.token)
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


class _Shown:
    """An error as the login page says it: which of user or password was wrong is never told."""

    def __init__(self, code: str, message: str, message_en: str) -> None:
        self.code, self.message, self.message_en, self.findings = code, message, message_en, []


def _login_error(exc: TimbraError) -> _Shown:
    if exc.code == "T101":
        return _Shown("T101", "Usuario o contraseña incorrectos.", "Wrong user or password.")
    if exc.code == "T150":
        minutes = max(1, -(-int(exc.detail.get("retry_after", 60)) // 60))
        return _Shown("T150", f"Cuenta bloqueada temporalmente por demasiados intentos fallidos: espere {minutes} "
                              f"min e intente de nuevo.",
                      f"Temporarily locked after too many failed attempts: wait {minutes} min and try again.")
    return _Shown(exc.code, exc.message, exc.message_en or exc.message)


@router.post("/logout")
def logout(request: Request, form: Form) -> Response:
    pac_of(request).sessions.logout(request.cookies.get(SESSION_COOKIE))
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/idioma/{lang}")
def language(request: Request, lang: str, next: str = "/") -> Response:
    """Spanish (the default) or English, remembered in a cookie for a year."""
    response = redirect(safe_next(next, "/"))
    set_cookie(request, response, LANG_COOKIE, "en" if lang == "en" else "es", max_age=365 * 24 * 3600)
    return response


# --- the receptors' lookup ---------------------------------------------------------------------------------

def _fields(form: FormData) -> dict[str, str]:
    return {k: str(form.get(k) or "").strip()[:40] for k in ("uuid", "rfc_emisor", "rfc_receptor")}


@router.get("/consulta")
def lookup_page(request: Request) -> Response:
    return render(request, "consulta.html", form={})


def _find(request: Request, f: dict[str, str]):
    return pac_of(request).lookup.find(f["uuid"], f["rfc_emisor"], f["rfc_receptor"], client_of(request))


@router.post("/consulta")
async def lookup(request: Request, form: Anonymous) -> Response:
    f = _fields(form)
    pac = pac_of(request)
    try:
        found = await run_in_threadpool(_find, request, f)
    except TimbraError as exc:
        pac.errors.record(exc.code)
        response = render(request, "consulta.html", status=404 if exc.code == "T211" else 429, error=exc, form=f)
        if exc.detail.get("retry_after") is not None:
            response.headers["Retry-After"] = str(exc.detail["retry_after"])
        return response
    sat = await run_in_threadpool(pac.lookup.status, found)
    return render(request, "consulta.html", form=f, found=found, sat=sat, downloads=downloads.public_kinds(request))


@router.post("/consulta/{kind}")
async def lookup_download(request: Request, kind: str, form: Anonymous) -> Response:
    """The XML (or PDF) of a matching CFDI: the three values again, in the body (never in the URL)."""
    f = _fields(form)
    if kind not in dict(downloads.public_kinds(request)):
        return render(request, "consulta.html", status=404, form=f)
    try:
        found = await run_in_threadpool(_find, request, f)
    except TimbraError as exc:
        pac_of(request).errors.record(exc.code)
        return render(request, "consulta.html", status=404 if exc.code == "T211" else 429, error=exc, form=f)
    return await run_in_threadpool(downloads.public_file, request, kind, found)
