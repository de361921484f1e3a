"""The sharing API on the simulated store (SQLite and PostgreSQL): sharing groups, alerts,
seizure reports, watchlist entries that raise alerts on matching trips, feedback, and the shared
objects each requester may see (paged, audited)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from scheldt.api.paging import encode
from scheldt.exchange.objects import identity_id
from scheldt.store.audit import AuditLog
from scheldt.store.models import OrganisationRow
from tests.api.conftest import Service
from tests.builders import shift_day

UNTIL = (datetime.now(UTC) + timedelta(days=90)).isoformat()


@pytest.fixture(scope="module")
def api(service: Service) -> Iterator[Service]:
    """The service with the sharing group be-us (be-customs, us-cbp)."""
    assert "/api/v1/shared" in service.client.get("/openapi.json").json()["paths"]
    made = service.client.post("/api/v1/sharing-groups", headers=service.as_("officer"),
                               json={"id": "be-us", "name": "Belgium-US narcotics", "members": ["us-cbp"]})
    assert made.status_code == 201, made.text
    yield service


def shared(api: Service, user: str, **params: object) -> list[dict]:
    """Every shared object ``user`` may see, walked page by page."""
    out, cursor = [], None
    while True:
        page = api.client.get("/api/v1/shared", headers=api.as_(user), params={**params, "limit": 7,
                                                                              **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        out += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return out


def top_trip(api: Service) -> dict:
    return api.client.get("/api/v1/trips", headers=api.as_("officer"), params={"limit": 1}).json()["items"][0]


def test_sharing_groups_are_listed_for_members(api: Service) -> None:
    us = api.client.get("/api/v1/sharing-groups", headers=api.as_("us-officer")).json()["items"]
    assert [(g["id"], g["owner_org"], g["members"]) for g in us] == [("be-us", "be-customs", ["be-customs", "us-cbp"])]
    again = api.client.post("/api/v1/sharing-groups", headers=api.as_("officer"), json={"id": "be-us", "name": "x"})
    assert again.status_code == 409 and again.json()["error"]["why"] == "'be-us' already exists"
    bad = api.client.post("/api/v1/sharing-groups", headers=api.as_("officer"), json={"id": "Be_US", "name": "x"})
    assert (bad.status_code, bad.json()["error"]["where"]) == (400, "sharing group id")
    assert api.client.get("/api/v1/sharing-groups", headers=api.as_("carrier")).status_code == 403
    # a shipping line as a member would read the group's alerts, scores and reasons included
    with_carrier = api.client.post("/api/v1/sharing-groups", headers=api.as_("officer"),
                                   json={"id": "be-sea", "name": "x", "members": ["carrier-a"]})
    assert (with_carrier.status_code, with_carrier.json()["error"]["where"]) == (400, "members")
    # a partner agency defines no group on this node (an attack review's liaison made the group a
    # third agency's AMBER+STRICT entries were pulled under, with itself in it, and read them)
    squat = api.client.post("/api/v1/sharing-groups", headers=api.as_("us-officer"),
                            json={"id": "benelux", "name": "Benelux", "members": ["nl-customs"]})
    assert squat.status_code == 403 and "us-cbp is a partner agency on this node" in squat.json()["error"]["why"]
    assert with_carrier.json()["error"]["why"].startswith("carrier-a is not an agency: a sharing group is of agencies")


def test_an_alert_shared_again_as_it_was_is_a_200_audited_as_a_read(api: Service) -> None:
    """The last review: an identical re-share returned the alert shared before ("already": true)
    but answered 201 Created and was audited as a write, though nothing was written."""
    trip = top_trip(api)
    body = {"trip_id": trip["id"], "tlp": "amber+strict", "sharing_group": "be-us", "note": "said once"}
    first = api.client.post("/api/v1/alerts", headers=api.as_("officer"), json=body)
    again = api.client.post("/api/v1/alerts", headers=api.as_("officer"), json=body)
    with api.uow() as uow:
        log = AuditLog(uow.session)
        entries = [e.as_dict() for e in log.entries(after_seq=max(0, log.count() - 10), limit=10)]
    mine = [(e["kind"], e["payload"]["details"].get("already")) for e in entries
            if e["payload"]["object_kind"] == "shared-alert" and e["payload"]["object_id"] == first.json()["id"]]
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json() | {"already": True}
    assert mine == [("write", None), ("read", True)]


def test_an_alert_reaches_the_group_and_no_one_else(api: Service) -> None:
    trip = top_trip(api)
    body = {"trip_id": trip["id"], "tlp": "amber+strict", "sharing_group": "be-us", "handling_code": "H2", "reliability": "B",
            "credibility": "2", "valid_until": UNTIL, "note": "seen twice this month"}
    made = api.client.post("/api/v1/alerts", headers=api.as_("officer"), json=body)
    assert made.status_code == 201, made.text
    out = made.json()
    assert (out["kind"], out["tlp"], out["sharing_group"], out["trip_id"]) == ("alert", "amber+strict", "be-us",
                                                                              trip["id"])
    us = {o["id"]: o for o in shared(api, "us-officer")}
    grouping = us[out["id"]]
    assert (grouping["type"], grouping["owner"], grouping["reliability"], grouping["credibility"]) == (
        "grouping", "be-customs", "B", "2")
    assert grouping["object"]["name"].startswith(f"Container {trip['container_number']}")
    assert grouping["object"]["created_by_ref"] == identity_id("be-customs")
    assert "- seen twice this month (officer)" in grouping["object"]["description"]
    assert set(out["objects"]) <= set(us)
    for outsider in ("carrier", "terminal"):
        assert out["id"] not in {o["id"] for o in shared(api, outsider)}
    with api.uow() as uow:
        log = AuditLog(uow.session)
        entries = [e.as_dict() for e in log.entries(after_seq=max(0, log.count() - 40), limit=40)]
    writes = [e for e in entries if e["payload"]["object_kind"] == "shared-alert"]
    assert writes[-1]["payload"]["object_id"] == out["id"] and writes[-1]["payload"]["actor"] == "officer"
    reads = [e for e in entries if e["payload"]["object_kind"] == "shared-object-list"]
    assert {e["payload"]["actor"] for e in reads} >= {"us-officer", "carrier", "terminal"}
    # a RED alert's audit entry names whom it went to (new-user review: only "tlp": "red")
    red = api.client.post("/api/v1/alerts", headers=api.as_("officer"), json={
        "trip_id": trip["id"], "tlp": "red", "recipients": ["us-cbp/us-officer"], "note": "for the US desk only"})
    assert red.status_code == 201, red.text
    with api.uow() as uow:
        log = AuditLog(uow.session)
        last = [e.as_dict() for e in log.entries(after_seq=max(0, log.count() - 5), limit=5)
                if e.payload["object_kind"] == "shared-alert"][-1]
    assert last["payload"]["details"]["recipients"] == ["us-cbp/us-officer"]


def test_sharing_needs_an_agency_sharing_role_and_sound_terms(api: Service) -> None:
    trip = top_trip(api)
    for user in ("operator", "carrier", "admin"):
        refused = api.client.post("/api/v1/alerts", headers=api.as_(user), json={"trip_id": trip["id"], "tlp": "clear"})
        assert refused.status_code == 403, (user, refused.text)
    cases = [({"tlp": "amber+strict"}, 400, "sharing_group"), ({"tlp": "red"}, 400, "recipients"),
             ({"tlp": "amber+strict", "sharing_group": "nowhere"}, 400, "sharing_group"),
             # nor for shipping lines that are a member's clients (attack review: TLP:AMBER handed a
             # client carrier another carrier's score, reasons and customers)
             ({"tlp": "amber", "sharing_group": "be-us"}, 400, "tlp"),
             ({"tlp": "orange"}, 422, "body.tlp"), ({"tlp": "clear", "colour": "x"}, 422, "body.colour"),
             # an alert carries risk scores and reasons, never public (found by a new-user review:
             # shipping lines read them in a TLP:CLEAR alert)
             ({"tlp": "clear"}, 400, "tlp")]
    for extra, status, where in cases:
        r = api.client.post("/api/v1/alerts", headers=api.as_("officer"), json={"trip_id": trip["id"], **extra})
        assert (r.status_code, r.json()["error"]["where"]) == (status, where), (extra, r.text)
    mine_elsewhere = api.client.post("/api/v1/alerts", headers=api.as_("us-officer"), json={"trip_id": trip["id"],
                                                                                            "tlp": "clear"})
    assert mine_elsewhere.status_code == 404  # a be-customs trip does not exist for us-cbp


def test_a_partner_watchlist_entry_raises_an_alert_on_the_matching_trip(api: Service) -> None:
    trip = api.client.get("/api/v1/trips", headers=api.as_("officer"), params={"limit": 5}).json()["items"][-1]
    entry = {"kind": "container", "note": "used for rip-on loads", "container_number": trip["container_number"],
             "sharing_group": "be-us", "reliability": "A", "credibility": "2"}
    # an exchange review: a carrier read an AMBER entry watching a competitor's container, and why
    for tlp in ("amber", "clear"):
        refused = api.client.post("/api/v1/watchlist-entries", headers=api.as_("us-officer"), json=entry | {"tlp": tlp})
        assert (refused.status_code, refused.json()["error"]["where"]) == (400, "tlp")
        assert refused.json()["error"]["why"].startswith(
            "a watchlist entry for a container names a shipping line's box")
    made = api.client.post("/api/v1/watchlist-entries", headers=api.as_("us-officer"),
                           json=entry | {"tlp": "amber+strict"})
    assert made.status_code == 201, made.text
    out = made.json()
    # the poster is not told that be-customs holds that container (attack review: the alert ids
    # in the answer said so)
    assert out["alerts"] == [] and out["warnings"] == []
    [local] = [o for o in shared(api, "officer", type="grouping") if out["id"] in o["object"]["object_refs"]]
    assert (local["owner"], local["tlp"], local["sharing_group"]) == ("be-customs", "amber+strict", "local:be-customs")
    assert local["object"]["name"] == f"Watchlist match: container {trip['container_number']}"
    assert local["id"] not in {o["id"] for o in shared(api, "us-officer", type="grouping")}
    # the trip itself says so (a carrier review found it only in the exchange list)
    detail = api.client.get(f"/api/v1/trips/{trip['id']}", headers=api.as_("officer")).json()
    assert [(w["id"], w["title"]) for w in detail["watchlist_alerts"]] == [(local["id"], local["object"]["name"])]
    # the same entry sent again (a retry) is the one shared: no second entry, no second alert
    # (a screening review's re-sent entry raised a second alert on the same trip)
    again = api.client.post("/api/v1/watchlist-entries", headers=api.as_("us-officer"),
                            json=entry | {"tlp": "amber+strict"})
    assert (again.status_code, again.json()) == (200, out | {"already": True})
    assert len([o for o in shared(api, "officer", type="grouping") if out["id"] in o["object"]["object_refs"]]) == 1
    other = api.client.post("/api/v1/watchlist-entries", headers=api.as_("us-officer"),
                            json=entry | {"tlp": "amber+strict", "note": "another note"})
    assert other.status_code == 201 and other.json()["id"] != out["id"]
    # a wrong check digit is shared as typed (a forged number is worth watching) and said (a
    # review's typo was shared without a word)
    typo = api.client.post("/api/v1/watchlist-entries", headers=api.as_("us-officer"), json=entry | {
        "tlp": "amber+strict", "container_number": "MSCU1234560"})
    assert typo.status_code == 201, typo.text
    assert typo.json()["warnings"] == ["container_number: MSCU1234560: ISO 6346 check digit is wrong (expected 6); "
                                       "shared as typed: it matches only boxes reported under this very number"]
    bad = api.client.post("/api/v1/watchlist-entries", headers=api.as_("us-officer"), json={
        "kind": "seal-range", "note": "x", "seal_from": "SL000200", "seal_to": "SL000100", "tlp": "green"})
    assert (bad.status_code, bad.json()["error"]["where"]) == (400, "seal_to")


def test_feedback_on_an_alert_goes_back_to_its_originator(api: Service) -> None:
    trip = top_trip(api)
    alert = api.client.post("/api/v1/alerts", headers=api.as_("officer"), json={
        "trip_id": trip["id"], "tlp": "amber+strict", "sharing_group": "be-us"}).json()
    seen = api.client.post("/api/v1/sightings", headers=api.as_("us-officer"), json={
        "alert_id": alert["id"], "result": "nothing_found", "detail": "scanned at Newark, clear"})
    assert seen.status_code == 201, seen.text
    back = {o["id"]: o for o in shared(api, "officer", type="sighting")}[seen.json()["id"]]
    assert back["object"]["sighting_of_ref"] == alert["id"]
    assert back["object"]["where_sighted_refs"] == [identity_id("us-cbp")]
    assert back["object"]["labels"] == ["scheldt-result:nothing_found"] and back["owner"] == "us-cbp"
    assert (back["reliability"], back["credibility"]) == ("A", "1")  # its own inspection, by default
    hearsay = api.client.post("/api/v1/sightings", headers=api.as_("us-officer"), json={
        "alert_id": alert["id"], "result": "seizure", "detail": "a port agent says it was opened", "reliability": "C",
        "credibility": "3"})
    assert hearsay.status_code == 201, hearsay.text
    back = {o["id"]: o for o in shared(api, "officer", type="sighting")}[hearsay.json()["id"]]
    assert (back["reliability"], back["credibility"]) == ("C", "3")
    unseen = api.client.post("/api/v1/sightings", headers=api.as_("us-officer"), json={
        "alert_id": "grouping--6a0b1f4e-5c1b-4b7e-9a77-1d2c3b4a5f60", "result": "seizure"})
    assert unseen.status_code == 404


def test_feedback_on_a_red_alert_reaches_no_one_the_alert_did_not(api: Service) -> None:
    """An access review's RED recipient recorded a sighting naming a third agency's officer, who
    then read the alert's id, its recipients and the seizure. The feedback goes to the
    originator and the alert's recipients only."""
    from scheldt.workflows.accounts import create_organisation, create_user

    with api.uow() as uow:
        if uow.session.get(OrganisationRow, "nl-customs") is None:
            create_organisation(uow, "nl-customs", "Dutch Customs", "agency", [], [], datetime.now(UTC))
            create_user(uow, "nl-officer", "nl-customs", ["targeting_officer"], "correct horse battery",
                        datetime.now(UTC))
    trip = top_trip(api)
    red = api.client.post("/api/v1/alerts", headers=api.as_("officer"), json={
        "trip_id": trip["id"], "tlp": "red", "sharing_group": "be-us", "recipients": ["us-cbp/us-officer"]})
    assert red.status_code == 201, red.text
    passed_on = api.client.post("/api/v1/sightings", headers=api.as_("us-officer"), json={
        "alert_id": red.json()["id"], "result": "seizure", "detail": "found 200 kg",
        "recipients": ["be-customs/officer", "nl-customs/nl-officer"]})
    assert passed_on.status_code == 400, passed_on.text
    assert passed_on.json()["error"] == {
        "status": 400, "where": "recipients.1",
        "why": "nl-customs/nl-officer: the alert is TLP:RED and nl-customs is not among its recipients; feedback "
               "goes to be-customs and the alert's recipients only"}
    fine = api.client.post("/api/v1/sightings", headers=api.as_("us-officer"), json={
        "alert_id": red.json()["id"], "result": "seizure", "detail": "found 200 kg",
        "recipients": ["be-customs/officer"]})
    assert fine.status_code == 201 and fine.json()["tlp"] == "red", fine.text
    back = {o["id"]: o for o in shared(api, "officer", type="sighting")}
    assert fine.json()["id"] in back


