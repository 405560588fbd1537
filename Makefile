# kubelog: `make demo` (set up + ingest and analyse sample_logs/), `make test` (set up + all tests),
# `make test-fast` (the quick subset while editing).
# Needs only python3 (3.11+) and make; everything else is installed into .venv.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
KUBELOG := $(VENV)/bin/kubelog
STAMP := $(VENV)/.installed
DEMO_OUT ?= demo_out

.PHONY: setup demo test test-fast lint bench docs clean

$(STAMP): pyproject.toml setup.py kubelog/_native/fastscan.c
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,pdf]'
	$(PY) -m compileall -q kubelog  # bytecode, as a regular install has (also under PYTHONDONTWRITEBYTECODE)
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	@set -e; for d in sample_logs/*/; do \
	  name=$$(basename $$d); \
	  echo "== $$name: $$(sed -n "s/^- \`$$name\/\`: .* — //p" sample_logs/README.md)"; \
	  $(KUBELOG) ingest $$d --out $(DEMO_OUT)/$$name --force -q >/dev/null; \
	  $(KUBELOG) info $(DEMO_OUT)/$$name | tail -n 12; \
	  $(KUBELOG) latency $(DEMO_OUT)/$$name | head -n 12; \
	  $(KUBELOG) slo $(DEMO_OUT)/$$name | head -n 12; \
	  $(KUBELOG) diagnose $(DEMO_OUT)/$$name | head -n 8; \
	  $(KUBELOG) report $(DEMO_OUT)/$$name --out $(DEMO_OUT)/$$name-report >/dev/null; \
	  echo "report: $(DEMO_OUT)/$$name-report/report.html (and report.pdf)"; \
	  echo; \
	done
	$(KUBELOG) compare $(DEMO_OUT)/skew-timeout-1.14 $(DEMO_OUT)/healthy-1.28 --out $(DEMO_OUT)/compare | head -n 20
	@echo "run directories and reports are in $(DEMO_OUT)/"

test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider

# the edit-test loop: no whole sample runs, no real-log corpus, no test marked slow (< 60 s on 2 cores)
test-fast: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider -m "not slow and not real"

# ruff: the lint rules and the formatting of pyproject.toml (CI runs this after `make test`)
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(STAMP)
	$(PY) bench/bench_ingest.py
	$(PY) bench/bench_matrix.py
	$(PY) bench/bench_report.py --nodes 100 --scale 2

docs: $(STAMP)
	$(KUBELOG) tables -F markdown > docs/tables.md
	$(KUBELOG) formats -F markdown > docs/formats.md
	$(PY) -m kubelog.docgen > docs/cli.md

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache
