"""The brief's five tables, the two status enums and the updated_at trigger.

Revision ID: 0001
Revises:
Create Date: 2026-11-24

Self-contained: a revision never imports domain or adapter code, so it keeps meaning what it
meant when it was written. Names follow the metadata's naming convention
(voxregen_adapters/db/tables.py) and are spelled out with op.f().
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROFILE_STATUS = sa.Enum("building", "ready", "error", name="profile_status")
JOB_STATUS = sa.Enum("queued", "running", "done", "failed", name="job_status")
TABLES_WITH_UPDATED_AT = ("singer_profiles", "render_jobs")


def _timestamp(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def upgrade() -> None:
    op.create_table(
        "singer_profiles",
        sa.Column("id", sa.Uuid, nullable=False),
        sa.Column("user_id", sa.Uuid, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("status", PROFILE_STATUS, nullable=False),
        sa.Column("embedding_version", sa.Text, nullable=True),
        sa.Column("profile_embedding", sa.LargeBinary, nullable=True),
        sa.Column("cluster_embeddings", sa.LargeBinary, nullable=True),
        sa.Column("stats", JSONB, nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_singer_profiles")),
    )
    op.create_index(op.f("ix_singer_profiles_user_id"), "singer_profiles", ["user_id"])

    op.create_table(
        "singer_references",
        sa.Column("id", sa.Uuid, nullable=False),
        sa.Column("user_id", sa.Uuid, nullable=False),
        sa.Column("singer_profile_id", sa.Uuid, nullable=False),
        sa.Column("object_key", sa.Text, nullable=False),
        sa.Column("duration_sec", sa.Double, nullable=False),
        sa.Column("quality_metrics", JSONB, nullable=False),
        sa.Column("accepted", sa.Boolean, nullable=False, server_default=sa.true()),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_singer_references")),
        sa.ForeignKeyConstraint(
            ["singer_profile_id"],
            ["singer_profiles.id"],
            name=op.f("fk_singer_references_singer_profile_id_singer_profiles"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(op.f("ix_singer_references_user_id"), "singer_references", ["user_id"])

    op.create_table(
        "singer_exemplars",
        sa.Column("id", sa.Uuid, nullable=False),
        sa.Column("singer_profile_id", sa.Uuid, nullable=False),
        sa.Column("embedding", sa.LargeBinary, nullable=False),
        sa.Column("f0_p50", sa.Double, nullable=False),
        sa.Column("f0_p90", sa.Double, nullable=False),
        sa.Column("voiced_pct", sa.Double, nullable=False),
        sa.Column("energy", sa.Double, nullable=False),
        sa.Column("source_reference_id", sa.Uuid, nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_singer_exemplars")),
        sa.ForeignKeyConstraint(
            ["singer_profile_id"],
            ["singer_profiles.id"],
            name=op.f("fk_singer_exemplars_singer_profile_id_singer_profiles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_reference_id"],
            ["singer_references.id"],
            name=op.f("fk_singer_exemplars_source_reference_id_singer_references"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        op.f("ix_singer_exemplars_singer_profile_id"), "singer_exemplars", ["singer_profile_id"]
    )

    op.create_table(
        "stem_feature_cache",
        sa.Column("id", sa.Uuid, nullable=False),
        sa.Column("user_id", sa.Uuid, nullable=False),
        sa.Column("input_hash", sa.Text, nullable=False),
        sa.Column("feature_version", sa.Text, nullable=False),
        sa.Column("sample_rate", sa.Integer, nullable=False),
        sa.Column("object_key", sa.Text, nullable=False),
        sa.Column("duration_sec", sa.Double, nullable=False),
        _timestamp("created_at"),
        _timestamp("last_accessed_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stem_feature_cache")),
        sa.UniqueConstraint(
            "user_id",
            "input_hash",
            "feature_version",
            name=op.f("uq_stem_feature_cache_user_id_input_hash_feature_version"),
        ),
    )
    op.create_index(op.f("ix_stem_feature_cache_user_id"), "stem_feature_cache", ["user_id"])
    op.create_index(op.f("ix_stem_feature_cache_input_hash"), "stem_feature_cache", ["input_hash"])

    op.create_table(
        "render_jobs",
        sa.Column("id", sa.Uuid, nullable=False),
        sa.Column("user_id", sa.Uuid, nullable=False),
        sa.Column("singer_profile_id", sa.Uuid, nullable=False),
        sa.Column("input_object_key", sa.Text, nullable=False),
        sa.Column("output_object_key", sa.Text, nullable=True),
        sa.Column("input_hash", sa.Text, nullable=True),
        sa.Column("stem_feature_cache_id", sa.Uuid, nullable=True),
        sa.Column("status", JOB_STATUS, nullable=False),
        sa.Column("params", JSONB, nullable=False),
        sa.Column("progress", JSONB, nullable=False),
        sa.Column("metrics", JSONB, nullable=False),
        sa.Column("error_code", sa.Text, nullable=True),
        sa.Column("error_message", sa.Text, nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_render_jobs")),
        sa.ForeignKeyConstraint(
            ["singer_profile_id"],
            ["singer_profiles.id"],
            name=op.f("fk_render_jobs_singer_profile_id_singer_profiles"),
        ),
        sa.ForeignKeyConstraint(
            ["stem_feature_cache_id"],
            ["stem_feature_cache.id"],
            name=op.f("fk_render_jobs_stem_feature_cache_id_stem_feature_cache"),
            ondelete="SET NULL",
        ),
    )
    op.create_index(op.f("ix_render_jobs_user_id"), "render_jobs", ["user_id"])
    op.create_index(op.f("ix_render_jobs_input_hash"), "render_jobs", ["input_hash"])

    # updated_at is kept current by the database, so no UPDATE can forget it.
    op.execute(
        """
        CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.updated_at = now();
            RETURN NEW;
        END
        $$
        """
    )
    for table in TABLES_WITH_UPDATED_AT:
        op.execute(
            f"CREATE TRIGGER {table}_set_updated_at BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
        )


def downgrade() -> None:
    for table in (
        "render_jobs",
        "stem_feature_cache",
        "singer_exemplars",
        "singer_references",
        "singer_profiles",
    ):
        op.drop_table(table)  # with its indexes, constraints and trigger
    op.execute("DROP FUNCTION set_updated_at()")
    op.execute("DROP TYPE job_status")
    op.execute("DROP TYPE profile_status")
