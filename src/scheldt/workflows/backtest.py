"""Backtest a risk profile on stored trips with recorded outcomes; load outcomes."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from scheldt.domain.trips import trip_facts_from_dict
from scheldt.errors import InputError
from scheldt.risk.backtest import BacktestReport, PastTrip, backtest
from scheldt.risk.profiles import RiskProfile
from scheldt.workflows.ports import UnitOfWork

#: Which outcome kinds count as hits in a backtest: recorded inspections (real or simulated),
#: or, for simulated traffic, the ground truth of every trip.
INSPECTIONS = ("inspection", "simulated-inspection")
TRUTH = ("simulated-truth",)


def load_ground_truth(uow: UnitOfWork, path: Path, now: datetime) -> tuple[int, int]:
    """Load a simulator ground-truth CSV: each inspected trip as a simulated inspection outcome,
    and every trip's planted flag as simulated truth. Returns (inspections, truths) added.
    Raises InputError when the file is missing or lacks the simulator's columns."""
    if not path.is_file():
        raise InputError(str(path), "no such file")
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        need = {"container_number", "document_ref", "voyage", "planted", "inspected", "seizure"}
        if not need <= set(reader.fieldnames or ()):
            raise InputError(f"{path}:1", f"not a simulator ground-truth file (needs {', '.join(sorted(need))})")
        rows = list(reader)
    base = lambda r, line: {"container_number": r["container_number"], "document_ref": r["document_ref"],  # noqa: E731
                            "voyage": r["voyage"], "source": f"{path}:{line}", "received_at": now}
    inspections = [{**base(r, i), "inspected": True, "seizure": r["seizure"] == "1", "source_kind": "simulated-inspection"}
                   for i, r in enumerate(rows, start=2) if r["inspected"] == "1"]
    truths = [{**base(r, i), "inspected": False, "seizure": r["planted"] == "1", "source_kind": "simulated-truth"}
              for i, r in enumerate(rows, start=2)]
    return uow.trip_outcomes.add(inspections), uow.trip_outcomes.add(truths)


def backtest_stored(uow: UnitOfWork, profile: RiskProfile, capacity: float, start: datetime | None = None,
                    end: datetime | None = None, truth: bool = False) -> BacktestReport:
    """Replay the latest stored facts of every trip scored in [start, end) under ``profile``,
    counting as hits the recorded seizures (``truth``: the simulated ground truth instead).
    Trips without an outcome of that kind are left out. Raises InputError when none has one."""
    outcomes = uow.trip_outcomes.all(TRUTH if truth else INSPECTIONS)
    past = []
    for a in uow.trip_assessments.latest_per_trip(start, end):
        known = outcomes.get((a["container_number"], a["document_ref"], a["voyage"]))
        if known is not None:
            past.append(PastTrip(a["scored_at"].astimezone(UTC).date(), trip_facts_from_dict(a["facts"]), known[1]))
    if not past:
        raise InputError("backtest", "no scored trip in that period has a recorded outcome "
                         "(load outcomes first, e.g. `scheldt trips outcomes ground-truth.csv`)")
    return backtest(profile, past, capacity)
