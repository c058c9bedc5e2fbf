# The voxregen image: one image, two processes (compose runs `voxregen api` and `voxregen worker`
# from it, and `voxregen migrate` once). Build: docker build -t voxregen .
#
# Built from the wheel, as a user installs it: the build stage makes the wheel (the Alembic
# scripts and the OpenAPI document inside it, as package data), the image installs it — not
# editable, no source tree — with every dependency at the version constraints.txt pins.

FROM python:3.11-slim AS wheel

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY constraints.txt pyproject.toml README.md ./
COPY voxregen voxregen
COPY voxregen_core voxregen_core
COPY voxregen_adapters voxregen_adapters
COPY voxregen_http voxregen_http
COPY voxregen_worker voxregen_worker
COPY voxregen_client voxregen_client
# The build backend at its pinned version too (no isolated build env fetching the newest one).
RUN pip install -c constraints.txt setuptools wheel \
    && pip wheel --no-deps --no-build-isolation --wheel-dir /wheels .

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

COPY --from=wheel /wheels /wheels
COPY constraints.txt /wheels/constraints.txt
RUN pip install -c /wheels/constraints.txt /wheels/voxregen-*.whl \
    && rm -rf /wheels \
    && useradd --system --create-home --uid 10001 voxregen

USER voxregen
WORKDIR /home/voxregen
EXPOSE 8000
CMD ["voxregen", "api", "--host", "0.0.0.0", "--port", "8000"]
