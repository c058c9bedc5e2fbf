"""Webhooks (voxregen_core/webhooks.py): on ``render_jobs``, the job's target (``webhook``: url
and events), its last delivery attempt and when its last ``progress`` notice went; and
``webhook_secrets``, each user's signing secret.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JOB_COLUMNS = ("webhook", "webhook_last_attempt", "webhook_progress_at")


def upgrade() -> None:
    op.add_column("render_jobs", sa.Column("webhook", JSONB, nullable=True))
    op.add_column("render_jobs", sa.Column("webhook_last_attempt", JSONB, nullable=True))
    op.add_column(
        "render_jobs", sa.Column("webhook_progress_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_table(
        "webhook_secrets",
        sa.Column("user_id", sa.Uuid, nullable=False),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_webhook_secrets")),
    )


def downgrade() -> None:
    op.drop_table("webhook_secrets")
    for column in JOB_COLUMNS:
        op.drop_column("render_jobs", column)
