"""The REST API in process (FastAPI's TestClient) on SQLite and on PostgreSQL: what test_e2e.py does not
drive. Accounts and packages (admin), clients, RFCs, users and credit transfers (distributor), credits per
package, API keys, the report's filters, pagination and CSV, validation without a stamp, and /v1/me.

Documents are sealed with the sandbox CSD that `Pac` generates in a data directory shared by the session
(generating keys is slow); each test gets an empty database and the demo accounts of `ensure_demo`.
"""
from __future__ import annotations

import base64
import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from lxml import etree

from tests.api.test_e2e import assert_error, sandbox_csd
from timbra.api.app import create_app
from timbra.cfdi.credentials import Credential
from timbra.cfdi.sample import sample_invoice
from timbra.cfdi.seal import sign_root
from timbra.clock import SYSTEM, Clock, FixedClock
from timbra.gateway.sandbox_ca import create_sandbox_keys
from timbra.pac.cfdis import CSV_COLUMNS
from timbra.pac.runtime import DEMO_CREDITS, DemoAccount, Pac
from timbra.settings import Settings

PASSWORD = "una clave bastante larga"
MEXICO_CITY = timezone(timedelta(hours=-6))  # a fixed offset is enough to write an aware non-UTC instant
# A second receptor (a sandbox emisor's RFC) so the report has two to tell apart.
OTHER_RECEPTOR = {"Rfc": "XIA190128J61", "Nombre": "XENON INDUSTRIAL ARTICLES", "DomicilioFiscalReceptor": "76343",
                  "RegimenFiscalReceptor": "601", "UsoCFDI": "G03"}
URE = "URE180429TM6"  # timbra.cfdi.sample's default receptor
XIA = OTHER_RECEPTOR["Rfc"]
IIA = "IIA040805DZ4"  # an RFC the demo account does not hold


# --- the application, one per test and database ---------------------------------------------------------

@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sandbox keys made once for the session; every test's Pac reads them (its database is its own)."""
    folder = tmp_path_factory.mktemp("timbra-rest")
    s = Settings(data_dir=folder)
    create_sandbox_keys(s.keys_dir, pac_rfc=s.pac_rfc, password=s.pac_key_password)
    return folder


@pytest.fixture(scope="session")
def emisor_csd(data_dir: Path) -> Credential:
    """The sandbox CSD of EKU9003173C9, one of the demo account's RFCs."""
    return sandbox_csd(data_dir)


@dataclass
class Api:
    app: FastAPI
    pac: Pac
    demo: DemoAccount
    csd: Credential
    clock: Clock
    _clients: list[TestClient] = field(default_factory=list)

    def client(self, *, auth: tuple[str, str] | None = None, headers: dict[str, str] | None = None) -> TestClient:
        c = TestClient(self.app, headers=headers)
        if auth is not None:
            c.auth = auth
        self._clients.append(c)
        return c

    def basic(self, username: str, password: str) -> TestClient:
        return self.client(auth=(username, password))

    def key(self, key: str) -> TestClient:
        return self.client(headers={"X-API-Key": key})

    def admin(self) -> TestClient:
        return self.basic(self.demo.admin_username, self.demo.admin_password)

    def erp(self) -> TestClient:
        """The demo emisor, with its API key."""
        return self.key(self.demo.api_key)

    def document(self, folio: str, *, receptor: dict[str, str] | None = None, tipo: str = "I") -> bytes:
        """A sealed CFDI 4.0 of EKU9003173C9 dated now (the Pac's clock)."""
        root = sample_invoice(self.csd, self.clock.now(), folio=folio, receptor=receptor)
        root.set("TipoDeComprobante", tipo)
        sign_root(root, self.csd)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    def close(self) -> None:
        for c in self._clients:
            c.close()


@contextmanager
def running(data_dir: Path, db_url: str, csd: Credential, clock: Clock) -> Iterator[Api]:
    pac = Pac(Settings(data_dir=data_dir, database_url_override=db_url), clock=clock, worker=False)
    demo = pac.ensure_demo()
    assert demo is not None
    app = create_app(pac)
    api = Api(app, pac, demo, csd, clock)
    try:
        with TestClient(app):  # runs the lifespan: pac.start() now, pac.stop() at the end
            yield api
    finally:
        api.close()


@pytest.fixture
def api(data_dir: Path, db_url: str, emisor_csd: Credential) -> Iterator[Api]:
    with running(data_dir, db_url, emisor_csd, SYSTEM) as a:
        yield a


