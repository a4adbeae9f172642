"""The portal end to end in headless Chromium (Debian's chromium, driven by Playwright's Python API), on SQLite
and PostgreSQL: sign-in and lockout, the dashboard, search, sort and the list updating itself, downloads
(XML, ZIP, CSV, Excel), issuing from the form, cancelling with the receptor's acceptance and its progress,
CSD upload, API keys, the distributor's registration, the admin's approval, credits handed to the new client,
and the receptor's public lookup. Screenshots go to build/screenshots/<database>/ (TIMBRA_SCREENSHOTS).

Chromium is required, never skipped: `make test` (scripts/services.sh) installs it when it is missing.
One browser for the module; the tests run in order and each continues where the previous one left off."""
from __future__ import annotations

import csv
import io
import os
import re
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

from tests.api.test_rest import data_dir  # noqa: F401 - fixture (sandbox keys made once per session)
from tests.web.site import MARKUP, PASSWORD, URE, XIA, Site, site
from timbra.clock import MEXICO_CITY
from timbra.gateway.sandbox_ca import SandboxCA, save_credential
from timbra.pac.cfdis import CfdiFilter

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("TIMBRA_SCREENSHOTS", ROOT / "build" / "screenshots"))
WAIT_MS = 20_000


def chromium_path() -> str:
    found = os.environ.get("TIMBRA_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("Chromium is required for the portal's browser tests and was not found: `make test` installs "
                    "Debian's chromium (scripts/services.sh), or set TIMBRA_CHROMIUM to its path.")
    return found


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), args=["--disable-dev-shm-usage", "--lang=es-MX"])
        yield b
        b.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(request, tmp_path_factory, data_dir: Path) -> Iterator[Site]:  # noqa: F811
    with site(request.param, tmp_path_factory.mktemp(f"web-{request.param}"), data_dir, serve=True) as s:
        yield s


class Pages:
    """One browser context per person (its own cookies), and the screenshots of the run."""

    def __init__(self, browser, s: Site) -> None:
        self.browser, self.site, self.contexts = browser, s, {}
        self.folder = SHOTS / s.kind
        self.folder.mkdir(parents=True, exist_ok=True)

    def page(self, who: str, *, phone: bool = False):
        if who not in self.contexts:
            size = {"width": 390, "height": 844} if phone else {"width": 1366, "height": 900}
            ctx = self.browser.new_context(accept_downloads=True, viewport=size, locale="es-MX",
                                           base_url=self.site.url, device_scale_factor=1)
            ctx.set_default_timeout(WAIT_MS)
            self.contexts[who] = ctx.new_page()
        return self.contexts[who]

    def shot(self, page, name: str, *, full: bool = True) -> None:
        page.screenshot(path=str(self.folder / f"{name}.png"), full_page=full)

    def close(self) -> None:
        for p in self.contexts.values():
            p.context.close()


@pytest.fixture(scope="module")
def pages(browser, live: Site) -> Iterator[Pages]:
    p = Pages(browser, live)
    yield p
    p.close()


