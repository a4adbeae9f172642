"""The manual (docs/manual, MkDocs): it builds with --strict, loads nothing from the web, its error catalog has
every code of timbra/codes.py with its cause and fix, timbra serves it at /manual (or says how to build it),
and its examples RUN: each one against a live `timbra serve` (a subprocess on a free port, a fresh data
directory), in every language whose runtime this machine has (curl and Python always; Node.js, Java, PHP and
.NET when installed)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import count
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from scripts import manual_hooks
from tests.conftest import free_port
from timbra.api.app import Manual
from timbra.cfdi.credentials import Credential
from timbra.cfdi.sample import sealed_sample
from timbra.codes import CANCELLATION_CODES, CODES

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "manual" / "examples"
UUID = re.compile(r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}")


# --- the build -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("manual") / "site"
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--config-file",
                        str(ROOT / "mkdocs.yml"), "--site-dir", str(out)], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return out


def test_manual_builds_strict_and_offline(site: Path):
    pages = sorted(site.glob("*.html"))
    names = {p.name for p in pages}
    assert {"index.html", "rest.html", "soap.html", "ejemplos.html", "emision.html", "cancelacion.html",
            "errores.html", "validaciones.html", "operacion.html"} <= names
    for page in pages:
        html = page.read_text(encoding="utf-8")
        # no script, style sheet, image or font from the web: the manual works without network
        external = re.findall(r'<(?:script|link|img|iframe)[^>]+(?:src|href)="(?:https?:)?//[^"]+"', html)
        assert not external, (page.name, external)
    assert (site / "img" / "cancelacion.svg").is_file()
    assert 'src="img/cancelacion.svg"' in (site / "cancelacion.html").read_text(encoding="utf-8")


def test_examples_are_included_in_the_pages(site: Path):
    """Every example file is shown in the manual (included at build time, not pasted)."""
    html = "".join(p.read_text(encoding="utf-8") for p in site.glob("*.html"))
    text = re.sub(r"<[^>]+>", "", html).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">") \
        .replace("&amp;", "&").replace("&#39;", "'")
    for example in sorted(EXAMPLES.rglob("*")):
        if example.is_file():
            first = next(line for line in example.read_text(encoding="utf-8").splitlines()
                         if len(line.strip()) > 20 and not line.startswith("<?php"))
            assert first.strip() in text, example
    for name in ("issue-factura", "issue-nomina", "issue-pagos"):  # an example JSON for every issue endpoint
        data = json.loads((ROOT / "docs" / "examples" / f"{name}.json").read_text(encoding="utf-8"))
        assert f'"referencia": "{data["referencia"]}"' in text, name


def test_error_catalog_has_every_code_with_cause_and_fix(site: Path):
    assert set(manual_hooks.CAUSES) == set(CODES), "every code of timbra/codes.py needs its cause and fix"
    assert set(manual_hooks.CAUSES_EN) == set(CODES), "and in English"
    assert set(manual_hooks.CANCELLATION_CAUSES) == set(manual_hooks.CANCELLATION_CAUSES_EN) == set(CANCELLATION_CODES)
    assert all(cause and fix for cause, fix in [*manual_hooks.CAUSES.values(), *manual_hooks.CAUSES_EN.values(),
                                                *manual_hooks.CANCELLATION_CAUSES.values(),
                                                *manual_hooks.CANCELLATION_CAUSES_EN.values()])
    html = (site / "errores.html").read_text(encoding="utf-8")
    for code in [*CODES.values(), *CANCELLATION_CODES.values()]:
        assert f'id="c{code.code}"' in html, code.code
    for code in CODES.values():
        es = code.es.replace("`", "")
        assert es.split(":")[0][:30] in html.replace("<code>", "").replace("</code>", ""), code.code
    from timbra.sat.matrices import matrix_rows

    for row in matrix_rows():  # every code of SAT's matrices, with SAT's text
        assert f"<code>{row['codigo']}</code>" in html, row["codigo"]


def test_rest_and_soap_pages_list_every_route_and_operation(site: Path):
    from timbra.api import cancel, printing, rest
    from timbra.api.soap import endpoints

    html = (site / "rest.html").read_text(encoding="utf-8")
    for router in (rest.router, cancel.router, printing.router):
        for route in router.routes:
            assert f"<code>{route.path}</code>" in html, route.path
    html = (site / "soap.html").read_text(encoding="utf-8")
    for path, ep in endpoints().items():
        assert f"<code>{path}</code>" in html
        for op in ep.service.ops:
            assert f"<code>{op.name}</code>" in html, op.name


# --- /manual ---------------------------------------------------------------------------------------------

def test_manual_is_served_or_says_how_to_build_it(tmp_path: Path):
    app = Starlette(routes=[Mount("/manual", Manual(tmp_path / "site"))])
    client = TestClient(app)
    r = client.get("/manual/")
    assert r.status_code == 404 and "make manual" in r.text and "text/html" in r.headers["content-type"]
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<h1>timbra manual</h1>", encoding="utf-8")
    (tmp_path / "site" / "rest.html").write_text("<h1>REST</h1>", encoding="utf-8")
    r = client.get("/manual/")
    assert r.status_code == 200 and "timbra manual" in r.text
    assert client.get("/manual/rest.html").text == "<h1>REST</h1>"
    assert client.get("/manual", follow_redirects=True).text == "<h1>timbra manual</h1>"
    assert client.get("/manual/nothing.html").status_code == 404


# --- the examples, run against a live server -------------------------------------------------------------

@dataclass
class Live:
    url: str
    api_key: str
    user: str
    password: str
    data_dir: Path
    folios = count(1)

    def sealed(self, tmp: Path) -> Path:
        """A freshly sealed CFDI of the demo account (its own Folio: every run is a new stamp)."""
        keys = self.data_dir / "keys"
        c = next(c for c in json.loads((keys / "sandbox.json").read_text())["csd"] if c["rfc"] == "EKU9003173C9")
        csd = Credential.load((keys / c["cer"]).read_bytes(), (keys / c["key"]).read_bytes(), c["password"])
        path = tmp / f"cfdi-{next(self.folios)}.xml"
        path.write_bytes(sealed_sample(csd, datetime.now(timezone.utc), folio=f"MANUAL-{path.stem}"))
        return path

    def issue_json(self, tmp: Path) -> Path:
        data = json.loads((ROOT / "docs" / "examples" / "issue-factura.json").read_text(encoding="utf-8"))
        folio = next(self.folios)
        # a folio of its own too: two invoices alike to the byte (same data, same second) are one document,
        # and the second referencia would get the first one's stamp (200, replayed)
        data["referencia"], data["Folio"] = f"MANUAL-{folio}", str(folio)
        path = tmp / f"{data['referencia']}.json"
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        return path


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[Live]:
    data_dir = tmp_path_factory.mktemp("manual-serve")
    port = free_port()
    env = {**os.environ, "TIMBRA_DATA_DIR": str(data_dir), "TIMBRA_PORT": str(port), "PYTHONUNBUFFERED": "1"}
    for name in ("TIMBRA_DATABASE_URL", "TIMBRA_ENV", "TIMBRA_BLOB_URL"):
        env.pop(name, None)
    log_path = data_dir / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "timbra.cli", "serve"], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, log_path.read_text(errors="replace")
            assert time.monotonic() < deadline, "timbra serve did not start: " + log_path.read_text(errors="replace")
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        printed = {}
        for line in log_path.read_text(errors="replace").splitlines():
            parts = line.split()
            if line.strip().startswith("API key"):
                printed["key"] = parts[-1]
            elif line.strip().startswith("contraseña"):
                printed["password"] = parts[-1]
        yield Live(url, printed["key"], "demo", printed["password"], data_dir)
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def run(live: Live, command: list[str], tmp: Path, **env: str) -> str:
    """Runs one example with its variables; it must succeed. Returns what it printed."""
    full = {**os.environ, "TIMBRA_URL": live.url, "TIMBRA_API_KEY": live.api_key, "TIMBRA_USER": live.user,
            "TIMBRA_PASSWORD": live.password, **env}
    r = subprocess.run(command, cwd=tmp, env=full, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, (command, r.stdout[-3000:], r.stderr[-3000:])
    return r.stdout


def needs(*programs: str):
    missing = [p for p in programs if shutil.which(p) is None]
    return pytest.mark.skipif(bool(missing), reason=f"not installed here: {', '.join(missing)}")


def _copy(tmp: Path, example: Path) -> Path:
    """Java's and .NET's single-file runs compile next to the source: run them from a copy in tmp."""
    target = tmp / example.name
    shutil.copy(example, target)
    return target


def dotnet(tmp: Path, example: Path) -> list[str]:
    project = tmp / example.stem
    project.mkdir()
    (project / f"{example.stem}.csproj").write_text(
        '<Project Sdk="Microsoft.NET.Sdk"><PropertyGroup><OutputType>Exe</OutputType>'
        "<TargetFramework>net8.0</TargetFramework><Nullable>enable</Nullable></PropertyGroup></Project>")
    shutil.copy(example, project / "Program.cs")
    return ["dotnet", "run", "--project", str(project)]


REST_PROGRAMS = {
    "python": (lambda tmp: [sys.executable, str(EXAMPLES / "rest" / "timbra_rest.py")], ()),
    "node": (lambda tmp: ["node", str(EXAMPLES / "rest" / "timbra_rest.mjs")], ("node",)),
    "java": (lambda tmp: ["java", str(_copy(tmp, EXAMPLES / "rest" / "TimbraRest.java"))], ("java",)),
    "php": (lambda tmp: ["php", str(EXAMPLES / "rest" / "timbra_rest.php")], ("php",)),
    "csharp": (lambda tmp: dotnet(tmp, EXAMPLES / "rest" / "TimbraRest.cs"), ("dotnet",)),
}


@pytest.mark.parametrize("language", list(REST_PROGRAMS))
def test_rest_example_runs(live: Live, tmp_path: Path, language: str):
    command, programs = REST_PROGRAMS[language]
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        pytest.skip(f"not installed here: {', '.join(missing)}")
    out = run(live, command(tmp_path), tmp_path, TIMBRA_CFDI=str(live.sealed(tmp_path)),
              TIMBRA_ISSUE_JSON=str(live.issue_json(tmp_path)))
    stamped = re.search(rf"^stamp 201 ({UUID.pattern})", out, re.M)
    issued = re.search(rf"^issue 201 ({UUID.pattern})", out, re.M)
    assert stamped and issued, out
    assert re.search(r"^status 200 (Vigente|No Encontrado)$", out, re.M), out
    assert re.search(r"^pdf 200 application/pdf \d{4,} bytes$", out, re.M), out
    assert re.search(rf"^cancel 200 {issued.group(1)} (201|205) ", out, re.M), out
    # what the program printed is what the server stored
    r = httpx.get(f"{live.url}/v1/cfdi/{stamped.group(1)}", headers={"X-API-Key": live.api_key})
    assert r.status_code == 200


@needs("sh", "curl")
def test_curl_rest_examples_run(live: Live, tmp_path: Path):
    rest = EXAMPLES / "rest"
    out = run(live, ["sh", str(rest / "stamp.sh")], tmp_path, TIMBRA_CFDI=str(live.sealed(tmp_path)))
    assert out.rstrip().endswith("HTTP 201"), out
    stamped = json.loads(out.splitlines()[0])
    assert UUID.fullmatch(stamped["uuid"]) and stamped["replayed"] is False
    out = run(live, ["sh", str(rest / "issue.sh")], tmp_path, TIMBRA_ISSUE_JSON=str(live.issue_json(tmp_path)))
    assert out.rstrip().endswith("HTTP 201"), out
    issued = json.loads(out.splitlines()[0])["uuid"]
    out = run(live, ["sh", str(rest / "status.sh")], tmp_path, TIMBRA_UUID=issued)
    assert out.rstrip().endswith("HTTP 200") and json.loads(out.splitlines()[0])["uuid"] == issued, out
    out = run(live, ["sh", str(rest / "pdf.sh")], tmp_path, TIMBRA_UUID=issued, TIMBRA_OUT=str(tmp_path))
    assert out.startswith("HTTP 200 application/pdf"), out
    assert (tmp_path / f"{issued}.pdf").read_bytes().startswith(b"%PDF")
    out = run(live, ["sh", str(rest / "cancel.sh")], tmp_path, TIMBRA_UUID=issued)
    assert out.rstrip().endswith("HTTP 200"), out
    folio = json.loads(out.splitlines()[0])["folios"][0]
    assert folio["uuid"] == issued and folio["code"] in ("201", "205"), folio


SOAP_PROGRAMS = {
    "curl": ({"fel": "timbrar.sh", "finkok": "stamp.sh"}, lambda tmp, p: ["sh", str(p)], ("sh", "curl", "base64", "tr")),
    "python": ({"fel": "timbrar.py", "finkok": "stamp.py"}, lambda tmp, p: [sys.executable, str(p)], ()),
    "node": ({"fel": "timbrar.mjs", "finkok": "stamp.mjs"}, lambda tmp, p: ["node", str(p)], ("node",)),
    "java": ({"fel": "Timbrar.java", "finkok": "Stamp.java"}, lambda tmp, p: ["java", str(_copy(tmp, p))],
             ("java",)),
    "php": ({"fel": "timbrar.php", "finkok": "stamp.php"}, lambda tmp, p: ["php", str(p)], ("php",)),
    "csharp": ({"fel": "Timbrar.cs", "finkok": "Stamp.cs"}, lambda tmp, p: dotnet(tmp, p), ("dotnet",)),
}


def test_conexion_remota_example_runs(live: Live, tmp_path: Path):
    out = run(live, [sys.executable, str(EXAMPLES / "fel" / "conexion_remota.py")], tmp_path)
    m = re.search(rf"^GenerarCFDI40 ok ({UUID.pattern}) folio 1$", out, re.M)
    assert m, out
    assert re.search(r"^ObtenerPDF40 ok \d{4,} bytes$", out, re.M), out
    assert re.search(rf"^CancelarCFDIsV4 {m.group(1)} (201|205)$", out, re.M), out


@pytest.mark.parametrize("service", ["fel", "finkok"])
@pytest.mark.parametrize("language", list(SOAP_PROGRAMS))
def test_soap_example_runs(live: Live, tmp_path: Path, language: str, service: str):
    files, command, programs = SOAP_PROGRAMS[language]
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        pytest.skip(f"not installed here: {', '.join(missing)}")
    out = run(live, command(tmp_path, EXAMPLES / service / files[service]), tmp_path,
              TIMBRA_CFDI=str(live.sealed(tmp_path)))
    if language == "curl":  # the raw SOAP answer
        assert out.rstrip().endswith("HTTP 200"), out[-500:]
        if service == "fel":
            assert "<a:OperacionExitosa>true</a:OperacionExitosa>" in out, out[-2000:]
        else:
            assert "Comprobante timbrado satisfactoriamente" in out and "CodigoError" not in out, out[-2000:]
        uuid = UUID.search(out.split("UUID>", 1)[1]).group(0)
    else:
        word = "TimbrarCFDI ok" if service == "fel" else "stamp ok"
        m = re.search(rf"^{word} (?:200 )?({UUID.pattern})", out, re.M)
        assert m, out
        uuid = m.group(1)
    r = httpx.get(f"{live.url}/v1/cfdi/{uuid}", headers={"X-API-Key": live.api_key})
    assert r.status_code == 200, r.text  # stamped over SOAP, found over REST
