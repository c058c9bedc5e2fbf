"""``client.jobs``: render jobs, from a local stem to a downloaded render."""

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from voxregen_client.errors import WaitTimeoutError
from voxregen_client.models import Job, Page
from voxregen_client.pagination import every_item
from voxregen_client.session import Session
from voxregen_client.transfers import ProgressCallback, download_file, upload_file


class Jobs:
    def __init__(self, session: Session) -> None:
        self._session = session

    def create(
        self,
        stem_path: str | os.PathLike[str],
        profile_id: str,
        *,
        params: dict[str, Any] | None = None,
        webhook_url: str | None = None,
        webhook_events: list[str] | None = None,
        on_upload_progress: ProgressCallback | None = None,
    ) -> Job:
        """Upload the WAV stem at ``stem_path`` and render it with the profile; the new job,
        ``queued``. ``params``: ``style``, ``intensity``, ``quality`` (the API's
        RenderParams); ``on_upload_progress(sent_bytes, total_bytes)`` follows the upload."""
        upload = self._session.call("POST", "/v1/render-jobs:prepare-upload")
        upload_file(
            self._session.storage,
            upload["upload_url"],
            Path(stem_path),
            policy=self._session.retry,
            on_progress=on_upload_progress,
        )
        body: dict[str, Any] = {
            "singer_profile_id": profile_id,
            "input_object_key": upload["object_key"],
        }
        body |= _options(params, webhook_url, webhook_events)
        return Job.from_json(self._session.call("POST", "/v1/render-jobs", json=body))

    def get(self, job_id: str) -> Job:
        return Job.from_json(self._session.call("GET", f"/v1/render-jobs/{job_id}"))

    def wait(
        self,
        job_id: str,
        *,
        on_progress: Callable[[Job], None] | None = None,
        timeout_s: float = 3600.0,
        poll_s: float = 1.0,
    ) -> Job:
        """The job once it is finished (``done``, ``failed`` or ``canceled``: see its
        ``status`` and ``error``), polling every ``poll_s``; ``on_progress(job)`` is called
        with the first state seen and with each one whose status or progress changed. Raises
        :class:`WaitTimeoutError` if it is still going after ``timeout_s``."""
        deadline_s = time.monotonic() + timeout_s
        last = None
        while True:
            job = self.get(job_id)
            if on_progress is not None and (job.status, job.progress) != last:
                on_progress(job)
            last = (job.status, job.progress)
            if job.finished:
                return job
            if time.monotonic() >= deadline_s:
                raise WaitTimeoutError(
                    f"job {job_id} still {job.status} after {timeout_s:g} s "
                    f"({job.progress.chunks_done}/{job.progress.chunks_total} chunks)"
                )
            self._session.retry.sleep(poll_s)

    def download(
        self,
        job_id: str,
        path: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        on_download_progress: ProgressCallback | None = None,
    ) -> Path:
        """Stream a done job's output WAV to ``path``; its path. An existing file is left
        alone (:class:`FileExistsError`) unless ``overwrite``. A job not done is a
        :class:`~voxregen_client.errors.ConflictError`, one whose output expired a
        :class:`~voxregen_client.errors.GoneError`."""
        return self._download(
            f"/v1/render-jobs/{job_id}:download", path, overwrite, on_download_progress
        )

    def download_input(
        self,
        job_id: str,
        path: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        on_download_progress: ProgressCallback | None = None,
    ) -> Path:
        """Stream the job's input WAV, the stem as uploaded, to ``path``, whatever the job's
        status; its path. An existing file is left alone as by :meth:`download`. One whose
        input expired is a :class:`~voxregen_client.errors.GoneError`."""
        return self._download(
            f"/v1/render-jobs/{job_id}:download-input", path, overwrite, on_download_progress
        )

    def _download(
        self,
        grant_path: str,
        path: str | os.PathLike[str],
        overwrite: bool,
        on_download_progress: ProgressCallback | None,
    ) -> Path:
        """Ask ``grant_path`` (a ``:download`` verb) for a GET URL and stream its file to
        ``path``."""
        path = Path(path)
        if path.exists() and not overwrite:  # before asking for the file; the move checks again
            raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
        grant = self._session.call("POST", grant_path)
        download_file(
            self._session.storage,
            grant["download_url"],
            path,
            policy=self._session.retry,
            overwrite=overwrite,
            on_progress=on_download_progress,
        )
        return path

    def clone(
        self,
        job_id: str,
        *,
        params: dict[str, Any] | None = None,
        webhook_url: str | None = None,
        webhook_events: list[str] | None = None,
    ) -> Job:
        """A new job on the job's input and cached features, its params the original's with
        ``params`` over them."""
        body = _options(params, webhook_url, webhook_events)
        return Job.from_json(
            self._session.call("POST", f"/v1/render-jobs/{job_id}:clone", json=body)
        )

    def cancel(self, job_id: str) -> Job:
        """Stop a queued or running job; the job, ``canceled`` (a done or failed one is a
        :class:`~voxregen_client.errors.ConflictError`, ``job_finished``)."""
        return Job.from_json(self._session.call("POST", f"/v1/render-jobs/{job_id}:cancel"))

    def page(
        self,
        *,
        status: str | None = None,
        singer_profile_id: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[Job]:
        """One page of the caller's jobs, newest first, only those of ``status`` and
        ``singer_profile_id`` if given."""
        query = {
            "status": status,
            "singer_profile_id": singer_profile_id,
            "limit": limit,
            "cursor": cursor,
        }
        return Page.from_json(
            self._session.call("GET", "/v1/render-jobs", params=query), Job.from_json
        )

    def list(
        self,
        *,
        status: str | None = None,
        singer_profile_id: str | None = None,
        page_size: int | None = None,
    ) -> Iterator[Job]:
        """Every job of the caller's (of ``status`` and ``singer_profile_id`` if given),
        newest first, fetched a page at a time as iterated."""
        return every_item(
            lambda cursor: self.page(
                status=status, singer_profile_id=singer_profile_id, limit=page_size, cursor=cursor
            )
        )

    def delete(self, job_id: str) -> None:
        """Delete the job (canceled first if queued or running) and its files."""
        self._session.call("DELETE", f"/v1/render-jobs/{job_id}")


def _options(
    params: dict[str, Any] | None, webhook_url: str | None, webhook_events: list[str] | None
) -> dict[str, Any]:
    """The optional fields of a new or cloned job's body; left out when not given (the API
    refuses a ``null``)."""
    options = {"params": params, "webhook_url": webhook_url, "webhook_events": webhook_events}
    return {name: value for name, value in options.items() if value is not None}
