"""``scheldt org | user | token | scanner | serve``: bootstrap a fresh install and run the service."""

from __future__ import annotations

import logging
import sys
import threading
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from scheldt.api.logs import configure_logging, log_config
from scheldt.cli.common import (
    audit_command,
    errors_reported,
    existing_store_url_for,
    print_json,
    settings,
    store,
    wall_clock,
    warn_unknown_local_organisation,
)
from scheldt.errors import ConfigError, InputError
from scheldt.jobs.runner import JobRunner, RunnerBusyError
from scheldt.store.container_trips import TripFilter
from scheldt.workflows import accounts, inspections
from scheldt.workflows.trip_scoring import reindex_trips

log = logging.getLogger(__name__)

#: How often the server purges audit payloads past their retention (daily).
AUDIT_PURGE_EVERY_S = 24 * 3600
#: Seconds between two sweeps of expired shared watchlist entries (job kind expire-shared-entries).
EXPIRE_EVERY_S = 60

org_app = typer.Typer(help="Organisations: agencies, shipping lines, terminals.", no_args_is_help=True)
user_app = typer.Typer(help="Users and their roles.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for machines.", no_args_is_help=True)
scanner_app = typer.Typer(help="NII scanners and their capacity per shift.", no_args_is_help=True)


@org_app.command("create")
def org_create(
    org_id: Annotated[str, typer.Argument(help="Short id, e.g. be-customs.")],
    name: Annotated[str, typer.Option("--name", help="Full name.")],
    kind: Annotated[str, typer.Option("--kind", help="agency, carrier or terminal.")],
    carrier_codes: Annotated[list[str] | None, typer.Option("--carrier-code", help="SMDG liner code or SCAC (repeatable).")] = None,
    terminal_codes: Annotated[list[str] | None, typer.Option("--terminal-code", help="SMDG terminal code (repeatable).")] = None,
    client_of: Annotated[str | None, typer.Option("--client-of", help="Agency whose client it is (reads its TLP:AMBER).")] = None,
) -> None:
    """Create an organisation. A carrier owns the trips on transport documents with its codes;
    a terminal the trips handled at its terminal codes; an agency the facts it supplied. A
    carrier or terminal that is an agency's client reads the TLP:AMBER items of that agency's
    sharing groups."""
    with errors_reported(), store() as uow:
        org = accounts.create_organisation(uow, org_id, name, kind, carrier_codes or [], terminal_codes or [], wall_clock(),
                                           client_of)
        audit_command(uow, "org create", "organisation", org.id, kind=org.kind.value, client_of=client_of,
                      carrier_codes=list(org.carrier_codes), terminal_codes=list(org.terminal_codes))
    typer.echo(f"organisation {org.id} ({org.kind.value}) created" + (f", client of {client_of}" if client_of else ""))


@org_app.command("client-of")
def org_client_of(
    org_id: Annotated[str, typer.Argument(help="The shipping line or terminal.")],
    patron: Annotated[str | None, typer.Argument(help="The agency whose client it is.")] = None,
    none: Annotated[bool, typer.Option("--none", help="Make it nobody's client.")] = False,
) -> None:
    """Make a shipping line or terminal an agency's client (TLP:AMBER may be shared with
    recipients' clients), or with --none nobody's."""
    if (patron is None) == (not none):
        raise typer.BadParameter("give the agency, or --none")
    with errors_reported(), store() as uow:
        accounts.set_client_of(uow, org_id, None if none else patron)
        audit_command(uow, "org client-of", "organisation", org_id, client_of=None if none else patron)
    typer.echo(f"organisation {org_id} is " + ("nobody's client" if none else f"a client of {patron}"))


