# The voxregen image: one image, two processes (compose runs `voxregen api` and `voxregen worker`
# from it, and `voxregen migrate` once). Build: docker build -t voxregen .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY . .
# Editable install: `voxregen migrate` finds the Alembic scripts in /app/migrations, next to the
# packages (voxregen_adapters/db/migrate.py looks there), and the app serves /app/docs/openapi.yaml.
RUN pip install -e . \
    && useradd --system --create-home --uid 10001 voxregen

USER voxregen
EXPOSE 8000
CMD ["voxregen", "api", "--host", "0.0.0.0", "--port", "8000"]
