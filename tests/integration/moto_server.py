"""A real S3 endpoint for tests: moto's server mode on a free loopback port, in a thread; and
an S3 store that nothing answers, for the tests of an unreachable object store."""

from collections.abc import Iterator
from contextlib import contextmanager

from moto.server import ThreadedMotoServer

from voxregen_adapters.minio_object_store import MinioObjectStore

ACCESS_KEY = "voxregen-test"
SECRET_KEY = "voxregen-test-secret"


@contextmanager
def moto_s3_endpoint() -> Iterator[str]:
    """Run moto's S3 server on 127.0.0.1 and yield its ``host:port``; stop it afterwards."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"{host}:{port}"
    finally:
        server.stop()


def unreachable_s3_store() -> MinioObjectStore:
    """A MinIO store of a port nothing listens on (127.0.0.1:1), failing within a second."""
    return MinioObjectStore(
        endpoint="127.0.0.1:1",
        access_key="k",
        secret_key="s",
        bucket="voxregen",
        secure=False,
        retries=0,
        timeout_s=1.0,
    )