@org_app.command("list")
def org_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List organisations."""
    with errors_reported(), store(existing=True) as uow:
        orgs = uow.accounts.organisations()
        patrons = uow.accounts.clients_of()
    rows = [{"id": o.id, "name": o.name, "kind": o.kind.value, "carrier_codes": list(o.carrier_codes),
             "terminal_codes": list(o.terminal_codes), "client_of": patrons.get(o.id)} for o in orgs]
    if as_json:
        print_json(rows)
        return
    if not rows:  # an empty list printed nothing at all (CLI review)
        typer.echo("no organisations yet: `scheldt org create`")
    for r in rows:
        codes = " ".join(r["carrier_codes"] + r["terminal_codes"])
        client = f"  (client of {r['client_of']})" if r["client_of"] else ""
        typer.echo(f"{r['id']:<20} {r['kind']:<9} {r['name']}  {codes}".rstrip() + client)


def _password(password_stdin: bool) -> str:
    if password_stdin:
        value = sys.stdin.readline().removesuffix("\n").removesuffix("\r")  # a line as Windows ends it too
        if not value:
            raise InputError("--password-stdin", "no password on standard input")
        return value
    if not sys.stdin.isatty():
        raise InputError("password", "give it with --password-stdin (no terminal to ask on)")
    return typer.prompt("password", hide_input=True, confirmation_prompt=True)


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Argument()],
    org: Annotated[str, typer.Option("--org", help="Organisation id.")],
    roles: Annotated[list[str], typer.Option("--role", help="targeting_officer, scanner_operator, search_team, analyst, "
                                             "liaison_officer, carrier_security, administrator (repeatable).")],
    display_name: Annotated[str, typer.Option("--name")] = "",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
) -> None:
    """Create a user (password hashed with argon2id; at least 12 characters)."""
    with errors_reported():
        password = _password(password_stdin)
        with store() as uow:
            user = accounts.create_user(uow, username, org, roles, password, wall_clock(), display_name)
            audit_command(uow, "user create", "user", user.username, organisation=user.organisation_id,
                          roles=sorted(r.value for r in user.roles))
    typer.echo(f"user {user.username} of {user.organisation_id} created: {', '.join(r.value for r in user.roles)}")


@user_app.command("list")
def user_list(org: Annotated[str | None, typer.Option("--org", help="Only this organisation's users.")] = None,
              as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Users, by username: organisation, roles, enabled or disabled (by whom), made when (UTC);
    never their passwords. The read is in the audit log (an operator review had no way to see
    who exists or who is disabled)."""
    with errors_reported(), store(existing=True) as uow:
        if org is not None:
            uow.accounts.organisation(org)  # NotFoundError for a mistyped one, not an empty list
        users = uow.accounts.users(org)
        audit_command(uow, "user list", "users", org or "all", entry_kind="read", count=len(users))
    rows = [{"username": u.username, "organisation_id": u.organisation_id, "display_name": u.display_name,
             "roles": [r.value for r in u.roles], "active": u.active, "disabled_by": u.disabled_by,
             "created_at": u.created_at} for u in users]
    if as_json:
        print_json({"users": rows})
        return
    if not rows:
        typer.echo("no users" + (f" of {org}" if org else "") + ": `scheldt user create`")
    for r in rows:
        state = "enabled" if r["active"] else "DISABLED" + (f" by {r['disabled_by']}" if r["disabled_by"] else "")
        typer.echo(f"{r['username']}  {r['organisation_id']}  {', '.join(r['roles'])}  {state}  "
                   f"made {r['created_at']:%Y-%m-%d}" + (f"  ({r['display_name']})" if r["display_name"] else ""))


