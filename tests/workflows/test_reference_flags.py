"""with_reference_flags on events: UN/LOCODEs missing from the shipped list are informational
flags (never a rejection), in a fixed order, never twice; an event that names only known or
unchecked ports comes back as the same object."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from scheldt.domain.declarations import Flag
from scheldt.domain.shipping import EquipmentEvent, Location, StowagePosition, TransportCall
from scheldt.workflows.shipping import with_reference_flags

NOW = datetime(2026, 11, 29, tzinfo=UTC)


def _event(here: str, there: str | None, flags: tuple[Flag, ...] = ()) -> EquipmentEvent:
    return EquipmentEvent("e1", "ACT", NOW, location=Location(here) if here is not None else None,
                          transport_call=TransportCall(there) if there is not None else None, flags=flags)


def test_known_unchecked_and_missing_ports_add_nothing() -> None:
    for event in (_event("NLRTM", "NLRTM"), _event("BEANR", "DEHAM"), _event("", None), _event("NLRTM", "")):
        assert with_reference_flags(event, NOW) is event


def test_unknown_ports_are_flagged_in_order_once() -> None:
    both = with_reference_flags(_event("NLQQQ", "COZZZ"), NOW)
    assert both.flags == (
        Flag("transport_call", "unknown-unlocode", "COZZZ is not in the shipped UN/LOCODE list for CO"),
        Flag("location", "unknown-unlocode", "NLQQQ is not in the shipped UN/LOCODE list for NL"))
    same = with_reference_flags(_event("NLQQQ", "NLQQQ"), NOW)
    assert same.flags == (Flag("location", "unknown-unlocode", "NLQQQ is not in the shipped UN/LOCODE list for NL"),)
    call_only = with_reference_flags(_event("NLRTM", "nl-rt"), NOW)
    assert call_only.flags == (
        Flag("transport_call", "malformed-unlocode", "'nl-rt' is not shaped like a UN/LOCODE (country + 3 letters/digits)"),)
    flagged = _event("NLQQQ", None, same.flags)
    assert with_reference_flags(flagged, NOW) is flagged  # already there: not added twice


def test_a_stowage_position_s_ports_of_loading_and_discharge_are_checked() -> None:
    """An attack review: a bay plan's LOC+11 ZZZZZ (port of discharge) passed without a flag, while
    its LOC+5 was checked; the high-risk port indicators read both ports."""
    position = StowagePosition("s1", "ACT", NOW, location=Location("USLGB"), port_of_loading="CNSHA",
                               port_of_discharge="ZZZZZ")
    assert with_reference_flags(position, NOW).flags == (
        Flag("port_of_discharge", "unknown-country", "ZZZZZ: ZZ is not an ISO 3166-1 country"),)
    fine = replace(position, port_of_discharge="TWKHH")
    assert with_reference_flags(fine, NOW) is fine
