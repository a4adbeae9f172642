"""`timbra pdf FILE.xml`: any stamped CFDI to its PDF, without a database; a logo and colour, CANCELADO; errors
as one coded line."""
from __future__ import annotations

from io import BytesIO

from click.testing import CliRunner
from PIL import Image
from pypdf import PdfReader

from tests.render.conftest import SAMPLES, flat
from timbra.cli import main


def test_timbra_pdf(docs, tmp_path):
    runner = CliRunner()
    xml = tmp_path / "factura.xml"
    xml.write_bytes(docs["mxn"])
    r = runner.invoke(main, ["pdf", str(xml)])
    assert r.exit_code == 0, r.output
    made = tmp_path / "factura.pdf"
    assert f"-> {made}" in r.output and "UNIVERSIDAD ROBOTICA ESPAÑOLA" in flat(made.read_bytes())

    logo = tmp_path / "logo.png"
    Image.new("RGBA", (120, 60), (0, 90, 200, 255)).save(logo)
    out = tmp_path / "otro.pdf"
    r = runner.invoke(main, ["pdf", str(xml), "-o", str(out), "--cancelado", "--logo", str(logo), "--color", "#112233"])
    assert r.exit_code == 0, r.output
    assert "CFDI CANCELADO ANTE EL SAT" in flat(out.read_bytes())
    assert len(PdfReader(BytesIO(out.read_bytes())).pages[0].images) == 1

    r = runner.invoke(main, ["pdf", str(SAMPLES / "cfdv40-ejemplo-signed-tfd.xml"), "-o", "-"])
    assert r.exit_code == 0 and r.stdout_bytes.startswith(b"%PDF-")


def test_timbra_pdf_refusals(tmp_path):
    runner = CliRunner()
    r = runner.invoke(main, ["pdf", str(SAMPLES / "cfdv40-min.xml"), "-o", str(tmp_path / "x.pdf")])
    assert r.exit_code == 1 and "error T163" in r.stderr and not (tmp_path / "x.pdf").exists()
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<no/>")
    r = runner.invoke(main, ["pdf", str(bad)])
    assert r.exit_code == 1 and "error 301" in r.stderr
    r = runner.invoke(main, ["pdf", str(SAMPLES / "cfdv40-ejemplo-signed-tfd.xml"), "--color", "rojo"])
    assert r.exit_code == 1 and "error T192" in r.stderr
    r = runner.invoke(main, ["pdf", str(SAMPLES / "cfdv40-ejemplo-signed-tfd.xml"), "--logo", str(bad)])
    assert r.exit_code == 1 and "error T190" in r.stderr
