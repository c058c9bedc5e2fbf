"""A real S3 endpoint for tests: moto's server mode on a free loopback port, in a thread."""

from collections.abc import Iterator
from contextlib import contextmanager

from moto.server import ThreadedMotoServer

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
