"""The pure core and the workflows import no database, web or HTTP code."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "scheldt"
PURE = ("domain", "risk", "targeting", "workflows", "ingest", "reference")
FORBIDDEN = ("sqlalchemy", "alembic", "psycopg", "fastapi", "starlette", "httpx", "requests", "scheldt.store",
             "scheldt.cli")


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", PURE)
def test_pure_packages_import_no_store_or_web(package: str) -> None:
    offenders = {
        f"{path.relative_to(SRC)}: {name}"
        for path in (SRC / package).rglob("*.py")
        for name in imports(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    }
    assert not offenders


def test_only_store_imports_sqlalchemy() -> None:
    users = {
        str(path.relative_to(SRC)).split("/")[0]
        for path in SRC.rglob("*.py")
        if any(n.startswith("sqlalchemy") for n in imports(path))
    }
    assert users == {"store"}
