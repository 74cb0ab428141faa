# syntax=docker/dockerfile:1
# The kfstack component image: every task of the training pipeline runs in it on a cluster.
# Build: docker build -t kfstack-ml .   (CI: .github/workflows/image.yml, pushed by digest)
#        make image                     (here: buildah, no Docker daemon; scripts/build-image)
#
# The dependency set is exactly uv.lock's (core + the `ml` extra, no dev or cloud groups),
# exported with hashes and installed with --require-hashes; the project itself goes in as
# the wheel built from this checkout, with --no-deps so nothing outside the lock is resolved.
# Everything Python goes into virtual environments (/opt/uv, /opt/kfstack), so the same file
# builds on the python image and on a base whose python3 is Debian's (PEP 668).
#
# A build behind a TLS-intercepting proxy passes that proxy's CA bundle as the build secret
# `build-ca` (`--secret id=build-ca,src=...`): pip and uv read it in the RUN steps that
# download, from /run/secrets, and no layer, variable or label of the image holds it.

# python:3.12-slim-bookworm (Python 3.12.14, Debian bookworm), the multi-platform index digest
# documented in docker-library/repo-info repos/python/remote/3.12-slim-bookworm.md.
# Bump the tag and digest together.
ARG PYTHON_IMAGE=python:3.12-slim-bookworm@sha256:0f5b26b9518d002b6173fd61daad821fa340635ebfec5bba471013f9ca114579

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN --mount=type=secret,id=build-ca \
    if [ -s /run/secrets/build-ca ]; then export PIP_CERT=/run/secrets/build-ca; fi \
    && python3 -m venv /opt/uv \
    && /opt/uv/bin/pip install --no-cache-dir uv==0.13.9
COPY pyproject.toml uv.lock README.md ./
COPY infra ./infra
COPY ml ./ml
COPY kfstack ./kfstack
RUN --mount=type=secret,id=build-ca \
    if [ -s /run/secrets/build-ca ]; then export SSL_CERT_FILE=/run/secrets/build-ca; fi \
    && /opt/uv/bin/uv export --frozen --no-default-groups --extra ml --no-emit-project \
        --format requirements-txt --output-file requirements.txt \
    && /opt/uv/bin/uv build --wheel --out-dir dist

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="kfstack-ml" \
      org.opencontainers.image.description="kfstack training pipeline components (kfp, TensorFlow)" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/home/kfstack \
    VIRTUAL_ENV=/opt/kfstack \
    PATH=/opt/kfstack/bin:$PATH
# The locked dependencies first, in a layer of their own: a change to the project's code
# rebuilds only the small layer of its wheel below.
COPY --from=build /src/requirements.txt /tmp/kfstack/
RUN --mount=type=secret,id=build-ca \
    if [ -s /run/secrets/build-ca ]; then export PIP_CERT=/run/secrets/build-ca; fi \
    && python3 -m venv "$VIRTUAL_ENV" \
    && pip install --no-cache-dir --require-hashes --no-deps -r /tmp/kfstack/requirements.txt \
    && rm -rf /tmp/kfstack
COPY --from=build /src/dist/ /tmp/kfstack/
RUN pip install --no-cache-dir --no-deps /tmp/kfstack/kfstack-*.whl \
    && rm -rf /tmp/kfstack \
    && python -c "import kfp.dsl, ml.data.dataset, ml.model.network, ml.model_release.record, ml.components.core.release"
# A non-root user (group 0, so an arbitrary uid as on OpenShift can write too). KFP's v2
# launcher stages artifacts under /gcs, /minio and /s3 (kubeflow/pipelines#5673): create them
# writable for that user instead of running as root.
RUN useradd --uid 10001 --gid 0 --create-home --home-dir /home/kfstack --shell /usr/sbin/nologin kfstack \
    && mkdir -p /gcs /minio /s3 \
    && chown 10001:0 /gcs /minio /s3 /home/kfstack \
    && chmod 0775 /gcs /minio /s3 /home/kfstack
USER 10001
WORKDIR /home/kfstack
