"""Secrets never reach a log line or an error body (issue #16): every log record of the process (caplog, and
the server's own JSON lines as `timbra serve` writes them with TIMBRA_LOG_FORMAT=json, at DEBUG) is captured
while logins with wrong and right passwords, API keys, CSD uploads (cer + key + password, and a .pfx),
cancellations carrying the CSD, wrong CSD passwords and a Finkok registration with its CSD happen over REST,
SOAP and the portal; none of the secret values (passwords, API keys, the key's DER/PEM/base64, the master
key) appears in any line, and none appears in an error answer."""
from __future__ import annotations

import base64
import logging
import logging.config

import pytest
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

from tests.api.soap_clients import zeep_client
from tests.api.test_cancel import issue, sandbox_credential, sat
from tests.api.test_rest import PASSWORD, Api, data_dir, emisor_csd  # noqa: F401 - fixtures
from tests.api.test_soap_finkok import pem, uuids
from timbra.api.server import log_config
from timbra.gateway.sandbox_ca import SandboxCA
from timbra.pac.vault import MASTER_KEY_FILE

FIXTURES = (sat, data_dir, emisor_csd)

CSD_PASSWORD = "Clave-Del-CSD-8841"
PFX_PASSWORD = "Clave-Del-PFX-5520"
WRONG_PASSWORD = "Intento-Equivocado-3317"
WRONG_KEY = "tbk_0badc0ffee00_" + "Q" * 43
NEW_PASSWORD = "Nueva-Clave-Larga-6604"


class Everything(logging.Handler):
    """Every record, as the JSON formatter of `timbra serve` writes it and with its traceback, if any."""

    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(formatter)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        self.lines.append(repr(record.__dict__))  # args, extra fields, exc_info: everything it carries


@pytest.fixture
def captured(caplog):
    names = ("", "timbra", "uvicorn", "uvicorn.error", "uvicorn.access", "sqlalchemy", "httpx", "zeep")
    saved = {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).level, logging.getLogger(n).propagate)
             for n in names}
    logging.config.dictConfig(log_config("debug", "json"))  # what `timbra serve` installs
    json_formatter = logging.getLogger("timbra").handlers[0].formatter
    handler = Everything(json_formatter)
    loggers = [logging.getLogger(n) for n in names]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    try:
        yield handler, caplog
    finally:
        for n, (handlers, level, propagate) in saved.items():
            lg = logging.getLogger(n)
            lg.handlers[:] = handlers
            lg.setLevel(level)
            lg.propagate = propagate


