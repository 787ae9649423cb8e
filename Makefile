# The verbs people type. `make` alone lists them.
# Every target that cares about the date passes TODAY=YYYY-MM-DD through as
# --today (default: today in the team's time zone, from content/settings.yaml).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
SITE   ?= _site

today_arg  = $(if $(TODAY),--today $(TODAY))
now_arg    = $(if $(NOW),--now $(NOW))
strict_arg = $(if $(filter 1 yes true,$(STRICT)),--strict)

.DEFAULT_GOAL := help
.PHONY: help install check build test bench serve clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  Options: TODAY=YYYY-MM-DD  NOW=ISO-datetime  STRICT=1"

install: ## create .venv and install relead with its test tools
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'

check: ## validate leads.yaml and content/ (STRICT=1: warnings fail too)
	$(PY) -m relead check $(strict_arg) $(today_arg)

build: ## validate, then render the dashboard into _site/
	$(PY) -m site_builder build --out $(SITE) $(strict_arg) $(today_arg)

test: ## run the test suite
	$(PY) -m pytest -q

bench: ## run the benchmarks (N leads, M history records)
	$(PY) -m bench $(if $(N),--leads $(N)) $(if $(M),--history $(M))

serve: ## serve _site/ on 127.0.0.1 (PORT=8000)
	$(PY) -m site_builder serve --dir $(SITE) $(if $(PORT),--port $(PORT))

clean: ## remove _site/ and caches
	rm -rf $(SITE) .pytest_cache .hypothesis bench/out
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
