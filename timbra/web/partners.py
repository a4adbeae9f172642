"""The distributor's and the PAC admin's pages: clients with their credits and usage, credit transfers, the
registration of a new client with its documents and the admin's approval, distributors, packages and the
system's health. Routes translate forms to timbra.pac calls; who may do what is decided there."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from timbra.clock import MEXICO_CITY
from timbra.codes import error, http_status
from timbra.errors import TimbraError
from timbra.pac.credits import STANDARD_SIZES
from timbra.pac.registrations import DOCUMENTS, MAX_FILE_BYTES, Upload
from timbra.web import downloads
from timbra.web.core import Form, Session, pac_of, redirect, render, require_kind
from timbra.web.emisor import _date

router = APIRouter(prefix="/portal", include_in_schema=False)


def _es(request: Request) -> bool:
    return request.cookies.get("timbra_lang") != "en"


# --- distributor: clients and credits -----------------------------------------------------------------------

def _clients(request: Request, session, status: int = 200, **ctx: Any) -> Response:
    pac = pac_of(request)
    rows = []
    for acc in pac.accounts.list(session.who):
        if acc.id == session.who.account_id:
            continue
        balance = pac.credits.balance(session.who, acc.id)
        rows.append({"account": acc, "rfcs": pac.accounts.rfcs(acc.id), "available": balance.available,
                     "used": sum(p.used for p in balance.packages), "size": sum(p.size for p in balance.packages)})
    own = pac.credits.balance(session.who)
    return render(request, "clientes.html", status=status, session=session, clients=rows, own=own, **ctx)


@router.get("/clientes")
def clients_page(request: Request, session: Session) -> Response:
    require_kind(session, "distributor")
    return _clients(request, session)


@router.post("/clientes/{account_id}/creditos")
def client_credits(request: Request, form: Form, account_id: int) -> Response:
    """Hand `cantidad` credits from the distributor's packages (earliest expiry first) to a client."""
    session = form.session
    require_kind(session, "distributor")
    pac = pac_of(request)
    try:
        amount = int(form.get("cantidad") or "0")
        pac.credits.transfer(session.who, account_id, amount)
    except ValueError:
        return _clients(request, session, 422, error=error("T100", message="Cantidad inválida.",
                                                           message_en="Invalid amount."))
    except TimbraError as exc:
        pac.errors.record(exc.code)
        return _clients(request, session, http_status(exc.code), error=exc)
    name = pac.accounts.get(session.who, account_id)[0].name
    return _clients(request, session, notice=(f"{amount:,} timbres asignados a {name}." if _es(request)
                                              else f"{amount:,} credits assigned to {name}."))


# --- registrations (distributor submits, admin decides) ------------------------------------------------------

@router.get("/registros")
def registrations_page(request: Request, session: Session) -> Response:
    require_kind(session, "distributor")
    return render(request, "registros.html", session=session, items=pac_of(request).registrations.list(session.who))


