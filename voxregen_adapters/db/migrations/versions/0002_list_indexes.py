"""Indexes for the lists: each user's profiles and jobs, and each profile's references, newest
first (keyset pagination on created_at, id; a B-tree index serves the descending order by
scanning backwards).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIST_INDEXES = {
    "ix_singer_profiles_newest": ("singer_profiles", ["user_id", "created_at", "id"]),
    "ix_singer_references_newest": (
        "singer_references",
        ["singer_profile_id", "created_at", "id"],
    ),
    "ix_render_jobs_newest": ("render_jobs", ["user_id", "created_at", "id"]),
}


def upgrade() -> None:
    for name, (table, columns) in LIST_INDEXES.items():
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, (table, _) in LIST_INDEXES.items():
        op.drop_index(name, table_name=table)