def login(page, username: str, password: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login")


def download(page, click) -> bytes:
    with page.expect_download() as info:
        click()
    return Path(info.value.path()).read_bytes()


def issued_days(s: Site) -> tuple[str, str]:
    first = s.start.astimezone(MEXICO_CITY).date()
    last = s.clock.now().astimezone(MEXICO_CITY).date()
    return first.isoformat(), last.isoformat()


# --- the tests, in order ---------------------------------------------------------------------------------

def test_sign_in_lockout_and_dashboard(pages: Pages, live: Site):
    page = pages.page("emisor")
    page.goto("/")
    assert page.locator("h1").first.inner_text().startswith("Facturación electrónica")
    pages.shot(page, "01-inicio")
    # A user of the account guesses wrong until the throttle locks it (10 failures in 15 minutes, as HTTP
    # Basic); then even the right password is refused, with the wait said in the page.
    for _ in range(10):
        login(page, "contadora", "no es la contraseña")
        assert "Usuario o contraseña incorrectos" in page.locator(".alert.error").inner_text()
    login(page, "contadora", PASSWORD)
    message = page.locator(".alert.error").inner_text()
    assert "bloqueada temporalmente" in message and "T150" in message
    pages.shot(page, "02-bloqueo")
    assert page.url.endswith("/login")
    # The demo emisor signs in: an HttpOnly, SameSite session cookie, and the dashboard.
    login(page, "demo", live.demo.password)
    page.wait_for_url("**/portal")
    cookie = next(c for c in page.context.cookies() if c["name"] == "timbra_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    first, last = issued_days(live)
    page.goto(f"/portal?desde={first}&hasta={last}")
    stamped = sum(len(v) for v in live.uuids.values())
    assert page.locator("#kpi-count").inner_text() == f"{stamped:,}"
    assert page.locator("#kpi-creditos").inner_text() == f"{live.pac.credits.balance(live.emisor).available:,}"
    bars = page.locator("#chart rect.bar")
    assert bars.count() == 6 and all(float(bars.nth(i).get_attribute("height")) > 0 for i in range(6))
    totals = page.locator("#totales tbody").inner_text()
    assert "Ingreso" in totals and "Egreso" in totals
    pages.shot(page, "03-resumen")


def test_search_sort_and_new_stamps_without_reload(pages: Pages, live: Site):
    page = pages.page("emisor")
    page.goto("/portal/cfdi")
    page.fill("#receptor", "xenon")
    page.click("#filtrar")
    rows = page.locator("#filas tr[data-uuid]")
    assert sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.uuid)")) == sorted(live.uuids[XIA["Rfc"]])
    # Sort by total, ascending: the amounts read from the page are in order.
    page.click("th a:has-text('Total')")
    page.click("th a:has-text('Total')")
    assert "dir=asc" in page.url
    amounts = [float(re.sub(r"[$,]", "", t)) for t in page.locator("#filas td.num").all_inner_texts()]
    assert amounts == sorted(amounts) and len(amounts) == len(live.uuids[XIA["Rfc"]])
    # The markup in a receptor's name is shown as text, never run.
    page.goto("/portal/cfdi?receptor=comercial")
    assert page.locator("#filas td").nth(2).inner_text().startswith(MARKUP["Nombre"])
    assert page.locator("#filas img").count() == 0
    # The unfiltered list, page 2, then back; a CFDI stamped now appears on page 1 without a reload.
    page.goto("/portal/cfdi")
    page.click("#siguiente")
    assert "pagina=2" in page.url
    page.goto("/portal/cfdi")
    live.clock.advance(seconds=1)
    new = live.issue(URE, "999.00", folio="EN-VIVO")
    row = page.locator(f"#filas tr[data-uuid='{new}']")
    row.wait_for(state="visible", timeout=WAIT_MS)
    assert "EN-VIVO" in row.inner_text()
    pages.shot(page, "04-comprobantes")


def test_downloads_xml_zip_csv_and_excel(pages: Pages, live: Site):
    page = pages.page("emisor")
    xia = set(live.uuids[XIA["Rfc"]])
    page.goto("/portal/cfdi?receptor=XIA190128J61")
    with zipfile.ZipFile(io.BytesIO(download(page, lambda: page.click("#descarga-zip")))) as z:
        assert {n.removesuffix(".xml") for n in z.namelist()} == xia
        one = sorted(xia)[0]
        assert z.read(f"{one}.xml") == live.pac.cfdis.xml(live.emisor, one)
    lines = list(csv.DictReader(io.StringIO(download(page, lambda: page.click("#descarga-csv")).decode())))
    assert {r["uuid"] for r in lines} == xia
    book = load_workbook(io.BytesIO(download(page, lambda: page.click("#descarga-xlsx"))), read_only=True)
    sheet = list(book["CFDI"].iter_rows(values_only=True))
    assert sheet[0][0] == "UUID" and {r[0] for r in sheet[1:]} == xia
    by_uuid = {r.uuid: r for r in live.pac.cfdis.selection(live.emisor, CfdiFilter(rfc_receptor="XIA190128J61"))}
    for r in sheet[1:]:
        assert abs(r[10] - float(by_uuid[r[0]].total)) < 0.005
    # One CFDI's page: its XML, and SAT's acuse de envío.
    page.goto(f"/portal/cfdi/{one}")
    assert download(page, lambda: page.click("#descargar-xml")) == live.pac.cfdis.xml(live.emisor, one)
    assert one.encode() in download(page, lambda: page.click("#acuse-envio"))
    assert page.locator("#descargar-pdf").count() == (1 if hasattr(live.pac, "printing") else 0)


def test_issue_an_invoice_from_the_form(pages: Pages, live: Site):
    page = pages.page("emisor")
    page.goto("/portal/emitir")
    page.select_option("#emisor_rfc", "EKU9003173C9")
    page.fill("#folio", "WEB-1")
    page.fill("#lugar_expedicion", "06000")
    page.fill("#receptor_rfc", URE["Rfc"])
    page.fill("#receptor_nombre", URE["Nombre"])
    page.fill("#receptor_cp", URE["DomicilioFiscalReceptor"])
    page.fill("input[name=c0_descripcion]", "Consultoría fiscal")
    page.fill("input[name=c0_clave]", "80101500")
    page.fill("input[name=c0_unidad]", "E48")
    page.fill("input[name=c0_valor]", "2500")
    page.fill("input[name=c0_cantidad]", "2")
    pages.shot(page, "05-emitir")
    page.click("#timbrar")
    page.wait_for_url(re.compile(r".*/portal/cfdi/[0-9A-F-]{36}\?nuevo=1"))
    uuid = page.url.split("/portal/cfdi/")[1].split("?")[0]
    row = live.pac.cfdis.get(live.emisor, uuid)
    assert (row.folio, str(row.total)) == ("WEB-1", "5800.000000")  # 2 x 2,500 + IVA 16 %
    assert "$5,800.00" in page.locator("dl.facts").first.inner_text()
    # A mistake is answered with the rule that failed, on the form, with what was typed kept.
    page.goto("/portal/emitir")
    page.select_option("#emisor_rfc", "EKU9003173C9")
    page.fill("#lugar_expedicion", "06000")
    page.fill("#receptor_rfc", URE["Rfc"])
    page.fill("#receptor_nombre", URE["Nombre"])
    page.fill("#receptor_cp", "00000")
    page.fill("input[name=c0_descripcion]", "Consultoría")
    page.fill("input[name=c0_valor]", "100")
    page.click("#timbrar")
    assert page.locator(".alert.error").count() == 1
    assert page.input_value("input[name=c0_descripcion]") == "Consultoría"


def test_cancel_with_the_receptors_acceptance_and_its_progress(pages: Pages, live: Site):
    emisor = pages.page("emisor")
    target = live.uuids[XIA["Rfc"]][0]  # issued on the first day: past the business day after, > $1,000
    emisor.goto(f"/portal/cfdi/{target}")
    assert emisor.locator("#estado").inner_text() == "Vigente"
    emisor.select_option("#motivo", "02")
    emisor.click("#confirmar-cancelacion")
    emisor.wait_for_load_state()
    assert emisor.url.endswith(f"/portal/cfdi/{target}?resultado=201"), (emisor.url, emisor.locator("main").inner_text()[:800])
    assert emisor.locator("#estado").inner_text() == "Cancelación en proceso"
    assert "201" in emisor.locator(".alert.ok").inner_text()
    pages.shot(emisor, "06-cancelacion-en-proceso")
    # The receptor (another account, another browser) accepts it in its portal.
    receptor = pages.page("receptor")
    login(receptor, "receptor", PASSWORD)
    receptor.goto("/portal/pendientes")
    row = receptor.locator("#pendientes tr", has_text=target)
    pages.shot(receptor, "07-pendientes-receptor")
    row.locator("button[value=Aceptacion]").click()
    assert "1000" in receptor.locator(".alert.ok").inner_text()
    # The emisor's open page follows by itself (htmx polls while the cancellation is in process).
    emisor.locator("#estado", has_text="Cancelado").wait_for(timeout=WAIT_MS)
    assert emisor.locator("#eventos li").count() >= 3
    acuse = download(emisor, lambda: emisor.click("#acuse-cancelacion"))
    assert target.encode() in acuse.upper() or target.lower().encode() in acuse
    assert live.pac.cfdis.get(live.emisor, target).status == "cancelado"
    pages.shot(emisor, "08-cancelado")


def test_csd_upload(pages: Pages, live: Site, tmp_path: Path):
    page = pages.page("emisor")
    ca = SandboxCA.load(live.pac.settings.keys_dir)
    files = save_credential(ca.issue("EKU9003173C9", "ESCUELA KEMPER URGATE", sucursal="Sucursal 2"), tmp_path,
                            "nuevo", "clave-del-csd")
    page.goto("/portal/csd")
    page.set_input_files("#cer", str(tmp_path / files["cer"]))
    page.set_input_files("#key", str(tmp_path / files["key"]))
    page.fill("#password", "otra clave")
    page.click("#guardar-csd")
    assert "T125" in page.locator(".alert.error").inner_text()  # wrong password: nothing stored
    page.set_input_files("#cer", str(tmp_path / files["cer"]))
    page.set_input_files("#key", str(tmp_path / files["key"]))
    page.fill("#password", "clave-del-csd")
    page.click("#guardar-csd")
    assert files["no_certificado"] in page.locator(".alert.ok").inner_text()
    row = page.locator("#csds tr", has_text=files["no_certificado"])
    assert "Activo" in row.inner_text()
    pages.shot(page, "09-csd")


def test_api_key_shown_once_then_revoked(pages: Pages, live: Site):
    page = pages.page("emisor")
    page.goto("/portal/apikeys")
    page.fill("#name", "ERP producción")
    page.click("#crear-key button")
    key = page.locator("#key-value").inner_text().strip()
    assert key.startswith("tbk_")
    assert httpx.get(f"{live.url}/v1/credits", headers={"X-API-Key": key}).status_code == 200
    pages.shot(page, "10-apikey")
    page.goto("/portal/apikeys")
    assert page.locator("#key-value").count() == 0  # shown once
    page.locator("#keys tr", has_text="ERP producción").locator("button").click()
    assert "Revocada" in page.locator("#keys tr", has_text="ERP producción").inner_text()
    live.clock.advance(seconds=10)  # past the API key cache of other processes
    assert httpx.get(f"{live.url}/v1/credits", headers={"X-API-Key": key}).status_code == 401


def test_distributor_registers_a_client_and_the_admin_approves(pages: Pages, live: Site, tmp_path: Path):
    docs = {}
    for kind in ("alta", "constancia", "contrato", "pago"):
        docs[kind] = tmp_path / f"{kind}.pdf"
        docs[kind].write_bytes(b"%PDF-1.4\n% " + kind.encode() + b"\n%%EOF\n")
    dist = pages.page("distribuidor")
    login(dist, "distribuidor", PASSWORD)
    dist.wait_for_url("**/portal/clientes")
    dist.click("#registrar")
    dist.fill("#name", "Abarrotes La Esperanza SA de CV")
    dist.fill("#rfc", "ALE010101AB1")
    dist.fill("#nombre", "ABARROTES LA ESPERANZA")
    dist.fill("#email", "contacto@esperanza.example")
    dist.fill("#username", "esperanza")
    for kind, path in docs.items():
        dist.set_input_files(f"#doc_{kind}", str(path))
    pages.shot(dist, "11-registro-cliente")
    dist.click("#enviar-registro")
    assert dist.locator("#estado-registro").inner_text() == "Pendiente"
    registration = dist.url.split("/portal/registros/")[1].split("?")[0]
    # The PAC admin: the system's health, the pending request, one of its documents, the approval.
    admin = pages.page("admin")
    login(admin, "admin", live.demo.admin_password)
    admin.wait_for_url("**/portal/admin")
    assert admin.locator("#pendientes").inner_text() == "1"
    assert admin.locator("#backlog").is_visible() and admin.locator("#errores").is_visible()
    pages.shot(admin, "12-admin-estado")
    admin.goto("/portal/admin/registros")
    admin.click(f"a[href='/portal/registros/{registration}']")
    assert download(admin, lambda: admin.click("#documentos a >> nth=2")) == docs["contrato"].read_bytes()
    admin.click("#aprobar")
    password = admin.locator("#contrasena-inicial").inner_text().strip()
    assert admin.locator("#usuario").inner_text() == "esperanza" and len(password) >= 10
    pages.shot(admin, "13-alta-aprobada")
    # The distributor sees it approved and hands the new client 250 credits.
    dist.goto(f"/portal/registros/{registration}")
    assert dist.locator("#estado-registro").inner_text() == "Aprobado"
    dist.goto("/portal/clientes")
    row = dist.locator("#clientes tr", has_text="Abarrotes La Esperanza")
    row.locator("input[name=cantidad]").fill("250")
    row.locator("button").click()
    assert "250" in dist.locator(".alert.ok").inner_text()
    assert dist.locator("#mis-creditos").inner_text() == "750"
    pages.shot(dist, "14-clientes")
    # The client signs in with the password shown once and sees its 250 credits.
    client = pages.page("cliente")
    login(client, "esperanza", password)
    client.wait_for_url("**/portal")
    assert client.locator("#kpi-creditos").inner_text() == "250"


def test_receptor_lookup_is_public_and_tells_nothing_without_all_three(pages: Pages, live: Site):
    page = pages.page("anonimo")
    uuid = live.uuids[URE["Rfc"]][1]
    page.goto("/consulta")

    def ask(u: str, re_: str, rr: str) -> str:
        page.fill("#uuid", u)
        page.fill("#rfc_emisor", re_)
        page.fill("#rfc_receptor", rr)
        page.click("#buscar")
        return page.locator(".alert.error").inner_text() if page.locator(".alert.error").count() else ""

    wrong_rfc = ask(uuid, "EKU9003173C9", "XIA190128J61")
    unknown = ask("00000000-0000-4000-8000-000000000000", "EKU9003173C9", URE["Rfc"])
    assert wrong_rfc == unknown and "T211" in unknown
    assert ask(uuid, "eku9003173c9", URE["Rfc"].lower()) == ""
    assert page.locator("#estado-sat").inner_text().startswith("Vigente")
    pages.shot(page, "15-consulta-receptor")
    assert download(page, lambda: page.click("#descargar-xml")) == live.pac.cfdis.xml(live.emisor, uuid)


def test_on_a_phone(pages: Pages, live: Site):
    phone = pages.page("telefono", phone=True)
    login(phone, "demo", live.demo.password)
    phone.wait_for_url("**/portal")
    assert phone.locator(".nav").is_hidden()
    phone.click("label.burger")
    assert phone.locator(".nav").is_visible()
    pages.shot(phone, "16-telefono-menu", full=False)
    phone.goto("/portal/cfdi")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1  # nothing wider than the screen: the table scrolls inside its card
    pages.shot(phone, "17-telefono-comprobantes")


def test_no_request_left_the_machine(live: Site):
    """Every asset came from timbra itself (no CDN): the pages name no other host."""
    html = httpx.get(f"{live.url}/login").text + httpx.get(f"{live.url}/docs").text
    hosts = {h for h in re.findall(r'(?:src|href)="(?:https?:)?//([^/"]+)', html)}
    assert hosts == set(), hosts

