# kfstack: one command to test, one to bring up the dev stack.
# `make test` creates .venv from uv.lock (scripts/ensure-uv installs uv if needed), then runs
# lint, format check, type check and the test suite. `.ci/run` calls exactly this.

SHELL := /bin/bash
UV = $(shell scripts/ensure-uv)
STACK ?= dev
BACKEND ?= file://$(CURDIR)/.pulumi-state

.PHONY: help sync lint format typecheck pytest unit test check up preview plan destroy engine engine-test image image-test

help:
	@echo "make test      install from uv.lock, lint, type check, run the tests"
	@echo "make unit      the fast loop: the unit tests of the pure core only (no lint, <= 30 s)"
	@echo "make up        bring up the dev stack (local kind cluster, local file backend)"
	@echo "make preview   pulumi preview for STACK=$(STACK)"
	@echo "make plan      kfstack plan for STACK=$(STACK) (no Pulumi, no cluster)"
	@echo "make engine    build the real engine once from Go modules (cached outside the repo)"
	@echo "make engine-test  the engine tier: real pulumi up/preview/destroy on a local control plane"
	@echo "make image     build the component image with buildah (no Docker daemon), print its digest"
	@echo "make image-test   run every pipeline step inside that image and compare with run-local"

sync:
	$(UV) sync --locked --all-extras

lint: sync
	$(UV) run ruff check __main__.py infra ml kfstack tests bench scripts/fetch-shared
	$(UV) run ruff format --check __main__.py infra ml kfstack tests bench scripts/fetch-shared
	$(UV) run hadolint Dockerfile
	$(UV) run zizmor --offline .github/workflows

format: sync
	$(UV) run ruff format __main__.py infra ml kfstack tests bench
	$(UV) run ruff check --fix __main__.py infra ml kfstack tests bench

typecheck: sync
	$(UV) run mypy

pytest: sync
	$(UV) run pytest -n auto  # one worker per core (pytest-xdist)

# The fast loop while editing: tests/unit only (no lint, no type check, no Pulumi mocks, no
# whole-release renders, no model training).
unit: sync
	$(UV) run pytest -n auto tests/unit

check: lint typecheck

test: lint typecheck pytest

# The dev stack on a local file backend: no Pulumi Cloud account needed. The
# passphrase protects the stack's secrets; set your own in PULUMI_CONFIG_PASSPHRASE.
# The well-known default passphrase applies to the dev stack only: any other stack
# needs PULUMI_CONFIG_PASSPHRASE set.
# pulumi.env: the Pulumi settings kfstack ships (state written once per command; why: README).
SETTINGS = set -a && . ./pulumi.env && set +a
PASSPHRASE = if [ -z "$${PULUMI_CONFIG_PASSPHRASE+set}" ]; then \
	  if [ "$(STACK)" = dev ]; then export PULUMI_CONFIG_PASSPHRASE=kfstack-dev; \
	  else echo "PULUMI_CONFIG_PASSPHRASE must be set for stack $(STACK)" >&2; exit 2; fi; \
	fi
up: sync
	mkdir -p .pulumi-state
	$(SETTINGS); $(PASSPHRASE); \
	pulumi login "$(BACKEND)" && \
	(pulumi stack select $(STACK) 2>/dev/null || pulumi stack init $(STACK)) && \
	pulumi up --yes --stack $(STACK)

preview: sync
	$(SETTINGS); $(PASSPHRASE); \
	pulumi login "$(BACKEND)" && pulumi preview --stack $(STACK) --diff

plan: sync
	$(UV) run kfstack plan -s $(STACK)

destroy:
	$(SETTINGS); $(PASSPHRASE); \
	pulumi login "$(BACKEND)" && pulumi destroy --yes --stack $(STACK)

# The engine tier (see README "The engine tier"): the pulumi CLI, Python language host,
# Kubernetes provider, kube-apiserver/controller-manager/scheduler, etcd and kwok, built from
# Go modules into ${KFSTACK_ENGINE_CACHE:-~/.cache/kfstack/engine}; a second run takes seconds.
engine:
	scripts/engine-build

engine-test: sync
	$(UV) run pytest --engine tests/engine -v -s

# The component image without a Docker daemon (see README "The component image"): buildah,
# chroot isolation, an OCI layout in ${KFSTACK_IMAGE_CACHE:-~/.cache/kfstack/image}; a stand-in
# base from Debian's packages where the pinned one cannot be pulled. Prints the digest.
image:
	scripts/build-image

# Every step of the compiled pipeline in that image (root, no network), against run-local.
image-test: sync
	$(UV) run pytest --image -n 0 tests/image -v
