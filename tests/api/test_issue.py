"""POST /v1/issue and the CLI's `timbra issue`: data in, a CFDI sealed with the uploaded CSD, stamped, stored.
On SQLite and PostgreSQL, through the REST API in process and through the CLI."""
from __future__ import annotations

import base64
import json
from decimal import Decimal

from click.testing import CliRunner
from lxml import etree

from tests.api.test_e2e import assert_error
from tests.api.test_rest import api, data_dir, emisor_csd  # noqa: F401 - fixtures
from tests.build.test_invoice import IVA16, concepto, data
from tests.pac.test_issuing import independent_check
from timbra.cli import main

PASSWORD = "12345678a"


def body(**kw) -> dict:
    d = data(concepto("1500", Impuestos=IVA16), concepto("99.90", "2", Descuento="9.80", Impuestos=IVA16), **kw)
    d["Emisor"] = {"Rfc": "EKU9003173C9", "RegimenFiscal": "601"}
    return d


def upload_csd(erp, csd) -> None:
    r = erp.post("/v1/csd", json={"cer": base64.b64encode(csd.certificate.der).decode(),
                                  "key": base64.b64encode(csd.key.to_der(PASSWORD)).decode(),
                                  "password": PASSWORD})
    assert r.status_code == 201, r.text


def test_issue_over_rest(api):  # noqa: F811
    erp = api.erp()
    assert_error(erp.post("/v1/issue", json=body()), 409, "T127")  # no CSD in the vault yet
    upload_csd(erp, api.csd)
    r = erp.post("/v1/issue", json={**body(), "referencia": "OC-1"})
    assert r.status_code == 201, r.text
    first = r.json()
    xml = base64.b64decode(first["xml"])
    root = etree.fromstring(xml)
    assert (root.get("SubTotal"), root.get("Descuento"), root.get("Total")) == ("1699.80", "9.80", "1960.40")
    independent_check(xml)
    assert first["credits_left"] == 99
    again = erp.post("/v1/issue", json={**body(Folio="distinto"), "referencia": "OC-1"})
    assert again.status_code == 200 and again.json()["uuid"] == first["uuid"] and again.json()["replayed"]
    fetched = erp.get("/v1/issue/OC-1")
    assert fetched.status_code == 200 and fetched.json()["uuid"] == first["uuid"]
    assert erp.get(f"/v1/cfdi/{first['uuid']}/xml").content == xml
    assert_error(erp.get("/v1/issue/OC-404"), 404, "T103")