@user_app.command("password")
def user_password(
    username: Annotated[str, typer.Argument()],
    reason: Annotated[str, typer.Option("--reason", help="Why (audit log), e.g. the old one leaked.")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
) -> None:
    """Give a user a new password; the user's sessions end (API tokens stay: `scheldt token list`)."""
    with errors_reported():
        if not reason.strip():
            raise InputError("--reason", "say why (it goes to the audit log)")
        password = _password(password_stdin)
        with store() as uow:
            user, ended = accounts.set_password(uow, None, username, password, wall_clock())
            audit_command(uow, "user password", "user", user.username, reason=reason, sessions_ended=ended)
    typer.echo(f"user {user.username} of {user.organisation_id} has a new password; {ended} session(s) ended")


def _set_active(username: str, active: bool, reason: str) -> None:
    with errors_reported():
        if not reason.strip():
            raise InputError("--reason", "say why (it goes to the audit log)")
        with store() as uow:
            user, feeds = accounts.set_user_active(uow, None, username, active, wall_clock())
            audit_command(uow, f"user {'enable' if active else 'disable'}", "user", user.username, reason=reason,
                          **({"feeds_stopped": feeds} if feeds else {}))
    typer.echo(f"user {user.username} of {user.organisation_id} {'enabled' if active else 'disabled'}"
               + ("" if active else ": its sessions and tokens no longer work")
               + (f"; its {len(feeds)} DCSA Track & Trace feed(s) stopped" if feeds else ""))


@user_app.command("disable")
def user_disable(username: Annotated[str, typer.Argument()],
                 reason: Annotated[str, typer.Option("--reason", help="Why (audit log).")]) -> None:
    """Disable a user (left the service, password leaked): its sessions and tokens stop working at once."""
    _set_active(username, False, reason)


@user_app.command("enable")
def user_enable(username: Annotated[str, typer.Argument()],
                reason: Annotated[str, typer.Option("--reason", help="Why (audit log).")]) -> None:
    """Enable a disabled user again."""
    _set_active(username, True, reason)


@token_app.command("list")
def token_list(username: Annotated[str, typer.Argument()],
               as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """A user's API tokens: id, name, made, expires, revoked (never the secrets)."""
    with errors_reported(), store(existing=True) as uow:
        tokens = accounts.user_tokens(uow, None, username)
        audit_command(uow, "token list", "api-token", username, entry_kind="read")
    if as_json:
        print_json({"username": username, "tokens": tokens})
        return
    if not tokens:
        typer.echo(f"{username} has no API tokens")
    for t in tokens:
        typer.echo(f"{t['id']:>6}  {t['name']}  made {t['created_at']:%Y-%m-%d}  {_token_state(t, wall_clock())}")


def _token_state(token: dict[str, Any], now: datetime) -> str:
    """Revoked (when), expired (when; an operator review read past dates as "expires") or expires."""
    if token["revoked_at"]:
        return f"revoked {token['revoked_at']:%Y-%m-%d %H:%M} UTC"
    expires = token["expires_at"] if token["expires_at"].tzinfo else token["expires_at"].replace(tzinfo=UTC)
    return f"{'expired' if expires <= now else 'expires'} {expires:%Y-%m-%d}"


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="Token id (`scheldt token list USER`).")]) -> None:
    """Revoke an API token at once (a leaked or no longer needed one)."""
    with errors_reported(), store() as uow:
        owner = accounts.revoke_token(uow, None, token_id, wall_clock())
        audit_command(uow, "token revoke", "api-token", str(token_id), owner=owner)
    typer.echo(f"token {token_id} of {owner} revoked")


@token_app.command("create")
def token_create(
    username: Annotated[str, typer.Argument()],
    name: Annotated[str, typer.Option("--name", help="What the token is for.")] = "api token",
    days: Annotated[int, typer.Option("--days", help="Valid for this many days (1-730).")] = 90,
) -> None:
    """Make an API token for a user; the secret is printed once (send it as `Authorization: Bearer ...`)."""
    with errors_reported(), store() as uow:
        secret = accounts.create_token(uow, username, name, days, wall_clock())
        audit_command(uow, "token create", "api-token", username, name=name, days=days)
    typer.echo(secret)


@scanner_app.command("add")
def scanner_add(
    scanner_id: Annotated[str, typer.Argument()],
    org: Annotated[str, typer.Option("--org")],
    capacity: Annotated[int, typer.Option("--capacity", help="Containers per shift.")],
    name: Annotated[str, typer.Option("--name")] = "",
    site: Annotated[str, typer.Option("--site")] = "",
) -> None:
    """Register an NII scanner of an organisation with its capacity per shift."""
    with errors_reported(), store() as uow:
        scanner = inspections.register_scanner(uow, uow.accounts.organisation(org), scanner_id, name, site, capacity)
        audit_command(uow, "scanner add", "scanner", scanner["id"], organisation=org, capacity=capacity, site=site)
    typer.echo(f"scanner {scanner['id']} of {org}: {capacity} containers per shift")


@scanner_app.command("set")
def scanner_set(
    scanner_id: Annotated[str, typer.Argument()],
    org: Annotated[str, typer.Option("--org")],
    capacity: Annotated[int | None, typer.Option(
        "--capacity", help="Containers per shift, from now on; 0: out of service until set again.")] = None,
    name: Annotated[str | None, typer.Option("--name")] = None,
    site: Annotated[str | None, typer.Option("--site")] = None,
) -> None:
    """Change a scanner's capacity per shift, name or site (a scanner down for repair, a new
    crew). Orders already planned stay; shifts that now hold more are listed to be re-planned."""
    with errors_reported(), store() as uow:
        if capacity is None and name is None and site is None:
            raise InputError("scanner set", "nothing to change: give --capacity, --name or --site")
        # the real clock, as the server that plans on it: a change dated by a pinned SCHELDT_NOW gave every
        # shift worked since 2021 the new capacity (a regression review)
        scanner, over = inspections.change_scanner(uow, uow.accounts.organisation(org), scanner_id, wall_clock(),
                                                    capacity=capacity, name=name, site=site)
        audit_command(uow, "scanner set", "scanner", scanner["id"], organisation=org, capacity=capacity, name=name,
                      site=site)
    typer.echo(f"scanner {scanner['id']} of {org}: {scanner['capacity_per_shift']} containers per shift"
               f"\t{scanner['name']}\t{scanner['site']}")
    for shift_date, shift, taken, planned in over:  # only planned orders can still be cancelled (a review)
        what = (f"{planned} still planned: cancel with a reason those it cannot scan" if planned
                else "none still planned (all scanned or done): nothing to cancel")
        typer.echo(f"warning: the {shift} shift of {shift_date} holds {taken} orders, "
                   f"{taken - scanner['capacity_per_shift']} over the new capacity; {what}", err=True)


