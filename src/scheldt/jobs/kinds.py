"""What the job runner can run: each kind of work, its parameters, and the workflow it calls.

A kind's function takes ``(uow_factory, params, progress)`` and returns a JSON-able result:

- ``uow_factory()`` opens one unit of work (a context manager committing when its block ends);
  a kind opens as many as it needs, so finished steps stay committed if a later one fails.
- ``params`` has been checked against the kind's :class:`Param` list (:func:`check_params`).
- ``progress(fraction, message)`` records how far the run is (``fraction`` in 0..1) in a
  transaction of its own. Call it between units of work, never inside one that has written:
  the embedded SQLite store lets one writer in at a time.

A kind that fails part-way raises :class:`JobFailed` carrying the result so far; any other
exception fails the run with its text. The kinds call the same workflows as the commands
(``scheldt ingest``, ``trips train``, ``trips score``); they do not re-implement them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scheldt.errors import InputError, ScheldtError
from scheldt.ingest.mapping import load_mapping
from scheldt.ingest.registry import FORMATS
from scheldt.settings import get_settings
from scheldt.store.audit import default_head_file
from scheldt.store.db import UnitOfWork
from scheldt.workflows.accounts import require_local_organisation
from scheldt.workflows.ingest import IngestOptions, check_ais_layout, ingest_or_report
from scheldt.workflows.trip_model import train_trip_model
from scheldt.workflows.trip_scoring import live_profile, rescore_received, score_trips

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
UowFactory = Callable[[], AbstractContextManager[UnitOfWork]]
JobFunction = Callable[[UowFactory, dict[str, Any], Progress], dict[str, Any]]


class JobFailed(InputError):
    """A job that did part of its work and then failed: ``result`` is kept on the run."""

    def __init__(self, where: str, why: str, result: dict[str, Any]) -> None:
        super().__init__(where, why)
        self.result = result


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter of a kind: its JSON type (``str``, ``int`` or ``list`` of strings),
    whether it must be given, its default and a sentence for ``--help`` and the API."""

    type: type
    help: str
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()  # a text parameter's allowed values (empty: any text)
    bounds: tuple[int, int] | None = None  # a whole-number parameter's least and greatest value


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of job: ``name`` (also the id of its recurring schedule), the function, its
    parameters and a one-line summary. ``idle(uow, params)``, when given, tells a recurring
    run that it has nothing to do (no peer to pull, no notice due): such a run is not started
    nor recorded, so frequent schedules leave the job history to the runs that did work."""

    name: str
    run: JobFunction
    params: dict[str, Param]
    summary: str
    idle: Callable[[Any, dict[str, Any]], bool] | None = None
    check: Callable[[dict[str, Any]], None] | None = None  # raises InputError for parameters that clash
    #: raises InputError for parameters naming what the store does not hold (checked on submission)
    check_store: Callable[[Any, dict[str, Any]], None] | None = None


def now() -> datetime:
    """The workflows' clock: UTC now, unless ``SCHELDT_NOW`` pins it (as the commands do)."""
    pinned = get_settings().now
    if pinned is not None:
        return pinned if pinned.tzinfo else pinned.replace(tzinfo=UTC)
    return datetime.now(UTC)


def wall_clock() -> datetime:
    """The real UTC time, whatever ``SCHELDT_NOW`` says: for the node's own records (audit
    heads, the audit purge's cut-off, job runs), as the commands keep them. An access review's
    analyst ran the audit-purge job on a server pinned to 2030 and wiped the payloads of that
    morning's reads; a run pruned on that clock would drop every run."""
    return datetime.now(UTC)


