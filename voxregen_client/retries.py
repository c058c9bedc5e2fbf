"""Retrying a request: on a connection error (nothing, or not all, of the answer came) and on
the answers that say "later" — 429 (``rate_limited``, ``too_many_active_jobs``), 503 (the
service's database, storage or queue unreachable) and 409 ``idempotency_key_in_use`` (the
first attempt of this POST is still being answered) — a request is sent again, up to
``max_attempts`` in all. The wait before attempt n+1 is the answer's ``Retry-After`` if it has
one, else ``backoff_base_s · 2^(n-1)`` capped at ``backoff_max_s``, with ±``jitter`` of it.

Every POST carries an ``Idempotency-Key`` (a uuid4), the same on each of its attempts, so the
service answers a retry with the first attempt's answer and never does the work twice. One
exception: a 429 that is itself a replayed answer (``Idempotent-Replayed: true``) means the
key's one run was refused and did nothing, so the next attempt takes a fresh key (the same
key would only be answered that refusal again).
"""

import email.utils
import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import attrs
import httpx

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
RETRIED_STATUSES = frozenset({429, 503})


@attrs.frozen
class RetryPolicy:
    """How often and how long to retry; ``sleep`` is how to wait (tests pass their own)."""

    max_attempts: int = attrs.field(default=5, validator=attrs.validators.ge(1))
    backoff_base_s: float = attrs.field(default=0.5, validator=attrs.validators.ge(0))
    backoff_max_s: float = attrs.field(default=30.0, validator=attrs.validators.ge(0))
    jitter: float = attrs.field(
        default=0.1, validator=[attrs.validators.ge(0), attrs.validators.le(1)]
    )
    sleep: Callable[[float], None] = attrs.field(default=time.sleep, eq=False, repr=False)

    def backoff_s(self, attempt: int) -> float:
        """The wait after failed attempt ``attempt`` (1-based) when the answer names none."""
        wait_s = min(self.backoff_max_s, self.backoff_base_s * 2 ** (attempt - 1))
        return wait_s * random.uniform(1 - self.jitter, 1 + self.jitter)


def retry_after_s(response: httpx.Response) -> float | None:
    """The answer's ``Retry-After`` in seconds (RFC 9110: delay-seconds or an HTTP date), or
    None without a valid one."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def send_with_retries(
    http: httpx.Client,
    build: Callable[[], httpx.Request],
    policy: RetryPolicy,
    *,
    stream: bool = False,
) -> httpx.Response:
    """The answer to the request ``build()`` makes, sent until it is not one to
    retry or ``policy.max_attempts`` were sent; ``build`` is called for every attempt (an upload
    reopens its file). The last answer is returned whatever its status; a connection error on
    the last attempt is raised (an ``httpx.TransportError``)."""
    key = str(uuid.uuid4())
    attempt = 0
    while True:
        attempt += 1
        request = build()
        if request.method == "POST":
            request.headers[IDEMPOTENCY_HEADER] = key
        try:
            response = http.send(request, stream=stream)
        except httpx.TransportError:
            if attempt >= policy.max_attempts:
                raise
            policy.sleep(policy.backoff_s(attempt))
            continue
        if attempt >= policy.max_attempts or not _worth_retrying(response):
            return response
        response.close()
        if response.status_code == 429 and response.headers.get(REPLAYED_HEADER) == "true":
            key = str(uuid.uuid4())
        waited = retry_after_s(response)
        policy.sleep(policy.backoff_s(attempt) if waited is None else waited)


def _worth_retrying(response: httpx.Response) -> bool:
    """A 429, a 503, or a 409 saying the first attempt of this POST is still being answered."""
    if response.status_code in RETRIED_STATUSES:
        return True
    if response.status_code != 409:
        return False
    response.read()
    try:
        return response.json()["error"]["code"] == "idempotency_key_in_use"
    except (ValueError, KeyError, TypeError):
        return False
