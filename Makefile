# Two commands for a fresh machine:
#   make demo   set up, then run the built-in one-day scenario end to end
#   make test   set up (system packages and local services included), the type check (mypy), then every test
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
DEMO_OUT ?= demo-out

.PHONY: demo test setup services lint bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

setup: $(STAMP)

services: setup
	bash scripts/services.sh

demo: setup
	$(BIN)/trucewatch demo --intake --out $(DEMO_OUT)
	@echo
	@echo "Open the daily report:   xdg-open $(DEMO_OUT)/report.html   (or any browser)"
	@echo "Open the dashboard:      $(BIN)/trucewatch serve --db $(DEMO_OUT)/trucewatch.db --port 8000"
	@echo "                         it prints a dashboard link with a 12-hour analyst token"
	@echo "Verify the evidence:     $(BIN)/trucewatch verify --db $(DEMO_OUT)/trucewatch.db --trust $(DEMO_OUT)/trust.json"

test: services
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

lint: setup
	$(BIN)/ruff check trucewatch tests
	$(BIN)/python -m mypy

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache
