"""The workbench in a real browser: headless Chromium (Debian's ``chromium``, installed by
``.ci/run``) driven by Playwright against a real uvicorn server over SIMULATED traffic.

The main story: an officer signs in, filters the risk queue, opens the top trip (map, timeline,
documents, parties, seals, reasons) and plans a scan; the scanner operator records the scan
(anomaly); the search team records a seizure (after a refused form); an analyst sees it on the
dashboard. Also: a shipping line sees only its own trips, newest first, and none of customs'
risk view, and makes and stops a DCSA Track & Trace 2.2 feed on its Send data page; a wrong password is refused; and the jobs page follows a run's progress by itself.

Every browser context aborts any request that does not go to 127.0.0.1 and each test asserts
none was made: the workbench needs no internet. Screenshots of every step are kept in
``test-artefacts/screenshots/`` (git-ignored) at the root of the repository.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Route, expect, sync_playwright

from scheldt.domain.access import trip_scope
from scheldt.jobs.runs import JobRuns
from scheldt.store.container_trips import TripFilter
from scheldt.workflows.trip_views import trip_detail
from tests.builders import shift_day
from tests.web.conftest import PASSWORD, Server

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-artefacts" / "screenshots"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it)")


@dataclass
class Session:
    """One browser context (its own cookies) and page, with what it was refused and the
    script errors its pages raised."""

    context: BrowserContext
    page: Page
    base: str
    blocked: list[str] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def sign_in(self, username: str, password: str = PASSWORD) -> None:
        """Fill the sign-in form the page is on and send it."""
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        self.page.click("form[action='/sign-in'] button[type=submit]")

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    b = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                   args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
    yield b
    b.close()


@pytest.fixture
def open_session(browser: Browser, server: Server) -> Iterator[object]:
    """Open browser sessions (one per user); at the end, assert no page asked for anything
    outside this machine and no page script failed."""
    sessions: list[Session] = []

    def make() -> Session:
        context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB")
        context.set_default_timeout(10_000)
        s = Session(context, context.new_page(), server.url)

        def only_loopback(route: Route) -> None:
            if urlsplit(route.request.url).hostname == "127.0.0.1":
                route.continue_()
            else:
                s.blocked.append(route.request.url)
                route.abort()

        context.route("**/*", only_loopback)
        s.page.on("pageerror", lambda exc: s.script_errors.append(str(exc)))
        sessions.append(s)
        return s

    yield make
    for s in sessions:
        s.context.close()
    assert [u for s in sessions for u in s.blocked] == []
    assert [e for s in sessions for e in s.script_errors] == []


def test_officer_plans_operator_scans_searcher_seizes_analyst_sees_it(open_session, server: Server) -> None:
    store = server.store
    with store.uow() as uow:
        org = uow.accounts.organisation("be-customs")
        scope = trip_scope(org)
        to_decide = TripFilter(status="open", left=False)  # the queue's default: open, box still in port
        total = uow.container_trips.count(scope, to_decide)
        high = uow.container_trips.count(scope, TripFilter(risk_band="high", status="open", left=False))
        top = uow.container_trips.page(scope, to_decide, None, 1)[0]
        detail = trip_detail(uow, scope, org.id, top["id"])
    officer: Session = open_session()

    # Sign in: the queue sends the browser to the sign-in page and back.
    officer.go("/queue")
    expect(officer.page).to_have_url(re.compile(r"/sign-in\?next=%2Fqueue$"))
    officer.shot("01-sign-in")
    officer.sign_in("officer")
    expect(officer.page).to_have_url(f"{server.url}/queue")
    rows = officer.page.locator("#queue tbody tr")
    expect(rows).to_have_count(min(50, total))
    first = rows.first
    assert first.get_attribute("data-trip") == str(top["id"])
    expect(first.locator(".reason-list li").first).to_contain_text(detail["assessment"]["reasons"][0]["evidence"])
    assert f"{total} container trips match" in officer.page.inner_text(".page-head")
    officer.shot("02-queue")

    # Filters: high band only.
    officer.page.select_option("select[name=band]", "high")
    officer.page.click("#queue-filters button[type=submit]")
    expect(officer.page).to_have_url(re.compile(r"band=high"))
    expect(rows).to_have_count(high)
    assert {rows.nth(i).get_attribute("data-band") for i in range(high)} == {"high"}
    officer.shot("03-queue-high")

    # The top trip: map with basemap, route and track; timeline, documents, parties, seals, reasons.
    first.locator("a.trip-link").click()
    expect(officer.page).to_have_url(f"{server.url}/trips/{top['id']}")
    expect(officer.page.locator("#map.leaflet-container")).to_have_attribute("data-basemap", "ready")
    assert officer.page.locator("#map path.basemap-land").count() >= 1
    assert officer.page.locator("#map path.basemap-borders").count() >= 1
    ports = [s for s in detail["route"] if s["lat"] is not None]
    expect(officer.page.locator("#map path.route-port")).to_have_count(len(ports))
    expect(officer.page.locator("#map path.route-line")).to_have_count(1 if len(ports) > 1 else 0)
    expect(officer.page.locator("#map path.vessel-track")).to_have_count(1 if detail["vessel_track"] else 0)
    expect(officer.page.locator("#timeline tbody tr")).to_have_count(len(detail["events"]))
    expect(officer.page.locator("#documents article.doc")).to_have_count(len(detail["documents"]))
    reasons = officer.page.locator("#reasons tbody tr")
    expect(reasons).to_have_count(len(detail["assessment"]["reasons"]))
    for party in detail["documents"][-1]["parties"]:
        expect(officer.page.locator("#parties")).to_contain_text(party["name"])
    seals = sorted({s for e in detail["events"] for s in e["seals"]})
    for seal in seals:
        expect(officer.page.locator("#seals")).to_contain_text(seal)
    expect(officer.page.locator("#trip-score")).to_have_text(f"{top['score']:.1f}")
    officer.shot("04-trip")

    # Plan a scan on SC-1, early shift tomorrow.
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    officer.page.select_option("#plan-scan select[name=scanner_id]", "SC-1")
    officer.page.fill("#plan-scan input[name=shift_date]", tomorrow)
    officer.page.select_option("#plan-scan select[name=shift]", "early")
    officer.page.select_option("#plan-scan select[name=selection]", "risk")
    officer.page.click("#plan-scan button[type=submit]")
    expect(officer.page).to_have_url(re.compile(rf"/plan\?date={tomorrow}&shift=early&planned=\d+$"))
    order_id = int(officer.page.url.rsplit("=", 1)[1])
    board = officer.page.locator("section.scanner[data-scanner='SC-1']")
    expect(board.locator(".taken")).to_have_text("1")
    expect(board.locator("tr.highlight")).to_contain_text(top["container_number"])
    officer.shot("05-plan")
    officer.page.click("form[action='/sign-out'] button")
    expect(officer.page).to_have_url(f"{server.url}/sign-in")

    # The scanner operator records the scan: an anomaly. No search or cancel form for this role.
    operator = open_session()
    operator.go(f"/orders/{order_id}")
    operator.sign_in("operator")
    expect(operator.page).to_have_url(f"{server.url}/orders/{order_id}")
    expect(operator.page.locator("#record-search")).to_have_count(0)
    expect(operator.page.locator("#record-cancel")).to_have_count(0)
    operator.page.fill("#record-scan input[name=nii_image_ref]", "SC-1/0042")
    operator.page.check("#record-scan input[name=verdict][value=anomaly]")
    operator.page.click("#record-scan button[type=submit]")
    expect(operator.page.locator("h1 .badge")).to_have_text("scanned")
    expect(operator.page.locator("#outcome")).to_contain_text("anomaly")
    operator.shot("06-scanned")

    # The search team: a mass that is not a number is refused next to the form, keeping what
    # was typed; then the seizure is recorded.
    searcher = open_session()
    searcher.go(f"/orders/{order_id}")
    searcher.sign_in("searcher")
    expect(searcher.page.locator("#record-scan")).to_have_count(0)
    searcher.page.select_option("#record-search select[name=result]", "seizure")
    searcher.page.select_option("#record-search select[name=drug_type]", "cocaine")
    searcher.page.fill("#record-search input[name=mass_kg]", "four hundred")
    searcher.page.select_option("#record-search select[name=concealment]", "behind_doors")
    searcher.page.click("#record-search button[type=submit]")
    expect(searcher.page.locator("#record-search #action-error")).to_contain_text("not a number of kilograms")
    expect(searcher.page.locator("#record-search select[name=drug_type]")).to_have_value("cocaine")
    expect(searcher.page.locator("#record-search input[name=mass_kg]")).to_have_value("four hundred")
    searcher.shot("07-search-refused")
    searcher.page.fill("#record-search input[name=mass_kg]", "412,5")
    searcher.page.click("#record-search button[type=submit]")
    expect(searcher.page.locator("h1 .badge")).to_have_text("searched")
    expect(searcher.page.locator("#seizure")).to_contain_text("cocaine 412.5 kg, behind doors")
    searcher.shot("08-seizure")

    # The analyst sees it on the dashboard.
    analyst = open_session()
    analyst.go("/dashboard")
    analyst.sign_in("analyst")
    expect(analyst.page).to_have_url(f"{server.url}/dashboard")
    expect(analyst.page.locator("body")).to_have_attribute("data-charts", "ready")
    expect(analyst.page.locator("#seizures-total")).to_have_text("1")
    expect(analyst.page.locator("#kg-by-drug")).to_contain_text("cocaine")
    expect(analyst.page.locator("#kg-by-drug")).to_contain_text("412.5")
    expect(analyst.page.locator("#hit-risk")).to_have_text("100 %")
    expect(analyst.page.locator("#by-port")).to_contain_text(top["port_of_loading"])
    assert analyst.page.locator("canvas").count() == 5
    analyst.shot("09-dashboard")


def test_a_shipping_line_sees_only_its_own_trips(open_session, server: Server) -> None:
    with server.store.uow() as uow:
        own = uow.container_trips.page_by_id(trip_scope(uow.accounts.organisation("carrier-a")), TripFilter(left=False),
                                             None, 50)  # the list's default: boxes still in port
        other = next(r for r in uow.container_trips.page(None, TripFilter(), None, 500) if r["carrier_code"] != "SIMA")
        newest = trip_detail(uow, None, "carrier-a", own[0]["id"], agency=False)
    carrier = open_session()
    carrier.go("/queue")
    carrier.sign_in("carrier")

    # "Your containers": newest first, without score, band, reasons, status or their filters.
    rows = carrier.page.locator("#queue tbody tr")
    expect(rows).to_have_count(len(own))
    assert [rows.nth(i).get_attribute("data-trip") for i in range(rows.count())] == [str(t["id"]) for t in own]
    assert {rows.nth(i).get_attribute("data-carrier") for i in range(rows.count())} == {"SIMA"}
    expect(carrier.page.locator("header nav a")).to_have_text(["Your containers", "Send data"])
    expect(carrier.page.locator("h1")).to_have_text("Your containers")
    for hidden in ("#queue .score", "#queue .reasons", "#queue .badge[class*=band-]", "select[name=band]",
                   "select[name=status]"):
        expect(carrier.page.locator(hidden)).to_have_count(0)
    carrier.shot("10-carrier-queue")

    # The newest trip: facts, map, timeline, documents; no score, reasons, orders, history or forms.
    rows.first.locator("a.trip-link").click()
    expect(carrier.page).to_have_url(f"{server.url}/trips/{own[0]['id']}")
    expect(carrier.page.locator("#container-number")).to_have_text(own[0]["container_number"])
    expect(carrier.page.locator("#map.leaflet-container")).to_have_attribute("data-basemap", "ready")
    expect(carrier.page.locator("#timeline tbody tr")).to_have_count(len(newest["events"]))
    expect(carrier.page.locator("#documents article.doc")).to_have_count(len(newest["documents"]))
    expect(carrier.page.locator("#hold-state")).to_contain_text("not on hold")
    for hidden in ("#trip-score", "#reasons", "#watchlist", "#orders", "#history", "#plan-scan",
                   "form[action^='/trips/']"):
        expect(carrier.page.locator(hidden)).to_have_count(0)
    carrier.shot("10b-carrier-trip")
    response = carrier.page.goto(f"{server.url}/trips/{other['id']}")
    assert response is not None and response.status == 404
    expect(carrier.page.locator("h1")).to_have_text("Not found")
    carrier.shot("11-carrier-other-trip")


def test_a_wrong_password_is_refused(open_session, server: Server) -> None:
    s = open_session()
    s.go("/sign-in")
    s.sign_in("officer", "not the password")
    expect(s.page.locator("#sign-in-error")).to_contain_text("unknown username or wrong password")
    expect(s.page.locator("input[name=username]")).to_have_value("officer")
    expect(s.page.locator("input[name=password]")).to_have_value("")
    s.shot("12-wrong-password")


def test_the_jobs_page_follows_a_run_until_it_ends(open_session, server: Server) -> None:
    now = datetime.now(UTC)
    with server.store.uow() as uow:
        run = JobRuns(uow.session).create("rescore", {}, "analyst", now)
        JobRuns(uow.session).claim(run.id, now)
        JobRuns(uow.session).progress(run.id, 0.4, "scored 40 of 100 trips")
    s = open_session()
    s.go("/jobs")
    s.sign_in("analyst")
    row = s.page.locator(f"#job-runs tr[data-run='{run.id}']")
    expect(row.locator("[role=progressbar]")).to_have_attribute("aria-valuenow", "40")
    expect(row).to_contain_text("scored 40 of 100 trips")
    s.shot("13-jobs-running")
    with server.store.uow() as uow:
        JobRuns(uow.session).done(run.id, {"scored": 100}, "scored 100 trips", datetime.now(UTC))
    expect(row).to_have_attribute("data-status", "done", timeout=8_000)
    expect(row.locator("[role=progressbar]")).to_have_attribute("aria-valuenow", "100")
    expect(s.page.locator("#poll-state")).to_have_text("All work has finished.")
    s.shot("14-jobs-done")


def test_docs_offline_missing_pages_long_text_and_narrow_windows(open_session, server: Server) -> None:
    """An officer review found: /docs a blank page without internet (Swagger UI from a CDN); a
    mistyped address answered with raw JSON; a 2,000-character hold reason without spaces made
    the trip page 16,091 px wide; the scan orders table overflowed the page at 800 px."""
    store = server.store
    with store.uow() as uow:
        scope = trip_scope(uow.accounts.organisation("be-customs"))
        trip = uow.container_trips.page(scope, TripFilter(status="open", left=False, on_hold=False), None, 1)[0]
    s: Session = open_session()
    s.go("/docs")  # the API documentation needs no sign-in, and nothing from the internet
    expect(s.page.locator(".swagger-ui .info .title")).to_contain_text("Scheldt")
    s.shot("20-api-docs")
    s.go("/sign-in")
    s.sign_in("officer")
    s.go("/containers/NOPE")
    expect(s.page.locator("h1")).to_have_text("Not found")
    expect(s.page.locator("main")).to_contain_text("there is no such page in the workbench")

    s.go(f"/trips/{trip['id']}")
    reason = "L" * 2000
    s.page.fill(f"form[action='/trips/{trip['id']}/hold'] input[name=reason]", reason)
    s.page.click(f"form[action='/trips/{trip['id']}/hold'] button[type=submit]")
    expect(s.page.locator("main")).to_contain_text("On hold since")
    # measured once the page's style sheet is in (the text can be there before it: a run under
    # load measured the reason unwrapped, 19,595 px)
    s.page.wait_for_load_state("load")
    s.page.set_viewport_size({"width": 1366, "height": 768})
    assert s.page.evaluate("document.documentElement.scrollWidth") <= 1366
    s.shot("21-long-hold-reason")
    s.page.fill(f"form[action='/trips/{trip['id']}/release'] input[name=reason]", "test over")
    s.page.click(f"form[action='/trips/{trip['id']}/release'] button[type=submit]")
    expect(s.page.locator(f"form[action='/trips/{trip['id']}/hold']")).to_be_visible()

    s.page.set_viewport_size({"width": 800, "height": 900})
    for path in ("/orders", "/queue", f"/trips/{trip['id']}", "/plan", "/dashboard"):
        s.go(path)
        assert s.page.evaluate("document.documentElement.scrollWidth") <= 800, path
    s.shot("22-orders-800")
    # an accessibility review: at 320 px (400 % zoom) the menu and the plan's scanner panels ran off
    # the page; a refused form left focus on the page, the field neither marked nor described
    s.page.set_viewport_size({"width": 320, "height": 700})
    for path in ("/queue", "/plan"):
        s.go(path)
        assert s.page.evaluate("document.documentElement.scrollWidth") <= 320, path
    s.page.set_viewport_size({"width": 1366, "height": 768})
    s.go(f"/trips/{trip['id']}")
    form = f"form[action='/trips/{trip['id']}/plan']"
    s.page.select_option(f"{form} select[name=scanner_id]", "SC-1")
    s.page.fill(f"{form} input[name=shift_date]", shift_day(40))
    s.page.select_option(f"{form} select[name=selection]", "manual")
    s.page.click(f"{form} button[type=submit]")
    expect(s.page.locator("#plan-error")).to_contain_text("Reason: is required")
    reason = s.page.locator(f"{form} input[name=reason]")
    expect(reason).to_be_focused()
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(reason).to_have_attribute("aria-describedby", "plan-error")
    # the hold form's own "reason", not the plan form's above it
    hold = f"form[action='/trips/{trip['id']}/hold']"
    s.page.fill(f"{hold} input[name=reason]", "   ")
    s.page.click(f"{hold} button[type=submit]")
    expect(s.page.locator("#hold-error")).to_be_visible()
    expect(s.page.locator(f"{hold} input[name=reason]")).to_be_focused()
    assert s.page.title().startswith("Error: ")
    # the queue filter's own container field, not the menu's search box of the same name (review)
    s.go("/queue?container=AB%25%25&status=&left=")
    expect(s.page.locator("#queue-error")).to_contain_text("is not a container number")
    typed = s.page.locator("main input[name=container]")
    expect(typed).to_have_value("AB%%")
    expect(typed).to_be_focused()
    expect(typed).to_have_attribute("aria-invalid", "true")
    expect(s.page.locator("header input[name=container]")).not_to_have_attribute("aria-invalid", "true")


def test_enter_in_the_reason_box_neither_waives_nor_cancels(open_session, server: Server) -> None:
    """A scan-team review: Enter in the waive-or-cancel reason box waived the order (the first
    submit button of the form), a final state, with no undo."""
    officer: Session = open_session()
    officer.go("/sign-in")
    officer.sign_in("officer")
    officer.go(f"/plan?date={shift_day(23)}&shift=night")
    officer.page.locator("#candidates button[type=submit]").first.click()
    expect(officer.page).to_have_url(re.compile(r"planned=\d+$"))
    order_id = int(officer.page.url.rsplit("=", 1)[1])
    officer.go(f"/orders/{order_id}")
    reason = officer.page.locator("#record-cancel input[name=reason]")
    reason.fill("duplicate plan, cancel please")
    reason.press("Enter")
    officer.page.wait_for_timeout(500)
    expect(officer.page).to_have_url(f"{server.url}/orders/{order_id}")
    with server.store.uow() as uow:
        assert uow.inspections.order(order_id, "be-customs")["status"] == "planned"
    officer.page.click("#record-cancel button[value=cancel]")
    expect(officer.page.locator("h1")).to_contain_text("cancelled")


def test_a_form_on_its_way_is_not_sent_again(open_session, server: Server) -> None:
    """A web review sent a trip's share form three times at once: three identical alerts went to
    partners. While a post is on its way, the form's next submits are dropped (observed here
    after the page's own handler, each submit then stopped from leaving the page)."""
    officer: Session = open_session()
    officer.go("/sign-in")
    officer.sign_in("officer")
    with server.store.uow() as uow:
        org = uow.accounts.organisation("be-customs")
        trip_id = uow.container_trips.page(trip_scope(org), TripFilter(status="open", left=False), None, 1)[0]["id"]
    officer.go(f"/trips/{trip_id}")
    dropped = officer.page.evaluate("""() => {
        const seen = [];
        window.addEventListener('submit', e => { seen.push(e.defaultPrevented); e.preventDefault(); });
        const form = document.getElementById('share-form');
        form.requestSubmit(); form.requestSubmit(); form.requestSubmit();
        return seen; }""")
    assert dropped == [False, True, True]


