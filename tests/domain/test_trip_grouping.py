"""A container's events split into trips: by document reference, then by voyage for events
that name none, never into a journey the box had already finished."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheldt.domain.trips import TripKey, group_trips, trip_documents, voyage_documents


def ev(kind: str, day: int, ref: str = "", voyage: str = "V1", classifier: str = "ACT") -> dict[str, object]:
    return {"event_type": kind, "classifier": classifier, "event_time": datetime(2026, 11, day, 10, tzinfo=UTC),
            "transport_document_ref": ref, "booking_ref": "", "export_voyage": voyage, "import_voyage": ""}


def test_an_event_naming_only_a_voyage_joins_that_voyages_trip() -> None:
    [trip] = group_trips("TSTU0000020", [ev("LOAD", 1, "BL-A"), ev("DEPA", 2), ev("DISC", 20, "BL-A")])
    assert trip.key == TripKey("TSTU0000020", "BL-A", "V1") and len(trip.events) == 3


def test_a_trip_keeps_the_voyage_of_its_first_event_received() -> None:
    """A terminal review: a VGM declaration for the B/L (naming no voyage, dated before the load)
    received after the moves renamed the trip "no voyage", so it got a new id and its hold moved;
    a regression review: a trip begun by its VGM was renamed when its load arrived."""
    def received(e: dict[str, object], day: int) -> dict[str, object]:
        return e | {"received_at": datetime(2026, 12, day, tzinfo=UTC)}

    moves = [received(ev("LOAD", 3, "BL-A", "601E"), 1), received(ev("DISC", 20, "BL-A", "601E"), 2),
             received(ev("GTOT", 22, "BL-A", ""), 3)]
    late_vgm, early_vgm = received(ev("VGM", 1, "BL-A", ""), 9), received(ev("VGM", 1, "BL-A", ""), 1)
    for events, voyage in ((moves, "601E"), ([late_vgm, *moves], "601E"), ([early_vgm, *moves], ""),
                           ([early_vgm], "")):
        [trip] = group_trips("TSTU0000020", events)
        assert trip.key == TripKey("TSTU0000020", "BL-A", voyage) and len(trip.events) == len(events)
    # an event naming only the voyage still joins the trip
    [trip] = group_trips("TSTU0000020", [late_vgm, received(ev("DEPA", 4, "", "601E"), 5), *moves])
    assert trip.key == TripKey("TSTU0000020", "BL-A", "601E") and len(trip.events) == 5


def test_after_the_gate_out_at_destination_the_same_voyage_number_is_the_next_journey() -> None:
    """A carrier review: the next carrier's gate-in at origin, naming the reused voyage V1 and
    no document, showed on the previous carrier's finished trip (and fed its score)."""
    events = [ev("LOAD", 1, "BL-A"), ev("DISC", 20, "BL-A"), ev("GTOT", 22, "BL-A"), ev("GTIN", 27),
              ev("LOAD", 28, "BL-B", "V2")]
    trips = group_trips("TSTU0000020", events)
    assert [(t.key, [e["event_type"] for e in t.events]) for t in trips] == [
        (TripKey("TSTU0000020", "BL-A", "V1"), ["LOAD", "DISC", "GTOT"]),
        (TripKey("TSTU0000020", "", "V1"), ["GTIN"]),
        (TripKey("TSTU0000020", "BL-B", "V2"), ["LOAD"])]


def test_a_planned_gate_out_does_not_end_the_trip() -> None:
    events = [ev("LOAD", 1, "BL-A"), ev("DISC", 20, "BL-A"), ev("GTOT", 21, "BL-A", classifier="PLN"), ev("STRP", 22)]
    [trip] = group_trips("TSTU0000020", events)
    assert [e["event_type"] for e in trip.events] == ["LOAD", "DISC", "GTOT", "STRP"]


