"""``scheldt audit verify | head | purge | list``: exit statuses and what they print."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from scheldt.cli import app
from scheldt.settings import get_settings
from scheldt.store.audit import audit_payload
from scheldt.store.db import open_store, unit_of_work

runner = CliRunner()
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, " ".join(result.stderr.split())


def append(n: int, kind: str, start: datetime) -> None:
    engine = open_store(get_settings().resolved_database_url)
    with unit_of_work(engine) as uow:
        for i in range(n):
            uow.audit.append(kind, "agency-a", audit_payload("ann", "agency-a", f"GET /api/v1/trips/{i}", "trip", str(i),
                                                             "10.1.2.3"), start + timedelta(minutes=i))
    engine.dispose()


def sql(statement: str) -> None:
    engine = open_store(get_settings().resolved_database_url)
    with engine.begin() as conn:
        conn.execute(text(statement))
    engine.dispose()


def test_verify_exit_status_follows_the_chain(settings_env: Path) -> None:
    append(5, "read", T0)
    code, out, err = invoke("audit", "verify")
    assert code == 0
    assert out == "5 entries checked (0 purged), last entry 5: chain intact\n"
    assert "no head written out yet" in err
    code, out, _ = invoke("audit", "head")
    heads = settings_env / "audit" / "heads.jsonl"
    assert code == 0 and out.startswith("head: entry 5 ") and out.endswith(f"written to {heads}\n")
    assert json.loads(heads.read_text())["seq"] == 5
    code, out, err = invoke("audit", "verify")
    assert code == 0 and err == "" and "head written out at" in out and "is entry 5: chain intact" in out

    sql("DELETE FROM audit_entry WHERE seq > 3")
    sql("UPDATE audit_entry SET payload = '{\"actor\": \"bob\"}' WHERE seq = 2")
    code, out, _ = invoke("audit", "verify")
    lines = out.splitlines()
    assert code == 1
    assert lines[0] == "entry 2: payload does not match its digest (edited?)"
    assert lines[1].startswith("entry 5: the chain ends at entry 3 but the head written out at ")
    assert lines[1].endswith(" is entry 5 (truncated?)")
    assert lines[2].endswith("chain NOT intact: 2 problem(s)")
    code, out, _ = invoke("audit", "verify", "--json")
    report = json.loads(out)
    assert code == 1 and (report["ok"], report["checked"], report["problem_count"]) == (False, 3, 2)
    assert [p["seq"] for p in report["problems"]] == [2, 5]


def test_verify_with_a_missing_or_broken_head_file_is_an_error(settings_env: Path, tmp_path: Path) -> None:
    append(2, "read", T0)
    code, _, err = invoke("audit", "verify", "--head-file", str(tmp_path / "nope.jsonl"))
    assert code == 2 and "no audit head file" in err
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"seq": -1, "entry_hash": "x", "at": "2026-01-01T00:00:00+00:00"}\n')
    code, _, err = invoke("audit", "verify", "--head-file", str(broken))
    assert code == 2 and f"{broken}:1: seq -1 is not a whole number >= 0" in err


def test_a_head_line_cut_short_is_skipped_and_the_next_head_starts_a_line(settings_env: Path, tmp_path: Path) -> None:
    """An operator review cut a head line short (a crash or a full disk does): later heads were
    appended onto it, and `audit verify` refused to check anything for good."""
    append(2, "read", T0)
    heads = tmp_path / "heads.jsonl"
    assert invoke("audit", "head", "--head-file", str(heads))[0] == 0
    heads.write_text(heads.read_text() + '{"seq": 2, "entry_h')  # torn
    assert invoke("audit", "head", "--head-file", str(heads))[0] == 0
    lines = heads.read_text().splitlines()
    assert len(lines) == 3 and lines[1] == '{"seq": 2, "entry_h' and lines[2].startswith('{"seq":')
    code, out, err = invoke("audit", "verify", "--head-file", str(heads))
    assert code == 0 and "chain intact" in out and f"{heads}:2: a head line cut short" in err


def test_purge_uses_the_retention_settings_and_keeps_the_chain(settings_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHELDT_AUDIT_RETENTION_DAYS", '{"read": 30, "write": 3650}')
    # a replay clock is no cut-off: the purge and its entry go by the real clock (an operator
    # review purged minutes-old payloads with SCHELDT_NOW=2028-06-01)
    monkeypatch.setenv("SCHELDT_NOW", "2028-06-01T00:00:00Z")
    get_settings.cache_clear()
    t0 = datetime.now(UTC).replace(second=0, microsecond=0)
    append(4, "read", t0 - timedelta(days=31))
    append(2, "write", t0 - timedelta(days=31))
    append(3, "read", t0 - timedelta(days=29))
    assert invoke("audit", "head")[0] == 0
    code, out, _ = invoke("audit", "purge")
    assert code == 0
    assert out == "purged the payload of 4 entries (retention: read 30 days, write 3650 days); recorded as entry 10\n"
    code, out, _ = invoke("audit", "verify")
    assert code == 0 and out.startswith("10 entries checked (4 purged), last entry 10")
    code, out, _ = invoke("audit", "list", "--after", "3", "--limit", "2")
    early = t0 - timedelta(days=31)
    assert out.splitlines() == [
        f"       4 {early + timedelta(minutes=3):%Y-%m-%d %H:%M:%S}Z read           agency-a         "
        f"(payload purged {datetime.now(UTC):%Y-%m-%d})",
        f"       5 {early:%Y-%m-%d %H:%M:%S}Z write          agency-a         ann GET /api/v1/trips/0 trip 0 from "
        "10.1.2.3",
        "more: go on with --after 5"]
    code, out, _ = invoke("audit", "list", "--after", "9", "--json")
    listed = json.loads(out)
    purge, listing = listed["entries"]  # the purge, and the listing just before (itself audited)
    assert (listing["kind"], listing["payload"]["action"]) == ("read", "scheldt audit list")
    # read to its end as it stood: nothing more to page on to, though this listing adds an entry
    # (a regression review's script paged until an empty page, and never got one)
    assert listed["next_after"] is None
    assert json.loads(invoke("audit", "list", "--after", "7", "--limit", "2", "--json")[1])["next_after"] == 9
    assert purge["at"][:10] == f"{datetime.now(UTC):%Y-%m-%d}"
    assert (purge["seq"], purge["kind"], purge["organisation_id"]) == (10, "purge", "local-agency")
    assert purge["payload"]["details"] == {"purged": 4, "retention_days": {"read": 30, "write": 3650}}
    assert purge["payload"]["action"] == "scheldt audit purge"
    # an operator review: lengthening a retention (or leaving a kind out) made the lawful purge
    # read as tampering; each purge is judged by the retention it recorded (a retention shorter
    # than the one configured now is noted, for a person to confirm: an audit review)
    for later, noted in (('{"read": 400, "write": 3650}', True), ('{"write": 3650}', False)):
        monkeypatch.setenv("SCHELDT_AUDIT_RETENTION_DAYS", later)
        get_settings.cache_clear()
        code, out, err = invoke("audit", "verify")
        assert code == 0 and out.startswith("13 entries checked (4 purged), last entry 13"), out
        assert ("note the purge at" in err and "recorded a 30-day retention for kind 'read', shorter than the 400 "
                "days configured now" in err) is noted, err


def test_a_setting_that_cannot_be_read_is_one_line_and_exit_2_even_for_audit_verify(tmp_path: Path) -> None:
    """`audit verify` read its settings outside its error reporting: a bad setting was a
    traceback and exit 1, which monitoring reads as a broken chain (new-user review)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "SCHELDT_DATA_DIR": str(tmp_path), "SCHELDT_THREADS": "abc"}
    done = subprocess.run([sys.executable, "-c", "from scheldt.cli import main; main()", "audit", "verify"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert " ".join(done.stderr.split()).startswith("error SCHELDT_THREADS: Input should be a valid integer")


def test_a_misspelt_audit_kind_in_the_retention_setting_is_refused(tmp_path: Path) -> None:
    """``{"reads": 30}`` was accepted and kept every read's payload for ever (review)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "SCHELDT_DATA_DIR": str(tmp_path), "SCHELDT_AUDIT_RETENTION_DAYS": '{"reads": 30}'}
    done = subprocess.run([sys.executable, "-c", "from scheldt.cli import main; main()", "audit", "purge"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "unknown audit kind(s) reads; the kinds are read, write, denied" in " ".join(done.stderr.split())


def test_a_retention_of_true_too_long_or_for_purges_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """An operator review: {"sign-in": true} purged sign-ins after 1 day (JSON true read as 1)."""
    from scheldt.errors import ConfigError

    for value, why in (('{"sign-in": true}', "integer"), ('{"sign-in": 90.5}', "integer"),
                       ('{"sign-in": "90"}', "integer"),
                       # a regression review: 99999999999 days overflowed the purge, and a purge entry's own
                       # purged payload lost the retention verify judges its purge by
                       ('{"read": 99999999999}', "retention must be 1 to 36,500 days: {'read': 99999999999}"),
                       ('{"read": 400, "purge": 30}', "purge entries are kept for ever")):
        monkeypatch.setenv("SCHELDT_AUDIT_RETENTION_DAYS", value)
        get_settings.cache_clear()
        with pytest.raises(ConfigError) as refused:
            get_settings()
        assert refused.value.where == "SCHELDT_AUDIT_RETENTION_DAYS" and why in refused.value.why
    monkeypatch.setenv("SCHELDT_AUDIT_RETENTION_DAYS", '{"sign-in": 90}')
    get_settings.cache_clear()
    assert get_settings().audit_retention_days == {"sign-in": 90}
    get_settings.cache_clear()


def test_commands_that_change_who_may_do_what_are_audited(settings_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Organisations, users and API tokens made on the command line were not in the audit log
    (new-user review); the token's secret never is."""
    import os
    import pwd

    monkeypatch.setenv("SCHELDT_LOCAL_ORGANISATION", "be-customs")
    monkeypatch.setenv("LOGNAME", "officer")  # an oversight review named another actor this way
    monkeypatch.setenv("USER", "officer")
    monkeypatch.setenv("SCHELDT_NOW", "2021-04-22T12:00:00Z")  # a replay clock left set: not for accounts
    get_settings.cache_clear()
    assert runner.invoke(app, ["org", "create", "be-customs", "--name", "BE", "--kind", "agency"]).exit_code == 0
    made = runner.invoke(app, ["user", "create", "ann", "--org", "be-customs", "--role", "analyst", "--password-stdin"],
                         input="correct horse battery\n")
    assert made.exit_code == 0, made.stderr
    token = runner.invoke(app, ["token", "create", "ann", "--name", "batch", "--days", "30"])
    assert token.exit_code == 0
    out = runner.invoke(app, ["audit", "list", "--json"]).stdout
    entries = [e for e in json.loads(out)["entries"] if e["payload"]["remote_addr"] == "local"]
    assert [(e["kind"], e["payload"]["action"], e["payload"]["object_kind"], e["payload"]["object_id"])
            for e in entries] == [("write", "scheldt org create", "organisation", "be-customs"),
                                  ("write", "scheldt user create", "user", "ann"),
                                  ("write", "scheldt token create", "api-token", "ann")]
    assert {e["payload"]["actor"] for e in entries} == {pwd.getpwuid(os.geteuid()).pw_name}
    assert entries[1]["payload"]["details"]["roles"] == ["analyst"]
    assert entries[2]["payload"]["details"] == {"name": "batch", "days": 30}
    assert token.stdout.strip() not in out
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0
    # the entries and the token go by the real clock (an operator review got a token that had
    # expired in 2021, and audit entries dated years apart)
    today = f"{datetime.now(UTC):%Y-%m-%d}"
    assert {e["at"][:10] for e in entries} == {today}
    engine = open_store(get_settings().resolved_database_url)
    with unit_of_work(engine) as uow:
        [listed] = uow.accounts.tokens(uow.accounts.user("ann").id)
    engine.dispose()
    assert listed["expires_at"] > datetime.now(UTC) + timedelta(days=29)


def _agency_with_bob(monkeypatch: pytest.MonkeyPatch) -> None:
    """be-customs, the local agency, with analyst bob (password "correct horse battery")."""
    monkeypatch.setenv("SCHELDT_LOCAL_ORGANISATION", "be-customs")
    get_settings.cache_clear()
    runner.invoke(app, ["org", "create", "be-customs", "--name", "BE", "--kind", "agency"])
    runner.invoke(app, ["user", "create", "bob", "--org", "be-customs", "--role", "analyst", "--password-stdin"],
                  input="correct horse battery\n")


def test_an_operator_disables_a_user_and_revokes_a_token(settings_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An operator review: a leaked token or a departing officer needed direct SQL."""
    from scheldt.workflows.accounts import authenticate

    _agency_with_bob(monkeypatch)
    secret = runner.invoke(app, ["token", "create", "bob", "--name", "laptop"]).stdout.strip()
    listed = json.loads(runner.invoke(app, ["token", "list", "bob", "--json"]).stdout)["tokens"]
    assert [t["name"] for t in listed] == ["laptop"] and secret not in json.dumps(listed)
    done = runner.invoke(app, ["token", "revoke", str(listed[0]["id"])])
    assert done.exit_code == 0 and done.stdout == f"token {listed[0]['id']} of bob revoked\n"
    unknown = runner.invoke(app, ["token", "revoke", "999"])
    assert unknown.exit_code == 2 and " ".join(unknown.stderr.split()) == "error token 999: no such token"
    second = runner.invoke(app, ["token", "create", "bob"]).stdout.strip()
    off = runner.invoke(app, ["user", "disable", "bob", "--reason", "left the service"])
    assert off.exit_code == 0 and "its sessions and tokens no longer work" in off.stdout
    # who exists and who is disabled (an operator review had no command for it)
    users = json.loads(runner.invoke(app, ["user", "list", "--json"]).stdout)["users"]
    assert [(u["username"], u["organisation_id"], u["roles"], u["active"]) for u in users if u["username"] == "bob"] \
        == [("bob", "be-customs", ["analyst"], False)]
    listed = runner.invoke(app, ["user", "list", "--org", "be-customs"])
    assert listed.exit_code == 0 and re.search(r"^bob  be-customs  analyst  DISABLED  made \d{4}-\d\d-\d\d  \(bob\)$",
                                                listed.stdout, re.M), listed.stdout
    missing = runner.invoke(app, ["user", "list", "--org", "be-custom"])
    assert missing.exit_code == 2 and "organisation be-custom: no such organisation" in missing.stderr
    # a token made for a disabled user began to work once the user was enabled (operator review)
    made = runner.invoke(app, ["token", "create", "bob", "--name", "while away"])
    assert made.exit_code == 2 and "username: bob is disabled: enable the user first" in made.stderr
    engine = open_store(get_settings().resolved_database_url)
    with unit_of_work(engine) as uow:
        for token in (secret, second):  # disabling revoked the second too
            with pytest.raises(Exception) as caught:
                authenticate(uow, token, datetime.now(UTC))
            assert "this token was revoked" in str(caught.value)
    engine.dispose()
    assert runner.invoke(app, ["user", "enable", "bob", "--reason", "came back"]).exit_code == 0
    actions = [e["payload"]["action"] for e in json.loads(runner.invoke(app, ["audit", "list", "--json"]).stdout)["entries"]]
    assert {"scheldt token revoke", "scheldt user disable", "scheldt user enable"} <= set(actions)
    # a misspelt SCHELDT_LOCAL_ORGANISATION went into the chain for good without a word (operator review):
    # a purge (a record of what was emptied) is refused, an account change warned of
    monkeypatch.setenv("SCHELDT_LOCAL_ORGANISATION", "be-custom")
    get_settings.cache_clear()
    unknown = "SCHELDT_LOCAL_ORGANISATION: 'be-custom' is not an organisation of this store (be-customs)"
    refused = runner.invoke(app, ["audit", "purge"])
    assert refused.exit_code == 2 and unknown in refused.stderr
    warned = runner.invoke(app, ["token", "create", "bob", "--name", "typo"])
    assert warned.exit_code == 0 and ("warning SCHELDT_LOCAL_ORGANISATION is 'be-custom', which is not an organisation "
                                      "of this store (be-customs): this command is recorded in the audit log as by "
                                      "it.") in warned.stderr


def test_search_answers_who_read_a_container_and_is_itself_recorded(settings_env: Path) -> None:
    """An oversight review could only dump the whole log and grep it to learn who looked at a
    container last week; reading the log left no trace either."""
    t0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    engine = open_store(get_settings().resolved_database_url)
    with unit_of_work(engine) as uow:
        for actor, obj, day in (("ann", "CMAU1026750", 0), ("bob", "MSCU4057166", 1),
                                 ("bob", "CMAU1026750", 2), ("ann", "CMAU1026750", 9)):
            uow.audit.append("read", "be-customs", audit_payload(actor, "be-customs", f"GET /api/v1/containers/{obj}",
                                                                 "container", obj, "10.0.0.1"), t0 + timedelta(days=day))
    engine.dispose()
    code, out, _ = invoke("audit", "search", "--text", "cmau1026750", "--since", "2026-11-20", "--until", "2026-11-25")
    assert code == 0 and [line.split()[5] for line in out.splitlines()] == ["ann", "bob"]
    code, out, _ = invoke("audit", "search", "--actor", "bob", "--json")
    found = json.loads(out)
    assert [e["payload"]["object_id"] for e in found["entries"]] == ["MSCU4057166", "CMAU1026750"]
    assert found["next_after"] is None
    code, out, _ = invoke("audit", "search", "--actor", "ann", "--limit", "1")
    assert out.splitlines()[-1] == "more may match: go on with --after 1"
    code, _, err = invoke("audit", "search", "--kind", "reads")
    assert code == 2 and "kind 'reads' is not one of read" in " ".join(err.split())
    code, _, err = invoke("audit", "search", "--since", "last week")
    assert code == 2 and "--since: 'last week' is not a date" in " ".join(err.split())
    code, out, _ = invoke("audit", "search", "--actor", "nobody")
    assert out == "no entry matches\n"
    searches = [e for e in json.loads(invoke("audit", "list", "--json")[1])["entries"]
                if e["payload"]["action"] == "scheldt audit search"]
    assert len(searches) == 4 and searches[0]["kind"] == "read"
    assert searches[0]["payload"]["details"]["text"] == "cmau1026750"


def test_a_leaked_password_is_replaced_and_its_sessions_end(settings_env: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """An operator review: after `user disable` and `user enable` for a leaked password, the old
    password signed in again; there was no way to give a new one."""
    from scheldt.errors import AuthError
    from scheldt.workflows.accounts import authenticate, sign_in

    _agency_with_bob(monkeypatch)
    token = runner.invoke(app, ["token", "create", "bob", "--name", "laptop"]).stdout.strip()
    engine = open_store(get_settings().resolved_database_url)
    with unit_of_work(engine) as uow:
        session, _ = sign_in(uow, "bob", "correct horse battery", datetime.now(UTC))
    short = runner.invoke(app, ["user", "password", "bob", "--reason", "leaked", "--password-stdin"], input="short\n")
    assert short.exit_code == 2 and "password: must be at least 12 characters" in short.stderr
    nul = runner.invoke(app, ["user", "password", "bob", "--reason", "x", "--password-stdin"],
                        input="twelve\x00chars-long\n")
    assert nul.exit_code == 2 and "password: must not hold a control character" in nul.stderr
    done = runner.invoke(app, ["user", "password", "bob", "--reason", "leaked", "--password-stdin"],
                         input="a new and longer one\r\n")  # a line as Windows ends it
    assert (done.exit_code, done.stdout) == (0, "user bob of be-customs has a new password; 1 session(s) ended\n")
    with unit_of_work(engine) as uow:
        with pytest.raises(AuthError):
            sign_in(uow, "bob", "correct horse battery", datetime.now(UTC))
        with pytest.raises(AuthError, match="revoked"):
            authenticate(uow, session, datetime.now(UTC))
        assert authenticate(uow, token, datetime.now(UTC)).username == "bob"  # tokens stay
        assert sign_in(uow, "bob", "a new and longer one", datetime.now(UTC))[0]
    engine.dispose()
    assert runner.invoke(app, ["user", "password", "nobody", "--reason", "x", "--password-stdin"],
                         input="a new and longer one\n").exit_code == 2
    [entry] = [e for e in json.loads(runner.invoke(app, ["audit", "list", "--json"]).stdout)["entries"]
               if e["payload"]["action"] == "scheldt user password"]
    assert entry["payload"]["details"] == {"reason": "leaked", "sessions_ended": 1}
    assert "a new and longer one" not in json.dumps(entry)


def test_a_token_past_its_expiry_reads_expired() -> None:
    """An operator review read "expires 2026-12-01" for a token that had expired."""
    from scheldt.cli.service import _token_state

    now = datetime(2026, 12, 3, tzinfo=UTC)
    token = {"revoked_at": None, "expires_at": datetime(2026, 12, 1, tzinfo=UTC)}
    assert _token_state(token, now) == "expired 2026-12-01"
    assert _token_state(token | {"expires_at": datetime(2027, 1, 1)}, now) == "expires 2027-01-01"
    assert _token_state(token | {"revoked_at": datetime(2026, 11, 30, 8, 5)}, now) == "revoked 2026-11-30 08:05 UTC"


def test_serve_says_an_unknown_local_organisation_as_a_log_line(settings_env: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    """An operator review: `scheldt serve` printed this one warning as a bare line among its
    time-stamped log lines, where log readers missed it."""
    import logging

    from scheldt.cli.common import warn_unknown_local_organisation
    from scheldt.store.db import open_store, unit_of_work

    assert runner.invoke(app, ["org", "create", "be-customs", "--name", "BE", "--kind", "agency"]).exit_code == 0
    monkeypatch.setenv("SCHELDT_LOCAL_ORGANISATION", "be-custom")
    get_settings.cache_clear()
    engine = open_store(get_settings().resolved_database_url)
    with caplog.at_level(logging.WARNING, logger="scheldt.cli.service"), unit_of_work(engine) as uow:
        warn_unknown_local_organisation(uow, logger=logging.getLogger("scheldt.cli.service"))
    engine.dispose()
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [(
        "WARNING", "SCHELDT_LOCAL_ORGANISATION is 'be-custom', which is not an organisation of this store "
                   "(be-customs): what is loaded is recorded as supplied by it, and no user sees it. Set "
                   "SCHELDT_LOCAL_ORGANISATION to this node's agency.")]


def test_a_statement_the_database_refuses_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A regression review: `audit list` on a read-only PostgreSQL store (it records the listing)
    ended with a 67-line traceback; a statement the database refuses for its state is now one
    line. One the code got wrong keeps its traceback (another review found "the database
    refused" hiding such bugs)."""
    import typer
    from sqlalchemy.exc import InternalError, ProgrammingError

    from scheldt.cli.common import errors_reported

    refused = Exception("cannot execute INSERT in a read-only transaction\nCONTEXT: ...")
    with pytest.raises(typer.Exit) as stopped, errors_reported():
        raise InternalError("INSERT INTO audit_entry ...", None, refused)
    assert stopped.value.exit_code == 2
    assert " ".join(capsys.readouterr().err.split()) == (
        "error store: the database refused: cannot execute INSERT in a read-only transaction")
    with pytest.raises(ProgrammingError), errors_reported():
        raise ProgrammingError("SELECT purged_at FROM audit_entry", None, Exception("column does not exist"))


def test_a_statement_sqlite_refuses_as_wrong_keeps_its_traceback(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A regression review: SQLite raises a statement the code got wrong ("no such column") as
    OperationalError, the class of a locked or read-only store, and the unit of work told it as
    "connection lost or refused ... try again", the command line in one line without a
    traceback. It now reaches the command line as the error it is; a read-only SQLite store is
    still one line."""
    import typer
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from scheldt.cli.common import errors_reported

    engine = open_store(f"sqlite:///{tmp_path / 'wrong.db'}")
    with pytest.raises(OperationalError, match="no such column: no_such_column"), errors_reported(), \
            unit_of_work(engine) as uow:
        uow.session.execute(text("SELECT no_such_column FROM audit_entry"))
    assert "error" not in capsys.readouterr().err
    with pytest.raises(typer.Exit) as stopped, errors_reported():
        with engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA query_only = 1")  # the store refuses every write, as a read-only file does
            conn.execute(text("DELETE FROM audit_entry"))
    assert stopped.value.exit_code == 2
    assert " ".join(capsys.readouterr().err.split()) == (
        "error store: the database refused: attempt to write a readonly database")
    engine.dispose()


def test_paging_by_next_after_ends_though_each_listing_is_recorded(settings_env: Path) -> None:
    """A regression review: at --limit 1 each page read one entry and added its own listing, so
    next_after never came back null; listings after the page no longer count as more."""
    append(3, "read", datetime.now(UTC) - timedelta(days=1))
    after, pages = 0, 0
    while after is not None:
        page = json.loads(invoke("audit", "list", "--after", str(after), "--limit", "1", "--json")[1])
        after, pages = page["next_after"], pages + 1
        assert pages < 10, "next_after never ends"
    assert pages == 3
    # an entry after more than a thousand listings is still more (a regression review: it was not)
    engine = open_store(get_settings().resolved_database_url)
    with unit_of_work(engine) as uow:
        last = uow.audit.count()
        for _ in range(1001):
            uow.audit.append("read", "local-agency", audit_payload("cron", "local-agency", "scheldt audit list",
                                                                   "audit", ""), datetime.now(UTC))
    engine.dispose()
    append(1, "write", datetime.now(UTC))
    page = json.loads(invoke("audit", "list", "--after", str(last - 1), "--limit", "1", "--json")[1])
    assert page["next_after"] == last