def test_a_long_unbroken_value_wraps_inside_its_table_cell(browser: Browser) -> None:
    """A web review: a consignee name of 400 letters without a space made the trip page 5,800 px
    wide in a 1,400 px window. The workbench's own style sheet, a table as the pages draw one."""
    from importlib.resources import files

    css = files("scheldt.web").joinpath("static", "workbench.css").read_text()
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        page.set_content(f"<html><head><style>{css}</style></head><body><main><section class='panel'>"
                         f"<table class='grid'><tr><td>consignee</td><td>{'W' * 400}</td><td>NL</td></tr></table>"
                         "</section></main></body></html>")
        assert page.evaluate("document.documentElement.scrollWidth") <= 1400
    finally:
        page.close()


def test_on_a_phone_container_numbers_stay_whole_and_reasons_readable(browser: Browser) -> None:
    """A web review at 390 px: container numbers broke in the middle (SIMU64730|70) and the
    queue's reasons were 68 px wide, rows 1,000 px tall. A queue row as the page draws one."""
    from importlib.resources import files

    css = files("scheldt.web").joinpath("static", "workbench.css").read_text()
    page = browser.new_page(viewport={"width": 390, "height": 844})
    reasons = "<ol class='reason-list'>" + "<li>+30 seal SL0001 on the load event is not on the discharge</li>" * 3
    try:
        page.set_content(f"<html><head><style>{css}</style></head><body><main><table class='grid'><tr>"
                         "<td class='num'>85.0</td><td><a class='trip-link mono' href='#'>SIMU6473070</a></td>"
                         "<td class='mono'>SIMA</td><td class='mono'>ECGYE</td>"
                         "<td class='nowrap'>2026-01-01 09:00 UTC</td>"
                         f"<td>open</td><td class='reasons'>{reasons}</ol></td></tr></table></main></body></html>")
        box = page.locator("a.trip-link").bounding_box()
        line = page.evaluate("parseFloat(getComputedStyle(document.querySelector('a.trip-link')).lineHeight) || 20")
        assert box is not None and box["height"] < 1.5 * line  # one line
        cell = page.locator("td.reasons").bounding_box()
        assert cell is not None and cell["width"] >= 200 and cell["height"] < 400
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the table scrolls, not the page
        # an order's changes: no word breaks inside (a review read "offic|er", "plann|ed" on its phone)
        page.set_content(f"<html><head><style>{css}</style></head><body><main><table class='grid'><tr>"
                         "<td class='nowrap'>2026-12-04 01:14 UTC</td><td><span id='who'>officer</span></td>"
                         "<td>planned → <span id='what'>scanned</span></td><td>concealment behind_doors</td></tr>"
                         "</table>"
                         "</main></body></html>")
        for cell in ("#who", "#what"):
            box = page.locator(cell).bounding_box()
            assert box is not None and box["height"] < 2 * line, cell
    finally:
        page.close()


def test_a_scanner_named_at_length_leaves_the_plan_buttons_clickable(open_session, server: Server) -> None:
    """A workbench review: a scanner of a long name made every "Plan into" list of the plan's
    risk queue 635 px wide; the page grew to 1,708 px at 1,366 and the exploration panel lay
    over the top rows' "Plan risk" buttons, which a click could not reach. (Last in this module:
    the scanner stays on the board.)"""
    with server.store.uow() as uow:
        uow.inspections.add_scanner("SC-" + "RELOCATABLE-HIGH-ENERGY-SCANNER-ON-LOAN-FROM-FEDERAL-POLICE-"[:61],
                                    "Relocatable high-energy container scanner " * 4, "Deurganckdok north quay",
                                    2, "be-customs")
    s: Session = open_session()
    s.go("/sign-in")
    s.sign_in("officer")
    for width in (1366, 1024):
        s.page.set_viewport_size({"width": width, "height": 768})
        s.go(f"/plan?date={shift_day(24)}&shift=late")
        s.page.wait_for_load_state("load")
        assert s.page.evaluate("document.documentElement.scrollWidth") <= width
        button = s.page.locator("#candidates button[type=submit]").first
        box = button.bounding_box()
        assert box is not None
        hit = s.page.evaluate("([x, y]) => document.elementFromPoint(x, y)?.closest('button')?.textContent",
                              [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2])
        assert hit == "Plan risk", width
    s.shot("30-plan-long-scanner")