def test_no_secret_in_any_log_line_or_error_answer(sat: Api, captured):
    handler, caplog = captured
    answers: list[str] = []  # every error answer's body

    def keep(r):
        if r.status_code >= 400:
            answers.append(r.text)
        return r

    cred = sandbox_credential(sat, "EKU9003173C9")
    key_der = cred.key.to_der(CSD_PASSWORD)
    pfx = pkcs12.serialize_key_and_certificates(b"csd", cred.key.key, cred.certificate.x509, None,
                                                BestAvailableEncryption(PFX_PASSWORD.encode()))
    csd_body = {"cer": base64.b64encode(cred.certificate.der).decode(), "key": base64.b64encode(key_der).decode(),
                "password": CSD_PASSWORD}
    erp = sat.erp()
    # logins: wrong and right passwords (HTTP Basic, SOAP, the portal), wrong and right API keys
    keep(sat.basic(sat.demo.username, WRONG_PASSWORD).get("/v1/me"))
    keep(sat.basic(sat.demo.username, sat.demo.password).get("/v1/me"))
    keep(sat.key(WRONG_KEY).get("/v1/me"))
    keep(erp.get("/v1/me"))
    new_key = erp.post("/v1/apikeys", json={"name": "otra"}).json()["key"]  # shown once, in its own answer
    keep(sat.key(new_key).get("/v1/credits"))
    fel = zeep_client(sat.client(), "/WSTimbrado33/WSCFDI33.svc").service
    fel.ConsultarCreditos(usuario=sat.demo.username, password=WRONG_PASSWORD)
    fel.ConsultarCreditos(usuario=sat.demo.username, password=sat.demo.password)
    fel.ConsultarCreditos(usuario="", password=WRONG_KEY)
    portal = sat.client()
    from tests.web.site import csrf_of

    token = csrf_of(portal.get("/login").text)
    keep(portal.post("/login", data={"csrf": token, "username": sat.demo.username, "password": WRONG_PASSWORD}))
    keep(portal.post("/login", data={"csrf": csrf_of(portal.get("/login").text), "username": sat.demo.username,
                                     "password": sat.demo.password}, follow_redirects=False))
    # the vault: a CSD with its password, a wrong password, a .pfx, a key that is not one
    keep(erp.post("/v1/csd", json=csd_body))
    keep(erp.post("/v1/csd", json={**csd_body, "password": WRONG_PASSWORD}))
    keep(erp.post("/v1/csd", json={"pfx": base64.b64encode(pfx).decode(), "password": PFX_PASSWORD}))
    keep(erp.post("/v1/csd", json={"pfx": base64.b64encode(pfx).decode(), "password": WRONG_PASSWORD}))
    keep(erp.post("/v1/csd", json={**csd_body, "key": base64.b64encode(b"no es una llave").decode()}))
    keep(erp.post("/v1/csd", json={**csd_body, "password": 12345}))  # a validation error on the field
    # cancellations carrying the CSD (cer/key/password and pfx), right and wrong
    uuid = issue(sat, erp, "SEC-1")
    keep(erp.post("/v1/cancel", json={"uuids": [uuid], "motivo": "02", "csd": csd_body}))
    other = issue(sat, erp, "SEC-2")
    keep(erp.post("/v1/cancel", json={"uuids": [other], "motivo": "02",
                                      "csd": {**csd_body, "password": WRONG_PASSWORD}}))
    keep(erp.post("/v1/cancel", json={"uuids": [other], "motivo": "02",
                                      "csd": {"pfx": base64.b64encode(pfx).decode(), "password": PFX_PASSWORD}}))
    fk_cancel = zeep_client(sat.client(), "/servicios/soap/cancel.wsdl").service
    cer_pem, key_pem = pem(sat, "EKU9003173C9")  # Finkok's: PEM files, the key without a password
    fk_cancel.cancel(UUIDS=uuids((other, "02")), username=sat.demo.username, password=sat.demo.password,
                     taxpayer_id="EKU9003173C9", cer=cer_pem, key=key_pem, store_pending=False)
    fk_cancel.cancel(UUIDS=uuids((other, "02")), username=sat.demo.username, password=sat.demo.password,
                     taxpayer_id="EKU9003173C9", cer=cer_pem, key=key_pem[:200] + key_pem[260:], store_pending=False)
    # a password change (current wrong, then right) and a registration with its CSD
    keep(sat.basic(sat.demo.username, sat.demo.password).post(
        "/v1/password", json={"current": WRONG_PASSWORD, "new": NEW_PASSWORD}))
    admin = sat.admin()
    keep(admin.post("/v1/accounts", json={"kind": "distributor", "name": "Reseller", "username": "reseller",
                                          "password": PASSWORD}))
    reg = zeep_client(sat.client(), "/servicios/soap/registration.wsdl").service
    reg_cred = SandboxCA.load(sat.pac.settings.keys_dir).issue("IIA040805DZ4", "INDISTRIA ILUMINADORA DE ALMACENES")
    reg_key = reg_cred.key.to_der(CSD_PASSWORD)
    added = reg.add(taxpayer_id="IIA040805DZ4", type_user="P", cer=reg_cred.certificate.der, key=reg_key,
                    passphrase=CSD_PASSWORD, reseller_username="reseller", reseller_password=PASSWORD)
    generated = added.message.split("contraseña ")[1].split(" ")[0]
    reg.add(taxpayer_id="XIA190128J61", type_user="P", cer=reg_cred.certificate.der, key=reg_key,
            passphrase=WRONG_PASSWORD, reseller_username="reseller", reseller_password=WRONG_PASSWORD)

    master = (sat.pac.settings.data_dir / MASTER_KEY_FILE).read_text().strip()
    secrets = {
        "demo password": sat.demo.password, "admin password": sat.demo.admin_password, "password": PASSWORD,
        "wrong password": WRONG_PASSWORD, "new password": NEW_PASSWORD, "csd password": CSD_PASSWORD,
        "pfx password": PFX_PASSWORD, "generated password": generated,
        "demo api key": sat.demo.api_key, "new api key": new_key, "wrong api key": WRONG_KEY,
        "api key secret part": sat.demo.api_key.split("_", 2)[2],
        "key base64": csd_body["key"], "key base64 start": csd_body["key"][40:100],
        "key der (escaped)": repr(key_der[20:60])[2:-1], "key hex": key_der[20:60].hex(),
        "pfx base64": base64.b64encode(pfx).decode()[40:100],
        "pem": key_pem.decode().splitlines()[2], "pem base64": base64.b64encode(key_pem).decode()[40:100],
        "registration key": base64.b64encode(reg_key).decode()[40:100],
        "master key": master.split(":", 1)[-1].split(",")[0],
    }
    lines = handler.lines + [r.getMessage() for r in caplog.records] + [caplog.text]
    assert len(handler.lines) > 20  # the capture works (access lines, the vault's "CSD ... stored")
    assert any("timbra.access" in line for line in handler.lines)
    for name, value in secrets.items():
        assert value and len(value) >= 8, name
        for line in lines:
            assert value not in line, (name, line[:500])
        for body in answers:
            assert value not in body, (name, body[:500])
    assert len(answers) >= 8

