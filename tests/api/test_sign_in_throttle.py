"""Password sign-ins are throttled per address (a review found no limit: guesses were bounded
only by argon2's cost, which also ate the server's cores)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from scheldt.api.app import create_app
from scheldt.store.db import unit_of_work
from scheldt.store.models import AuditEntryRow
from scheldt.workflows import accounts

PASSWORD = "correct horse battery staple"


def test_an_address_with_many_refused_sign_ins_is_refused_for_a_while(engine: Engine) -> None:
    now = datetime.now(UTC)
    with unit_of_work(engine) as uow:
        accounts.create_organisation(uow, "be-customs", "Belgian customs", "agency", [], [], now)
        accounts.create_user(uow, "officer", "be-customs", ["targeting_officer"], PASSWORD, now)
    c = TestClient(create_app(engine, workbench=True, host_org="be-customs"))
    for n in range(accounts.SIGN_IN_FAILURES_MAX):  # known and unknown usernames alike
        name = "officer" if n % 2 else f"nobody-{n}"
        wrong = c.post("/api/v1/auth/sign-in", json={"username": name, "password": "guess " * 3 + str(n)})
        assert wrong.status_code == 401, wrong.text
    right = c.post("/api/v1/auth/sign-in", json={"username": "officer", "password": PASSWORD})
    assert right.status_code == 429 and right.json()["error"]["where"] == "sign-in"
    assert right.json()["error"]["why"] == (f"{accounts.SIGN_IN_FAILURES_MAX} refused sign-ins from this address in the "
                                            "last 15 minutes: try again in 15 minute(s)")
    assert 840 < int(right.headers["retry-after"]) <= 900
    page = c.post("/sign-in", data={"username": "officer", "password": PASSWORD}, follow_redirects=False)
    assert page.status_code == 429 and "refused sign-ins from this address" in page.text
    assert 840 < int(page.headers["retry-after"]) <= 900  # the workbench's too (a review found none)
    basic = base64.b64encode(f"officer:{PASSWORD}".encode()).decode()
    taxii = c.get("/taxii2/", headers={"Authorization": f"Basic {basic}", "Accept": "application/taxii+json;version=2.1"})
    assert taxii.status_code == 429 and taxii.headers["retry-after"]
    with unit_of_work(engine) as uow:  # each throttled attempt is in the audit log, none as a guess checked
        denied = [e for e in uow.audit.entries(0, 1000) if e.kind == "denied" and e.payload["object_kind"] == "sign-in"]
        assert len(denied) == 3
        assert uow.audit.verify().ok
    # once the refusals are older than the window, the right password works again
    with unit_of_work(engine) as uow:
        uow.session.execute(update(AuditEntryRow).values(at=AuditEntryRow.at - timedelta(minutes=16)))
    assert c.post("/api/v1/auth/sign-in", json={"username": "officer", "password": PASSWORD}).status_code == 200



def test_parallel_guesses_do_not_get_past_the_limit(engine: Engine) -> None:
    """An attack review: 48 wrong passwords sent 8 at a time to a running server had 24 checked
    (401) before the limit of 20 held, each guess reading the count before the others' refusals
    were written."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    from tests.exchange.taxii_nodes import serving_app

    now = datetime.now(UTC)
    with unit_of_work(engine) as uow:
        accounts.create_organisation(uow, "be-customs", "Belgian customs", "agency", [], [], now)
        accounts.create_user(uow, "officer", "be-customs", ["targeting_officer"], PASSWORD, now)
    with serving_app(create_app(engine, workbench=False, host_org="be-customs")) as url, httpx.Client(
            base_url=url, timeout=60) as client:
        def guess(n: int) -> int:
            return client.post("/api/v1/auth/sign-in", json={"username": "officer",
                                                            "password": f"wrong guess {n:03d}"}).status_code
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(guess, range(48)))
    assert answers.count(401) == accounts.SIGN_IN_FAILURES_MAX and answers.count(429) == 48 - answers.count(401)
