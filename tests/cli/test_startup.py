"""The command line starts without the libraries only some commands need: they load where they
are used (each took part of every command's start: 2.3 s in all before, for `scheldt --help`)."""

import os
import subprocess
import sys
from pathlib import Path

from scheldt.store.db import open_store


def test_importing_the_cli_loads_no_lightgbm_or_scikit_learn() -> None:
    code = "import sys, scheldt.cli; print(sorted(m for m in ('lightgbm', 'sklearn', 'scipy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_command_on_an_up_to_date_store_loads_no_alembic_stix_misp_or_ais_reader(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'scheldt.db'}"
    open_store(url, auto_upgrade=True).dispose()  # created and migrated: Alembic is needed here, once
    code = ("import sys, scheldt.cli; from scheldt.store.db import open_store; open_store(sys.argv[1]); "
            "print(sorted(m for m in ('alembic', 'stix2', 'pymisp', 'requests', 'pyais') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, url], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_python_dash_m_scheldt_is_the_scheldt_command(tmp_path: Path) -> None:
    """Two reviews ran the CLI as ``python -m scheldt`` from a checkout and found no
    ``scheldt/__main__.py``."""
    env = {**os.environ, "SCHELDT_DATA_DIR": str(tmp_path)}
    ran = subprocess.run([sys.executable, "-m", "scheldt", "container", "MSCU1234566"], capture_output=True,
                         text=True, env=env)
    assert ran.returncode == 2
    said = " ".join((ran.stdout + ran.stderr).split())
    assert f"no store at {tmp_path / 'scheldt.db'}: nothing to read or check" in said
