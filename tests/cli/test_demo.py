"""The README's main command, end to end on the bundled excerpt (fresh SQLite store)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from tests.conftest import DEMO_TEST, DEMO_TRAIN, ROOT


def test_readme_main_command_runs_the_whole_job(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```(?:bash|sh)\n(.*?)```", readme, re.S)
    assert commands[0].strip() == "bash scripts/demo.sh"
    assert commands[1].strip() == "bash scripts/test.sh"
    env = {**os.environ, "SCHELDT_DATA_DIR": str(tmp_path / "demo"), "COLUMNS": "200",
           "SCHELDT_LOCAL_ORGANISATION": "be-customs"}  # the demo's, as the README says for later commands
    env.pop("SCHELDT_DATABASE_URL", None)
    run = subprocess.run(["bash", "scripts/demo.sh"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    out = run.stdout
    assert "scored 2000 declarations" in out
    assert "Inspection list: 100 of 2000 declarations (95 risk picks, 5 exploration picks" in out
    assert "past inspection" in out  # reasons worded for an officer
    assert "unseen rows" in out and "top  5%: precision" in out
    assert (tmp_path / "demo" / "scheldt.db").is_file()
    # each step echoed as it can be pasted, with the settings it ran under (a new user's paste of
    # "$ scheldt org create be-customs --name Belgian Customs (demo) ..." was a bash syntax error)
    assert (f"Steps below run as: export SCHELDT_DATA_DIR={tmp_path / 'demo'} SCHELDT_NOW=2021-04-22T06:00:00+00:00 "
            "SCHELDT_LOCAL_ORGANISATION=be-customs") in out
    assert "$ .venv/bin/scheldt org create be-customs --name 'Belgian Customs (demo)' --kind agency\n" in out
    scheldt = str(ROOT / ".venv" / "bin" / "scheldt")

    def run_json(*args: str) -> dict:  # type: ignore[type-arg]
        done = subprocess.run([scheldt, *args], env=env, capture_output=True, text=True, check=True)
        return json.loads(done.stdout)

    listing = run_json("target", "--format", "json")
    assert (listing["slots"], listing["risk_picks"], listing["exploration_picks"]) == (100, 95, 5)
    assert len(listing["inspections"]) == 100 and all(e["reasons"] for e in listing["inspections"][:95])
    # the history was loaded with its outcomes, the new declarations without: re-sending adds nothing
    [history] = run_json("ingest", "--json", str(DEMO_TRAIN))["files"]
    assert (history["accepted"], history["added"], history["outcomes"]) == (6231, 0, {"accepted": 6231, "added": 0})
    [new] = run_json("ingest", "--json", "--no-outcomes", str(DEMO_TEST))["files"]
    assert (new["accepted"], new["added"]) == (2000, 0)
    [model_dir] = (tmp_path / "demo" / "models").iterdir()
    meta = json.loads((model_dir / "artefact.json").read_text())
    assert meta["training"]["train_rows"] + meta["training"]["valid_rows"] == 6231
    # the service is bootstrapped: demo organisations and users own what they should
    orgs = {o["id"]: o for o in run_json("org", "list", "--json")}
    assert set(orgs) == {"be-customs", "us-cbp", "carrier-a", "terminal-1"}
    assert orgs["carrier-a"]["carrier_codes"] == ["SIMA"]
    # the line and the terminal feed be-customs: the trips of what they send are its own
    assert (orgs["carrier-a"]["client_of"], orgs["terminal-1"]["client_of"]) == ("be-customs", "be-customs")
    assert "user officer of be-customs created: targeting_officer" in out
    assert "sign in as officer" in out
    from fastapi.testclient import TestClient

    from scheldt.api.app import create_app
    from scheldt.store.db import open_store

    engine = open_store(f"sqlite:///{tmp_path / 'demo' / 'scheldt.db'}")
    with TestClient(create_app(engine, workbench=False, host_org="be-customs")) as client:
        def trips(user: str) -> list[dict]:  # type: ignore[type-arg]
            session = client.post("/api/v1/auth/sign-in", json={"username": user, "password": "scheldt-demo-password"})
            assert session.status_code == 200, session.text
            headers = {"Authorization": f"Bearer {session.json()['session']}"}
            return client.get("/api/v1/trips", params={"limit": 200}, headers=headers).json()["items"]

        everything, carrier = trips("officer"), trips("carrier")
        assert len(everything) >= 150 and all(t["supplied_by"] == "be-customs" for t in everything)
        assert 0 < len(carrier) < len(everything) and {t["carrier_code"] for t in carrier} == {"SIMA"}
        assert trips("liaison") == []
    engine.dispose()
