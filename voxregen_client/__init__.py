"""The Python client of the voxregen API: a small, typed package (httpx and attrs) that
imports nothing else of voxregen, so that it ships on its own. docs/client.md has every call.

    from voxregen_client import Client

    with Client.from_env() as client:  # VOXREGEN_URL, VOXREGEN_API_KEY
        profile = client.profiles.create("Ada")
        client.profiles.add_reference(profile.id, "ada-take-1.wav")
        client.profiles.wait_ready(profile.id)
        job = client.jobs.create("lead-vocal.wav", profile.id, params={"style": "warm"})
        job = client.jobs.wait(job.id, on_progress=lambda job: print(job.progress))
        client.jobs.download(job.id, "lead-vocal.regen.wav")
"""

from voxregen_client.client import Client
from voxregen_client.errors import (
    BadRequestError,
    ConfigurationError,
    ConflictError,
    GoneError,
    InvalidRequestError,
    NotFoundError,
    ProfileBuildError,
    RateLimitedError,
    ServiceUnavailableError,
    ServiceUnreachableError,
    UnauthenticatedError,
    UnexpectedResponseError,
    VoxregenApiError,
    VoxregenClientError,
    WaitTimeoutError,
    WebhookVerificationError,
)
from voxregen_client.models import Job, JobError, Page, Profile, Progress, Reference
from voxregen_client.retries import RetryPolicy
from voxregen_client.wav_header import wav_duration_s
from voxregen_client.webhooks import verify_webhook

__all__ = [
    "BadRequestError",
    "Client",
    "ConfigurationError",
    "ConflictError",
    "GoneError",
    "InvalidRequestError",
    "Job",
    "JobError",
    "NotFoundError",
    "Page",
    "Profile",
    "ProfileBuildError",
    "Progress",
    "RateLimitedError",
    "Reference",
    "RetryPolicy",
    "ServiceUnavailableError",
    "ServiceUnreachableError",
    "UnauthenticatedError",
    "UnexpectedResponseError",
    "VoxregenApiError",
    "VoxregenClientError",
    "WaitTimeoutError",
    "WebhookVerificationError",
    "verify_webhook",
    "wav_duration_s",
]