@scanner_app.command("list")
def scanner_list(org: Annotated[str, typer.Option("--org")]) -> None:
    """An organisation's scanners: id, capacity per shift, name, site."""
    with errors_reported(), store(existing=True) as uow:
        uow.accounts.organisation(org)
        rows = uow.inspections.scanners(org)
    for s in rows:
        typer.echo(f"{s['id']}\t{s['capacity_per_shift']} per shift\t{s['name']}\t{s['site']}")
    if not rows:
        typer.echo(f"{org} has no scanners")


def serve(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    jobs: Annotated[bool, typer.Option("--jobs/--no-jobs", help="Run the job runner in this process.")] = True,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help=(
        "Worker processes serving requests; with more than one, this process accepts connections, hands each "
        "to the worker with the fewest open, supervises them and runs the jobs."))] = 1,
) -> None:
    """Run the REST API (OpenAPI at /docs) and the workbench on the configured store."""
    import uvicorn

    from scheldt.api.app import create_app
    from scheldt.api.workers import Supervisor, outliving_uvicorn_stop_signals, proxy_options, served_url
    from scheldt.exchange import stix_check
    from scheldt.store.db import open_store, shown_url, unit_of_work

    configure_logging("info")  # each line with its time and level, the job runner's too (operator review)
    with errors_reported():
        if workers == 1:
            _check_address(host, port)
        # a mistyped SCHELDT_DATA_DIR served a new empty store nobody could sign in to (operator review)
        engine = open_store(existing_store_url_for("nothing to serve: make the store first (`scheldt db upgrade`, "
                                                   "then organisations and users: see the README)"))
        # which store this process serves (an operator review ran a server on each of two databases
        # sharing one data dir, and the logs could not tell them apart)
        log.info("store %s, data dir %s", shown_url(settings().resolved_database_url), settings().data_dir)
        with unit_of_work(engine) as uow:
            warn_unknown_local_organisation(uow, logger=log)
            if uow.container_trips.count(None, TripFilter()) == 0 and uow.trip_assessments.any():
                typer.echo(f"indexed {reindex_trips(uow)} container trips")
        supervisor = (Supervisor(f"{__name__}:{'worker_app' if jobs else 'worker_app_without_jobs'}", host, port,
                                 workers) if workers > 1 else None)
        runner, take_over = _start_jobs(settings().resolved_database_url) if jobs else (None, None)
    try:
        if supervisor is None:
            app = create_app(engine, jobs=runner, warm=True)
            with outliving_uvicorn_stop_signals():  # a SIGTERM would otherwise kill us before the finally below
                uvicorn.run(app, host=host, port=port, log_level="info", log_config=log_config("info"),
                            **proxy_options())
        else:
            engine.dispose()
            stix_check.share_cores(workers)  # this process's jobs (federation pulls) check STIX too
            with errors_reported():
                supervisor.run(lambda p: typer.echo(f"serving on {served_url(host, p)} with {workers} workers"))
    finally:
        if take_over is not None:
            take_over.stop()
        if runner is not None and runner.started:
            _write_last_head(engine)
            runner.shutdown()
        engine.dispose()


def _write_last_head(engine: Any) -> None:
    """Write the audit chain's head out once more at shutdown: heads go out every few minutes,
    and an oversight review deleted the entries made since the last one before a restart, which
    verify could not see."""
    from scheldt.store.audit import default_head_file
    from scheldt.store.db import unit_of_work

    try:
        with unit_of_work(engine) as uow:
            head = uow.audit.write_head(default_head_file(settings().data_dir), wall_clock())
        log.info("audit head written at shutdown: entry %s", head.seq)
    except Exception as exc:  # noqa: BLE001 - a store gone at shutdown must not hide why the server stopped
        log.warning("could not write the audit head at shutdown: %s", exc)


