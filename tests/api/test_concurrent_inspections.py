"""Two people acting at once on one trip, scan order or scanner (a scan-team review sent the
requests together: five open orders for one trip, a scanner booked 6 of 4, a seizure recorded on
an order cancelled at the same moment, three active holds on one box): one request wins and the
others are refused as if they had come second. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.api.conftest import Service
from tests.builders import shift_day


def together(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Run ``calls`` on threads of their own, released at the same moment."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], httpx.Response]) -> httpx.Response:
        start.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def open_trips(service: Service) -> list[dict[str, Any]]:
    r = service.client.get("/api/v1/trips", params={"limit": 60, "left_port": "false", "status": "open"},
                           headers=service.as_("officer"))
    return [t for t in r.json()["items"] if t["score"] > 0]


def plan(service: Service, trip_id: int, day: int, shift: str) -> Callable[[], httpx.Response]:
    body = {"trip_id": trip_id, "scanner_id": "SC-1", "shift_date": shift_day(day), "shift": shift, "selection": "risk"}
    return lambda: service.client.post("/api/v1/scan-orders", headers=service.as_("officer"), json=body)


def test_one_trip_planned_six_times_at_once_gets_one_order(service: Service) -> None:
    trip = open_trips(service)[0]
    answers = together([plan(service, trip["id"], 20, "late") for _ in range(6)])
    assert Counter(r.status_code for r in answers) == {201: 1, 409: 5}
    first = next(r.json()["id"] for r in answers if r.status_code == 201)
    assert {r.json()["error"]["why"] for r in answers if r.status_code == 409} == {
        f"already has scan order {first} (planned)"}


def test_a_scanner_is_not_booked_past_its_capacity_by_simultaneous_plans(service: Service) -> None:
    trips = open_trips(service)[1:7]
    answers = together([plan(service, t["id"], 21, "early") for t in trips])
    assert Counter(r.status_code for r in answers) == {201: 3, 409: 3}  # SC-1 takes 3 a shift
    board = service.client.get(f"/api/v1/plans/{shift_day(21)}/early", headers=service.as_("officer")).json()
    assert board["scanners"][0]["taken"] == 3


def test_clear_search_and_cancel_of_one_order_at_once_record_one_of_them(service: Service) -> None:
    order = plan(service, open_trips(service)[8]["id"], 22, "night")().json()
    act = lambda who, body: lambda: service.client.post(  # noqa: E731
        f"/api/v1/scan-orders/{order['id']}/actions", headers=service.as_(who), json=body)
    assert act("operator", {"action": "scan", "nii_image_ref": "IMG-8", "verdict": "clear"})().status_code == 200
    answers = together([act("operator", {"action": "clear"}),
                        act("searcher", {"action": "search", "result": "seizure", "drug_type": "cocaine",
                                         "mass_kg": 250, "concealment": "in_cargo"}),
                        act("officer", {"action": "cancel", "reason": "box moved"})])
    assert sorted(r.status_code for r in answers) == [200, 409, 409]  # the losers find the order moved on: a conflict
    won = next(r.json() for r in answers if r.status_code == 200)
    detail = service.client.get(f"/api/v1/scan-orders/{order['id']}", headers=service.as_("officer")).json()
    assert detail["status"] == won["status"] and detail["status"] in ("cleared", "searched", "cancelled")
    assert Counter(c["to_status"] for c in detail["changes"]) == {"planned": 1, "scanned": 1, won["status"]: 1}
    assert (detail["result"] == "seizure") == (detail["status"] == "searched")
    seizures = service.client.get("/api/v1/seizures", headers=service.as_("officer")).json()["items"]
    assert (order["id"] in [s["id"] for s in seizures]) == (detail["status"] == "searched")


def test_one_box_held_six_times_at_once_has_one_hold_and_its_release_frees_it(service: Service) -> None:
    trip = open_trips(service)[12]
    hold = lambda: service.client.post(f"/api/v1/trips/{trip['id']}/hold",  # noqa: E731
                                       headers=service.as_("officer"), json={"reason": "awaiting K9 team"})
    answers = together([hold for _ in range(6)])
    assert Counter(r.status_code for r in answers) == {201: 1, 409: 5}
    held = next(r.json() for r in answers if r.status_code == 201)
    released = service.client.post(f"/api/v1/trips/{trip['id']}/release", headers=service.as_("officer"),
                                   json={"reason": "dog found nothing"}).json()
    assert (released["id"], released["release_reason"]) == (held["id"], "dog found nothing")
    assert service.client.get(f"/api/v1/trips/{trip['id']}", headers=service.as_("officer")).json()["trip"]["on_hold"] is False


def test_one_callback_subscribed_six_times_at_once_gets_one_subscription(service: Service) -> None:
    # a concurrency review: eight simultaneous POSTs of one URL made eight subscriptions, and every
    # notice went to the carrier eight times
    body = {"callback_url": "https://carrier-a.example/together", "secret": "s" * 32, "kinds": ["hold"]}
    session = service.signed_in("carrier")  # what subscribing takes (an API token cannot)
    answers = together([lambda: service.client.post("/api/v1/subscriptions", headers=session,
                                                    json=body) for _ in range(6)])
    assert Counter(r.status_code for r in answers) == {201: 1, 409: 5}
    listed = service.client.get("/api/v1/subscriptions", headers=service.as_("carrier")).json()["items"]
    assert [s["callback_url"] for s in listed if s["active"]].count(body["callback_url"]) == 1


def test_one_scanner_registered_six_times_at_once_is_made_once_and_the_others_conflict(service: Service) -> None:
    # a concurrency review: the losers of simultaneous creates (a scanner, an organisation, a profile)
    # passed the "already exists" check before the winner wrote, and were bare 500s
    body = {"id": "SC-TOGETHER", "name": "Scanner T", "capacity_per_shift": 2}
    answers = together([lambda: service.client.post("/api/v1/scanners", headers=service.as_("admin"), json=body)
                        for _ in range(6)])
    assert {r.status_code for r in answers} == {201, 409} and [r.status_code for r in answers].count(201) == 1
    assert {r.json()["error"]["why"] for r in answers if r.status_code == 409} <= {
        "'SC-TOGETHER' already exists",
        "another request stored the same record at the same moment; nothing of this request was kept: look it "
        "up, or try again"}
    scanners = service.client.get("/api/v1/scanners", headers=service.as_("admin")).json()["items"]
    assert [s["id"] for s in scanners].count("SC-TOGETHER") == 1
    # every loser is audited, also one whose key was taken as it committed (a regression review:
    # those 409s left no trace)
    with service.uow() as uow:
        denied = [e for e in uow.audit.entries(max(0, uow.audit.count() - 50), 50)
                  if e.kind == "denied" and e.payload["object_id"] == "/api/v1/scanners"]
    assert [e.payload["details"]["status"] for e in denied] == [409] * 5


def test_a_version_made_live_six_times_at_once_is_switched_to_once(service: Service) -> None:
    # a concurrency review: simultaneous activations of one version each found another live and
    # recorded a switch (and queued a re-score of every trip) each; two rollbacks went to one version
    h = service.as_
    body = service.client.get("/api/v1/profiles/antwerp-narcotics@3", headers=h("analyst")).json()["yaml"]
    proposed = service.client.post("/api/v1/profiles", headers=h("analyst"), json={
        "yaml": body.replace("version: '3'", "version: '3.9-together'").replace('version: "3"',
                                                                               'version: "3.9-together"')})
    assert proposed.status_code == 201, proposed.text
    answers = together([lambda: service.client.post("/api/v1/profiles/antwerp-narcotics@3.9-together/activate",
                                                    json={"reason": "trial"}, headers=h("officer"))
                        for _ in range(6)])
    assert [r.status_code for r in answers] == [200] * 6
    assert sorted(r.json()["switched"] for r in answers) == [False] * 5 + [True]
    backs = together([lambda: service.client.post("/api/v1/profiles/rollback", json={"reason": "over"},
                                                  headers=h("officer")) for _ in range(2)])
    assert sorted(r.status_code for r in backs) == [200, 409]
    log = service.client.get("/api/v1/profiles", headers=h("analyst")).json()["activations"]
    assert [(a["profile"], a["action"]) for a in log[-2:]] == [("antwerp-narcotics@3.9-together", "activate"),
                                                              ("antwerp-narcotics@3", "rollback")]


def test_two_shipping_lines_made_at_once_never_share_a_carrier_code(service: Service) -> None:
    # a regression review: simultaneous creates of two carriers with code SIMB both answered 201, and
    # each line's security staff read the other's containers
    answers = together([lambda org=org: service.client.post("/api/v1/organisations", headers=service.as_("admin"),
                                                            json={"id": org, "name": org, "kind": "carrier",
                                                                  "carrier_codes": ["SIMZ"]})
                        for org in ("line-p", "line-q", "line-r", "line-s")])
    assert sorted(r.status_code for r in answers) == [201, 409, 409, 409]
    assert {r.json()["error"]["where"] for r in answers if r.status_code == 409} == {"carrier code"}
