"""Sharing terms travel with STIX objects; ingest keeps good objects, names bad ones, and
re-sending adds nothing; per-field markings are removed for requesters who may not see them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from scheldt.domain.access import Organisation, OrgKind
from scheldt.domain.exchange import TLP_MARKING_IDS, Requester, Tlp, tlp_marking_definition
from scheldt.errors import InputError
from scheldt.exchange.objects import Sharing, sharing_of, with_sharing
from scheldt.store.db import unit_of_work
from scheldt.workflows.sharing import MAX_DEPTH, _depth, ingest_objects, served

NOW = datetime(2026, 3, 1, tzinfo=UTC)
NOTE = {"type": "note", "spec_version": "2.1", "id": "note--6a0b1f4e-5c1b-4b7e-9a77-1d2c3b4a5f60",
        "created": "2026-03-01T08:00:00.000Z", "modified": "2026-03-01T08:00:00.000Z",
        "content": "Container MSCU1234566 from ECGYE: consignee registered 3 weeks ago", "object_refs": [
            "identity--0a6e7d6c-1111-4222-8333-444455556666"]}


def test_sharing_terms_round_trip_through_the_extension() -> None:
    terms = Sharing("alert", Tlp.RED, "be-us", "H2", "B", "2", (("us-cbp", "liaison"),),
                    datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC))
    obj = with_sharing(NOTE, terms)
    assert obj["object_marking_refs"] == [TLP_MARKING_IDS[Tlp.RED]]
    assert sharing_of(obj, None) == terms
    assert tlp_marking_definition(Tlp.AMBER_STRICT)["name"] == "TLP:AMBER+STRICT"


def test_objects_without_scheldt_terms_default_to_the_strictest_safe_reading() -> None:
    plain = sharing_of(NOTE, "be-us")
    assert (plain.tlp, plain.group, plain.reliability, plain.credibility) == (Tlp.AMBER_STRICT, "be-us", "X", "4")
    with pytest.raises(InputError, match="needs a sharing group"):
        sharing_of(NOTE, None)
    red = dict(NOTE, object_marking_refs=[TLP_MARKING_IDS[Tlp.RED]])
    with pytest.raises(InputError, match="TLP:RED needs named recipients"):
        sharing_of(red, "be-us")


def test_tlp1_markings_count_and_the_strictest_marking_wins() -> None:
    """A federation review: an object marked with the stix2 library's TLP_RED (TLP 1.0) beside
    TLP 2.0 CLEAR was taken as CLEAR and served to a shipping terminal; TLP 1.0 RED alone was
    taken as the default AMBER+STRICT; TLP 1.0 WHITE in the community was refused for want of
    a group."""
    import stix2

    red_and_clear = dict(NOTE, object_marking_refs=[stix2.TLP_RED.id, TLP_MARKING_IDS[Tlp.CLEAR]])
    for obj in (red_and_clear, dict(NOTE, object_marking_refs=[stix2.TLP_RED.id])):
        with pytest.raises(InputError, match="TLP:RED needs named recipients"):
            sharing_of(obj, "be-us")
    amber = dict(NOTE, object_marking_refs=[TLP_MARKING_IDS[Tlp.GREEN], stix2.TLP_AMBER.id])
    assert sharing_of(amber, "be-us").tlp == Tlp.AMBER
    assert sharing_of(dict(NOTE, object_marking_refs=[stix2.TLP_WHITE.id]), None).tlp == Tlp.CLEAR
    assert sharing_of(dict(NOTE, object_marking_refs=[stix2.TLP_GREEN.id]), None).tlp == Tlp.GREEN
    # terms set by Scheldt replace the TLP 1.0 marking too, so a later marking is not overruled
    marked = with_sharing(dict(NOTE, object_marking_refs=[stix2.TLP_AMBER.id]), Sharing("other", Tlp.GREEN, None))
    assert marked["object_marking_refs"] == [TLP_MARKING_IDS[Tlp.GREEN]]


def test_ingest_keeps_good_objects_names_bad_ones_and_is_idempotent(engine: Engine) -> None:
    good = with_sharing(NOTE, Sharing("other", Tlp.AMBER, "be-us", "H1", "A", "1"))
    broken = {"type": "note", "spec_version": "2.1", "id": "note--nonsense", "created": "x"}
    # STIX 2.0 (no spec_version) was taken and served as 2.1 (a federation review)
    old = {k: v for k, v in with_sharing(NOTE, Sharing("other", Tlp.AMBER, "be-us")).items() if k != "spec_version"}
    old["id"] = "note--7b1c2d3e-4f50-4a61-8b72-9c8d7e6f5a40"
    with unit_of_work(engine) as uow:
        uow.accounts.add_organisation(Organisation("be-customs", "BE", OrgKind.AGENCY), NOW)
        report = ingest_objects(uow, [good, broken, 7, old], "be-customs", "local", None, NOW)
    assert [a[0] for a in report.added] == [NOTE["id"]]
    assert [f[0] for f in report.failed] == ["note--nonsense", "objects[2]", old["id"]]
    assert "not valid STIX 2.1" in report.failed[0][1]
    assert report.failed[2][1].endswith("spec_version: missing: a STIX 2.1 object names its spec_version, '2.1' "
                                        "(one without it is STIX 2.0)")
    with unit_of_work(engine) as uow:
        again = ingest_objects(uow, [good], "be-customs", "local", None, NOW)
        assert (again.added, again.known) == ([], [(NOTE["id"], NOTE["modified"])])
        assert uow.exchange.count() == 1


#: The note with a summary (``abstract``, a property STIX does not require of a note).
ABSTRACTED = NOTE | {"abstract": "informant: the consignee is a front"}


def _served_green_with_red_abstract(engine: Engine, markings: list[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    """The abstracted note, GREEN with ``markings`` (its abstract RED for us-cbp's liaison), as
    stored here: (as stored, as the liaison is served it, as another agency is served it)."""
    obj = with_sharing(ABSTRACTED, Sharing("alert", Tlp.GREEN, None))
    obj["granular_markings"] = markings
    obj["extensions"][next(iter(obj["extensions"]))]["recipients"] = ["us-cbp/liaison"]
    with unit_of_work(engine) as uow:
        uow.accounts.add_organisation(Organisation("be-customs", "BE", OrgKind.AGENCY), NOW)
        ingest_objects(uow, [obj], "be-customs", "local", None, NOW)
        stored = uow.exchange.page(None)[0]
        liaison = Requester("us-cbp", "agency", None, "liaison", frozenset())
        other = Requester("nl-customs", "agency", None, "analyst", frozenset())
        return obj, served(uow, liaison, stored), served(uow, other, stored)


def test_fields_under_a_stricter_granular_marking_are_removed(engine: Engine) -> None:
    _, seen, hidden = _served_green_with_red_abstract(
        engine, [{"marking_ref": TLP_MARKING_IDS[Tlp.RED], "selectors": ["abstract"]}])
    assert seen["abstract"] == ABSTRACTED["abstract"]
    assert "abstract" not in hidden and "granular_markings" not in hidden and hidden["id"] == NOTE["id"]
    assert hidden["content"] == NOTE["content"]


def test_removing_a_field_keeps_the_other_fields_markings(engine: Engine) -> None:
    """A STIX review: a statement and a ``lang`` marking selecting a withheld field and one still
    served were dropped whole, so the served field lost its statement and its language."""
    statement = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
    obj, seen, hidden = _served_green_with_red_abstract(engine, [
        {"marking_ref": TLP_MARKING_IDS[Tlp.RED], "selectors": ["abstract"]},
        {"marking_ref": statement, "selectors": ["abstract", "content"]},
        {"lang": "nl", "selectors": ["content", "abstract"]}])
    assert seen["granular_markings"] == obj["granular_markings"]
    assert "abstract" not in hidden and hidden["content"] == NOTE["content"]
    assert hidden["granular_markings"] == [{"marking_ref": statement, "selectors": ["content"]},
                                           {"lang": "nl", "selectors": ["content"]}]


def test_a_required_property_cannot_be_marked_narrower_than_its_object(engine: Engine) -> None:
    """An exchange review: an indicator whose pattern, name and description were marked RED inside
    an object stored AMBER+STRICT was served to the rest of the group without its pattern, which
    no STIX reader parses, and with nothing to say so. A property the type requires (STIX 2.1),
    or one every object keeps (id, times, markings, sharing terms), cannot be marked narrower
    than its object; at its object's level or wider, or over another property, it can."""
    red = TLP_MARKING_IDS[Tlp.RED]
    indicator = {"type": "indicator", "spec_version": "2.1", "id": "indicator--7e1c7a52-8f0e-4c55-9b0e-2f3d4c5b6a71",
                 "created": "2026-03-01T08:00:00.000Z", "modified": "2026-03-01T08:00:00.000Z", "name": "front",
                 "pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix",
                 "valid_from": "2026-03-01T08:00:00.000Z"}
    cases = [(indicator, Tlp.AMBER_STRICT, ["name", "pattern", "description"], red,
              "pattern is required of every indicator and cannot be marked TLP:RED inside an object marked "
              "TLP:AMBER+STRICT: its readers would get the object without it (mark the whole object TLP:RED instead)"),
             (NOTE, Tlp.GREEN, ["content"], red, "content is required of every note"),
             (NOTE, Tlp.GREEN, ["created_by_ref"], TLP_MARKING_IDS[Tlp.AMBER],
              "created_by_ref is required of every note"),
             (NOTE, Tlp.AMBER, ["content"], TLP_MARKING_IDS[Tlp.GREEN], None),  # wider: nothing withheld
             (indicator, Tlp.AMBER_STRICT, ["name"], red, None)]
    for base, tlp, selectors, ref, why in cases:
        obj = with_sharing(base, Sharing("alert", tlp, None if tlp == Tlp.GREEN else "be-us"))
        obj["granular_markings"] = [{"marking_ref": ref, "selectors": selectors}]
        if ref == red:
            obj["extensions"][next(iter(obj["extensions"]))]["recipients"] = ["us-cbp/liaison"]
        if why is None:
            sharing_of(obj, None)
            continue
        with pytest.raises(InputError) as refused:
            sharing_of(obj, None)
        assert refused.value.where == "object.granular_markings.0.selectors" and refused.value.why.startswith(why)


def test_a_field_under_a_tlp1_red_marking_is_removed_too(engine: Engine) -> None:
    """A partner's field marked with STIX's TLP 1.0 RED definition was served in full to every
    agency (attack review); it is read as TLP 2.0 RED."""
    import stix2

    obj = with_sharing(ABSTRACTED, Sharing("alert", Tlp.GREEN, None))
    obj["granular_markings"] = [{"marking_ref": stix2.TLP_RED.id, "selectors": ["abstract"]}]
    with unit_of_work(engine) as uow:
        uow.accounts.add_organisation(Organisation("be-customs", "BE", OrgKind.AGENCY), NOW)
        ingest_objects(uow, [obj], "be-customs", "local", None, NOW)
        stored = uow.exchange.page(None)[0]
        hidden = served(uow, Requester("fr-douane", "agency", None, "analyst", frozenset()), stored)
        own = served(uow, Requester("be-customs", "agency", None, "analyst", frozenset()), stored)
    assert "abstract" not in hidden and hidden["id"] == NOTE["id"]
    assert own["abstract"] == ABSTRACTED["abstract"]


def test_malformed_sharing_terms_fail_their_object_only(engine: Engine) -> None:
    """A hostile or careless partner's sharing extension with values of the wrong type or size
    fails that object, named with where and why; the envelope's good objects are kept (these
    used to raise AttributeError or a database error and lose the whole envelope or page)."""
    good = with_sharing(NOTE, Sharing("other", Tlp.AMBER, "be-us", "H1", "A", "1"))
    ext_id = next(iter(good["extensions"]))

    def bad(n: int, **terms: object) -> dict[str, object]:
        obj = with_sharing(dict(NOTE, id=f"note--6a0b1f4e-5c1b-4b7e-9a77-1d2c3b4a5f{n:02d}"),
                           Sharing("other", Tlp.AMBER, "be-us"))
        obj["extensions"][ext_id].update(terms)
        return obj

    red = TLP_MARKING_IDS[Tlp.RED]
    broken = [bad(1, sharing_group=["be-us"]), bad(2, sharing_group={"a": 1}), bad(3, sharing_group=5),
              bad(4, sharing_group="g" * 65), bad(5, recipients="us-cbp/liaison"),
              dict(bad(6, recipients=["us-cbp/" + "u" * 65]), object_marking_refs=[red]),
              bad(7, handling_code="H1\x00"), bad(8, valid_until="0001-01-01T00:00:00+05:00"),
              dict(bad(9), extensions={ext_id: "amber please"})]
    with unit_of_work(engine) as uow:
        uow.accounts.add_organisation(Organisation("be-customs", "BE", OrgKind.AGENCY), NOW)
        report = ingest_objects(uow, [good, *broken], "be-customs", "local", "be-us", NOW)
    assert [a[0] for a in report.added] == [NOTE["id"]]
    failed = dict(report.failed)
    assert list(failed) == [b["id"] for b in broken]
    assert all(".extensions" in why for why in failed.values()), failed
    with unit_of_work(engine) as uow:
        assert uow.exchange.count() == 1
    with pytest.raises(InputError, match="extensions"):
        sharing_of(dict(NOTE, extensions=["not", "a", "dictionary"]), "be-us")


def test_ids_and_types_longer_than_the_store_holds_are_refused_not_cut(engine: Engine) -> None:
    """STIX allows types of up to 250 characters; the store keeps ids of 100 and types of 64.
    Two objects of a long custom type used to be cut to one id, so the second was taken for a
    version of the first (and dropped as already stored, or refused as another's object)."""
    kind = "x-" + "long" * 30
    first, second = ({"type": kind, "spec_version": "2.1", "id": f"{kind}--{u}", "created": NOTE["created"],
                      "modified": NOTE["modified"], "name": n, "object_marking_refs": [TLP_MARKING_IDS[Tlp.GREEN]]}
                     for u, n in (("0f2c7a1e-3a52-4e4e-9a44-2f6c3f1d9e11", "one"),
                                  ("1b2c7a1e-3a52-4e4e-9a44-2f6c3f1d9e12", "two")))
    with unit_of_work(engine) as uow:
        uow.accounts.add_organisation(Organisation("be-customs", "BE", OrgKind.AGENCY), NOW)
        report = ingest_objects(uow, [first, second, NOTE], "be-customs", "local", "be-us", NOW)
    assert [a[0] for a in report.added] == [NOTE["id"]] and report.known == []
    assert [f[0] for f in report.failed] == [first["id"], second["id"]]
    assert all("characters" in why for _, why in report.failed)


def test_an_object_nested_deeper_than_the_store_writes_fails_alone(engine: Engine) -> None:
    """A custom property nested 300 deep passed the STIX checks and then failed the JSON
    writer of the store (orjson stops at 255 levels), losing the whole envelope."""
    good = with_sharing(NOTE, Sharing("other", Tlp.AMBER, "be-us", "H1", "A", "1"))
    deep = dict(good, id="note--6a0b1f4e-5c1b-4b7e-9a77-1d2c3b4a5f61", x_nested=[])
    inner = deep["x_nested"]
    for _ in range(300):
        inner.append([])
        inner = inner[0]
    with unit_of_work(engine) as uow:
        uow.accounts.add_organisation(Organisation("be-customs", "BE", OrgKind.AGENCY), NOW)
        report = ingest_objects(uow, [deep, good], "be-customs", "local", None, NOW)
    assert [a[0] for a in report.added] == [NOTE["id"]]
    assert [f[0] for f in report.failed] == [deep["id"]] and "levels" in report.failed[0][1]


def _reference_depth(value: object) -> int:
    """Nesting depth by plain recursion: a scalar 0, an empty list or object 1."""
    if isinstance(value, dict):
        return 1 + max((_reference_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_reference_depth(v) for v in value), default=0)
    return 0


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=3),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner, max_size=3),
                     max_leaves=40)


