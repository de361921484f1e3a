"""The trip page's map script in headless Chromium (Debian's ``chromium``), on a page of its own
that loads the vendored Leaflet and ``trip-map.js`` from the package and hands them the map data
a trip page would: where the route's ports and the vessel's track are drawn."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from playwright.sync_api import Page, sync_playwright

STATIC = Path(__file__).resolve().parents[2] / "src" / "scheldt" / "web" / "static"
CHROMIUM = Path("/usr/bin/chromium")
T = TypeVar("T")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it)")


def _page(tmp_path: Path, data: dict) -> Path:  # type: ignore[type-arg]
    """A page holding the map, its data and the scripts a trip page loads."""
    page = tmp_path / "map.html"
    page.write_text(f"""<!doctype html><html><head>
<link rel="stylesheet" href="{(STATIC / 'vendor/leaflet/leaflet.css').as_uri()}"></head><body>
<div id="map" style="width:600px;height:400px"></div>
<script type="application/json" id="map-data">{json.dumps(data)}</script>
<script src="{(STATIC / 'vendor/leaflet/leaflet.js').as_uri()}"></script>
<script src="{(STATIC / 'vendor/topojson-client/topojson-client.min.js').as_uri()}"></script>
<script src="{(STATIC / 'trip-map.js').as_uri()}"></script></body></html>""")
    return page


def _read(page: Path, read: Callable[[Page], T]) -> T:
    """What ``read`` takes from ``page`` opened in headless Chromium."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM),
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            tab = browser.new_page()
            tab.goto(page.as_uri())
            return read(tab)
        finally:
            browser.close()


def _centres(tmp_path: Path, data: dict) -> dict[str, list[float]]:  # type: ignore[type-arg]
    """Screen x of the centre of each drawn thing's box (``first-port``, ``last-position``) and
    the track's and map's widths, on a 600x400 map."""
    drawn = (("first-port", "path.route-port"), ("last-position", "path.vessel-last"),
             ("track", "path.vessel-track"), ("map", "#map"))
    boxes = _read(_page(tmp_path, data),
                  lambda tab: {name: tab.locator(selector).first.bounding_box() for name, selector in drawn})
    return {name: [box["x"] + box["width"] / 2, box["width"]] for name, box in boxes.items() if box}


def _ports(tmp_path: Path, data: dict) -> list[float]:  # type: ignore[type-arg]
    """Screen x of the centre of each route port's marker, in route order."""
    def boxes_of(tab: Page) -> list[dict[str, float] | None]:
        markers = tab.locator("path.route-port")
        markers.first.wait_for()
        return [markers.nth(i).bounding_box() for i in range(markers.count())]
    boxes = _read(_page(tmp_path, data), boxes_of)
    return [b["x"] + b["width"] / 2 for b in boxes if b]


def test_a_pacific_crossing_is_drawn_across_the_pacific(tmp_path: Path) -> None:
    """A maritime review: a track from 140E to 160W was drawn back west round the world, and the
    map zoomed out to all of it."""
    track = [[35.5 - i * 0.5, lon if lon <= 180 else lon - 360, f"2026-11-{25 + i // 3:02d}T00:00:00Z", 14.0]
             for i, lon in enumerate(range(140, 205, 5))]
    data = {"route": [{"unlocode": "JPTYO", "name": "Tokyo", "lat": 35.6, "lon": 139.8, "moves": [{"text": "LOAD"}]},
                      {"unlocode": "USLAX", "name": "Los Angeles", "lat": 33.7, "lon": -118.3,
                       "moves": [{"text": "DISC"}]}],
            "track": track}
    at = _centres(tmp_path, data)
    assert at["last-position"][0] > at["first-port"][0]  # 160W lies east of Tokyo
    assert at["track"][1] < 0.6 * at["map"][1]  # 60 degrees of the 118 shown, not the world


