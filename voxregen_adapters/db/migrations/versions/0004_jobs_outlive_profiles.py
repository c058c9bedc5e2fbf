"""A finished render job outlives its singer profile: ``render_jobs.singer_profile_id`` becomes
nullable, its foreign key ``ON DELETE SET NULL`` (``DELETE /v1/singer-profiles/{id}``; a queued
or running job still blocks the deletion, in the application).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Downgrading cannot give a job back the profile it lost: jobs whose profile was deleted are
deleted with the downgrade (their objects stay in the store, for the lifecycle rules).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOREIGN_KEY = "fk_render_jobs_singer_profile_id_singer_profiles"


def upgrade() -> None:
    op.drop_constraint(FOREIGN_KEY, "render_jobs", type_="foreignkey")
    op.alter_column("render_jobs", "singer_profile_id", nullable=True)
    op.create_foreign_key(
        FOREIGN_KEY,
        "render_jobs",
        "singer_profiles",
        ["singer_profile_id"],
        ["id"],
        ondelete="SET NULL",
    )


def downgrade() -> None:
    op.drop_constraint(FOREIGN_KEY, "render_jobs", type_="foreignkey")
    op.execute("DELETE FROM render_jobs WHERE singer_profile_id IS NULL")
    op.alter_column("render_jobs", "singer_profile_id", nullable=False)
    op.create_foreign_key(
        FOREIGN_KEY, "render_jobs", "singer_profiles", ["singer_profile_id"], ["id"]
    )
