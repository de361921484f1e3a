"""``scheldt group`` and ``scheldt misp``: sharing groups, MISP export for one user (TLP:RED
only when named) and import into another node's store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from scheldt.cli import app
from scheldt.settings import get_settings
from scheldt.store.db import open_store
from scheldt.store.models import ShippingEventRow

runner = CliRunner()


def invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_groups_and_misp_export_and_import(settings_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHELDT_LOCAL_ORGANISATION", "be-customs")
    get_settings.cache_clear()
    for org in ("be-customs", "us-cbp"):
        assert invoke("org", "create", org, "--name", org.upper(), "--kind", "agency")[0] == 0
    for user, org in (("liaison", "us-cbp"), ("other", "us-cbp")):
        code, _, err = invoke("user", "create", user, "--org", org, "--role", "liaison_officer", "--password-stdin",
                              stdin="correct horse battery\n")
        assert code == 0, err
    code, out, err = invoke("group", "create", "be-us", "--name", "Belgium-US", "--member", "us-cbp")
    assert (code, out.strip()) == (0, "sharing group be-us created: be-customs, us-cbp"), err
    code, out, _ = invoke("group", "list", "--json")
    assert [(g["id"], g["owner_org"], g["members"]) for g in json.loads(out)] == [
        ("be-us", "be-customs", ["be-customs", "us-cbp"])]
    code, _, err = invoke("group", "create", "Bad Id", "--name", "x")
    assert code == 2 and "sharing group id" in err

    # two items shared by be-customs, brought in as MISP events (as a partner's MISP would send them)
    events = {"response": [_event("0b7c2e3a-5a41-4c55-9d53-2f4f1b1c9a11", "tlp:amber+strict",
                                  ['scheldt:sharing-group="be-us"']),
                           _event("0b7c2e3a-5a41-4c55-9d53-2f4f1b1c9a12", "tlp:red",
                                  ['scheldt:recipient="us-cbp/liaison"'])]}
    source = tmp_path / "events.json"
    source.write_text(json.dumps(events))
    code, out, err = invoke("misp", "import", str(source), "--org", "be-customs", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["failed"] == [] and len(report["added"]) == 2
    # the AMBER+STRICT entry lands in the watchlist store (both agencies may see it), the RED one does not
    assert report["watchlist_entries"] == ["indicator--0b7c2e3a-5a41-4c55-9d53-2f4f1b1c9a11"]

    exported = {}
    for user in ("liaison", "other"):
        target = tmp_path / f"{user}.json"
        code, _, err = invoke("misp", "export", "--org", "us-cbp", "--user", user, "--out", str(target))
        assert code == 0, err
        exported[user] = {e["Event"]["uuid"] for e in json.loads(target.read_text())["response"]}
    assert exported["liaison"] == {"0b7c2e3a-5a41-4c55-9d53-2f4f1b1c9a11", "0b7c2e3a-5a41-4c55-9d53-2f4f1b1c9a12"}
    assert exported["other"] == {"0b7c2e3a-5a41-4c55-9d53-2f4f1b1c9a11"}  # TLP:RED to the named user only
    code, _, err = invoke("misp", "export", "--org", "be-customs", "--user", "liaison")
    assert code == 2 and "liaison is not a user of be-customs" in err
    # a path that cannot be written: one line, and no export in the audit log (CLI review: a
    # traceback, and an audited export that never happened)
    code, _, err = invoke("misp", "export", "--org", "us-cbp", "--user", "other", "--out", str(tmp_path / "no" / "x.json"))
    assert code == 2 and "Traceback" not in err and "is not a folder" in " ".join(err.split())
    (tmp_path / "a-file").write_text("x")
    code, _, err = invoke("misp", "export", "--org", "us-cbp", "--user", "other", "--out", str(tmp_path / "a-file" / "x.json"))
    assert code == 2 and "Traceback" not in err and "is not a folder" in " ".join(err.split()), err
    code, _, err = invoke("misp", "export", "--org", "us-cbp", "--user", "other", "--out", str(tmp_path))
    assert code == 2 and "is a folder: name the file to write" in " ".join(err.split()), err
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")) == []
    # the import and each export (a disclosure to a partner) are in the audit log, with what left
    code, out, _ = invoke("audit", "list", "--json", "--limit", "1000")
    misp = [(e["kind"], e["payload"]["action"], e["payload"]["details"]) for e in json.loads(out)["entries"]
            if e["payload"]["action"].startswith("scheldt misp")]
    assert [(k, a) for k, a, _ in misp] == [("write", "scheldt misp import"), ("export", "scheldt misp export"),
                                          ("export", "scheldt misp export")]
    assert misp[0][2] == {"file": "events.json", "group": None, "added": 2, "known": 0, "failed": 0}
    assert (misp[2][2]["user"], misp[2][2]["events"], misp[2][2]["uuids"]) == (
        "other", 1, ["0b7c2e3a-5a41-4c55-9d53-2f4f1b1c9a11"])
    # a disabled user's export is refused: an exchange review exported the RED items named to a
    # departing officer after `user disable`
    assert invoke("user", "disable", "other", "--reason", "left the service")[0] == 0
    code, out, err = invoke("misp", "export", "--org", "us-cbp", "--user", "other")
    assert (code, out) == (2, "") and "other is disabled: export for an active user of us-cbp" in " ".join(err.split())
    # an import of which a part is refused exits 1, not 0 (a review's script took it for whole)
    partly = tmp_path / "partly.json"
    partly.write_text(json.dumps({"response": [
        _event("0b7c2e3a-5a41-4c55-9d53-2f4f1b1c9a13", "tlp:green", []),
        _event("0b7c2e3a-5a41-4c55-9d53-2f4f1b1c9a14", "tlp:amber", ['scheldt:sharing-group="nowhere"'])]}))
    code, out, err = invoke("misp", "import", str(partly), "--org", "be-customs", "--json")
    assert code == 1 and len(json.loads(out)["added"]) == 1 and len(json.loads(out)["failed"]) == 1, (out, err)
    # TLP:RED to no one who works on this node is not kept (a federation review's US node held and
    # served a Belgian alert RED to a Dutch officer, and the withdrawal never reached it); a user
    # of that name in another organisation is not the one named
    red = tmp_path / "red.json"
    red.write_text(json.dumps({"response": [
        _event("0b7c2e3a-5a41-4c55-9d53-2f4f1b1c9a15", "tlp:red", ['scheldt:recipient="nl-customs/nlofficer"']),
        _event("0b7c2e3a-5a41-4c55-9d53-2f4f1b1c9a16", "tlp:red", ['scheldt:recipient="be-customs/liaison"']),
        _event("0b7c2e3a-5a41-4c55-9d53-2f4f1b1c9a17", "tlp:red", ['scheldt:recipient="nl-customs/nlofficer"',
                                                                    'scheldt:recipient="us-cbp/liaison"'])]}))
    code, out, err = invoke("misp", "import", str(red), "--org", "be-customs", "--json")
    report = json.loads(out)
    assert code == 1 and report["added"] == ["indicator--0b7c2e3a-5a41-4c55-9d53-2f4f1b1c9a17"], (out, err)
    assert report["failed"] == [
        ["event 0b7c2e3a-5a41-4c55-9d53-2f4f1b1c9a15",
         "event 0b7c2e3a-5a41-4c55-9d53-2f4f1b1c9a15: TLP:RED to nl-customs/nlofficer: none of them is a "
         "user on this node, so it is not kept here (TLP:RED is for the people it names, and a withdrawal "
         "would not reach this copy)"],
        ["event 0b7c2e3a-5a41-4c55-9d53-2f4f1b1c9a16",
         "event 0b7c2e3a-5a41-4c55-9d53-2f4f1b1c9a16: TLP:RED to be-customs/liaison: none of them is a "
         "user on this node, so it is not kept here (TLP:RED is for the people it names, and a withdrawal "
         "would not reach this copy)"]]
    # the first entry's object deleted in be-customs' MISP: withdrawn here, said (a MISP review: an
    # entry imported by MISP never left the watchlist store through MISP)
    gone = _event("0b7c2e3a-5a41-4c55-9d53-2f4f1b1c9a11", "tlp:amber+strict", ['scheldt:sharing-group="be-us"'])
    gone["Event"]["Object"][0]["deleted"] = True
    (tmp_path / "gone.json").write_text(json.dumps(gone))
    code, out, err = invoke("misp", "import", str(tmp_path / "gone.json"), "--org", "be-customs")
    assert (code, out.splitlines()[0]) == (0, "1 objects added, 0 already stored, 0 failed; 0 watchlist entries, 0 "
                                              "alerts raised, 1 items withdrawn (deleted in MISP)"), (out, err)
    code, out, err = invoke("misp", "import", str(tmp_path / "gone.json"), "--org", "be-customs", "--json")
    assert code == 0 and json.loads(out)["known"] == ["indicator--0b7c2e3a-5a41-4c55-9d53-2f4f1b1c9a11"], (out, err)


def _event(uid: str, tlp: str, tags: list[str]) -> dict:
    """A Scheldt watchlist entry as a MISP event, written out as MISP's JSON."""
    attrs = [("kind", "text", "container"),
             ("note", "text", "rip-on loads"), ("container-number", "text", "MSCU1234566"),
             ("stix-id", "text", f"indicator--{uid}"), ("created", "datetime", "2026-03-01T08:00:00.000Z"),
             ("modified", "datetime", "2026-03-01T08:00:00.000Z")]
    return {"Event": {
        "uuid": uid, "info": "Watchlist container MSCU1234566", "date": "2026-03-01", "analysis": "2",
        "threat_level_id": "2", "Orgc": {"name": "be-customs", "uuid": "0e4b2e48-8c41-5e0b-9f52-6b5a6c4d3e21"},
        "Tag": [{"name": tlp}, {"name": 'scheldt:kind="watchlist-entry"'}, {"name": 'scheldt:reliability="B"'},
                {"name": 'scheldt:credibility="2"'}, *({"name": t} for t in tags)],
        "Object": [{"name": "scheldt-watchlist-entry", "Attribute": [
            {"object_relation": rel, "type": typ, "value": value, "category": "Other"} for rel, typ, value in attrs]}]}}


