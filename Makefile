# binome — every command bootstraps .venv from the requirements files when they change.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo soak test run provision forms reconcile replay assign publish bench clean browser node redis retention export erase deploy

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

demo: $(STAMP)
	$(PY) -m local.demo

# The campaign under fire at full size (2,000 volunteers, 200 structures): random faults, a killed
# functions process, then reconcile and the invariants; prints its figures (exit 1 on a violation).
soak: $(STAMP)
	$(PY) -m local.fire

# Types first (mypy --strict on the library, the functions, the schemas and the commands), then the suite.
test: $(STAMP) browser node redis
	$(PY) -m mypy
	$(PY) -m pytest

# The console's browser test drives Debian's Chromium (never a downloaded browser build).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

# The Airtable automation scripts (deploy/airtable/) are tested under Debian's Node (18 or later: global fetch).
node:
	@command -v node >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs; }

# The shared Airtable budget's tests start Debian's Redis server of their own (Memorystore when deployed).
redis:
	@command -v redis-server >/dev/null || { apt-get update -qq && apt-get install -y -qq redis-server; }

run: $(STAMP)
	$(PY) -m local.stack

provision: $(STAMP)
	$(PY) -m commands.provision

forms: $(STAMP)
	$(PY) -m commands.forms

reconcile: $(STAMP)
	$(PY) -m commands.reconcile

# make replay REF=<journal record id or response token>
replay: $(STAMP)
	$(PY) -m commands.replay $(REF)

# The whole-pool assignment, as proposals to review; then publish the validated ones.
assign: $(STAMP)
	$(PY) -m commands.assign

publish: $(STAMP)
	$(PY) -m commands.assign publish

# Personal data: the retention run by hand; one address's data exported (JSON) or erased.
retention: $(STAMP)
	$(PY) -m commands.retention

# make export EMAIL=someone@example.org > export.json
export: $(STAMP)
	@$(PY) -m commands.export $(EMAIL)

# make erase EMAIL=someone@example.org
erase: $(STAMP)
	$(PY) -m commands.erase $(EMAIL)

# Google Cloud: functions, scheduler jobs, vendor webhooks (deploy/README.md). DRY_RUN=1 prints the plan.
deploy: $(STAMP)
	$(PY) -m deploy

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf var .pytest_cache .hypothesis
