"""Shared items as MISP events through PyMISP: every item survives event → MISP JSON → event
(property-based), markings become MISP tags, and a MISP export reads back as a MISP export does.
(Export and import through the store, under the visibility policy: tests/workflows/test_share.py.)"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings

from scheldt.domain.exchange import Tlp
from scheldt.errors import InputError
from scheldt.exchange.items import Alert, Container, Meta, Reason
from scheldt.exchange.misp import DISTRIBUTION, TLP_TAGS, event_item, event_objects, events_json, item_event, read_events
from scheldt.exchange.objects import Sharing, identity_id
from scheldt.exchange.stix_mapping import to_stix
from tests.exchange.strategies import items

T = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(item=items)
def test_an_item_survives_misp_export_and_import(item) -> None:
    event = item_event(item, {identity_id("be-customs"): "be-customs"})
    back, = read_events(events_json([event]))
    assert event_item(back) == item
    assert event_objects(back) == to_stix(item)
    tags = {t.name for t in back.tags}
    assert TLP_TAGS[item.meta.sharing.tlp] in tags
    assert back.uuid == item.meta.stix_id.split("--")[1]
    assert back.Orgc.uuid == item.meta.created_by.split("--")[1]
    assert int(back.distribution) == DISTRIBUTION[item.meta.sharing.tlp]


def test_markings_and_evaluation_are_misp_tags() -> None:
    alert = Alert(Meta(f"grouping--{uuid.uuid4()}", identity_id("be-customs"), T, T,
                       Sharing("alert", Tlp.AMBER_STRICT, "be-us", 'H3 "eyes only"', "C", "3", (), T,
                               datetime(2026, 4, 1, tzinfo=UTC))),
                  "Container MSCU1234566", (Reason("officer", "consignee registered three weeks ago"),),
                  container=Container("MSCU1234566"))
    event = item_event(alert, {identity_id("be-customs"): "be-customs"})
    assert [t.name for t in event.tags] == [
        "tlp:amber+strict", 'scheldt:kind="alert"', 'scheldt:reliability="C"', 'scheldt:credibility="3"',
        'scheldt:handling-code="H3 \\"eyes only\\""', 'scheldt:sharing-group="be-us"',
        'scheldt:valid-from="2026-03-01T08:30:00.000Z"', 'scheldt:valid-until="2026-04-01T00:00:00.000Z"']
    assert (event.info, event.Orgc.name, event.distribution) == ("Container MSCU1234566", "be-customs", 0)
    assert [o.name for o in event.objects] == ["scheldt-alert", "scheldt-reason", "scheldt-container"]
    reason = event.objects[1]
    assert [(a.object_relation, a.value) for a in reason.attributes] == [
        ("code", "officer"), ("text", "consignee registered three weeks ago")]
    # MISP search exports, single events and lists of events all read
    data = json.loads(events_json([event]))
    # as MISP writes a search export: each event in its {"Event": ...} (an exchange review: the
    # wrapper was missing, and tools expecting MISP's shape read nothing)
    assert list(data["response"][0]) == ["Event"] and data["response"][0]["Event"]["uuid"] == event.uuid
    for text in (json.dumps(data), json.dumps(data["response"][0]), json.dumps(data["response"])):
        assert event_item(read_events(text)[0]) == alert


def test_an_unchanged_item_exports_the_same_event() -> None:
    """A review: every export of an unchanged store gave new object and attribute UUIDs, so a MISP
    receiving it twice would add every object again."""
    alert = Alert(Meta("grouping--6fa07e48-8218-4d06-b3ff-541512048952", identity_id("be-customs"), T, T,
                       Sharing("alert", Tlp.GREEN, None)), "Container MSCU1234566",
                  (Reason("officer", "why"), Reason("officer", "and why not")), container=Container("MSCU1234566"))
    first, again = json.loads(item_event(alert).to_json()), json.loads(item_event(alert).to_json())
    assert first == again
    uuids = [o["uuid"] for o in first["Object"]] + [a["uuid"] for o in first["Object"] for a in o["Attribute"]]
    assert len(set(uuids)) == len(uuids) == 4 + sum(len(o["Attribute"]) for o in first["Object"])  # 4 objects
    other = replace(alert, meta=replace(alert.meta, stix_id=f"grouping--{uuid.uuid4()}"))
    assert not set(uuids) & {o["uuid"] for o in json.loads(item_event(other).to_json())["Object"]}


def test_an_event_that_breaks_a_check_is_refused_with_where() -> None:
    alert = Alert(Meta(f"grouping--{uuid.uuid4()}", identity_id("be-customs"), T, T, Sharing("alert", Tlp.GREEN, None)),
                  "Container MSCU1234566", (Reason("officer", "why"),), container=Container("MSCU1234566"))
    data = json.loads(item_event(alert).to_json())
    red = dict(data, Tag=[t for t in data["Tag"] if not t["name"].startswith("tlp:")] + [{"name": "tlp:red"}])
    with pytest.raises(InputError, match="TLP:RED needs named recipients"):
        event_objects(read_events(json.dumps(red))[0])
    data["Object"][2]["Attribute"][0]["value"] = "MSCU12"
    with pytest.raises(InputError) as err:
        event_item(read_events(json.dumps({"Event": data}))[0])
    assert err.value.where == "container.number"


def test_a_creator_uuid_in_another_spelling_is_the_same_organisation_or_refused() -> None:
    """A MISP review: an event whose Orgc uuid was be-customs' written with braces or without
    hyphens became a note ``created_by_ref: identity--{02fdfe8d-...}``, which the check of
    known creators took for an unknown organisation, so an importing agency's note named the
    Belgians as its creator. The uuid is now written as STIX writes it, or refused."""
    from pymisp import MISPEvent, MISPOrganisation

    from scheldt.exchange.misp import foreign_note

    be = identity_id("be-customs")
    plain = be.split("--")[1]
    for spelling in (plain.upper(), "{" + plain + "}", plain.replace("-", ""), f"urn:uuid:{plain}"):
        event = MISPEvent()
        event.info, event.date, event.uuid = "a note", T.date(), str(uuid.uuid4())
        event.Orgc = MISPOrganisation()
        event.Orgc.uuid, event.Orgc.name = spelling, "someone"
        event.add_tag("tlp:clear")
        event.add_attribute("text", "hello")
        note = foreign_note(event, None, "nl-customs")
        assert note["created_by_ref"] == be and note["object_refs"] == [be], spelling
    event.Orgc.uuid = "not-a-uuid"
    with pytest.raises(InputError) as refused:
        foreign_note(event, None, "nl-customs")
    assert (refused.value.where, refused.value.why) == (f"event {event.uuid}.Orgc.uuid", "'not-a-uuid' is not a UUID")