@pytest.fixture
def timed_api(data_dir: Path, db_url: str, emisor_csd: Credential) -> Iterator[Api]:
    """The PAC on a clock the test moves, starting at the real time (CSD validity), whole seconds (as
    FechaTimbrado is written), so stamps fall at instants the report's filters can tell apart."""
    clock = FixedClock(datetime.now(timezone.utc).replace(microsecond=0))
    with running(data_dir, db_url, emisor_csd, clock) as a:
        yield a


# --- helpers --------------------------------------------------------------------------------------------

def created(r: httpx.Response) -> dict:
    assert r.status_code == 201, r.text
    return r.json()


def ok(r: httpx.Response) -> dict:
    assert r.status_code == 200, r.text
    return r.json()


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def stamp(client: TestClient, xml: bytes) -> dict:
    return created(client.post("/v1/stamp", content=xml, headers={"Content-Type": "application/xml"}))


@dataclass(frozen=True)
class Distributor:
    id: int
    client: TestClient


def new_distributor(api: Api, name: str, username: str) -> Distributor:
    body = created(api.admin().post("/v1/accounts", json={"kind": "distributor", "name": name,
                                                          "username": username, "password": PASSWORD}))
    return Distributor(body["id"], api.basic(username, PASSWORD))


def sell(api: Api, account_id: int, size: int, **dates: datetime) -> dict:
    body = {"size": size, **{k: v.isoformat() for k, v in dates.items()}}
    return created(api.admin().post(f"/v1/accounts/{account_id}/packages", json=body))


def new_client(api: Api, dist: Distributor, username: str) -> int:
    """A distributor's client for EKU9003173C9. The demo account holds that RFC too: only the admin can
    register it in a second account (`shared`)."""
    assert_error(dist.client.post("/v1/accounts", json={"kind": "emisor", "name": "Cliente Uno",
                                                        "rfcs": ["EKU9003173C9"]}), 409, "T140")
    body = created(dist.client.post("/v1/accounts", json={"kind": "emisor", "name": "Cliente Uno",
                                                          "username": username, "password": PASSWORD}))
    r = api.admin().post(f"/v1/accounts/{body['id']}/rfcs", json={"rfc": "EKU9003173C9", "shared": True})
    assert r.status_code == 204, r.text
    return body["id"]


def walk(client: TestClient, *, max_pages: int = 50, **params) -> list[str]:
    """Every UUID of a listing, following next_cursor until the last page (a cursor that does not move on
    fails after `max_pages` instead of looping)."""
    uuids: list[str] = []
    cursor = None
    for _ in range(max_pages):
        page = ok(client.get("/v1/cfdi", params={**params, **({"cursor": cursor} if cursor else {})}))
        assert len(page["items"]) <= params.get("limit", 100)
        uuids += [i["uuid"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return uuids
        assert page["items"], "a cursor after an empty page"
    raise AssertionError(f"still a next_cursor after {max_pages} pages: {uuids}")


def csv_rows(r: httpx.Response) -> list[dict[str, str]]:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(r.text)))
    assert tuple(lines[0]) == CSV_COLUMNS
    return [dict(zip(CSV_COLUMNS, line, strict=True)) for line in lines[1:]]


# --- the PAC admin --------------------------------------------------------------------------------------

