"""The data directory does not depend on the folder a command runs from (issue #9): without TIMBRA_DATA_DIR
every folder gets the same per-user directory (or the ./data a checkout's `make run` made), TIMBRA_DATA_DIR
is made absolute once, and the commands say which directory they use."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from timbra.cli import main
from timbra.settings import Settings


@pytest.fixture
def home(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.delenv("TIMBRA_DATA_DIR", raising=False)
    monkeypatch.delenv("TIMBRA_DATABASE_URL", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return tmp_path


def keys_from(folder: Path, monkeypatch, **env: str | None) -> tuple[dict, Result]:
    folder.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(folder)
    r = CliRunner(env=env).invoke(main, ["keys", "sandbox", "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout), r


def test_two_folders_use_the_same_data(home: Path, monkeypatch):
    first, r1 = keys_from(home / "proyecto", monkeypatch)
    second, r2 = keys_from(home / "otra" / "carpeta", monkeypatch)
    expected = home / "xdg" / "timbra"
    assert first["dir"] == second["dir"] == str(expected / "keys")
    assert first["pac"]["no_certificado"] == second["pac"]["no_certificado"]  # one sandbox CA, not two
    assert f"datos en / data directory: {expected}" in r1.stderr and str(expected) in r2.stderr
    assert not (home / "proyecto" / "data").exists() and not (home / "otra" / "carpeta" / "data").exists()


def test_without_xdg_the_home_share_folder(home: Path, monkeypatch):
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.chdir(home)
    s = Settings.from_env()
    assert s.data_dir == (home / "home" / ".local" / "share" / "timbra").resolve()


def test_a_checkouts_data_folder_is_kept(home: Path, monkeypatch):
    """Where `make run` made ./data, commands run there keep using it (the README's promise)."""
    (home / "checkout" / "data" / "keys").mkdir(parents=True)
    made, _ = keys_from(home / "checkout", monkeypatch, TIMBRA_DATA_DIR=str(home / "checkout" / "data"))
    again, r = keys_from(home / "checkout", monkeypatch)
    assert again["dir"] == made["dir"] == str((home / "checkout" / "data" / "keys").resolve())
    assert again["pac"]["no_certificado"] == made["pac"]["no_certificado"]
    assert "(./data)" in r.stderr


def test_a_relative_timbra_data_dir_is_made_absolute_and_said(home: Path, monkeypatch):
    made, r = keys_from(home / "a", monkeypatch, TIMBRA_DATA_DIR="datos")
    assert made["dir"] == str((home / "a" / "datos" / "keys").resolve())
    assert str((home / "a" / "datos").resolve()) in r.stderr
    monkeypatch.setenv("TIMBRA_DATA_DIR", "datos")
    assert Settings.from_env().data_dir.is_absolute()