def test_org_client_of_sets_and_clears_an_agencys_client(settings_env: Path) -> None:
    assert invoke("org", "create", "be-customs", "--name", "BE", "--kind", "agency")[0] == 0
    code, out, err = invoke("org", "create", "line-a", "--name", "Line A", "--kind", "carrier", "--carrier-code", "LNA",
                            "--client-of", "be-customs")
    assert (code, out.strip()) == (0, "organisation line-a (carrier) created, client of be-customs"), err
    assert invoke("org", "create", "line-b", "--name", "Line B", "--kind", "carrier", "--carrier-code", "LNB")[0] == 0
    # a code is one organisation's: it decides whose containers it sees (attack review)
    code, _, err = invoke("org", "create", "line-x", "--name", "X", "--kind", "carrier", "--carrier-code", "lna")
    assert code == 2 and "LNA is already line-a's" in " ".join(err.split()), err
    code, _, err = invoke("org", "client-of", "line-b", "line-a")
    assert code == 2 and "line-a is a carrier: only an agency has clients" in err
    code, _, err = invoke("org", "client-of", "be-customs", "be-customs")
    assert code == 2 and "agencies share through sharing groups" in err
    code, _, err = invoke("org", "client-of", "line-b", "no-such")
    assert code != 0 and "no-such" in err
    assert invoke("org", "client-of", "line-b", "be-customs")[1].strip() == "organisation line-b is a client of be-customs"
    assert invoke("org", "client-of", "line-a", "--none")[1].strip() == "organisation line-a is nobody's client"
    code, out, _ = invoke("org", "list", "--json")
    assert [(o["id"], o["client_of"]) for o in json.loads(out)] == [
        ("be-customs", None), ("line-a", None), ("line-b", "be-customs")]
    code, out, _ = invoke("org", "list")
    assert "(client of be-customs)" in out.splitlines()[2]
    # a code an agency holds (a store made before agencies were refused codes) owns nothing and
    # blocks no carrier (a review of the fix: such a store still could not add the carrier)
    from datetime import UTC, datetime

    from scheldt.cli.common import store
    from scheldt.domain.access import Organisation, OrgKind

    with store() as uow:
        uow.accounts.add_organisation(Organisation("nl-douane", "NL", OrgKind.AGENCY, ("LNZ",), ()), datetime.now(UTC))
    assert invoke("org", "create", "line-z", "--name", "Z", "--kind", "carrier", "--carrier-code", "LNZ")[0] == 0