def test_admin_creates_a_distributor_and_sells_it_packages(api: Api):
    admin = api.admin()
    body = created(admin.post("/v1/accounts", json={"kind": "distributor", "name": "  Distribuidora Norte ",
                                                    "username": "norte@example.mx", "password": PASSWORD}))
    did = body["id"]
    assert (body["kind"], body["name"], body["parent_id"], body["active"], body["rfcs"]) == \
        ("distributor", "Distribuidora Norte", None, True, [])
    assert body["user"]["username"] == "norte@example.mx" and "password" not in body["user"]
    read = ok(admin.get(f"/v1/accounts/{did}"))
    assert {k: read[k] for k in ("id", "kind", "name", "parent_id", "rfcs")} == \
        {k: body[k] for k in ("id", "kind", "name", "parent_id", "rfcs")}
    assert when(read["created_at"]) == when(body["created_at"])
    dist = api.basic("norte@example.mx", PASSWORD)

    # a user without a password gets a generated one, shown once, that works
    other = created(admin.post("/v1/accounts", json={"kind": "distributor", "name": "Sur", "username": "sur"}))
    generated = other["user"]["password"]
    assert len(generated) >= 10
    assert ok(api.basic("sur", generated).get("/v1/me"))["account_id"] == other["id"]

    # packages: dates with any offset, echoed as the same instants
    now = datetime.now(timezone.utc).replace(microsecond=0)
    year = sell(api, did, 1000, activation=(now - timedelta(hours=1)).astimezone(MEXICO_CITY),
                expiry=now + timedelta(days=365))
    assert (year["account_id"], year["size"]) == (did, 1000)
    assert when(year["activation"]) == now - timedelta(hours=1) and when(year["expiry"]) == now + timedelta(days=365)
    short = sell(api, did, 10, expiry=now + timedelta(days=10))
    assert short["expiry"] is not None and when(short["activation"]) <= datetime.now(timezone.utc)
    later = sell(api, did, 50_000, activation=now + timedelta(days=30))
    assert later["expiry"] is None

    # the distributor's balance: per package, expiring first first, the future one not spendable yet
    bal = ok(dist.get("/v1/credits"))
    assert bal["account_id"] == did and bal["available"] == 1010
    assert [(p["id"], p["size"], p["used"], p["left"], p["active"]) for p in bal["packages"]] == \
        [(short["id"], 10, 0, 10, True), (year["id"], 1000, 0, 1000, True), (later["id"], 50_000, 0, 50_000, False)]
    assert ok(admin.get(f"/v1/accounts/{did}/credits")) == bal

    # refused: naive dates (T100), expiry not after activation, sizes that are not positive integers
    url = f"/v1/accounts/{did}/packages"
    for bad in ({"size": 100, "activation": "2026-01-01T00:00:00"}, {"size": 100, "expiry": "2027-01-01T00:00:00"},
                {"size": 100, "activation": now.isoformat(), "expiry": (now - timedelta(days=1)).isoformat()},
                {"size": 0}, {"size": -5}, {"size": "mil"}):
        assert_error(admin.post(url, json=bad), 400, "T100")
    # only the PAC admin sells packages: a distributor (even to itself) and an emisor get T102
    assert_error(dist.post(url, json={"size": 100}), 403, "T102")
    assert_error(api.erp().post(f"/v1/accounts/{api.demo.account_id}/packages", json={"size": 100}), 403, "T102")
    # no package for an account that does not exist, nor for an admin account
    assert_error(admin.post("/v1/accounts/999999/packages", json={"size": 100}), 404, "T103")
    admin_id = ok(admin.get("/v1/me"))["account_id"]
    assert_error(admin.post(f"/v1/accounts/{admin_id}/packages", json={"size": 100}), 404, "T103")
    assert len(ok(dist.get("/v1/credits"))["packages"]) == 3


# --- distributors ---------------------------------------------------------------------------------------

