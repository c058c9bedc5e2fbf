"""The render job status ``canceled``: a queued or running job the user stopped
(``POST /v1/render-jobs/{id}:cancel``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

Downgrading cannot take a value out of a PostgreSQL enum in place: the type is made again
without it, and a canceled job becomes ``failed`` with the error code ``canceled``, which is
what it would have been before this revision.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TYPE job_status ADD VALUE IF NOT EXISTS 'canceled'")


def downgrade() -> None:
    op.execute(
        "UPDATE render_jobs SET status = 'failed', error_code = 'canceled', "
        "error_message = 'canceled by the user' WHERE status = 'canceled'"
    )
    op.execute("ALTER TYPE job_status RENAME TO job_status_with_canceled")
    sa.Enum("queued", "running", "done", "failed", name="job_status").create(op.get_bind())
    op.execute(
        "ALTER TABLE render_jobs ALTER COLUMN status TYPE job_status USING status::text::job_status"
    )
    op.execute("DROP TYPE job_status_with_canceled")
