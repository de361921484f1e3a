"""Container-model versions: training makes a version live, switching back by hand and rolling
back are explicit and recorded (who, when, why), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete

from scheldt.errors import ConflictError, InputError, NotFoundError
from scheldt.store.db import unit_of_work
from scheldt.store.models import ModelActivationRow, ModelVersionRow
from scheldt.workflows.trip_model import TARGET, activate_trip_model, rollback_trip_model

T0 = datetime(2026, 5, 1, 8, tzinfo=UTC)


def _register(uow, version: str, at: datetime, artefact: Path) -> None:  # type: ignore[no-untyped-def]
    artefact.mkdir(parents=True, exist_ok=True)
    uow.models.register(version, TARGET, str(artefact), "f" * 64, "contract", {"rows": 300, "seizures": 12}, at,
                        actor="trainer")


def test_switch_and_roll_back_are_recorded(engine: Engine, tmp_path: Path) -> None:
    with unit_of_work(engine) as uow:
        uow.session.execute(delete(ModelActivationRow))
        uow.session.execute(delete(ModelVersionRow))
    with unit_of_work(engine) as uow:
        _register(uow, "trip-a", T0, tmp_path / "a")
        _register(uow, "trip-b", T0 + timedelta(days=1), tmp_path / "b")
        _register(uow, "trip-c", T0 + timedelta(days=2), tmp_path / "c")
    with unit_of_work(engine) as uow:
        assert uow.models.live(TARGET).version == "trip-c"
        assert rollback_trip_model(uow, "officer", "c flags too many reefers", T0 + timedelta(days=3)) == "trip-b"
    with unit_of_work(engine) as uow:
        assert uow.models.live(TARGET).version == "trip-b"
        assert rollback_trip_model(uow, "officer", "b too", T0 + timedelta(days=4)) == "trip-a"
        with pytest.raises(ConflictError, match="trip-a is the first version made live"):
            rollback_trip_model(uow, "officer", "", T0 + timedelta(days=5))
        assert activate_trip_model(uow, "trip-c", "analyst", "reefer rule fixed", T0 + timedelta(days=6)) is True
        # the live version made live again is no switch: nothing recorded, a rollback stays meaningful
        assert activate_trip_model(uow, "trip-c", "analyst", "twice", T0 + timedelta(days=6)) is False
    with unit_of_work(engine) as uow:
        assert [m.version for m in uow.models.versions(TARGET) if m.live] == ["trip-c"]
        assert [(a["version"], a["action"], a["actor"], a["reason"], a["at"]) for a in uow.models.activations(TARGET)] == [
            ("trip-a", "train", "trainer", "", T0),
            ("trip-b", "train", "trainer", "", T0 + timedelta(days=1)),
            ("trip-c", "train", "trainer", "", T0 + timedelta(days=2)),
            ("trip-b", "rollback", "officer", "c flags too many reefers", T0 + timedelta(days=3)),
            ("trip-a", "rollback", "officer", "b too", T0 + timedelta(days=4)),
            ("trip-c", "activate", "analyst", "reefer rule fixed", T0 + timedelta(days=6)),
        ]
        # after a hand switch, a rollback returns to the version live before it
        assert rollback_trip_model(uow, "officer", "", T0 + timedelta(days=7)) == "trip-a"


def test_unknown_version_and_missing_artefact_are_refused(engine: Engine, tmp_path: Path) -> None:
    with unit_of_work(engine) as uow:
        uow.session.execute(delete(ModelActivationRow))
        uow.session.execute(delete(ModelVersionRow))
    with unit_of_work(engine) as uow:
        with pytest.raises(ConflictError, match="no container model was ever made live"):
            rollback_trip_model(uow, "officer", "", T0)
        _register(uow, "trip-a", T0, tmp_path / "a")
        uow.models.register("trip-gone", TARGET, str(tmp_path / "gone"), "f" * 64, "contract", {}, T0,
                            make_live=False)
        with pytest.raises(NotFoundError):
            activate_trip_model(uow, "trip-zzz", "officer", "", T0)
        with pytest.raises(InputError, match="its artefact .* is gone"):
            activate_trip_model(uow, "trip-gone", "officer", "", T0)
        assert uow.models.live(TARGET).version == "trip-a"
