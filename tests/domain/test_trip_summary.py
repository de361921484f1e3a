"""What lists show of a trip: when its box left the port after discharge."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from scheldt.domain.trips import TripDocument, TripEvent, TripFacts, TripKey, trip_summary

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
KEY = TripKey("MSCU1234565", "SIMBL00100001", "601W")


def ev(event_type: str, hours: float, unlocode: str = "BEANR", classifier: str = "ACT") -> TripEvent:
    return TripEvent("EQUIPMENT", event_type, classifier, T0 + timedelta(hours=hours), unlocode)


def left(*events: TripEvent) -> datetime | None:
    return trip_summary(TripFacts(KEY, T0 + timedelta(days=10), tuple(events))).left_at


def test_a_box_leaves_at_its_first_gate_out_after_discharge() -> None:
    assert left(ev("LOAD", -300, "ECGYE"), ev("DISC", 0), ev("GTOT", 30), ev("GTIN", 80), ev("GTOT", 90)) \
        == T0 + timedelta(hours=30)


def test_a_transshipped_box_leaves_when_loaded_onward() -> None:
    assert left(ev("LOAD", -300, "ECGYE"), ev("DISC", -100, "PAMIT"), ev("LOAD", -90, "PAMIT"), ev("DISC", 0),
                ev("LOAD", 12)) == T0 + timedelta(hours=12)


def test_a_box_not_discharged_or_not_yet_picked_up_has_not_left() -> None:
    assert left(ev("GTOT", -400, "ECGYE"), ev("LOAD", -300, "ECGYE")) is None  # at sea: targeting before arrival
    assert left(ev("LOAD", -300, "ECGYE"), ev("DISC", 0)) is None
    # a planned or estimated gate-out is not a departure; a gate-out before the last discharge is an earlier leg's
    assert left(ev("DISC", -100, "PAMIT"), ev("GTOT", -90, "PAMIT"), ev("DISC", 0), ev("GTOT", 20, classifier="PLN")) \
        is None


def test_a_gate_out_dated_long_after_it_was_received_is_not_a_departure() -> None:
    # An attack review: an actual gate-out dated 2098-06-01, received in 2026 (flagged
    # dated-in-future at ingest, kept as sent), took a high-risk box off the queue as gone and
    # its scan was refused ("its box left the port at 2098-06-01").
    received = T0 + timedelta(hours=2)
    disc = replace(ev("DISC", 0), received_at=received)
    typo = replace(ev("GTOT", 0), event_time=datetime(2098, 6, 1, tzinfo=UTC), received_at=received)
    assert left(ev("LOAD", -300, "ECGYE"), disc, typo) is None
    # a day's slack for clocks and time zones, as the flag gives; then the real gate-out counts
    late_clock = replace(ev("GTOT", 20), received_at=T0 + timedelta(hours=-3))
    real = replace(ev("GTOT", 30), received_at=T0 + timedelta(hours=31))
    assert left(ev("LOAD", -300, "ECGYE"), disc, typo, real) == T0 + timedelta(hours=30)
    assert left(ev("LOAD", -300, "ECGYE"), disc, late_clock) == T0 + timedelta(hours=20)
    facts = TripFacts(KEY, T0 + timedelta(days=10), (ev("LOAD", -300, "ECGYE"), disc, typo, real))
    assert facts.gate_out_after(T0) == real


def test_a_stop_at_a_transshipment_port_is_neither_arrival_nor_departure() -> None:
    # The new-user review: a box discharged and reloaded at Balboa on its way to Antwerp showed
    # "arrived" and "left the port" while still at sea, and could not be planned.
    doc = TripDocument("BL1", "TRD", T0 - timedelta(days=40), port_of_loading="BRPNG", port_of_discharge="BEANR")
    on_the_way = (ev("LOAD", -500, "BRPNG"), ev("DISC", -200, "PABLB"), ev("LOAD", -150, "PABLB"))
    summary = trip_summary(TripFacts(KEY, T0 + timedelta(days=10), on_the_way, (doc,)))
    assert (summary.arrival_at, summary.left_at) == (None, None)
    there = on_the_way + (ev("DISC", 0, "BEANR"), ev("GTOT", 30, "BEANR"))
    summary = trip_summary(TripFacts(KEY, T0 + timedelta(days=10), there, (doc,)))
    assert (summary.arrival_at, summary.left_at) == (T0, T0 + timedelta(hours=30))


def at(event_type: str, hours: float, unlocode: str, facility: str) -> TripEvent:
    return TripEvent("EQUIPMENT", event_type, "ACT", T0 + timedelta(hours=hours), unlocode, facility_code=facility)


def test_the_trip_s_terminal_is_the_one_holding_the_box_on_land() -> None:
    """A terminal review: the terminal that loaded the box at Guayaquil (CGSA) owned its trip
    while at sea, and read the hold customs placed in Antwerp; a regression review: a terminal
    holding a box for transshipment or export must own its trip."""
    from scheldt.domain.trips import TripDocument

    doc = TripDocument("BL1", "TRD", T0 - timedelta(days=40), port_of_loading="ECGYE", port_of_discharge="BEANR")
    terminal = lambda *events, docs=(doc,): trip_summary(  # noqa: E731
        TripFacts(KEY, T0 + timedelta(days=10), tuple(events), docs)).terminal_code
    gate_in = at("GTIN", -320, "ECGYE", "CGSA")
    loaded = (gate_in, at("LOAD", -300, "ECGYE", "CGSA"))
    at_panama = loaded + (at("DISC", -200, "PAMIT", "MIT"),)
    assert terminal(gate_in) == "CGSA"  # waiting to be loaded there
    on_board = TripEvent("STOWAGE", "BAPLIE", "ACT", T0 - timedelta(hours=300), "ECGYE")
    assert terminal(gate_in, on_board) == ""  # its bay plan at departure, no load message (regression review)
    assert terminal(*loaded) == "" and terminal(*at_panama, at("LOAD", -150, "PAMIT", "MIT")) == ""  # at sea
    assert terminal(*at_panama) == "MIT"  # waiting there for its next vessel
    assert terminal(*at_panama, at("LOAD", -150, "PAMIT", "MIT"), at("DISC", 0, "BEANR", "SIMT1"),
                    at("GTOT", 30, "BEANR", "SIMT2")) == "SIMT1"
    assert terminal(*loaded, at("GTOT", 30, "BEANR", "SIMT2")) == "SIMT2"  # its discharge not received
    assert terminal(at("DISC", 0, "BEANR", ""), at("GTOT", 30, "BEANR", "SIMT2")) == "SIMT2"
    # an export: the terminal holds it until it is loaded
    assert terminal(at("GTIN", 0, "BEANR", "SIMT1"), docs=()) == "SIMT1"
    assert terminal(at("GTIN", 0, "BEANR", "SIMT1"), at("LOAD", 20, "BEANR", "SIMT1"), docs=()) == ""


def test_a_box_gated_in_by_land_without_a_document_is_at_the_terminal_until_it_leaves() -> None:
    """A targeting review: an empty gated in at BEANR with no booking (its only event), on top of
    the risk queue, was "not discharged here yet" and could not be scanned in the running shift.
    A regression review: a box gated in at Shanghai was then "here" and scanned; one gated in
    here and loaded aboard for export went back to "not discharged here yet"."""
    here = frozenset({"BEANR", "BEZEE"})

    def summary(*events: TripEvent, ports: frozenset[str] = here) -> tuple[datetime | None, datetime | None]:
        s = trip_summary(TripFacts(KEY, T0 + timedelta(days=10), tuple(events)), ports)
        return s.arrival_at, s.left_at

    assert summary(ev("GTIN", 0)) == (T0, None)
    assert summary(ev("GTIN", 0), ev("GTOT", 20)) == (T0, T0 + timedelta(hours=20))
    assert summary(ev("GTIN", 0), ev("LOAD", 13)) == (T0, T0 + timedelta(hours=13))  # loaded aboard: gone
    # a gate-in abroad is where a trip begins, not an arrival here
    assert summary(ev("GTIN", 0, "CNSHA")) == (None, None)
    assert summary(ev("GTIN", -400, "ECGYE"), ev("LOAD", -300, "ECGYE")) == (None, None)
    # a planned gate-in is not one; a node that names no port of its own counts none
    assert summary(ev("GTIN", 0, classifier="PLN")) == (None, None)
    assert summary(ev("GTIN", 0), ports=frozenset()) == (None, None)
    # an arrival by sea is the arrival
    assert summary(ev("GTIN", -400, "ECGYE"), ev("LOAD", -300, "ECGYE"), ev("DISC", 0), ev("GTOT", 30)) \
        == (T0, T0 + timedelta(hours=30))


def test_a_trip_a_line_began_is_that_lines_with_terminals_moves_but_nobody_elses() -> None:
    """A carrier review: a line sending its Track & Trace events before its bill of lading could
    not see its own containers, nor be told of the hold placed once the terminal reported the
    discharge. An agency's event or a second line's keeps it off every line, and a trip a
    terminal began is no line's (a regression review's line took one with a gate-out naming
    nothing); a document decides by its carrier code. Events in the order received."""
    lines = {"carrier-a": "be-customs", "carrier-b": "be-customs", "terminal-1": "be-customs"}
    codes = {"carrier-a": "SIMA", "carrier-b": "SIMB"}

    def carrier(*suppliers: str, docs: tuple = ()) -> str:
        events = tuple(replace(ev("LOAD", -300 + i, "ECGYE"), supplied_by=s, received_at=T0 + timedelta(hours=i))
                       for i, s in enumerate(suppliers))
        return trip_summary(TripFacts(KEY, T0 + timedelta(days=10), events, docs), frozenset(), lines, codes).carrier_code

    assert carrier("carrier-a") == "SIMA"
    assert carrier("carrier-a", "carrier-a") == "SIMA"
    assert carrier("carrier-a", "terminal-1", "carrier-a") == "SIMA"  # its load, the discharge, its gate-out
    assert carrier("terminal-1", "carrier-a") == ""
    assert carrier("carrier-a", "be-customs") == ""
    assert carrier("carrier-a", "carrier-b") == ""
    assert carrier("terminal-1") == ""
    doc = TripDocument("SIMBL00100001", "BOL", datetime(2026, 2, 20, tzinfo=UTC), carrier_code="SIMB")
    assert carrier("carrier-a", docs=(doc,)) == "SIMB"
