# Dr. Skin — the two commands a new user needs are `make run` and `make test`.
# Each creates (or reuses) .venv on its own, so either works as the first command on a fresh machine.

PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.drskin-installed
SERVICE_PORT ?= 3000
WEB_PORT ?= 8000
DATA ?=
PYTEST_ARGS ?=

AUDIT_VENV ?= var/audit-venv

.PHONY: help install run test test-fast lint audit mlflow-ui bento benchmark clean system-deps images images-smoke images-push

help:
	@echo "make run        start the Bento service (:$(SERVICE_PORT)) and the site (:$(WEB_PORT)) on the embedded defaults"
	@echo "                (DATA=PATH trains real models from a HAM10000 folder first)"
	@echo "make test       the whole test suite (starts its own PostgreSQL, bentoml serve and Chromium)"
	@echo "make lint       ruff + mypy"
	@echo "make audit      pip-audit over the installed environment (see docs/reliability.md)"
	@echo "make mlflow-ui  the MLflow UI on the local runs in mlruns/"
	@echo "make bento      build the Bento (bentoml build)"
	@echo "make benchmark  serving benchmark (see docs/performance.md)"
	@echo "make images     the service and site OCI images with buildah, no Docker daemon (see docs/deploy.md)"
	@echo "make images-smoke  start both images as the chart runs them and check them (var/images-smoke.json)"
	@echo "make images-push REGISTRY=host/path  push both images"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip wheel setuptools
	$(BIN)/pip install --quiet -e '.[all,test]'
	@touch $(STAMP)

install: $(STAMP)

# Debian packages the tests need: PostgreSQL server binaries and Chromium (for Playwright).
system-deps:
	@bash .ci/system-deps.sh

run: $(STAMP)
	$(BIN)/python scripts/run_platform.py --service-port $(SERVICE_PORT) --web-port $(WEB_PORT) $(if $(DATA),--data $(DATA),)

test: $(STAMP) system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not browser" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy skin_models training webapp service.py serving

# pip-audit runs from a virtual environment of its own, so that its dependencies do not change what is audited.
$(AUDIT_VENV)/bin/pip-audit:
	$(PYTHON) -m venv $(AUDIT_VENV)
	$(AUDIT_VENV)/bin/pip install --quiet 'pip-audit==2.10.*'

audit: $(STAMP) $(AUDIT_VENV)/bin/pip-audit
	$(BIN)/python scripts/audit.py --pip-audit $(AUDIT_VENV)/bin/pip-audit

mlflow-ui: $(STAMP)
	$(BIN)/mlflow ui --backend-store-uri sqlite:///mlruns/mlflow.db --default-artifact-root mlruns/artifacts --host 127.0.0.1 --port 5000

bento: $(STAMP)
	$(BIN)/bentoml build

benchmark: $(STAMP)
	$(BIN)/python benchmarks/serving_benchmark.py

# The OCI images (docs/deploy.md): buildah, vfs storage, chroot isolation, a Debian base made by debootstrap. As root;
# tens of minutes on a first run. `make images-smoke` starts them with podman as the chart runs them.
images: $(STAMP)
	nice -n 19 env VENV=$(VENV) bash scripts/images/build.sh all

images-smoke: $(STAMP)
	$(BIN)/python scripts/images/smoke.py --json var/images-smoke.json

images-push:
	REGISTRY=$(REGISTRY) bash scripts/images/build.sh push

clean:
	rm -rf .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info test-artifacts
