"""Webhooks over HTTP: ``GET /v1/webhooks/default/secret`` → ``{"key": "whsec_…"}``, the
caller's signing secret (made the first time), with which every webhook of their jobs is
signed (:mod:`voxregen_core.webhooks`)."""

import uuid
from typing import Any

from voxregen_adapters.service import Service
from voxregen_core.use_cases import webhooks
from voxregen_http.endpoint import v1_route


def get_webhook_secret(service: Service, user_id: uuid.UUID) -> dict[str, Any]:
    return {"key": webhooks.webhook_secret(service, user_id=user_id)}


ROUTES = [v1_route("/v1/webhooks/default/secret", get_webhook_secret, methods=("GET",))]