def test_a_gate_out_naming_no_reference_ends_the_trip_discharged_there() -> None:
    """An EDI review: a CODECO gate-out giving only a release reference (no B/L, booking or
    voyage) made a trip of its own, and the import trip stayed "in port" in the queue. It joins
    the trip last discharged at its port and not gone since, within 60 days; nothing else does."""
    def at(kind: str, day: int, port: str, ref: str = "", voyage: str = "", month: int = 11) -> dict[str, object]:
        return ev(kind, day, ref, voyage) | {"unlocode": port, "event_time": datetime(2026, month, day, 10, tzinfo=UTC)}

    def grouped(*events: dict[str, object]) -> list[tuple[str, list[str]]]:
        return [(t.key.document_ref, [e["event_type"] for e in t.events]) for t in group_trips("TSTU0000020", events)]

    trip = [at("LOAD", 1, "ECGYE", "BL-A", "V1"), at("DISC", 20, "BEANR", "BL-A", "V1")]
    assert grouped(*trip, at("GTOT", 22, "BEANR")) == [("BL-A", ["LOAD", "DISC", "GTOT"])]
    assert grouped(*trip, at("GTOT", 22, "NLRTM")) == [("BL-A", ["LOAD", "DISC"]), ("", ["GTOT"])]  # another port
    gone = [*trip, at("GTOT", 21, "BEANR", "BL-A", "V1")]  # gated out already: a later one is another trip's
    assert grouped(*gone, at("GTOT", 25, "BEANR")) == [("BL-A", ["LOAD", "DISC", "GTOT"]), ("", ["GTOT"])]
    onward = [*trip, at("LOAD", 21, "BEANR", "BL-A", "V2")]  # transshipped onward from Antwerp
    assert grouped(*onward, at("GTOT", 25, "BEANR")) == [("BL-A", ["LOAD", "DISC", "LOAD"]), ("", ["GTOT"])]
    late = at("GTOT", 20, "BEANR", month=12) | {"event_time": datetime(2027, 1, 20, 10, tzinfo=UTC)}  # 61 days
    assert grouped(*trip, late) == [("BL-A", ["LOAD", "DISC"]), ("", ["GTOT"])]
    assert grouped(*trip, at("GTIN", 22, "BEANR")) == [("BL-A", ["LOAD", "DISC"]), ("", ["GTIN"])]
    # the discharge placed by its voyage alone (no reference) is still before a later gate-out or onward
    # load (a regression review: the trip's events were walked in the order they were placed)
    bare = [at("LOAD", 1, "COCTG", "BL-C", "V1"), at("DISC", 20, "BEANR", "", "V1")]
    assert grouped(*bare, at("GTOT", 21, "BEANR", "BL-C"), at("GTOT", 25, "BEANR")) == [
        ("BL-C", ["LOAD", "DISC", "GTOT"]), ("", ["GTOT"])]
    assert grouped(*bare, at("LOAD", 21, "BEANR", "BL-C", "V2"), at("GTOT", 25, "BEANR")) == [
        ("BL-C", ["LOAD", "DISC", "LOAD"]), ("", ["GTOT"])]
    # of two trips discharged there, the later one
    second = [at("LOAD", 3, "COCTG", "BL-B", "V9"), at("DISC", 21, "BEANR", "BL-B", "V9")]
    assert grouped(*trip, *second, at("GTOT", 23, "BEANR")) == [("BL-A", ["LOAD", "DISC"]),
                                                                ("BL-B", ["LOAD", "DISC", "GTOT"])]