def _ingest(uow_factory: UowFactory, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Ingest ``paths`` one file per transaction, as ``scheldt ingest`` reads them, then re-score
    the trips that received facts. Progress: files done / (files + 1), the re-score last.
    Raises JobFailed naming each file of which nothing could be read (the others stay loaded),
    or the file at which the run stopped (the store went away, an unexpected error), with the
    counts of the files loaded before it as the run's result: an operator review found such a
    run saying nothing of what it had already committed."""
    paths = [Path(p) for p in params["paths"]]
    local = get_settings().local_organisation
    with uow_factory() as uow:  # as `scheldt ingest` (an operator review's be-custom loaded unseen facts here)
        require_local_organisation(uow, local)
        unmade = not uow.accounts.organisations()
    options = IngestOptions(params["format"], params.get("mapping"), True, False, local, params.get("ais_layout"))
    started = now()
    steps = len(paths) + 1
    files: list[dict[str, Any]] = []
    for i, path in enumerate(paths):
        _step(progress, i / steps, f"reading {path.name} ({i + 1} of {len(paths)})",
              lambda: {"files": files, "stopped_at": str(path), "not_read": [str(p) for p in paths[i:]]})
        try:
            with uow_factory() as uow:
                files.append(ingest_or_report(uow, path, options, now()).as_dict(max_rejections=20))
        except Exception as exc:  # noqa: BLE001 - said on the run with what was loaded before
            raise _stopped(uow_factory, started, files, paths, i, exc) from exc
    _step(progress, len(paths) / steps, "re-scoring trips that received facts",
          lambda: {"files": files, "stopped_at": "re-scoring", "not_read": []})
    result: dict[str, Any] = {"files": files, "rescored": _rescored(uow_factory, started)}
    if unmade:  # as `scheldt ingest` warns (regression review)
        result["warnings"] = [f"this store has no organisations yet: what was loaded is recorded as by {local!r} "
                              "(SCHELDT_LOCAL_ORGANISATION), and its users see it once it is made"]
    unread = [f for f in files if _read_nothing(f)]
    if unread:
        # where it ended, not "re-scoring ...": an ingest review read a run whose other files were
        # loaded and re-scored as failed while re-scoring
        rescored = result["rescored"]
        scored = ("no trip re-scored (no live risk profile)" if rescored is None else
                  f"no trip re-scored ({rescored['not_scored']})" if rescored.get("not_scored") else
                  f"{rescored['trips']} trip(s) re-scored")
        progress(1.0, f"{len(files) - len(unread)} of {len(files)} file(s) loaded, {scored}; "
                      f"{len(unread)} could not be read")
        raise JobFailed(*_unread(unread), result)
    return result


def _step(progress: Progress, fraction: float, message: str, done: Callable[[], dict[str, Any]]) -> None:
    """``progress(fraction, message)``; when it raises (the runner stopping: JobStopped), the
    exception carries ``done()``, what the run had done, as ``result`` (an operator review's
    interrupted ingest said nothing of the files it had committed)."""
    try:
        progress(fraction, message)
    except Exception as exc:
        exc.result = done()  # type: ignore[attr-defined]
        raise


def _check_ingest(params: dict[str, Any]) -> None:
    """Refuse, when an ingest run is asked for, the files of options ``scheldt ingest`` refuses
    up front: an AIS layout (with its format) or a declaration mapping that cannot be read (a
    review's run took them and failed only when it ran). Raises InputError."""
    check_ais_layout(params["format"], params.get("ais_layout"), "ingest param ais_layout")
    if params.get("mapping") is not None:
        try:
            load_mapping(params["mapping"])
        except ScheldtError as exc:
            raise InputError(f"ingest param mapping {exc.where}", exc.why) from None


def _read_nothing(file: dict[str, Any]) -> bool:
    """Whether nothing of a file could be read (its report as ``FileReport.as_dict`` gives it)."""
    return file["accepted"] == 0 and file["outcomes"]["accepted"] == 0


def _stopped(uow_factory: UowFactory, started: datetime, files: list[dict[str, Any]], paths: list[Path], i: int,
             exc: Exception) -> JobFailed:
    """The failure of an ingest run that stopped at ``paths[i]``: the file named, the reports of
    the files before it as the result (their trips re-scored where the store answers), and the
    files not read."""
    if not isinstance(exc, ScheldtError):
        log.exception("ingest job stopped at %s", paths[i])
    why = str(exc) if isinstance(exc, ScheldtError) else f"{type(exc).__name__}: {exc}"
    try:
        rescored = _rescored(uow_factory, started)
    except Exception:  # noqa: BLE001 - the store is away: a later rescore run does it
        rescored = None
    unread = [f["path"] for f in files if _read_nothing(f)]
    before = f"{len(files) - len(unread)} file(s) before it loaded" + (
        f", {len(unread)} could not be read at all ({', '.join(unread)[:500]})" if unread else "")
    return JobFailed(str(paths[i]), f"stopped here, nothing of this file kept ({why[:500]}); {before} (counts in "
                                    f"the run's result); {len(paths) - i - 1} not read",
                     {"files": files, "rescored": rescored, "stopped_at": str(paths[i]),
                      "not_read": [str(p) for p in paths[i + 1:]]})


def _rescored(uow_factory: UowFactory, started: datetime) -> dict[str, Any] | None:
    """Re-score the trips that received facts since ``started``; what was done (None without a
    live profile)."""
    with uow_factory() as uow:
        rescored = rescore_received(uow, started, now())
    if rescored is None:
        return None
    return {"profile": rescored.profile, "trips": rescored.scored} | (
        {"not_scored": rescored.not_scored} if rescored.not_scored else {})


def _unread(unread: list[dict[str, Any]]) -> tuple[str, str]:
    """(where, why) for the files of which nothing could be read, as InputError wants them."""
    first = unread[0]
    reasons = first["rejections"]
    if not reasons:
        why = "no records in the file"
    elif reasons[0]["where"] == first["path"]:
        why = reasons[0]["why"]
    else:
        why = f"{reasons[0]['where']}: {reasons[0]['why']}"
    more = f"; nothing either in {len(unread) - 1} more file(s)" if len(unread) > 1 else ""
    return first["path"], f"nothing could be read: {why}{more} (counts per file in the run's result)"


def _train_trips(uow_factory: UowFactory, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Train the container model on inspected trips and make it live (``scheldt trips train``)."""
    settings = get_settings()
    progress(0.0, "training the container model")
    with uow_factory() as uow:
        profile = live_profile(uow)
        return train_trip_model(uow, profile, settings.data_dir / "models", now(), params["seed"], settings.threads)


def _rescore(uow_factory: UowFactory, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Score every trip whose facts changed since its last score (``scheldt trips score``)."""
    progress(0.0, "scoring trips with the live profile")
    with uow_factory() as uow:
        report = score_trips(uow, now())
    return {"profile": report.profile, "scored": report.scored, "unchanged": report.unchanged,
            "scored_later": report.later}


def _audit_head(uow_factory: UowFactory, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Append the audit chain's head to ``path`` (default ``<data_dir>/audit/heads.jsonl``), as
    ``scheldt audit head`` does, so a later check proves no entry up to it was changed or removed."""
    path = Path(params["path"]) if "path" in params else default_head_file(get_settings().data_dir)
    progress(0.0, f"writing the audit head to {path}")
    with uow_factory() as uow:  # no appends of its own, as write_head asks
        head = uow.audit.write_head(path, wall_clock())
    return {"path": str(path), "seq": head.seq, "entry_hash": head.entry_hash, "at": head.at.isoformat()}


def _audit_purge(uow_factory: UowFactory, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Drop audit payloads past their retention (``SCHELDT_AUDIT_RETENTION_DAYS``), as
    ``scheldt audit purge`` does, and record the purge as an audit entry of kind ``purge``."""
    settings = get_settings()
    retention = {kind: timedelta(days=days) for kind, days in settings.audit_retention_days.items()}
    at = wall_clock()
    progress(0.0, "purging audit payloads past their retention")
    with uow_factory() as uow:
        require_local_organisation(uow, settings.local_organisation)  # recorded for good in the chain
        purged, seq = uow.audit.purge(retention, at, "job runner", settings.local_organisation, "audit-purge job")
    return {"purged": purged, "recorded_as": seq}


def _deliver_notices(uow_factory: UowFactory, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """POST due carrier notices (at most ``limit``), record each try and move notices past their
    last try to the dead-letter list (:func:`scheldt.exchange.notify.deliver_due`)."""
    from scheldt.exchange.notify import deliver_due  # httpx is loaded only where notices are sent

    progress(0.0, "sending due carrier notices")
    return deliver_due(uow_factory, limit=params.get("limit"))


#: Longest wait, in seconds, after a failed pull before the schedule pulls that peer again (while
#: it answers, it is pulled every SCHELDT_FEDERATION_PULL_EVERY_S).
PEER_RETRY_S = 60.0


def retry_wait_s(failing_for_s: float, pull_every_s: float) -> float:
    """Seconds the schedule leaves a failing peer alone after its last failed pull: as long as it
    has been failing (``failing_for_s``, from the first failed pull of the run to the last), at
    least one pull interval, at most :data:`PEER_RETRY_S`. A peer down for a restart is pulled
    again within seconds of its return; one down for good costs about one failed run a minute."""
    return min(PEER_RETRY_S, max(pull_every_s, failing_for_s))


def _peers_due(uow: Any, params: dict[str, Any]) -> list[str]:
    """The peers a run pulls: the one named ``peer``, else every peer, or, with ``which`` due
    (the schedule's runs), every peer but those whose last pull failed less than
    :func:`retry_wait_s` ago (an operator review: an unreachable peer added a failed run and a
    log warning every 2 s, and pushed every other run out of `scheldt jobs list`; a pull asked
    for by hand still tries them all, a new credential at once; a fixed minute kept a partner
    node restarted for a few seconds away for that minute)."""
    if params.get("peer"):
        return [params["peer"]]
    if params.get("which", "all") == "all":
        return [p.name for p in uow.peers.all()]
    now, every = datetime.now(UTC), get_settings().federation_pull_every_s  # pulls are recorded on the real clock

    def resting(p: Any) -> bool:
        if not (p.last_error and p.last_pull_at):
            return False
        failing_for = (p.last_pull_at - (p.failing_since or p.last_pull_at)).total_seconds()
        # less half an interval: a pull is stamped when it ends, just after the tick that began it, so
        # the tick one wait later came a moment early and the peer waited a tick more (an operator
        # review measured 4, 6, 12 ... 62 s for waits of 2, 4, 10 ... 60 s)
        return now < p.last_pull_at + timedelta(seconds=retry_wait_s(failing_for, every) - every / 2)

    return [p.name for p in uow.peers.all() if not resting(p)]


def _check_peer(uow: Any, params: dict[str, Any]) -> None:
    """Refuse a pull of a peer this node does not have (an API review's run was queued, then
    failed). Raises InputError."""
    name = params.get("peer")
    if name and name not in {p.name for p in uow.peers.all()}:
        raise InputError("federation-pull param peer", f"{name[:60]!r} is not a peer of this node "
                         "(`scheldt peer list` names them)")


def _federation_pull(uow_factory: UowFactory, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Pull new and changed objects (and deletions) from every federation peer due
    (:func:`_peers_due`), or the one named ``peer`` (:func:`scheldt.exchange.federation.pull_all`).
    Raises JobFailed naming the peers that could not be pulled (what the others gave is stored
    and in the result)."""
    from scheldt.exchange.federation import pull_all  # taxii2-client is loaded only where pulls run

    progress(0.0, "pulling from federation peers")
    with uow_factory() as uow:
        due = _peers_due(uow, params)
    result = pull_all(uow_factory, names=due)
    failed = [p for p in result["peers"] if p["error"]]
    if len(failed) == 1:
        raise JobFailed(f"peer {failed[0]['peer']}", f"{failed[0]['error']} (1 peer(s) failed)", result)
    if failed:  # each with its own reason: a review saw only the first, and not the others' remedy
        reasons = "; ".join(f"{p['peer']}: {p['error'][:400]}" for p in failed)
        raise JobFailed(f"peers {', '.join(p['peer'] for p in failed)}", f"{reasons} ({len(failed)} peers failed)",
                        result)
    return result


def _expire_shared_entries(uow_factory: UowFactory, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Take shared watchlist entries past their ``valid_until`` out of the watchlist store
    (:func:`scheldt.workflows.share.sweep_expired_entries`)."""
    from scheldt.workflows.share import sweep_expired_entries

    progress(0.0, "taking expired shared watchlist entries out of the store")
    with uow_factory() as uow:
        removed = sweep_expired_entries(uow, now())
    return {"removed": removed}


def _prune_runs(uow_factory: UowFactory, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Delete finished runs the scheduler started that finished more than ``days`` ago
    (recurring work writes one row per run: notice delivery alone every few seconds)."""
    from scheldt.jobs.runs import JobRuns

    cutoff = wall_clock() - timedelta(days=params["days"])
    with uow_factory() as uow:
        deleted = JobRuns(uow.session).prune("schedule", cutoff)
    return {"deleted": deleted, "finished_before": cutoff.isoformat()}


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("ingest", _ingest, {
        "paths": Param(list, "Files to read, in order (any format `scheldt ingest` reads).", required=True),
        "format": Param(str, "auto, declarations, dcsa-events, dcsa-documents, edifact, ais-nmea or ais-csv.",
                        default="auto", choices=("auto", *FORMATS)),
        "mapping": Param(str, "Declaration column mapping: built-in name or YAML file."),
        "ais_layout": Param(str, "YAML file describing a decoded AIS CSV."),
    }, "Read files into the store file by file, then re-score the trips that received facts.",
         check=_check_ingest),
    Kind("train-trips", _train_trips, {
        "seed": Param(int, "Random seed of the fit.", default=0, bounds=(0, 2**31 - 1)),
    }, "Train the container model on inspected trips and make it live."),
    Kind("rescore", _rescore, {}, "Score every container trip whose facts changed since its last score."),
    Kind("audit-head", _audit_head, {
        "path": Param(str, "File the audit chain head is appended to (default <data_dir>/audit/heads.jsonl)."),
    }, "Append the audit chain head to a file, to check the log against later."),
    Kind("audit-purge", _audit_purge, {}, "Drop audit payloads past their retention; the chain stays verifiable."),
    Kind("prune-runs", _prune_runs, {
        "days": Param(int, "Keep scheduled runs this many days after they finished.", default=7, bounds=(1, 3650)),
    }, "Delete old runs of recurring work started by the scheduler."),
    Kind("deliver-notices", _deliver_notices, {
        "limit": Param(int, "Notices sent at most in this run (default SCHELDT_NOTICE_BATCH).", bounds=(1, 1000)),
    }, "Send due hold, release and alert notices to subscribers; dead-letter them after the last try.",
         # notices are queued and sent on the real clock, whatever SCHELDT_NOW says (a review's
         # server pinned to a replay's day never sent one)
         lambda uow, params: not uow.notifications.any_due(wall_clock())),
    Kind("expire-shared-entries", _expire_shared_entries, {},
         "Take shared watchlist entries past their valid_until out of the watchlist store."),
    Kind("federation-pull", _federation_pull, {
        "peer": Param(str, "Pull only this peer (default: every peer)."),
        "which": Param(str, "all: every peer; due: every peer but those whose pulls fail, left alone as long as "
                       "they have been failing, at most a minute (the schedule's runs).", default="all",
                       choices=("all", "due")),
    }, "Pull new and changed shared objects, and deletions, from federation peers by their cursors.",
         lambda uow, params: not _peers_due(uow, params), check_store=_check_peer),
)}


def kind(name: str) -> Kind:
    """The kind called ``name``. Raises InputError listing the known kinds."""
    try:
        return KINDS[name]
    except KeyError:
        raise InputError("job kind", f"{name!r} is not one of {', '.join(sorted(KINDS))}") from None


def check_params(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` for kind ``name`` with defaults filled in. Raises InputError for an unknown
    kind, an unknown or missing parameter, or a value of the wrong JSON type."""
    spec = kind(name).params
    if not isinstance(params, dict):
        raise InputError(f"{name} params", "give an object of parameter names and values")
    unknown = sorted(set(params) - set(spec))
    if unknown:
        raise InputError(f"{name} param {unknown[0]}", f"unknown; {name} takes {', '.join(spec) or 'no parameters'}")
    out: dict[str, Any] = {}
    for key, p in spec.items():
        value = params.get(key, p.default)
        if value is None:
            if p.required:
                raise InputError(f"{name} param {key}", f"required: {p.help}")
            continue
        out[key] = _typed(f"{name} param {key}", p, value)
    check = kind(name).check
    if check is not None:
        check(out)
    return out


def _typed(where: str, p: Param, value: Any) -> Any:
    if p.type is list:
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            raise InputError(where, "give a non-empty list of non-empty strings")
        return list(value)
    if p.type is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError(where, f"{value!r} is not a whole number")
        if p.bounds is not None and not p.bounds[0] <= value <= p.bounds[1]:  # an attack review sent 2**70 and -1
            raise InputError(where, f"{value} is not between {p.bounds[0]} and {p.bounds[1]}")
        return value
    if not isinstance(value, str) or not value:
        raise InputError(where, f"{value!r} is not a non-empty text")
    if p.choices and value not in p.choices:
        raise InputError(where, f"{value[:40]!r} is not one of {', '.join(p.choices)}")
    return value


def params_from_text(name: str, pairs: list[str]) -> dict[str, Any]:
    """Parameters from ``key=value`` texts (the command line's ``--param``); a list parameter
    takes one value per repetition (``--param paths=a.json --param paths=b.json``). Raises
    InputError for text without ``=``, a whole number that is not one, or what
    :func:`check_params` refuses."""
    spec = kind(name).params
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError("--param", f"{pair!r} is not key=value")
        p = spec.get(key)
        if p is not None and p.type is list:
            out.setdefault(key, []).append(value)
        elif p is not None and p.type is int:
            try:
                out[key] = int(value)
            except ValueError:
                raise InputError(f"--param {key}", f"{value!r} is not a whole number") from None
        else:
            out[key] = value
    return check_params(name, out)


def run_kind(name: str, uow_factory: UowFactory, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Run kind ``name`` with checked ``params``; returns its JSON-able result."""
    return kind(name).run(uow_factory, check_params(name, params), progress)


def describe() -> list[dict[str, Any]]:
    """Every kind with its summary and parameters (for ``scheldt jobs kinds`` and the API)."""
    return [{"kind": k.name, "summary": k.summary,
             "params": {n: {"type": p.type.__name__, "required": p.required, "default": p.default, "help": p.help}
                        for n, p in k.params.items()}}
            for k in KINDS.values()]

