"""docs/validations.md is generated from the rules, the matrices and what the rule tests observed
(docs/observed-rules.json, written by tests/observe.py after a run of tests/cfdi), and is kept up to date."""
import json
from pathlib import Path

from timbra.cfdi.coverage import IN_SCOPE, Observed, coverage, markdown
from timbra.cfdi.rules import DataNeed, missing_data
from timbra.sat.catalogs import Catalogs, catalogs

ROOT = Path(__file__).resolve().parent.parent
OBSERVED = ROOT / "docs" / "observed-rules.json"


def _coverage():
    return coverage(Observed.load(OBSERVED))


def test_validations_table_is_up_to_date():
    assert (ROOT / "docs" / "validations.md").read_text(encoding="utf-8") == markdown(_coverage()), \
        "run: make validations"


def test_every_implemented_code_was_seen_reported_and_passed():
    """A code counts as tested when the run saw its rule report it and saw a document pass through the rule."""
    untested = [(r.code, r.reported, r.passed) for rows in _coverage().values() for r in rows
                if r.implemented and not r.tested and not r.not_evaluated and r.not_applicable is None]
    assert untested == []


def test_every_code_of_the_matrices_in_scope_is_covered():
    """Issue #4: every code of CFDI 4.0, Pagos 2.0, Nómina 1.2 and Carta Porte 3.1 is implemented and tested,
    or declared not applicable with its reason, or not evaluated for want of SAT's data."""
    cov = _coverage()
    missing = {name: [r.code for r in cov[name] if not r.ok] for name in IN_SCOPE}
    assert missing == {name: [] for name in IN_SCOPE}


def test_observation_is_sorted_and_names_timbras_codes():
    """Rules also report codes of their own (402 with the padrón, T160...): every one is in timbra/codes.py."""
    from timbra.codes import CODES

    data = json.loads(OBSERVED.read_text(encoding="utf-8"))
    for key in ("reported", "passed", "injected_reported", "injected_passed"):
        assert data[key] == sorted(set(data[key])), key
    matrix_codes = {r.code for rows in _coverage().values() for r in rows}
    assert set(data["reported"]) - matrix_codes - set(CODES) == set()


# -- rules whose SAT data the shipped catalogs lack --------------------------------------------------------

def test_the_rules_lacking_sat_data_are_known_and_said_in_the_table():
    """Issue #15: these can only fire with catalog rows a test injects; the table says "no evaluada"."""
    missing = missing_data(catalogs())
    assert {c: n.part for c, n in missing.items()} == {
        "CFDI40163": None, "CFDI40164": "la mitad IEPS", "CP143": None, "CP155": None, "CP200": None,
        "CFDI40194": "el tope del consecutivo", "CFDI40199": "el tope del consecutivo",
        "CP174": "el tope del consecutivo"}
    rows = {r.code: r for rs in _coverage().values() for r in rs}
    for code, need in missing.items():
        assert need.reason() in rows[code].status
        assert rows[code].not_evaluated == (need.part is None)
    # What the tests saw these rules report came from injected rows only: not counted as tested.
    data = json.loads(OBSERVED.read_text(encoding="utf-8"))
    assert {c for c, n in missing.items() if n.part is None} <= set(data["injected_reported"])
    assert not {c for c, n in missing.items() if n.part is None} & set(data["reported"])


def test_a_rule_is_evaluated_once_its_data_is_present():
    base = catalogs()
    colonias = {"columns": ["colonia", "codigo_postal", "texto"], "rows": [["0001", "06000", "Centro"]]}
    tables = {**base._tables_raw, "ccp_31_colonias": colonias}
    with_colonias = Catalogs({"version": base.version, "enumerations": base._enums_raw, "bindings": base.bindings,
                              "tables": tables})
    assert {"CP143", "CP200"} & set(missing_data(with_colonias)) == set()
    assert isinstance(missing_data(base)["CP143"], DataNeed)
    row = coverage(Observed(frozenset({"CP143"}), frozenset({"CP143"})), with_colonias)["cartaporte31"]
    assert next(r for r in row if r.code == "CP143").status == "implementado y probado"
