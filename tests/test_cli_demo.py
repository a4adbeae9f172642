"""The README's path on a fresh data directory (issue #9): the first `timbra serve` start makes the demo account
with the sandbox CSDs already in the vault, so `timbra issue factura.json --account N` works as written, and
`csd list` takes the account as `csd upload` does (--account). On SQLite and PostgreSQL."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from lxml import etree

from timbra.api.server import prepare
from timbra.cli import main
from timbra.settings import Settings

FACTURA = {
    "Serie": "F", "Folio": "1", "FormaPago": "03", "MetodoPago": "PUE", "LugarExpedicion": "06000",
    "Emisor": {"Rfc": "EKU9003173C9", "RegimenFiscal": "601"},
    "Receptor": {"Rfc": "URE180429TM6", "Nombre": "UNIVERSIDAD ROBOTICA ESPAÑOLA",
                 "DomicilioFiscalReceptor": "86991", "RegimenFiscalReceptor": "601", "UsoCFDI": "G03"},
    "Conceptos": [{"ClaveProdServ": "43232408", "Cantidad": "1", "ClaveUnidad": "E48", "Descripcion": "Licencia",
                   "ValorUnitario": "1500.00",
                   "Impuestos": {"Traslados": [{"Impuesto": "002", "TipoFactor": "Tasa", "TasaOCuota": "0.16"}]}}],
}


def test_the_demo_account_issues_from_data_with_the_cli(db_url: str, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TIMBRA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TIMBRA_DATABASE_URL", db_url)
    monkeypatch.delenv("TIMBRA_MASTER_KEY", raising=False)
    demo = prepare(Settings.from_env())  # what `timbra serve` does before it listens
    assert demo is not None and len(demo.csds) == len(demo.rfcs)
    runner = CliRunner()

    listed = runner.invoke(main, ["csd", "list", "--account", str(demo.account_id), "--json"])
    assert listed.exit_code == 0, listed.output
    vault = json.loads(listed.stdout)["csd"]
    assert {c["rfc"] for c in vault if c["active"]} == set(demo.rfcs)

    factura = tmp_path / "factura.json"
    factura.write_text(json.dumps(FACTURA, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "timbrada.xml"
    r = runner.invoke(main, ["issue", str(factura), "--account", str(demo.account_id), "--referencia", "OC-77",
                             "-o", str(out), "--json"])
    assert r.exit_code == 0, r.output
    issued = json.loads(r.stdout)
    root = etree.fromstring(out.read_bytes())
    assert root.get("Total") == "1740.00" and issued["uuid"] in out.read_text(encoding="utf-8")
    assert issued["credits_left"] == demo.credits - 1

    # `csd list` takes the account the same way as `csd upload`: --account, for both
    assert runner.invoke(main, ["csd", "list", str(demo.account_id)]).exit_code == 2