def test_a_track_on_the_other_side_of_the_date_line_from_its_route_joins_it(tmp_path: Path) -> None:
    """Route ports east of 180 (-170) and a track written west of it (+175, +178, then -179): drawn
    side by side, not a world apart."""
    data = {"route": [{"unlocode": "XXAAA", "name": "", "lat": 10.0, "lon": -170.0, "moves": [{"text": "LOAD"}]}],
            "track": [[10.0, 175.0, "2026-11-25T00:00:00Z", None], [10.5, 178.0, "2026-11-25T06:00:00Z", None],
                      [11.0, -179.0, "2026-11-25T12:00:00Z", None]]}
    at = _centres(tmp_path, data)
    assert at["track"][1] < 0.5 * at["map"][1]
    assert at["last-position"][0] < at["first-port"][0]  # 179W lies west of 170W


def test_a_route_sailed_the_long_way_round_is_drawn_as_sailed(tmp_path: Path) -> None:
    """A regression review: New York to Shanghai by Suez (195 degrees east) was drawn west across
    the Americas, the shorter way round, and the track shifted off the New York marker."""
    lons = (-74.0, -40.0, -6.0, 12.0, 32.5, 43.0, 60.0, 80.0, 104.0, 115.0, 121.5)
    data = {"route": [{"unlocode": "USNYC", "name": "New York", "lat": 40.7, "lon": -74.0, "moves": [{"text": "LOAD"}]},
                      {"unlocode": "CNSHA", "name": "Shanghai", "lat": 31.2, "lon": 121.5,
                       "moves": [{"text": "DISC"}]}],
            "track": [[30.0, lon, f"2026-11-{1 + i:02d}T00:00:00Z", 14.0] for i, lon in enumerate(lons)]}
    at = _centres(tmp_path, data)
    assert at["first-port"][0] < at["last-position"][0]  # Shanghai east of New York, as sailed
    assert abs(at["track"][0] - (at["first-port"][0] + at["last-position"][0]) / 2) < 5  # the track between


def test_a_route_without_a_track_goes_the_shorter_way(tmp_path: Path) -> None:
    """A regression review: Shanghai to Balboa with no AIS track was drawn west across Asia,
    Africa and the Atlantic."""
    data = {"route": [{"unlocode": "CNSHA", "name": "Shanghai", "lat": 31.2, "lon": 121.5, "moves": [{"text": "LOAD"}]},
                      {"unlocode": "PABLB", "name": "Balboa", "lat": 8.95, "lon": -79.6, "moves": [{"text": "DISC"}]}],
            "track": []}
    at = _ports(tmp_path, data)
    assert at[0] < at[1]  # Balboa east of Shanghai, across the Pacific


def test_a_leg_sailed_before_the_track_began_goes_the_shorter_way(tmp_path: Path) -> None:
    """A workbench review: Busan to Manzanillo (Panama) on a feeder, then on to Antwerp with an
    AIS track of the Atlantic only: each port was put on the turn nearest the track, and the
    Busan leg was drawn west across Asia, Africa and the Atlantic. Ports far from the track go
    the shorter way from their neighbour."""
    lons = (-79.0, -70.0, -55.0, -40.0, -25.0, -10.0, 0.0, 4.0)
    data = {"route": [{"unlocode": "KRPUS", "name": "Busan", "lat": 35.1, "lon": 129.0, "moves": [{"text": "LOAD"}]},
                      {"unlocode": "PAMIT", "name": "Manzanillo", "lat": 9.4, "lon": -79.9,
                       "moves": [{"text": "DISC"}, {"text": "LOAD"}]},
                      {"unlocode": "BEANR", "name": "Antwerp", "lat": 51.2, "lon": 4.4, "moves": [{"text": "DISC"}]}],
            "track": [[10.0 + i * 5, lon, f"2026-11-{1 + i:02d}T00:00:00Z", 14.0] for i, lon in enumerate(lons)]}
    busan, manzanillo, antwerp = _ports(tmp_path, data)
    assert busan < manzanillo < antwerp  # Busan west of Panama, across the Pacific
