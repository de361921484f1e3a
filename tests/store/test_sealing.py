"""Credentials kept at rest are sealed with a key outside the database (scheldt.store.sealing):
a federation peer's password or token and a carrier subscription's signing secret were kept in
clear, readable by anyone holding a database dump."""

from __future__ import annotations

import json
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from cryptography.fernet import Fernet
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from typer.testing import CliRunner

from scheldt.cli import app
from scheldt.errors import ConfigError
from scheldt.settings import get_settings
from scheldt.store import sealing
from scheldt.store.db import _alembic_config, make_engine, unit_of_work, upgrade
from scheldt.store.models import PeerRow, SubscriptionRow
from scheldt.workflows.accounts import create_organisation

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
SUB_SECRET = "a carrier's signing secret of 32+ bytes, not in clear"


@pytest.fixture
def key_file(settings_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No SCHELDT_SECRETS_KEY: the key is the data directory's file."""
    monkeypatch.delenv("SCHELDT_SECRETS_KEY", raising=False)
    get_settings.cache_clear()
    return settings_env / sealing.KEY_FILE


@given(st.text(max_size=300))
@settings(max_examples=50, deadline=None)
def test_what_is_sealed_unseals_to_itself_and_is_not_kept_in_clear(secret: str) -> None:
    stored = sealing.seal(secret)
    assert stored.startswith("sealed:v1:") and sealing.unseal(stored) == secret
    assert sealing.seal(secret) != stored  # a random IV each time: equal secrets do not show as equal
    if len(secret) >= 4:  # not in the sealed text (the "sealed:v1:" prefix is ours: a secret "seal" is in it)
        assert secret not in stored.removeprefix("sealed:v1:")


def test_the_key_file_is_made_at_first_seal_readable_by_its_owner_only(key_file: Path) -> None:
    assert not key_file.exists()
    assert sealing.unseal("token:kept in clear before 0023") == "token:kept in clear before 0023"
    assert not key_file.exists()  # reading an unsealed value makes no key
    stored = sealing.seal("s3cret-token")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    Fernet(key_file.read_bytes().strip())  # a well-formed key
    assert sealing.unseal(stored) == "s3cret-token"


def test_sealers_making_the_key_at_once_all_get_the_same_one(key_file: Path) -> None:
    """A review: of four processes sealing at once on a new data directory, one read the key
    file before the first had written it, and failed with "not a sealing key". Threads race
    the same way (the file operations release the GIL), without forking a threaded test run."""
    for trial in range(10):
        key_file.unlink(missing_ok=True)
        start = threading.Barrier(6)

        def seal_at_once(secret: str) -> str:
            start.wait(timeout=30)
            return sealing.seal(secret)

        with ThreadPoolExecutor(6) as pool:
            sealed = list(pool.map(seal_at_once, [f"secret {trial}"] * 6))
        assert [sealing.unseal(s) for s in sealed] == [f"secret {trial}"] * 6
        assert not [p for p in key_file.parent.iterdir() if p.name.startswith(".secrets-")]  # no temporary left


def test_a_lost_or_other_key_says_what_to_do(key_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stored = sealing.seal("s3cret-token")
    key_file.unlink()
    with pytest.raises(ConfigError) as lost:
        sealing.unseal(stored)
    assert lost.value.where == str(key_file)
    assert lost.value.why == (
        "no sealing key: the credentials sealed with it cannot be read; set SCHELDT_SECRETS_KEY or restore the key "
        "file; if it is lost for good, make a new one (scheldt secrets new-key) and enter each credential again "
        "(scheldt peer credential; carriers give each subscription a new secret)")
    assert not key_file.exists()  # unsealing never makes a key that could not open it anyway
    monkeypatch.setenv("SCHELDT_SECRETS_KEY", Fernet.generate_key().decode())
    get_settings.cache_clear()
    with pytest.raises(ConfigError) as other:
        sealing.unseal(stored)
    assert (other.value.where, other.value.why) == (
        "SCHELDT_SECRETS_KEY", "this sealing key is not the one the stored credential was sealed with: restore "
                               "the key, or enter the credential again (scheldt peer credential; carriers "
                               "give each subscription a new secret)")
    # a malformed key in the setting stops every command at start (an operator review's serve ran
    # with it, and `secrets check` said all was well, until a carrier subscribed)
    for bad_key in ("not-a-key", Fernet.generate_key().decode()[:40]):
        monkeypatch.setenv("SCHELDT_SECRETS_KEY", bad_key)
        get_settings.cache_clear()
        with pytest.raises(ConfigError) as bad:
            sealing.seal("x")
        assert (bad.value.where, bad.value.why) == (
            "SCHELDT_SECRETS_KEY", "not a sealing key (32 bytes in URL-safe base64, 44 characters, as `scheldt "
                                   "secrets new-key` writes to its file); unset it to use the key file")


def _peer_and_subscription(engine: object) -> None:
    with unit_of_work(engine) as uow:
        create_organisation(uow, "us-cbp", "US CBP", "agency", [], [], NOW)
        create_organisation(uow, "carrier-a", "Carrier A", "carrier", ["CRA"], [], NOW)
        uow.peers.add("us-node", "https://us.example/taxii2/scheldt/", "us-cbp", "be-node", "password",
                      "the US node's password", None, NOW)
        uow.notifications.add_subscription("carrier-a", "https://a.example/cb", SUB_SECRET, ["hold"], NOW)


def test_peer_and_subscription_secrets_are_stored_sealed_and_read_back(engine: object) -> None:
    _peer_and_subscription(engine)
    with unit_of_work(engine) as uow:
        peer_secret = uow.session.scalar(select(PeerRow.secret))
        sub_secret = uow.session.scalar(select(SubscriptionRow.secret))
        assert peer_secret.startswith("password:sealed:v1:") and "the US node" not in peer_secret
        assert sub_secret.startswith("sealed:v1:") and "signing secret" not in sub_secret
        assert uow.peers.get("us-node", with_secret=True).secret == "the US node's password"
        assert uow.peers.get("us-node").secret == ""
        sub_id = uow.session.scalar(select(SubscriptionRow.id))
        uow.notifications.enqueue(sub_id, "hold", {"container": "MSCU1234565"}, NOW)
    with unit_of_work(engine) as uow:  # the sender gets the secret to sign with
        (due,) = uow.notifications.claim_due(NOW, 10, 60)
        assert (due["callback_url"], due["secret"]) == ("https://a.example/cb", SUB_SECRET)


def test_a_deleted_subscriptions_secret_does_not_hold_up_a_new_key(engine: object, key_file: Path) -> None:
    """A review: a deleted subscription's sealed secret (never used again) stopped the node from
    making a key, while `scheldt secrets check`, which lists active subscriptions, said nothing."""
    _peer_and_subscription(engine)
    with unit_of_work(engine) as uow:
        uow.peers.remove("us-node")
        sub_id = uow.session.scalar(select(SubscriptionRow.id))
        uow.notifications.deactivate(sub_id, "carrier-a", NOW)
        assert not sealing.holds_sealed(uow.session)
    key_file.unlink()
    with unit_of_work(engine) as uow:
        uow.peers.add("nl-node", "https://nl.example/taxii2/", "us-cbp", "be", "token", "a token", None, NOW)
        assert uow.peers.get("nl-node", with_secret=True).secret == "a token" and key_file.exists()


def test_a_peer_credential_is_replaced_and_its_pull_state_kept(engine: object) -> None:
    _peer_and_subscription(engine)
    with unit_of_work(engine) as uow:
        uow.peers.set_cursor("us-node", "coll-1", {"next": "abc"})
    with unit_of_work(engine) as uow:
        peer = uow.peers.set_credential("us-node", "", "token", "a new API token")
        assert (peer.username, peer.secret_kind, peer.secret) == ("", "token", "")
    with unit_of_work(engine) as uow:
        peer = uow.peers.get("us-node", with_secret=True)
        assert (peer.secret_kind, peer.secret, peer.cursors["coll-1"]) == ("token", "a new API token", {"next": "abc"})
        assert uow.session.scalar(select(PeerRow.secret)).startswith("token:sealed:v1:")


def test_upgrade_to_0023_seals_the_secrets_kept_in_clear(store_url: str) -> None:
    engine = make_engine(store_url)
    upgrade(engine, "0022")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO peer (name, api_root, organisation_id, username, secret, cursors, last_error, "
                          "created_at, relays_for) VALUES ('us-node', 'https://us.example/', 'us-cbp', 'be-node', "
                          "'password:clear password', '{}', '', :t, '[]')"), {"t": NOW})
        conn.execute(text("INSERT INTO subscription (organisation_id, callback_url, secret, kinds, active, created_at) "
                          "VALUES ('carrier-a', 'https://a.example/cb', :s, '[\"hold\"]', :y, :t)"),
                     {"s": SUB_SECRET, "t": NOW, "y": True})
    upgrade(engine)
    with engine.connect() as conn:
        peer_secret = conn.scalar(select(PeerRow.secret))
        sub_secret = conn.scalar(select(SubscriptionRow.secret))
    assert peer_secret.startswith("password:sealed:v1:") and sealing.unseal(peer_secret[9:]) == "clear password"
    assert sub_secret.startswith("sealed:v1:") and sealing.unseal(sub_secret) == SUB_SECRET
    with unit_of_work(engine) as uow:
        assert uow.peers.get("us-node", with_secret=True).secret == "clear password"
    upgrade(engine)  # again: sealed values are left alone
    with engine.connect() as conn:
        assert conn.scalar(select(PeerRow.secret)) == peer_secret
    command.downgrade(_alembic_config(engine), "0022")  # unseals them
    with engine.connect() as conn:
        assert (conn.scalar(select(PeerRow.secret)), conn.scalar(select(SubscriptionRow.secret))) == (
            "password:clear password", SUB_SECRET)
    engine.dispose()


def test_a_lost_key_is_not_replaced_without_a_word_and_secrets_commands_mend_it(key_file: Path) -> None:
    """A review moved the key file away: the next `peer add` made a new key without a word, and
    the credentials sealed before could no longer be opened by any one key."""
    runner = CliRunner()
    assert runner.invoke(app, ["org", "create", "us-cbp", "--name", "US CBP", "--kind", "agency"]).exit_code == 0
    assert runner.invoke(app, ["peer", "add", "us-node", "https://us.example/taxii2/", "--org", "us-cbp", "--user", "be",
                               "--password-stdin"], input="first password\n").exit_code == 0
    checked = runner.invoke(app, ["secrets", "check"])
    assert (checked.exit_code, checked.stdout.splitlines()[1].split()) == (0, ["peer", "us-node", "opens"])
    key_file.rename(key_file.with_name("lost.key"))
    second = runner.invoke(app, ["peer", "add", "nl-node", "https://nl.example/taxii2/", "--org", "us-cbp",
                                 "--user", "be", "--token-stdin"], input="a token\n")
    assert second.exit_code == 2 and "no sealing key" in second.stderr and not key_file.exists()
    lost = runner.invoke(app, ["secrets", "check"])  # the key first, then each credential (regression review)
    assert lost.exit_code == 1 and lost.stdout.splitlines()[1] == (
        "no sealing key: restore it; if it is lost for good, make a new one first (scheldt secrets new-key), then "
        "mend each credential below")
    as_json = json.loads(runner.invoke(app, ["secrets", "check", "--json"]).stdout)
    assert as_json["first"] == lost.stdout.splitlines()[1]  # for scripts too (regression review)
    made = runner.invoke(app, ["secrets", "new-key"])
    assert made.exit_code == 0, made.stderr
    assert made.stdout.splitlines()[0] == f"new key made: {key_file} (keep a copy apart from the database backups)"
    assert "us-node" in made.stdout and "cannot be opened" in made.stdout and "scheldt peer credential us-node" in made.stdout
    again = runner.invoke(app, ["secrets", "new-key"])
    assert again.exit_code == 2 and "exists: move it away first" in " ".join(again.stderr.split())
    assert runner.invoke(app, ["secrets", "check"]).exit_code == 1  # us-node still to mend
    assert runner.invoke(app, ["peer", "credential", "us-node", "--user", "be", "--password-stdin"],
                         input="first password\n").exit_code == 0
    assert runner.invoke(app, ["secrets", "check"]).exit_code == 0


def test_peer_credential_command(settings_env: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["org", "create", "us-cbp", "--name", "US CBP", "--kind", "agency"]).exit_code == 0
    added = runner.invoke(app, ["peer", "add", "us-node", "https://us.example/taxii2/scheldt/", "--org", "us-cbp",
                                "--user", "be-node", "--password-stdin"], input="first password\n")
    assert added.exit_code == 0, added.stderr
    changed = runner.invoke(app, ["peer", "credential", "us-node", "--user", "be-node-2", "--token-stdin"],
                            input="a fresh token\n")
    assert (changed.exit_code, changed.stdout) == (0, "peer us-node: signs in as be-node-2 (token) from now on\n")
    both = runner.invoke(app, ["peer", "credential", "us-node", "--user", "x", "--token-stdin", "--password-stdin"],
                         input="t\n")
    assert both.exit_code == 2 and "give exactly one of --password-stdin and --token-stdin" in both.stderr
    unknown = runner.invoke(app, ["peer", "credential", "nl-node", "--user", "x", "--token-stdin"], input="t\n")
    assert unknown.exit_code == 2 and "no such peer" in unknown.stderr
    engine = make_engine(get_settings().resolved_database_url)
    with unit_of_work(engine) as uow:
        peer = uow.peers.get("us-node", with_secret=True)
        assert (peer.username, peer.secret_kind, peer.secret) == ("be-node-2", "token", "a fresh token")
        assert uow.session.scalar(select(PeerRow.secret)).startswith("token:sealed:v1:")
    engine.dispose()
