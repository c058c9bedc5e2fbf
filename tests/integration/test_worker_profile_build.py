"""The profile_build actor's work over real PostgreSQL and a local object store: ready with
embeddings, stats, qualities and exemplars; bad references rejected with a reason; no usable
reference → error with the reason in the stats; no reference at all → left as it is;
idempotent rebuilds; a build overtaken by a commit or a delete of a reference records nothing,
and the build that change queued finishes the profile."""

import uuid
from collections.abc import Callable, Iterator

import attrs
import numpy as np
import pytest

from tests.fakes import InMemoryJobQueue
from tests.integration.worker_world import (
    SpyingStore,
    add_profile,
    add_reference,
    make_service,
    reference_wav,
)
from tests.signals import wav_bytes
from voxregen_adapters.service import Service
from voxregen_core.errors import DatabaseUnavailableError
from voxregen_core.keys import upload_key_for
from voxregen_core.messages import ProfileBuildMessage
from voxregen_core.profile_stub import EMBEDDING_DIMS, EMBEDDING_VERSION
from voxregen_core.profiles import ProfileStatus, SingerProfile
from voxregen_core.use_cases import profiles as use_cases
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
    before = service.profiles.get(user_id=USER, profile_id=profile.id)
    profile_build(service, uuid.uuid4(), profile.id)
    assert service.profiles.get(user_id=USER, profile_id=profile.id) == before


def test_giving_up_moves_a_building_profile_to_error(service):
    profile = add_profile(service, USER, status=ProfileStatus.BUILDING)
    abandon_profile_build(service, USER, profile.id, DatabaseUnavailableError("db is down"))
    failed = service.profiles.get(user_id=USER, profile_id=profile.id)
    assert failed.status is ProfileStatus.ERROR
    assert failed.stats["error"] == {"code": "database_unavailable", "message": "db is down"}


# --- builds overtaken by a commit or a delete -----------------------------------------------


@attrs.frozen
class Api:
    """The API's side of the service: the use cases, with the builds they queue recorded."""

    service: Service
    queue: InMemoryJobQueue

    @classmethod
    def over(cls, service: Service) -> "Api":
        queue = InMemoryJobQueue()
        return cls(attrs.evolve(service, queue=queue), queue)

    def create_profile(self) -> SingerProfile:
        return use_cases.create_profile(self.service, user_id=USER, name="Ada")

    def commit(self, profile: SingerProfile, data: bytes) -> uuid.UUID:
        """Upload ``data`` as a new reference of ``profile`` and commit it, as a client does."""
        prepared = use_cases.prepare_reference_upload(
            self.service, user_id=USER, profile_id=profile.id
        )
        self.service.store.put(upload_key_for(prepared.object_key), data)
        use_cases.commit_reference(
            self.service,
            user_id=USER,
            profile_id=profile.id,
            ref_id=prepared.id,
            object_key=prepared.object_key,
        )
        return prepared.id

    def delete(self, profile: SingerProfile, ref_id: uuid.UUID) -> None:
        use_cases.delete_reference(self.service, user_id=USER, profile_id=profile.id, ref_id=ref_id)

    def details(self, profile: SingerProfile) -> use_cases.ProfileDetails:
        """What ``GET /v1/singer-profiles/{id}`` answers from."""
        return use_cases.get_profile(self.service, user_id=USER, profile_id=profile.id)

    def builds_queued(self) -> int:
        return len(self.queue.of_type(ProfileBuildMessage))


def build_while(service: Service, profile: SingerProfile, meanwhile: Callable[[], None]) -> None:
    """Run a build of ``profile`` that calls ``meanwhile`` once, after listing the references,
    as it reads the first clip (before recording anything)."""
    store = SpyingStore(service.store)
    pending = [meanwhile]
    store.on_get = lambda _key: pending and pending.pop()()
    profile_build(attrs.evolve(service, store=store), USER, profile.id)
    assert not pending, "the build read no clip"


@pytest.fixture
def api(service) -> Api:
    return Api.over(service)


@pytest.fixture
def profile(api) -> SingerProfile:
    return api.create_profile()


