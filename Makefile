# Two commands from a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PYTEST_WORKERS ?= 2

.PHONY: run test check lint typecheck layering bench clean axe messages catalogues go-verifier witness

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

LOCALE := coop/locale
COMPILED := $(patsubst %.po,%.mo,$(wildcard $(LOCALE)/*/LC_MESSAGES/coop.po))

## run: install, migrate the SQLite database under var/, seed the demo on first run, serve on 127.0.0.1:8000
run: $(STAMP) catalogues
	$(BIN)/coop db upgrade
	$(BIN)/coop demo --if-empty
	$(BIN)/coop serve

## test: the whole suite (SQLite always; PostgreSQL when it answers, or always with COOP_TEST_POSTGRES=require;
## the browser tests when Debian's chromium is installed, or always with COOP_E2E=require)
test: $(STAMP) catalogues axe
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal -q

AXE := .cache/axe/node_modules/axe-core/axe.min.js
## axe: axe-core, the accessibility rules the browser tests run (needs npm; without it that test is skipped)
axe:
	@test -f $(AXE) || (command -v npm >/dev/null 2>&1 && npm install --no-save --silent --prefix .cache/axe axe-core@4.14 >/dev/null 2>&1) \
		|| echo "npm is missing: the accessibility test will not run"

GO_VERIFIER := .cache/go-verifier
GO_XMOD := /usr/share/gocode/src/golang.org/x/mod/sumdb
## go-verifier: the independent verifier of checkpoints and tiles (tests/verifier), built offline with Debian's Go
## and golang.org/x/mod (installs golang-go and golang-golang-x-mod-dev when missing)
go-verifier: $(GO_VERIFIER)

$(GO_VERIFIER): tests/verifier/main.go
	@(command -v go >/dev/null 2>&1 && test -d $(GO_XMOD)) || { export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -qq golang-go golang-golang-x-mod-dev >/dev/null || \
		{ apt-get update -qq && apt-get install -y -qq golang-go golang-golang-x-mod-dev >/dev/null; }; }
	GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= GOPROXY=off GOCACHE=$(CURDIR)/.cache/go-build \
		go build -o $@ ./tests/verifier

WITNESS_VENV := .cache/witness-venv
## witness: aics-witness, an independent C2SP tlog-witness from PyPI, in a venv of its own on Python 3.12 (it
## needs Python >= 3.12; the application's .venv stays on its own Python): the witness the tests send checkpoints to
witness: $(WITNESS_VENV)/bin/aics-witness

$(WITNESS_VENV)/bin/aics-witness:
	@PY312=$$(python3.12 -c 'import sys; print(sys.executable)' 2>/dev/null || \
		ls $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3.12 2>/dev/null | tail -n1); \
		test -n "$$PY312" || { echo "Python 3.12 is missing: make witness needs it"; exit 1; }; \
		"$$PY312" -m venv $(WITNESS_VENV)
	$(WITNESS_VENV)/bin/python -m pip install --quiet 'aics-witness>=0.1.0'

## catalogues: compile each language's coop/locale/<lang>/LC_MESSAGES/coop.po into the coop.mo the application reads
catalogues: $(COMPILED)

$(LOCALE)/%/LC_MESSAGES/coop.mo: $(LOCALE)/%/LC_MESSAGES/coop.po $(STAMP)
	$(BIN)/pybabel -q compile -D coop -l $* -i $< -o $@

## messages: extract the texts (t("key") and N_("key") in babel.cfg's files) into coop/locale/coop.pot and merge
## them into every language's coop.po: new keys arrive empty, keys no longer used leave
messages: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k t -c Translators: --project=coop --version=0.1.0 \
		--header-comment="# The texts of the health-data cooperative, by key: see README, \"Languages\"." -o $(LOCALE)/coop.pot .
	$(BIN)/pybabel -q update -D coop -i $(LOCALE)/coop.pot -d $(LOCALE) --ignore-obsolete --no-fuzzy-matching

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check coop ledger reports

typecheck: $(STAMP)
	$(BIN)/mypy coop ledger reports bench

layering: $(STAMP)
	$(BIN)/lint-imports

## check: ruff, mypy (the application and bench/, strict on ledger/), the layering contract, and the tests
check: lint typecheck layering test

## bench: run the benchmarks and rewrite bench/RESULTS.md (installs Debian's ledger, the peer for balances)
bench: $(STAMP)
	@command -v ledger >/dev/null || (apt-get update -qq && apt-get install -y -qq ledger) || \
		echo "ledger could not be installed: the balances benchmark will lack its peer figure"
	$(BIN)/coop bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(COMPILED)
