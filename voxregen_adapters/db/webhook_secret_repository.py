"""``PostgresWebhookSecretRepository``: each user's webhook signing secret."""

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from voxregen_adapters.db.tables import webhook_secrets
from voxregen_adapters.db.transaction import transaction
from voxregen_core.webhooks import new_secret


class PostgresWebhookSecretRepository:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def secret_for(self, *, user_id: uuid.UUID) -> str:
        made = (
            insert(webhook_secrets)
            .values(user_id=user_id, secret=new_secret())
            .on_conflict_do_nothing()
        )
        query = sa.select(webhook_secrets.c.secret).where(webhook_secrets.c.user_id == user_id)
        with transaction(self._engine) as connection:
            connection.execute(made)
            return connection.execute(query).scalar_one()
