"""The :class:`~voxregen_core.ports.HealthCheck` of each dependency the service needs, probed
by ``GET /readyz``: PostgreSQL, the queue's Redis and the object store. Each one turns its
driver's failure into the dependency's port error, whose message (it may name a host) goes to
the log, not to the response."""

import uuid

import attrs
import redis
import sqlalchemy as sa

from voxregen_adapters.db.transaction import transaction
from voxregen_core.errors import DatabaseUnavailableError, QueueUnavailableError
from voxregen_core.keys import job_input_key
from voxregen_core.ports import ObjectStore

PROBE_TIMEOUT_S = 2.0
"""How long the Redis probe waits to connect, then for the answer."""
_PROBE_ID = uuid.UUID(int=0)


@attrs.frozen
class PostgresHealthCheck:
    """``SELECT 1`` in a transaction on a pooled connection of the service's engine."""

    engine: sa.Engine
    name: str = "database"

    def check(self) -> None:
        """Raises DatabaseUnavailableError if the database cannot run the query."""
        try:
            with transaction(self.engine) as connection:
                connection.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError as error:  # not translated by transaction()
            raise DatabaseUnavailableError(f"cannot use the database: {error}") from error


@attrs.frozen
class RedisHealthCheck:
    """``PING`` on a connection of its own to ``redis_url``, waiting at most
    :data:`PROBE_TIMEOUT_S` to connect and then to read."""

    redis_url: str
    name: str = "redis"

    def check(self) -> None:
        """Raises QueueUnavailableError if Redis cannot be reached or does not answer."""
        client = redis.Redis.from_url(
            self.redis_url,
            socket_connect_timeout=PROBE_TIMEOUT_S,
            socket_timeout=PROBE_TIMEOUT_S,
        )
        try:
            client.ping()
        except redis.RedisError as error:
            raise QueueUnavailableError(
                f"the job queue's Redis is unreachable ({type(error).__name__}: {error})"
            ) from error
        finally:
            client.close()


@attrs.frozen
class ObjectStoreHealthCheck:
    """Whether the store can say if an object exists (a key no upload uses: user and job
    ``00000000-…``); works for any :class:`~voxregen_core.ports.ObjectStore`, which raises
    StorageUnavailableError when its backend cannot be reached."""

    store: ObjectStore
    name: str = "storage"

    def check(self) -> None:
        self.store.exists(job_input_key(_PROBE_ID, _PROBE_ID))
