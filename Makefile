# Two commands on a fresh machine: `make demo` and `make test` (see README.md).
# Both install exactly the versions in uv.lock (`uv sync --locked`); `make lock` regenerates it.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# runtime install (what the demo needs); TEST_STAMP adds the `test` extra
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
KERNEL := evaluation
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# uv itself, pinned, in a small private venv (no system-wide install, no curl | sh)
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON := $(PYTHON)
UV_SYNC := $(UV) sync --locked --quiet
# all cores; `make test PYTEST_ARGS=` runs serially
PYTEST_ARGS ?= -n auto --dist loadgroup

.PHONY: demo demo-mhc test setup system-deps dashboard bench clean-outputs lock lab

setup: $(TEST_STAMP)

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --inexact: a venv that already has the test extra keeps it (no reinstall churn between demo and test)
$(STAMP): uv.lock pyproject.toml | $(UV)
	$(UV_SYNC) --inexact
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (evaluation)" >/dev/null
	@touch $@

$(TEST_STAMP): uv.lock pyproject.toml | $(UV)
	$(UV_SYNC) --extra test
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (evaluation)" >/dev/null
	@touch $(STAMP) $@

# After changing dependencies in pyproject.toml (and environment.yml): one command, then commit uv.lock.
lock: | $(UV)
	$(UV) lock

# Debian packages the browser tests need: Chromium (driven by Playwright) and a Hangul font for page text.
system-deps:
	@if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi nanum; then \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium fonts-nanum fontconfig >/dev/null; \
	fi

demo: $(STAMP)
	$(VENV)/bin/evaluation records build params/demo.yaml  # centre's records (XLSX, CP949 CSV) -> build/demo/participants.parquet
	$(VENV)/bin/evaluation build params/demo.yaml  # synthetic raw exports -> build/demo/store (incremental)
	$(VENV)/bin/evaluation run params/demo.yaml
	$(VENV)/bin/evaluation records build params/mobile_healthcare.yaml  # the centre's records (XLSX, CP949 CSV) -> build/mhc/participants.parquet
	$(VENV)/bin/evaluation run params/mobile_healthcare.yaml  # the second programme (seed 003), no wearable data
	@echo
	@echo "Report:     outputs/smartband_9988/latest/reports/  (HTML, no code)"
	@echo "            outputs/mobile_healthcare_ilsandong/latest/reports/  (mobile healthcare, seed 003)"
	@echo "Results:    outputs/smartband_9988/latest/results.json"
	@echo "JupyterLab: make lab"
	@echo "Dashboards: $(VENV)/bin/evaluation dashboard   (prints the URL with its access token)"

# Only the mobile-healthcare programme (reported figures of seed 003 + the centre's synthetic records, ~2 minutes).
demo-mhc: $(STAMP)
	$(VENV)/bin/evaluation records build params/mobile_healthcare.yaml  # 등록대장.xlsx, 검진결과.csv (CP949), 건강행태설문.xlsx -> build/mhc/participants.parquet
	$(VENV)/bin/evaluation run params/mobile_healthcare.yaml
	@echo
	@echo "Report:     outputs/mobile_healthcare_ilsandong/latest/reports/  (HTML, no code)"
	@echo "Dashboards: $(VENV)/bin/evaluation dashboard   (programme menu: 일산동구보건소 모바일 헬스케어)"

# Prints how long set-up (install + system packages) and the tests took.
test:
	@t0=$$(date +%s); \
	$(MAKE) --no-print-directory setup system-deps || exit $$?; \
	t1=$$(date +%s); \
	$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	t2=$$(date +%s); \
	echo "set-up: $$((t1 - t0)) s, tests: $$((t2 - t1)) s, total: $$((t2 - t0)) s"; \
	exit $$rc

# JupyterLab on the notebooks; --allow-root only when running as root (containers, CI machines).
lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

dashboard: $(STAMP)
	$(VENV)/bin/evaluation dashboard

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean-outputs:
	find outputs -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
