"""The CSD vault over REST (in process, SQLite and PostgreSQL): an ERP uploads its CSD as .cer/.key or .pfx
in JSON, lists, activates and removes it; refusals answer their codes; another account sees nothing.

The sandbox CSDs of the demo account (EKU9003173C9, HAÑ930228SM9, ...) come from the session's data
directory, as `Pac` generated them with its sandbox CA (which the PAC trusts).
"""
from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from tests.api.test_e2e import assert_error, sandbox_csd
from tests.api.test_rest import PASSWORD as USER_PASSWORD
from tests.api.test_rest import Api, created, ok, running
from timbra.cfdi.credentials import Credential
from timbra.clock import SYSTEM
from timbra.gateway.sandbox_ca import SandboxCA, create_sandbox_keys
from timbra.settings import Settings

KEY_PASSWORD = "12345678a"  # the sandbox files' password
PFX_PASSWORD = "Clave-del-PFX-Ñandú-77"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("timbra-csd")
    s = Settings(data_dir=folder)
    create_sandbox_keys(s.keys_dir, pac_rfc=s.pac_rfc, password=s.pac_key_password)
    return folder


@pytest.fixture(scope="module")
def files(data_dir: Path) -> dict[str, dict[str, bytes]]:
    """RFC -> {"cer", "key"} bytes of the sandbox CSD files."""
    keys = data_dir / "keys"
    manifest = json.loads((keys / "sandbox.json").read_text(encoding="utf-8"))
    return {c["rfc"]: {"cer": (keys / c["cer"]).read_bytes(), "key": (keys / c["key"]).read_bytes()}
            for c in manifest["csd"]}


@pytest.fixture(scope="module")
def ca(data_dir: Path) -> SandboxCA:
    return SandboxCA.load(data_dir / "keys")


@pytest.fixture
def api(data_dir: Path, db_url: str) -> Iterator[Api]:
    with running(data_dir, db_url, sandbox_csd(data_dir), SYSTEM) as a:
        yield a


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def cer_key(pair: dict[str, bytes], password: str = KEY_PASSWORD) -> dict[str, str]:
    return {"cer": b64(pair["cer"]), "key": b64(pair["key"]), "password": password}


def pfx_of(pair: dict[str, bytes]) -> dict[str, str]:
    cred = Credential.load(pair["cer"], pair["key"], KEY_PASSWORD)
    pfx = pkcs12.serialize_key_and_certificates(b"csd", cred.key.key, cred.certificate.x509, None,
                                                serialization.BestAvailableEncryption(PFX_PASSWORD.encode()))
    return {"pfx": b64(pfx), "password": PFX_PASSWORD}


def test_an_erp_uploads_lists_activates_and_removes_its_csd(api: Api, files, ca: SandboxCA):
    erp = api.erp()
    eku = created(erp.post("/v1/csd", json=cer_key(files["EKU9003173C9"])))
    assert (eku["rfc"], eku["active"], eku["expired"], eku["account_id"]) == ("EKU9003173C9", True, False,
                                                                              api.demo.account_id)
    assert not {"key", "password", "cer", "pfx"} & set(eku)
    hn = created(erp.post("/v1/csd", json=pfx_of(files["HAÑ930228SM9"])))
    assert (hn["rfc"], hn["name"], hn["active"]) == ("HAÑ930228SM9", "HERMANOS ANZURES ÑARVAEZ", True)

    # a renewal of EKU9003173C9 becomes the active one; the first stays, inactive
    renewal = ca.issue("EKU9003173C9", "ESCUELA KEMPER URGATE",
                       not_before=datetime.now(timezone.utc) - timedelta(hours=1))
    new = created(erp.post("/v1/csd", json={"cer": b64(renewal.certificate.der),
                                            "key": b64(renewal.key.to_der("otra clave 123")),
                                            "password": "otra clave 123"}))
    listed = {i["id"]: i["active"] for i in ok(erp.get("/v1/csd"))["items"]}
    assert listed == {eku["id"]: False, hn["id"]: True, new["id"]: True}
    signer = api.pac.vault.credential(api.demo.account_id, "EKU9003173C9")
    assert signer.certificate.der == renewal.certificate.der
    assert renewal.certificate.verify(signer.sign(b"cadena"), b"cadena")

    back = ok(erp.post(f"/v1/csd/{eku['id']}/activate"))
    assert back["id"] == eku["id"] and back["active"]
    assert erp.delete(f"/v1/csd/{new['id']}").status_code == 204
    assert {i["id"]: i["active"] for i in ok(erp.get("/v1/csd"))["items"]} == {eku["id"]: True, hn["id"]: True}
    assert api.pac.vault.credential(api.demo.account_id, "EKU9003173C9").certificate.der == \
        files["EKU9003173C9"]["cer"]
    assert_error(erp.delete(f"/v1/csd/{new['id']}"), 404, "T103")


def test_refusals(api: Api, files, ca: SandboxCA):
    erp = api.erp()
    eku = files["EKU9003173C9"]
    wrong = erp.post("/v1/csd", json=cer_key(eku, "no es la clave"))
    assert_error(wrong, 422, "T125")
    assert "no es la clave" not in wrong.text
    fiel = ca.issue("EKU9003173C9", "ESCUELA KEMPER URGATE", fiel=True)
    assert_error(erp.post("/v1/csd", json={"cer": b64(fiel.certificate.der), "key": b64(fiel.key.to_der("x" * 10)),
                                           "password": "x" * 10}), 422, "T121")
    assert_error(erp.post("/v1/csd", json={**cer_key(eku), "key": cer_key(files["XIA190128J61"])["key"]}),
                 422, "T124")
    stranger = ca.issue("URE180429TM6", "UNIVERSIDAD ROBOTICA ESPAÑOLA")  # an RFC the account lacks
    assert_error(erp.post("/v1/csd", json={"cer": b64(stranger.certificate.der),
                                           "key": b64(stranger.key.to_der("x" * 10)), "password": "x" * 10}),
                 422, "T122")
    for bad in ({"cer": "***", "key": b64(eku["key"]), "password": KEY_PASSWORD},  # not base64
                {"cer": b64(eku["cer"]), "password": KEY_PASSWORD},             # no key
                {**cer_key(eku), **pfx_of(eku)},                                 # both forms
                {"cer": b64(eku["cer"]), "key": b64(eku["key"])}):               # no password
        assert_error(erp.post("/v1/csd", json=bad), 400, "T100")
    assert ok(erp.get("/v1/csd"))["items"] == []


def test_another_account_cannot_see_or_touch_it(api: Api, files):
    erp = api.erp()
    mine = created(erp.post("/v1/csd", json=cer_key(files["EKU9003173C9"])))
    created(api.admin().post("/v1/accounts", json={"kind": "emisor", "name": "Otra", "rfcs": ["EKU9003173C9"],
                                                   "shared": True,
                                                   "username": "otra@example.mx", "password": USER_PASSWORD}))
    other = api.basic("otra@example.mx", USER_PASSWORD)
    assert ok(other.get("/v1/csd"))["items"] == []
    assert_error(other.get("/v1/csd", params={"account_id": api.demo.account_id}), 404, "T103")
    assert_error(other.post(f"/v1/csd/{mine['id']}/activate"), 404, "T103")
    assert_error(other.delete(f"/v1/csd/{mine['id']}"), 404, "T103")
    # the PAC admin may look (certificates only) on the emisor's behalf
    assert [i["id"] for i in ok(api.admin().get("/v1/csd", params={"account_id": api.demo.account_id}))["items"]] \
        == [mine["id"]]
    assert [i["active"] for i in ok(erp.get("/v1/csd"))["items"]] == [True]
