"""One error hierarchy for the whole service, rooted in :class:`VoxregenError`.

Every class carries a stable ``code`` (for job rows, HTTP bodies and CLI messages)
and a message a producer can act on.
"""

from typing import ClassVar


class VoxregenError(Exception):
    """Raised when voxregen cannot do what was asked; the root of every voxregen error."""

    code: ClassVar[str] = "internal_error"

    @property
    def message(self) -> str:
        return str(self)


class InvalidInputError(VoxregenError):
    """Raised when an uploaded stem or reference cannot be rendered."""

    code = "invalid_input"


class NotAWavError(InvalidInputError):
    """Raised when the bytes are not a RIFF/WAVE file."""

    code = "not_a_wav"


class EmptyInputError(InvalidInputError):
    """Raised when the file is empty or holds no audio frames."""

    code = "empty_input"


class TruncatedInputError(InvalidInputError):
    """Raised when a header or the data chunk is cut short."""

    code = "truncated_input"


class UnsupportedFormatError(InvalidInputError):
    """Raised when the WAV encoding is not PCM 8/16/24/32-bit or float 32/64."""

    code = "unsupported_format"


class TooManyChannelsError(InvalidInputError):
    """Raised when the WAV has more than two channels."""

    code = "too_many_channels"


class UnsupportedSampleRateError(InvalidInputError):
    """Raised when the sample rate is outside the range voxregen accepts."""

    code = "unsupported_sample_rate"


class NonFiniteSamplesError(InvalidInputError):
    """Raised when a float WAV holds NaN or infinite samples."""

    code = "non_finite_samples"


class InputTooLongError(InvalidInputError):
    """Raised when the stem is longer than the 8-minute limit."""

    code = "input_too_long"


class InputTooShortError(InvalidInputError):
    """Raised when the stem is shorter than one 400 ms loudness block."""

    code = "input_too_short"


class UploadTooLargeError(InvalidInputError):
    """Raised when an uploaded object is larger than the largest stem or reference accepted."""

    code = "upload_too_large"


class InputChangedError(InvalidInputError):
    """Raised when a job's input no longer has the hash that the job (or the original of a
    clone) was rendered from."""

    code = "input_changed"


class InvalidParamsError(VoxregenError, ValueError):
    """Raised when render params or a domain value are outside their documented range."""

    code = "invalid_params"


class InvalidFieldError(InvalidParamsError):
    """Raised when one field of what a use case was given is invalid; ``field`` names it (the
    name the request used), so that the edge can point at it."""

    code = "invalid_field"

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


class InvalidCursorError(VoxregenError, ValueError):
    """Raised when a list's cursor is not one the API gave for that list and caller."""

    code = "invalid_cursor"


class InvalidKeyError(VoxregenError, ValueError):
    """Raised when a string is not a storage key of any of the brief's templates."""

    code = "invalid_key"


class FeatureBlobError(VoxregenError):
    """Raised when a feature blob is malformed, truncated or of an unknown format version."""

    code = "invalid_feature_blob"


class ObjectNotFoundError(VoxregenError):
    """Raised when an object store has no object under the key asked for."""

    code = "object_not_found"


class GeneratorError(VoxregenError):
    """Raised when a generator returns audio of the wrong shape or with non-finite samples."""

    code = "generator_error"


class ChunkMissingError(VoxregenError):
    """Raised when a chunk stored earlier in a render is gone or changed when it is stitched."""

    code = "chunk_missing"


class StorageUnavailableError(VoxregenError):
    """Raised when the object store cannot be reached."""

    code = "storage_unavailable"


class ConfigError(VoxregenError):
    """Raised when a ``VOXREGEN_*`` environment variable is missing or malformed."""

    code = "invalid_config"


class QueueUnavailableError(VoxregenError):
    """Raised when the job queue's Redis cannot be reached."""

    code = "queue_unavailable"


class NotFoundError(VoxregenError):
    """Raised when a user has no row with the id asked for (another user's row counts as none)."""

    code = "not_found"


class ConflictError(VoxregenError):
    """Raised when a row cannot be added because one with the same id already exists."""

    code = "conflict"


class JobFinishedError(ConflictError):
    """Raised when a request needs a job still queued or running (a cancel) and it is done or
    failed."""

    code = "job_finished"


class ProfileInUseError(ConflictError):
    """Raised when a singer profile cannot be deleted because a queued or running job renders
    with it."""

    code = "profile_in_use"


class UploadSealedError(ConflictError):
    """Raised when an upload URL is used after a job or reference was created on its upload."""

    code = "upload_sealed"


class NotReadyError(VoxregenError):
    """Raised when a profile or job is not yet in the status a request needs (a render needs a
    ready profile, a download a done job)."""

    code = "not_ready"


class ProfileNotReadyError(NotReadyError):
    """Raised when a render job runs and its profile is missing, never built or in error."""

    code = "profile_not_ready"


class ExpiredError(VoxregenError):
    """Raised when a request needs an object that the retention policy deleted
    (:mod:`voxregen_core.retention`)."""

    code = "expired"


class InputExpiredError(ExpiredError):
    """Raised when a job is cloned (or an input reused) after its input was deleted."""

    code = "input_expired"


class OutputExpiredError(ExpiredError):
    """Raised when a job's output is asked for after it was deleted."""

    code = "output_expired"


class DatabaseUnavailableError(VoxregenError):
    """Raised when the PostgreSQL database cannot be reached."""

    code = "database_unavailable"


class EmbeddedServerError(VoxregenError):
    """Raised when the embedded PostgreSQL or Redis cannot be started or stopped."""

    code = "embedded_server_failed"


class RetryLaterError(VoxregenError):
    """Raised when a user is over a limit that frees with time; ``retry_after_s`` says when
    to try again (HTTP answers it as ``Retry-After``)."""

    code = "retry_later"

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class TooManyActiveJobsError(RetryLaterError):
    """Raised when a user with as many queued and running jobs as the limit allows asks for
    another."""

    code = "too_many_active_jobs"


class RateLimitedError(RetryLaterError):
    """Raised when a user sends requests faster than the rate limit allows."""

    code = "rate_limited"
