"""timbra/api/examples (docs/examples links there): one JSON per issue endpoint (POST /v1/issue,
/v1/issue/pagos, /v1/issue/nomina), with the sandbox's demo RFC EKU9003173C9. Each is accepted by its
endpoint's body model as written and builds into a CFDI that timbra's whole validator passes with no finding
at all."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import NOW
from timbra.api.rest import IssueBody, IssueNominaBody, IssuePagosBody
from timbra.build.common import Emisor
from timbra.build.invoice import build
from timbra.build.nomina import build_nomina
from timbra.build.pagos import build_pagos
from timbra.cfdi.seal import sign_root
from timbra.gateway.sandbox_ca import DEMO_EMISORES

EXAMPLES = Path(__file__).resolve().parents[2] / "timbra" / "api" / "examples"  # docs/examples links here


def load(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name,model,builder,tipo", [
    ("issue-factura.json", IssueBody, build, "I"),
    ("issue-pagos.json", IssuePagosBody, build_pagos, "P"),
    ("issue-nomina.json", IssueNominaBody, build_nomina, "N"),
])
def test_example_builds_with_no_finding(name, model, builder, tipo, csd, certifier):
    data = load(name)
    rfc = data["Emisor"]["Rfc"]
    nombre = {r: n for r, n, _ in DEMO_EMISORES}[rfc]  # a demo emisor of `timbra keys sandbox` / `timbra demo`
    assert rfc == csd.certificate.rfc
    body = model.model_validate(data)
    root = builder(body, emisor=Emisor(rfc, nombre, data["Emisor"]["RegimenFiscal"]), fecha=NOW)
    sign_root(root, csd)
    got = certifier.validate(etree.tostring(root, xml_declaration=True, encoding="UTF-8")).findings
    assert got == [], [str(f) for f in got]
    assert root.get("TipoDeComprobante") == tipo


def test_the_pagos_example_pays_half_of_the_factura_example(csd):
    """issue-pagos.json pays half of issue-factura.json (Total 2668.00): replace IdDocumento with the
    factura's UUID and timbra takes the bases from it."""
    factura = build(IssueBody.model_validate(load("issue-factura.json")), emisor=Emisor("EKU9003173C9", "X", "601"),
                    fecha=NOW)
    docto = load("issue-pagos.json")["Pagos"][0]["DoctoRelacionado"][0]
    assert (factura.get("Total"), docto["ImpSaldoAnt"]) == ("2668.00", "2668.00")
