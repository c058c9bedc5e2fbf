"""One connection to the service: the API's HTTP client (with the caller's credentials), the
storage's (without: a presigned URL is its own grant), the retry policy, and the one place a
call's answer becomes its JSON or its typed error."""

from typing import Any

import httpx

from voxregen_client.errors import ServiceUnreachableError, UnexpectedResponseError, api_error
from voxregen_client.retries import RetryPolicy, retry_after_s, send_with_retries


class Session:
    def __init__(
        self,
        base_url: str,
        *,
        headers: dict[str, str],
        timeout_s: float,
        retry: RetryPolicy,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.retry = retry
        self.api = httpx.Client(
            base_url=base_url, headers=headers, timeout=timeout_s, transport=transport
        )
        self.storage = httpx.Client(timeout=timeout_s, transport=transport)

    def close(self) -> None:
        self.api.close()
        self.storage.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """The JSON answer of ``method path`` (None for a 204), retried per the policy; raises
        the typed :class:`~voxregen_client.errors.VoxregenApiError` of an error answer, or
        :class:`ServiceUnreachableError`."""
        query = {name: value for name, value in (params or {}).items() if value is not None}

        def build() -> httpx.Request:
            return self.api.build_request(method, path, json=json, params=query)

        try:
            response = send_with_retries(self.api, build, self.retry)
        except httpx.TransportError as error:
            raise ServiceUnreachableError(
                f"{method} {self.api.base_url.join(path)} failed {self.retry.max_attempts} "
                f"time(s): {error!r}"
            ) from error
        if response.is_error:
            raise api_error(response, retry_after_s=retry_after_s(response))
        if response.status_code == 204:
            return None
        try:
            return response.json()
        except ValueError:
            raise UnexpectedResponseError(
                f"{method} {response.url} answered HTTP {response.status_code}, not JSON: "
                "is the base URL the voxregen API?"
            ) from None
