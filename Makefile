# timbra: the two set-up commands are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install run test bench soak data manual validations test-future mutation

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

# The README's test command (what CI runs): the linter, the layer contracts, then every test, one worker
# process per core (at most 4; a test file's tests run in order in one worker: the browser tests share pages).
PYTEST_WORKERS ?= -n auto --maxprocesses 4 --dist loadfile
test: install manual
	./scripts/services.sh
	$(BIN)/ruff check timbra tests bench scripts
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_WORKERS)

bench: install
	$(BIN)/python bench/bench_stamp.py
	$(BIN)/python bench/bench_http.py
	$(BIN)/python bench/bench_issue.py
	$(BIN)/python bench/bench_cancel.py
	$(BIN)/python bench/bench_pdf.py

# 10 minutes of steady stamping over loopback: latency per minute and the server's memory over time.
soak: install
	$(BIN)/python bench/soak.py --rate 50 --minutes 10

# Re-import SAT's material from ../shared (only when SAT publishes new schemas or catalogs).
data: install
	$(BIN)/python scripts/import_sat_data.py

# docs/validations.md from what the rule tests observe (tests/observe.py): run every test under tests/cfdi,
# then write the table and the committed evidence (docs/observed-rules.json) from that run.
validations: install
	TIMBRA_OBSERVE_UPDATE=1 $(BIN)/python -m pytest -p no:randomly tests/cfdi
	$(BIN)/python scripts/validations_table.py --observed build/observed-rules.json

# The clock-sensitive tests with the clock moved ten years ahead (tests/conftest.py, TIMBRA_TEST_SHIFT_YEARS):
# a test that pairs the real clock with a fixed date fails here years before it would in `make test`.
FUTURE_TESTS ?= tests/test_cli.py tests/test_cli_accounts.py tests/test_cli_datadir.py tests/test_cli_demo.py \
	tests/test_cli_errors.py tests/test_cli_vault.py tests/test_cli_verify.py \
	tests/api tests/pac tests/cfdi tests/gateway tests/store tests/sat tests/render tests/web/test_portal.py
test-future: install
	./scripts/services.sh
	TIMBRA_TEST_SHIFT_YEARS=10 $(BIN)/python -m pytest -p no:randomly $(FUTURE_TESTS)

# Mutation testing of the validator's rules (scripts/mutation.py): MODULE=complementos/nomina12 for one
# module, JOBS=2 mutants at once; results cached in .mutation-cache/, report in docs/mutation.md.
JOBS ?= 2
mutation: install
	$(BIN)/python scripts/mutation.py -j $(JOBS) $(MODULE)
