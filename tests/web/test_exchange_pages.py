"""The workbench's exchange pages through FastAPI's TestClient: sharing an alert from a trip's
page, the shared items each user may see (the one visibility policy, as the API's), one item
with its parts and versions, and withdrawing it. The store is SIMULATED traffic
(``tests/api/conftest.py``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI

from scheldt.api.app import create_app
from scheldt.domain.access import Organisation, OrgKind, Principal, Role, trip_scope
from scheldt.store.audit import AuditLog
from scheldt.store.container_trips import TripFilter
from scheldt.workflows import share
from tests.web.conftest import Store
from tests.web.test_pages import signed_in, token_of

NOW = datetime(2026, 1, 2, tzinfo=UTC)


@pytest.fixture(scope="module")
def app(store: Store) -> FastAPI:
    with store.uow() as uow:
        officer = Principal("officer", Organisation("be-customs", "BE", OrgKind.AGENCY), frozenset({Role.TARGETING_OFFICER}),
                            host=True)
        share.create_group(uow, officer, "be-us", "Belgium-US narcotics", ["us-cbp"], NOW)
    return create_app(store.engine, host_org="be-customs")


def top_trip(store: Store) -> dict:
    """be-customs' highest-scored trip."""
    with store.uow() as uow:
        return uow.container_trips.page(trip_scope(uow.accounts.organisation("be-customs")), TripFilter(), None, 1)[0]


def test_an_officer_shares_an_alert_a_partner_reads_it_and_the_officer_withdraws_it(app: FastAPI, store: Store) -> None:
    officer, us, carrier = signed_in(app, "officer"), signed_in(app, "us-officer"), signed_in(app, "carrier")
    trip = top_trip(store)
    page = officer.get(f"/trips/{trip['id']}").text
    assert "Share an alert with partner agencies" in page and 'id="no-groups"' not in page
    # the organisation's one group is chosen for the AMBER+STRICT default (a review: "none" was)
    assert '<option value="amber+strict" selected>' in page and '<option value="be-us" selected>' in page
    # a refused share shows the form again with the message and what was typed
    refused = officer.post(f"/trips/{trip['id']}/share", data={"csrf": token_of(officer), "tlp": "red",
                                                               "note": "seen twice this month"})
    assert refused.status_code == 400 and 'id="share-error"' in refused.text
    assert "TLP:RED goes to named recipients only" in refused.text and 'value="seen twice this month"' in refused.text
    made = officer.post(f"/trips/{trip['id']}/share", data={
        "csrf": token_of(officer), "tlp": "amber+strict", "sharing_group": "be-us", "note": "seen twice this month",
        "reliability": "B", "credibility": "2"})
    assert made.status_code == 303, made.text
    stix_id = parse_qs(urlsplit(made.headers["location"]).query)["id"][0]
    assert stix_id.startswith("grouping--")
    # the trip page now says what partners already have (a review shared one trip three times)
    again_page = officer.get(f"/trips/{trip['id']}").text
    assert 'id="shared-already"' in again_page and stix_id in again_page and "TLP:AMBER+STRICT be-us" in again_page
    mine = officer.get(made.headers["location"]).text
    assert f"Container {trip['container_number']}" in mine and "TLP:AMBER+STRICT" in mine and 'id="withdraw"' in mine
    assert "seen twice this month" in mine and "B2" in mine
    # the page says what the share did, the second time too (a web review could not tell whether
    # partners got one alert or two); the same link opened by another session says nothing
    assert '<p class="alert alert-ok" id="shared-said">Shared: partners who may see it get this version.' in mine
    twice = officer.post(f"/trips/{trip['id']}/share", data={
        "csrf": token_of(officer), "tlp": "amber+strict", "sharing_group": "be-us", "note": "seen twice this month",
        "reliability": "B", "credibility": "2"})
    assert parse_qs(urlsplit(twice.headers["location"]).query)["id"][0] == stix_id
    assert "Already shared as it is: nothing new was sent." in officer.get(twice.headers["location"]).text
    assert 'id="shared-said"' not in us.get(made.headers["location"]).text
    # the partner in the group reads it, without a withdraw form; a shipping line never does
    listed = us.get("/exchange?kind=alert").text
    assert stix_id in listed and "be-customs" in listed
    theirs = us.get(made.headers["location"]).text
    assert "seen twice this month" in theirs and 'id="withdraw"' not in theirs
    assert carrier.get(made.headers["location"]).status_code == 404
    assert stix_id not in carrier.get("/exchange").text and 'href="/exchange"' not in carrier.get("/queue").text
    wrong = us.get("/exchange?kind=nonsense")
    # on the list, under its own filter's name (it was an error page naming the jobs page's "Work")
    assert wrong.status_code == 400 and 'id="shared-list"' not in wrong.text and "<h1>Exchange</h1>" in wrong.text
    assert "Kind of item" in wrong.text and "Work" not in wrong.text
    # withdrawn: partners keep a marker that names no one; the parts are gone
    gone = officer.post("/exchange/item/withdraw", data={"csrf": token_of(officer), "id": stix_id,
                                                         "reason": "shared on the wrong trip"})
    assert gone.status_code == 303
    after = us.get(made.headers["location"]).text
    assert "withdrawn by its originator" in after and "None: deleted with the withdrawal" in after
    assert "seen twice this month" not in after and trip["container_number"] not in after
    # who withdrew it and why: for the originator's officers only (a review found it said nowhere)
    assert 'id="withdrawal"' not in after and "wrong trip" not in after
    own = officer.get(made.headers["location"]).text
    assert re.search(r'id="withdrawal">Withdrawn [^<]*UTC[^<]* by officer: shared on the wrong trip', own), own
    assert stix_id not in officer.get(f"/trips/{trip['id']}").text  # withdrawn: no longer listed there
    again = officer.post("/exchange/item/withdraw", data={"csrf": token_of(officer), "id": stix_id, "reason": "x"})
    assert again.status_code == 409 and "was withdrawn already" in again.text
    with store.uow() as uow:
        log = AuditLog(uow.session)
        kinds = [(e.payload["object_kind"], e.payload["actor"]) for e in log.entries(after_seq=max(0, log.count() - 40),
                                                                                    limit=40)]
    assert ("shared-alert", "officer") in kinds and ("shared-withdrawal", "officer") in kinds
    assert ("shared-object", "us-officer") in kinds and ("shared-object-list", "us-officer") in kinds


