"""``scheldt profile ...`` (risk profile versions) and ``scheldt trips ...`` (trip scores)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Column, Table

from scheldt.cli.common import audit_command, console, errors_reported, now, os_user, print_json, settings, store
from scheldt.domain.trips import TripKey
from scheldt.errors import InputError, NotFoundError, require_file
from scheldt.risk.backtest import rate_interval
from scheldt.risk.indicators import INDICATORS
from scheldt.risk.profiles import RiskProfile, builtin_profile_text, doubtful_ports, load_profile, profile_digest
from scheldt.store.db import UnitOfWork
from scheldt.workflows.backtest import backtest_with_live, load_ground_truth
from scheldt.workflows.trip_model import TARGET, activate_trip_model, rollback_trip_model, train_trip_model
from scheldt.workflows.trip_scoring import (
    activate_profile,
    container_history,
    line_end_forms,
    live_profile,
    rollback_profile,
    score_trips,
)
from scheldt.workflows.trip_views import mixed_scores_note

profile_app = typer.Typer(help="Risk profiles: validate, activate, roll back, list; the indicators they use.",
                          no_args_is_help=True)
trips_app = typer.Typer(help="Container trips scored with the live risk profile.", no_args_is_help=True)
out = Console()


def _text(path: str | None, builtin: str | None) -> tuple[str, str]:
    if (path is None) == (builtin is None):
        raise InputError("profile", "give a YAML file or --builtin NAME (one of the two)")
    if builtin is not None:
        return builtin_profile_text(builtin), f"built-in {builtin}"
    file = Path(path)  # type: ignore[arg-type]
    require_file(file)
    try:
        return file.read_text("utf-8"), str(file)
    except UnicodeDecodeError as exc:
        raise InputError(str(file), f"not UTF-8 text (byte {exc.start}): a profile is a YAML text file") from None


@profile_app.command("validate")
def validate(path: Annotated[str, typer.Argument(help="Profile YAML file.")]) -> None:
    """Check a profile file; print its indicators and weights, or what is wrong and where."""
    with errors_reported():
        text, where = _text(path, None)
        profile = load_profile(text, where)
    until = f" until {profile.effective_to} (not included)" if profile.effective_to else ""  # a docs review
    out.print(f"{escape(profile.label)} (owner {escape(profile.owner)}, effective from "
              f"{profile.effective_from}{until}): valid")
    for name, setting in profile.indicators.items():
        out.print(f"  {name}: weight {setting.weight:g}" + (f" {setting.params}" if setting.params else ""))
    _warn(profile, where)


def _warn(profile: RiskProfile, where: str) -> None:
    """Print the profile's warnings (:func:`scheldt.risk.profiles.doubtful_ports`), each naming ``where``."""
    for warning in doubtful_ports(profile):
        out.print(f"warning {escape(where)} {escape(warning)}", highlight=False)


def _require_reason(reason: str) -> None:
    """Raise InputError when no reason is given: every switch of what scores trips is recorded
    with why (the API requires it too)."""
    if not reason.strip():
        raise InputError("--reason", "say why (it is recorded with the switch)")


@profile_app.command("activate")
def activate(
    path: Annotated[str | None, typer.Argument(help="Profile YAML file.")] = None,
    builtin: Annotated[str | None, typer.Option("--builtin", help="A profile shipped with Scheldt: antwerp-narcotics.")] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why this version goes live (required; recorded).")] = "",
    score: Annotated[bool, typer.Option("--score/--no-score", help="Re-score every trip with it now.")] = True,
) -> None:
    """Store a profile version and make it live; the switch is recorded with who, when and why.
    Every trip is then re-scored with it (as `scheldt trips score`), unless --no-score."""
    with errors_reported(), store() as uow:
        _require_reason(reason)
        text, where = _text(path, builtin)
        profile, switched = activate_profile(uow, text, where, os_user(), reason, now())
        if not switched:
            out.print(f"{escape(profile.label)} is already live; nothing recorded")
            return
        audit_command(uow, "profile activate", "profile", profile.label, reason=reason)
        scored = _rescored(uow) if score else ""
    out.print(f"{escape(profile.label)} is live{scored}")
    _warn(profile, where)


