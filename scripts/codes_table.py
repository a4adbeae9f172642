"""Write the tables of timbra's error codes (timbra/codes.py) into README.md, between their markers: the
stamping and service codes, then SAT's cancellation service codes.

    .venv/bin/python scripts/codes_table.py
"""
from pathlib import Path

from timbra.codes import cancellation_codes_markdown, codes_markdown

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- codes:start -->", "<!-- codes:end -->"
CANCELLATION_START, CANCELLATION_END = "<!-- cancellation-codes:start -->", "<!-- cancellation-codes:end -->"


def _between(readme: str, start: str, end: str, table: str) -> str:
    head, _, rest = readme.partition(start)
    _, _, tail = rest.partition(end)
    return f"{head}{start}\n{table}{end}{tail}"


def with_table(readme: str) -> str:
    readme = _between(readme, START, END, codes_markdown())
    return _between(readme, CANCELLATION_START, CANCELLATION_END, cancellation_codes_markdown())


if __name__ == "__main__":
    path = ROOT / "README.md"
    path.write_text(with_table(path.read_text(encoding="utf-8")), encoding="utf-8")
