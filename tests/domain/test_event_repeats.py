"""An event received again under another id is shown once on a timeline, with its copies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scheldt.domain.trips import fold_repeats

RECEIVED = datetime(2026, 11, 20, 8, tzinfo=UTC)


def load(event_id: str, source: str, supplied_by: str = "carrier-a", **changes: Any) -> dict[str, Any]:
    """A stored LOAD event of MSKU9070323 as the event store gives it."""
    details = {"seals": [{"number": "SL-100", "source": "CAR"}], "empty": False, "iso_equipment_code": "45G1"}
    event = {"event_id": event_id, "kind": "EQUIPMENT", "event_type": "LOAD", "classifier": "ACT",
             "event_time": datetime(2026, 11, 2, 10, tzinfo=UTC), "container_number": "MSKU9070323",
             "booking_ref": "BKG-1", "transport_document_ref": "BL-1", "unlocode": "ECGYE", "facility_code": "CONTE",
             "vessel_imo": "9321483", "details": details, "retracted_by": None, "source": source,
             "supplied_by": supplied_by, "received_at": RECEIVED}
    return event | changes


def test_a_re_sent_event_folds_into_the_first_with_where_each_copy_came_from() -> None:
    first = load("e1", "tnt.json$.events[0]")
    again = load("e2", "tnt.json$.events[3]", created_time=datetime(2026, 11, 3, tzinfo=UTC))
    from_terminal = load("e3", "coarri.edi:seg 12", supplied_by="terminal-x",
                         received_at=datetime(2026, 11, 21, tzinfo=UTC))
    [shown] = fold_repeats([first, again, from_terminal])
    assert shown["event_id"] == "e1" and shown["source"] == "tnt.json$.events[0]"
    assert shown["repeats"] == [
        {"event_id": "e2", "source": "tnt.json$.events[3]", "supplied_by": "carrier-a", "received_at": RECEIVED},
        {"event_id": "e3", "source": "coarri.edi:seg 12", "supplied_by": "terminal-x",
         "received_at": datetime(2026, 11, 21, tzinfo=UTC)}]
    assert "repeats" not in first  # the stored event itself is left as it is


def test_events_that_say_something_else_stay_apart() -> None:
    first = load("e1", "a")
    others = [load("e2", "b", details={**first["details"], "seals": [{"number": "SL-999", "source": "CAR"}]}),
              load("e3", "c", booking_ref="BKG-2"),
              load("e4", "d", transport_document_ref="BL-2"),
              load("e5", "e", retracted_by="e9"),
              load("e6", "f", classifier="EST"),
              load("e7", "g", event_time=datetime(2026, 11, 2, 10, 1, tzinfo=UTC)),
              load("e8", "h", facility_code="TPG"),
              load("e9", "i", details={**first["details"], "empty": True})]
    shown = fold_repeats([first, *others])
    assert [e["event_id"] for e in shown] == ["e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9"]
    assert all(e["repeats"] == [] for e in shown)


def test_a_repeat_of_a_later_event_folds_into_that_one() -> None:
    events = [load("e1", "a"), load("e2", "b", event_type="DEPA", kind="TRANSPORT"), load("e3", "c"),
              load("e4", "d", event_type="DEPA", kind="TRANSPORT")]
    assert [(e["event_id"], [r["event_id"] for r in e["repeats"]]) for e in fold_repeats(events)] == [
        ("e1", ["e3"]), ("e2", ["e4"])]