@profile_app.command("rollback")
def rollback(reason: Annotated[str, typer.Option("--reason", help="Why (required; recorded).")] = "",
             score: Annotated[bool, typer.Option("--score/--no-score", help="Re-score every trip with it now.")] = True,
             ) -> None:
    """Make the previously live profile version live again (recorded as a rollback), then
    re-score every trip with it unless --no-score."""
    with errors_reported(), store() as uow:
        _require_reason(reason)
        label = rollback_profile(uow, os_user(), reason, now())
        audit_command(uow, "profile rollback", "profile", label, reason=reason)
        scored = _rescored(uow) if score else ""
    out.print(f"rolled back: {escape(label)} is live{scored}")


def _rescored(uow: UnitOfWork) -> str:
    """Score every trip with the live profile; what to print after the switch. A version out of
    force (a rollback to one whose effective dates ended) scores nothing now: said so, the
    switch still stands (activating one out of force is refused)."""
    try:
        report = score_trips(uow, now())  # checks first that the version is in force, writes nothing if not
    except InputError as exc:
        return f"; no trip scored now: {exc.why}"
    # an analyst review: with SCHELDT_NOW in the past, "0 trip(s) scored" hid that every trip was left alone
    return (f"; {report.scored} trip(s) scored with it, {report.unchanged} unchanged"
            + (f", {report.later} left alone (already scored after this time: `scheldt trips score` at a later "
               "time scores them)" if report.later else ""))


