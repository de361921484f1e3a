"""Shared by the benchmark scripts: where the full shared data is, thread settings."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")
THREADS = 2
KCS = Path(__file__).resolve().parents[2] / "shared" / "data" / "customs-kr"
TRAIN, VALID, TEST = (KCS / f"df_syn_{s}_eng.csv" for s in ("train", "valid", "test"))
