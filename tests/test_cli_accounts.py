"""The operator's CLI for accounts, users, credits and API keys, on SQLite and PostgreSQL.

Commands run in-process with click's CliRunner against the `db_url` database; what they did is then checked
through timbra.pac (a key the CLI printed must authenticate, a generated password must log in).
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from timbra.cli import main
from timbra.clock import MEXICO_CITY
from timbra.errors import TimbraError
from timbra.pac.accounts import Accounts
from timbra.store.db import Database

Run = Callable[..., Result]


def _runner(env: dict[str, str | None]) -> Run:
    runner = CliRunner(env=env)

    def run(*args: str) -> Result:
        return runner.invoke(main, list(args), catch_exceptions=False)

    return run


@pytest.fixture
def cli(db_url: str, tmp_path: Path) -> Run:
    """`cli(*args)` runs timbra with the test database and a private data directory."""
    return _runner({"TIMBRA_DATABASE_URL": db_url, "TIMBRA_DATA_DIR": str(tmp_path)})


@pytest.fixture
def accounts(db_url: str) -> Iterator[Accounts]:
    db = Database(db_url)
    yield Accounts(db)
    db.dispose()


def ok(result: Result) -> dict:
    """The one JSON document a successful --json command printed."""
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return json.loads(result.stdout)


def failed_code(result: Result, status: int = 1) -> str:
    """The code of a failed --json command, which must exit `status` with the error on stdout."""
    assert result.exit_code == status, (result.stdout, result.stderr)
    return json.loads(result.stdout)["code"]


def test_distributor_tree_credits_and_balances(cli: Run, accounts: Accounts):
    admin = ok(cli("accounts", "create", "--kind", "admin", "--name", "PAC", "--json"))
    dist = ok(cli("accounts", "create", "--kind", "distributor", "--name", "Distribuidora", "--username",
                  "dist@x.mx", "--json"))
    # a generated password is printed once, and it is the user's real password
    assert dist["password"] and accounts.authenticate("dist@x.mx", dist["password"]).account_id == dist["id"]
    emisor = ok(cli("accounts", "create", "--kind", "emisor", "--name", "Escuela", "--parent", str(dist["id"]),
                    "--rfc", "eku9003173c9", "--username", "escuela@x.mx", "--password", "una clave larga",
                    "--json"))
    assert emisor["parent_id"] == dist["id"] and emisor["rfcs"] == ["EKU9003173C9"]
    assert emisor["password"] is None  # the operator chose it: nothing to show
    assert accounts.authenticate("escuela@x.mx", "una clave larga").account_id == emisor["id"]
    listed = ok(cli("accounts", "list", "--json"))["accounts"]
    assert [(a["id"], a["kind"]) for a in listed] == [(admin["id"], "admin"), (dist["id"], "distributor"),
                                                      (emisor["id"], "emisor")]

    # dates without an offset are Mexico City time (UTC-6, no daylight saving since 2022); the CLI runs on the
    # real clock, so the years are this year's and the next ones (never a fixed year that will pass)
    year = datetime.now(MEXICO_CITY).year
    pkg = ok(cli("credits", "add", str(dist["id"]), "1000", "--activation", f"{year}-01-01T00:00:00",
                 "--expiry", f"{year + 1}-12-31T23:00:00", "--json"))
    assert pkg["activation"] == f"{year}-01-01T06:00:00+00:00"
    assert pkg["expiry"] == f"{year + 2}-01-01T05:00:00+00:00"
    late = ok(cli("credits", "add", str(dist["id"]), "50", "--expiry", f"{year + 4}-01-01T00:00:00Z", "--json"))
    assert late["expiry"] == f"{year + 4}-01-01T00:00:00+00:00"

    moved = ok(cli("credits", "transfer", "--from", str(dist["id"]), "--to", str(emisor["id"]), "1010", "--json"))
    # the package that expires first is handed down first; each client package keeps its source's expiry
    assert [(p["size"], p["source_id"], p["expiry"]) for p in moved["packages"]] == [
        (1000, pkg["id"], pkg["expiry"]), (10, late["id"], late["expiry"])]
    assert ok(cli("credits", "show", str(dist["id"]), "--json"))["available"] == 40
    shown = ok(cli("accounts", "show", str(emisor["id"]), "--json"))
    assert shown["rfcs"] == ["EKU9003173C9"]
    assert [u["username"] for u in shown["users"]] == ["escuela@x.mx"]
    assert shown["balance"]["available"] == 1010
    assert sorted(p["left"] for p in shown["balance"]["packages"]) == [10, 1000]

    text = cli("accounts", "show", str(emisor["id"]))
    assert text.exit_code == 0
    assert "EKU9003173C9" in text.stdout and "escuela@x.mx" in text.stdout and "1010 disponibles" in text.stdout


def test_users_add_with_generated_password(cli: Run, accounts: Accounts):
    acc = ok(cli("accounts", "create", "--kind", "emisor", "--name", "E", "--json"))
    user = ok(cli("users", "add", str(acc["id"]), "nuevo@x.mx", "--json"))
    assert user["account_id"] == acc["id"] and user["username"] == "nuevo@x.mx"
    assert accounts.authenticate("nuevo@x.mx", user["password"]).user_id == user["id"]
    chosen = ok(cli("users", "add", str(acc["id"]), "otro@x.mx", "--password", "otra clave larga", "--json"))
    assert chosen["password"] is None
    assert accounts.authenticate("otro@x.mx", "otra clave larga").user_id == chosen["id"]


def test_api_key_printed_once_authenticates_until_revoked(cli: Run, accounts: Accounts):
    acc = ok(cli("accounts", "create", "--kind", "emisor", "--name", "E", "--username", "erp@x.mx", "--json"))
    made = cli("apikeys", "create", "erp@x.mx", "--name", "ERP")
    assert made.exit_code == 0, made.stderr
    key = made.stdout.strip()  # without --json, stdout carries only the key (for scripts)
    who = accounts.authenticate_key(key)
    assert (who.account_id, who.username) == (acc["id"], "erp@x.mx")

    listed = ok(cli("apikeys", "list", str(acc["id"]), "--json"))["keys"]
    assert len(listed) == 1 and listed[0]["name"] == "ERP" and listed[0]["revoked_at"] is None
    assert key.startswith(f"tbk_{listed[0]['prefix']}_")
    assert key not in json.dumps(listed)  # the key itself is never shown again

    other = ok(cli("accounts", "create", "--kind", "emisor", "--name", "Otra", "--json"))
    # a key id of another account is "not found", and the key keeps working
    assert failed_code(cli("apikeys", "revoke", str(other["id"]), str(listed[0]["id"]), "--json")) == "T103"
    assert accounts.authenticate_key(key).account_id == acc["id"]

    assert ok(cli("apikeys", "revoke", str(acc["id"]), str(listed[0]["id"]), "--json"))["revoked"] is True
    # another process (a server) that checked the key in the last KEY_CACHE_SECONDS may still accept it
    # that long; one that has not seen it refuses it at once
    with pytest.raises(TimbraError) as exc:
        Accounts(accounts.db).authenticate_key(key)
    assert exc.value.code == "T101"
    assert ok(cli("apikeys", "list", str(acc["id"]), "--json"))["keys"][0]["revoked_at"] is not None

    as_json = ok(cli("apikeys", "create", "erp@x.mx", "--json"))
    assert accounts.authenticate_key(as_json["key"]).account_id == acc["id"]


def test_errors_exit_1_with_their_code(cli: Run):
    dist = ok(cli("accounts", "create", "--kind", "distributor", "--name", "D", "--json"))
    client = ok(cli("accounts", "create", "--kind", "emisor", "--name", "C", "--parent", str(dist["id"]),
                    "--username", "c@x.mx", "--json"))
    stranger = ok(cli("accounts", "create", "--kind", "emisor", "--name", "S", "--json"))
    ok(cli("credits", "add", str(dist["id"]), "5", "--json"))

    cases = {
        ("credits", "transfer", "--from", str(dist["id"]), "--to", str(client["id"]), "6"): "T112",
        ("credits", "transfer", "--from", str(dist["id"]), "--to", str(stranger["id"]), "1"): "T103",
        ("credits", "transfer", "--from", str(client["id"]), "--to", str(stranger["id"]), "1"): "T102",
        ("credits", "transfer", "--from", "999", "--to", str(client["id"]), "1"): "T103",
        ("credits", "add", str(client["id"]), "0"): "T100",
        ("credits", "add", str(client["id"]), "10", "--expiry", "mañana"): "T100",
        ("credits", "add", str(client["id"]), "10", "--activation", "2026-06-01", "--expiry", "2026-05-01"): "T100",
        ("accounts", "show", "999"): "T103",
        ("accounts", "create", "--kind", "reseller", "--name", "X"): "T100",
        ("accounts", "create", "--kind", "emisor", "--name", "X", "--parent", "999"): "T103",
        # only a distributor has children (it manages them), and an admin account is nobody's child
        ("accounts", "create", "--kind", "emisor", "--name", "X", "--parent", str(client["id"])): "T100",
        ("accounts", "create", "--kind", "admin", "--name", "X", "--parent", str(dist["id"])): "T100",
        ("accounts", "create", "--kind", "emisor", "--name", "X", "--username", "c@x.mx"): "T110",
        ("users", "add", str(client["id"]), "corto@x.mx", "--password", "corta"): "T111",
        ("apikeys", "create", "nadie@x.mx"): "T103",
    }
    for args, code in cases.items():
        status = 2 if code == "T100" else 1  # a bad request is a usage error; the rest timbra refused
        assert failed_code(cli(*args, "--json"), status) == code, args
        text = cli(*args)
        assert text.exit_code == status and text.stdout == "", args
        assert text.stderr.startswith(f"error {code}: "), (args, text.stderr)
        assert len(text.stderr.splitlines()) == 1, (args, text.stderr)
    # nothing moved and nothing was created by the failures
    assert ok(cli("credits", "show", str(dist["id"]), "--json"))["available"] == 5
    assert ok(cli("credits", "show", str(client["id"]), "--json"))["packages"] == []
    assert len(ok(cli("accounts", "list", "--json"))["accounts"]) == 3


def test_db_current_and_upgrade(cli: Run, tmp_path: Path):
    # the test database is migrated already: upgrade is a no-op that reports the revision
    current = ok(cli("db", "current", "--json"))
    assert current["up_to_date"] is True and current["revision"] == current["head"]
    assert ok(cli("db", "upgrade", "--json")) == {"revision": current["head"], "previous": current["head"]}

    # the default database, SQLite in TIMBRA_DATA_DIR, starts empty
    fresh = _runner({"TIMBRA_DATABASE_URL": None, "TIMBRA_DATA_DIR": str(tmp_path / "fresh")})
    before = ok(fresh("db", "current", "--json"))
    assert before == {"revision": None, "head": current["head"], "up_to_date": False}
    assert ok(fresh("db", "upgrade", "--json")) == {"revision": current["head"], "previous": None}
    assert (tmp_path / "fresh" / "timbra.db").is_file()
    assert ok(fresh("db", "current", "--json"))["up_to_date"] is True


def test_rfcs_with_their_registered_name_and_one_account_per_rfc(cli: Run):
    """The CLI goes through the same rule as REST: an RFC another account holds needs the admin's --shared."""
    a = ok(cli("accounts", "create", "--kind", "emisor", "--name", "Escuela", "--rfc", "EKU9003173C9",
               "--nombre", "ESCUELA KEMPER URGATE", "--json"))
    assert ok(cli("accounts", "show", str(a["id"]), "--json"))["nombres"] == {"EKU9003173C9": "ESCUELA KEMPER URGATE"}
    assert failed_code(cli("accounts", "create", "--kind", "emisor", "--name", "Otra", "--rfc", "EKU9003173C9",
                           "--json")) == "T140"
    b = ok(cli("accounts", "create", "--kind", "emisor", "--name", "Otra", "--rfc", "XIA190128J61", "--json"))
    assert failed_code(cli("accounts", "add-rfc", str(b["id"]), "eku9003173c9", "--json")) == "T140"
    shared = ok(cli("accounts", "add-rfc", str(b["id"]), "EKU9003173C9", "--shared", "--json"))
    assert shared["rfcs"] == ["EKU9003173C9", "XIA190128J61"]
    named = ok(cli("accounts", "add-rfc", str(b["id"]), "XIA190128J61", "--nombre", "XENON INDUSTRIAL ARTICLES",
                   "--json"))
    assert named["nombres"] == {"EKU9003173C9": None, "XIA190128J61": "XENON INDUSTRIAL ARTICLES"}
    two = cli("accounts", "create", "--kind", "emisor", "--name", "X", "--rfc", "URE180429TM6", "--rfc",
              "KIJ0906199R1", "--nombre", "UNO")
    assert two.exit_code == 2 and "--nombre" in two.stderr