def test_retracted_events_are_shown_on_the_trip_scoring_sees_without_deciding_it() -> None:
    """A regression review: grouped with the rest, a retracted gate-in's voyage became the trip's
    key (the trip page's "withdrawn" list was empty, and a stale trip stayed in the queue), and a
    retracted gate-out ended the trip shown, so the real gate-out went to a trip of its own."""
    from scheldt.domain.trips import group_shown_trips

    def at(kind: str, day: int, ref: str = "", voyage: str = "", retracted: str = "") -> dict[str, object]:
        return ev(kind, day, ref, voyage) | {"unlocode": "BEANR", "retracted_by": retracted or None}

    def shown(*events: dict[str, object]) -> list[tuple[TripKey, list[str]]]:
        return [(t.key, [e["event_type"] + ("*" if e["retracted_by"] else "") for e in t.events])
                for t in group_shown_trips("TSTU0000020", events)]

    key = TripKey("TSTU0000020", "BL-K", "V1")
    assert shown(at("GTIN", 1, "BL-K", "WRONG9", "r-1"), at("LOAD", 2, "BL-K", "V1"), at("DISC", 20, "BL-K", "V1")) == [
        (key, ["GTIN*", "LOAD", "DISC"])]
    assert shown(at("LOAD", 2, "BL-K", "V1"), at("DISC", 20, "BL-K", "V1"), at("GTOT", 21, "BL-K", "V1", "r-2"),
                 at("GTOT", 22)) == [(key, ["LOAD", "DISC", "GTOT*", "GTOT"])]
    # a retracted gate-out naming nothing: on the trip it would have ended (a regression review: on a
    # trip of its own, and the trip page said nothing)
    assert shown(at("LOAD", 2, "BL-K", "V1"), at("DISC", 20, "BL-K", "V1"), at("GTOT", 22, retracted="r-5")) == [
        (key, ["LOAD", "DISC", "GTOT*"])]
    # not on an older trip of a placeholder reference or of a reused voyage
    older = [at("LOAD", 1, "1", "VA"), at("DISC", 5, "1", "VA"), at("GTOT", 6, "1", "VA")]
    newer = [at("LOAD", 10, "1", "VB"), at("DISC", 20, "1", "VB")]
    assert shown(*older, *newer, at("GTOT", 22, "1", "VB", "r-6"))[-1] == (
        TripKey("TSTU0000020", "", "VB"), ["LOAD", "DISC", "GTOT*"])
    reused = [at("LOAD", 1, "BL-A", "V1"), at("DISC", 5, "BL-A", "V1"), at("GTOT", 6, "BL-A", "V1"),
              at("LOAD", 10, "BL-B", "V1"), at("DISC", 20, "BL-B", "V1")]
    assert shown(*reused, at("GTOT", 22, "", "V1", "r-7"))[-1] == (
        TripKey("TSTU0000020", "BL-B", "V1"), ["LOAD", "DISC", "GTOT*"])
    # ... and a live one naming only the reused voyage ends the trip of that voyage still in port
    assert shown(*reused, at("GTOT", 22, "", "V1"))[-1] == (TripKey("TSTU0000020", "BL-B", "V1"),
                                                           ["LOAD", "DISC", "GTOT"])
    # strays of a key a trip has already are shown with it, once
    alone = [at("LOAD", 2, "BL-K", "V1"), at("DISC", 5, "BL-K", "V1"), at("GTOT", 6, "BL-K", "V1")]
    assert shown(*alone, at("GTOT", 10, retracted="r-8"), at("GTIN", 25)) == [
        (key, ["LOAD", "DISC", "GTOT"]), (TripKey("TSTU0000020", "", ""), ["GTOT*", "GTIN"])]
    # placed by voyage, else by time; else on a trip of its own
    assert shown(at("LOAD", 2, "BL-K", "V1"), at("DEPA", 3, "", "V1", "r-3"), at("DISC", 20, "BL-K", "V1")) == [
        (key, ["LOAD", "DEPA*", "DISC"])]
    assert shown(at("LOAD", 2, "BL-K", "V1"), at("DISC", 20, "BL-K", "V1"), at("STRP", 25, "", "", "r-4")) == [
        (key, ["LOAD", "DISC"]), (TripKey("TSTU0000020", "", ""), ["STRP*"])]


def test_a_declaration_naming_only_the_box_belongs_to_the_trip_it_was_filed_during() -> None:
    from scheldt.domain.trips import DECLARATION_WINDOW, declarations_of_trip

    first, last = datetime(2026, 1, 21, tzinfo=UTC), datetime(2026, 2, 2, tzinfo=UTC)
    found = [{"declaration_ref": "A", "bill_of_lading_ref": "BL1", "filed_at": datetime(2019, 1, 1, tzinfo=UTC)},
             {"declaration_ref": "B", "bill_of_lading_ref": "", "filed_at": first - DECLARATION_WINDOW},
             {"declaration_ref": "C", "bill_of_lading_ref": "",
              "filed_at": last + DECLARATION_WINDOW + timedelta(seconds=1)},
             {"declaration_ref": "D", "bill_of_lading_ref": "OTHER", "filed_at": last}]
    assert DECLARATION_WINDOW == timedelta(days=30)
    # by reference whenever filed; by the box alone (no B/L) within 30 days of the trip's events;
    # not one naming another B/L, whenever filed (a review found the box's earlier trip's)
    assert [d["declaration_ref"] for d in declarations_of_trip(found, {"BL1"}, first, last)] == ["A", "B"]


def test_a_declaration_naming_only_the_box_goes_to_the_nearest_of_its_trips() -> None:
    """A declarations review: one filed between two trips of the box, within 30 days of both, was
    listed under both. It is the nearer trip's; equally near, the later one's."""
    from scheldt.domain.trips import declarations_of_trip

    def day(d: int) -> datetime:
        return datetime(2026, 1, d, tzinfo=UTC)

    a, b = (day(5), day(22)), (datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 2, 5, tzinfo=UTC))
    found = [{"declaration_ref": ref, "bill_of_lading_ref": "", "filed_at": day(d)} for ref, d in
             (("during A", 10), ("nearer A", 25), ("as near", 27), ("nearer B", 29))]

    def refs(trip: tuple[datetime, datetime], other: tuple[datetime, datetime]) -> list[str]:
        return [d["declaration_ref"] for d in declarations_of_trip(found, set(), *trip, [other])]

    assert refs(a, b) == ["during A", "nearer A"] and refs(b, a) == ["as near", "nearer B"]
    assert [d["declaration_ref"] for d in declarations_of_trip(found, set(), *a)] == [
        "during A", "nearer A", "as near", "nearer B"]  # the box's only trip