def test_a_distributor_manages_its_clients(api: Api):
    admin = api.admin()
    north = new_distributor(api, "Norte", "norte@example.mx")
    south = new_distributor(api, "Sur", "sur@example.mx")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    short = sell(api, north.id, 10, expiry=now + timedelta(days=10))
    year = sell(api, north.id, 1000, expiry=now + timedelta(days=365))

    # a client: its parent is the distributor, whatever the body says; RFCs normalized
    body = created(north.client.post("/v1/accounts", json={
        "kind": "emisor", "name": "Cliente Uno", "rfcs": [" ure180429tm6 "], "username": "cliente@uno.mx",
        "password": PASSWORD, "parent_id": south.id}))
    cid = body["id"]
    assert (body["kind"], body["parent_id"], body["rfcs"]) == ("emisor", north.id, [URE])
    assert created(admin.post("/v1/accounts", json={"kind": "emisor", "name": "Directo"}))["parent_id"] is None

    # an RFC and a user for the client
    r = north.client.post(f"/v1/accounts/{cid}/rfcs", json={"rfc": "kij0906199r1"})
    assert r.status_code == 204, r.text
    assert_error(north.client.post(f"/v1/accounts/{cid}/rfcs", json={"rfc": "NOT-AN-RFC"}), 400, "T100")
    assert ok(north.client.get(f"/v1/accounts/{cid}"))["rfcs"] == ["KIJ0906199R1", URE]
    user = created(north.client.post(f"/v1/accounts/{cid}/users", json={"username": "contador@uno.mx"}))
    assert user["account_id"] == cid and user["username"] == "contador@uno.mx"
    me = ok(api.basic("contador@uno.mx", user["password"]).get("/v1/me"))
    assert (me["account_id"], me["kind"], me["rfcs"]) == (cid, "emisor", ["KIJ0906199R1", URE])
    assert_error(north.client.post(f"/v1/accounts/{cid}/users", json={"username": "contador@uno.mx"}),
                 409, "T110")

    # credits handed down from the packages that expire first; each keeps its source's expiry
    moved = created(north.client.post(f"/v1/accounts/{cid}/credits", json={"amount": 30}))["packages"]
    assert [(p["size"], p["source_id"]) for p in moved] == [(10, short["id"]), (20, year["id"])]
    assert [when(p["expiry"]) for p in moved] == [when(short["expiry"]), when(year["expiry"])]
    seen = ok(north.client.get(f"/v1/accounts/{cid}/credits"))
    assert seen["account_id"] == cid and seen["available"] == 30
    assert [(p["size"], p["used"], p["left"]) for p in seen["packages"]] == [(10, 0, 10), (20, 0, 20)]
    own = ok(north.client.get("/v1/credits"))
    assert own["available"] == 980
    assert [(p["size"], p["used"], p["left"]) for p in own["packages"]] == [(10, 10, 0), (1000, 20, 980)]
    body = assert_error(north.client.post(f"/v1/accounts/{cid}/credits", json={"amount": 981}), 409, "T112")
    assert body["detail"] == {"available": 980, "requested": 981}
    assert ok(north.client.get("/v1/credits"))["available"] == 980
    assert_error(north.client.post(f"/v1/accounts/{cid}/credits", json={"amount": 0}), 400, "T100")

    # it lists only its clients (the admin sees every account)
    assert [a["id"] for a in ok(north.client.get("/v1/accounts"))["items"]] == [cid]
    assert [a["id"] for a in ok(south.client.get("/v1/accounts"))["items"]] == []
    assert {api.demo.account_id, north.id, south.id, cid} <= {a["id"] for a in ok(admin.get("/v1/accounts"))["items"]}

    # anything that is not its client is "not found"
    demo = api.demo.account_id
    for path in (f"/v1/accounts/{demo}", f"/v1/accounts/{south.id}", f"/v1/accounts/{demo}/credits"):
        assert_error(north.client.get(path), 404, "T103")
    assert_error(north.client.post(f"/v1/accounts/{demo}/credits", json={"amount": 1}), 404, "T103")
    assert_error(north.client.post(f"/v1/accounts/{demo}/rfcs", json={"rfc": XIA}), 404, "T103")
    assert_error(north.client.post(f"/v1/accounts/{demo}/users", json={"username": "intruso"}), 404, "T103")
    assert_error(south.client.get(f"/v1/accounts/{cid}"), 404, "T103")
    assert_error(south.client.post(f"/v1/accounts/{cid}/credits", json={"amount": 1}), 404, "T103")
    assert ok(api.erp().get(f"/v1/accounts/{api.demo.account_id}"))["id"] == demo  # an emisor sees itself
    assert_error(api.erp().get(f"/v1/accounts/{cid}"), 404, "T103")

    # a distributor creates emisores only; an emisor creates nothing and transfers nothing
    for kind in ("distributor", "admin"):
        assert_error(north.client.post("/v1/accounts", json={"kind": kind, "name": "Otro"}), 403, "T102")
    assert_error(api.erp().post("/v1/accounts", json={"kind": "emisor", "name": "Otro"}), 403, "T102")
    client = api.basic("cliente@uno.mx", PASSWORD)
    assert_error(client.post(f"/v1/accounts/{cid}/credits", json={"amount": 1}), 403, "T102")
    assert ok(north.client.get("/v1/credits"))["available"] == 980


def test_a_client_stamps_with_its_credits_and_its_distributor_reads_them(api: Api):
    north = new_distributor(api, "Norte", "norte@example.mx")
    south = new_distributor(api, "Sur", "sur@example.mx")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    sell(api, north.id, 10, expiry=now + timedelta(days=10))
    sell(api, north.id, 1000, expiry=now + timedelta(days=365))
    cid = new_client(api, north, "cliente@uno.mx")
    created(north.client.post(f"/v1/accounts/{cid}/credits", json={"amount": 30}))
    client = api.basic("cliente@uno.mx", PASSWORD)

    xml1 = api.document("1")
    first = stamp(client, xml1)
    second = stamp(client, api.document("2", receptor=OTHER_RECEPTOR))
    assert (first["credits_left"], second["credits_left"]) == (29, 28)
    # the package that expires first is spent first
    bal = ok(client.get("/v1/credits"))
    assert bal["account_id"] == cid and bal["available"] == 28
    assert [(p["size"], p["used"], p["left"], p["active"]) for p in bal["packages"]] == \
        [(10, 2, 8, True), (20, 0, 20, True)]
    assert ok(north.client.get(f"/v1/accounts/{cid}/credits")) == bal
    assert ok(north.client.get("/v1/credits"))["available"] == 980  # the client's stamps are not the distributor's
    assert_error(north.client.post("/v1/stamp", content=api.document("3"),
                                   headers={"Content-Type": "application/xml"}), 403, "T102")

    # the distributor reads its client's CFDI with ?account_id=; its own list is empty
    mine = {first["uuid"], second["uuid"]}
    assert set(walk(north.client, account_id=cid)) == mine
    assert ok(north.client.get("/v1/cfdi")) == {"items": [], "next_cursor": None}
    one = ok(north.client.get(f"/v1/cfdi/{first['uuid']}", params={"account_id": cid}))
    assert (one["folio"], one["rfc_receptor"], one["total"]) == ("1", URE, etree.fromstring(xml1).get("Total"))
    r = north.client.get(f"/v1/cfdi/{second['uuid']}/xml", params={"account_id": cid})
    assert r.status_code == 200 and r.content == base64.b64decode(second["xml"])
    assert {row["uuid"] for row in csv_rows(north.client.get("/v1/cfdi", params={"account_id": cid,
                                                                                "format": "csv"}))} == mine
    assert set(walk(api.admin(), account_id=cid)) == mine

    # another distributor, or another emisor, cannot
    for who in (south.client, api.erp()):
        assert_error(who.get("/v1/cfdi", params={"account_id": cid}), 404, "T103")
        assert_error(who.get("/v1/cfdi", params={"account_id": cid, "format": "csv"}), 404, "T103")
        assert_error(who.get(f"/v1/cfdi/{first['uuid']}", params={"account_id": cid}), 404, "T103")
        assert_error(who.get(f"/v1/cfdi/{first['uuid']}/xml", params={"account_id": cid}), 404, "T103")
    assert walk(api.erp()) == []


# --- API keys -------------------------------------------------------------------------------------------

def test_api_keys_are_shown_once_authenticate_and_are_revoked(api: Api):
    demo = api.basic(api.demo.username, api.demo.password)
    made = created(demo.post("/v1/apikeys", json={"name": "ERP de producción"}))
    key = made["key"]
    assert key.startswith(f"tbk_{made['prefix']}_") and made["name"] == "ERP de producción"
    assert made["revoked_at"] is None
    unnamed = created(demo.post("/v1/apikeys"))
    assert unnamed["name"] == "" and unnamed["key"] != key

    listed = demo.get("/v1/apikeys")
    items = ok(listed)["items"]
    assert [(k["id"], k["name"]) for k in items] == [(items[0]["id"], "demo"), (made["id"], "ERP de producción"),
                                                      (unnamed["id"], "")]
    assert all("key" not in k for k in items)
    assert key not in listed.text and api.demo.api_key not in listed.text

    # the key authenticates as its user, in either header
    expected = ok(demo.get("/v1/me"))
    assert ok(api.key(key).get("/v1/me")) == expected
    bearer = api.client(headers={"Authorization": f"Bearer {key}"})
    assert ok(bearer.get("/v1/me")) == expected
    assert_error(api.client(headers={"Authorization": f"Bearer {key}x"}).get("/v1/me"), 401, "T101")

    # another account cannot see or revoke it
    north = new_distributor(api, "Norte", "norte@example.mx")
    assert ok(north.client.get("/v1/apikeys")) == {"items": []}
    assert_error(north.client.delete(f"/v1/apikeys/{made['id']}"), 404, "T103")
    assert_error(api.admin().delete(f"/v1/apikeys/{made['id']}"), 404, "T103")
    assert_error(demo.delete("/v1/apikeys/999999"), 404, "T103")
    assert ok(api.key(key).get("/v1/me")) == expected

    # revoked: refused at once, in both headers; listed with its revocation time; revoking again is harmless
    assert demo.delete(f"/v1/apikeys/{made['id']}").status_code == 204
    r = api.key(key).get("/v1/me")
    assert_error(r, 401, "T101")
    assert r.headers["WWW-Authenticate"].startswith("Basic")
    assert_error(bearer.get("/v1/me"), 401, "T101")
    after = {k["id"]: k for k in ok(demo.get("/v1/apikeys"))["items"]}
    assert after[made["id"]]["revoked_at"] is not None and after[unnamed["id"]]["revoked_at"] is None
    assert demo.delete(f"/v1/apikeys/{made['id']}").status_code == 204
    assert_error(api.key(key).get("/v1/me"), 401, "T101")
    assert ok(api.key(unnamed["key"]).get("/v1/me")) == expected  # the other keys still work
    assert ok(api.erp().get("/v1/me")) == expected


