# Two commands on a fresh machine: `make demo` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
KERNEL := evaluation
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test setup system-deps dashboard bench clean-outputs

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (evaluation)" >/dev/null
	@touch $@

# Debian packages the browser tests need: Chromium (driven by Playwright) and a Hangul font for page text.
system-deps:
	@if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi nanum; then \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium fonts-nanum fontconfig >/dev/null; \
	fi

demo: $(STAMP)
	$(VENV)/bin/evaluation build params/demo.yaml  # synthetic raw exports -> build/demo/store (incremental)
	$(VENV)/bin/evaluation run params/demo.yaml
	@echo
	@echo "Report:     outputs/smartband_9988/latest/reports/  (HTML, no code)"
	@echo "Results:    outputs/smartband_9988/latest/results.json"
	@echo "JupyterLab: $(VENV)/bin/jupyter lab notebooks/"
	@echo "Dashboards: $(VENV)/bin/evaluation dashboard   (prints the URL with its access token)"

test: $(STAMP) system-deps
	$(PY) -m pytest

dashboard: $(STAMP)
	$(VENV)/bin/evaluation dashboard

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean-outputs:
	find outputs -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
