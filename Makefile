# photoguard: `make demo` runs the tool on samples/, `make test` runs the suite.
# Both set everything up first: system packages (apt, as root) and the locked venv (uv).
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
# uv from PATH, else a private copy in .tools/ (pip --target: no change to a system Python,
# which Debian marks externally managed)
UV := $(shell command -v uv 2>/dev/null || echo ".tools/bin/uv")
APT_PACKAGES := tesseract-ocr tesseract-ocr-eng fonts-dejavu-core python3-pip
# fonts for the hard text set (bench/hardset.py): print and handwriting faces
BENCH_FONTS := fonts-liberation fonts-humor-sans fonts-dkg-handwriting fonts-comic-neue fonts-femkeklaver fonts-breip fonts-kristi fonts-dancingscript

.PHONY: help setup system-deps bench-fonts demo test bench lint clean install

help:
	@echo "make setup   install system packages (apt, as root) and the venv at .venv/"
	@echo "make demo    setup, then: photoguard check samples/"
	@echo "make test    setup, then: the test suite"
	@echo "make bench   setup, then: benchmarks -> bench/RESULTS.md"
	@echo "make lint    ruff"
	@echo "make install setup, then link photoguard into ~/.local/bin (BINDIR=...)"

setup: system-deps $(VENV)/.installed

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "photoguard needs:$$missing"; echo "run as root: sudo apt-get install -y$$missing"; exit 3; \
	  fi; \
	fi

$(VENV)/.installed: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || [ -x .tools/bin/uv ] || \
	  python3 -m pip install --quiet --target .tools "uv>=0.5"
	$(UV) sync --frozen --python python3 --compile-bytecode
	@# Bytecode for photoguard itself too: with PYTHONDONTWRITEBYTECODE set (as on the dev
	@# machine) nothing is cached at import, and every process (the CLI, each worker) compiled
	@# every module it imported (0.5 CPU-s for the CLI alone, 0.8 more per worker's models).
	$(VENV)/bin/python -m compileall -q photoguard >/dev/null
	@touch $@

# The hard text set draws with these; without them it is generated from fewer fonts (and
# differs), so a non-root run only warns.
bench-fonts:
	@missing=""; for p in $(BENCH_FONTS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "bench fonts missing (the hard text set will differ):$$missing"; \
	  fi; \
	fi

DEMO := out/demo
PG_DEMO := $(VENV)/bin/photoguard --db sqlite:///$(DEMO)/registry.db

# The demo registers the sample authorization (a fresh registry each time), checks samples/,
# and writes publishable copies. check/redact exit 1 (redact needed), 4 (review) or 5 (blocked)
# for what the samples show: that is the demo working; only 2 (usage) and 3 (environment) fail
# it. The sample close-up is an unconsented main subject, so both are expected to exit 5.
VERDICT_RC = case $$rc in 0|1|4|5) ;; *) exit $$rc;; esac
demo: setup
	rm -rf $(DEMO) && mkdir -p $(DEMO)
	$(PG_DEMO) consent import consents/demo.toml
	$(PG_DEMO) consent list
	$(PG_DEMO) check samples/ --json $(DEMO)/report.json --html $(DEMO)/report.html; \
	  rc=$$?; $(VERDICT_RC)
	$(PG_DEMO) redact samples/ --out $(DEMO)/publish --quiet; rc=$$?; $(VERDICT_RC)
	$(PG_DEMO) audit verify
	$(PG_DEMO) consent takedown AUTH-000001
	@echo "demo: report $(DEMO)/report.html, publishable copies in $(DEMO)/publish/"

# `photoguard` on PATH: a link to the locked venv's command (re-run if the clone moves).
BINDIR ?= $(HOME)/.local/bin
install: setup
	mkdir -p $(BINDIR)
	ln -sf $(CURDIR)/$(VENV)/bin/photoguard $(BINDIR)/photoguard
	@case ":$$PATH:" in *":$(BINDIR):"*) ;; *) echo "add $(BINDIR) to PATH";; esac
	@echo "installed $(BINDIR)/photoguard; photoguard init writes your policy file"

test: setup
	$(PY) -m pytest -n 2 --durations=15

# Peers (presidio-image-redactor) live in the `bench` dependency group, never in the runtime.
bench: setup bench-fonts
	$(UV) sync --frozen --group bench
	$(PY) bench/run.py

lint: setup
	$(VENV)/bin/ruff check photoguard tests bench
	$(VENV)/bin/ruff format --check photoguard tests bench

clean:
	rm -rf $(VENV) .tools .pytest_cache out
