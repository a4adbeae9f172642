"""The printed CFDI over REST, on SQLite and PostgreSQL: GET /v1/cfdi/{uuid}/pdf for the account's CFDI only,
rendered from the stored XML and cached; the branding (PUT/GET/DELETE /v1/branding, GET /v1/branding/logo)
validated and shown on the page; a CFDI cancelled through SAT's sandbox prints CANCELADO."""
from __future__ import annotations

import base64
from io import BytesIO

from PIL import Image
from pypdf import PdfReader

from tests.api.test_cancel import cancel, issue, sat  # noqa: F401 - fixtures
from tests.api.test_e2e import assert_error
from tests.api.test_rest import PASSWORD, Api, api, created, data_dir, emisor_csd, ok  # noqa: F401 - fixtures
from tests.render.conftest import flat


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def image(fmt: str, size=(300, 100), color=(200, 30, 30)) -> bytes:
    buf = BytesIO()
    Image.new("RGB", size, color).save(buf, format=fmt)
    return buf.getvalue()


def stamp(api: Api, erp, folio: str) -> str:
    r = erp.post("/v1/stamp", content=api.document(folio), headers={"Content-Type": "application/xml"})
    return created(r)["uuid"]


def test_the_pdf_of_a_stamped_cfdi_and_the_accounts_branding(api: Api):
    erp = api.erp()
    uuid = stamp(api, erp, "PDF-1")
    r = erp.get(f"/v1/cfdi/{uuid.lower()}/pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == f'inline; filename="{uuid}.pdf"'
    assert r.headers["x-timbra-cancelled"] == "false"
    text = flat(r.content)
    assert uuid in text and "FACTURA" in text and "A-PDF-1" in text and "VEINTIÚN MIL CIENTO DOS PESOS 35/100 M.N." in text
    assert not PdfReader(BytesIO(r.content)).pages[0].images
    # cached: the same bytes again, one entry
    assert erp.get(f"/v1/cfdi/{uuid}/pdf", params={"download": "true"}).content == r.content
    assert len(api.pac.printing.cache) == 1
    assert erp.get(f"/v1/cfdi/{uuid}/pdf", params={"download": "true"}).headers["content-disposition"].startswith(
        "attachment;")

    # another account cannot tell the CFDI exists; the admin reads it naming the account
    admin = api.admin()
    created(admin.post("/v1/accounts", json={"kind": "emisor", "name": "Otra", "username": "otra",
                                             "password": PASSWORD}))
    assert_error(api.basic("otra", PASSWORD).get(f"/v1/cfdi/{uuid}/pdf"), 404, "T103")
    assert_error(erp.get("/v1/cfdi/00000000-0000-0000-0000-000000000000/pdf"), 404, "T103")
    assert admin.get(f"/v1/cfdi/{uuid}/pdf", params={"account_id": api.demo.account_id}).content == r.content

    # branding: a JPEG logo (stored as a PNG that fits 1200 x 600) and a colour
    assert ok(erp.get("/v1/branding")) == {"color": None, "logo": False, "logo_width": None, "logo_height": None,
                                           "version": 0, "updated_at": None}
    got = ok(erp.put("/v1/branding", json={"logo": b64(image("JPEG", (2400, 800))), "color": "#7a1fa2"}))
    assert (got["color"], got["logo"], got["logo_width"], got["logo_height"], got["version"]) == \
        ("#7A1FA2", True, 1200, 400, 1)
    logo = erp.get("/v1/branding/logo")
    assert logo.headers["content-type"] == "image/png" and Image.open(BytesIO(logo.content)).size == (1200, 400)
    branded = erp.get(f"/v1/cfdi/{uuid}/pdf").content
    assert branded != r.content and len(PdfReader(BytesIO(branded)).pages[0].images) == 1
    assert b"0.4784 0.1216 0.6353 rg" in _content(branded)  # #7A1FA2 fills the title band
    # what is not sent stays; null removes
    assert ok(erp.put("/v1/branding", json={"color": "#000000"}))["logo"] is True
    assert ok(erp.put("/v1/branding", json={"logo": None}))["color"] == "#000000"
    assert_error(erp.get("/v1/branding/logo"), 404, "T103")
    # refusals
    assert_error(erp.put("/v1/branding", json={"color": "azul"}), 422, "T192")
    assert_error(erp.put("/v1/branding", json={"logo": b64(b"GIF89a not an image")}), 422, "T190")
    assert_error(erp.put("/v1/branding", json={"logo": b64(image("GIF"))}), 422, "T190")
    assert_error(erp.put("/v1/branding", json={"logo": b64(b"\x00" * 600_000)}), 413, "T191")
    assert_error(erp.put("/v1/branding", json={"logo": b64(image("PNG", (4100, 10)))}), 413, "T191")
    assert_error(erp.put("/v1/branding", json={"logo": "no es base64!"}), 400, "T100")
    cleared = ok(erp.delete("/v1/branding"))
    assert (cleared["color"], cleared["logo"], cleared["version"]) == (None, False, 4)
    # back to the default look, under a new cache key (the version only grows)
    plain = erp.get(f"/v1/cfdi/{uuid}/pdf").content
    assert not PdfReader(BytesIO(plain)).pages[0].images and b"0.4784 0.1216 0.6353 rg" not in _content(plain)


def _content(pdf: bytes) -> bytes:
    return PdfReader(BytesIO(pdf)).pages[0].get_contents().get_data()


def test_a_cfdi_cancelled_at_sat_prints_cancelado(sat: Api):  # noqa: F811
    erp = sat.erp()
    uuid = issue(sat, erp, "PDF-C")
    before = erp.get(f"/v1/cfdi/{uuid}/pdf")
    assert "CANCELADO" not in flat(before.content)
    [answer] = cancel(erp, {"uuid": uuid, "motivo": "02"})
    assert answer["status"] == "cancelado"
    after = erp.get(f"/v1/cfdi/{uuid}/pdf")
    assert after.headers["x-timbra-cancelled"] == "true"
    assert "CFDI CANCELADO ANTE EL SAT" in flat(after.content)
    assert len(sat.pac.printing.cache) == 2  # the vigente one is not served again
