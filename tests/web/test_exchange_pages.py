"""The workbench's exchange pages through FastAPI's TestClient: sharing an alert from a trip's
page, the shared items each user may see (the one visibility policy, as the API's), one item
with its parts and versions, and withdrawing it. The store is SIMULATED traffic
(``tests/api/conftest.py``)."""

from __future__ import annotations

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
        officer = Principal("officer", Organisation("be-customs", "BE", OrgKind.AGENCY), frozenset({Role.TARGETING_OFFICER}))
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
    assert "Share an alert with partner agencies" in page and 'value="be-us"' in page
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
    mine = officer.get(made.headers["location"]).text
    assert f"Container {trip['container_number']}" in mine and "TLP:AMBER+STRICT" in mine and 'id="withdraw"' in mine
    assert "seen twice this month" in mine and "B2" in mine
    # the partner in the group reads it, without a withdraw form; a shipping line never does
    listed = us.get("/exchange?kind=alert").text
    assert stix_id in listed and "be-customs" in listed
    theirs = us.get(made.headers["location"]).text
    assert "seen twice this month" in theirs and 'id="withdraw"' not in theirs
    assert carrier.get(made.headers["location"]).status_code == 404
    assert stix_id not in carrier.get("/exchange").text and 'href="/exchange"' not in carrier.get("/queue").text
    assert us.get("/exchange?kind=nonsense").status_code == 400
    # withdrawn: partners keep a marker that names no one; the parts are gone
    gone = officer.post("/exchange/item/withdraw", data={"csrf": token_of(officer), "id": stix_id,
                                                         "reason": "shared on the wrong trip"})
    assert gone.status_code == 303
    after = us.get(made.headers["location"]).text
    assert "withdrawn by its originator" in after and "None: deleted with the withdrawal" in after
    assert "seen twice this month" not in after and trip["container_number"] not in after
    again = officer.post("/exchange/item/withdraw", data={"csrf": token_of(officer), "id": stix_id, "reason": "x"})
    assert again.status_code == 409 and "was withdrawn already" in again.text
    with store.uow() as uow:
        log = AuditLog(uow.session)
        kinds = [(e.payload["object_kind"], e.payload["actor"]) for e in log.entries(after_seq=max(0, log.count() - 40),
                                                                                    limit=40)]
    assert ("shared-alert", "officer") in kinds and ("shared-withdrawal", "officer") in kinds
    assert ("shared-object", "us-officer") in kinds and ("shared-object-list", "us-officer") in kinds
