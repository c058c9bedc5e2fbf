"""``voxregen serve`` for the browser tests, with a data folder of its own: where it answers,
and how to make an API key beside it."""

import contextlib
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import attrs

from tests.integration.test_serve import STOP_TIMEOUT_S, _free_port, _keys, _serving


@attrs.frozen
class ServedApp:
    """A running ``voxregen serve``: where it answers, its data folder, and its log (stdout and
    stderr, the JSON lines of its children among them)."""

    base_url: str
    data_dir: Path
    log: Path

    def api_key(self, user_id: uuid.UUID) -> str:
        """A new API key of ``user_id``, made by ``voxregen keys create`` beside the running
        serve (for ``served_app_with_keys``: in development mode nothing asks for one)."""
        made = _keys(
            "create", "--user-id", str(user_id), "--name", "browser", data_dir=self.data_dir
        )
        assert made.returncode == 0, made.stderr
        return made.stdout.splitlines()[-1]


@contextlib.contextmanager
def serving_app(folder: Path, settings: dict[str, str] | None = None) -> Iterator[ServedApp]:
    """``voxregen serve`` with a data folder under ``folder``, stopped with SIGTERM afterwards
    (killed, with all it started, if it does not stop in time)."""
    data_dir, log, port = folder / "data", folder / "serve.log", _free_port()
    with _serving(data_dir, port, log, settings=settings) as serve:
        yield ServedApp(base_url=f"http://127.0.0.1:{port}", data_dir=data_dir, log=log)
        serve.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):  # then _serving kills it all
            serve.wait(timeout=STOP_TIMEOUT_S)
