"""Typed settings, read from ``SCHELDT_*`` environment variables.

Use :func:`get_settings`; never read the environment elsewhere.
"""

from __future__ import annotations

from functools import lru_cache
from datetime import datetime
from pathlib import Path

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from scheldt.errors import ConfigError


class Settings(BaseSettings):
    """Scheldt's settings; each field maps to ``SCHELDT_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="SCHELDT_")

    # Directory for the embedded SQLite store and saved model artefacts.
    data_dir: Path = Field(default=Path.home() / ".local" / "share" / "scheldt")
    # SQLAlchemy URL of the store; empty means SQLite at <data_dir>/scheldt.db.
    # PostgreSQL: postgresql+psycopg://user@host:5432/dbname
    database_url: str = ""
    # Organisation recorded as the supplier of facts loaded without another named source.
    local_organisation: str = "local-agency"
    # Pins "now" (ISO 8601, UTC) for replays and reproducible demos; empty means the real clock.
    now: datetime | None = None
    # Threads LightGBM may use; the machines have 2 cores and nothing else should compete.
    threads: int = 2

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        # Model artefact paths are stored in the database: keep them valid from any directory.
        return value.expanduser().resolve()

    @property
    def resolved_database_url(self) -> str:
        """The store URL: ``database_url`` if set, else the SQLite file under ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'scheldt.db'}"

    @property
    def models_dir(self) -> Path:
        """Directory holding saved model artefacts, one sub-directory per version."""
        return self.data_dir / "models"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings read once from the environment (call ``get_settings.cache_clear()`` in tests).

    Raises ConfigError naming the variable when a value is invalid.
    """
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "SCHELDT_" + str(first["loc"][0]).upper() if first["loc"] else "SCHELDT_*"
        raise ConfigError(name, first["msg"]) from None
