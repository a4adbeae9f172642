"""The README is part of the product: its code table is generated from timbra/codes.py, the files it names
exist, and nothing a user follows points outside the repository."""
import re
from pathlib import Path

from scripts.codes_table import with_table
from timbra.codes import CODES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_code_table_is_up_to_date():
    assert with_table(README) == README, "run: .venv/bin/python scripts/codes_table.py"


def test_readme_lists_every_timbra_code():
    listed = set(re.findall(r"^\| `([0-9A-Z]+)` \|", README, re.M))
    assert listed == set(CODES)


def test_files_the_readme_names_exist():
    named = set(re.findall(r"\b((?:docs|bench|scripts|timbra)/[\w./-]+\.(?:json|md|py))\b", README))
    assert named and [n for n in named if not (ROOT / n).exists()] == []


def test_user_facing_steps_stay_inside_the_repository():
    user_part = README.split("## Para desarrolladores")[0]
    assert "../shared" not in user_part and "make data" not in user_part
