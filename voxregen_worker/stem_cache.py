"""``StemCache``: the last few prepared stems of this worker process, by job id.

A job's chunks arrive as separate messages, mostly at the same worker in a row; without the
cache each would decode the whole input again (about a second for an 8-minute stem). A stem
takes ~100 MB per 8 minutes, so only a couple are kept.
"""

import threading
import uuid
from collections import OrderedDict

from voxregen_core.stages import PreparedStem


class StemCache:
    def __init__(self, *, max_stems: int = 2) -> None:
        self._max_stems = max_stems
        self._stems: OrderedDict[uuid.UUID, PreparedStem] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, job_id: uuid.UUID) -> PreparedStem | None:
        with self._lock:
            prepared = self._stems.get(job_id)
            if prepared is not None:
                self._stems.move_to_end(job_id)
            return prepared

    def put(self, job_id: uuid.UUID, prepared: PreparedStem) -> None:
        with self._lock:
            self._stems[job_id] = prepared
            self._stems.move_to_end(job_id)
            while len(self._stems) > self._max_stems:
                self._stems.popitem(last=False)

    def drop(self, job_id: uuid.UUID) -> None:
        with self._lock:
            self._stems.pop(job_id, None)
