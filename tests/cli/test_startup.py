"""The command line starts without the model libraries: they load where a model is used."""

import subprocess
import sys


def test_importing_the_cli_loads_no_lightgbm_or_scikit_learn() -> None:
    code = "import sys, scheldt.cli; print(sorted(m for m in ('lightgbm', 'sklearn', 'scipy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
