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


def test_every_code_of_the_matrices_in_scope_is_covered():
    """Issue #4: every code of CFDI 4.0, Pagos 2.0, Nómina 1.2 and Carta Porte 3.1 is implemented and tested,
    or declared not applicable with its reason."""
    from timbra.cfdi.coverage import IN_SCOPE

    cov = coverage(ROOT / "tests")
    missing = {name: [r.code for r in cov[name] if not r.ok] for name in IN_SCOPE}
    assert missing == {name: [] for name in IN_SCOPE}
