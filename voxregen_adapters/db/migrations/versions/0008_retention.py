"""Retention (voxregen_core/retention.py): on ``render_jobs``, when the retention sweep deleted
the job's chunks, input and output (null until it does); an index on each user's jobs by
input key (the jobs sharing an input are locked together), and one partial index per kind of
object on the ``created_at`` of the jobs whose objects are still kept, so that a sweep pass
reads the oldest candidates without walking past the rows it has swept before.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JOB_COLUMNS = ("chunks_expired_at", "input_expired_at", "output_expired_at")
KEPT_INDEXES = {
    "ix_render_jobs_chunks_kept": "chunks_expired_at IS NULL",
    "ix_render_jobs_input_kept": "input_expired_at IS NULL",
    "ix_render_jobs_output_kept": "status = 'done' AND output_expired_at IS NULL",
}


def upgrade() -> None:
    for column in JOB_COLUMNS:
        op.add_column("render_jobs", sa.Column(column, sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_render_jobs_input", "render_jobs", ["user_id", "input_object_key"])
    for name, kept in KEPT_INDEXES.items():
        op.create_index(name, "render_jobs", ["created_at"], postgresql_where=sa.text(kept))


def downgrade() -> None:
    for name in (*KEPT_INDEXES, "ix_render_jobs_input"):
        op.drop_index(name, table_name="render_jobs")
    for column in JOB_COLUMNS:
        op.drop_column("render_jobs", column)
