"""Write the table of timbra's error codes (timbra/codes.py) into README.md, between its markers.

    .venv/bin/python scripts/codes_table.py
"""
from pathlib import Path

from timbra.codes import codes_markdown

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- codes:start -->", "<!-- codes:end -->"


def with_table(readme: str) -> str:
    head, _, rest = readme.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{codes_markdown()}{END}{tail}"


if __name__ == "__main__":
    path = ROOT / "README.md"
    path.write_text(with_table(path.read_text(encoding="utf-8")), encoding="utf-8")