def test_the_api_refuses_a_change_another_site_makes_with_the_workbench_session(app: FastAPI, store: Store) -> None:
    """Analyst review: a page of another origin withdrew an alert by a ``text/plain`` POST to
    the REST API (a request the browser sends without asking first) with the officer's cookie.
    A cookie-authenticated change must come from this server's own pages; reads and token
    clients are as before."""
    officer = signed_in(app, "officer")
    trip = top_trip(store)
    made = officer.post(f"/trips/{trip['id']}/share", data={
        "csrf": token_of(officer), "tlp": "amber+strict", "sharing_group": "be-us", "note": "cross-site check"})
    stix_id = parse_qs(urlsplit(made.headers["location"]).query)["id"][0]
    path = f"/api/v1/shared/{stix_id}/withdraw"
    for origin in ("http://evil.example", "null"):
        r = officer.post(path, headers={"Origin": origin, "Content-Type": "text/plain"}, content=b"")
        assert r.status_code == 403 and r.json()["error"]["where"] == "origin", r.text
        # before any field is named, whatever the body (a review: 422s named the fields)
        r = officer.post("/api/v1/scanners", headers={"Origin": origin, "Content-Type": "application/json"}, content=b"{}")
        assert r.status_code == 403 and r.json()["error"]["where"] == "origin", r.text
    assert officer.get("/api/v1/shared", headers={"Origin": "http://evil.example"}).status_code == 200
    with store.uow() as uow:
        assert not uow.exchange.newest([stix_id])[stix_id].revoked
    same = officer.post(path, headers={"Origin": "http://testserver"}, json={"reason": "from our own page"})
    assert same.status_code == 200, same.text
    with store.uow() as uow:
        assert uow.exchange.newest([stix_id])[stix_id].revoked


def test_the_list_of_one_kind_finds_its_items_behind_many_newer_of_another(app: FastAPI, store: Store) -> None:
    """Analyst review: after 205 sightings the alerts tab said "Nothing shared" with no link to
    older items: a page read the newest 200 versions of every kind and then kept the alerts."""
    from scheldt.workflows.shared_views import recent_items

    officer = signed_in(app, "officer")
    made = officer.post(f"/trips/{top_trip(store)['id']}/share", data={
        "csrf": token_of(officer), "tlp": "amber+strict", "sharing_group": "be-us", "note": "behind the feedback"})
    alert_id = parse_qs(urlsplit(made.headers["location"]).query)["id"][0]
    us = Principal("us-officer", Organisation("us-cbp", "US", OrgKind.AGENCY), frozenset({Role.ANALYST}))
    with store.uow() as uow:
        for i in range(9):
            share.record_sighting(uow, us, alert_id, "nothing_found", NOW.replace(hour=1, minute=i))
    with store.uow() as uow:
        requester = uow.exchange.requester("us-cbp", "us-officer")
        alerts, _ = recent_items(uow, requester, "alert", limit=2)
        sightings, before = recent_items(uow, requester, "sighting", limit=2)
        older, _ = recent_items(uow, requester, "sighting", limit=2, before_seq=before)
    assert alerts[0]["id"] == alert_id and alerts[0]["kind"] == "alert"
    assert [r["kind"] for r in sightings + older] == ["sighting"] * 4 and before is not None
    assert not {r["id"] for r in sightings} & {r["id"] for r in older}
    page = officer.get("/exchange?kind=alert").text
    assert alert_id in page and ">Watchlist entries</a>" in page and "entrys" not in page


