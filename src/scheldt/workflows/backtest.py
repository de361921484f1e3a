"""Backtest a risk profile on stored trips with recorded outcomes; load outcomes."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scheldt.domain.trips import trip_facts_from_dict
from scheldt.errors import InputError, require_file
from scheldt.ingest.base import Rejection
from scheldt.risk.backtest import BacktestReport, as_decided, backtest, decision_day
from scheldt.risk.profiles import RiskProfile, load_profile
from scheldt.workflows.ports import UnitOfWork

#: Which outcome kinds count as hits in a backtest: recorded inspections (real or simulated),
#: or, for simulated traffic, the ground truth of every trip.
INSPECTIONS = ("inspection", "simulated-inspection")
TRUTH = ("simulated-truth",)


_TRUE, _FALSE = {"1", "true", "yes"}, {"0", "false", "no"}


def load_ground_truth(uow: UnitOfWork, path: Path, now: datetime) -> tuple[int, int, list[Rejection]]:
    """Load a simulator ground-truth CSV: each inspected trip as a simulated inspection outcome,
    and every trip's planted flag as simulated truth. Returns (inspections, truths) added and
    the rows rejected (file:line, why; also quarantined). Raises InputError when the file is
    missing, not UTF-8, or lacks the simulator's columns."""
    require_file(path)
    try:
        text = path.read_text("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(str(path), f"not UTF-8 text (byte {exc.start})") from None
    reader = csv.DictReader(io.StringIO(text))
    need = {"container_number", "document_ref", "voyage", "planted", "inspected", "seizure"}
    if not need <= set(reader.fieldnames or ()):
        raise InputError(f"{path}:1", f"not a simulator ground-truth file (needs {', '.join(sorted(need))})")
    inspections, truths, rejected = [], [], []
    for line, r in enumerate(reader, start=2):
        where = f"{path}:{line}"
        if not (r.get("container_number") or "").strip() or None in r.values():
            rejected.append(Rejection(where, "", "row has missing cells"))
            continue
        flags = {k: r[k].strip().lower() for k in ("planted", "inspected", "seizure")}
        bad = next((k for k, v in flags.items() if v not in _TRUE | _FALSE), None)
        if bad:
            rejected.append(Rejection(where, bad, f"{bad} is {r[bad]!r}, not 1/0/true/false/yes/no"))
            continue
        base = {"container_number": r["container_number"].strip()[:64], "document_ref": r["document_ref"].strip()[:128],
                "voyage": r["voyage"].strip()[:64], "source": where, "received_at": now}
        if flags["inspected"] in _TRUE:
            inspections.append({**base, "inspected": True, "seizure": flags["seizure"] in _TRUE,
                                "source_kind": "simulated-inspection"})
        truths.append({**base, "inspected": False, "seizure": flags["planted"] in _TRUE, "source_kind": "simulated-truth"})
    stored = {kind: uow.trip_outcomes.all((kind,)) for kind in ("simulated-inspection", "simulated-truth")}
    rows: list[dict[str, object]] = []
    for row in [*inspections, *truths]:
        key = (row["container_number"], row["document_ref"], row["voyage"])
        before = stored[str(row["source_kind"])].get(key)  # type: ignore[arg-type]
        if before is not None and before[1] != row["seizure"]:
            rejected.append(Rejection(str(row["source"]), "seizure" if row["inspected"] else "planted",
                                      f"contradicts the {row['source_kind']} outcome already stored for "
                                      f"{key[0]} {key[1]} (seizure={before[1]}); the first is kept"))
        else:
            rows.append(row)
    uow.quarantine.add(rejected, "ground-truth", now)
    added_inspections = uow.trip_outcomes.add([r for r in rows if r["source_kind"] == "simulated-inspection"])
    return added_inspections, uow.trip_outcomes.add([r for r in rows if r["source_kind"] == "simulated-truth"]), rejected


def backtest_with_live(uow: UnitOfWork, profile: RiskProfile, capacity: float, start: datetime | None = None,
                       end: datetime | None = None, truth: bool = False
                       ) -> tuple[BacktestReport, BacktestReport | None]:
    """Replay every trip whose selection day is in [start, end) under ``profile`` as it was known
    when that day's selection was made (:func:`scheldt.risk.backtest.as_decided`: its discharge
    day, else the day of its last actual event; the facts cut at the end of that day, UTC, from
    its latest stored facts), counting as hits the recorded seizures (``truth``:
    the simulated ground truth instead); trips without an outcome of that kind are left out.
    Returns that report and the live profile's on the same trips, for comparison (None when
    ``profile`` is the live one, or none is live): an officer changing a profile sees whether
    the change catches more than what runs today. Raises InputError when no trip has an
    outcome."""
    past, not_arrived = _past_trips(uow, start, end, truth)
    live = uow.profiles.live()
    reports = [backtest(profile, past, capacity)]
    if live is not None and live.label != profile.label:  # one label, one text (the profile store enforces it)
        reports.append(backtest(load_profile(live.body, live.label, stored=True), past, capacity))
    for report in reports:
        report.not_arrived = not_arrived
    return reports[0], reports[1] if len(reports) > 1 else None


def _past_trips(uow: UnitOfWork, start: datetime | None, end: datetime | None, truth: bool) -> tuple[list[Any], int]:
    """The trips with an outcome of the kind asked, as decided (see :func:`backtest_with_live`),
    whose selection day is in [start, end) (a review's ``--from/--to`` picked trips by when they
    were last scored: December "days" ranked January's trips), and how many trips with an
    outcome were left out as not at the port yet: neither discharged at their port of discharge
    nor gated in by land at one of the node's ports (a targeting review's December counted 131
    boxes still at sea, placed on the day of their loading abroad, and the same December gave
    another answer once they had arrived). Raises InputError when there are none."""
    outcomes = uow.trip_outcomes.all(TRUTH if truth else INSPECTIONS)
    first, last = (start.astimezone(UTC).date() if start else None), (end.astimezone(UTC).date() if end else None)
    from scheldt.workflows.trip_scoring import local_ports  # trip_scoring imports this module

    past, in_period, not_arrived = [], 0, 0
    ports = local_ports()
    scored = uow.trip_assessments.shown_per_trip()  # in force (an officer review counted removed matches)
    for a in scored:
        known = outcomes.get((a["container_number"], a["document_ref"], a["voyage"]))
        if known is None and first is None and last is None:
            in_period += 1  # counted, never read: its facts need no parsing
            continue
        facts = trip_facts_from_dict(a["facts"])  # once per trip
        day = decision_day(facts, a["scored_at"])  # not here yet: its last actual event's day
        if (first is not None and day < first) or (last is not None and day >= last):
            continue
        if facts.discharge_at_destination() is None and facts.gate_in_by_land(ports) is None:
            not_arrived += known is not None  # of the period: a regression review's February counted December's
            continue
        in_period += 1
        if known is not None:
            past.append(as_decided(facts, a["scored_at"], known[1]))
    if not past and not_arrived:
        raise InputError("backtest", f"the {not_arrived:,} trips{' of that period' if start or end else ''} with a "
                         f"recorded {'simulated truth' if truth else 'inspection outcome'} are not at the port yet "
                         "(neither discharged at their port of discharge nor gated in by land here), and no trip "
                         "that is has one")
    if not in_period:
        raise InputError("backtest", "no trip was discharged in that period" if start or end
                         else "no trip was scored yet")
    if not past:
        raise InputError("backtest", f"none of the {in_period:,} trips{' of that period' if start or end else ''} "
                         "has a recorded "
                         f"{'simulated truth' if truth else 'inspection outcome'} (load outcomes first, e.g. "
                         "`scheldt trips outcomes ground-truth.csv`)")
    return past, not_arrived
