"""The README's main command, end to end on the bundled excerpt (fresh SQLite store)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from tests.conftest import ROOT


def test_readme_main_command_runs_the_whole_job(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```(?:bash|sh)\n(.*?)```", readme, re.S)
    assert commands[0].strip() == "bash scripts/demo.sh"
    assert commands[1].strip() == "bash scripts/test.sh"
    env = {**os.environ, "SCHELDT_DATA_DIR": str(tmp_path / "demo"), "COLUMNS": "200"}
    env.pop("SCHELDT_DATABASE_URL", None)
    run = subprocess.run(["bash", "scripts/demo.sh"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    out = run.stdout
    assert "6231 │ 6231 │ 6231 (6231)" in out  # history: every row and outcome loaded
    assert "2000 │ 2000 │    0 (0)" in out  # new declarations, outcomes ignored
    assert "scored 2000 declarations" in out
    assert "Inspection list: 100 of 2000 declarations (95 risk picks, 5 exploration picks" in out
    assert "past inspection" in out  # reasons worded for an officer
    assert "unseen rows" in out and "top  5%: precision" in out
    assert (tmp_path / "demo" / "scheldt.db").is_file()
    [model_dir] = (tmp_path / "demo" / "models").iterdir()
    meta = json.loads((model_dir / "artefact.json").read_text())
    assert meta["training"]["train_rows"] + meta["training"]["valid_rows"] == 6231