def test_a_seizure_is_shared_from_its_scan_order(api: Service) -> None:
    trips = api.client.get("/api/v1/trips", headers=api.as_("officer"), params={"limit": 40, "status": "open"}).json()
    trip = trips["items"][-1]
    order = api.client.post("/api/v1/scan-orders", headers=api.as_("officer"), json={
        "trip_id": trip["id"], "scanner_id": "SC-1", "shift_date": shift_day(29), "shift": "night",
        "selection": "manual", "reason": "partner tip"}).json()
    early = api.client.post("/api/v1/seizure-reports", headers=api.as_("officer"), json={"order_id": order["id"],
                                                                                         "tlp": "green"})
    assert early.status_code == 409
    api.client.post(f"/api/v1/scan-orders/{order['id']}/actions", headers=api.as_("operator"),
                    json={"action": "scan", "nii_image_ref": "img-9", "verdict": "anomaly"})
    api.client.post(f"/api/v1/scan-orders/{order['id']}/actions", headers=api.as_("searcher"), json={
        "action": "search", "result": "seizure", "drug_type": "cocaine", "mass_kg": 98.5, "concealment": "behind_doors",
        "method": "rip_on_rip_off", "seals_found": "sl123456, SL999888"})
    # a correction of the mass alone keeps the seals read on the box
    corrected = api.client.post(f"/api/v1/scan-orders/{order['id']}/actions", headers=api.as_("searcher"), json={
        "action": "correct", "result": "seizure", "drug_type": "cocaine", "mass_kg": 98.0,
        "concealment": "behind_doors", "reason": "weighed again"})
    assert corrected.status_code == 200 and corrected.json()["seals_found"] == "SL123456, SL999888", corrected.text
    # TLP as the README and the errors write it (a docs review's "GREEN" was refused with 422)
    made = api.client.post("/api/v1/seizure-reports", headers=api.as_("analyst"), json={
        "order_id": order["id"], "tlp": "TLP:GREEN", "description": "rip-on bags behind the doors"})
    assert made.status_code == 201, made.text
    assert made.json()["tlp"] == "green"
    seizure = {o["id"]: o for o in shared(api, "us-officer", type="scheldt-seizure")}[made.json()["id"]]["object"]
    assert (seizure["drug_type"], seizure["mass_kg"], seizure["concealment"], seizure["selection"]) == (
        "cocaine", 98.0, "behind_doors", "manual")
    assert seizure["method"] == "rip_on_rip_off"  # how it got there (an inspection review found no field for it)
    # the seals read on the box: for rip-on/rip-off the replaced seal is the evidence (a search team review)
    assert seizure["seals_found"] == ["SL123456", "SL999888"]
    assert seizure["description"] == "rip-on bags behind the doors" and seizure["container_ref"].startswith(
        "scheldt-container--")


