"""`timbra db backup` and `timbra db restore`, on SQLite and PostgreSQL: after the database (and the sandbox
master key) are lost, a restore brings back every stamp with its exact bytes, the credits, the vault's CSD
(it still seals) and the sandbox SAT's records, and the PAC goes on stamping."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import create_engine

from tests.api.test_rest import data_dir as shared_data_dir  # noqa: F401 - fixture
from tests.api.test_rest import emisor_csd  # noqa: F401 - fixture
from tests.conftest import POSTGRES_URL
from timbra.cfdi.credentials import Credential
from timbra.cfdi.sample import sealed_sample
from timbra.cli import main
from timbra.clock import SYSTEM
from timbra.pac.accounts import Principal
from timbra.pac.runtime import Pac
from timbra.settings import Settings
from timbra.store.backup import libpq

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "issue-factura.json"


def invoice(**changes) -> dict:
    data = json.loads(EXAMPLE.read_text())
    data.pop("referencia", None)  # a field of the REST body, not of the CFDI
    return {**data, **changes}


def _cli(args: list[str], data_dir: Path, url: str) -> dict:
    r = CliRunner().invoke(main, [*args, "--json"], env={"TIMBRA_DATA_DIR": str(data_dir), "TIMBRA_DATABASE_URL": url})
    assert r.exit_code == 0, r.output
    return json.loads(r.output[r.output.index("{"):])


def test_backup_then_restore_after_losing_everything(tmp_path: Path, shared_data_dir: Path, db_url: str):  # noqa: F811
    data = tmp_path / "data"
    shutil.copytree(shared_data_dir / "keys", data / "keys")  # the sandbox keys (making them is slow)
    settings = Settings(data_dir=data, database_url_override=db_url)
    pac = Pac(settings, clock=SYSTEM, worker=False)
    try:
        demo = pac.ensure_demo(csds=True)
        who = Principal(demo.account_id, "emisor")
        keys = data / "keys"
        c = json.loads((keys / "sandbox.json").read_text())["csd"][0]
        csd = Credential.load((keys / c["cer"]).read_bytes(), (keys / c["key"]).read_bytes(), c["password"])
        stamped = [pac.stamps.stamp(who, sealed_sample(csd, SYSTEM.now(), folio=f"B{i}")) for i in range(2)]
        issued = pac.issuing.issue(who, invoice())
        while pac.delivery.run_once() > 0:
            pass
        credits = pac.credits.balance(who).available
    finally:
        pac.stop()
    manifest = _cli(["db", "backup", str(tmp_path / "backup")], data, db_url)
    assert "keys" in manifest["files"] and "master.key" in manifest["files"]

    # Disaster: the database and the master key are gone.
    (data / "master.key").unlink()
    if db_url.startswith("sqlite"):
        database = Path(db_url.removeprefix("sqlite:///"))
        for f in [*data.glob("*.db*"), *database.parent.glob(database.name + "*")]:
            f.unlink()
        target = db_url
    else:
        _uri, schema = libpq(db_url)
        engine = create_engine(POSTGRES_URL)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        engine.dispose()
        target = db_url
    restored = _cli(["db", "restore", str(tmp_path / "backup")], data, target)
    assert restored["restored_revision"] == manifest["revision"]

    pac = Pac(Settings(data_dir=data, database_url_override=target), clock=SYSTEM, worker=False)
    try:
        assert pac.ensure_demo() is None  # the accounts are back: no new demo
        for s in [*stamped, issued]:
            assert pac.cfdis.xml(who, s.uuid) == s.xml
            assert pac.cfdis.get(who, s.uuid).sat_status == "recibido"
        assert pac.credits.balance(who).available == credits
        again = pac.issuing.issue(who, invoice(Folio="after-restore"))
        assert again.uuid not in {s.uuid for s in stamped}  # the vault's CSD still opens and seals
        st = pac.cancels.status(who, stamped[0].uuid)
        assert st["estado"] == "Vigente"  # the sandbox SAT's records came back too
    finally:
        pac.stop()
    # A SQLite restore never overwrites silently.
    if db_url.startswith("sqlite"):
        r = CliRunner().invoke(main, ["db", "restore", str(tmp_path / "backup")],
                               env={"TIMBRA_DATA_DIR": str(data), "TIMBRA_DATABASE_URL": db_url})
        assert r.exit_code != 0 and "T231" in r.output and "--force" in r.output


def test_a_folder_that_is_not_a_backup(tmp_path: Path):
    r = CliRunner().invoke(main, ["db", "restore", str(tmp_path)],
                           env={"TIMBRA_DATA_DIR": str(tmp_path / "d"),
                                "TIMBRA_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert r.exit_code != 0 and "T231" in r.output
