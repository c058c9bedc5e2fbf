"""The singer profile's rules for a render: which profiles a render may use, and the
fingerprint of the embedding a job pins."""

import uuid

import attrs
import pytest

from voxregen_core.profiles import ProfileStatus, SingerProfile

BUILT = SingerProfile(
    id=uuid.uuid4(),
    user_id=uuid.uuid4(),
    name="Ada",
    status=ProfileStatus.READY,
    embedding_version="stub-v1",
    profile_embedding=b"\x01" * 8,
    cluster_embeddings=b"\x02" * 16,
)
NEVER_BUILT = attrs.evolve(
    BUILT,
    status=ProfileStatus.BUILDING,
    embedding_version=None,
    profile_embedding=None,
    cluster_embeddings=None,
)


@pytest.mark.parametrize(
    ("profile", "usable", "reason"),
    [
        (BUILT, True, None),
        (attrs.evolve(BUILT, status=ProfileStatus.BUILDING), True, None),
        (NEVER_BUILT, False, "building and not built yet"),
        (attrs.evolve(BUILT, status=ProfileStatus.ERROR), False, "error"),
        (attrs.evolve(NEVER_BUILT, status=ProfileStatus.ERROR), False, "error"),
    ],
    ids=["ready", "rebuilding", "building_first_time", "error_after_a_build", "error"],
)
def test_a_render_may_use_a_built_profile_even_while_it_is_rebuilt(profile, usable, reason):
    assert profile.usable_for_render is usable
    if not usable:
        assert profile.unusable_reason == reason


def test_the_fingerprint_follows_the_embedding_not_the_row():
    fingerprint = BUILT.embedding_fingerprint
    assert len(fingerprint) == 16 and int(fingerprint, 16) >= 0
    # status, stats and name are not the embedding
    same = attrs.evolve(BUILT, status=ProfileStatus.BUILDING, stats={"n": 1}, name="Bea")
    assert same.embedding_fingerprint == fingerprint
    others = [
        attrs.evolve(BUILT, embedding_version="stub-v2"),
        attrs.evolve(BUILT, profile_embedding=b"\x03" * 8),
        attrs.evolve(BUILT, cluster_embeddings=b"\x02" * 8),
        # the same bytes split differently between the two embeddings
        attrs.evolve(
            BUILT, profile_embedding=b"\x01" * 8 + b"\x02", cluster_embeddings=b"\x02" * 15
        ),
        attrs.evolve(BUILT, cluster_embeddings=b""),
        attrs.evolve(BUILT, cluster_embeddings=None),
        NEVER_BUILT,
    ]
    fingerprints = {profile.embedding_fingerprint for profile in others}
    assert len(fingerprints) == len(others) and fingerprint not in fingerprints
