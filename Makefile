# timbra: the two set-up commands are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install run test bench data manual

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

# The implementation manual (docs/manual, MkDocs) as static HTML in timbra/api/manual_html/, served at /manual.
manual: install
	$(BIN)/mkdocs build --strict --quiet

# Install and start the PAC (SQLite in ./data, sandbox keys, a demo account printed on first start).
run: install manual
	TIMBRA_DATA_DIR=$${TIMBRA_DATA_DIR:-$(CURDIR)/data} $(BIN)/timbra serve

# The README's test command (what CI runs): the linter, the layer contracts, then every test.
test: install manual
	./scripts/services.sh
	$(BIN)/ruff check timbra tests bench scripts
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/bench_stamp.py
	$(BIN)/python bench/bench_http.py
	$(BIN)/python bench/bench_issue.py
	$(BIN)/python bench/bench_cancel.py
	$(BIN)/python bench/bench_pdf.py

# Re-import SAT's material from ../shared (only when SAT publishes new schemas or catalogs).
data: install
	$(BIN)/python scripts/import_sat_data.py