def _check_address(host: str, port: int) -> None:
    """Raise ConfigError when (``host``, ``port``) cannot be bound (taken, or not an address of
    this host), before anything starts: uvicorn would find it only after start-up, and exit 3
    with the start-up threads' errors behind its own."""
    import socket

    from scheldt.api.workers import passive_address

    family, kind, proto, address = passive_address(host, port)
    probe = socket.socket(family, kind, proto)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        probe.bind(address)
    except OSError as exc:
        raise ConfigError("--port", f"cannot serve on {host} port {port}: {exc.strerror or exc}") from None
    finally:
        probe.close()


def worker_app() -> object:
    """The app one worker of ``scheldt serve --workers N`` serves: API and workbench on the
    configured store; jobs submitted through it are queued for the supervising process's runner."""
    return _worker_app(jobs=True)


def worker_app_without_jobs() -> object:
    """As :func:`worker_app` for ``scheldt serve --no-jobs --workers N``: no job routes' runner."""
    return _worker_app(jobs=False)


def _worker_app(jobs: bool) -> object:
    from scheldt.api.app import create_app
    from scheldt.store.db import open_store

    url = settings().resolved_database_url
    return create_app(open_store(url), jobs=JobRunner(url) if jobs else None, warm=True)


def _start_jobs(url: str) -> tuple[JobRunner, _TakeOver | None]:
    """A started job runner writing the audit chain head every ``audit_head_every_s``, and
    running the other recurring work; when another process holds this database's runner (a
    `scheldt jobs run --wait`, another server), an unstarted one (submissions are queued for
    that process) with a :class:`_TakeOver` that starts it once that process lets go."""
    runner = JobRunner(url)
    try:
        runner.start()
    except RunnerBusyError as exc:
        typer.echo(f"jobs: {exc.why}; submissions are queued for the process that runs them, and this server "
                   f"takes the jobs over when it stops (checked every {TAKE_OVER_EVERY_S:g} s)", err=True)
        return runner, _TakeOver(runner, TAKE_OVER_EVERY_S)
    _schedule_recurring(runner)
    return runner, None


#: Seconds after start the first audit-chain head is written out.
AUDIT_HEAD_FIRST_S = 10


def _schedule_recurring(runner: JobRunner) -> None:
    # a head soon after start too: every start put the first one a whole interval away, so a node
    # restarted more often than that never wrote its head out (robustness review)
    runner.schedule_recurring("audit-head", {}, settings().audit_head_every_s, first_in_s=AUDIT_HEAD_FIRST_S)
    # the first purge a minute after start: a server restarted daily never purged (oversight review)
    runner.schedule_recurring("audit-purge", {}, AUDIT_PURGE_EVERY_S, first_in_s=60)
    runner.schedule_recurring("prune-runs", {}, AUDIT_PURGE_EVERY_S)
    runner.schedule_recurring("deliver-notices", {}, settings().notice_delivery_every_s)
    runner.schedule_recurring("federation-pull", {"which": "due"}, settings().federation_pull_every_s)
    runner.schedule_recurring("expire-shared-entries", {}, EXPIRE_EVERY_S)


#: How often a server whose store's jobs another process runs tries to take them over (seconds).
TAKE_OVER_EVERY_S = 10.0


class _TakeOver:
    """Tries every ``every_s`` seconds, in a thread, to start ``runner`` (take the job-runner
    lock), then schedules the recurring work: an operator review restarted the server while a
    `scheldt jobs run --wait` ran, and the server never ran a job again (no audit head, no
    notices, no federation pulls, queued runs left queued). :meth:`stop` before shutting down."""

    def __init__(self, runner: JobRunner, every_s: float) -> None:
        self.runner = runner
        self.every_s = every_s
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="scheldt-jobs-take-over", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.wait(self.every_s):
            with self._lock:
                if self._stopping.is_set():
                    return
                try:
                    self.runner.start()
                except RunnerBusyError:
                    continue
                except Exception as exc:  # noqa: BLE001 - the database away for a while: try again later
                    log.warning("jobs: could not take over the job runner: %s", exc)
                    continue
                _schedule_recurring(self.runner)
            typer.echo("jobs: the other job runner stopped; this server runs this store's jobs now", err=True)
            return

    def stop(self) -> None:
        """Stop trying (a start under way finishes first)."""
        with self._lock:
            self._stopping.set()


def register(app: typer.Typer) -> None:
    """Add the service commands to ``app``."""
    app.add_typer(org_app, name="org")
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")
    app.add_typer(scanner_app, name="scanner")
    app.command("serve")(serve)
