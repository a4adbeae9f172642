"""Write docs/validations.md: every code of every SAT matrix and its status in timbra, from what a test run
observed (tests/observe.py writes build/observed-rules.json after a run of every test under tests/cfdi).

    make validations
    # which is:
    TIMBRA_OBSERVE_UPDATE=1 .venv/bin/python -m pytest tests/cfdi
    .venv/bin/python scripts/validations_table.py --observed build/observed-rules.json

The observation given is copied to docs/observed-rules.json (the committed evidence the table is checked
against, tests/test_validations_table.py); without --observed the table is regenerated from that file.
"""
import argparse
import shutil
from pathlib import Path

from timbra.cfdi.coverage import Observed, coverage, markdown

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "docs" / "observed-rules.json"

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--observed", type=Path, default=COMMITTED,
                        help="the observation of a full run of tests/cfdi (default: the committed one)")
    args = parser.parse_args()
    if args.observed.resolve() != COMMITTED.resolve():
        shutil.copyfile(args.observed, COMMITTED)
    text = markdown(coverage(Observed.load(COMMITTED)))
    (ROOT / "docs" / "validations.md").write_text(text, encoding="utf-8")
    print(text.split("\n\n")[3])
