"""The CLI's dependencies for ``voxregen render``: objects and feature-cache rows in a local
folder, and no database, broker or web library imported."""

import secrets
from pathlib import Path

from voxregen_adapters.clock import SystemClock
from voxregen_adapters.local_feature_cache import LocalFeatureCacheRepository
from voxregen_adapters.local_object_store import LocalObjectStore
from voxregen_core.pipeline import RenderPorts
from voxregen_core.ports import (
    Clock,
    FeatureCacheRepository,
    Generator,
    ObjectStore,
    ProgressReporter,
)
from voxregen_core.stub_generator import StubGenerator

# The CLI renders in-process and never serves a presigned URL, so its store gets a placeholder
# base URL and a fresh random signing key per process: any URL it could make is useless elsewhere.
CLI_PUBLIC_URL = "http://127.0.0.1:8000"


def local_render_ports(
    cache_dir: Path,
    *,
    progress: ProgressReporter,
    store: ObjectStore | None = None,
    feature_cache: FeatureCacheRepository | None = None,
    generator: Generator | None = None,
    clock: Clock | None = None,
) -> RenderPorts:
    """The CLI's ports for rendering on one machine: objects and feature-cache rows under
    ``cache_dir``."""
    return RenderPorts(
        store=store
        or LocalObjectStore(
            cache_dir / "objects",
            public_url=CLI_PUBLIC_URL,
            signing_key=secrets.token_bytes(32),
            sync_chunks=False,  # the render checks each stored chunk before it reuses it
        ),
        feature_cache=feature_cache
        or LocalFeatureCacheRepository(cache_dir / "feature-cache-index"),
        generator=generator or StubGenerator(),
        progress=progress,
        clock=clock or SystemClock(),
    )
