# DSI: two commands set up a fresh machine. `make test` passes the tests,
# `make stress` runs the main job. Both install what they need first and are
# quick when everything is already there.

VENV    := .venv
PY      := $(VENV)/bin/python
APE     := $(VENV)/bin/ape
STAMP   := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
# Keep ape's data (compilers, caches) inside the project, never in $HOME.
export APE_DATA_FOLDER ?= $(CURDIR)/.cache/ape
# ape-vyper looks for compilers through vvm; point it at the pinned pip vyper
# (no download from GitHub, which these machines cannot reach).
export VVM_BINARY_PATH := $(CURDIR)/.cache/vvm

.PHONY: test stress bench bench-settlement fuzz compile setup clean monitor-table

setup: $(STAMP) $(NODE_STAMP)

$(STAMP): requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt > $(VENV)/pip.log 2>&1 \
		|| (cat $(VENV)/pip.log; exit 1)
	$(PY) -m pip check
	$(PY) -c "import ape, boa, vyper, snekmate, scipy, hypothesis"
	mkdir -p $(VVM_BINARY_PATH)
	ln -sfn $(CURDIR)/$(VENV)/bin/vyper $(VVM_BINARY_PATH)/vyper-$$($(PY) -c "import vyper; print(vyper.__version__.split('+')[0])")
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	node_modules/.bin/anvil --version
	touch $@

# ape recompiles only the files that changed, not the contracts importing a changed
# module, so any source change forces a full rebuild (a stale OptionPricer once hid a
# math change from the tests).
SOURCES := $(shell find contracts -name '*.vy' -o -name '*.vyi')
BUILD_STAMP := .build/.sources-stamp

$(BUILD_STAMP): $(SOURCES) ape-config.yaml $(STAMP) $(NODE_STAMP)
	$(APE) compile --force
	touch $@

compile: setup $(BUILD_STAMP)

test: setup compile
	$(APE) test tests -q -p no:cacheprovider

bench: setup compile
	$(APE) run gas_report

# The settlement bounds table alone (in process; reports/settlement.json).
bench-settlement: setup compile
	$(PY) -m dsi.bench.settlement

# Invariant fuzzing, deep profile (>= 1,000,000 contract calls, in process); the quick
# profile runs inside `make test`. Figures go to reports/fuzz.json.
fuzz: setup compile
	$(PY) -m dsi.fuzz deep

# The main job: the stress lab (scenarios -> stress-reports/<time>/report.md).
stress: setup compile
	$(APE) run stress

# The stress monitor on and off, same runs (docs/governance.md): ~6 minutes on 2 cores.
monitor-table: setup compile
	$(PY) -m dsi.scenarios.monitor_table --jobs 2 --out reports/monitor.json

clean:
	rm -rf .build .cache reports/*.json
