"""Verifying a webhook delivery of the service, per the Standard Webhooks specification, with
the standard library: the signed content is ``"{webhook-id}.{webhook-timestamp}.{body}"``, the
signature ``v1,`` and the base64 HMAC-SHA256 of it keyed by the secret (``whsec_`` and base64,
from ``GET /v1/webhooks/default/secret``); ``webhook-signature`` may carry several,
space-separated (while a secret is rotated), and one match is enough. A timestamp further than
``tolerance_s`` from now is refused, so a captured delivery cannot be replayed later.
"""

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from voxregen_client.errors import WebhookVerificationError

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_S = 300.0
"""The specification's (and its reference libraries') five minutes."""


def verify_webhook(
    headers: Mapping[str, str],
    body: bytes | str,
    secret: str,
    *,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    now_s: float | None = None,
) -> dict[str, Any]:
    """The delivery's payload (``{"type", "timestamp", "data"}``) once its signature is checked;
    raises :class:`WebhookVerificationError` otherwise. ``headers`` are matched without regard
    to case; ``body`` must be the bytes as received (not re-serialised JSON)."""
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        webhook_id = lowered["webhook-id"]
        timestamp = lowered["webhook-timestamp"]
        signatures = lowered["webhook-signature"]
    except KeyError as missing:
        raise WebhookVerificationError(f"missing header {missing.args[0]}") from None
    try:
        timestamp_s = int(timestamp)
    except ValueError:
        raise WebhookVerificationError(
            f"webhook-timestamp is not an integer: {timestamp!r}"
        ) from None
    now_s = time.time() if now_s is None else now_s
    if abs(now_s - timestamp_s) > tolerance_s:
        raise WebhookVerificationError(
            f"webhook-timestamp {timestamp_s} is more than {tolerance_s:g} s from now ({now_s:.0f})"
        )
    payload = body.encode() if isinstance(body, str) else body
    expected = base64.b64encode(
        hmac.new(
            _key(secret), f"{webhook_id}.{timestamp_s}.".encode() + payload, hashlib.sha256
        ).digest()
    )
    for signature in signatures.split():
        version, _, value = signature.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            return json.loads(payload)
    raise WebhookVerificationError("no signature matches the body")


def _key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error:
        raise WebhookVerificationError("the secret is not whsec_ and base64") from None