def test_a_partners_feedback_shows_on_the_trip_the_alert_was_about(app: FastAPI, store: Store) -> None:
    """A federation review: the sightings a partner sent back reached the exchange pages only,
    never the trip page the officer works the box from."""
    officer = signed_in(app, "officer")
    trip = top_trip(store)
    made = officer.post(f"/trips/{trip['id']}/share", data={
        "csrf": token_of(officer), "tlp": "amber+strict", "sharing_group": "be-us", "note": "ask for feedback"})
    alert_id = parse_qs(urlsplit(made.headers["location"]).query)["id"][0]
    us = Principal("us-officer", Organisation("us-cbp", "US", OrgKind.AGENCY), frozenset({Role.ANALYST}))
    with store.uow() as uow:
        sighting = share.record_sighting(uow, us, alert_id, "nothing_found", NOW.replace(hour=5))
    page = officer.get(f"/trips/{trip['id']}").text
    said = re.search(rf'<a href="/exchange/item\?id={re.escape(alert_id)}">[^<]*</a> \(feedback: (.*?)\)', page)
    assert said, page[page.index('id="shared-already"'):][:1500]
    assert f'<a href="/exchange/item?id={sighting["id"]}">us-cbp, 2026-01-02 05:00 UTC</a>' in said[1]


def test_a_red_item_page_says_whom_it_went_to(app: FastAPI, store: Store) -> None:
    """Analyst review: the Marking row said only "TLP:RED"; the recipients were in the parts' JSON."""
    officer, us = signed_in(app, "officer"), signed_in(app, "us-officer")
    made = officer.post(f"/trips/{top_trip(store)['id']}/share", data={
        "csrf": token_of(officer), "tlp": "red", "recipients": "us-cbp/us-officer", "note": "for one officer"})
    assert made.status_code == 303, made.text
    for reader in (officer, us):
        assert "TLP:RED</span> to us-cbp/us-officer" in reader.get(made.headers["location"]).text


def test_reloading_the_address_a_form_posted_to_goes_back_to_its_page(app: FastAPI, store: Store) -> None:
    """Analyst review: after a refused share the address bar kept ``/trips/41/share``; opening it
    again answered a raw JSON 405. The API's answers stay JSON."""
    officer = signed_in(app, "officer")
    trip_id = top_trip(store)["id"]
    for path, page in ((f"/trips/{trip_id}/share", f"/trips/{trip_id}"), ("/exchange/item/withdraw", "/exchange"),
                       ("/plan/fill", "/plan"), (f"/trips/{trip_id}/hold", f"/trips/{trip_id}")):
        r = officer.get(path)
        assert (r.status_code, r.headers.get("location")) == (303, page), path
    api = officer.get("/api/v1/shared/grouping--6a0b1f4e-5c1b-4b7e-9a77-1d2c3b4a5f60/withdraw")
    assert api.status_code == 405 and api.json()["error"]["status"] == 405


def test_an_item_revoked_by_a_stix_version_does_not_claim_a_withdrawal(app: FastAPI, store: Store) -> None:
    """A review revoked its own alert through TAXII Add Objects (a new version with "revoked":
    true, its content kept): the page claimed it was withdrawn before withdrawals were recorded
    and that partners saw only that it was withdrawn, both false."""
    from scheldt.workflows.sharing import ingest_objects

    officer = signed_in(app, "officer")
    made = officer.post(f"/trips/{top_trip(store)['id']}/share", data={
        "csrf": token_of(officer), "tlp": "green", "note": "revoked over TAXII"})
    assert made.status_code == 303, made.text
    stix_id = parse_qs(urlsplit(made.headers["location"]).query)["id"][0]
    with store.uow() as uow:
        latest = uow.exchange.newest([stix_id])[stix_id]
        revoked = {**latest.object, "modified": "2030-01-01T00:00:00.000Z", "revoked": True}
        report = ingest_objects(uow, [revoked], "be-customs", "taxii:officer", None, datetime.now(UTC))
        assert not report.failed, report.failed
    page = officer.get(made.headers["location"]).text
    assert "No withdrawal is recorded with it: it was revoked by a new STIX version" in page
    assert "Partners see only that it was withdrawn" not in page


