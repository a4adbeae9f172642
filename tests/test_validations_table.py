"""docs/validations.md is generated from the rules and the matrices, and is kept up to date."""
from pathlib import Path

from timbra.cfdi.coverage import coverage, markdown

ROOT = Path(__file__).resolve().parent.parent


def test_validations_table_is_up_to_date():
    expected = markdown(coverage(ROOT / "tests"))
    assert (ROOT / "docs" / "validations.md").read_text(encoding="utf-8") == expected, \
        "run: .venv/bin/python scripts/validations_table.py"


def test_every_implemented_code_is_tested():
    untested = [r.code for rows in coverage(ROOT / "tests").values() for r in rows
                if r.implemented and not r.tested and r.not_applicable is None]
    assert untested == []