@router.get("/registros/nuevo")
def registration_form(request: Request, session: Session) -> Response:
    require_kind(session, "distributor")
    return render(request, "registro_nuevo.html", session=session, documents=DOCUMENTS, v={},
                  max_mb=MAX_FILE_BYTES // (1024 * 1024))


@router.post("/registros")
async def registration_submit(request: Request, form: Form) -> Response:
    session = form.session
    require_kind(session, "distributor")
    files = []
    for kind, _, _ in DOCUMENTS:
        upload = form.form.get(f"doc_{kind}")
        if isinstance(upload, UploadFile):
            files.append(Upload(kind, upload.filename or "", await upload.read(MAX_FILE_BYTES + 1)))
    pac = pac_of(request)
    try:
        row = await run_in_threadpool(lambda: pac.registrations.submit(
            session.who, name=form.get("name"), rfc=form.get("rfc"), nombre=form.get("nombre"),
            email=form.get("email"), username=form.get("username"), files=files))
    except TimbraError as exc:
        pac.errors.record(exc.code)
        values = {k: v for k, v in form.form.items() if isinstance(v, str) and k != "csrf"}
        return render(request, "registro_nuevo.html", status=http_status(exc.code), session=session,
                      documents=DOCUMENTS, v=values, error=exc, max_mb=MAX_FILE_BYTES // (1024 * 1024))
    return redirect(f"/portal/registros/{row.id}?enviado=1")


@router.get("/registros/{registration_id}")
def registration_page(request: Request, session: Session, registration_id: int) -> Response:
    require_kind(session, "distributor", "admin")
    row, files = pac_of(request).registrations.get(session.who, registration_id)
    notice = None
    if request.query_params.get("enviado"):
        notice = ("Solicitud enviada: el administrador del PAC la revisará." if _es(request)
                  else "Request sent: the PAC admin will review it.")
    return render(request, "registro.html", session=session, r=row, files=files, documents=dict(
        (k, (es, en)) for k, es, en in DOCUMENTS), notice=notice)


@router.get("/registros/{registration_id}/archivos/{file_id}")
def registration_file(request: Request, session: Session, registration_id: int, file_id: int) -> Response:
    require_kind(session, "distributor", "admin")
    f = pac_of(request).registrations.file(session.who, registration_id, file_id)
    ext = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}.get(f.content_type, "bin")
    return downloads.attachment(f.data, f"registro-{registration_id}-{f.kind}.{ext}", f.content_type)


# --- the PAC admin -------------------------------------------------------------------------------------------

@router.get("/admin")
def admin_page(request: Request, session: Session) -> Response:
    require_kind(session, "admin")
    pac = pac_of(request)
    report = pac.health.report(session.who)
    pending = pac.registrations.list(session.who, "pending")
    accounts = pac.accounts.list(session.who)
    counts = {k: sum(1 for a in accounts if a.kind == k) for k in ("distributor", "emisor")}
    return render(request, "admin.html", session=session, report=report, pending=len(pending), counts=counts)


@router.get("/admin/registros")
def admin_registrations(request: Request, session: Session) -> Response:
    require_kind(session, "admin")
    pac = pac_of(request)
    items = pac.registrations.list(session.who)
    names = {a.id: a.name for a in pac.accounts.list(session.who)}
    return render(request, "admin_registros.html", session=session, items=items, names=names)


@router.post("/admin/registros/{registration_id}/aprobar")
def admin_approve(request: Request, form: Form, registration_id: int) -> Response:
    """The client's account and user are created; the first password is shown here, once."""
    require_kind(form.session, "admin")
    pac = pac_of(request)
    try:
        done = pac.registrations.approve(form.session.who, registration_id)
    except TimbraError as exc:
        pac.errors.record(exc.code)
        row, files = pac.registrations.get(form.session.who, registration_id)
        return render(request, "registro.html", status=http_status(exc.code),
                      session=form.session, r=row, files=files, error=exc,
                      documents={k: (es, en) for k, es, en in DOCUMENTS})
    return render(request, "once.html", session=form.session, title=("Cliente dado de alta", "Client registered"),
                  account=done.registration.name, username=done.username, secret=done.password,
                  back="/portal/admin/registros")


@router.post("/admin/registros/{registration_id}/rechazar")
def admin_reject(request: Request, form: Form, registration_id: int) -> Response:
    require_kind(form.session, "admin")
    pac = pac_of(request)
    try:
        pac.registrations.reject(form.session.who, registration_id, form.get("note"))
    except TimbraError as exc:
        pac.errors.record(exc.code)
        row, files = pac.registrations.get(form.session.who, registration_id)
        return render(request, "registro.html", status=http_status(exc.code), session=form.session, r=row,
                      files=files, error=exc,
                      documents={k: (es, en) for k, es, en in DOCUMENTS})
    return redirect("/portal/admin/registros")


def _distributors(request: Request, session, status: int = 200, **ctx: Any) -> Response:
    pac = pac_of(request)
    rows = []
    for acc in pac.accounts.list(session.who):
        if acc.kind != "distributor":
            continue
        clients = sum(1 for a in pac.accounts.list(session.who) if a.parent_id == acc.id)
        rows.append({"account": acc, "clients": clients,
                     "available": pac.credits.balance(session.who, acc.id).available})
    return render(request, "distribuidores.html", status=status, session=session, items=rows, **ctx)


@router.get("/admin/distribuidores")
def admin_distributors(request: Request, session: Session) -> Response:
    require_kind(session, "admin")
    return _distributors(request, session)


@router.post("/admin/distribuidores")
def admin_distributor_create(request: Request, form: Form) -> Response:
    require_kind(form.session, "admin")
    pac = pac_of(request)
    try:
        made = pac.accounts.create_account(form.session.who, kind="distributor", name=form.get("name"),
                                           username=form.get("username") or None)
    except TimbraError as exc:
        pac.errors.record(exc.code)
        return _distributors(request, form.session, http_status(exc.code), error=exc)
    if made.user is None:
        return redirect("/portal/admin/distribuidores")
    return render(request, "once.html", session=form.session, title=("Distribuidor creado", "Distributor created"),
                  account=made.account.name, username=made.user.username, secret=made.password or "",
                  back="/portal/admin/distribuidores")


def _packages(request: Request, session, status: int = 200, **ctx: Any) -> Response:
    pac = pac_of(request)
    rows = [{"account": a, "balance": pac.credits.balance(session.who, a.id)}
            for a in pac.accounts.list(session.who) if a.kind != "admin"]
    return render(request, "paquetes.html", status=status, session=session, items=rows, sizes=STANDARD_SIZES, **ctx)


@router.get("/admin/paquetes")
def admin_packages(request: Request, session: Session) -> Response:
    require_kind(session, "admin")
    return _packages(request, session)


@router.post("/admin/paquetes")
def admin_package_create(request: Request, form: Form) -> Response:
    require_kind(form.session, "admin")
    pac = pac_of(request)
    try:
        account_id, size = int(form.get("account_id") or "0"), int(form.get("size") or "0")
    except ValueError:
        return _packages(request, form.session, 422, error=error("T100"))
    expiry_day = _date(form.get("expiry"))
    expiry = (datetime.combine(expiry_day + timedelta(days=1), time(0), MEXICO_CITY) if expiry_day else None)
    try:
        pkg = pac.credits.add_package(form.session.who, account_id, size, expiry=expiry)
    except TimbraError as exc:
        pac.errors.record(exc.code)
        return _packages(request, form.session, http_status(exc.code), error=exc)
    return _packages(request, form.session, 201, notice=(f"Paquete de {pkg.size:,} timbres agregado." if _es(request)
                                                         else f"Package of {pkg.size:,} credits added."))
