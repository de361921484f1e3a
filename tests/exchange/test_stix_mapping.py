"""Shared items as STIX 2.1: Scheldt's extension definitions, the mapping of each item kind,
round trips that lose nothing (property-based), and bundles that pass stix2-validator.

Validator options (:data:`VALIDATION`): STIX 2.1, every check on (all SHOULD checks, as
stix2-validator runs them by default, plus ``enforce_refs``: relationships must point inside
the bundle), no errors allowed. The one warning allowed is ``uuid-check`` ({103}: "not a valid
UUIDv4 ID") on ids that are deliberately UUIDv5 — Scheldt's identity and extension definitions,
organisations' identities (``identity_id``: the same id on every node) and the parts of an item
(ids derived from the item's id so that a new version of an item versions its parts). §2.9 of
STIX 2.1 says SHOULD, not MUST, for UUIDv4; every other id (an item's main object, a bundle)
is a UUIDv4 and is held to it.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import uuid
from datetime import UTC, datetime

import pytest
import stix2
from hypothesis import HealthCheck, given, settings
from stix2validator import ValidationOptions, validate_instance

from scheldt.domain.exchange import TLP_MARKING_IDS, Tlp
from scheldt.errors import InputError
from scheldt.exchange.items import (
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
from scheldt.exchange.objects import NAMESPACE, SCHELDT_IDENTITY_ID, SHARING_EXTENSION_ID, Sharing, identity_id, sharing_of
from scheldt.exchange.stix_mapping import (
    ALERT_EXTENSION_ID,
    CONSIGNMENT_EXTENSION_ID,
    CONTAINER_EXTENSION_ID,
    SEIZURE_EXTENSION_ID,
    VESSEL_CALL_EXTENSION_ID,
    WATCH_EXTENSION_ID,
    bundle,
    extension_definitions,
    from_stix,
    items_in,
    part_id,
    to_stix,
    watch_pattern,
)
from tests.exchange.strategies import items

VALIDATION = ValidationOptions(version="2.1", enforce_refs=True)
T = datetime(2026, 3, 1, 8, 30, 0, 123000, tzinfo=UTC)
UNTIL = datetime(2026, 6, 1, tzinfo=UTC)
UUID4_WARNING = re.compile(r"^([a-z0-9-]+--[0-9a-f-]{36}): \{103\} Given ID value \1 is not a valid UUIDv4 ID\.$")


def meta(kind: str, main_type: str, tlp: Tlp = Tlp.AMBER, group: str | None = "be-us",
         recipients: tuple[tuple[str, str], ...] = ()) -> Meta:
    return Meta(f"{main_type}--{uuid.uuid4()}", identity_id("be-customs"), T, T,
                Sharing(kind, tlp, group, "H2: no court use", "B", "2", recipients, T, UNTIL))


def example_alert() -> Alert:
    return Alert(meta("alert", "grouping"), "Container MSCU1234566: risk score 64 of 100",
                 (Reason("high_risk_port", "loaded at ECGYE (Guayaquil), on the high-risk list since 2020-01-01"),
                  Reason("watchlist_match", "consignee Fresh Fruit BV matches Fresh Fruit B.V. (score 96)")),
                 64.0, "MSCU1234566 / HLCUGYE2601 / 602E", Container("MSCU1234566", "45R1", ("EC123456",)),
                 Consignment("HLCUGYE2601", "master", "HLC", "ECGYE", "BEANR", "Bananera del Sur S.A.",
                             "Fresh Fruit BV", "Fresh Fruit BV", ("080390",)),
                 VesselCall("9321483", "Cap San Nicolas", "602E", "BEANR", T),
                 (Party("Fresh Fruit BV", "company", "consignee", "Kaai 1, 2030 Antwerpen", "BE"),))


def check_bundle(objects: list[dict]) -> None:
    """The bundle of ``objects`` passes stix2-validator (see the module docstring)."""
    b = bundle(objects, {"be-customs": "Belgian Customs", "us-cbp": "US CBP", "nl-customs": "Dutch Customs"})
    result = validate_instance(json.loads(json.dumps(b)), VALIDATION)
    assert [e.message for e in result.errors] == []
    for warning in result.warnings:
        m = UUID4_WARNING.match(warning)
        assert m, warning
        assert uuid.UUID(m.group(1).split("--")[1]).version == 5, warning
    assert uuid.UUID(b["id"].split("--")[1]).version == 4


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(item=items)
def test_round_trip_stix_scheldt_stix_loses_nothing(item) -> None:
    objects = to_stix(item)
    stored = json.loads(json.dumps(objects))  # as a store keeps them
    assert from_stix(stored, item.meta.stix_id) == item
    assert to_stix(from_stix(stored)) == objects
    assert objects[0]["id"] == item.meta.stix_id
    for obj in objects:
        assert obj["created_by_ref"] == item.meta.created_by
        assert obj["object_marking_refs"] == [TLP_MARKING_IDS[item.meta.sharing.tlp]]
        assert sharing_of(obj, None) == item.meta.sharing
        assert stix2.parse(obj, allow_custom=False, version="2.1").id == obj["id"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(item=items, other=items)
def test_every_bundle_passes_stix2_validator(item, other) -> None:
    check_bundle(to_stix(item) + to_stix(other))


def test_scheldt_extension_definitions_are_new_sdos_stix2_parses() -> None:
    defs = {d["id"]: d for d in extension_definitions()}
    assert set(defs) == {SHARING_EXTENSION_ID, CONTAINER_EXTENSION_ID, CONSIGNMENT_EXTENSION_ID,
                         VESSEL_CALL_EXTENSION_ID, SEIZURE_EXTENSION_ID, ALERT_EXTENSION_ID, WATCH_EXTENSION_ID}
    assert CONTAINER_EXTENSION_ID == f"extension-definition--{uuid.uuid5(NAMESPACE, 'container-1.0')}"
    for ext_id in (CONTAINER_EXTENSION_ID, CONSIGNMENT_EXTENSION_ID, VESSEL_CALL_EXTENSION_ID, SEIZURE_EXTENSION_ID):
        assert defs[ext_id]["extension_types"] == ["new-sdo"]
    for d in defs.values():
        assert d["created_by_ref"] == SCHELDT_IDENTITY_ID
        assert isinstance(stix2.parse(d, version="2.1"), stix2.v21.ExtensionDefinition)
    check_bundle([])
    # a Scheldt object is a registered stix2 class (ingest's stix2.parse checks its properties), not a plain dict
    seizure = to_stix(SeizureReport(meta("seizure-report", "scheldt-seizure"),
                                    Seizure("cocaine", 120.5, "behind_doors", "risk", T, "ECGYE", "EC")))[0]
    parsed = stix2.parse(seizure, allow_custom=True, version="2.1")
    assert not isinstance(parsed, dict) and parsed.mass_kg == 120.5
    with pytest.raises(stix2.exceptions.InvalidValueError):
        stix2.parse(dict(seizure, selection="hunch"), allow_custom=True, version="2.1")


def test_an_alert_is_a_grouping_of_its_container_consignment_vessel_call_and_parties() -> None:
    a = example_alert()
    grouping, container, consignment, vessel, party, place, located = to_stix(a)
    assert (grouping["type"], grouping["context"], grouping["name"]) == ("grouping", "suspicious-activity", a.title)
    assert grouping["object_refs"] == [container["id"], consignment["id"], vessel["id"], party["id"]]
    assert grouping["description"] == (
        "Reasons:\n- loaded at ECGYE (Guayaquil), on the high-risk list since 2020-01-01 (high_risk_port)\n"
        "- consignee Fresh Fruit BV matches Fresh Fruit B.V. (score 96) (watchlist_match)\nRisk score: 64 of 100")
    assert grouping["extensions"][ALERT_EXTENSION_ID]["reasons"][1] == {
        "code": "watchlist_match", "text": "consignee Fresh Fruit BV matches Fresh Fruit B.V. (score 96)"}
    assert container == container | {"type": "scheldt-container", "number": "MSCU1234566", "size_type": "45R1",
                                     "seals": ["EC123456"], "id": part_id(a.meta.stix_id, "scheldt-container", "container")}
    assert container["extensions"][CONTAINER_EXTENSION_ID] == {"extension_type": "new-sdo"}
    assert (consignment["document_number"], consignment["port_of_loading"], consignment["hs_codes"]) == (
        "HLCUGYE2601", "ECGYE", ["080390"])
    assert (vessel["imo"], vessel["arrival"]) == ("9321483", "2026-03-01T08:30:00.123Z")
    assert (party["name"], party["identity_class"], party["roles"], party["contact_information"]) == (
        "Fresh Fruit BV", "organization", ["consignee"], "Kaai 1, 2030 Antwerpen")
    assert (place["country"], located["relationship_type"], located["source_ref"], located["target_ref"]) == (
        "BE", "located-at", party["id"], place["id"])
    ext = grouping["extensions"][SHARING_EXTENSION_ID]
    assert ext == {"extension_type": "property-extension", "kind": "alert", "handling_code": "H2: no court use",
                   "reliability": "B", "credibility": "2", "sharing_group": "be-us",
                   "valid_from": "2026-03-01T08:30:00.123Z", "valid_until": "2026-06-01T00:00:00.000Z"}
    check_bundle(to_stix(a))


def test_watchlist_entries_are_indicators_whose_pattern_says_what_to_look_for() -> None:
    m = meta("watchlist-entry", "indicator")
    company = WatchEntry(m, "company", "front company (case BE-2026-17)", "O'Brien Trading", ("OBT Ltd",), country="EC")
    assert watch_pattern(company) == (
        "[scheldt-consignment:shipper = 'O\\'Brien Trading' OR scheldt-consignment:consignee = 'O\\'Brien Trading' OR "
        "scheldt-consignment:notify_party = 'O\\'Brien Trading' OR scheldt-consignment:shipper = 'OBT Ltd' OR "
        "scheldt-consignment:consignee = 'OBT Ltd' OR scheldt-consignment:notify_party = 'OBT Ltd']")
    seals = WatchEntry(meta("watchlist-entry", "indicator"), "seal-range", "stolen seals", seal_from="SL000100",
                       seal_to="SL000200")
    assert watch_pattern(seals) == "[scheldt-container:seals[*] >= 'SL000100' AND scheldt-container:seals[*] <= 'SL000200']"
    route = WatchEntry(meta("watchlist-entry", "indicator"), "route", "rip-on route", route=("ECGYE", "PAONX", "BEANR"))
    assert watch_pattern(route) == ("[scheldt-vessel-call:unlocode = 'ECGYE'] FOLLOWEDBY "
                                    "[scheldt-vessel-call:unlocode = 'PAONX'] FOLLOWEDBY "
                                    "[scheldt-vessel-call:unlocode = 'BEANR']")
    indicator, = to_stix(company)
    assert (indicator["name"], indicator["description"], indicator["pattern_type"]) == (
        "Watchlist company O'Brien Trading", "front company (case BE-2026-17)", "stix")
    assert (indicator["valid_from"], indicator["valid_until"]) == ("2026-03-01T08:30:00.123Z", "2026-06-01T00:00:00.000Z")
    assert indicator["extensions"][WATCH_EXTENSION_ID] == {
        "extension_type": "property-extension", "entry_kind": "company", "name": "O'Brien Trading",
        "aliases": ["OBT Ltd"], "country": "EC"}
    check_bundle(to_stix(company) + to_stix(seals) + to_stix(route))


def test_a_seizure_refers_to_its_container_and_consignment_and_a_sighting_reports_the_result() -> None:
    report = SeizureReport(meta("seizure-report", "scheldt-seizure"),
                           Seizure("cocaine", 412.0, "cargo_packaging", "exploration", T, "ECGYE", "EC", "in banana boxes"),
                           Container("MSCU1234566"), Consignment("HLCUGYE2601", "house"))
    seizure, container, consignment = to_stix(report)
    assert (seizure["type"], seizure["mass_kg"], seizure["selection"], seizure["seized_at"]) == (
        "scheldt-seizure", 412.0, "exploration", "2026-03-01T08:30:00.123Z")
    assert (seizure["container_ref"], seizure["consignment_ref"]) == (container["id"], consignment["id"])
    assert "vessel_call_ref" not in seizure and consignment["document_type"] == "house"
    red = meta("sighting", "sighting", Tlp.RED, None, (("be-customs", "officer"),))
    sighting, = to_stix(Sighting(red, report.meta.stix_id, "seizure", T, (identity_id("us-cbp"),), 1, "412 kg found"))
    assert (sighting["sighting_of_ref"], sighting["where_sighted_refs"], sighting["count"], sighting["labels"]) == (
        report.meta.stix_id, [identity_id("us-cbp")], 1, ["scheldt-result:seizure"])
    assert sighting["extensions"][SHARING_EXTENSION_ID]["recipients"] == ["be-customs/officer"]
    check_bundle(to_stix(report) + [sighting])
    # its method, when said, travels as "method"; a partner's own word of at most 64 characters
    said = dataclasses.replace(report, seizure=dataclasses.replace(report.seizure, method="cover_load"))
    assert to_stix(said)[0]["method"] == "cover_load" and "method" not in seizure
    flood = dataclasses.replace(report, seizure=dataclasses.replace(report.seizure, method="Z" * 65))
    with pytest.raises(InputError) as caught:  # a regression review's 20,000 characters filled the exchange list
        to_stix(flood)
    assert (caught.value.where, caught.value.why) == ("seizure.method", "65 characters; at most 64")
    # the seals read on the box travel as a list, through STIX and back (a search team review)
    sealed = dataclasses.replace(report, seizure=dataclasses.replace(report.seizure, seals_found=("SL1", "SL-2")))
    objects = to_stix(sealed)
    assert objects[0]["seals_found"] == ["SL1", "SL-2"] and "seals_found" not in seizure
    check_bundle(objects)
    assert from_stix(objects, sealed.meta.stix_id).seizure.seals_found == ("SL1", "SL-2")


def test_from_stix_refuses_objects_it_would_not_give_back() -> None:
    objects = to_stix(example_alert())
    edited = copy.deepcopy(objects)
    edited[0]["description"] = "rewritten by another tool"
    with pytest.raises(InputError, match="description") as err:
        from_stix(edited)
    assert err.value.why == "holds what a Scheldt item does not keep; it would be lost"
    extra = copy.deepcopy(objects)
    extra[1]["revoked"] = True
    with pytest.raises(InputError) as err:
        from_stix(extra)
    assert err.value.where == f"{objects[1]['id']}.revoked"
    with pytest.raises(InputError, match="not among the objects given"):
        from_stix([objects[0]])
    foreign = {k: v for k, v in objects[0].items() if k != "extensions"}
    with pytest.raises(InputError, match="not a Scheldt alert"):
        from_stix([foreign], foreign["id"])
    found, failed = items_in(edited + to_stix(example_alert()))
    assert len(found) == 1 and failed == [(objects[0]["id"], f"{objects[0]['id']}.description: holds what a "
                                           "Scheldt item does not keep; it would be lost")]


def test_items_are_checked_before_they_become_stix() -> None:
    m = meta("watchlist-entry", "indicator")
    cases = [
        (WatchEntry(m, "container", "x", container_number="MSCU123456"), "container_number"),
        (WatchEntry(m, "seal-range", "x", seal_from="SL000100", seal_to="XX000200"), "seal_to"),
        (WatchEntry(m, "seal-range", "x", seal_from="SL000300", seal_to="SL000200"), "seal_to"),
        (WatchEntry(m, "route", "x", route=("ECGYE",)), "route"),
        (WatchEntry(m, "container", "x", name="Acme", container_number="MSCU1234566"), "name"),
        (WatchEntry(m, "company", "", name="Acme"), "note"),
        (Alert(meta("alert", "grouping"), "t", (Reason("r", "why"),)), "alert"),
        (Alert(meta("alert", "grouping"), "t", (), container=Container("MSCU1234566")), "reasons"),
        (Alert(meta("alert", "grouping"), "t", (Reason("r", "why"),), 101.0, container=Container("MSCU1234566")), "score"),
        (Alert(meta("watchlist-entry", "grouping"), "t", (Reason("r", "why"),), container=Container("MSCU1234566")),
         "sharing.kind"),
        (SeizureReport(meta("seizure-report", "scheldt-seizure"), Seizure("sugar", 1.0, "in_cargo", "risk", T)),
         "seizure.drug_type"),
        (Sighting(meta("sighting", "sighting"), "grouping--6a0b1f4e-5c1b-4b7e-9a77-1d2c3b4a5f60", "arrested", T,
                  (identity_id("us-cbp"),)), "result"),
    ]
    for item, where in cases:
        with pytest.raises(InputError) as err:
            to_stix(item)
        assert err.value.where == where, (item, err.value)
    late = Meta(m.stix_id, m.created_by, T, T, Sharing("watchlist-entry", Tlp.GREEN, None, valid_from=UNTIL, valid_until=T))
    with pytest.raises(InputError, match="after the start of validity"):
        to_stix(WatchEntry(late, "container", "x", container_number="MSCU1234566"))


def test_a_bundle_carries_the_markings_used_and_the_identities_it_names() -> None:
    red = to_stix(Sighting(meta("sighting", "sighting", Tlp.RED, None, (("be-customs", "officer"),)),
                           "grouping--6a0b1f4e-5c1b-4b7e-9a77-1d2c3b4a5f60", "nothing_found", T, (identity_id("us-cbp"),)))
    green = to_stix(WatchEntry(meta("watchlist-entry", "indicator", Tlp.GREEN, None), "container", "x",
                               container_number="MSCU1234566"))
    b = bundle(red + green, {"us-cbp": "US Customs and Border Protection", "be-customs": "Belgian Customs",
                             "nl-customs": "Dutch Customs"})
    markings = [o["name"] for o in b["objects"] if o["type"] == "marking-definition"]
    identities = {o["name"] for o in b["objects"] if o["type"] == "identity"}
    assert sorted(markings) == ["TLP:GREEN", "TLP:RED"]
    assert identities == {"Scheldt", "US Customs and Border Protection", "Belgian Customs"}
    assert b["objects"][-2:] == red + green
