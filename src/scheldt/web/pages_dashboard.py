"""The analysts' dashboard (seizures over time, by port of loading and commodity, hit rate of
risk versus exploration picks, model drift) and the progress of long work (ingest, training,
re-scoring) run by the job runner."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from scheldt.api.deps import CtxDep
from scheldt.domain.access import RESERVED_USERNAMES, Permission, Principal
from scheldt.errors import ConflictError, ForbiddenError, InputError, NotFoundError, ScheldtError
from scheldt.jobs.runs import JobRun, JobRuns
from scheldt.web import forms
from scheldt.web.context import PageCtx, PageDep, check_form
from scheldt.web.render import error_page, refused, render
from scheldt.workflows.trip_views import SEIZURE_WEEKS_MAX
from scheldt.workflows.trip_views import dashboard as dashboard_figures

router = APIRouter(include_in_schema=False)

RECENT_RUNS = 30
#: Kinds the workbench may start, with their parameters as form fields (ingest reads files on
#: the server and stays with the command line and the API).
STARTABLE = {"rescore": (), "train-trips": ("seed",)}


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, ctx: PageDep) -> HTMLResponse:
    """The organisation's figures, as charts and as tables with the same numbers."""
    try:
        ctx.require(Permission.READ_DASHBOARD)
    except ScheldtError as exc:
        return error_page(request, ctx, exc)
    figures = dashboard_figures(ctx.uow, ctx.principal.organisation.id, ctx.scope, ctx.now)
    ctx.audit("read", "dashboard", ctx.principal.organisation.id)
    return render(request, "dashboard.html", ctx, f=figures, weeks_max=SEIZURE_WEEKS_MAX)


# -- job runs -------------------------------------------------------------------------------

def _may_see_jobs(principal: Principal) -> bool:
    return principal.can(Permission.RUN_JOBS) or principal.can(Permission.READ_DASHBOARD)


def visible_runs(ctx: Any, limit: int = RECENT_RUNS) -> list[JobRun]:
    """Recent runs the user may see: those asked for by people of their own organisation, and,
    for those who may run jobs, the node's own (command line, schedules). Raises ForbiddenError
    for users who may neither read the dashboard nor run jobs (and every shipping line or
    terminal)."""
    if not _may_see_jobs(ctx.principal):
        raise ForbiddenError(Permission.RUN_JOBS.value, f"{ctx.principal.username} may not see the job runs")
    org = ctx.principal.organisation.id
    colleagues = {u.username for u in ctx.uow.accounts.users(org)}
    node_work = ctx.principal.can(Permission.RUN_JOBS)
    users: dict[str, bool] = {}
    out = []
    for run in JobRuns(ctx.uow.session).recent(limit):
        who = run.requested_by
        if who not in users:  # a name the node signs with is the node's, even if a user bears it
            users[who] = who not in RESERVED_USERNAMES and _is_user(ctx, who)
        if (who in colleagues and users[who]) or (node_work and not users[who]):
            out.append(run)
    return out


def _is_user(ctx: Any, username: str) -> bool:
    try:
        ctx.uow.accounts.user(username)
    except NotFoundError:
        return False
    return True


def run_view(run: JobRun) -> dict[str, Any]:
    """What the jobs page shows of a run (also its JSON for the page's polling)."""
    return {"id": run.id, "kind": run.kind, "status": run.status, "progress": round(run.progress, 4),
            "percent": int(run.progress * 100), "message": run.message, "error": run.error,
            "requested_by": run.requested_by, "created_at": run.created_at.isoformat(),
            "started_at": run.started_at.isoformat() if run.started_at else None,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "finished": run.finished, "params": run.params}


def jobs_page(request: Request, ctx: PageCtx, status: int = 200, **state: Any) -> HTMLResponse:
    """Recent runs with their progress; a form to start work when a runner is attached."""
    runs = [run_view(r) for r in visible_runs(ctx)]
    ctx.audit("read", "job-list", f"{len(runs)} runs")
    runner = request.app.state.jobs
    values = {"error": None, "typed": {}, "started": None} | state
    # the run just started, as it stands, and only one the user may see (a workbench review's
    # ?started=424242 said "Run #424242 queued", and a finished run's reload still said queued)
    values["started"] = next((r for r in runs if r["id"] == values["started"]), None)
    return render(request, "jobs.html", ctx, status, runs=runs, runner=runner is not None,
                  startable=STARTABLE if ctx.principal.can(Permission.RUN_JOBS) else {}, **values)


@router.get("/jobs", response_class=HTMLResponse)
def jobs(request: Request, ctx: PageDep, started: str = "") -> HTMLResponse:
    """Long work and how far it is; the page refreshes the bars itself while work runs."""
    try:  # a note only: a ?started= that names no run of the user's shows the page without one
        return jobs_page(request, ctx, started=int(started) if started.isdigit() and len(started) < 12 else None)
    except ScheldtError as exc:
        return error_page(request, ctx, exc)


@router.post("/jobs", response_model=None)
def start_job(request: Request, ctx: PageDep, csrf: Annotated[str, Form()] = "", kind: Annotated[str, Form()] = "",
              seed: Annotated[str, Form()] = "") -> Response:
    """Start a re-scoring or a training run on the server's job runner."""
    typed = {"kind": kind[:32], "seed": seed[:12]}
    try:
        check_form(request, ctx, csrf)
    except ScheldtError as exc:
        return error_page(request, ctx, exc)
    try:
        run_id = submit(request, ctx, typed)
    except ScheldtError as exc:
        return refused(request, ctx, exc, lambda e: jobs_page(request, ctx, e.status, error=e, typed=typed))
    return RedirectResponse(f"/jobs?started={run_id}", status_code=303)


def submit(request: Request, ctx: PageCtx, typed: dict[str, str]) -> int:
    """Hand a run to the job runner (audited as a write). Raises ScheldtError."""
    ctx.require(Permission.RUN_JOBS)
    runner = request.app.state.jobs
    if runner is None:
        raise ConflictError("job runner", "this server runs no job runner: start work with `scheldt jobs run`")
    kind = forms.choice(typed["kind"], "kind", tuple(STARTABLE))
    if kind is None:
        raise InputError("kind", "pick what to run")
    params: dict[str, Any] = {}
    if "seed" in STARTABLE[kind]:
        seed = forms.whole(typed["seed"], "seed")
        if seed is not None:
            params["seed"] = seed
    run_id = int(runner.submit(kind, params, ctx.principal.username))
    ctx.audit("write", "job-run", run_id, action="start", job_kind=kind)
    return run_id


@router.get("/web-api/jobs", include_in_schema=False)
def jobs_json(ctx: CtxDep) -> dict[str, Any]:
    """The jobs page's runs as JSON, polled by the page while work runs (401 JSON when the
    session ended, so the page can say so); audited as the page's read is (an access review found
    these reads, with each run's parameters and who asked, missing from the log)."""
    runs = [run_view(r) for r in visible_runs(ctx)]
    ctx.audit("read", "job-list", f"{len(runs)} runs", ids=[r["id"] for r in runs])
    return {"items": runs}
