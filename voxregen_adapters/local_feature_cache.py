"""``LocalFeatureCacheRepository``: feature-cache rows as JSON files, for single-machine use.

One file per entry, named by ``(user_id, input_hash, feature_version)`` so the uniqueness
rule of ``stem_feature_cache`` holds by construction; writes are atomic.
"""

import json
import uuid
from datetime import datetime
from pathlib import Path

import attrs

from voxregen_adapters.atomic_file import write_atomically
from voxregen_core.feature_cache import FeatureCacheEntry, touched


class LocalFeatureCacheRepository:
    def __init__(self, root: Path) -> None:
        self._root = Path(root)

    def _path(self, user_id: uuid.UUID, input_hash: str, feature_version: str) -> Path:
        return self._root / str(uuid.UUID(str(user_id))) / f"{input_hash}.{feature_version}.json"

    def find(
        self, *, user_id: uuid.UUID, input_hash: str, feature_version: str
    ) -> FeatureCacheEntry | None:
        path = self._path(user_id, input_hash, feature_version)
        try:
            row = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        return FeatureCacheEntry(
            id=uuid.UUID(row["id"]),
            user_id=uuid.UUID(row["user_id"]),
            input_hash=row["input_hash"],
            feature_version=row["feature_version"],
            sample_rate_hz=row["sample_rate_hz"],
            object_key=row["object_key"],
            duration_s=row["duration_s"],
            created_at=datetime.fromisoformat(row["created_at"]),
            last_accessed_at=datetime.fromisoformat(row["last_accessed_at"]),
        )

    def add(self, entry: FeatureCacheEntry) -> FeatureCacheEntry:
        existing = self.find(
            user_id=entry.user_id,
            input_hash=entry.input_hash,
            feature_version=entry.feature_version,
        )
        if existing is not None:
            return existing
        self._write(entry)
        return entry

    def touch(self, entry: FeatureCacheEntry, *, accessed_at: datetime) -> None:
        stored = self.find(
            user_id=entry.user_id,
            input_hash=entry.input_hash,
            feature_version=entry.feature_version,
        )
        if stored is not None and stored.id == entry.id:
            self._write(touched(stored, now=accessed_at))

    def _write(self, entry: FeatureCacheEntry) -> None:
        row = attrs.asdict(entry, value_serializer=_json_value)
        path = self._path(entry.user_id, entry.input_hash, entry.feature_version)
        write_atomically(path, json.dumps(row, indent=1).encode(), mode=0o600)


def _json_value(instance: object, field: attrs.Attribute, value: object) -> object:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value
