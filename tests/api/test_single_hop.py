"""The API's one-thread-call wrapper keeps each endpoint's declared parameters and its
behaviour: query parameters validated by FastAPI, the context given to the endpoint, refusals
and audit as before (the whole API suite runs through it)."""

from __future__ import annotations

import inspect
from typing import Annotated

from fastapi import Query, Response

from scheldt.api.app import create_app
from scheldt.api.deps import CtxDep, single_hop


def _endpoint(ctx: CtxDep, trip_id: int, response: Response,
              limit: Annotated[int, Query(ge=1, le=10)] = 5) -> dict[str, int]:
    return {"trip_id": trip_id, "limit": limit}


def test_wrapped_endpoint_declares_the_same_parameters_without_the_context() -> None:
    hop = single_hop(_endpoint)
    assert inspect.iscoroutinefunction(hop)
    params = inspect.signature(hop).parameters
    assert list(params) == ["_scheldt_request", "trip_id", "response", "limit"]
    assert params["limit"].default == 5
    assert params["trip_id"].annotation is int
    assert hop.__name__ == "_endpoint" and not hasattr(hop, "__wrapped__")


def test_functions_without_a_context_are_left_as_they_are() -> None:
    def plain(limit: int = 3) -> int:
        return limit

    async def coroutine(ctx: CtxDep) -> None:
        return None

    assert single_hop(plain) is plain
    assert single_hop(coroutine) is coroutine


def test_openapi_shows_the_endpoint_parameters_and_not_the_wrapper_request() -> None:
    doc = create_app(engine=None, workbench=False).openapi()
    names = [p["name"] for p in doc["paths"]["/api/v1/trips"]["get"]["parameters"]]
    assert names == ["cursor", "limit", "arrived_from", "arrived_to", "port", "band", "status", "on_hold",
                     "container", "left_port", "order"]
    assert doc["paths"]["/api/v1/trips"]["get"]["operationId"].startswith("list_trips")