def test_ingest_refuses_a_local_organisation_that_is_none_of_the_stores(settings_env: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Facts loaded under an unknown local organisation are seen by no user (found by a new-user
    review: the demo store's `serve` line left SCHELDT_LOCAL_ORGANISATION at its default); a
    warning was not enough (operator review: a misspelt one loaded and re-scored trips)."""
    from tests.conftest import SHARED

    sample = str(SHARED / "fixtures" / "dcsa-tnt" / "tnt-v3.0-events-response.json")
    assert invoke("org", "create", "be-customs", "--name", "BE", "--kind", "agency")[0] == 0
    monkeypatch.delenv("SCHELDT_LOCAL_ORGANISATION", raising=False)
    get_settings.cache_clear()
    code, _, err = invoke("ingest", sample)
    assert code == 2 and "SCHELDT_LOCAL_ORGANISATION: 'local-agency' is not an organisation of this store " \
                          "(be-customs)" in " ".join(err.split())
    engine = open_store(get_settings().resolved_database_url)
    with engine.connect() as conn:  # nothing was loaded
        assert conn.execute(select(func.count()).select_from(ShippingEventRow)).scalar() == 0
    engine.dispose()
    monkeypatch.setenv("SCHELDT_LOCAL_ORGANISATION", "be-customs")
    get_settings.cache_clear()
    code, _, err = invoke("ingest", sample)
    assert code == 0 and "warning" not in err
