"""What every page of the portal shares: templates (Jinja2, autoescaped), Spanish first with English, Mexico's
formats for dates and amounts, the signed-in session, CSRF checks and the security headers.

Sessions: the cookie `timbra_session` (HttpOnly, SameSite=Lax, Secure with TIMBRA_COOKIE_SECURE) carries a
random token that pac.sessions resolves. Every POST carries a CSRF token: the session's own for signed-in
forms; for the two anonymous forms (sign-in and the receptor's lookup) a random value that must match the
`timbra_csrf` cookie (double submit). A POST whose Origin is another site is refused too.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit

import jinja2
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from timbra import __version__
from timbra.clock import MEXICO_CITY
from timbra.codes import error, http_status
from timbra.errors import TimbraError
from timbra.pac.runtime import Pac
from timbra.pac.sessions import WebSession

HERE = Path(__file__).parent
STATIC = HERE / "static"
SESSION_COOKIE = "timbra_session"
CSRF_COOKIE = "timbra_csrf"
LANG_COOKIE = "timbra_lang"
# Paths the portal answers (HTML errors there; JSON everywhere else).
PORTAL_PREFIXES = ("/portal", "/login", "/logout", "/consulta", "/idioma")

# The portal's pages are never cached. The security headers (CSP, X-Frame-Options, nosniff, Referrer-Policy,
# HSTS) of every answer, the portal's included, are set in one place: timbra.api.app.SecurityHeaders.
SECURITY_HEADERS = {"Cache-Control": "no-store"}


class LoginRequired(Exception):
    """A portal page asked for without a live session: sign in first."""


def pac_of(request: Request) -> Pac:
    return request.app.state.pac


def is_portal(request: Request) -> bool:
    path = request.url.path
    return path == "/" or any(path == p or path.startswith(p + "/") for p in PORTAL_PREFIXES)


def client_of(request: Request) -> str | None:
    return request.client.host if request.client else None


# --- language and formats ---------------------------------------------------------------------------------

def lang_of(request: Request) -> str:
    return "en" if request.cookies.get(LANG_COOKIE) == "en" else "es"


def money(value: Any, moneda: str | None = None) -> str:
    """Mexico's way: $1,234,567.89 (comma for thousands, point for decimals); another currency after."""
    try:
        d = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return str(value)
    text = f"{d:,.2f}"
    if moneda and moneda not in ("MXN", "XXX"):
        return f"{text} {moneda}"
    return f"-${text[1:]}" if text.startswith("-") else f"${text}"


def number(value: Any) -> str:
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)