def test_a_trip_keeps_the_documents_of_its_own_carrier() -> None:
    """Booking numbers collide between carriers (carrier review): a document found only by its
    booking reference is the trip's when its carrier is the one of the documents the events name
    by their own reference, else of the first document received; one without a carrier code is
    kept."""
    def doc(i: int, ref: str, booking: str, carrier: str, day: int) -> dict[str, object]:
        return {"id": i, "document_ref": ref, "booking_ref": booking, "carrier_code": carrier,
                "received_at": datetime(2026, 1, day, tzinfo=UTC), "containers": [{"number": "MSCU1234565"}]}

    a_bl, a_bkg = doc(1, "ABL1", "BK1", "SIMA", 2), doc(2, "BK1", "BK1", "SIMA", 1)
    b_td, unknown = doc(3, "BBL9", "BK1", "SIMB", 3), doc(4, "XBL4", "BK1", "", 4)
    ids = lambda docs: [d["id"] for d in docs]  # noqa: E731
    assert ids(trip_documents([a_bkg, a_bl, b_td, unknown], {"ABL1", "BK1"}, "MSCU1234565")) == [2, 1, 4]
    assert ids(trip_documents([b_td, a_bl], {"BK1"}, "MSCU1234565")) == [1]  # none named: A's was received first
    assert ids(trip_documents([b_td], {"BK1"}, "MSCU1234565")) == [3]
    assert ids(trip_documents([a_bl], {"ABL1"}, "TGHU7654321")) == []  # lists another box only
    # one line's two codes (SMDG and SCAC) are one carrier, any case (a review dropped its own booking)
    a_scac = doc(5, "ABK5", "BK1", "sima-scac", 5)
    assert ids(trip_documents([a_bl, a_scac, b_td], {"ABL1", "BK1"}, "MSCU1234565",
                              {"SIMA": "carrier-a", "SIMA-SCAC": "carrier-a", "SIMB": "carrier-b"})) == [1, 5]
    assert ids(trip_documents([a_bl, doc(6, "ABK6", "BK1", "sima", 6)], {"ABL1", "BK1"}, "MSCU1234565")) == [1, 6]


# -- moves naming only a voyage, placed by the document listing the box under it ----------------

def _on(day: datetime, ref: str = "BL-D", booking: str = "", voyage: str = "V1", listed: str = "TSTU0000020",
        version: int = 1) -> dict[str, object]:
    """A stored document version listing ``listed`` under ``voyage``, received on ``day``."""
    return {"id": version, "document_ref": ref, "booking_ref": booking, "voyage": voyage, "received_at": day,
            "issued_at": None, "containers": [{"number": listed}]}


def _at(month: int, day: int, kind: str, ref: str = "", voyage: str = "V1", booking: str = "") -> dict[str, object]:
    return {**ev(kind, 1, ref, voyage), "event_time": datetime(2026, month, day, 10, tzinfo=UTC),
            "booking_ref": booking}


def test_a_journey_is_placed_whole_though_its_load_is_far_from_the_document() -> None:
    """A regression review: a B/L received 125 days after the load and 90 after the discharge
    split one journey, the load left on a trip without document (holding the hold)."""
    docs = voyage_documents([_on(datetime(2026, 12, 4, tzinfo=UTC))], "TSTU0000020")
    trips = group_trips("TSTU0000020", [_at(7, 30, "LOAD"), _at(9, 5, "DISC")], docs)
    assert [(t.key, [e["event_type"] for e in t.events]) for t in trips] == [
        (TripKey("TSTU0000020", "BL-D", "V1"), ["LOAD", "DISC"])]


def test_the_next_journey_under_a_reused_voyage_is_not_placed_on_a_finished_trip() -> None:
    """A regression review: a new version of journey 1's B/L pulled journey 2's moves (same
    voyage, no reference) onto journey 1's trip, which had ended with a gate-out."""
    events = [_at(8, 1, "LOAD", "BL-D"), _at(9, 15, "DISC", "BL-D"), _at(9, 22, "GTOT", "BL-D"),
              _at(11, 10, "LOAD"), _at(11, 28, "DISC")]
    docs = voyage_documents([_on(datetime(2026, 12, 4, tzinfo=UTC))], "TSTU0000020")
    trips = group_trips("TSTU0000020", events, docs)
    assert [(t.key, [e["event_type"] for e in t.events]) for t in trips] == [
        (TripKey("TSTU0000020", "BL-D", "V1"), ["LOAD", "DISC", "GTOT"]),
        (TripKey("TSTU0000020", "", "V1"), ["LOAD", "DISC"])]


