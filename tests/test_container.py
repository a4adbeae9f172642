"""The deployment recipes. The Containerfile, checked without a container engine: its instructions parse, the
image runs `timbra serve` as a non-root user on a Python slim base, keeps TIMBRA_DATA_DIR on a volume, listens
where it is exposed and checks /healthz; what it copies exists and the extras it installs are declared. And
the reverse proxy's forwarded headers are believed only from the proxies the operator names."""
from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order: comments dropped, backslash continuations joined."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        word, _, args = full.partition(" ")
        out.append((word.upper(), " ".join(args.split())))
    assert not pending, "a continuation line at the end of the file"
    return out


def stages(parsed: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    out: list[list[tuple[str, str]]] = []
    for ins in parsed:
        if ins[0] == "FROM":
            out.append([])
        assert out, "the first instruction is FROM"
        out[-1].append(ins)
    return out


def env_of(stage: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for word, args in stage:
        if word == "ENV":
            for item in shlex.split(args):
                key, _, value = item.partition("=")
                env[key] = value
    return env


def test_containerfile_is_sane():
    parsed = instructions((ROOT / "Containerfile").read_text(encoding="utf-8"))
    known = {"FROM", "WORKDIR", "COPY", "RUN", "ENV", "VOLUME", "USER", "EXPOSE", "HEALTHCHECK", "CMD", "ARG", "LABEL",
             "ENTRYPOINT"}
    assert {w for w, _ in parsed} <= known, {w for w, _ in parsed} - known
    build, final = stages(parsed)[0], stages(parsed)[-1]
    for stage in (build, final):
        assert re.fullmatch(r"python:3\.1[1-9]-slim( AS \w+)?", stage[0][1], re.I), stage[0]

    # What the build copies exists here; what it installs is declared in pyproject.toml.
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    for word, args in build:
        if word == "COPY":
            *sources, _dest = args.split()
            for src in sources:
                assert (ROOT / src).exists(), src
        if word == "RUN":
            for extra in re.findall(r"'\.\[([\w,]+)\]'", args):
                assert set(extra.split(",")) <= set(extras), extra
    assert any(w == "RUN" and "mkdocs build --strict" in a for w, a in build), "the image serves the manual"

    # The running image: non-root, data on a volume, `timbra serve` on the exposed port, /healthz checked.
    users = [a for w, a in final if w == "USER"]
    assert users and users[-1] not in ("root", "0"), users
    env = env_of(final)
    assert env["TIMBRA_HOST"] == "0.0.0.0" and env["TIMBRA_DATA_DIR"]
    volumes = [a for w, a in final if w == "VOLUME"]
    assert env["TIMBRA_DATA_DIR"] in " ".join(volumes), volumes
    assert [a for w, a in final if w == "EXPOSE"] == [env["TIMBRA_PORT"]]
    cmd = json.loads(next(a for w, a in final if w == "CMD"))
    assert cmd[:2] == ["timbra", "serve"]
    health = next(a for w, a in final if w == "HEALTHCHECK")
    assert f"127.0.0.1:{env['TIMBRA_PORT']}/healthz" in health and "CMD" in health
    assert any(w == "COPY" and a.startswith("--from=build") for w, a in final)

    # The build context leaves out the virtualenv and local data.
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv/", "data/", ".git/"} <= set(ignored)


def test_forwarded_headers_are_believed_only_from_named_proxies(monkeypatch):
    """Behind a reverse proxy (docs/operations.md) FORWARDED_ALLOW_IPS names it; without it timbra ignores
    X-Forwarded-*, so a client exposed to timbra directly cannot choose its address."""
    from timbra.api.server import _behind_proxy

    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    assert _behind_proxy() is False
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", " ")
    assert _behind_proxy() is False
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "127.0.0.1")
    assert _behind_proxy() is True