def test_issue_errors_name_the_json_field(api):  # noqa: F811
    erp = api.erp()
    upload_csd(erp, api.csd)
    wrong_type = body()
    wrong_type["Conceptos"][1]["Cantidad"] = "dos"
    got = assert_error(erp.post("/v1/issue", json=wrong_type), 422, "T130")
    assert got["findings"][0]["node"] == "Conceptos[1].Cantidad"
    wrong_rate = body()
    wrong_rate["Conceptos"][0]["Impuestos"] = {"Traslados": [{"Impuesto": "002", "TipoFactor": "Tasa",
                                                              "TasaOCuota": "0.15"}]}
    got = erp.post("/v1/issue", json=wrong_rate).json()
    assert "Conceptos[0].Impuestos.Traslados[0].TasaOCuota" in {f["node"] for f in got["findings"]}
    too_much = body()
    too_much["Conceptos"][0]["Descuento"] = "2000"
    got = assert_error(erp.post("/v1/issue", json=too_much), 422, "T131")
    assert got["findings"][0]["node"] == "Conceptos[0].Descuento"
    assert erp.get("/v1/credits").json()["available"] == 100  # nothing sealed, nothing spent
    spec = erp.get("/openapi.json").json()
    schema = spec["paths"]["/v1/issue"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("IssueBody") and "Conceptos" in spec["components"]["schemas"]["IssueBody"]["properties"]


def test_timbra_issue_cli(api, tmp_path, monkeypatch):  # noqa: F811
    upload_csd(api.erp(), api.csd)
    monkeypatch.setenv("TIMBRA_DATA_DIR", str(api.pac.settings.data_dir))
    monkeypatch.setenv("TIMBRA_DATABASE_URL", api.pac.settings.database_url)
    f = tmp_path / "factura.json"
    f.write_text(json.dumps(body()), encoding="utf-8")
    out = tmp_path / "timbrada.xml"
    r = CliRunner().invoke(main, ["issue", str(f), "--account", str(api.demo.account_id), "--referencia", "cli-1",
                                  "-o", str(out), "--json"])
    assert r.exit_code == 0, r.output
    uuid = json.loads(r.output)["uuid"]
    assert uuid.encode() in out.read_bytes()
    independent_check(out.read_bytes())
    r = CliRunner().invoke(main, ["issue", str(f), "--account", str(api.demo.account_id), "--referencia", "cli-1",
                                  "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["uuid"] == uuid and json.loads(r.output)["replayed"]
    bad = tmp_path / "mal.json"
    bad.write_text("{no es json", encoding="utf-8")
    assert CliRunner().invoke(main, ["issue", str(bad), "--account", str(api.demo.account_id)]).exit_code == 2


def test_issue_pagos_over_rest(api):  # noqa: F811
    from tests.build.test_pagos import data as pagos_data
    from tests.build.test_pagos import docto, iva, pago

    erp = api.erp()
    upload_csd(erp, api.csd)
    invoice = erp.post("/v1/issue", json=body()).json()  # the invoice being paid (PPD in real life)
    d = pagos_data(pago(docto("1960.40", uuid=invoice["uuid"], traslados=[iva()])),
                   Emisor={"Rfc": "EKU9003173C9", "RegimenFiscal": "601"}, referencia="pago-1")
    r = erp.post("/v1/issue/pagos", json=d)
    assert r.status_code == 201, r.text
    xml = base64.b64decode(r.json()["xml"])
    root = etree.fromstring(xml)
    assert root.get("TipoDeComprobante") == "P"
    tr = root.find(".//{http://www.sat.gob.mx/Pagos20}TrasladoDR")
    assert (tr.get("BaseDR"), tr.get("ImporteDR")) == ("1690.00", "270.40")  # the invoice's Base and IVA
    independent_check(xml)
    again = erp.post("/v1/issue/pagos", json=d)
    assert again.status_code == 200 and again.json()["uuid"] == r.json()["uuid"]
    bad = pagos_data(pago(docto("100.00", saldo="50.00", uuid=invoice["uuid"])),
                     Emisor={"Rfc": "EKU9003173C9", "RegimenFiscal": "601"})
    got = assert_error(erp.post("/v1/issue/pagos", json=bad), 422, "T131")
    assert got["findings"][0]["node"].startswith("Pagos[0].DoctoRelacionado[0]")
    wrong = pagos_data(pago(docto("abc", saldo="100.00", uuid=invoice["uuid"])), Emisor={"RegimenFiscal": "601"})
    got = assert_error(erp.post("/v1/issue/pagos", json=wrong), 422, "T130")
    assert [f["node"] for f in got["findings"]] == ["Pagos[0].DoctoRelacionado[0].ImpPagado"]


def test_issue_pagos_apportions_from_the_stored_invoice(api):  # noqa: F811
    """A payment of an invoice with IVA 16 %, 0 % and Exento lines, sent without Base: timbra has the invoice
    (stamped in this account) and apportions each line from its own bases; a document it does not have is
    refused with T131 instead of getting one BaseDR for every line."""
    from tests.build.test_pagos import data as pagos_data
    from tests.build.test_pagos import docto, iva, pago

    erp = api.erp()
    upload_csd(erp, api.csd)
    exento = {"Traslados": [{"Impuesto": "002", "TipoFactor": "Exento"}]}
    cero = {"Traslados": [{"Impuesto": "002", "TipoFactor": "Tasa", "TasaOCuota": "0"}]}
    factura = data(concepto("1000", Impuestos=IVA16), concepto("500", Impuestos=cero),
                   concepto("300", Impuestos=exento), MetodoPago="PPD", FormaPago="99")
    factura["Emisor"] = {"Rfc": "EKU9003173C9", "RegimenFiscal": "601"}
    r = erp.post("/v1/issue", json=factura)
    assert r.status_code == 201, r.text
    invoice = etree.fromstring(base64.b64decode(r.json()["xml"]))
    assert invoice.get("Total") == "1960.00"
    lines = [iva(), iva("0"), iva(None, "Exento")]
    emisor = {"Rfc": "EKU9003173C9", "RegimenFiscal": "601"}
    d = pagos_data(pago(docto("980.00", saldo="1960.00", uuid=r.json()["uuid"].lower(), traslados=lines)),
                   Emisor=emisor)
    p = erp.post("/v1/issue/pagos", json=d)
    assert p.status_code == 201, p.text
    root = etree.fromstring(base64.b64decode(p.json()["xml"]))
    got = [(t.get("BaseDR"), t.get("ImporteDR")) for t in root.iter("{http://www.sat.gob.mx/Pagos20}TrasladoDR")]
    assert got == [("500.00", "80.00"), ("250.00", "0.00"), ("150.00", None)]
    iva_factura = Decimal(invoice.find("{*}Impuestos").get("TotalImpuestosTrasladados"))
    assert sum(Decimal(i) for _, i in got if i) <= iva_factura
    unknown = pagos_data(pago(docto("1160.00", uuid="5FB2822E-396D-4725-8521-CDC4BDD20CCF", traslados=lines)),
                         Emisor=emisor)
    got = assert_error(erp.post("/v1/issue/pagos", json=unknown), 422, "T131")
    f = got["findings"][0]
    assert f["node"] == "Pagos[0].DoctoRelacionado[0].ImpuestosDR.TrasladosDR[1].Base"
    assert "Base" in f["message"] and "Base" in f["message_en"]


def test_issue_nomina_over_rest(api):  # noqa: F811
    from tests.build.test_nomina import data as nomina_data

    erp = api.erp()
    upload_csd(erp, api.csd)
    d = {**nomina_data(), "Emisor": {"Rfc": "EKU9003173C9", "RegimenFiscal": "601"}, "referencia": "nom-2026-22"}
    r = erp.post("/v1/issue/nomina", json=d)
    assert r.status_code == 201, r.text
    xml = base64.b64decode(r.json()["xml"])
    root = etree.fromstring(xml)
    nomina = root.find(".//{http://www.sat.gob.mx/nomina12}Nomina")
    assert root.get("TipoDeComprobante") == "N" and nomina.get("TotalPercepciones") == root.get("SubTotal")
    independent_check(xml)
    assert erp.post("/v1/issue/nomina", json=d).json()["uuid"] == r.json()["uuid"]
    extra = {**d, "referencia": None, "Nomina": {**d["Nomina"], "TotalPercepciones": "1.00"}}
    got = assert_error(erp.post("/v1/issue/nomina", json=extra), 422, "T130")
    assert got["findings"][0]["node"] == "Nomina.TotalPercepciones"  # computed by timbra, refused if sent


def test_docs_examples_over_rest(api):  # noqa: F811
    """The three JSON examples of timbra/api/examples (docs/examples), posted as they are (the pago with the factura's UUID)."""
    from tests.build.test_examples import load

    erp = api.erp()
    upload_csd(erp, api.csd)
    factura = erp.post("/v1/issue", json=load("issue-factura.json"))
    assert factura.status_code == 201, factura.text
    pagos = load("issue-pagos.json")
    pagos["Pagos"][0]["DoctoRelacionado"][0]["IdDocumento"] = factura.json()["uuid"]
    r = erp.post("/v1/issue/pagos", json=pagos)
    assert r.status_code == 201, r.text
    tr = etree.fromstring(base64.b64decode(r.json()["xml"])).find(".//{http://www.sat.gob.mx/Pagos20}TrasladoDR")
    assert (tr.get("BaseDR"), tr.get("ImporteDR")) == ("1150.00", "184.00")  # half of 2300.00 and of 368.00
    r = erp.post("/v1/issue/nomina", json=load("issue-nomina.json"))
    assert r.status_code == 201, r.text
