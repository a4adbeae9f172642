"""Every benchmark in bench/ runs, tiny, so CI sees when one rots (issue #9: bench_stamp crashed with 304 once
its fixed date fell outside CSDs made from the real clock). The in-process ones also run with the clock far
in the future: their certificates are made relative to the clock they use."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parent.parent / "bench"
FUTURE = "2041-03-01T12:00:00"


def bench(name: str, *args: str, tmp_path: Path) -> str:
    env = {**os.environ, "TIMBRA_DATA_DIR": str(tmp_path / "unused")}
    env.pop("TIMBRA_DATABASE_URL", None)
    proc = subprocess.run([sys.executable, str(BENCH / name), "--tiny", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{name} exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    return proc.stdout


@pytest.mark.parametrize("at", [None, FUTURE])
def test_bench_stamp(tmp_path, at):
    out = bench("bench_stamp.py", *(["--at", at] if at else []), tmp_path=tmp_path)
    assert "stamp   3 conceptos" in out and "stamp 300 conceptos" in out


@pytest.mark.parametrize("at", [None, FUTURE])
def test_bench_issue(tmp_path, at):
    out = bench("bench_issue.py", *(["--at", at] if at else []), tmp_path=tmp_path)
    assert "issues/s" in out and "stamps/s" in out


def test_bench_http(tmp_path):
    out = bench("bench_http.py", tmp_path=tmp_path)
    levels = re.findall(r"^\s*\d+ clients: .*\((\d+) stamps, (\d+) errors\)", out, re.M)
    assert len(levels) == 2 and all(int(n) > 0 and errors == "0" for n, errors in levels), out
    assert re.search(r"^the request floor, GET /healthz from 1 client: [\d,]+/s  p50 \d+\.\d\d ms", out, re.M), out
    assert "delivery to the sandbox SAT afterwards" in out


@pytest.mark.parametrize("at", [None, FUTURE])
def test_bench_cancel(tmp_path, at):
    out = bench("bench_cancel.py", *(["--at", at] if at else []), tmp_path=tmp_path)
    assert "cancellations/s" in out and "queries/s" in out


def test_bench_pdf(tmp_path):
    out = bench("bench_pdf.py", "--at", FUTURE, tmp_path=tmp_path)
    assert re.search(r"pdf   3 conceptos: .* PDFs/s .*\(1 pages", out), out
    assert re.search(r"pdf 300 conceptos: .* PDFs/s .*\(\d+ pages", out), out
    assert "fresh process" in out and "from the PAC's cache" in out


def test_bench_soap(tmp_path):
    out = bench("bench_soap.py", tmp_path=tmp_path)
    rows = re.findall(r"^\s*(\d+) clients\s+(REST|SOAP|portal) .*?([\d,]+) stamps/s .*\((\d+) stamps, (\d+) errors\)",
                      out, re.M)
    assert len(rows) == 8 and all(int(n) > 0 and errors == "0" for *_, n, errors in rows), out
    assert {kind for _, kind, *_ in rows} == {"REST", "SOAP", "portal"}


def test_soak(tmp_path):
    out = bench("soak.py", tmp_path=tmp_path)
    total = re.search(r"^total: (\d+) stamps .* (\d+) errors", out, re.M)
    assert total and int(total.group(1)) > 0 and total.group(2) == "0", out
    assert re.search(r"p50 +[\d.]+ ms +p99 +[\d.]+ ms", out) and "server RSS over time:" in out
    assert re.search(r"^\s+[\d.]+ s\s+[\d.]+ MiB$", out, re.M) and re.search(r"^memory: ", out, re.M), out