# --- the report -----------------------------------------------------------------------------------------

def test_report_filters_pagination_and_csv(timed_api: Api):
    api = timed_api
    clock = api.clock
    assert isinstance(clock, FixedClock)
    erp = api.erp()
    moments: list[datetime] = []
    u: dict[str, str] = {}  # folio -> UUID

    def stamp_now(*docs: tuple[str, dict[str, str] | None, str]) -> None:
        moments.append(clock.now())
        for folio, receptor, tipo in docs:
            u[folio] = stamp(erp, api.document(folio, receptor=receptor, tipo=tipo))["uuid"]
        clock.advance(minutes=10)

    def of(folios: str) -> set[str]:
        return {u[f] for f in folios}

    stamp_now(("1", None, "I"))
    stamp_now(("2", OTHER_RECEPTOR, "I"))
    stamp_now(("3", None, "E"))
    # four in the same second: only the UUID orders them, and the cursor must break the tie
    stamp_now(("4", None, "I"), ("5", OTHER_RECEPTOR, "I"), ("6", None, "I"), ("7", OTHER_RECEPTOR, "I"))
    t0, t1, t2, t3 = moments

    everything = ok(erp.get("/v1/cfdi"))
    rows = {i["uuid"]: i for i in everything["items"]}
    assert everything["next_cursor"] is None and set(rows) == of("1234567")
    assert [when(rows[u[f]]["fecha_timbrado"]) for f in "1234567"] == [t0, t1, t2, t3, t3, t3, t3]
    assert [rows[u[f]]["tipo"] for f in "1234567"] == ["I", "I", "E", "I", "I", "I", "I"]

    # newest first, ties by UUID; every page size walks every CFDI once, in that order
    newest_first = [*sorted(of("4567"), reverse=True), u["3"], u["2"], u["1"]]
    assert [i["uuid"] for i in everything["items"]] == newest_first
    for limit in (1, 2, 3, 7):
        assert walk(erp, limit=limit) == newest_first
    page = ok(erp.get("/v1/cfdi", params={"limit": 2}))
    assert len(page["items"]) == 2 and page["next_cursor"]

    def listed(**params) -> set[str]:
        found = walk(erp, limit=2, **params)
        assert len(found) == len(set(found))
        return set(found)

    # receptor (any case), tipo, status, and together
    assert listed(rfc_receptor=URE.lower()) == of("1346")
    assert listed(rfc_receptor=XIA) == of("257")
    assert listed(rfc_receptor="XAXX010101000") == set()
    assert listed(tipo="E") == of("3")
    assert listed(tipo="I") == of("124567")
    assert listed(tipo="I", rfc_receptor=URE) == of("146")
    assert listed(status="vigente") == of("1234567") and listed(status="cancelado") == set()
    assert_error(erp.get("/v1/cfdi", params={"tipo": "Z"}), 400, "T100")

    # stamped_from is inclusive, stamped_to exclusive; any offset names the same instant
    assert listed(stamped_from=t1.isoformat()) == of("234567")
    assert listed(stamped_to=t1.isoformat()) == of("1")
    assert listed(stamped_from=t1.isoformat(), stamped_to=t3.isoformat()) == of("23")
    assert listed(stamped_from=t1.astimezone(MEXICO_CITY).isoformat(),
                  stamped_to=t3.astimezone(MEXICO_CITY).isoformat()) == of("23")
    assert listed(stamped_from=t1.strftime("%Y-%m-%dT%H:%M:%SZ")) == of("234567")
    assert listed(stamped_from=(t3 + timedelta(seconds=1)).isoformat()) == set()
    assert listed(stamped_from=t3.isoformat(), tipo="I", rfc_receptor=XIA) == of("57")
    for name in ("stamped_from", "stamped_to"):
        body = assert_error(erp.get("/v1/cfdi", params={name: t1.replace(tzinfo=None).isoformat()}), 400, "T100")
        assert "zona horaria" in body["message"]
    assert_error(erp.get("/v1/cfdi", params={"stamped_from": "ayer"}), 400, "T100")

    # issued_from/issued_to compare Fecha (local time of LugarExpedicion) as written
    fecha = {f: rows[u[f]]["fecha"] for f in "1234567"}
    assert fecha["1"] < fecha["2"] < fecha["3"] < fecha["4"] == fecha["5"] == fecha["6"] == fecha["7"]
    assert listed(issued_from=fecha["2"]) == of("234567")
    assert listed(issued_to=fecha["2"]) == of("1")
    assert listed(issued_from=fecha["2"], issued_to=fecha["4"]) == of("23")

    # CSV: a header and one row per CFDI, every page, as format=csv or Accept: text/csv
    by_query = erp.get("/v1/cfdi", params={"format": "csv", "limit": 1})
    table = csv_rows(by_query)
    assert [row["uuid"] for row in table] == newest_first
    by_accept = erp.get("/v1/cfdi", headers={"Accept": "text/csv"})
    assert by_accept.text == by_query.text
    row2 = next(row for row in table if row["uuid"] == u["2"])
    assert (row2["folio"], row2["tipo"], row2["rfc_emisor"], row2["rfc_receptor"], row2["nombre_receptor"]) == \
        ("2", "I", "EKU9003173C9", XIA, OTHER_RECEPTOR["Nombre"])
    assert (row2["total"], row2["fecha"], row2["status"]) == (rows[u["2"]]["total"], fecha["2"], "vigente")
    xia_rows = csv_rows(erp.get("/v1/cfdi", params={"format": "csv", "rfc_receptor": XIA}))
    assert [row["uuid"] for row in xia_rows] == [*sorted(of("57"), reverse=True), u["2"]]
    assert "items" in ok(erp.get("/v1/cfdi", params={"format": "json"}, headers={"Accept": "text/csv"}))
    assert_error(erp.get("/v1/cfdi", params={"format": "csv", "stamped_to": "2026-01-01T00:00:00"}), 400, "T100")