def test_a_document_found_by_its_booking_places_moves_on_the_booking_s_trip() -> None:
    """A regression review: feeder moves naming the booking and main-line moves naming only the
    voyage the B/L (of that booking) lists the box under made two trips, one B/L on both."""
    events = [_at(10, 1, "LOAD", voyage="728N", booking="BK-1"), _at(10, 9, "DISC", voyage="728N", booking="BK-1"),
              _at(10, 12, "LOAD", voyage="729W"), _at(11, 2, "DISC", voyage="729W")]
    docs = voyage_documents([_on(datetime(2026, 10, 5, tzinfo=UTC), booking="BK-1", voyage="729W")], "TSTU0000020")
    [trip] = group_trips("TSTU0000020", events, docs)
    assert (trip.key, len(trip.events)) == (TripKey("TSTU0000020", "BK-1", "728N"), 4)


def test_moves_naming_the_booking_and_moves_naming_its_bill_of_lading_are_one_trip() -> None:
    """A trip review: the load named the booking BK2, the discharge the B/L BL2 that the stored
    B/L says is of booking BK2, and they made two trips, each half of the journey scored on its
    own (whichever was received first)."""
    docs = voyage_documents([_on(datetime(2026, 4, 12, tzinfo=UTC), ref="BL2", booking="BK2", voyage="405E")],
                            "TSTU0000020")
    events = [_at(4, 11, "LOAD", voyage="405E", booking="BK2"), _at(4, 25, "DISC", "BL2", voyage="405E")]
    for order in (events, events[::-1]):
        [trip] = group_trips("TSTU0000020", order, docs)
        assert shape([trip]) == [(TripKey("TSTU0000020", "BK2", "405E"), ["LOAD", "DISC"])]
    # without the document nothing says they are one shipment
    assert [t.key.document_ref for t in group_trips("TSTU0000020", events, {})] == ["BK2", "BL2"]
    # nor a document listing the box under another voyage, or far from the move (a booking the
    # line used again a year later: a regression review's new journey joined the old one)
    assert [t.key.document_ref for t in group_trips("TSTU0000020", events, voyage_documents(
        [_on(datetime(2026, 4, 12, tzinfo=UTC), ref="BL2", booking="BK2", voyage="609W")], "TSTU0000020"))] == [
        "BK2", "BL2"]
    far = voyage_documents([_on(datetime(2025, 4, 12, tzinfo=UTC), ref="BL2", booking="BK2", voyage="405E")],
                           "TSTU0000020")
    assert [t.key.document_ref for t in group_trips("TSTU0000020", events, far)] == ["BK2", "BL2"]
    # a document listing another box links nothing for this one
    other = voyage_documents([_on(datetime(2026, 4, 12, tzinfo=UTC), ref="BL2", booking="BK2", voyage="405E",
                                  listed="TSTU0000036")], "TSTU0000020")
    assert len(group_trips("TSTU0000020", events, other)) == 2


def test_a_booking_used_again_on_a_later_journey_is_not_joined_to_the_old_one_by_its_document() -> None:
    """A regression review: a 2025 B/L (of booking BK0000001) and its journey, ended by a
    gate-out, were one trip with the 2026 moves naming the same booking on another voyage."""
    def at(y: int, m: int, d: int, kind: str, ref: str = "", booking: str = "", voyage: str = "") -> dict[str, object]:
        return {**_at(m, d, kind, ref, voyage, booking), "event_time": datetime(y, m, d, 10, tzinfo=UTC)}

    docs = voyage_documents([_on(datetime(2025, 1, 2, tzinfo=UTC), ref="BL0000001", booking="BK0000001",
                                 voyage="V251")], "TSTU0000020")
    events = [at(2025, 1, 3, "LOAD", "BL0000001", voyage="V251"), at(2025, 2, 1, "DISC", "BL0000001", voyage="V251"),
              at(2025, 2, 3, "GTOT", "BL0000001", voyage="V251"), at(2026, 3, 1, "GTIN", booking="BK0000001",
                                                                     voyage="V609"),
              at(2026, 3, 2, "LOAD", booking="BK0000001", voyage="V609")]
    assert shape(group_trips("TSTU0000020", events, docs)) == [
        (TripKey("TSTU0000020", "BL0000001", "V251"), ["LOAD", "DISC", "GTOT"]),
        (TripKey("TSTU0000020", "BK0000001", "V609"), ["GTIN", "LOAD"])]


