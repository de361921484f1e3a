"""The officers' web workbench: server-rendered pages over the same workflows as the API.

Pages: sign-in, the risk queue (filters, reasons per trip), a container trip (map of its route
and its vessel's AIS track on an offline basemap, timeline, documents, parties, seals, reasons,
scan orders, holds), scan planning per scanner and shift, scan orders (scan, search, seizure),
the dashboard, the progress of long work, and the exchange with partner agencies (the shared
items a user may see, withdrawing one's own, sharing an alert from a trip's page). Forms post to the server and redirect.

Nothing is loaded from the internet: Leaflet, Chart.js, topojson-client and the Natural Earth
basemap (world-atlas) are installed from the npm registry by ``scripts/setup.sh``
(``web/package.json``) into ``static/vendor/`` and served from ``/static``.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from scheldt.api.deps import refuse_nul
from scheldt.web import (
    context,
    pages_auth,
    pages_dashboard,
    pages_exchange,
    pages_inspections,
    pages_supplied,
    pages_trips,
)

STATIC = files("scheldt.web").joinpath("static")


def mount(app: FastAPI) -> None:
    """Add the workbench's pages to ``app`` and serve its static files at ``/static``."""
    context.install(app)
    for module in (pages_auth, pages_trips, pages_inspections, pages_dashboard, pages_exchange):
        app.include_router(module.router, dependencies=[Depends(refuse_nul)])
    # a whole file as the body: not read whole for NULs (ingest quarantines a record holding one)
    app.include_router(pages_supplied.router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