def analysed(details: use_cases.ProfileDetails) -> dict[uuid.UUID, float]:
    """The measured duration of each reference a build analysed, by id."""
    return {r.id: r.duration_s for r in details.references if r.quality_metrics}


def test_a_build_overtaken_by_a_commit_leaves_the_profile_building_for_the_next(
    service, api, profile
):
    """The race a client saw: clip 1's build lists its references, clip 2 is committed, and
    clip 1's build finishes. It used to mark the profile ready with clip 2 not analysed."""
    first = api.commit(profile, reference_wav(seconds=4.0))
    second: list[uuid.UUID] = []

    build_while(
        service, profile, lambda: second.append(api.commit(profile, reference_wav(seconds=5.0)))
    )

    details = api.details(profile)
    assert details.profile.status is ProfileStatus.BUILDING
    assert details.profile.profile_embedding is None and details.profile.stats == {}
    assert analysed(details) == {first: 4.0}  # clip 2 not analysed: not ready
    assert service.exemplars.list_for_profile(user_id=USER, profile_id=profile.id) == []
    assert api.builds_queued() == 2  # one per commit: the second is still to run

    profile_build(service, USER, profile.id)  # the build clip 2's commit queued

    details = api.details(profile)
    assert details.profile.status is ProfileStatus.READY
    assert analysed(details) == {first: 4.0, second[0]: 5.0}
    assert details.profile.stats["n_references"] == 2
    exemplars = service.exemplars.list_for_profile(user_id=USER, profile_id=profile.id)
    assert {e.source_reference_id for e in exemplars} == {first, second[0]}


def test_an_overtaken_build_finishing_last_leaves_the_later_build_in_place(service, api, profile):
    """Clip 2's build runs and ends ready while clip 1's is still reading: clip 1's, ending
    last, neither undoes it (a profile of clip 1 alone) nor marks the profile building again
    (no build would be left to finish it)."""
    first = api.commit(profile, reference_wav(seconds=4.0))
    second: list[uuid.UUID] = []

    def commit_and_build_clip_2() -> None:
        second.append(api.commit(profile, reference_wav(seconds=5.0)))
        profile_build(service, USER, profile.id)

    build_while(service, profile, commit_and_build_clip_2)

    details = api.details(profile)
    assert details.profile.status is ProfileStatus.READY
    assert details.profile.stats["n_references"] == 2
    assert analysed(details) == {first: 4.0, second[0]: 5.0}
    exemplars = service.exemplars.list_for_profile(user_id=USER, profile_id=profile.id)
    assert {e.source_reference_id for e in exemplars} == {first, second[0]}


def test_a_build_overtaken_by_a_delete_records_nothing_and_the_next_finishes(service, api, profile):
    """Its exemplars would name a deleted reference (which used to fail the build, and the
    profile with it, once Dramatiq gave up)."""
    kept = api.commit(profile, reference_wav(seconds=4.0))
    deleted = api.commit(profile, reference_wav(seconds=5.0))

    build_while(service, profile, lambda: api.delete(profile, deleted))

    assert api.details(profile).profile.status is ProfileStatus.BUILDING
    assert api.builds_queued() == 3  # two commits and the delete
    profile_build(service, USER, profile.id)
    details = api.details(profile)
    assert details.profile.status is ProfileStatus.READY
    assert details.profile.stats["n_references"] == 1
    assert analysed(details) == {kept: 4.0}


def test_a_build_overtaken_by_the_delete_of_the_last_reference_leaves_a_new_profile(
    service, api, profile
):
    """The delete left nothing to build (and queued no build): the profile is back to a new
    one's state, building with no embedding, waiting for a reference, not in ``error`` from a
    build of a clip that is gone."""
    only = api.commit(profile, reference_wav(seconds=4.0))

    build_while(service, profile, lambda: api.delete(profile, only))

    details = api.details(profile)
    assert details.references == []
    assert details.profile.status is ProfileStatus.BUILDING
    assert details.profile.profile_embedding is None and details.profile.stats == {}
    assert api.builds_queued() == 1
