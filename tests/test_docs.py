"""The README is part of the product: its code tables are generated from timbra/codes.py, the files it names
exist, and nothing a user follows points outside the repository."""
import re
from pathlib import Path

from scripts.codes_table import CANCELLATION_END, CANCELLATION_START, END, START, with_table
from timbra.codes import CANCELLATION_CODES, CODES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_code_table_is_up_to_date():
    assert with_table(README) == README, "run: .venv/bin/python scripts/codes_table.py"


def _listed(start: str, end: str) -> list[str]:
    block = README.split(start)[1].split(end)[0]
    return re.findall(r"^\| `([0-9A-Z]+)` \|", block, re.M)


def test_readme_lists_every_timbra_code():
    assert _listed(START, END) == list(CODES)


def test_readme_lists_the_cancellation_codes_in_their_own_table():
    """SAT's cancellation service codes are a second table: 301-308 mean other things there than in stamping."""
    listed = _listed(CANCELLATION_START, CANCELLATION_END)
    assert listed == list(CANCELLATION_CODES)
    assert {"303", "306", "308"} <= set(listed) & set(_listed(START, END))


def test_files_the_readme_names_exist():
    named = set(re.findall(r"\b((?:docs|bench|scripts|timbra)/[\w./-]+\.(?:json|md|py))\b", README))
    assert named and [n for n in named if not (ROOT / n).exists()] == []


def test_user_facing_steps_stay_inside_the_repository():
    user_part = README.split("## Para desarrolladores")[0]
    assert "../shared" not in user_part and "make data" not in user_part


def test_reliability_names_tests_that_exist():
    """docs/reliability.md says which test proves each guarantee: every file (and test) it names exists."""
    text = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    named = re.findall(r"`(tests/[\w/]+\.py)(?:::(\w+))?", text)
    assert len(named) > 20
    for path, test in named:
        assert (ROOT / path).exists(), path
        if test:
            assert f"def {test}(" in (ROOT / path).read_text(encoding="utf-8"), f"{path}::{test}"
    for bare in re.findall(r"`(test_\w+)`", text):  # a test named after its file, in the same paragraph
        assert any(f"def {bare}(" in p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("test_*.py")), bare
    assert "docs/reliability.md" in README
