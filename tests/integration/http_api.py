"""The HTTP app over a real service for the API's tests: a migrated PostgreSQL database of its
own, the session's Redis under a broker namespace of its own (so the queued messages can be
read back) and a local object store in a temporary folder, behind Starlette's TestClient."""

import uuid
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import attrs
from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker
from starlette.exceptions import StarletteDeprecationWarning

from tests.integration.migrated_database import migrated_engine
from tests.redis_namespace import delete_namespace
from voxregen.composition.service_parts import build_service
from voxregen_adapters.broker import make_broker
from voxregen_adapters.dramatiq_job_queue import (
    PROFILE_BUILD,
    QUEUE_NAMES,
    DramatiqJobQueue,
    decode_message,
    render_backlog,
)
from voxregen_adapters.service import Service
from voxregen_adapters.settings import AuthMode, load_settings
from voxregen_core.jobs import JobStatus
from voxregen_core.keys import job_output_key
from voxregen_core.messages import JobMessage
from voxregen_core.ports import JobQueue
from voxregen_core.use_cases.api_keys import create_api_key
from voxregen_http.app import create_app

with warnings.catch_warnings():
    # Starlette 1.x asks for its httpx2 fork in the TestClient; httpx (the dev dependency)
    # still works, and the warning is raised once, at this import.
    warnings.filterwarnings(
        "ignore", "Using `httpx` with `starlette.testclient`", StarletteDeprecationWarning
    )
    from starlette.testclient import TestClient

UNLIMITED_PER_MIN = 10**9
PUBLIC_URL = "http://testserver"  # TestClient's host, so presigned URLs reach the app
SIGNING_KEY = "http-tests-signing-key-0123456789abcdef"


@attrs.frozen
class Api:
    client: TestClient
    service: Service
    broker: RedisBroker
    _keys: dict[uuid.UUID, str] = attrs.field(factory=dict)

    def as_user(self, user_id: uuid.UUID) -> dict[str, str]:
        """The headers that authenticate ``user_id`` in the app's mode: ``X-User-Id``, or an
        API key made for them on first use."""
        if self.service.settings.auth_mode is AuthMode.DEV_HEADER:
            return as_user(user_id)
        if user_id not in self._keys:
            made = create_api_key(self.service.api_keys, user_id=user_id, name="tests")
            self._keys[user_id] = made.key
        return {"Authorization": f"Bearer {self._keys[user_id]}"}

    def queued(self) -> list[JobMessage]:
        """Every message on the default queue, oldest first, decoded as the worker decodes it;
        then the render work waiting in the backlog (user by user)."""
        queue = QUEUE_NAMES[PROFILE_BUILD]
        raw = self.broker.client.hvals(f"{self.broker.namespace}:{queue}.msgs")
        messages = sorted((Message.decode(data) for data in raw), key=lambda m: m.message_timestamp)
        direct = [
            decode_message(message.actor_name, message.args, message.kwargs) for message in messages
        ]
        return [*direct, *render_backlog(self.broker).waiting()]


@contextmanager
def running_api(
    database_url: str,
    redis_url: str,
    storage_dir: Path,
    *,
    queue: JobQueue | None = None,
    auth_mode: AuthMode = AuthMode.DEV_HEADER,
    env: Mapping[str, str] | None = None,
    storage_url: str | None = None,
) -> Iterator[Api]:
    """The app over a fresh service in ``auth_mode``, with ``env`` over the settings; ``queue``
    replaces the Dramatiq queue on ``api.broker``, ``storage_url`` (an ``s3://`` one) the local
    store in ``storage_dir``."""
    migrated_engine(database_url).dispose()
    settings = load_settings(
        {
            "VOXREGEN_DATABASE_URL": database_url,
            "VOXREGEN_REDIS_URL": redis_url,
            "VOXREGEN_STORAGE_URL": storage_url or storage_dir.as_uri(),
            "VOXREGEN_PUBLIC_URL": PUBLIC_URL,
            "VOXREGEN_SIGNING_KEY": SIGNING_KEY,
            "VOXREGEN_AUTH_MODE": auth_mode.value,
            # the tests' users send far more than a producer would; the limit's own tests
            # set it
            "VOXREGEN_RATE_LIMIT_PER_MIN": str(UNLIMITED_PER_MIN),
            **(env or {}),
        }
    )
    broker = make_broker(redis_url, namespace=f"voxregen-test-{uuid.uuid4().hex}")
    service = build_service(settings, queue=queue or DramatiqJobQueue(broker))
    try:
        with TestClient(create_app(service)) as client:
            yield Api(client=client, service=service, broker=broker)
    finally:
        delete_namespace(broker.client, broker.namespace)
        broker.client.connection_pool.disconnect()


def as_user(user_id: uuid.UUID) -> dict[str, str]:
    return {"X-User-Id": str(user_id)}


def build_profile(service: Service, user_id: uuid.UUID, profile_id: uuid.UUID) -> None:
    """What the worker's profile build does to the row, from the references it has now: stub
    embeddings, no exemplars, ready."""
    references = service.references.list_for_profile(user_id=user_id, profile_id=profile_id)
    assert service.profiles.record_build(
        user_id=user_id,
        profile_id=profile_id,
        built_from=[reference.id for reference in references],
        embedding_version="stub-v1",
        profile_embedding=b"\x00" * 8,
        cluster_embeddings=b"\x00" * 8,
        stats={"references": 1},
        exemplars=[],
    )


def finish_job(service: Service, user_id: uuid.UUID, job_id: uuid.UUID, output: bytes) -> None:
    """What the worker's render does to the row and the store: running, output stored, done."""
    move = {"user_id": user_id, "job_id": job_id}
    assert service.jobs.transition(
        **move, from_status=JobStatus.QUEUED, to_status=JobStatus.RUNNING
    )
    service.store.put(job_output_key(user_id, job_id), output)
    assert service.jobs.transition(
        **move,
        from_status=JobStatus.RUNNING,
        to_status=JobStatus.DONE,
        output_object_key=job_output_key(user_id, job_id),
        metrics={"runtime_sec": 1.0, "feature_cache_hit": False},
    )


def new_job_body(api: Api, user_id: uuid.UUID, stem: bytes) -> dict[str, str]:
    """The body of a valid ``POST /v1/render-jobs`` for ``user_id``: a built profile of theirs
    and ``stem`` uploaded under a reserved job id."""
    profile = api.client.post(
        "/v1/singer-profiles", json={"name": "Alto"}, headers=as_user(user_id)
    ).json()
    build_profile(api.service, user_id, uuid.UUID(profile["id"]))
    prepared = api.client.post("/v1/render-jobs:prepare-upload", headers=as_user(user_id)).json()
    assert api.client.put(prepared["upload_url"], content=stem).status_code == 204
    return {"singer_profile_id": profile["id"], "input_object_key": prepared["object_key"]}
