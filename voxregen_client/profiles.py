"""``client.profiles``: singer profiles and their reference clips."""

import os
import time
from collections.abc import Iterator
from pathlib import Path

from voxregen_client.errors import ProfileBuildError, WaitTimeoutError
from voxregen_client.models import Page, Profile
from voxregen_client.pagination import every_item
from voxregen_client.session import Session
from voxregen_client.transfers import ProgressCallback, upload_file
from voxregen_client.wav_header import wav_duration_s

MAX_REFERENCE_S = 480.0
"""The longest ``duration_sec`` a commit takes: a clip the header says is longer is committed
without one, and the build's refusal names the problem."""


class Profiles:
    def __init__(self, session: Session) -> None:
        self._session = session

    def create(self, name: str) -> Profile:
        """A new profile, ``building`` until a reference is committed and built."""
        created = self._session.call("POST", "/v1/singer-profiles", json={"name": name})
        return self.get(created["id"])

    def get(self, profile_id: str) -> Profile:
        return Profile.from_json(self._session.call("GET", f"/v1/singer-profiles/{profile_id}"))

    def add_reference(
        self,
        profile_id: str,
        path: str | os.PathLike[str],
        *,
        on_upload_progress: ProgressCallback | None = None,
    ) -> str:
        """Upload the WAV file at ``path`` as a reference of the profile and commit it (the
        profile goes ``building``; :meth:`wait_ready` waits for the build); the reference's id.
        ``on_upload_progress(sent_bytes, total_bytes)`` follows the upload."""
        path = Path(path)
        base = f"/v1/singer-profiles/{profile_id}/references"
        upload = self._session.call("POST", f"{base}:prepare-upload")
        upload_file(
            self._session.storage,
            upload["upload_url"],
            path,
            policy=self._session.retry,
            on_progress=on_upload_progress,
        )
        commit = {"ref_id": upload["ref_id"], "object_key": upload["object_key"]}
        duration_s = wav_duration_s(path)
        if duration_s is not None and 0 < duration_s <= MAX_REFERENCE_S:
            commit["duration_sec"] = duration_s
        self._session.call("POST", f"{base}:commit", json=commit)
        return upload["ref_id"]

    def wait_ready(
        self, profile_id: str, *, timeout_s: float = 600.0, poll_s: float = 1.0
    ) -> Profile:
        """The profile once it is ``ready``, polling every ``poll_s``; raises
        :class:`ProfileBuildError` if its build ends in ``error``, :class:`WaitTimeoutError`
        if it is still building after ``timeout_s``."""
        deadline_s = time.monotonic() + timeout_s
        while True:
            profile = self.get(profile_id)
            if profile.status == "ready":
                return profile
            if profile.status == "error":
                raise ProfileBuildError(profile_id, profile.stats)
            if time.monotonic() >= deadline_s:
                raise WaitTimeoutError(f"profile {profile_id} still building after {timeout_s:g} s")
            self._session.retry.sleep(poll_s)

    def page(self, *, limit: int | None = None, cursor: str | None = None) -> Page[Profile]:
        """One page of the caller's profiles, newest first."""
        answer = self._session.call(
            "GET", "/v1/singer-profiles", params={"limit": limit, "cursor": cursor}
        )
        return Page.from_json(answer, Profile.from_json)

    def list(self, *, page_size: int | None = None) -> Iterator[Profile]:
        """Every profile of the caller's, newest first, fetched a page at a time as iterated."""
        return every_item(lambda cursor: self.page(limit=page_size, cursor=cursor))

    def delete(self, profile_id: str) -> None:
        """Delete the profile, its references and their clips (409 ``profile_in_use`` while a
        queued or running job renders with it)."""
        self._session.call("DELETE", f"/v1/singer-profiles/{profile_id}")
