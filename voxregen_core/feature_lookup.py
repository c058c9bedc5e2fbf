"""The feature-cache look-up over ports: a stem's features from the user's cache, or
extracted and cached on a miss.

Entries are found by ``(user_id, input_hash, feature_version)`` with the one
:data:`~voxregen_core.spec.FEATURE_VERSION`; params are not part of the key, so a re-render
with new params never re-extracts. A hit touches the entry. A blob that vanished since its
entry was found, or that is damaged, is a miss: the features are extracted again and the blob
is rewritten under the same entry. The pure rules over entries are in
:mod:`voxregen_core.feature_cache`.
"""

import attrs

from voxregen_core import spec
from voxregen_core.audio_input import Stem
from voxregen_core.errors import FeatureBlobError, ObjectNotFoundError
from voxregen_core.feature_blob import decode_features, encode_features
from voxregen_core.feature_cache import FeatureCacheEntry
from voxregen_core.features import Features, extract_features
from voxregen_core.jobs import RenderJob
from voxregen_core.ports import Clock, FeatureCacheRepository, ObjectStore


@attrs.frozen(eq=False)
class FeatureLookup:
    """A stem's features, the cache entry that holds them, and whether the cache had them."""

    features: Features
    entry: FeatureCacheEntry
    cache_hit: bool


def lookup_features(
    job: RenderJob,
    stem: Stem,
    *,
    input_hash: str,
    store: ObjectStore,
    feature_cache: FeatureCacheRepository,
    clock: Clock,
) -> FeatureLookup:
    """The stem's features from ``job``'s user's cache, or extracted and cached on a miss."""
    version = spec.FEATURE_VERSION
    entry = feature_cache.find(user_id=job.user_id, input_hash=input_hash, feature_version=version)
    if entry is not None:
        try:
            features = decode_features(store.get(entry.object_key))
        except ObjectNotFoundError:
            features = None  # gone (evicted since it was found): extracted again below
        except FeatureBlobError:
            features = None  # a damaged blob is replaced below, never trusted
        if features is not None:
            feature_cache.touch(entry, accessed_at=clock.now())
            return FeatureLookup(features=features, entry=entry, cache_hit=True)

    features = extract_features(stem.audio, sample_rate_hz=spec.SAMPLE_RATE_HZ)
    candidate = entry or FeatureCacheEntry.new(
        user_id=job.user_id,
        input_hash=input_hash,
        feature_version=version,
        duration_s=stem.audio.shape[0] / spec.SAMPLE_RATE_HZ,
        now=clock.now(),
    )
    store.put(candidate.object_key, encode_features(features))
    return FeatureLookup(features=features, entry=feature_cache.add(candidate), cache_hit=False)
