"""``Client``: the service at one base URL, as one caller.

Credentials: ``api_key`` (``vxr_…``, made by ``voxregen keys create``) is sent as
``Authorization: Bearer``; in development mode (``VOXREGEN_AUTH_MODE=dev_header``) ``user_id``
is sent as ``X-User-Id`` instead. :meth:`Client.from_env` reads ``VOXREGEN_URL``,
``VOXREGEN_API_KEY`` and ``VOXREGEN_USER_ID``.
"""

import os
import re
import uuid
from collections.abc import Mapping
from types import TracebackType

import httpx

from voxregen_client.errors import ConfigurationError
from voxregen_client.jobs import Jobs
from voxregen_client.profiles import Profiles
from voxregen_client.retries import RetryPolicy
from voxregen_client.session import Session

_API_KEY = re.compile(r"[!-~]+")
"""What an Authorization header can carry: printable ASCII, no space (a key made by
``voxregen keys create`` is ``vxr_`` and URL-safe base64)."""

DEFAULT_TIMEOUT_S = 30.0
"""Per network operation (connect, each read or write), not per call: a long upload is fine."""


class Client:
    """``client.profiles`` and ``client.jobs`` hold the calls; close the client (or use it as a
    context manager) to release its connections."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        user_id: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigurationError(f"the base URL must be http(s)://…, got {base_url!r}")
        try:
            httpx.URL(base_url)
        except httpx.InvalidURL as error:
            raise ConfigurationError(f"the base URL {base_url!r} is not a URL: {error}") from None
        if api_key is not None and not _API_KEY.fullmatch(api_key):
            raise ConfigurationError(
                "the API key must be the printable characters voxregen keys create printed "
                "(vxr_…), without spaces"
            )
        if api_key is not None and user_id is not None:
            raise ConfigurationError("give an API key or a user id (development mode), not both")
        headers = {"User-Agent": "voxregen-client"}
        if api_key is not None:
            headers["Authorization"] = f"Bearer {api_key}"
        if user_id is not None:
            try:
                headers["X-User-Id"] = str(uuid.UUID(user_id))
            except ValueError:
                raise ConfigurationError(f"the user id must be a UUID, got {user_id!r}") from None
        self._session = Session(
            base_url.rstrip("/"),
            headers=headers,
            timeout_s=timeout_s,
            retry=retry or RetryPolicy(),
            transport=transport,
        )
        self.profiles = Profiles(self._session)
        self.jobs = Jobs(self._session)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options: object) -> "Client":
        """A client of ``VOXREGEN_URL`` with ``VOXREGEN_API_KEY`` or ``VOXREGEN_USER_ID``
        (from ``environ``, by default the process's); ``options`` as the constructor's."""
        environ = os.environ if environ is None else environ
        base_url = environ.get("VOXREGEN_URL")
        if not base_url:
            raise ConfigurationError("VOXREGEN_URL is not set (the service's base URL)")
        return cls(
            base_url,
            api_key=environ.get("VOXREGEN_API_KEY") or None,
            user_id=environ.get("VOXREGEN_USER_ID") or None,
            **options,  # type: ignore[arg-type]
        )

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