@given(_JSON, st.integers(min_value=0, max_value=80))
@settings(max_examples=200, deadline=None)
def test_nesting_depth_is_read_as_recursion_reads_it_up_to_the_limit(value: object, wrap: int) -> None:
    """The iterative depth walk (the envelope check before stix2) agrees with plain recursion,
    up to MAX_DEPTH + 1, where it stops counting."""
    for _ in range(wrap):
        value = [value] if wrap % 2 else {"x": value}
    assert _depth(value) == min(_reference_depth(value), MAX_DEPTH + 1)


def test_one_envelope_stored_by_four_pulls_at_once_is_stored_once(engine: Engine) -> None:
    # a concurrency review: two `peer pull`s of one peer at once on SQLite both found the objects new,
    # and the second failed on the store's unique key (a traceback, the peer marked as failed)
    import threading
    import uuid
    from concurrent.futures import ThreadPoolExecutor

    with unit_of_work(engine) as uow:
        uow.accounts.add_organisation(Organisation("be-customs", "BE", OrgKind.AGENCY), NOW)
    for _ in range(3):
        notes = [with_sharing(dict(NOTE, id=f"note--{uuid.uuid4()}"), Sharing("other", Tlp.GREEN, None))
                 for _ in range(40)]
        start = threading.Barrier(4)

        def pull(_: int, notes: list = notes, start: threading.Barrier = start) -> tuple[int, int, int]:
            start.wait()
            with unit_of_work(engine) as uow:
                report = ingest_objects(uow, notes, "be-customs", "peer:us", None, NOW)
            return len(report.added), len(report.known), len(report.failed)

        with ThreadPoolExecutor(4) as pool:
            reports = list(pool.map(pull, range(4)))
        assert sum(r[0] for r in reports) == 40 and sum(r[1] for r in reports) == 120
        assert [r[2] for r in reports] == [0, 0, 0, 0]
    with unit_of_work(engine) as uow:
        assert uow.exchange.count() == 120