def test_a_shipping_line_makes_a_feed_and_stops_it(open_session, server: Server) -> None:
    """On the Send data page a line makes a DCSA T&T 2.2 feed (its secret shown once, beside
    the subscription body naming the same callback URL and secret) and stops it from the list."""
    carrier = open_session()
    carrier.go("/send-data")
    carrier.sign_in("carrier")
    expect(carrier.page.locator("h1")).to_have_text("Send data")
    carrier.page.click("#make-feed")
    expect(carrier.page.locator("#feed-made")).to_be_visible()
    secret = carrier.page.locator("#feed-secret").inner_text()
    url = carrier.page.locator("#feed-callback").inner_text()
    assert len(base64.b64decode(secret)) == 32 and url.startswith(f"{server.url}/api/v1/dcsa/tnt/v2/notifications?feed=")
    subscription = carrier.page.locator("#feed-subscription").inner_text()
    assert f'"callbackUrl": "{url}"' in subscription and f'"secret": "{secret}"' in subscription
    feed_id = url.rsplit("=", 1)[1]
    row = carrier.page.locator("#feed-list tbody tr", has_text=feed_id)
    expect(row).to_contain_text("active")
    carrier.shot("send-data-feed-made")
    row.locator("button", has_text="Stop").click()
    expect(carrier.page.locator("#feed-made")).to_have_count(0)  # the secret is shown once only
    row = carrier.page.locator("#feed-list tbody tr", has_text=feed_id)
    expect(row).to_contain_text("stopped")
    expect(row.locator("button")).to_have_count(0)
    assert secret not in carrier.page.content()
