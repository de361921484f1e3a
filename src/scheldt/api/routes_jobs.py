"""Long and recurring work through the job runner: start a job, follow its progress.

Files a job reads must be in the node's inbox (``<SCHELDT_DATA_DIR>/inbox``): an API caller
never names an arbitrary file on the server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import Field

from scheldt.api.deps import CtxDep, CtxRouter
from scheldt.api.routes_inspections import Strict
from scheldt.domain.access import RESERVED_USERNAMES, Permission
from scheldt.errors import ConfigError, InputError, NotFoundError
from scheldt.jobs.kinds import check_params
from scheldt.jobs.runs import JobRuns
from scheldt.settings import get_settings

router = CtxRouter(prefix="/api/v1", tags=["jobs"])


class JobIn(Strict):
    kind: str = Field(min_length=1, max_length=32)
    params: dict[str, Any] = Field(default_factory=dict)


def inbox() -> Path:
    """The folder whose files ingest jobs started through the API may read."""
    return get_settings().data_dir / "inbox"


def _inbox_paths(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with its ``paths`` resolved in the inbox. Raises InputError for one outside it
    or not a file, naming the inbox without its place on the server's disk (a security review)."""
    paths = params.get("paths")
    if not isinstance(paths, list):
        return params
    root = inbox().resolve()
    resolved = []
    for i, p in enumerate(paths):
        if not isinstance(p, str) or not p:
            raise InputError(f"body.params.paths.{i}", "give a file name in the inbox")
        target = (root / p).resolve()
        if not target.is_relative_to(root):
            raise InputError(f"body.params.paths.{i}", f"{p!r} is outside the inbox (the node's "
                             "inbox/ folder)")
        if not target.is_file():
            raise InputError(f"body.params.paths.{i}", f"{p!r} is not a file in the inbox (the node's "
                             "inbox/ folder)")
        resolved.append(str(target))
    return params | {"paths": resolved}


@router.post("/jobs", status_code=202, summary="Start a job (ingest from the inbox, train-trips, rescore, audit-head)")
def start_job(body: JobIn, ctx: CtxDep, request: Request) -> dict[str, Any]:
    ctx.require(Permission.RUN_JOBS)
    runner = request.app.state.jobs
    if runner is None:
        raise ConfigError("job runner", "this server runs without a job runner (started with --no-jobs)")
    for key in ("mapping", "ais_layout", "path"):
        if key in body.params:
            raise InputError(f"body.params.{key}", "not settable through the API; use the command line")
    check_params(body.kind, body.params)  # a bad kind, parameter or value is a 400 now, not a failed run later
    run_id = runner.submit(body.kind, _inbox_paths(body.params), ctx.principal.username)
    ctx.audit("write", "job", run_id, job_kind=body.kind)
    return {"id": run_id, "status": "queued"}


@router.get("/jobs", summary="Recent job runs with their progress")
def list_jobs(ctx: CtxDep, limit: Annotated[int, Query(ge=1, le=200)] = 20) -> dict[str, Any]:
    ctx.require(Permission.RUN_JOBS)
    ctx.audit("read", "jobs", limit)
    return {"items": [r.as_dict() for r in JobRuns(ctx.uow.session).recent(limit)]}


@router.get("/jobs/{run_id}", summary="One job run: status, progress 0..1, message, result or error")
def get_job(run_id: int, ctx: CtxDep) -> dict[str, Any]:
    # whoever asked for a run follows it (an officer's profile switch queues a re-score)
    try:
        run = JobRuns(ctx.uow.session).get(run_id)
    except NotFoundError:
        run = None
    # a run the node signed (the scheduler's, the command line's) is no user's, whatever users
    # are named (a user "schedule" made before the name was refused followed the node's runs)
    if run is None or run.requested_by != ctx.principal.username or run.requested_by in RESERVED_USERNAMES:
        ctx.require(Permission.RUN_JOBS)
        if run is None:
            raise NotFoundError(f"job {run_id}", "no such job run")
    ctx.audit("read", "job", run_id)
    return run.as_dict()
