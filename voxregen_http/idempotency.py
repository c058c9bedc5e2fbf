"""``Idempotency-Key`` on the POSTs of /v1 (:mod:`voxregen_core.idempotency` has the rules): the
first request with a key runs and its answer is stored; the same request again gets that
answer, with ``Idempotent-Replayed: true``, and runs nothing."""

import uuid
from collections.abc import Awaitable, Callable

import anyio
import structlog
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from voxregen_adapters.service import Service
from voxregen_core.errors import VoxregenError
from voxregen_core.idempotency import Replay, StoredAnswer, checked_key, fingerprint
from voxregen_http.errors import voxregen_error

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"


async def answered_once(
    request: Request,
    service: Service,
    user_id: uuid.UUID,
    raw_body: bytes,
    answer: Callable[[], Awaitable[Response]],
) -> Response:
    """``answer()``'s response, or, for a request that carries an ``Idempotency-Key`` the
    caller used before for the same request, the response stored then."""
    header = request.headers.get(HEADER)
    if header is None:
        return await answer()
    key = checked_key(header)
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    scope = {"user_id": user_id, "key": key}
    claim = await run_in_threadpool(
        service.idempotency_keys.claim,
        **scope,
        fingerprint=fingerprint(request.method, path, raw_body),
        now=service.clock.now(),
    )
    if isinstance(claim, Replay):
        stored = claim.answer
        return Response(
            content=stored.body,
            status_code=stored.status_code,
            media_type=None if stored.status_code == 204 else "application/json",
            headers={REPLAYED_HEADER: "true"},
        )
    try:
        response = await answer()
    except VoxregenError as error:  # a refusal is an answer too (a 5xx is released below)
        response = await voxregen_error(request, error)
    except Exception:  # a bug: answered 500, and the retry runs again
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(service.idempotency_keys.release, **scope)
        raise
    # (cancelled, the client gone: the claim stays in flight, and is taken over after
    # IN_FLIGHT_TIMEOUT_S, since the handler may have done its work)
    with anyio.CancelScope(shield=True):  # what the handler did is kept, whatever comes now
        try:
            if response.status_code >= 500:
                await run_in_threadpool(service.idempotency_keys.release, **scope)
            else:
                stored = StoredAnswer(status_code=response.status_code, body=bytes(response.body))
                await run_in_threadpool(service.idempotency_keys.answer, **scope, answer=stored)
        except VoxregenError as error:  # the answer stands; a retry waits, then runs again
            structlog.get_logger().warning(
                "idempotency_answer_not_stored", code=error.code, error=error.message
            )
    return response