def test_an_analyst_shares_a_seizure_report_from_its_scan_order(app: FastAPI, store: Store) -> None:
    """A workbench review: an analyst could share alerts but had no way to share a seizure
    report from the workbench (only POST /api/v1/seizure-reports)."""
    from datetime import date, timedelta

    from tests.web.test_pages import _plan

    trip = [t for t in store_trips(store) if t["status"] == "open"][-1]
    officer, operator, searcher = (signed_in(app, u) for u in ("officer", "operator", "searcher"))
    day = (date.today() + timedelta(days=30)).isoformat()
    planned = _plan(officer, trip["id"], day, shift="early", selection="manual", reason="partner tip")
    order_id = int(planned.headers["location"].rsplit("=", 1)[1])
    operator.post(f"/orders/{order_id}/act", data={"csrf": token_of(operator), "action": "scan",
                                                  "nii_image_ref": "IMG-S1", "verdict": "anomaly"})
    assert 'id="share-seizure"' not in officer.get(f"/orders/{order_id}").text  # nothing seized yet
    searcher.post(f"/orders/{order_id}/act", data={"csrf": token_of(searcher), "action": "search", "result": "seizure",
                                                  "drug_type": "cocaine", "mass_kg": "42", "concealment": "in_cargo"})
    analyst = signed_in(app, "analyst")
    page = analyst.get(f"/orders/{order_id}").text
    assert 'id="share-seizure-form"' in page and 'id="shared-report"' not in page
    assert 'id="share-seizure"' not in searcher.get(f"/orders/{order_id}").text  # no sharing right
    refused = analyst.post(f"/orders/{order_id}/share", data={"csrf": token_of(analyst), "tlp": "red",
                                                             "description": "bags in the cargo"})
    assert refused.status_code == 400 and "named recipients" in refused.text and "bags in the cargo" in refused.text
    shared = analyst.post(f"/orders/{order_id}/share", data={"csrf": token_of(analyst), "tlp": "green",
                                                            "description": "bags in the cargo", "reliability": "C",
                                                            "credibility": "3"})
    assert shared.status_code == 303 and shared.headers["location"].startswith("/exchange/item?id=scheldt-seizure--")
    item = analyst.get(shared.headers["location"]).text
    assert "Seizure: cocaine 42 kg, in cargo" in item
    again = analyst.get(f"/orders/{order_id}").text
    # sharing again starts from the report's own text (a regression review: a blank form wiped it)
    assert 'id="shared-report"' in again and 'name="description" value="bags in the cargo"' in again
    # and from its evaluation (a regression review: a C3 report re-worded went out A1)
    assert '<option value="C" selected>C</option>' in again and '<option value="3" selected>3</option>' in again


def store_trips(store: Store) -> list[dict]:
    with store.uow() as uow:
        return uow.container_trips.page(trip_scope(uow.accounts.organisation("be-customs")),
                                        TripFilter(status="open", left=False), None, 50)


def test_a_partner_s_plain_stix_object_is_listed_and_named_as_left_out_of_a_misp_export(app: FastAPI,
                                                                                          store: Store) -> None:
    """Exchange review: a partner's plain STIX indicator and a MISP event imported as a note were
    served by the API, yet missing from the Exchange page and from a MISP export's left-out list."""
    from scheldt.domain.exchange import TLP_MARKING_IDS, Tlp
    from scheldt.workflows.share import export_misp

    plain = {"type": "indicator", "spec_version": "2.1", "id": "indicator--5b7c3f43-8a55-4a4e-9d1e-3a1a1c0f6d11",
             "created": "2026-03-01T08:00:00.000Z", "modified": "2026-03-01T08:00:00.000Z", "name": "Zaba Export BV",
             "pattern": "[identity:name = 'Zaba Export BV']", "pattern_type": "stix", "valid_from":
             "2026-03-01T08:00:00Z", "object_marking_refs": [TLP_MARKING_IDS[Tlp.AMBER]]}
    with store.uow() as uow:
        assert share.receive_objects(uow, [plain], "us-cbp", "peer:us", "be-us", NOW).report.added
    officer = signed_in(app, "officer")
    listed = officer.get("/exchange?kind=other")
    assert listed.status_code == 200 and ">Other STIX objects</a>" in listed.text
    assert "indicator: Zaba Export BV" in listed.text and "[identity:name = &#39;Zaba Export BV&#39;]" in listed.text
    assert plain["id"] in officer.get("/exchange").text
    item = officer.get(f"/exchange/item?id={plain['id']}")
    assert item.status_code == 200 and "Withdraw" not in item.text
    with store.uow() as uow:
        _, left_out = export_misp(uow, uow.exchange.requester("be-customs", "officer"))
    assert (plain["id"], "a plain STIX indicator, not a Scheldt item (MISP export carries Scheldt items): left out") \
        in left_out
