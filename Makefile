# The verbs people type. `make` alone lists them.
# Every target that cares about the date passes TODAY=YYYY-MM-DD through as
# --today (default: content/settings.yaml's `as_of` when it has one, as the example does, else
# today in the team's time zone).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
SITE   ?= _site

today_arg  = $(if $(TODAY),--today $(TODAY))
now_arg    = $(if $(NOW),--now $(NOW))
strict_arg = $(if $(filter 1 yes true,$(STRICT)),--strict)
dry_arg    = $(if $(filter 1 yes true,$(DRY_RUN)),--dry-run)
jobs_arg   = $(if $(JOBS),--jobs $(JOBS))
# A value in single quotes for the shell; an option from a variable given on the command line
# (`make add NAME=...`), so a NAME or EMAIL that happens to be in the environment is not picked up.
q   = '$(subst ','\'',$(1))'
opt = $(if $(filter command line,$(origin $(1))),--$(2) $(call q,$($(1))))
flag = $(if $(filter 1 yes true,$($(1))),--$(2))

.DEFAULT_GOAL := help
.PHONY: help install check build diff import add plan outreach sync record digest test bench serve clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  Options: TODAY=YYYY-MM-DD  NOW=ISO-datetime  STRICT=1  FORMAT=github (check)  REDACT=1 (build)  JOBS=N (check, build)"

install: ## create .venv and install relead with its test tools
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'

check: ## validate leads.yaml and content/ (STRICT=1: warnings fail too; FORMAT=github: annotations)
	$(PY) -m relead check $(strict_arg) $(today_arg) $(jobs_arg) $(call opt,FORMAT,format)

build: ## validate, then render the dashboard into _site/ (REDACT=1: emails and phones masked)
	$(PY) -m site_builder build --out $(SITE) $(strict_arg) $(today_arg) $(jobs_arg) $(if $(filter 1 yes true,$(REDACT)),--redact)

diff: ## what a change does to the funnel: BASE=<git revision> [HEAD=HEAD] [FORMAT=markdown]
	@test -n "$(BASE)" || { echo "usage: make diff BASE=origin/main [HEAD=HEAD] [FORMAT=text|markdown]" >&2; exit 2; }
	$(PY) -m relead diff $(call q,$(BASE)) $(call q,$(if $(filter command line,$(origin HEAD)),$(HEAD),HEAD)) $(today_arg) $(call opt,FORMAT,format)

import: ## add leads from a CRM export: FILE=export.csv [FROM=hubspot|pipedrive|salesforce|csv] [MAP=map.yaml] [DRY_RUN=1]
	@test -n "$(FILE)" || { echo "usage: make import FILE=export.csv [FROM=hubspot|pipedrive|salesforce|csv] [MAP=mapping.yaml] [DRY_RUN=1]" >&2; exit 2; }
	$(PY) -m relead import $(call q,$(FILE)) $(call opt,FROM,from) $(call opt,MAP,map) $(call opt,SOURCE,source) $(call opt,OWNER,owner) $(call opt,ENCODING,encoding) $(dry_arg) $(today_arg)

add: ## quick capture: NAME=... COMPANY=... [EMAIL=...] [PHONE=...] [SOURCE=...] [OWNER=...]; prints the new id
	$(PY) -m relead add $(call opt,NAME,name) $(call opt,COMPANY,company) $(call opt,EMAIL,email) $(call opt,PHONE,phone) $(call opt,SOURCE,source) $(call opt,OWNER,owner) $(dry_arg) $(today_arg)

plan: ## write the day's queue to outbox/<date>/queue.yaml, for review
	$(PY) -m outreach plan $(today_arg) $(now_arg)

outreach: ## send the day's queue and commit the outcomes [DRY_RUN=1] [REQUIRE_REVIEW=1] [COMMIT=0] [PUSH=1]
	$(PY) -m outreach send $(today_arg) $(now_arg) $(dry_arg) $(call flag,REQUIRE_REVIEW,require-review) $(if $(filter 0 no false,$(COMMIT)),--no-commit) $(call flag,PUSH,push)

sync: ## record what came back (replies, bounces, out of office, opt-outs) [DRY_RUN=1] [COMMIT=0] [PUSH=1]
	$(PY) -m outreach sync $(today_arg) $(now_arg) $(dry_arg) $(if $(filter 0 no false,$(COMMIT)),--no-commit) $(call flag,PUSH,push)

record: ## record a response: LEAD=... OUTCOME=... [NOTE=...] [TOUCH=...] [CHANNEL=...]
	@test -n "$(LEAD)" -a -n "$(OUTCOME)" || { echo "usage: make record LEAD=<id> OUTCOME=<outcome> [NOTE=...] [TOUCH=<touch id>] [CHANNEL=email|sms|call|mail]" >&2; exit 2; }
	$(PY) -m outreach record $(call opt,LEAD,lead) $(call opt,OUTCOME,outcome) $(call opt,NOTE,note) $(call opt,TOUCH,touch) $(call opt,CHANNEL,channel) $(today_arg) $(now_arg)

digest: ## mail the team last week in numbers [TO=a@x,b@y] [DRY_RUN=1] [COMMIT=0] [PUSH=1]
	$(PY) -m outreach digest $(today_arg) $(now_arg) $(dry_arg) $(call opt,TO,to) $(if $(filter 0 no false,$(COMMIT)),--no-commit) $(call flag,PUSH,push)

test: ## run the test suite
	$(PY) -m pytest -q

bench: ## run the benchmarks: load/build (N leads, M history records; medians of REPEAT=3 runs), outreach, import
	$(PY) -m bench $(if $(N),--leads $(N)) $(if $(M),--history $(M)) --keep --repeat $(or $(REPEAT),3)
	$(PY) -m bench.outreach $(if $(N),--plan-leads $(N)) $(if $(M),--plan-history $(M))
	$(PY) -m bench.importing $(if $(N),--leads $(N)) $(if $(M),--history $(M))

serve: ## serve _site/ on 127.0.0.1 (PORT=8000)
	$(PY) -m site_builder serve --dir $(SITE) $(if $(PORT),--port $(PORT))

clean: ## remove _site/ and caches
	rm -rf $(SITE) .pytest_cache .hypothesis bench/out
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