# --- validation and identity ----------------------------------------------------------------------------

def test_validate_answers_without_stamping_or_spending(api: Api):
    erp = api.erp()
    xml = api.document("7")
    r = erp.post("/v1/validate", content=xml, headers={"Content-Type": "application/xml"})
    assert ok(r) == {"valid": True, "findings": [], "not_evaluated": []}
    r = erp.post("/v1/validate", json={"xml": base64.b64encode(xml).decode()})
    assert ok(r) == {"valid": True, "findings": [], "not_evaluated": []}
    assert ok(erp.get("/v1/credits"))["available"] == DEMO_CREDITS
    assert ok(erp.get("/v1/cfdi")) == {"items": [], "next_cursor": None}
    # nothing was remembered either: the same document is then stamped for the first time
    first = stamp(erp, xml)
    assert not first["replayed"] and first["credits_left"] == DEMO_CREDITS - 1
    assert_error(api.client().post("/v1/validate", content=xml, headers={"Content-Type": "application/xml"}),
                 401, "T101")


def test_an_emisor_cannot_add_rfcs_or_users_to_itself(api: Api):
    """The hole of issue 9: an emisor's key added any RFC to its own account (204) and then stamped for it."""
    erp, own = api.erp(), api.demo.account_id
    assert_error(erp.post(f"/v1/accounts/{own}/rfcs", json={"rfc": IIA}), 403, "T102")
    assert_error(erp.post(f"/v1/accounts/{own}/users", json={"username": "segundo@demo.mx"}), 403, "T102")
    assert IIA not in ok(erp.get("/v1/me"))["rfcs"]
    xml = api.document("1")
    assert b'Rfc="EKU9003173C9"' in xml
    stranger = created(api.admin().post("/v1/accounts", json={
        "kind": "emisor", "name": "Ajena", "rfcs": [IIA], "username": "ajena@example.mx", "password": PASSWORD}))
    intruder = api.basic("ajena@example.mx", PASSWORD)
    assert_error(intruder.post(f"/v1/accounts/{stranger['id']}/rfcs", json={"rfc": "EKU9003173C9"}), 403, "T102")
    assert_error(intruder.post("/v1/stamp", content=xml, headers={"Content-Type": "application/xml"}), 403, "T105")
    # what an emisor keeps: itself, its password, its API keys
    assert ok(intruder.get(f"/v1/accounts/{stranger['id']}"))["rfcs"] == [IIA]
    assert created(intruder.post("/v1/apikeys", json={"name": "erp"}))["key"].startswith("tbk_")
    r = intruder.post("/v1/password", json={"current_password": PASSWORD, "new_password": PASSWORD + "x"})
    assert r.status_code == 204, r.text