def when(value: Any, seconds: bool = False) -> str:
    """dd/mm/aaaa hh:mm in Mexico City time (an aware instant), or as written (a CFDI's local Fecha)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    elif isinstance(value, date) and not isinstance(value, datetime):
        return value.strftime("%d/%m/%Y")
    if value.tzinfo is not None:
        value = value.astimezone(MEXICO_CITY)
    return value.strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")


def day(value: Any) -> str:
    if isinstance(value, str) and len(value) == 10:
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return when(value)[:10]
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def duration(td) -> str:
    if td is None:
        return "—"
    s = int(td.total_seconds())
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    return f"{s // 3600} h {s % 3600 // 60} min"


TIPOS = {"I": ("Ingreso", "Income"), "E": ("Egreso", "Credit note"), "T": ("Traslado", "Transfer"),
         "N": ("Nómina", "Payroll"), "P": ("Pago", "Payment")}
STATUSES = {"vigente": ("Vigente", "Valid"), "en_proceso": ("Cancelación en proceso", "Cancellation in process"),
            "cancelado": ("Cancelado", "Cancelled")}
MOTIVOS = {"01": ("Comprobante emitido con errores con relación", "Issued with errors, with a replacement"),
           "02": ("Comprobante emitido con errores sin relación", "Issued with errors, no replacement"),
           "03": ("No se llevó a cabo la operación", "The operation did not take place"),
           "04": ("Operación nominativa relacionada en una factura global",
                  "Nominative operation related in a factura global")}


_env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                          trim_blocks=True, lstrip_blocks=True)
_env.filters.update(money=money, number=number, when=when, day=day, duration=duration)
_env.globals.update(version=__version__, TIPOS=TIPOS, STATUSES=STATUSES, MOTIVOS=MOTIVOS)


def render(request: Request, template: str, status: int = 200, *, session: WebSession | None = None,
           cookies: dict[str, str] | None = None, **ctx: Any) -> HTMLResponse:
    """A page: the template with the language, the session (its user and CSRF token) and `ctx`."""
    lang = lang_of(request)

    def t(es: str, en: str) -> str:
        return es if lang == "es" else en

    anon_csrf = request.cookies.get(CSRF_COOKIE) or ""
    new_csrf = None
    if session is None and not anon_csrf:
        anon_csrf = new_csrf = secrets.token_urlsafe(32)
    html = _env.get_template(template).render(
        request=request, t=t, lang=lang, session=session, who=session.who if session else None,
        csrf=session.csrf if session else anon_csrf, path=request.url.path, query=query_with, **ctx)
    response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
    if new_csrf:
        set_cookie(request, response, CSRF_COOKIE, new_csrf, max_age=None, samesite="strict")
    for name, value in (cookies or {}).items():
        set_cookie(request, response, name, value)
    return response


def fragment(request: Request, template: str, **ctx: Any) -> HTMLResponse:
    """A piece of a page for htmx (no layout)."""
    return render(request, template, **ctx)


def query_with(params: dict[str, Any], **changes: Any) -> str:
    """The query string of `params` with `changes` (None removes a key): links that keep the filters."""
    merged = {k: v for k, v in {**params, **changes}.items() if v not in (None, "")}
    return "?" + urlencode(merged) if merged else ""


def set_cookie(request: Request, response: Response, name: str, value: str, *, max_age: int | None = None,
               samesite: str = "lax") -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite=samesite,
                        secure=pac_of(request).settings.cookie_secure)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def safe_next(target: str | None, default: str) -> str:
    """Only a path of this site (never //host or a scheme): no open redirect after the sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def home_of(session: WebSession) -> str:
    return {"admin": "/portal/admin", "distributor": "/portal/clientes"}.get(session.who.kind, "/portal")


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.headers.get("hx-request"):
        return Response(status_code=401, headers={"HX-Redirect": "/login"})
    return redirect("/login?next=" + quote(target, safe="/"))


def error_page(request: Request, exc: TimbraError, session: WebSession | None = None) -> HTMLResponse:
    pac_of(request).errors.record(exc.code)
    status = http_status(exc.code)
    headers = {}
    retry = exc.detail.get("retry_after") if isinstance(exc.detail, dict) else None
    if retry is not None:
        headers["Retry-After"] = str(retry)
    response = render(request, "error.html", status=status, session=session or _quiet_session(request), exc=exc,
                      status_code=status)
    response.headers.update(headers)
    return response


def _quiet_session(request: Request) -> WebSession | None:
    try:
        return pac_of(request).sessions.resolve(request.cookies.get(SESSION_COOKIE))
    except Exception:  # noqa: BLE001 - an error page never fails on its header
        return None


# --- dependencies -----------------------------------------------------------------------------------------

def signed_in(request: Request) -> WebSession:
    """The live session (sync: resolved in a worker thread, it reads the database)."""
    found = pac_of(request).sessions.resolve(request.cookies.get(SESSION_COOKIE))
    if found is None:
        raise LoginRequired
    request.state.web_session = found
    return found


Session = Annotated[WebSession, Depends(signed_in)]


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return urlsplit(origin).netloc == host


@dataclass(frozen=True)
class Posted:
    session: WebSession
    form: FormData

    def get(self, name: str, default: str = "") -> str:
        value = self.form.get(name)
        return value.strip() if isinstance(value, str) else default


async def posted(request: Request, session: Session) -> Posted:
    """A signed-in form: its fields, after checking the session's CSRF token and the Origin."""
    form = await request.form(max_files=8, max_fields=200)
    sent = form.get("csrf") if isinstance(form.get("csrf"), str) else request.headers.get("x-csrf-token")
    if not _same_origin(request) or not pac_of(request).sessions.csrf_ok(session, sent):
        raise error("T212")
    return Posted(session, form)


Form = Annotated[Posted, Depends(posted)]


async def anonymous_form(request: Request) -> FormData:
    """An anonymous form (sign-in, lookup): the double-submit CSRF check and the Origin."""
    form = await request.form(max_files=0, max_fields=20)
    sent, cookie = form.get("csrf"), request.cookies.get(CSRF_COOKIE)
    if (not _same_origin(request) or not isinstance(sent, str) or not cookie
            or not secrets.compare_digest(sent.encode(), cookie.encode())):
        raise error("T212")
    return form


def require_kind(session: WebSession, *kinds: str) -> None:
    if session.who.kind not in kinds:
        raise error("T102")


def utc_day_start(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=MEXICO_CITY).astimezone(timezone.utc)
