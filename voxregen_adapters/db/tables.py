"""The brief's five tables as SQLAlchemy Core metadata, with the indexes the lists page on,
the ``idempotency_keys`` and webhook columns and ``webhook_secrets`` of issue 12, and the
``api_keys`` and the retention sweep's columns and indexes of issue 13; ``docs/schema.md``
explains each column.

Alembic revisions under ``migrations/`` (beside this module) create the schema; a test checks
that this metadata and the head revision agree. Constraint and index names come from the naming
convention, so a revision can name them without guessing.

The ``updated_at`` trigger lives in the migration (metadata cannot express it).
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from voxregen_core.jobs import JobStatus
from voxregen_core.profiles import ProfileStatus

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

profile_status = sa.Enum(*(status.value for status in ProfileStatus), name="profile_status")
job_status = sa.Enum(*(status.value for status in JobStatus), name="job_status")


def _id() -> sa.Column:
    return sa.Column("id", sa.Uuid, primary_key=True)


def _user_id() -> sa.Column:
    return sa.Column("user_id", sa.Uuid, nullable=False, index=True)


def _timestamp(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


singer_profiles = sa.Table(
    "singer_profiles",
    metadata,
    _id(),
    _user_id(),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("status", profile_status, nullable=False),
    sa.Column("embedding_version", sa.Text),
    sa.Column("profile_embedding", sa.LargeBinary),
    sa.Column("cluster_embeddings", sa.LargeBinary),
    sa.Column("stats", JSONB, nullable=False),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    sa.Index("ix_singer_profiles_newest", "user_id", "created_at", "id"),
)

singer_references = sa.Table(
    "singer_references",
    metadata,
    _id(),
    _user_id(),
    sa.Column(
        "singer_profile_id",
        sa.Uuid,
        sa.ForeignKey(singer_profiles.c.id, ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("object_key", sa.Text, nullable=False),
    sa.Column("duration_sec", sa.Double, nullable=False),
    sa.Column("quality_metrics", JSONB, nullable=False),
    sa.Column("accepted", sa.Boolean, nullable=False, server_default=sa.true()),
    _timestamp("created_at"),
    sa.Index("ix_singer_references_newest", "singer_profile_id", "created_at", "id"),
)

singer_exemplars = sa.Table(
    "singer_exemplars",
    metadata,
    _id(),
    sa.Column(
        "singer_profile_id",
        sa.Uuid,
        sa.ForeignKey(singer_profiles.c.id, ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("embedding", sa.LargeBinary, nullable=False),
    sa.Column("f0_p50", sa.Double, nullable=False),
    sa.Column("f0_p90", sa.Double, nullable=False),
    sa.Column("voiced_pct", sa.Double, nullable=False),
    sa.Column("energy", sa.Double, nullable=False),
    sa.Column(
        "source_reference_id",
        sa.Uuid,
        sa.ForeignKey(singer_references.c.id, ondelete="CASCADE"),
        nullable=False,
    ),
    _timestamp("created_at"),
)

stem_feature_cache = sa.Table(
    "stem_feature_cache",
    metadata,
    _id(),
    _user_id(),
    sa.Column("input_hash", sa.Text, nullable=False, index=True),
    sa.Column("feature_version", sa.Text, nullable=False),
    sa.Column("sample_rate", sa.Integer, nullable=False),
    sa.Column("object_key", sa.Text, nullable=False),
    sa.Column("duration_sec", sa.Double, nullable=False),
    _timestamp("created_at"),
    _timestamp("last_accessed_at"),
    sa.UniqueConstraint("user_id", "input_hash", "feature_version"),
)

render_jobs = sa.Table(
    "render_jobs",
    metadata,
    _id(),
    _user_id(),
    sa.Column(
        "singer_profile_id", sa.Uuid, sa.ForeignKey(singer_profiles.c.id, ondelete="SET NULL")
    ),
    sa.Column("input_object_key", sa.Text, nullable=False),
    sa.Column("output_object_key", sa.Text),
    sa.Column("input_hash", sa.Text, index=True),
    sa.Column(
        "stem_feature_cache_id",
        sa.Uuid,
        sa.ForeignKey(stem_feature_cache.c.id, ondelete="SET NULL"),
    ),
    sa.Column("status", job_status, nullable=False),
    sa.Column("params", JSONB, nullable=False),
    sa.Column("progress", JSONB, nullable=False),
    sa.Column("metrics", JSONB, nullable=False),
    sa.Column("error_code", sa.Text),
    sa.Column("error_message", sa.Text),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    sa.Column("webhook", JSONB),
    sa.Column("webhook_last_attempt", JSONB),
    sa.Column("webhook_progress_at", sa.DateTime(timezone=True)),
    sa.Column("chunks_expired_at", sa.DateTime(timezone=True)),
    sa.Column("input_expired_at", sa.DateTime(timezone=True)),
    sa.Column("output_expired_at", sa.DateTime(timezone=True)),
    sa.Index("ix_render_jobs_newest", "user_id", "created_at", "id"),
    sa.Index("ix_render_jobs_input", "user_id", "input_object_key"),
    sa.Index(
        "ix_render_jobs_chunks_kept",
        "created_at",
        postgresql_where=sa.text("chunks_expired_at IS NULL"),
    ),
    sa.Index(
        "ix_render_jobs_input_kept",
        "created_at",
        postgresql_where=sa.text("input_expired_at IS NULL"),
    ),
    sa.Index(
        "ix_render_jobs_output_kept",
        "created_at",
        postgresql_where=sa.text("status = 'done' AND output_expired_at IS NULL"),
    ),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("user_id", sa.Uuid, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("fingerprint", sa.Text, nullable=False),
    sa.Column("status_code", sa.Integer),
    sa.Column("body", sa.LargeBinary),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("answered_at", sa.DateTime(timezone=True)),
)

webhook_secrets = sa.Table(
    "webhook_secrets",
    metadata,
    sa.Column("user_id", sa.Uuid, primary_key=True),
    sa.Column("secret", sa.Text, nullable=False),
    _timestamp("created_at"),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    _id(),
    _user_id(),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("prefix", sa.Text, nullable=False),
    sa.Column("digest", sa.Text, nullable=False, unique=True),
    _timestamp("created_at"),
    sa.Column("last_used_at", sa.DateTime(timezone=True)),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
)
