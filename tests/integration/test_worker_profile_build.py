"""The profile_build actor's work over real PostgreSQL and a local object store: ready with
embeddings, stats, qualities and exemplars; bad references rejected with a reason; no usable
reference → error with the reason in the stats; no reference at all → left as it is;
idempotent rebuilds."""

import uuid
from collections.abc import Iterator

import numpy as np
import pytest

from tests.integration.worker_world import (
    add_profile,
    add_reference,
    make_service,
    reference_wav,
)
from tests.signals import wav_bytes
from voxregen_adapters.service import Service
from voxregen_core.errors import DatabaseUnavailableError
from voxregen_core.profile_stub import EMBEDDING_DIMS, EMBEDDING_VERSION
from voxregen_core.profiles import ProfileStatus
from voxregen_worker.profile_build import abandon_profile_build, profile_build

USER = uuid.UUID("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa")
SHORT_WAV = wav_bytes(np.full(48_000, 0.1), subtype="PCM_16")  # 1 s: too short


@pytest.fixture
def service(fresh_database_url, redis_url, tmp_path) -> Iterator[Service]:
    service = make_service(fresh_database_url, redis_url, tmp_path)
    yield service
    service.close()


def test_a_profile_is_built_ready_and_bad_references_are_rejected_with_a_reason(service):
    profile = add_profile(service, USER, status=ProfileStatus.BUILDING)
    good = [add_reference(service, profile, reference_wav(seconds=s)) for s in (4.0, 5.0)]
    not_a_wav = add_reference(service, profile, b"definitely not a wav")
    too_short = add_reference(service, profile, SHORT_WAV)

    profile_build(service, USER, profile.id)

    built = service.profiles.get(user_id=USER, profile_id=profile.id)
    assert built.status is ProfileStatus.READY
    assert built.embedding_version == EMBEDDING_VERSION
    assert len(built.profile_embedding) == 4 * EMBEDDING_DIMS
    assert built.stats["n_references"] == 2 and built.stats["n_rejected"] == 2
    assert built.stats["total_duration_s"] == pytest.approx(9.0)
    for reference, seconds in zip(good, (4.0, 5.0), strict=True):
        stored = service.references.get(user_id=USER, reference_id=reference.id)
        assert stored.accepted and stored.quality_metrics["problems"] == []
        assert stored.duration_s == seconds  # measured: the rows were added with 0
    rejected = service.references.get(user_id=USER, reference_id=not_a_wav.id)
    assert not rejected.accepted
    assert rejected.quality_metrics["problems"][0].startswith("not_a_wav: the file is not a WAV")
    assert rejected.duration_s == 0.0  # not decoded: the duration it was committed with
    short = service.references.get(user_id=USER, reference_id=too_short.id)
    assert not short.accepted and "shorter than 3 s" in short.quality_metrics["problems"][0]
    assert short.duration_s == 1.0
    exemplars = service.exemplars.list_for_profile(user_id=USER, profile_id=profile.id)
    assert {e.source_reference_id for e in exemplars} == {r.id for r in good}


def test_rebuilding_gives_the_same_rows(service):
    profile = add_profile(service, USER, status=ProfileStatus.BUILDING)
    add_reference(service, profile, reference_wav())
    profile_build(service, USER, profile.id)
    first = service.profiles.get(user_id=USER, profile_id=profile.id)
    exemplars = service.exemplars.list_for_profile(user_id=USER, profile_id=profile.id)

    profile_build(service, USER, profile.id)

    again = service.profiles.get(user_id=USER, profile_id=profile.id)
    assert (again.status, again.profile_embedding, again.cluster_embeddings, again.stats) == (
        first.status,
        first.profile_embedding,
        first.cluster_embeddings,
        first.stats,
    )
    again_exemplars = service.exemplars.list_for_profile(user_id=USER, profile_id=profile.id)
    assert [(e.id, e.embedding) for e in again_exemplars] == [
        (e.id, e.embedding) for e in exemplars
    ]


def test_no_usable_reference_ends_in_error_with_the_reason_in_the_stats(service):
    profile = add_profile(service, USER, status=ProfileStatus.BUILDING)
    reference = add_reference(service, profile, SHORT_WAV)

    profile_build(service, USER, profile.id)

    failed = service.profiles.get(user_id=USER, profile_id=profile.id)
    assert failed.status is ProfileStatus.ERROR
    assert failed.stats["error"]["code"] == "invalid_input"
    assert "no usable reference" in failed.stats["error"]["message"]
    assert f"{reference.id}: shorter than 3 s" in failed.stats["error"]["message"]
    stored = service.references.get(user_id=USER, reference_id=reference.id)
    assert not stored.accepted and stored.quality_metrics["duration_s"] == pytest.approx(1.0)
    assert stored.duration_s == 1.0


def test_a_profile_without_references_is_left_waiting_for_its_first(service):
    profile = add_profile(service, USER, status=ProfileStatus.BUILDING)
    profile_build(service, USER, profile.id)
    assert service.profiles.get(user_id=USER, profile_id=profile.id) == profile


def test_another_users_profile_id_is_left_alone(service):
    profile = add_profile(service, USER, status=ProfileStatus.BUILDING)
    add_reference(service, profile, reference_wav())
    profile_build(service, uuid.uuid4(), profile.id)
    assert service.profiles.get(user_id=USER, profile_id=profile.id) == profile


def test_giving_up_moves_a_building_profile_to_error(service):
    profile = add_profile(service, USER, status=ProfileStatus.BUILDING)
    abandon_profile_build(service, USER, profile.id, DatabaseUnavailableError("db is down"))
    failed = service.profiles.get(user_id=USER, profile_id=profile.id)
    assert failed.status is ProfileStatus.ERROR
    assert failed.stats["error"] == {"code": "database_unavailable", "message": "db is down"}
