"""Backtest a risk profile on past trips with known outcomes (pure).

Each day's trips are ranked by the profile's points (ties in a fixed order); the top
``capacity`` share is what would have been scanned. A stored trip is replayed as it was known
when the day's selection was made (:func:`as_decided`: the end of its discharge day, UTC), not
with what arrived later: a gate-out or a terminal move of the next days cannot have chosen it.
Reported for the whole profile: selected, hits, precision and recall at capacity; and per
indicator: how many trips it flagged, how many of those were hits, its hit rate, and its
recall over all hits. Each rate comes with its 95 % Wilson score interval (scipy's
``binomtest(...).proportion_ci(method="wilson")``; Wilson, JASA 22 (1927) 209-212): a hit rate of
2 in 3 and one of 200 in 300 read the same otherwise, and a profile's seizures are few.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from scheldt.domain.trips import TripFacts
from scheldt.risk.profiles import RiskProfile, evaluate


@dataclass(frozen=True, slots=True)
class PastTrip:
    """A trip as it was known when it was scored (``day``, UTC), and whether it was a hit
    (a seizure on inspection)."""

    day: date
    facts: TripFacts
    hit: bool


def decision_day(facts: TripFacts, scored: datetime) -> date:
    """The UTC day a trip competed for a scan on (see :func:`as_decided`)."""
    discharge = facts.discharge_at_destination()
    if discharge is not None:
        when = discharge.event_time
    else:
        when = max((e.event_time for e in facts.events if e.classifier == "ACT"), default=scored)
    return when.astimezone(UTC).date()


def as_decided(facts: TripFacts, scored: datetime, hit: bool) -> PastTrip:
    """The trip as it competed for a scan: on the UTC day of its discharge at its port of
    discharge (the latest document's; without one, its last actual discharge), with the facts
    known at the end of that day. A trip not discharged there yet competes on the day of its
    last actual event (an empty box gated in, a loading), or without any on the day it was
    ``scored`` (UTC): a review's re-scoring at activation moved such trips to that day, and a
    backtest of the same profile changed after an activation and a rollback."""
    day = decision_day(facts, scored)
    end = datetime.combine(day, time(0), tzinfo=UTC) + timedelta(days=1, microseconds=-1)
    return PastTrip(day, facts.known_at(end), hit)


@dataclass
class IndicatorFigures:
    """One indicator over the backtest: trips flagged, hits among them."""

    flagged: int = 0
    hits: int = 0

    def as_dict(self, all_hits: int) -> dict[str, object]:
        """Counts and rates with their 95 % intervals (``*_ci``: [low, high]); a rate of nothing
        (0 flagged, no hits at all) is None, not 0.0, which read as "this indicator never hits"
        (figures review), and so is its interval."""
        return {"flagged": self.flagged, "hits": self.hits, "hit_rate": _share(self.hits, self.flagged),
                "hit_rate_ci": rate_interval(self.hits, self.flagged), "recall": _share(self.hits, all_hits),
                "recall_ci": rate_interval(self.hits, all_hits)}


def _share(part: int, whole: int) -> float | None:
    """part / whole to 4 decimals; None when ``whole`` is 0."""
    return round(part / whole, 4) if whole else None


def rate_interval(part: int, whole: int) -> list[float] | None:
    """The 95 % Wilson score interval of the rate ``part`` / ``whole`` as [low, high], each to 4
    decimals; None when ``whole`` is 0 (no rate). Raises ValueError when ``part`` is negative
    or above ``whole``. Example: 5 of 10 gives [0.2366, 0.7634]."""
    if not whole:
        return None
    from scipy.stats import binomtest  # here: importing scipy costs every command's start-up a quarter second

    ci = binomtest(part, whole).proportion_ci(confidence_level=0.95, method="wilson")
    return [round(float(ci.low), 4), round(float(ci.high), 4)]


@dataclass
class BacktestReport:
    """Whole-profile and per-indicator figures at ``capacity`` (share of each day's trips)."""

    profile: str
    capacity: float
    trips: int = 0
    hits: int = 0
    selected: int = 0
    selected_hits: int = 0
    days: int = 0
    indicators: dict[str, IndicatorFigures] = field(default_factory=dict)
    #: Trips with an outcome left out as not at the port yet (set by the caller that chose them).
    not_arrived: int = 0

    def as_dict(self) -> dict[str, object]:
        """The figures as plain JSON; ``selected_share`` is the share of trips selected, which
        exceeds ``capacity`` when few trips a day have outcomes (one a day is always selected);
        ``*_ci``: a rate's 95 % interval (:func:`rate_interval`)."""
        return {
            "profile": self.profile, "capacity": self.capacity, "trips": self.trips, "hits": self.hits,
            "days": self.days, "selected": self.selected, "selected_share": _share(self.selected, self.trips),
            "selected_hits": self.selected_hits,
            "precision_at_capacity": _share(self.selected_hits, self.selected),
            "precision_at_capacity_ci": rate_interval(self.selected_hits, self.selected),
            "recall_at_capacity": _share(self.selected_hits, self.hits),
            "recall_at_capacity_ci": rate_interval(self.selected_hits, self.hits),
            "indicators": {k: v.as_dict(self.hits) for k, v in sorted(self.indicators.items())},
            "not_arrived": self.not_arrived,
        }


def day_quota(capacity: float, trips: int) -> int:
    """How many of a day's ``trips`` a ``capacity`` (share) selects: the share rounded half up,
    at least one (Python's round() takes halves to even: a review saw 30 % and 70 % of 5 trips
    rounded up, 50 % and 90 % down). A share is a typed percentage: its product is taken to 9
    decimals first, so 29 % of 50 trips (14.499999999999998 in binary) is the 14.5 it is."""
    return max(1, math.floor(round(capacity * trips, 9) + 0.5))


def backtest(profile: RiskProfile, trips: Iterable[PastTrip], capacity: float) -> BacktestReport:
    """Replay ``trips`` under ``profile`` at ``capacity`` (0 < capacity <= 1; at least one trip
    a day is selected). Raises ValueError for a capacity outside (0, 1]."""
    if not 0 < capacity <= 1:
        raise ValueError(f"capacity {capacity} is not a share in (0, 1]")
    report = BacktestReport(profile.label, capacity, indicators={n: IndicatorFigures() for n in profile.indicators})
    by_day: dict[date, list[tuple[float, str, bool]]] = defaultdict(list)
    for past in trips:
        result = evaluate(profile, past.facts)
        report.trips += 1
        report.hits += past.hit
        for reason in result.reasons:
            figures = report.indicators[reason.indicator]
            figures.flagged += 1
            figures.hits += past.hit
        by_day[past.day].append((result.points, past.facts.key.label(), past.hit))
    report.days = len(by_day)
    for rows in by_day.values():
        rows.sort(key=lambda r: (-r[0], r[1]))
        chosen = rows[: day_quota(capacity, len(rows))]
        report.selected += len(chosen)
        report.selected_hits += sum(hit for _, _, hit in chosen)
    return report