def test_an_officer_withdraws_a_shared_alert_and_a_corrected_seizure_report_follows(api: Service) -> None:
    trip = top_trip(api)
    alert = api.client.post("/api/v1/alerts", headers=api.as_("officer"), json={
        "trip_id": trip["id"], "tlp": "amber+strict", "sharing_group": "be-us", "note": "wrong box"}).json()
    url = f"/api/v1/shared/{alert['id']}/withdraw"
    why = {"reason": "shared on the wrong trip"}
    assert api.client.post(url, headers=api.as_("us-officer"), json=why).status_code == 403  # not its originator
    assert api.client.post(url, headers=api.as_("carrier"), json=why).status_code == 403  # no SHARE permission
    # the reason is required, as the OpenAPI document says (an API review: it said the body was optional)
    for body in (None, {}, {"reason": "  "}):
        no_reason = api.client.post(url, headers=api.as_("officer"), json=body)
        assert no_reason.status_code == 422 and no_reason.json()["error"]["where"].startswith("body"), no_reason.text
    schema = api.client.get("/openapi.json").json()["paths"]["/api/v1/shared/{stix_id}/withdraw"]["post"]
    assert schema["requestBody"]["required"] is True
    done = api.client.post(url, headers=api.as_("officer"), json=why)
    assert api.client.post(url, headers=api.as_("officer"), json=why).status_code == 409  # done already
    assert done.status_code == 200, done.text
    assert sorted(done.json()["parts_deleted"]) == sorted(alert["objects"][1:])
    us = [(o["id"], o["object"].get("revoked", False)) for o in shared(api, "us-officer")
          if o["id"] in alert["objects"]]
    assert us == [(alert["id"], True)]  # its revoked version only: earlier versions and parts, with names, are gone
    # a search record corrected after its seizure was shared: the report follows
    trips = api.client.get("/api/v1/trips", headers=api.as_("officer"), params={"limit": 40, "status": "open"}).json()
    order = api.client.post("/api/v1/scan-orders", headers=api.as_("officer"), json={
        "trip_id": trips["items"][-2]["id"], "scanner_id": "SC-1", "shift_date": shift_day(29), "shift": "night",
        "selection": "manual", "reason": "partner tip"}).json()
    act = f"/api/v1/scan-orders/{order['id']}/actions"
    api.client.post(act, headers=api.as_("operator"), json={"action": "scan", "nii_image_ref": "img-7", "verdict": "anomaly"})
    api.client.post(act, headers=api.as_("searcher"), json={
        "action": "search", "result": "seizure", "drug_type": "cocaine", "mass_kg": 40.0, "concealment": "in_cargo"})
    report = api.client.post("/api/v1/seizure-reports", headers=api.as_("analyst"), json={
        "order_id": order["id"], "tlp": "green"}).json()
    fixed = api.client.post(act, headers=api.as_("searcher"), json={
        "action": "correct", "result": "seizure", "drug_type": "cocaine", "mass_kg": 4.0, "concealment": "in_cargo",
        "reason": "a decimal point was lost"})
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["seizure_report"] == {"id": report["id"], "action": "updated"}
    versions = [o["object"]["mass_kg"] for o in shared(api, "us-officer", type="scheldt-seizure") if o["id"] == report["id"]]
    assert versions == [40.0, 4.0]
    with api.uow() as uow:
        log = AuditLog(uow.session)
        kinds = [(e.payload["object_kind"], e.payload["object_id"]) for e in log.entries(
            after_seq=max(0, log.count() - 60), limit=60)]
    assert ("shared-withdrawal", alert["id"]) in kinds and ("shared-seizure-report", report["id"]) in kinds


