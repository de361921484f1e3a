"""Typed settings, read from ``SCHELDT_*`` environment variables.

Use :func:`get_settings`; never read the environment elsewhere.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, StrictInt, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from scheldt.domain.audit import AUDIT_KINDS
from scheldt.errors import ConfigError

#: Longest audit retention a setting may give: 100 years (customs records are kept 10).
MAX_RETENTION_DAYS = 36_500


class Settings(BaseSettings):
    """Scheldt's settings; each field maps to ``SCHELDT_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="SCHELDT_")

    # Directory for the embedded SQLite store and saved model artefacts.
    data_dir: Path = Field(default=Path.home() / ".local" / "share" / "scheldt")
    # Key sealing the credentials kept at rest (federation peers', carrier subscriptions' secrets:
    # scheldt.store.sealing), a Fernet key (44 characters); empty means the file
    # <data_dir>/secrets.key, made at first use. Keep a copy apart from the database backups.
    secrets_key: str = Field(default="", repr=False)
    # SQLAlchemy URL of the store; empty means SQLite at <data_dir>/scheldt.db.
    # PostgreSQL: postgresql+psycopg://user@host:5432/dbname
    database_url: str = ""
    # Organisation recorded as the supplier of facts loaded without another named source.
    local_organisation: str = "local-agency"
    # UN/LOCODEs of the ports this node's agency controls, comma-separated (Antwerp and
    # Zeebrugge, the port of Antwerp-Bruges, by default): a box with no document gated in at a
    # terminal of one of them is there, and can be scanned (scheldt.domain.trips.TripFacts).
    ports: Annotated[tuple[str, ...], NoDecode] = ("BEANR", "BEZEE")
    # Pins "now" (ISO 8601, UTC) for replays and reproducible demos; empty means the real clock.
    now: datetime | None = None
    # Threads LightGBM may use; the machines have 2 cores and nothing else should compete.
    threads: int = Field(default=2, ge=1, le=256)
    # Worker processes that check big received STIX envelopes with the stix2 library
    # (scheldt.exchange.stix_check); 0 or 1: in the receiving process. Unset or empty: the usable
    # CPUs, at most 2, shared among the server's processes (scheldt.exchange.stix_check.pool_size).
    stix_check_processes: int | None = Field(default=None, ge=0, le=64)
    # Days each kind of audit entry keeps its payload (who, from where, what), as JSON, e.g.
    # {"read": 400}. Reads name people (officers, and the parties looked at): kept 400 days so a
    # yearly review sees a full year plus a month. Sign-ins serve security monitoring only: 90
    # days, sign-outs too (an oversight review found them kept for ever). Refused requests
    # ("denied") are kept like reads. Notices to carriers, writes and exports are decisions
    # and disclosures that must stay accountable for the
    # 10 years customs records are kept. Kinds not named keep their payload for ever; purging
    # keeps the hash chain verifiable.
    audit_retention_days: Annotated[dict[str, StrictInt], NoDecode] = Field(default_factory=lambda: {
        "read": 400, "denied": 400, "sign-in": 90, "sign-in-failed": 90, "sign-out": 90, "notice": 3650,
        "write": 3650, "export": 3650})
    # Seconds between writing the audit chain head out of the database (truncation evidence).
    audit_head_every_s: int = Field(default=300, ge=1)
    # Jobs the job runner (scheldt.jobs) runs at once; the web server keeps the other core.
    job_workers: int = Field(default=1, ge=1)
    # Carrier notices (scheldt.exchange.notify): tries before a notice goes to the dead-letter
    # list; the wait after try n is min(base * 2**(n-1), cap) seconds (1, 2, 4 ... s by default).
    notice_max_tries: int = Field(default=8, ge=1, le=100)
    notice_backoff_base_s: float = Field(default=1.0, gt=0)
    notice_backoff_cap_s: float = Field(default=300.0, gt=0)
    # Seconds one callback POST may take (connect, send, read) before it counts as a failed try.
    notice_timeout_s: float = Field(default=5.0, gt=0, le=60)
    # Seconds between two delivery rounds of `scheldt serve`, and notices sent per round at most.
    notice_delivery_every_s: float = Field(default=5.0, gt=0)
    notice_batch: int = Field(default=50, ge=1, le=1000)
    # Accept plain-http callback URLs (tests, a receiver on the same private network); otherwise
    # subscribers must give https.
    notice_allow_http: bool = False
    # Federation (scheldt.exchange.federation): seconds between two pulls of every peer by
    # `scheldt serve`; seconds one request to a peer may take; seconds between two reconciliations
    # of a peer without tombstones (not a Scheldt node), which walk its whole manifests to find
    # deletions. Pulls every 2 s keep a change visible on the peer within 5 s at p95 (measured
    # 1.75 s p95 at 2 s, 4.24 s at 5 s: benchmarks/federation_latency.py).
    federation_pull_every_s: float = Field(default=2.0, gt=0)
    federation_timeout_s: float = Field(default=10.0, gt=0, le=300)
    federation_reconcile_every_s: float = Field(default=300.0, ge=0)
    # Reverse proxies (comma-separated addresses or networks, e.g. "127.0.0.1,10.0.0.0/8") whose
    # X-Forwarded-For / X-Forwarded-Proto `scheldt serve` believes; empty: none, the client is the
    # connection's peer (uvicorn by default believed them from 127.0.0.1, so any local process, or
    # a proxy passing the header through, chose the address the sign-in throttle and audit see).
    trusted_proxies: str = ""

    @field_validator("now", mode="before")
    @classmethod
    def _empty_is_the_real_clock(cls, value: object) -> object:
        # SCHELDT_NOW= (set but empty, as a script's `export SCHELDT_NOW=$PINNED` leaves it): the real clock
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("stix_check_processes", mode="before")
    @classmethod
    def _empty_is_the_cores_share(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("ports", mode="before")
    @classmethod
    def _locodes(cls, value: object) -> object:
        if isinstance(value, str):
            value = [code.strip().upper() for code in value.split(",") if code.strip()]
        bad = [str(code) for code in value if not re.fullmatch(r"[A-Z]{2}[A-Z2-9]{3}", str(code))] \
            if isinstance(value, list | tuple) else []
        if bad:
            raise ValueError(f"not UN/LOCODEs (2 letters, then 3 letters or digits 2-9): {', '.join(bad)}")
        return value

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        # Model artefact paths are stored in the database: keep them valid from any directory.
        return value.expanduser().resolve()

    @field_validator("secrets_key")
    @classmethod
    def _sealing_key(cls, value: str) -> str:
        # checked at start, not at the first credential sealed (an operator review's `serve` ran
        # with "not-a-key", `secrets check` said all was well, then a carrier's subscription got a 500)
        from cryptography.fernet import Fernet  # the check the sealing itself makes (scheldt.store.sealing)

        if value.strip():
            try:
                Fernet(value.strip().encode("ascii", "replace"))
            except ValueError:
                raise ValueError("not a sealing key (32 bytes in URL-safe base64, 44 characters, as `scheldt secrets "
                                 "new-key` writes to its file); unset it to use the key file") from None
        return value

    @field_validator("audit_retention_days", mode="before")
    @classmethod
    def _retention_json(cls, value: object) -> object:
        # Parsed here, not by the environment source, so bad JSON is a ConfigError naming the variable.
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(f'not JSON like {{"read": 400}}: {exc}') from None
        return value

    @field_validator("audit_retention_days")
    @classmethod
    def _retention_positive(cls, value: dict[str, int]) -> dict[str, int]:
        bad = {kind: days for kind, days in value.items() if not 1 <= days <= MAX_RETENTION_DAYS}
        if bad:  # 99999999999 days overflowed the purge's date arithmetic (regression review)
            raise ValueError(f"retention must be 1 to {MAX_RETENTION_DAYS:,} days: {bad}")
        unknown = sorted(set(value) - set(AUDIT_KINDS))
        if unknown:  # a misspelt kind would keep its payloads for ever
            raise ValueError(f"unknown audit kind(s) {', '.join(unknown)}; the kinds are {', '.join(AUDIT_KINDS)}")
        if "purge" in value:  # a purge entry records the retention its purge applied: verify reads it
            raise ValueError("purge entries are kept for ever (each records the retention its purge applied, "
                             "which `scheldt audit verify` reads); leave purge out")
        return value

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
        raise ConfigError(name, first["msg"].removeprefix("Value error, ")) from None


def lightgbm_threads(given: int | None = None) -> int:
    """The threads LightGBM may use: ``given``, else the ``SCHELDT_THREADS`` setting (a model
    loaded to score trips took 2 whatever the setting said, so two test processes, or a server
    and a job, each ran two threads on two cores). Raises ConfigError as :func:`get_settings`."""
    return given if given is not None else get_settings().threads


def model_artefact(stored: str, version: str) -> Path:
    """Where the artefact of model ``version`` is: the folder of that version under this node's
    models directory (``<data dir>/models/<version>``) when it exists, else the folder recorded
    when it was trained (``stored``; the same folder unless the data directory moved). A store
    restored from a backup into another data directory, or a data directory moved to another
    disk, records the old place: scoring failed there once it was gone, and read the old disk's
    files while it was not (an operator review). Raises ConfigError as :func:`get_settings`."""
    here = get_settings().models_dir / version
    return here if here.exists() else Path(stored)
