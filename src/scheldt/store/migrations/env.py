"""Alembic environment: migrates the engine handed over by ``scheldt.store.db``."""

from alembic import context
from sqlalchemy import create_engine

from scheldt.settings import get_settings
from scheldt.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or create_engine(get_settings().resolved_database_url)
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        context.run_migrations()


run_migrations_online()
