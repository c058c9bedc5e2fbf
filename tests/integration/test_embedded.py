"""The embedded runtime: real PostgreSQL and Redis under a folder keep their data across a
restart, attach instead of doubling up, and leave no process behind when stopped."""

import attrs
import psutil
import redis
import sqlalchemy as sa

from voxregen_adapters.embedded import start_postgres, start_redis


def _process_family(pid: int) -> list[psutil.Process]:
    parent = psutil.Process(pid)
    return [parent, *parent.children(recursive=True)]


def _assert_all_gone(processes: list[psutil.Process]) -> None:
    gone, alive = psutil.wait_procs(processes, timeout=5)
    assert alive == []
    assert len(gone) == len(processes)


def test_postgres_keeps_its_rows_across_a_restart_and_stops_cleanly(tmp_path):
    server = start_postgres(tmp_path)
    processes = _process_family(server.pid)
    assert len(processes) > 1  # the postmaster and its background workers
    engine = sa.create_engine(server.url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE kept (note text)"))
        connection.execute(sa.text("INSERT INTO kept VALUES ('still here')"))
    engine.dispose()
    server.stop()
    _assert_all_gone(processes)

    again = start_postgres(tmp_path)
    try:
        assert again.pid != server.pid
        engine = sa.create_engine(again.url)
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT note FROM kept")).scalars().all() == [
                "still here"
            ]
            assert connection.execute(sa.text("SHOW server_version_num")).scalar_one() >= "180000"
        engine.dispose()
    finally:
        again.stop()


def test_postgres_start_attaches_to_the_server_already_running_on_the_folder(tmp_path):
    first = start_postgres(tmp_path)
    try:
        assert first.started_here
        assert start_postgres(tmp_path) == attrs.evolve(first, started_here=False)
    finally:
        processes = _process_family(first.pid)
        first.stop()
    _assert_all_gone(processes)
    first.stop()  # stopping a stopped server leaves it stopped
    assert not (tmp_path / "pgdata" / "postmaster.pid").exists()


def test_redis_keeps_its_keys_across_a_restart_and_stops_cleanly(tmp_path):
    server = start_redis(tmp_path)
    client = redis.Redis.from_url(server.url)
    client.set("voxregen:kept", "still here")
    client.close()
    process = psutil.Process(server.pid)
    server.stop()
    _assert_all_gone([process])
    server.stop()  # stopping a stopped server leaves it stopped

    again = start_redis(tmp_path)
    try:
        assert again.pid != server.pid
        client = redis.Redis.from_url(again.url)
        assert client.get("voxregen:kept") == b"still here"
        client.close()
        attached = start_redis(tmp_path)
        assert (attached.url, attached.pid) == (again.url, again.pid)
    finally:
        process = psutil.Process(again.pid)
        again.stop()
    _assert_all_gone([process])
