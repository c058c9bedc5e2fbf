"""`voxregen worker` as a process: a stop signal repeated during its shutdown (an impatient
supervisor, a `docker stop` after a Ctrl-C) still ends it cleanly, with exit status 0."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.migrated_database import migrated_engine
from tests.integration.processes import environment_without_voxregen_settings

VOXREGEN = str(Path(sys.executable).with_name("voxregen"))
START_TIMEOUT_S = 30.0


@pytest.mark.parametrize("second_after", ["worker_stopping", "worker_stopped"])
def test_a_second_sigterm_during_shutdown_still_exits_0(
    fresh_database_url, redis_url, tmp_path, second_after
):
    migrated_engine(fresh_database_url).dispose()
    env = {
        **environment_without_voxregen_settings(),
        "VOXREGEN_DATABASE_URL": fresh_database_url,
        "VOXREGEN_REDIS_URL": redis_url,
        "VOXREGEN_STORAGE_URL": (tmp_path / "objects").as_uri(),
        "VOXREGEN_SIGNING_KEY": "worker-process-test-signing-key-0123456789",
    }
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        worker = subprocess.Popen(
            [VOXREGEN, "worker"], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while '"worker_started"' not in log.read_text():
            assert worker.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        worker.send_signal(signal.SIGTERM)
        while f'"{second_after}"' not in log.read_text():
            time.sleep(0.01)
        worker.send_signal(signal.SIGTERM)  # while it stops its threads, or exits
        assert worker.wait(timeout=START_TIMEOUT_S) == 0, log.read_text()
    finally:
        worker.kill()
        worker.wait()
    assert '"worker_stopped"' in log.read_text()
