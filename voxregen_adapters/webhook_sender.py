"""``UrllibWebhookSender``: webhooks POSTed with urllib3, to public addresses only (unless the
settings allow private networks).

A URL is checked when a job names it (the API) and again before each attempt (the worker): its
scheme must be http or https and every address its host resolves to must be global, so that
no loopback, private (RFC 1918, unique local), link-local (the cloud metadata address
169.254.169.254 among them), multicast or reserved address is reached. An attempt never
follows a redirect (a 3xx is a failed attempt), waits at most the timeout for the connection
and the answer's head, and reads at most :data:`MAX_ANSWER_BYTES` of the answer, within the
same timeout, before closing the connection: a receiver that hangs, trickles or answers 5 MB
costs one attempt, never a worker.
"""

import ipaddress
import socket
import time
from collections.abc import Mapping
from urllib.parse import urlsplit

import urllib3

from voxregen_core.webhooks import InvalidWebhookUrlError

MAX_ANSWER_BYTES = 64 * 1024
_READ_BYTES = 8192


class UrllibWebhookSender:
    def __init__(self, *, allow_private_networks: bool, timeout_s: float) -> None:
        self._allow_private_networks = allow_private_networks
        self._timeout_s = timeout_s
        self._pool = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(timeout_s))

    def check_url(self, url: str) -> None:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as error:
            raise InvalidWebhookUrlError(f"the webhook URL is not a URL: {error}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidWebhookUrlError("the webhook URL must be http:// or https:// with a host")
        if self._allow_private_networks:
            return
        host = parts.hostname
        try:
            addresses = {info[4][0] for info in socket.getaddrinfo(host, port or 443)}
        except (OSError, UnicodeError):
            raise InvalidWebhookUrlError(
                f"the webhook URL's host {host!r} does not resolve"
            ) from None
        for address in addresses:
            ip = ipaddress.ip_address(address.partition("%")[0])
            if not ip.is_global or ip.is_multicast:
                raise InvalidWebhookUrlError(
                    f"the webhook URL's host {host!r} is a private, loopback, link-local or "
                    f"reserved address ({ip}); webhooks go to public addresses only"
                )

    def post(
        self, url: str, *, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int | None, str | None]:
        deadline = time.monotonic() + self._timeout_s
        try:
            response = self._pool.request(
                "POST", url, body=body, headers=dict(headers), redirect=False, preload_content=False
            )
        except urllib3.exceptions.NewConnectionError:  # (a ConnectTimeoutError subclass)
            return None, "cannot connect: the connection was refused or the host is unreachable"
        except urllib3.exceptions.TimeoutError:
            return None, f"no answer within {self._timeout_s:g} s"
        except urllib3.exceptions.HTTPError as error:
            return None, f"cannot connect: {type(error).__name__}"
        try:
            read = 0
            while read < MAX_ANSWER_BYTES and time.monotonic() < deadline:
                chunk = response.read(_READ_BYTES)
                if not chunk:
                    break
                read += len(chunk)
        except urllib3.exceptions.HTTPError:
            pass  # the status came; what follows it does not matter
        finally:
            response.close()  # an answer not read to its end is not drained
        status = response.status
        return status, None if 200 <= status < 300 else f"answered HTTP {status}"