def test_a_search_recorded_on_the_wrong_box_is_withdrawn_and_is_no_inspection_any_more(api: Service) -> None:
    """A scan-team review: a seizure recorded on the wrong order could not be cancelled (only
    corrected to "nothing found"), and stayed an inspection in the hit rates and the training
    data of a box nobody opened."""
    trips = api.client.get("/api/v1/trips", headers=api.as_("officer"), params={
        "limit": 40, "status": "open", "left_port": "false"}).json()
    trip = trips["items"][-3]
    order = api.client.post("/api/v1/scan-orders", headers=api.as_("officer"), json={
        "trip_id": trip["id"], "scanner_id": "SC-1", "shift_date": shift_day(29), "shift": "late",
        "selection": "manual", "reason": "partner tip"}).json()
    assert "id" in order, order
    act = f"/api/v1/scan-orders/{order['id']}/actions"
    hit_rates = lambda: api.client.get("/api/v1/dashboard", headers=api.as_("officer")).json()["hit_rate"]  # noqa: E731
    before = hit_rates()
    api.client.post(act, headers=api.as_("operator"), json={"action": "scan", "nii_image_ref": "img-w",
                                                           "verdict": "anomaly"})
    api.client.post(act, headers=api.as_("searcher"), json={
        "action": "search", "result": "seizure", "drug_type": "cocaine", "mass_kg": 40.0, "concealment": "in_cargo"})
    report = api.client.post("/api/v1/seizure-reports", headers=api.as_("analyst"), json={
        "order_id": order["id"], "tlp": "green"}).json()
    recorded = hit_rates()
    for who, action, status in (("officer", "cancel", 409), ("searcher", "withdraw", 403)):
        refused = api.client.post(act, headers=api.as_(who), json={"action": action, "reason": "x"})
        assert refused.status_code == status, refused.text
    cancelled = api.client.post(act, headers=api.as_("officer"), json={"action": "withdraw",
                                                                      "reason": "recorded on the wrong container"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    # the order says nothing of a seizure any more (a regression review's trip page still listed
    # it as one); its change keeps what the record said
    detail = api.client.get(f"/api/v1/scan-orders/{order['id']}", headers=api.as_("officer")).json()
    assert (detail["result"], detail["mass_kg"], detail["nii_image_ref"]) == ("", None, "")
    assert detail["changes"][-1]["details"]["was"]["mass_kg"] == 40.0
    # the list tells it from a plain cancellation (a figures review could not reconcile the figures)
    listed = api.client.get("/api/v1/scan-orders", headers=api.as_("officer"), params={"status": "cancelled",
                                                                                      "limit": 200}).json()["items"]
    assert {o["id"]: o["withdrawn"] for o in listed}[order["id"]] is True
    plain = api.client.post("/api/v1/scan-orders", headers=api.as_("officer"), json={
        "trip_id": trips["items"][-4]["id"], "scanner_id": "SC-1", "shift_date": shift_day(29), "shift": "late",
        "selection": "manual", "reason": "partner tip"}).json()
    assert api.client.post(f"/api/v1/scan-orders/{plain['id']}/actions", headers=api.as_("officer"),
                           json={"action": "cancel", "reason": "tip withdrawn"}).status_code == 200
    listed = api.client.get("/api/v1/scan-orders", headers=api.as_("officer"), params={"status": "cancelled",
                                                                                      "limit": 200}).json()["items"]
    assert {o["id"]: o["withdrawn"] for o in listed}[plain["id"]] is False
    assert cancelled.json()["seizure_report"] == {"id": report["id"], "action": "withdrawn"}
    seizures = api.client.get("/api/v1/seizures", headers=api.as_("officer"), params={"limit": 200}).json()["items"]
    with api.uow() as uow:
        outcomes = uow.trip_outcomes.all(["inspection"])
    assert recorded["manual"]["inspected"] == before.get("manual", {}).get("inspected", 0) + 1
    assert hit_rates() == before
    assert order["id"] not in {s["id"] for s in seizures}
    assert (trip["container_number"], trip["document_ref"], trip["voyage"]) not in outcomes
    assert api.client.get(f"/api/v1/trips/{trip['id']}", headers=api.as_("officer")).json()["trip"]["status"] == "open"
    # the withdrawn record is shared no more (a regression review shared it anew under a new id)
    anew = api.client.post("/api/v1/seizure-reports", headers=api.as_("analyst"), json={"order_id": order["id"],
                                                                                         "tlp": "green"})
    assert anew.status_code == 409 and anew.json()["error"]["why"].startswith("is cancelled")
    # a record withdrawn while another order of the trip is planned leaves the trip planned (a
    # regression review's trip went back "open", and Fill failed on its planned order)
    again = api.client.post("/api/v1/scan-orders", headers=api.as_("officer"), json={
        "trip_id": trip["id"], "scanner_id": "SC-1", "shift_date": shift_day(28), "shift": "late",
        "selection": "manual", "reason": "scan it after all"}).json()
    act2 = f"/api/v1/scan-orders/{again['id']}/actions"
    api.client.post(act2, headers=api.as_("searcher"), json={"action": "search", "result": "nothing_found",
                                                             "reason": "tip-off"})
    third = api.client.post("/api/v1/scan-orders", headers=api.as_("officer"), json={
        "trip_id": trip["id"], "scanner_id": "SC-1", "shift_date": shift_day(27), "shift": "late",
        "selection": "manual", "reason": "once more"}).json()
    assert api.client.post(act2, headers=api.as_("officer"), json={"action": "withdraw",
                                                                   "reason": "of another box"}).status_code == 200
    status = api.client.get(f"/api/v1/trips/{trip['id']}", headers=api.as_("officer")).json()["trip"]["status"]
    assert (third.get("status"), status) == ("planned", "planned")


def test_the_shared_list_pages_without_gaps_or_repeats(api: Service) -> None:
    everything = shared(api, "officer")
    versions = [(o["id"], o["modified"]) for o in everything]
    assert len(versions) == len(set(versions)) > 7
    assert [o["date_added"] for o in everything] == sorted(o["date_added"] for o in everything)
    bad = api.client.get("/api/v1/shared", headers=api.as_("officer"), params={"cursor": "nonsense"})
    assert (bad.status_code, bad.json()["error"]["where"]) == (400, "cursor")
    # a cursor of the store's positions in plain base64 (what the list gave before it was sealed)
    # is not one the list gives: 400, not a page from there, nor a database error
    for position in (3, 2**31 - 1, 2**31, 2**63, 2**64 - 1, -1):
        bad = api.client.get("/api/v1/shared", headers=api.as_("officer"), params={"cursor": encode(position)})
        assert (bad.status_code, bad.json()["error"]["why"]) == (400, "not a 'cursor' value this server gave"), position


def test_a_partner_cannot_count_the_shared_versions_hidden_from_it(api: Service) -> None:
    """An access review: the list showed each version's store position and its cursor was that
    position in plain base64, so a partner counted the versions it may not see between two it
    could (and named any position as its cursor)."""
    page = api.client.get("/api/v1/shared", headers=api.as_("us-officer"), params={"limit": 1}).json()
    assert page["items"] and all("seq" not in item for item in page["items"])
    cursor = page["next_cursor"]
    assert cursor is not None and len(cursor) == 16
    with pytest.raises(ValueError):
        orjson.loads(base64.urlsafe_b64decode(cursor))


    # a type that is no STIX type (a NUL byte: PostgreSQL text cannot hold one) is refused, not a 500
    for odd in ("a\x00b", "Grouping", "x y"):
        bad = api.client.get("/api/v1/shared", headers=api.as_("officer"), params={"type": odd})
        assert bad.status_code == 422 and bad.json()["error"]["where"] == "query.type", odd
