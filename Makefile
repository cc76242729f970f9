# Developer commands; `make help` lists them. Recipes live in scripts/ where they need more than a line.
SHELL := /bin/bash
.DEFAULT_GOAL := help
FLASK := .venv/bin/flask --app wsgi

.PHONY: help venv dev-venv run test test-sqlite test-pg check lint bench clean vendor

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

venv: ## Create .venv (Python 3.11) and install requirements.txt when it changed
	@scripts/venv.sh requirements.txt

dev-venv: ## Install requirements-dev.txt into .venv when it changed
	@scripts/venv.sh requirements-dev.txt

run: venv ## Migrate, seed demo data if empty, serve on http://127.0.0.1:5000 with the scheduler
	@scripts/run.sh

test: ## Install test needs, run the suite on SQLite and on PostgreSQL
	@scripts/test.sh

test-sqlite: ## Run the suite on SQLite only
	@SUITE=sqlite scripts/test.sh

test-pg: ## Run the suite on a throwaway PostgreSQL only
	@SUITE=pg scripts/test.sh

lint: dev-venv ## ruff check
	.venv/bin/ruff check .

check: lint ## Lint, check migrations match the models (flask db check), then test
	@tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	export INSTANCE_PATH="$$tmp" DATABASE_URL="sqlite:///$$tmp/check.sqlite"; \
	$(FLASK) db upgrade && $(FLASK) db check
	@scripts/test.sh

bench: dev-venv ## Run the benchmarks (writes bench/RESULTS.md)
	@scripts/bench.sh

vendor: ## Re-copy USWDS and Chart.js from npm into static/ (see static/VENDORED.md)
	@scripts/vendor-assets.sh

clean: ## Remove caches and test leftovers (keeps .venv and instance/)
	find . -path ./.venv -prune -o -type d -name __pycache__ -exec rm -rf {} +
	rm -rf .pytest_cache .ruff_cache .hypothesis .cache bench/out tests/e2e/screenshots
