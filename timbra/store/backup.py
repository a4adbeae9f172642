"""Backup and restore of timbra's data: the database and the configuration a restore needs with it.

SQLite: SQLite's online backup API copies timbra.db (and the sandbox SAT's database) consistently while
the server runs. PostgreSQL: `pg_dump --format=custom` of the database (or of the schema the URL's
search_path names), restored with `pg_restore --clean --if-exists`. Either way the folder also gets the
data directory's keys/ and master.key when they are there (the sandbox's; in production the PAC's key and
the master key come from the operator's secrets and are backed up with them), and a manifest.

The backup holds the vault's encrypted CSD keys and, in the sandbox, the master key that opens them:
keep it as secret as the server itself.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy.engine import make_url

from timbra.clock import SYSTEM

MANIFEST = "timbra-backup.json"
PG_DUMP = "timbra.pgdump"
SQLITE_FILES = ("timbra.db", "sandbox-sat.db")
CONFIG = ("keys", "master.key")


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why (es / en)."""


def backup(database_url: str, data_dir: Path, dest: Path, *, revision: str | None, now: datetime | None = None) -> dict:
    """Write a backup into the empty or new folder `dest`; returns the manifest."""
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise BackupError(f"la carpeta {dest} no está vacía / the folder is not empty")
    url = make_url(database_url)
    files = []
    if url.get_backend_name() == "sqlite":
        for name in SQLITE_FILES:
            source = _sqlite_path(name, url, data_dir)
            if source.exists():
                _sqlite_copy(source, dest / name)
                files.append(name)
    else:
        uri, schema = libpq(database_url)
        cmd = ["pg_dump", "--format=custom", "--no-owner", f"--file={dest / PG_DUMP}", uri]
        if schema:
            cmd.insert(-1, f"--schema={schema}")
        _run(cmd)
        files.append(PG_DUMP)
    for name in CONFIG:
        source = data_dir / name
        if source.is_dir():
            shutil.copytree(source, dest / name)
            files.append(name)
        elif source.exists():
            shutil.copy2(source, dest / name)
            files.append(name)
    manifest = {"created_at": (now or SYSTEM.now()).isoformat(), "backend": url.get_backend_name(),
                "revision": revision, "files": files}
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


def restore(source: Path, database_url: str, data_dir: Path, *, force: bool = False) -> dict:
    """Put a backup back: the database (replacing what the target holds only with `force` for SQLite; a
    PostgreSQL restore drops and recreates the dumped objects) and the configuration files missing from
    the data directory (existing ones are kept)."""
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{source} no es una copia de timbra (falta {MANIFEST}) / not a timbra backup") from exc
    url = make_url(database_url)
    if manifest.get("backend") != url.get_backend_name():
        raise BackupError(f"la copia es de {manifest.get('backend')} y el destino es {url.get_backend_name()} / "
                          "the backup and the target use different databases")
    if url.get_backend_name() == "sqlite":
        for name in SQLITE_FILES:
            if (source / name).exists():
                target = _sqlite_path(name, url, data_dir)
                target.parent.mkdir(parents=True, exist_ok=True)
                if target.exists() and not force:
                    raise BackupError(f"{target} ya existe: use --force para reemplazarla / exists: use --force")
                for stale in (target, target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
                    stale.unlink(missing_ok=True)
                _sqlite_copy(source / name, target)
    else:
        uri, _schema = libpq(database_url)
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--exit-on-error", f"--dbname={uri}",
              str(source / PG_DUMP)])
    data_dir.mkdir(parents=True, exist_ok=True)
    for name in CONFIG:
        if (source / name).exists() and not (data_dir / name).exists():
            if (source / name).is_dir():
                shutil.copytree(source / name, data_dir / name)
            else:
                shutil.copy2(source / name, data_dir / name)
    return manifest


def libpq(database_url: str) -> tuple[str, str | None]:
    """The SQLAlchemy URL as a libpq URI (for pg_dump / pg_restore) and the schema its search_path names."""
    url = make_url(database_url).set(drivername="postgresql")
    uri = url.render_as_string(hide_password=False)
    options = parse_qs(urlsplit(uri).query).get("options", [""])[0]
    schema = None
    for part in unquote(options).split():
        if part.startswith("-csearch_path="):
            schema = part.split("=", 1)[1].split(",")[0] or None
    return uri, schema


def _sqlite_path(name: str, url, data_dir: Path) -> Path:
    """timbra.db is where the URL says; the sandbox SAT's database is always in the data directory."""
    return Path(url.database or "") if name == "timbra.db" else data_dir / name


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup API: a consistent copy even while another process writes."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _run(cmd: list[str]) -> None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    except FileNotFoundError as exc:
        raise BackupError(f"no se encontró {cmd[0]} (PostgreSQL client tools) / {cmd[0]} not found") from exc
    if done.returncode != 0:
        raise BackupError(f"{cmd[0]} falló / failed: {done.stderr.strip()[:2000]}")