def test_a_document_links_a_discharge_by_its_import_voyage_but_never_to_a_journey_that_ended() -> None:
    """Regression reviews: a discharge naming the B/L, its export voyage the vessel's next one and
    its import voyage the one the box came in on, split from its booking's load; and a 2026 B/L
    of a booking the line had used in 2025 joined the 2026 journey to the 2025 one, ended by its
    gate-out."""
    def at(y: int, m: int, d: int, kind: str, ref: str = "", booking: str = "", voyage: str = "",
           inbound: str = "") -> dict[str, object]:
        return {**_at(m, d, kind, ref, voyage, booking), "event_time": datetime(y, m, d, 10, tzinfo=UTC),
                "import_voyage": inbound}

    docs = voyage_documents([_on(datetime(2026, 3, 1, tzinfo=UTC), ref="BL3", booking="BK3", voyage="405E")],
                            "TSTU0000020")
    moves = [at(2026, 3, 2, "LOAD", booking="BK3", voyage="405E"),
             at(2026, 3, 20, "DISC", "BL3", voyage="406W", inbound="405E")]
    assert shape(group_trips("TSTU0000020", moves, docs)) == [
        (TripKey("TSTU0000020", "BK3", "405E"), ["LOAD", "DISC"])]
    docs = voyage_documents([_on(datetime(2026, 2, 28, tzinfo=UTC), ref="BL2", booking="BK0000001",
                                 voyage="V609")], "TSTU0000020")
    events = [at(2025, 1, 3, "LOAD", booking="BK0000001", voyage="V251"),
              at(2025, 2, 1, "DISC", booking="BK0000001", voyage="V251"),
              at(2025, 2, 3, "GTOT", booking="BK0000001", voyage="V251"),
              at(2026, 3, 2, "LOAD", "BL2", voyage="V609"), at(2026, 3, 20, "DISC", "BL2", voyage="V609")]
    assert shape(group_trips("TSTU0000020", events, docs)) == [
        (TripKey("TSTU0000020", "BK0000001", "V251"), ["LOAD", "DISC", "GTOT"]),
        (TripKey("TSTU0000020", "BL2", "V609"), ["LOAD", "DISC"])]
    # a transshipment's rail leg: gated out of Balboa, loaded at Manzanillo on the mother vessel
    # the B/L lists it under, the journey goes on (round-3 review: it split in two)
    docs = voyage_documents([{**_on(datetime(2026, 3, 1, tzinfo=UTC), ref="BL1", booking="BK1", voyage="F1"),
                              "other_voyages": ["M2"]}], "TSTU0000020")
    moves = [at(2026, 3, 2, "LOAD", booking="BK1", voyage="F1"), at(2026, 3, 20, "DISC", booking="BK1", inbound="F1"),
             at(2026, 3, 21, "GTOT", booking="BK1"), at(2026, 3, 22, "LOAD", "BL1", voyage="M2"),
             at(2026, 4, 10, "DISC", "BL1", inbound="M2")]
    assert shape(group_trips("TSTU0000020", moves, docs)) == [
        (TripKey("TSTU0000020", "BK1", "F1"), ["LOAD", "DISC", "GTOT", "LOAD", "DISC"])]
    # but a voyage number used again a year later is another journey (round-4 review)
    docs = voyage_documents([_on(datetime(2026, 2, 28, tzinfo=UTC), ref="BL5", booking="BK5", voyage="V609")],
                            "TSTU0000020")
    moves = [at(2025, 1, 3, "LOAD", booking="BK5", voyage="V609"),
             at(2025, 2, 1, "DISC", booking="BK5", inbound="V609"),
             at(2025, 2, 3, "GTOT", booking="BK5"), at(2026, 3, 2, "LOAD", "BL5", voyage="V609"),
             at(2026, 3, 20, "DISC", "BL5", inbound="V609")]
    assert shape(group_trips("TSTU0000020", moves, docs)) == [
        (TripKey("TSTU0000020", "BK5", "V609"), ["LOAD", "DISC", "GTOT"]),
        (TripKey("TSTU0000020", "BL5", "V609"), ["LOAD", "DISC"])]


