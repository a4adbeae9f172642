"""Write docs/validations.md: every code of every SAT matrix and its status in timbra.

    .venv/bin/python scripts/validations_table.py
"""
from pathlib import Path

from timbra.cfdi.coverage import coverage, markdown

ROOT = Path(__file__).resolve().parent.parent

if __name__ == "__main__":
    text = markdown(coverage(ROOT / "tests"))
    (ROOT / "docs" / "validations.md").write_text(text, encoding="utf-8")
    print(text.split("\n\n")[3])
