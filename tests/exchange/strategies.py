"""Hypothesis strategies for shared items (valid by construction: every generated item passes
:func:`scheldt.exchange.items.check_item`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from scheldt import reference
from scheldt.domain.exchange import Tlp
from scheldt.domain.inspection import CONCEALMENTS, DRUG_TYPES
from scheldt.exchange.items import (
    RESULTS,
    SELECTIONS,
    Alert,
    Consignment,
    Container,
    Meta,
    Party,
    Reason,
    Seizure,
    SeizureReport,
    Sighting,
    VesselCall,
    WatchEntry,
)
from scheldt.exchange.objects import Sharing, identity_id

ORGS = ("be-customs", "us-cbp", "nl-customs")


def _ms(t: datetime) -> datetime:
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


times = st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1), timezones=st.just(UTC)).map(_ms)
text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).map(str.strip).filter(bool)
maybe_text = st.one_of(st.just(""), text)
locode = st.from_regex(r"[A-Z]{2}[A-Z2-9]{3}", fullmatch=True)
country = st.sampled_from(sorted(c for c in reference.country_names() if c != "XZ"))
container_no = st.from_regex(r"[A-Z]{3}[UJZ][0-9]{7}", fullmatch=True)


@st.composite
def sharing(draw: st.DrawFn, kind: str, created: datetime) -> Sharing:
    tlp = draw(st.sampled_from(list(Tlp)))
    group = draw(st.sampled_from(["be-us", "be-us-nl"])) if tlp in (Tlp.AMBER, Tlp.AMBER_STRICT) else \
        draw(st.sampled_from([None, "be-us"]))
    recipients = tuple(sorted(draw(st.sets(st.tuples(st.sampled_from(ORGS), st.sampled_from(["liaison", "a.b-c_d"])),
                                           min_size=1, max_size=3)))) if tlp == Tlp.RED else ()
    valid_from = draw(st.one_of(st.none(), times))
    start = valid_from or created
    valid_until = draw(st.one_of(st.none(), st.integers(1, 10 ** 10).map(lambda n: start + timedelta(milliseconds=n))))
    return Sharing(kind, tlp, group, draw(st.one_of(st.just(""), text)), draw(st.sampled_from("ABCX")),
                   draw(st.sampled_from("1234")), recipients, valid_from, valid_until)


@st.composite
def meta(draw: st.DrawFn, kind: str, main_type: str) -> Meta:
    created = draw(times)
    modified = created + timedelta(milliseconds=draw(st.integers(0, 10 ** 9)))
    return Meta(f"{main_type}--{draw(st.uuids(version=4))}", identity_id(draw(st.sampled_from(ORGS))), created, modified,
                draw(sharing(kind, created)))


containers = st.builds(Container, container_no, st.one_of(st.just(""), st.from_regex(r"[0-9A-Z]{4}", fullmatch=True)),
                       st.lists(text, max_size=3).map(tuple))
consignments = st.builds(Consignment, text, st.sampled_from(["master", "house"]),
                         st.one_of(st.just(""), st.from_regex(r"[A-Z0-9]{2,10}", fullmatch=True)),
                         st.one_of(st.just(""), locode), st.one_of(st.just(""), locode), maybe_text, maybe_text,
                         maybe_text, st.lists(st.from_regex(r"[0-9]{2,10}", fullmatch=True), max_size=3).map(tuple))
vessel_calls = st.builds(VesselCall, st.from_regex(r"[0-9]{7}", fullmatch=True), maybe_text, maybe_text,
                         st.one_of(st.just(""), locode), st.one_of(st.none(), times))
parties = st.builds(Party, text, st.sampled_from(["company", "person"]), maybe_text, maybe_text,
                    st.one_of(st.just(""), country))
reasons = st.builds(Reason, st.from_regex(r"[a-z0-9_]{1,20}", fullmatch=True), text)
scores = st.one_of(st.none(), st.floats(0, 100, allow_nan=False))


@st.composite
def alerts(draw: st.DrawFn) -> Alert:
    container = draw(st.one_of(st.none(), containers))
    people = tuple(draw(st.lists(parties, max_size=3)))
    if container is None and not people:
        container = draw(containers)
    return Alert(draw(meta("alert", "grouping")), draw(text), tuple(draw(st.lists(reasons, min_size=1, max_size=4))),
                 draw(scores), draw(maybe_text), container, draw(st.one_of(st.none(), consignments)),
                 draw(st.one_of(st.none(), vessel_calls)), people,
                 tuple(f"indicator--{u}" for u in draw(st.lists(st.uuids(version=4), max_size=2))))


@st.composite
def watch_entries(draw: st.DrawFn) -> WatchEntry:
    kind = draw(st.sampled_from(["company", "person", "address", "container", "seal-range", "route"]))
    m, note = draw(meta("watchlist-entry", "indicator")), draw(text)
    if kind in ("company", "person"):
        return WatchEntry(m, kind, note, draw(text), tuple(draw(st.lists(text, max_size=3))), draw(maybe_text),
                          draw(st.one_of(st.just(""), country)))
    if kind == "address":
        return WatchEntry(m, kind, note, address=draw(text), country=draw(st.one_of(st.just(""), country)))
    if kind == "container":
        return WatchEntry(m, kind, note, container_number=draw(container_no))
    if kind == "seal-range":
        prefix = draw(st.from_regex(r"[A-Z][A-Z-]{0,4}", fullmatch=True))
        low = draw(st.integers(0, 10 ** 6))
        high = low + draw(st.integers(0, 10 ** 6))
        return WatchEntry(m, kind, note, seal_from=f"{prefix}{low:06d}", seal_to=f"{prefix}{high:06d}")
    return WatchEntry(m, kind, note, route=tuple(draw(st.lists(locode, min_size=2, max_size=4))))


seizures = st.builds(Seizure, st.sampled_from(DRUG_TYPES), st.floats(0.001, 100_000, allow_nan=False),
                     st.sampled_from(CONCEALMENTS), st.sampled_from(SELECTIONS), times, st.one_of(st.just(""), locode),
                     st.one_of(st.just(""), country), maybe_text)


@st.composite
def seizure_reports(draw: st.DrawFn) -> SeizureReport:
    return SeizureReport(draw(meta("seizure-report", "scheldt-seizure")), draw(seizures),
                         draw(st.one_of(st.none(), containers)), draw(st.one_of(st.none(), consignments)),
                         draw(st.one_of(st.none(), vessel_calls)))


@st.composite
def sightings(draw: st.DrawFn) -> Sighting:
    where = tuple(dict.fromkeys(identity_id(o) for o in draw(st.lists(st.sampled_from(ORGS), min_size=1, max_size=2))))
    return Sighting(draw(meta("sighting", "sighting")), f"grouping--{draw(st.uuids(version=4))}",
                    draw(st.sampled_from(RESULTS)), draw(times), where, draw(st.integers(0, 999_999_999)), draw(maybe_text))


items = st.one_of(alerts(), watch_entries(), seizure_reports(), sightings())