def test_only_a_document_s_latest_version_and_one_document_alone_place_moves() -> None:
    """A regression review: a B/L amended to list another box still placed this one; two
    carriers' documents for one box and voyage place nothing (which one is meant is unknown)."""
    day = datetime(2026, 10, 5, tzinfo=UTC)
    dropped = voyage_documents([_on(day), _on(day + timedelta(days=2), listed="TSTU0000036", version=2)],
                               "TSTU0000020")
    before = voyage_documents([_on(day), _on(day + timedelta(days=2), listed="TSTU0000036", version=2)],
                              "TSTU0000020", now=day + timedelta(days=1))
    two = voyage_documents([_on(day), _on(day, ref="BL-OTHER", version=2)], "TSTU0000020")
    [trip] = group_trips("TSTU0000020", [_at(10, 12, "LOAD")], two)
    assert dropped == {} and [d.refs for d in before["V1"]] == [("BL-D",)]
    assert trip.key == TripKey("TSTU0000020", "", "V1")


def test_a_gate_out_naming_no_voyage_ends_a_journey_for_the_document_too() -> None:
    """A regression review: a truck gate-out naming no voyage did not end the box's 2025 journey,
    so a 2026 B/L for the reused voyage took both years' moves; the 2025 ones came first, and
    the 2026 ones, refused by the then-ended trip, were left without document."""
    events = [{**_at(11, 10, "LOAD", voyage="906W"), "event_time": datetime(2025, 11, 10, tzinfo=UTC)},
              {**_at(11, 28, "DISC", voyage="906W"), "event_time": datetime(2025, 11, 28, tzinfo=UTC),
               "unlocode": "BEANR"},
              {**_at(12, 1, "GTOT", voyage=""), "event_time": datetime(2025, 12, 1, tzinfo=UTC), "unlocode": "BEANR"},
              _at(11, 10, "LOAD", voyage="906W"), _at(11, 28, "DISC", voyage="906W")]
    docs = voyage_documents([_on(datetime(2026, 11, 9, tzinfo=UTC), ref="BL-2026", voyage="906W")], "TSTU0000020")
    trips = group_trips("TSTU0000020", events, docs)
    assert [(t.key.document_ref, [f"{e['event_time']:%Y} {e['event_type']}" for e in t.events]) for t in trips] == [
        ("", ["2025 LOAD", "2025 DISC", "2025 GTOT"]), ("BL-2026", ["2026 LOAD", "2026 DISC"])]


def move(kind: str, when: str, ref: str = "", voyage: str = "101E", port: str = "") -> dict[str, object]:
    return {"event_type": kind, "classifier": "ACT", "event_time": datetime.fromisoformat(when).replace(tzinfo=UTC),
            "transport_document_ref": "", "booking_ref": ref, "export_voyage": voyage, "import_voyage": "",
            "unlocode": port}


def shape(trips: list) -> list[tuple[TripKey, list[str]]]:  # type: ignore[type-arg]
    return [(t.key, [str(e["event_type"]) for e in t.events]) for t in trips]


def test_moves_of_an_earlier_journey_naming_a_reused_voyage_stay_out_of_a_later_trip() -> None:
    """A trip review: a terminal's 2025 load, discharge and gate-out naming only voyage 101E were
    in the 2026 trip of booking BKGB000222 on a voyage of that number, and it scored "loaded
    2025-03-07"; they are a trip of their own."""
    old = [move("LOAD", "2025-03-07T10:00", port="ECGYE"), move("DISC", "2025-03-25T10:00", port="BEANR"),
           move("GTOT", "2025-03-26T10:00", port="BEANR")]
    new = [move("LOAD", "2026-03-05T10:00", "BKGB000222", port="ECGYE"),
           move("DISC", "2026-03-25T10:00", "BKGB000222", port="BEANR")]
    assert shape(group_trips("TGHU7654320", new + old)) == [
        (TripKey("TGHU7654320", "", "101E"), ["LOAD", "DISC", "GTOT"]),
        (TripKey("TGHU7654320", "BKGB000222", "101E"), ["LOAD", "DISC"])]
    # a terminal's gate-in before the carrier's first event of the same journey still joins it
    early = move("GTIN", "2026-03-04T10:00", port="ECGYE")
    assert shape(group_trips("TGHU7654320", [*new, *old, early]))[1] == (
        TripKey("TGHU7654320", "BKGB000222", "101E"), ["GTIN", "LOAD", "DISC"])