def test_a_cyber_observable_is_one_version_and_comes_back_as_sent(engine: Engine) -> None:
    """An exchange review's ipv4-addr (a STIX 2.1 cyber-observable: no created nor modified, its
    id made from its value) was refused on TAXII Add Objects as "an object version needs
    modified". It is stored as one version at a fixed time, a re-send is known, and it is served
    as sent; an object of another type without a version is still refused."""
    ip = with_sharing({"type": "ipv4-addr", "spec_version": "2.1",
                       "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "value": "198.51.100.3"},
                      Sharing("other", Tlp.AMBER, "be-us"))
    with unit_of_work(engine) as uow:
        uow.accounts.add_organisation(Organisation("be-customs", "BE", OrgKind.AGENCY), NOW)
        uow.exchange.add_group("be-us", "BE-US", "be-customs", ["us-cbp"], NOW)
        first = ingest_objects(uow, [ip], "be-customs", "local", None, NOW)
        again = ingest_objects(uow, [ip], "be-customs", "local", None, NOW)
        unversioned = ingest_objects(uow, [{k: v for k, v in NOTE.items() if k not in ("created", "modified")}],
                                     "be-customs", "local", "be-us", NOW)
        [stored] = uow.exchange.page(None)
        got = served(uow, Requester("us-cbp", "agency", None, "liaison", frozenset()), stored)
    assert [(i, v) for i, v, _ in first.added] == [(ip["id"], "1970-01-01T00:00:00.000Z")] and first.failed == []
    assert again.known == [(ip["id"], "1970-01-01T00:00:00.000Z")] and again.added == []
    assert got == ip
    assert unversioned.failed == [(NOTE["id"], f"{NOTE['id']}.modified: an object version needs modified (or created)")]


def test_standard_tlp_definitions_as_tools_write_them_pass_and_one_saying_more_is_refused() -> None:
    """A regression review: OpenCTI's TLP definitions (``modified``, ``object_marking_refs: []``,
    an ``x_opencti_`` property, its own extension) were refused as not the standard one, and a
    partner's TAXII POST or pull lost them; a description saying "Publish freely" must not pass."""
    from scheldt.domain.exchange import TLP_MARKING_IDS, Tlp, tlp_marking_definition
    from scheldt.exchange.objects import check_standard_marking

    opencti = {**tlp_marking_definition(Tlp.GREEN), "modified": "2022-10-01T00:00:00.000Z", "object_marking_refs": [],
               "x_opencti_order": 2, "x_opencti_color": "#2e7d32"}
    opencti["extensions"] = {**opencti["extensions"], "extension-definition--ea279b3e-5c71-4632-ac08-831c66a786ba": {
        "extension_type": "property-extension", "order": 2}}
    check_standard_marking(opencti, "objects.0")
    stix2_white = {"type": "marking-definition", "spec_version": "2.1", "id": "marking-definition--613f2e26-407d-48c7-"
                   "9eca-b8e91df99dc9", "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp",
                   "name": "TLP:WHITE", "definition": {"tlp": "white"}}
    check_standard_marking(stix2_white, "objects.1")
    said = {**tlp_marking_definition(Tlp.RED), "description": "Publish freely"}
    with pytest.raises(InputError, match=r"objects\.2\.description: .*standard TLP:RED \(TLP 2\.0\) marking that says "
                                         r"something else \(description\)"):
        check_standard_marking(said, "objects.2")
    assert TLP_MARKING_IDS[Tlp.RED] == said["id"]
