"""satcfdi's own Finkok client (satcfdi.pacs.finkok, pinned in the dev extra), pointed at a running
`timbra serve`: the documents and cancellation requests are built and signed by satcfdi, sent by its SOAP
code and read back by its parsing, exactly as an ERP that uses it would."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from satcfdi.cfdi import CFDI
from satcfdi.create.cancela import cancelacion
from satcfdi.create.cfd import cfdi40
from satcfdi.exceptions import ResponseError
from satcfdi.models.signer import Signer
from satcfdi.pacs import Environment
from satcfdi.pacs.finkok import DocumentStatus, Finkok

from tests.api.test_rest import data_dir  # noqa: F401 - fixture
from timbra.cfdi.tfd import MEXICO_CITY


@dataclass
class Served:
    base: str
    username: str
    password: str
    api_key: str
    keys: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:  # noqa: F811
    """`timbra serve` on a loopback port with a fresh SQLite data directory (the session's sandbox keys copied
    in: making them is slow); the demo account it prints on its first start."""
    home = tmp_path_factory.mktemp("served")
    shutil.copytree(data_dir / "keys", home / "keys")
    port = _free_port()
    env = {**os.environ, "TIMBRA_DATA_DIR": str(home), "TIMBRA_PORT": str(port), "TIMBRA_HOST": "127.0.0.1"}
    env.pop("TIMBRA_DATABASE_URL", None)
    log = (home / "serve.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "timbra.cli", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, (home / "serve.log").read_text()
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "timbra serve did not start"
                time.sleep(0.2)
        printed = (home / "serve.log").read_text()
        field = {line.split()[0]: line.split()[-1] for line in printed.splitlines() if line.startswith("  ")}
        yield Served(base, field["usuario"], field["contraseña"], field["API"], home / "keys")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def local_finkok(served: Served) -> Finkok:
    class LocalFinkok(Finkok):
        @property
        def host(self) -> str:  # satcfdi's one place for the host: timbra instead of Finkok's
            return served.base

    return LocalFinkok(served.username, served.password, Environment.TEST)


def signer(keys: Path, rfc: str) -> Signer:
    c = next(c for c in json.loads((keys / "sandbox.json").read_text())["csd"] if c["rfc"] == rfc)
    return Signer.load(certificate=(keys / c["cer"]).read_bytes(), key=(keys / c["key"]).read_bytes(),
                       password=c["password"])


def invoice(s: Signer, folio: str) -> cfdi40.Comprobante:
    """A CFDI 4.0 built by satcfdi (its own computation of taxes and totals), dated now in Mexico City."""
    return cfdi40.Comprobante(
        emisor=cfdi40.Emisor(rfc=s.rfc, nombre=s.legal_name, regimen_fiscal="601"),
        lugar_expedicion="06000", serie="S", folio=folio, forma_pago="03", metodo_pago="PUE",
        fecha=(datetime.now(MEXICO_CITY) - timedelta(minutes=1)).replace(tzinfo=None, microsecond=0),
        receptor=cfdi40.Receptor(rfc="URE180429TM6", nombre="UNIVERSIDAD ROBOTICA ESPAÑOLA",
                                 domicilio_fiscal_receptor="86991", regimen_fiscal_receptor="601", uso_cfdi="G03"),
        conceptos=[cfdi40.Concepto(clave_prod_serv="84111506", cantidad=Decimal("2"), clave_unidad="E48",
                                   descripcion="Servicio de facturación", valor_unitario=Decimal("150.00"),
                                   impuestos=cfdi40.Impuestos(traslados=cfdi40.Traslado(
                                       impuesto="002", tipo_factor="Tasa", tasa_o_cuota=Decimal("0.160000"))))])


def test_satcfdi_finkok_client_stamps_recovers_queries_and_cancels(served: Served):
    fk = local_finkok(served)
    s = signer(served.keys, "EKU9003173C9")
    cfdi = invoice(s, "SAT-1")
    cfdi.sign(s)
    doc = fk.stamp(cfdi)
    stamped = CFDI.from_string(doc.xml)
    tfd = stamped["Complemento"]["TimbreFiscalDigital"]
    assert tfd["UUID"] == doc.document_id and tfd["SelloCFD"] == cfdi["Sello"]
    # the same CFDI again: Finkok's 307, which satcfdi reports as an error ...
    with pytest.raises(ResponseError, match="307"):
        fk.stamp(cfdi)
    # ... and recovers with `stamped`
    again = fk.stamped(cfdi)
    assert again.document_id == doc.document_id and again.xml == doc.xml
    # the same document over REST is the same stamp
    r = requests.post(served.base + "/v1/stamp", data=cfdi.xml_bytes(xml_declaration=True),
                      headers={"X-API-Key": served.api_key, "Content-Type": "application/xml"}, timeout=30)
    assert r.status_code == 200 and r.json()["uuid"] == doc.document_id
    # query_pending: stamped (S) or already at SAT (F: the worker of `timbra serve` delivers it)
    pending = fk.pending_stamp(doc.document_id)
    assert pending.document_id == doc.document_id and pending.status in (DocumentStatus.STAMPED,
                                                                          DocumentStatus.FINISHED)
    assert CFDI.from_string(pending.xml)["Complemento"]["TimbreFiscalDigital"]["UUID"] == doc.document_id
    # sign_stamp (satcfdi's `issue`): an unsealed CFDI, sealed with the CSD `timbra serve` put in the vault
    unsealed = invoice(s, "SAT-2")
    issued = fk.issue(unsealed)
    sealed = CFDI.from_string(issued.xml)
    assert sealed["NoCertificado"] == s.certificate_number and issued.document_id != doc.document_id
    # a refusal: satcfdi raises with SAT's code
    broken = invoice(s, "SAT-3")
    broken.sign(s)
    broken["Folio"] = "SAT-4"  # after the seal
    with pytest.raises(ResponseError, match="CFDI40102"):
        fk.stamp(broken)
    # once SAT has it (the worker of `timbra serve` delivers it): F
    deadline = time.monotonic() + 30
    while fk.pending_stamp(doc.document_id).status != DocumentStatus.FINISHED:
        assert time.monotonic() < deadline, "not delivered to the sandbox SAT"
        time.sleep(0.2)
    # cancellation signed by satcfdi, sent with cancel_signature; SAT's acuse back; the receipt again
    ack = fk.cancel_comprobante(cancelacion.Cancelacion(s, cancelacion.Folio(doc.document_id, "02")))
    assert ack.code == "201" and b"Acuse" in ack.acuse
    receipt = fk.get_receipt("EKU9003173C9", doc.document_id, "C")
    assert receipt.acuse == ack.acuse
    assert fk.pending("EKU9003173C9") == []
    # bad credentials: satcfdi raises Finkok's error
    wrong = Finkok(served.username, "not the password", Environment.TEST)
    wrong.__class__ = type(fk)
    with pytest.raises(ResponseError, match="T101"):
        wrong.stamp(cfdi)