@profile_app.command("list")
def list_profiles(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Stored profile versions and every activation and rollback."""
    with errors_reported(), store(existing=True) as uow:
        versions = [{"profile": p.label, "owner": p.owner} for p in uow.profiles.versions()]
        live = uow.profiles.live()
        log = uow.profiles.activations()
    if as_json:
        print_json({"live": live.label if live else None, "versions": versions, "activations": log})
        return
    if not versions:  # an empty list printed nothing (CLI review)
        out.print("no risk profile stored yet: `scheldt profile activate --builtin antwerp-narcotics --reason ...`")
    for v in versions:
        out.print(f"{'*' if live and v['profile'] == live.label else ' '} {escape(v['profile'])}  ({escape(v['owner'])})")
    for a in log:
        out.print(f"  {a['at']:%Y-%m-%d %H:%M} UTC {a['action']} {escape(str(a['profile']))} "
                  f"by {escape(str(a['actor']))}"
                  + (f": {escape(str(a['reason']))}" if a["reason"] else ""))


@profile_app.command("show")
def show(label: Annotated[str | None, typer.Argument(help="A stored version, NAME@VERSION (default: the live one).")]
         = None,
         builtin: Annotated[str | None, typer.Option("--builtin", help="A profile shipped with Scheldt: "
                                                     "antwerp-narcotics.")] = None) -> None:
    """Print a profile version's YAML text, as stored: the live one, a stored NAME@VERSION, or a
    built-in one; a copy to change, validate, backtest and activate as a new version (the format:
    docs/risk-profiles.md). A docs review found no way to read a profile but the API."""
    with errors_reported():
        if builtin is not None:
            if label is not None:
                raise InputError("profile", "give NAME@VERSION or --builtin NAME, not both")
            text = builtin_profile_text(builtin)
        else:
            with store(existing=True) as uow:
                stored = uow.profiles.get(label) if label is not None else uow.profiles.live()
            if stored is None:
                raise NotFoundError("profile", "no profile is live; `scheldt profile list` shows the stored versions")
            text = stored.body
    typer.echo(text.rstrip("\n"))


@profile_app.command("indicators")
def indicators() -> None:
    """Every indicator a profile can use: its sentence, what feeds it, its parameters."""
    for ind in INDICATORS.values():
        carried = "" if ind.carried else " [no standard message carries this field]"
        out.print(f"[bold]{ind.name}[/]: {escape(ind.sentence)}\n  fed by {escape(ind.feeds)}{carried}; "
                  f"source: {escape(ind.source)}" + (f"; params {ind.params}" if ind.params else ""))


@trips_app.command("score")
def score(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Score every container trip whose facts changed since its last score (live profile)."""
    with errors_reported(), store() as uow:
        report = score_trips(uow, now())
    if as_json:
        print_json({"profile": report.profile, "scored": report.scored, "unchanged": report.unchanged,
                    "scored_later": report.later})
    else:
        out.print(f"{report.scored} trip(s) scored with {escape(report.profile)}, {report.unchanged} unchanged"
                  + (f", {report.later} left alone (already scored after this time)" if report.later else ""))


def _reasons(reasons: list[dict[str, Any]]) -> str:
    return "\n".join(f"{r['points']:+g} {r['evidence']}" for r in reasons) or "no indicator fired"


@trips_app.command("queue")
def queue(limit: Annotated[int, typer.Option("--limit", min=1)] = 20,
          gone: Annotated[bool, typer.Option("--gone/--in-port", help="Also list boxes that have left the port "
                                             "(gate-out or onward load); by default only those in port or on "
                                             "their way, as the workbench's queue.")] = False,
          as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Trips by score under the live profile, highest first, with their reasons."""
    with errors_reported(), store(existing=True) as uow:
        live = uow.profiles.live()
        if live is None:
            raise InputError("risk profile", "no profile is live: `scheldt profile activate`")
        rows = uow.trip_assessments.queue(live.label, limit=limit, in_port=not gone)
        stale = not rows and uow.trip_assessments.any()
        others = "" if stale else mixed_scores_note(uow, None)
        shown: dict[int, dict[str, Any]] = {}
        for r in rows:
            shown[r["id"]] = uow.container_trips.by_key(TripKey(r["container_number"], r["document_ref"], r["voyage"])) or {}
        # read as the API's risk queue is (an audit review: boxes, scores and reasons left no entry)
        audit_command(uow, "trips queue", "risk-queue", live.label, entry_kind="read", trips=len(rows),
                      gone=gone)
    if stale:
        console.print(f"no trip is scored with {escape(live.label)} yet (the scores stored are of other versions): "
                      "run `scheldt trips score`", highlight=False)
    elif others:  # this queue holds the live version's scores only: say who is left out
        console.print(f"{escape(others)}; they are not in this queue", highlight=False)
    if as_json:
        # "trip_id" is the trip's id in the API and workbench (/trips/{id}); "assessment_id" this score's
        print_json({"profile": live.label, "trips": [
            {"trip_id": shown[r["id"]].get("id"), "assessment_id": r["id"],
             "status": shown[r["id"]].get("status"), "left_at": shown[r["id"]].get("left_at")}
            | {k: v for k, v in r.items() if k not in ("facts", "id")}
            for r in rows]})
        return
    table = Table("score", "container / document / voyage", "state", "reasons", title=f"Risk queue ({live.label})")
    for r in rows:
        label = TripKey(r["container_number"], r["document_ref"], r["voyage"]).label()
        table.add_row(f"{r['score']:g}", escape(label), _state(shown[r["id"]]), escape(_reasons(r["reasons"])))
    out.print(table)


def _state(trip: dict[str, Any]) -> str:
    """A trip's inspection status, and when its box left the port (UTC) if it has."""
    left = trip.get("left_at")
    return " ".join(x for x in (trip.get("status") or "", f"left {left:%Y-%m-%d %H:%M} UTC" if left else "") if x)


@trips_app.command("history")
def history(number: Annotated[str, typer.Argument(help="Container number.")],
            as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every score of a container's trips, oldest first, each recomputed from its stored facts."""
    with errors_reported(), store(existing=True) as uow:
        rows = container_history(uow, number)
        audit_command(uow, "trips history", "container", number[:64], entry_kind="read", assessments=len(rows))
    if as_json:
        print_json({"assessments": [{k: v for k, v in r.items() if k != "facts"} for r in rows]})
        return
    for r in rows:
        label = TripKey(r["container_number"], r["document_ref"], r["voyage"]).label()
        marks = (", reproduced" if r["reproduced"] else ", NOT REPRODUCED") + (", in force" if r["in_force"] else "")
        if r["regrouped"]:
            marks += ", regrouped: the container's events no longer make this trip"
        out.print(f"{r['scored_at']:%Y-%m-%d %H:%M} UTC {escape(label)} score {r['score']:g} ({escape(r['profile'])}"
                  f"{marks})\n  " + escape(_reasons(r["reasons"])).replace("\n", "\n  "))


@trips_app.command("train")
def train(seed: Annotated[int, typer.Option("--seed")] = 0,
          as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Train the container-level model on trips with recorded inspection outcomes and make it
    live; trips are re-scored with profile + model at the next `trips score` or ingest."""
    with errors_reported(), store() as uow:
        profile = live_profile(uow)
        result = train_trip_model(uow, profile, settings().data_dir / "models", now(), seed, settings().threads,
                                  actor=os_user())
        audit_command(uow, "trips train", "trip-model", result["version"], seed=seed, rows=result["rows"],
                      seizures=result["seizures"])
    if as_json:
        print_json(result)
    else:
        out.print(f"trip model {result['version']} is live: {result['rows']} inspected trips, {result['seizures']} "
                  f"seizures, model weight {result['model_weight']}")


@trips_app.command("models")
def models(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Container-model versions (the live one starred) and every time one went live: trained,
    switched on by hand, rolled back, by whom and why."""
    with errors_reported(), store(existing=True) as uow:
        versions = [{"version": m.version, "live": m.live, "created_at": m.created_at.isoformat(),
                     "rows": m.metrics.get("rows"), "seizures": m.metrics.get("seizures")}
                    for m in uow.models.versions(TARGET)]
        log = uow.models.activations(TARGET)
    if as_json:
        print_json({"versions": versions, "activations": [a | {"at": a["at"].isoformat()} for a in log]})
        return
    if not versions:  # an empty list printed nothing at all (CLI review)
        out.print("no container-level model trained yet: `scheldt trips train`")
    for v in versions:
        out.print(f"{'*' if v['live'] else ' '} {escape(v['version'])}  ({v['rows']} inspected trips, "
                  f"{v['seizures']} seizures)")
    for a in log:
        out.print(f"  {a['at']:%Y-%m-%d %H:%M} UTC {a['action']} {escape(a['version'])} by {escape(a['actor'] or '-')}"
                  + (f": {escape(a['reason'])}" if a["reason"] else ""))


@trips_app.command("model-activate")
def model_activate(version: Annotated[str, typer.Argument(help="A version listed by `scheldt trips models`.")],
                   reason: Annotated[str, typer.Option("--reason", help="Why (required; recorded).")] = "") -> None:
    """Make an earlier container-model version live again (recorded); trips are re-scored with
    it at the next `trips score` or ingest."""
    with errors_reported(), store() as uow:
        _require_reason(reason)
        if not activate_trip_model(uow, version, os_user(), reason, now()):
            out.print(f"trip model {escape(version)} is already live; nothing recorded")
            return
        audit_command(uow, "trips model-activate", "trip-model", version, reason=reason)
    out.print(f"trip model {escape(version)} is live")


@trips_app.command("model-rollback")
def model_rollback(reason: Annotated[str, typer.Option("--reason", help="Why (required; recorded).")] = "") -> None:
    """Make the previously live container-model version live again (recorded as a rollback)."""
    with errors_reported(), store() as uow:
        _require_reason(reason)
        version = rollback_trip_model(uow, os_user(), reason, now())
        audit_command(uow, "trips model-rollback", "trip-model", version, reason=reason)
    out.print(f"rolled back: trip model {escape(version)} is live")


@trips_app.command("outcomes")
def outcomes(path: Annotated[str, typer.Argument(help="ground-truth.csv written by `scheldt simulate`.")]) -> None:
    """Load the simulator's ground truth: inspected trips as (simulated) inspection outcomes, and
    every trip's planted flag as simulated truth for backtests (`scheldt backtest --truth`)."""
    with errors_reported(), store() as uow:
        inspections, truths, rejected = load_ground_truth(uow, Path(path), now())
    out.print(f"{inspections} inspection outcome(s) and {truths} ground-truth row(s) added (SIMULATED)"
              + (f"; {len(rejected)} row(s) rejected" if rejected else ""))
    for r in rejected[:20]:
        out.print(f"  {escape(r.where)}: {escape(r.why)}", soft_wrap=True)
    if rejected and not truths and not inspections:
        raise typer.Exit(1)


def _day(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
    except ValueError:
        raise InputError(option, f"{text!r} is not a date like 2026-01-31") from None


def _share(capacity: str) -> float:
    """The share (0, 1] a ``--capacity`` like "8%" or "0.5%" gives, unrounded (a review's 0.001%
    ran at 0.01%). Raises InputError otherwise."""
    text = capacity.strip()
    if not text.endswith("%"):
        raise InputError("--capacity", "give a share of each day's trips, like 8%")
    if not re.fullmatch(r"\d+(\.\d+)?%", text):  # float() read 1_0 as 10 and 1e-5 (regression review)
        raise InputError("--capacity", f"{capacity!r} is not a percentage like 8% or 0.5%")
    pct = float(text[:-1])
    if not 0 < pct <= 100:  # NaN fails too
        raise InputError("--capacity", "must be more than 0% and at most 100%")
    return pct / 100


def _percent(share: float) -> str:
    """A share as the percentage an officer typed: 0.025 -> "2.5%" (``:.0%`` printed "2%")."""
    return f"{share * 100:.4g}%"


def backtest_command(
    path: Annotated[str | None, typer.Option("--profile", help="Profile YAML to test (default: the live one).")] = None,
    builtin: Annotated[str | None, typer.Option("--builtin", help="A built-in profile instead of a file.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="First day (UTC), inclusive.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day (UTC), inclusive.")] = None,
    capacity: Annotated[str, typer.Option("--capacity", help="Share of each day's trips scanned, e.g. 8%.")] = "8%",
    truth: Annotated[bool, typer.Option("--truth", help="Count the simulated ground truth as hits, not recorded inspections.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Replay scored trips under a profile: per indicator and for the whole profile, trips
    flagged, hits, hit rate, and precision and recall at capacity."""
    with errors_reported(), store(existing=True) as uow:
        if path is None and builtin is None:
            live = uow.profiles.live()
            if live is None:
                raise InputError("--profile", "no profile is live; give --profile FILE.yaml or --builtin NAME")
            profile = load_profile(live.body, live.label, stored=True)
        else:
            text, where = _text(path, builtin)
            profile = load_profile(text, where)
            _refuse_changed_text(uow, profile.label, text)
        share = _share(capacity)
        first, last = _day(start, "--from"), _day(end, "--to")
        if first and last and last < first:
            raise InputError("--to", f"{end} is before --from {start}")
        until = last + timedelta(days=1) if last and last.date() < date.max else None
        report, live = backtest_with_live(uow, profile, share, first, until, truth)
    data = report.as_dict()
    if live is not None:  # per indicator too (a targeting review diffed two runs to see what a change moved)
        data["live"] = live.as_dict()
    if as_json:
        print_json(data)
        return
    kind = "with the simulated truth" if truth else "with a recorded inspection outcome (capacity applies to them)"
    out.print(f"{escape(report.profile)} at {_percent(report.capacity)}: {report.trips:,} trips {kind}, "
              f"{report.hits} hits; selected "
              f"{report.selected:,}, of which {report.selected_hits} hits: "
              f"precision {_rate_ci(report.selected_hits, report.selected)}, "
              f"recall {_rate_ci(report.selected_hits, report.hits)}" + (" (SIMULATED ground truth)" if truth else "")
              + "; in brackets: 95% interval")
    if live is not None:
        out.print(f"live {escape(live.profile)} on the same trips: selected {live.selected:,}, of which "
                  f"{live.selected_hits} hits: precision {_rate_ci(live.selected_hits, live.selected)}, recall "
                  f"{_rate_ci(live.selected_hits, live.hits)} ({report.selected_hits - live.selected_hits:+d} hits)")
    taken = data["selected_share"]
    if taken is not None and taken > 1.5 * report.capacity:  # "at 8%" had selected half the trips (CLI review)
        out.print(f"[yellow]selected {taken:.0%} of the trips, not {_percent(report.capacity)}: at least one trip is "
                  f"selected on each of the {report.days:,} days, and few trips a day are counted[/yellow]")
    if report.hits < 30:
        out.print(f"[yellow]only {report.hits} hit(s) in {report.trips:,} trips: figures this small move a lot "
                  "with one case more or less[/yellow]")
    # the figures keep their width in a narrow terminal; a long indicator name folds (a regression
    # review's 60 columns cut the rates to "0.0…")
    table = Table(Column("indicator", overflow="fold"), "flagged", "hits", Column("hit rate", no_wrap=True),
                  Column("95% interval", no_wrap=True), "recall",
                  *([Column("live: flagged / hits", overflow="fold")] if live is not None else []))
    before = live.as_dict()["indicators"] if live is not None else {}
    for name in [*data["indicators"], *(n for n in before if n not in data["indicators"])]:  # type: ignore[union-attr]
        # 0 of 0 is no rate at all, not a rate of 0 (new-user review)
        f = data["indicators"].get(name)  # type: ignore[union-attr]
        was = before.get(name)
        then = ([f"{was['flagged']:,} / {was['hits']}" if was else "not in it"] if live is not None else [])
        if f is None:  # dropped from the profile tested
            table.add_row(escape(name), "not in it", "", "", "", "", *then)
            continue
        ci = f["hit_rate_ci"]
        table.add_row(escape(name), f"{f['flagged']:,}", str(f["hits"]), _rate(f["hits"], f["flagged"]),
                      f"{ci[0]:.3f}-{ci[1]:.3f}" if ci else "–", _rate(f["hits"], report.hits), *then)
    out.print(table)


def _rate(part: int, whole: int) -> str:
    """``part`` / ``whole`` to 3 decimals, from the counts (the JSON's rates are rounded to 4
    already: a profile review's 4 of 19 showed 0.210, not 0.211); an en dash for 0 / 0."""
    return f"{part / whole:.3f}" if whole else "–"


def _rate_ci(part: int, whole: int) -> str:
    """:func:`_rate` with its 95 % Wilson interval: "0.500 (0.237-0.763)"; an en dash for 0 / 0."""
    ci = rate_interval(part, whole)
    return f"{_rate(part, whole)} ({ci[0]:.3f}-{ci[1]:.3f})" if ci else "–"


def _refuse_changed_text(uow: Any, label: str, text: str) -> None:
    """Refuse a profile whose name@version is stored with another text: its figures would be
    shown under a label that means something else (new-user review: a changed weight was
    backtested as the live version itself). Raises InputError naming ``--profile``."""
    try:
        stored = uow.profiles.get(label)
    except NotFoundError:
        return
    if stored.digest not in {profile_digest(form) for form in line_end_forms(text)}:  # a CRLF text read from its file
        raise InputError("--profile", f"{label} is stored with another text; give the changed profile a new version "
                         "(the `version:` line)")


def register(app: typer.Typer) -> None:
    """Add ``profile``, ``trips`` and ``backtest`` to the command tree."""
    app.add_typer(profile_app, name="profile")
    app.add_typer(trips_app, name="trips")
    app.command("backtest")(backtest_command)