def test_a_terminals_moves_join_the_latest_trip_of_their_voyage_not_the_first() -> None:
    """A trip review: trip 1 (2025) and trip 2 (2026) both on voyage 101E; the terminal's own
    discharge and inspection of trip 2, naming only the voyage, made a third trip with no
    document (scored 0) because only trip 1, long gone, was looked at."""
    first = [move("LOAD", "2025-03-05T10:00", "BKGA000111"), move("DISC", "2025-03-25T10:00", "BKGA000111"),
             move("GTOT", "2025-03-26T10:00", "BKGA000111")]
    second = [move("LOAD", "2026-03-05T10:00", "BKGB000222"), move("DISC", "2026-03-25T10:00", "BKGB000222")]
    terminal = [move("DISC", "2026-03-25T10:00"), move("INSP", "2026-03-26T10:00")]
    assert shape(group_trips("CSQU3054383", first + second + terminal)) == [
        (TripKey("CSQU3054383", "BKGA000111", "101E"), ["LOAD", "DISC", "GTOT"]),
        (TripKey("CSQU3054383", "BKGB000222", "101E"), ["LOAD", "DISC", "DISC", "INSP"])]


def test_a_box_taken_by_land_between_two_ports_of_a_transshipment_is_one_trip() -> None:
    """A trip review: discharged at Balboa, gated out, railed to Manzanillo and loaded on the
    mother vessel under the same booking; the gate-out at Balboa ended the trip, so the Antwerp
    terminal's discharge and gate-out (naming only the mother vessel's voyage) made another."""
    booked = [move("LOAD", "2026-02-01T10:00", "BKGP000444", "F11N", "COCTG"),
              move("DISC", "2026-02-05T04:00", "BKGP000444", "F11N", "PABLB"),
              move("GTOT", "2026-02-05T10:00", "BKGP000444", "F11N", "PABLB"),
              move("GTIN", "2026-02-05T20:00", "BKGP000444", "", "PAMIT"),
              move("LOAD", "2026-02-06T10:00", "BKGP000444", "M22E", "PAMIT")]
    antwerp = [move("DISC", "2026-02-20T10:00", "", "M22E", "BEANR"),
               move("GTOT", "2026-02-20T13:00", "", "M22E", "BEANR")]
    assert shape(group_trips("MSKU5554443", booked + antwerp)) == [
        (TripKey("MSKU5554443", "BKGP000444", "F11N"), ["LOAD", "DISC", "GTOT", "GTIN", "LOAD", "DISC", "GTOT"])]
    # gone from Antwerp, the voyage number's next journey is another trip
    later = move("GTIN", "2026-05-02T10:00", "", "M22E", "BEANR")
    assert shape(group_trips("MSKU5554443", booked + antwerp + [later]))[1] == (
        TripKey("MSKU5554443", "", "M22E"), ["GTIN"])


def test_a_journeys_gate_out_sent_by_two_parties_minutes_apart_does_not_split_it() -> None:
    """A regression review of the fix above: the terminal sent the load, discharge and gate-out
    naming only the voyage (the gate-out none), the carrier only the gate-out with its booking,
    five minutes later; the terminal's gate-out ended a journey before the booked trip began,
    and its load and discharge went to a trip without document."""
    terminal = [move("LOAD", "2026-02-03T10:00", port="ECGYE"), move("DISC", "2026-02-25T06:00", port="BEANR"),
                move("GTOT", "2026-02-25T08:55", voyage="", port="BEANR")]
    carrier = [move("GTOT", "2026-02-25T09:00", "BKGB000222", port="BEANR")]
    assert shape(group_trips("MSKU6543211", terminal + carrier)) == [
        (TripKey("MSKU6543211", "BKGB000222", "101E"), ["LOAD", "DISC", "GTOT", "GTOT"])]


def test_a_mother_vessels_load_sent_only_by_the_terminal_joins_a_trip_taken_by_land_between_ports() -> None:
    """A regression review: the carrier's events of the booking went on after the gate-out at
    Balboa (a gate-in at Manzanillo, the discharge at Antwerp), but the load at Manzanillo came
    from the terminal naming only the mother vessel's voyage, and made a trip of its own."""
    carrier = [move("LOAD", "2026-02-01T10:00", "BKGP000444", "F11N", "COCTG"),
               move("DISC", "2026-02-05T04:00", "BKGP000444", "F11N", "PABLB"),
               move("GTOT", "2026-02-05T10:00", "BKGP000444", "F11N", "PABLB"),
               move("GTIN", "2026-02-05T20:00", "BKGP000444", "", "PAMIT"),
               move("DISC", "2026-02-20T10:00", "BKGP000444", "M22E", "BEANR")]
    terminal = [move("LOAD", "2026-02-06T10:00", "", "M22E", "PAMIT")]
    assert shape(group_trips("MSKU7778886", carrier + terminal)) == [
        (TripKey("MSKU7778886", "BKGP000444", "F11N"), ["LOAD", "DISC", "GTOT", "GTIN", "LOAD", "DISC"])]