def test_an_rfcs_registered_name_over_rest(api: Api):
    admin = api.admin()
    made = created(admin.post("/v1/accounts", json={"kind": "emisor", "name": "Indistria", "rfcs": [
        {"rfc": "iia040805dz4", "nombre": "INDISTRIA ILUMINADORA DE ALMACENES"}, "KIJ0906199R1"]}))
    assert made["rfcs"] == [IIA, "KIJ0906199R1"]
    assert ok(admin.get(f"/v1/accounts/{made['id']}"))["nombres"] == {"KIJ0906199R1": None,
                                                                        IIA: "INDISTRIA ILUMINADORA DE ALMACENES"}
    r = admin.post(f"/v1/accounts/{made['id']}/rfcs", json={"rfc": "KIJ0906199R1",
                                                            "nombre": "KERNEL INDUSTIA JUGUETERA"})
    assert r.status_code == 204, r.text
    assert ok(admin.get(f"/v1/accounts/{made['id']}"))["nombres"]["KIJ0906199R1"] == "KERNEL INDUSTIA JUGUETERA"
    assert_error(admin.post("/v1/accounts", json={"kind": "emisor", "name": "Otra", "rfcs": [IIA]}), 409, "T140")


def test_me_for_each_role(api: Api):
    admin = ok(api.admin().get("/v1/me"))
    assert {k: admin[k] for k in ("kind", "name", "username", "rfcs")} == \
        {"kind": "admin", "name": "Administrador del PAC", "username": "admin", "rfcs": []}
    assert admin["account_id"] in {a["id"] for a in ok(api.admin().get("/v1/accounts"))["items"]}

    demo = {"account_id": api.demo.account_id, "kind": "emisor", "name": "Demo", "username": "demo",
            "rfcs": sorted(api.demo.rfcs)}
    assert ok(api.basic(api.demo.username, api.demo.password).get("/v1/me")) == demo
    assert ok(api.erp().get("/v1/me")) == demo

    north = new_distributor(api, "Norte", "norte@example.mx")
    assert ok(north.client.get("/v1/me")) == {"account_id": north.id, "kind": "distributor", "name": "Norte",
                                              "username": "norte@example.mx", "rfcs": []}
    cid = new_client(api, north, "cliente@uno.mx")
    assert ok(api.basic("cliente@uno.mx", PASSWORD).get("/v1/me")) == {
        "account_id": cid, "kind": "emisor", "name": "Cliente Uno", "username": "cliente@uno.mx",
        "rfcs": ["EKU9003173C9"]}

    for anonymous in (api.client(), api.basic("cliente@uno.mx", "not the password"), api.basic("nadie", PASSWORD)):
        r = anonymous.get("/v1/me")
        assert_error(r, 401, "T101")
        assert r.headers["WWW-Authenticate"].startswith("Basic")


def test_validate_says_what_the_sandbox_padron_could_not_check(api: Api):
    """A receptor's RFC that the (permissive) sandbox padrón does not know passes, and the answer says it was
    not checked against SAT's lists, instead of letting "not checked" look like "passed"."""
    receptor = {"Rfc": "MAS0810247C0", "Nombre": "MADERAS ASERRADAS", "DomicilioFiscalReceptor": "06000",
                "RegimenFiscalReceptor": "601", "UsoCFDI": "G03"}
    r = api.erp().post("/v1/validate", content=api.document("8", receptor=receptor),
                       headers={"Content-Type": "application/xml"})
    body = ok(r)
    assert body["valid"] is True
    assert [n["what"] for n in body["not_evaluated"]] == ["padrón:MAS0810247C0"]
    assert "MAS0810247C0" in body["not_evaluated"][0]["reason"] and body["not_evaluated"][0]["reason_en"]
