"""The emisor's portal: the period's dashboard, the searchable list of CFDI (updating itself), a page per CFDI
with its downloads, status and cancellation, downloads of a selection (ZIP, CSV, Excel), issuing from a form
(conexión remota), CSD, API keys, users, password, and the cancellations waiting for the account's answer as
receptor. Routes translate forms to timbra.pac calls and back; every decision is pac's."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from starlette.datastructures import UploadFile

from timbra.cfdi.cancellation import Folio
from timbra.clock import MEXICO_CITY
from timbra.codes import cancellation_text, error, http_status
from timbra.errors import TimbraError
from timbra.pac.cfdis import SORTS, CfdiFilter
from timbra.pac.reports import xlsx_file, zip_file
from timbra.sat.catalogs import catalogs
from timbra.web import downloads
from timbra.web.core import (
    SESSION_COOKIE,
    STATUSES,
    TIPOS,
    Form,
    Session,
    fragment,
    pac_of,
    redirect,
    render,
    require_kind,
)

router = APIRouter(prefix="/portal", include_in_schema=False)

PER_PAGE = 25


# --- filters from the query string ------------------------------------------------------------------------

def today(request: Request) -> date:
    return pac_of(request).clock.now().astimezone(MEXICO_CITY).date()


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def read_filter(request: Request, *, default_month: bool = False) -> tuple[CfdiFilter, dict[str, str]]:
    """The filter of the list (and of the downloads): dates of issue (desde/hasta, both included), receptor's
    RFC or name, serie/folio, tipo, status. Unknown or malformed values are dropped, never an error."""
    q = request.query_params
    desde, hasta = _date(q.get("desde")), _date(q.get("hasta"))
    if default_month and desde is None and hasta is None:
        t = today(request)
        desde, hasta = t.replace(day=1), t
    tipo = q.get("tipo") if q.get("tipo") in TIPOS else None
    status = q.get("estado") if q.get("estado") in STATUSES else None
    receptor = (q.get("receptor") or "").strip()[:120] or None
    folio = (q.get("folio") or "").strip()[:60] or None
    f = CfdiFilter(issued_from=f"{desde.isoformat()}T00:00:00" if desde else None,
                   issued_to=f"{(hasta + timedelta(days=1)).isoformat()}T00:00:00" if hasta else None,
                   tipo=tipo, status=status, receptor=receptor, serie_folio=folio)
    params = {"desde": desde.isoformat() if desde else "", "hasta": hasta.isoformat() if hasta else "",
              "receptor": receptor or "", "folio": folio or "", "tipo": tipo or "", "estado": status or ""}
    return f, {k: v for k, v in params.items() if v}


def _sort(request: Request) -> tuple[str, bool]:
    sort = request.query_params.get("orden", "fecha_timbrado")
    return (sort if sort in SORTS else "fecha_timbrado"), request.query_params.get("dir", "desc") != "asc"


def _page(request: Request) -> int:
    try:
        return max(1, int(request.query_params.get("pagina", "1")))
    except ValueError:
        return 1


# --- dashboard -------------------------------------------------------------------------------------------

@router.get("")
def dashboard(request: Request, session: Session) -> Response:
    require_kind(session, "emisor")
    pac = pac_of(request)
    f, params = read_filter(request, default_month=True)
    summary = pac.cfdis.summary(session.who, f)
    balance = pac.credits.balance(session.who)
    expiring = sorted((p for p in balance.packages if p.active and p.left and p.expiry), key=lambda p: p.expiry)
    return render(request, "dashboard.html", session=session, summary=summary, balance=balance,
                  next_expiry=expiring[0] if expiring else None, params=params, chart=_chart(summary.per_day))


def _chart(per_day: list[tuple[date, int]]) -> dict[str, Any]:
    """Bars of stamps per day, laid out for an SVG 700 x 190 (the template only draws)."""
    width, height, left, bottom = 700, 190, 34, 22
    top = max((n for _, n in per_day), default=0)
    scale = max(1, _nice(top))
    inner_w, inner_h = width - left - 6, height - bottom - 8
    step = inner_w / max(1, len(per_day))
    bars = []
    label_every = max(1, -(-len(per_day) // 12))
    for i, (d, n) in enumerate(per_day):
        h = inner_h * n / scale
        bars.append({"x": round(left + i * step + step * 0.15, 1), "y": round(8 + inner_h - h, 1),
                     "w": round(max(1.0, step * 0.7), 1), "h": round(h, 1), "n": n, "day": d,
                     "label": d.strftime("%d/%m") if i % label_every == 0 else ""})
    ticks = [{"y": round(8 + inner_h - inner_h * v / scale, 1), "v": v} for v in (0, scale // 2, scale)]
    return {"width": width, "height": height, "left": left, "base": 8 + inner_h, "bars": bars, "ticks": ticks,
            "total": sum(n for _, n in per_day)}


def _nice(n: int) -> int:
    for m in (1, 2, 4, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000):
        if n <= m:
            return m
    return n


# --- the list --------------------------------------------------------------------------------------------

def _search(request: Request, session) -> tuple[Any, dict[str, str], str, bool]:
    f, params = read_filter(request)
    sort, descending = _sort(request)
    page = pac_of(request).cfdis.search(session.who, f, sort=sort, descending=descending, page=_page(request),
                                        per_page=PER_PAGE)
    return page, params, sort, descending


@router.get("/cfdi")
def cfdi_list(request: Request, session: Session) -> Response:
    require_kind(session, "emisor")
    page, params, sort, descending = _search(request, session)
    return render(request, "cfdi_list.html", session=session, page=page, params=params, sort=sort,
                  descending=descending)


@router.get("/cfdi/filas")
def cfdi_rows(request: Request, session: Session) -> Response:
    """The rows of the list, for htmx to swap in every few seconds: new stamps appear without a reload."""
    require_kind(session, "emisor")
    page, params, sort, descending = _search(request, session)
    seen = request.query_params.get("visto", "")
    uuids = [c.uuid for c in page.items]
    # Rows above the newest one the page showed before are new: they get a short highlight.
    fresh = set(uuids[:uuids.index(seen)]) if seen in uuids else set()
    return fragment(request, "_cfdi_rows.html", session=session, page=page, params=params, sort=sort,
                    descending=descending, fresh=fresh)


@router.get("/cfdi/descarga.{fmt}")
def cfdi_download(request: Request, session: Session, fmt: str) -> Response:
    """The filtered selection: the XML of each in one ZIP, or the report as CSV or Excel."""
    require_kind(session, "emisor")
    pac = pac_of(request)
    f, _ = read_filter(request)
    stamp = pac.clock.now().astimezone(MEXICO_CITY).strftime("%Y%m%d-%H%M")
    if fmt == "csv":
        pac.accounts.scope(session.who, None)
        return StreamingResponse(pac.cfdis.csv_lines(session.who, f), media_type="text/csv; charset=utf-8",
                                 headers={**downloads.FILE_HEADERS,
                                          "Content-Disposition": f'attachment; filename="cfdi-{stamp}.csv"'})
    if fmt not in ("zip", "xlsx"):
        raise error("T103")
    rows = pac.cfdis.selection(session.who, f)
    if fmt == "xlsx":
        return downloads.streamed(xlsx_file(rows), f"cfdi-{stamp}.xlsx",
                                  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    uuids = [r.uuid for r in rows]
    documents = ((f"{u}.xml", x) for u, x in pac.cfdis.xmls(session.who, uuids))
    return downloads.streamed(zip_file(documents), f"cfdi-{stamp}.zip", "application/zip")


# --- one CFDI --------------------------------------------------------------------------------------------

def _progress(request: Request, session, uuid: str) -> dict[str, Any]:
    pac = pac_of(request)
    row = pac.cfdis.get(session.who, uuid)
    try:
        sat = pac.cancels.status(session.who, row.uuid)
    except TimbraError:
        sat = None
    row = pac.cfdis.get(session.who, uuid)  # status() may have recorded a change SAT made meanwhile
    events = pac.cancels.events(session.who, row.uuid)
    cancelacion = sat.get("cancelacion") if sat else None
    waiting = row.status == "en_proceso" or (cancelacion is not None and cancelacion.get("code") is None)
    return {"cfdi": row, "sat": sat, "events": events, "cancelacion": cancelacion, "waiting": waiting}


@router.get("/cfdi/{uuid}")
def cfdi_page(request: Request, session: Session, uuid: str) -> Response:
    require_kind(session, "emisor")
    info = _progress(request, session, uuid)
    notice = _result_notice(request, request.query_params.get("resultado", ""))
    if request.query_params.get("nuevo"):
        notice = "Factura timbrada." if request.cookies.get("timbra_lang") != "en" else "Invoice stamped."
    acuse_envio = info["cfdi"].sat_status in ("recibido", "rechazado")
    return render(request, "cfdi_detail.html", session=session, notice=notice, acuse_envio=acuse_envio,
                  pdf=downloads.pdf_service(request) is not None, **info)


@router.get("/cfdi/{uuid}/progreso")
def cfdi_progress(request: Request, session: Session, uuid: str) -> Response:
    require_kind(session, "emisor")
    return fragment(request, "_progress.html", session=session, **_progress(request, session, uuid))


@router.get("/cfdi/{uuid}/xml")
def cfdi_xml(request: Request, session: Session, uuid: str) -> Response:
    require_kind(session, "emisor")
    row = pac_of(request).cfdis.get(session.who, uuid)
    return downloads.attachment(pac_of(request).cfdis.xml(session.who, row.uuid), f"{row.uuid}.xml", "application/xml")


@router.get("/cfdi/{uuid}/pdf")
def cfdi_pdf(request: Request, session: Session, uuid: str) -> Response:
    require_kind(session, "emisor")
    row = pac_of(request).cfdis.get(session.who, uuid)
    data = downloads.pdf_bytes(request, session.who, row.uuid)
    if data is None:
        raise error("T103", message="El PDF aún no está disponible en este timbra.",
                    message_en="PDFs are not available in this timbra yet.")
    return downloads.attachment(data, f"{row.uuid}.pdf", "application/pdf")


@router.get("/cfdi/{uuid}/acuse-envio")
def cfdi_acuse_envio(request: Request, session: Session, uuid: str) -> Response:
    require_kind(session, "emisor")
    ack = pac_of(request).cfdis.acuse(session.who, uuid)
    return downloads.attachment(ack.xml, f"acuse-envio-{ack.uuid}.xml", "application/xml")


@router.get("/cfdi/{uuid}/acuse-cancelacion")
def cfdi_acuse_cancelacion(request: Request, session: Session, uuid: str) -> Response:
    require_kind(session, "emisor")
    row = pac_of(request).cfdis.get(session.who, uuid)
    data = pac_of(request).cancels.acuse(session.who, row.uuid)
    return downloads.attachment(data, f"acuse-cancelacion-{row.uuid}.xml", "application/xml")


@router.post("/cfdi/{uuid}/cancelar")
def cfdi_cancel(request: Request, form: Form, uuid: str) -> Response:
    session = form.session
    require_kind(session, "emisor")
    pac = pac_of(request)
    row = pac.cfdis.get(session.who, uuid)
    motivo = form.get("motivo")
    sustitucion = form.get("folio_sustitucion") or None
    try:
        result = pac.cancels.cancel(session.who, [Folio(row.uuid, motivo, sustitucion)])
    except TimbraError as exc:
        pac.errors.record(exc.code)
        info = _progress(request, session, row.uuid)
        return render(request, "cfdi_detail.html", status=http_status(exc.code), session=session, error=exc,
                      acuse_envio=False, pdf=downloads.pdf_service(request) is not None, motivo=motivo,
                      sustitucion=sustitucion, **info)
    return redirect(f"/portal/cfdi/{row.uuid}?resultado={result.folios[0].code}")


def _result_notice(request: Request, code: str) -> str | None:
    """What a cancellation answered, after the redirect (SAT's code, or T183: stored, to be sent)."""
    es_lang = request.cookies.get("timbra_lang") != "en"
    if code == "T183":
        from timbra.codes import CODES

        return f"{code}: {CODES[code].es if es_lang else CODES[code].en}"
    try:
        es, en = cancellation_text(code)
    except KeyError:
        return None
    return f"{code}: {es if es_lang else en}"


# --- issuing from a form (conexión remota) --------------------------------------------------------------

TASAS = {"16": ("002", "Tasa", "0.160000"), "8": ("002", "Tasa", "0.080000"), "0": ("002", "Tasa", "0.000000"),
         "exento": ("002", "Exento", None), "no": None}
LINES = 5


def _catalog(table: str, ids: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
    rows = catalogs().rows(table)
    return [(r["id"], r["texto"]) for r in rows if (ids is None or r["id"] in ids) and not r.get("vigencia_hasta")]


def _issue_form_context(request: Request, session) -> dict[str, Any]:
    return {"rfcs": pac_of(request).accounts.rfcs(session.who.account_id),
            "regimenes": _catalog("cfdi_40_regimenes_fiscales"), "usos": _catalog("cfdi_40_usos_cfdi"),
            "formas": _catalog("cfdi_40_formas_pago"), "lines": LINES}


@router.get("/emitir")
def issue_page(request: Request, session: Session) -> Response:
    require_kind(session, "emisor")
    return render(request, "emitir.html", session=session, v={}, **_issue_form_context(request, session))


def invoice_data(form: Form) -> dict[str, Any]:
    """The form's fields as the JSON of POST /v1/issue (Anexo 20's names): the same builder checks them."""
    g = form.get
    conceptos = []
    for i in range(LINES):
        if not g(f"c{i}_descripcion"):
            continue
        c: dict[str, Any] = {"ClaveProdServ": g(f"c{i}_clave"), "Cantidad": g(f"c{i}_cantidad") or "1",
                             "ClaveUnidad": g(f"c{i}_unidad"), "Descripcion": g(f"c{i}_descripcion"),
                             "ValorUnitario": g(f"c{i}_valor")}
        tasa = TASAS.get(g(f"c{i}_iva") or "16")
        if tasa is None:
            c["ObjetoImp"] = "01"
        else:
            impuesto, factor, valor = tasa
            c["Impuestos"] = {"Traslados": [{"Impuesto": impuesto, "TipoFactor": factor,
                                             **({"TasaOCuota": valor} if valor else {})}]}
        conceptos.append(c)
    data: dict[str, Any] = {
        "Serie": g("serie") or None, "Folio": g("folio") or None, "FormaPago": g("forma_pago") or None,
        "MetodoPago": g("metodo_pago") or None, "Moneda": g("moneda") or "MXN",
        "LugarExpedicion": g("lugar_expedicion"),
        "Emisor": {"Rfc": g("emisor_rfc") or None, "RegimenFiscal": g("emisor_regimen") or None},
        "Receptor": {"Rfc": g("receptor_rfc").upper(), "Nombre": g("receptor_nombre"),
                     "DomicilioFiscalReceptor": g("receptor_cp"), "RegimenFiscalReceptor": g("receptor_regimen"),
                     "UsoCFDI": g("uso_cfdi")},
        "Conceptos": conceptos,
    }
    if g("tipo_cambio"):
        data["TipoCambio"] = g("tipo_cambio")
    return {k: v for k, v in data.items() if v is not None}


@router.post("/emitir")
def issue(request: Request, form: Form) -> Response:
    session = form.session
    require_kind(session, "emisor")
    pac = pac_of(request)
    try:
        result = pac.issuing.issue(session.who, invoice_data(form))
    except TimbraError as exc:
        pac.errors.record(exc.code)
        values = {k: v for k, v in form.form.items() if isinstance(v, str) and k != "csrf"}
        return render(request, "emitir.html", status=http_status(exc.code), session=session, error=exc, v=values,
                      **_issue_form_context(request, session))
    return redirect(f"/portal/cfdi/{result.uuid}?nuevo=1")


# --- CSD --------------------------------------------------------------------------------------------------

@router.get("/csd")
def csd_page(request: Request, session: Session) -> Response:
    require_kind(session, "emisor")
    return _csd(request, session)


def _csd(request: Request, session, status: int = 200, **ctx: Any) -> Response:
    pac = pac_of(request)
    return render(request, "csd.html", status=status, session=session, items=pac.vault.list(session.who),
                  rfcs=pac.accounts.rfcs(session.who.account_id), **ctx)


async def _read(upload: Any, limit: int = 64 * 1024) -> bytes:
    if not isinstance(upload, UploadFile):
        return b""
    return await upload.read(limit + 1)


@router.post("/csd")
async def csd_upload(request: Request, form: Form) -> Response:
    from fastapi.concurrency import run_in_threadpool

    session = form.session
    require_kind(session, "emisor")
    cer, key = await _read(form.form.get("cer")), await _read(form.form.get("key"))
    password = form.get("password")
    pac = pac_of(request)
    try:
        if not cer or not key or len(cer) > 64 * 1024 or len(key) > 64 * 1024:
            raise error("T100", message="Elija el archivo .cer y el archivo .key de su CSD (unos pocos KB cada uno).",
                        message_en="Choose your CSD's .cer and .key files (a few KB each).")
        info = await run_in_threadpool(pac.vault.upload, session.who, cer, key, password)
    except TimbraError as exc:
        pac.errors.record(exc.code)
        return await run_in_threadpool(_csd, request, session, http_status(exc.code), error=exc)
    lang_es = request.cookies.get("timbra_lang") != "en"
    notice = (f"CSD {info.no_certificado} de {info.rfc} guardado y activo." if lang_es
              else f"CSD {info.no_certificado} of {info.rfc} stored and active.")
    return await run_in_threadpool(_csd, request, session, 201, notice=notice)


# --- the account: API keys, users, password ---------------------------------------------------------------

@router.get("/apikeys")
def keys_page(request: Request, session: Session) -> Response:
    return render(request, "apikeys.html", session=session, keys=pac_of(request).accounts.list_keys(session.who))


@router.post("/apikeys")
def key_create(request: Request, form: Form) -> Response:
    """The key is shown in this answer only (a page that is not cached and never in a URL)."""
    pac = pac_of(request)
    made = pac.accounts.create_key(form.session.who, form.get("name")[:120])
    return render(request, "apikeys.html", status=201, session=form.session, new_key=made.key,
                  keys=pac.accounts.list_keys(form.session.who))


@router.post("/apikeys/{key_id}/revocar")
def key_revoke(request: Request, form: Form, key_id: int) -> Response:
    pac_of(request).accounts.revoke_key(form.session.who, key_id)
    return redirect("/portal/apikeys")


@router.get("/usuarios")
def users_page(request: Request, session: Session) -> Response:
    return _users(request, session)


def _users(request: Request, session, status: int = 200, **ctx: Any) -> Response:
    accounts = pac_of(request).accounts
    return render(request, "usuarios.html", status=status, session=session,
                  users=accounts.users(session.who, session.who.account_id),
                  can_add=accounts.can_administer(session.who, session.who.account_id), **ctx)


@router.post("/usuarios")
def user_add(request: Request, form: Form) -> Response:
    pac = pac_of(request)
    try:
        user, password = pac.accounts.add_user(form.session.who, form.session.who.account_id, form.get("username"))
    except TimbraError as exc:
        pac.errors.record(exc.code)
        return _users(request, form.session, http_status(exc.code), error=exc)
    return _users(request, form.session, 201, once={"username": user.username, "password": password})


@router.get("/contrasena")
def password_page(request: Request, session: Session) -> Response:
    return render(request, "contrasena.html", session=session)


@router.post("/contrasena")
def password_change(request: Request, form: Form) -> Response:
    pac = pac_of(request)
    new, again = form.form.get("new_password"), form.form.get("new_password2")
    try:
        if not isinstance(new, str) or new != again:
            raise error("T100", message="La contraseña nueva y su confirmación no coinciden.",
                        message_en="The new password and its confirmation differ.")
        pac.sessions.change_password(form.session, request.cookies.get(SESSION_COOKIE, ""),
                                     str(form.form.get("current_password") or ""), new)
    except TimbraError as exc:
        pac.errors.record(exc.code)
        return render(request, "contrasena.html", status=http_status(exc.code), session=form.session, error=exc)
    es = request.cookies.get("timbra_lang") != "en"
    return render(request, "contrasena.html", session=form.session,
                  notice="Contraseña cambiada; las demás sesiones se cerraron." if es
                  else "Password changed; your other sessions were signed out.")


# --- the receptor's side: cancellations waiting for this account's answer ------------------------------------

@router.get("/pendientes")
def pending_page(request: Request, session: Session) -> Response:
    require_kind(session, "emisor")
    return _pending(request, session)


def _pending(request: Request, session, status: int = 200, **ctx: Any) -> Response:
    try:
        items = pac_of(request).cancels.pending(session.who)
        unavailable = False
    except Exception:  # noqa: BLE001 - SAT's side not answering leaves the page usable
        items, unavailable = [], True
    return render(request, "pendientes.html", status=status, session=session, items=items, unavailable=unavailable,
                  **ctx)


@router.post("/pendientes/{uuid}")
def pending_answer(request: Request, form: Form, uuid: str) -> Response:
    session = form.session
    require_kind(session, "emisor")
    pac = pac_of(request)
    respuesta = "Aceptacion" if form.get("respuesta") == "Aceptacion" else "Rechazo"
    try:
        out = pac.cancels.answer(session.who, uuid, respuesta)
    except TimbraError as exc:
        pac.errors.record(exc.code)
        return _pending(request, session, http_status(exc.code), error=exc)
    es = request.cookies.get("timbra_lang") != "en"
    message = out["message"] if es else out["message_en"]
    return _pending(request, session, notice=f"{out['uuid']}: {out['code']} {message}")

