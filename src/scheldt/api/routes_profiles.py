"""Risk profiles: read, propose (store a new version without making it live), activate, roll
back, and backtest a stored or proposed version on past trips with recorded outcomes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import ConfigDict, Field, StrictBool, StrictFloat

from scheldt.api.deps import Ctx, CtxDep, CtxRouter
from scheldt.api.routes_inspections import ReasonIn, Strict
from scheldt.domain.access import Permission
from scheldt.errors import InputError
from scheldt.jobs.kinds import check_params
from scheldt.jobs.runs import JobRuns
from scheldt.risk.profiles import MAX_PROFILE_BYTES, Day, doubtful_ports, load_profile
from scheldt.workflows.backtest import backtest_with_live
from scheldt.workflows.trip_scoring import activate_stored, rollback_profile, store_profile

router = CtxRouter(prefix="/api/v1", tags=["risk profiles"])



class ProfileIn(Strict):
    # the text as sent, not stripped: its digest must match the same text read back with GET
    # (an API review's GET-then-POST round trip was refused as "another text")
    model_config = ConfigDict(str_strip_whitespace=False)

    yaml: str = Field(min_length=1, max_length=MAX_PROFILE_BYTES, description="the profile's YAML text, as stored")


class BacktestIn(Strict):
    profile: str | None = Field(default=None, max_length=100, description="name@version; default: the live one")
    start: Day | None = Field(default=None, description="first selection day (UTC), inclusive")
    end: Day | None = Field(default=None, description="last selection day (UTC), inclusive, as the CLI's --to")
    capacity: StrictFloat = Field(default=0.08, gt=0, le=1, description="share of trips inspected")
    truth: StrictBool = Field(default=False,
                              description="count the simulator's ground truth instead of recorded seizures")


def _stored(p: Any, live: str | None) -> dict[str, Any]:
    return {"label": p.label, "name": p.name, "version": p.version, "owner": p.owner, "digest": p.digest,
            "live": p.label == live}


@router.get("/profiles", summary="Stored profile versions, the live one, and every activation")
def list_profiles(ctx: CtxDep) -> dict[str, Any]:
    ctx.require(Permission.READ_PROFILES)
    live = ctx.uow.profiles.live()
    label = live.label if live else None
    ctx.audit("read", "profiles", "all")
    return {"live": label, "items": [_stored(p, label) for p in ctx.uow.profiles.versions()],
            "activations": [a | {"at": a["at"].isoformat()} for a in ctx.uow.profiles.activations()]}


@router.get("/profiles/{label}", summary="One profile version with its YAML text")
def get_profile(label: str, ctx: CtxDep) -> dict[str, Any]:
    ctx.require(Permission.READ_PROFILES)
    live = ctx.uow.profiles.live()
    p = ctx.uow.profiles.get(label)
    ctx.audit("read", "profile", label)
    return _stored(p, live.label if live else None) | {"yaml": p.body}


@router.post("/profiles", status_code=201, summary="Propose a profile version (validated, stored, not live)")
def propose(body: ProfileIn, ctx: CtxDep) -> dict[str, Any]:
    ctx.require(Permission.PROPOSE_PROFILES)
    profile, stored = store_profile(ctx.uow, body.yaml, "body.yaml", ctx.now)
    ctx.audit("write", "profile", stored.label, action="propose")
    live = ctx.uow.profiles.live()
    return _stored(stored, live.label if live else None) | {"warnings": doubtful_ports(profile)}


def _queue_rescore(ctx: Ctx) -> int:
    """Queue a ``rescore`` job run in the request's own transaction, so it exists exactly when
    the switch does; the job runner picks it up at its next poll and scores every trip with the
    version now live (as ``scheldt profile activate`` does). Returns the run id."""
    run = JobRuns(ctx.uow.session).create("rescore", check_params("rescore", {}), ctx.principal.username, ctx.now)
    ctx.audit("write", "job", run.id, job_kind="rescore")
    return run.id


@router.post("/profiles/{label}/activate", summary="Make a stored profile version live (recorded with who and why); "
             "queues a re-score of every trip with it")
def activate(label: str, body: ReasonIn, ctx: CtxDep) -> dict[str, Any]:
    ctx.require(Permission.ACTIVATE_PROFILES)
    stored = ctx.uow.profiles.get(label)
    # as `scheldt profile activate` prints
    warnings = {"warnings": doubtful_ports(load_profile(stored.body, label, stored=True))}
    if not activate_stored(ctx.uow, stored, ctx.principal.username, body.reason, ctx.now):
        return _stored(stored, label) | {"switched": False, "rescore_job": None} | warnings
    ctx.audit("write", "profile", label, action="activate", reason=body.reason)
    return _stored(stored, label) | {"switched": True, "rescore_job": _queue_rescore(ctx)} | warnings


@router.post("/profiles/rollback", summary="Make the previously live version live again; queues a re-score")
def rollback(body: ReasonIn, ctx: CtxDep) -> dict[str, Any]:
    ctx.require(Permission.ACTIVATE_PROFILES)
    label = rollback_profile(ctx.uow, ctx.principal.username, body.reason, ctx.now)
    ctx.audit("write", "profile", label, action="rollback", reason=body.reason)
    return {"live": label, "rescore_job": _queue_rescore(ctx)}


@router.post("/profiles/backtest", summary="Backtest a profile version on past trips with outcomes")
def backtest(body: BacktestIn, ctx: CtxDep) -> dict[str, Any]:
    ctx.require(Permission.PROPOSE_PROFILES)
    if body.profile:
        stored = ctx.uow.profiles.get(body.profile)
    else:
        stored = ctx.uow.profiles.live()
        if stored is None:
            raise InputError("body.profile", "no profile is live; name one")
    profile = load_profile(stored.body, stored.label, stored=True)
    if body.start and body.end and body.end < body.start:
        raise InputError("body.end", f"{body.end} is before start {body.start}")
    # days, both inclusive, as the CLI's --from/--to (a review: end 2025-12-25 left the 25th out here,
    # and 23:00 on the 25th left it out too; selections are made per day)
    start = datetime.combine(body.start, time(), UTC) if body.start else None
    end = datetime.combine(body.end + timedelta(days=1), time(), UTC) if body.end and body.end < date.max else None
    report, live = backtest_with_live(ctx.uow, profile, body.capacity, start, end, body.truth)
    ctx.audit("read", "profile-backtest", stored.label)
    # the live version's figures, per indicator too (a targeting review had to run two backtests and
    # diff them to see what a changed weight or threshold moved)
    compared = {} if live is None else {"live": live.as_dict()}
    return {"profile": stored.label, **report.as_dict(), **compared}
