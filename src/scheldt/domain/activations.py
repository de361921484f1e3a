"""Which version a rollback returns to, from a log of versions made live (pure).

Used for risk profiles and container models alike: each entry of the log is
(action, version); ``rollback`` undoes the latest switch still in force, any other action
(activate, train) puts its version on top, unless it is already on top (making the live
version live again switches nothing). Rolling back returns to the version below the top, so
repeated rollbacks walk further back.
"""

from __future__ import annotations

from collections.abc import Iterable

from scheldt.errors import ConflictError


def rollback_target(log: Iterable[tuple[str, str]], where: str, none_live: str, first: str) -> str:
    """The version a rollback makes live, from the activation ``log`` (oldest first). Raises
    ConflictError (the state allows no rollback: HTTP 409, an API review) at ``where``:
    ``none_live`` when nothing was ever made live, ``first`` (with ``{version}``) when only
    the first version is in force."""
    stack: list[str] = []
    for action, version in log:
        if action == "rollback":
            stack.pop()
        elif not stack or stack[-1] != version:
            stack.append(version)
    if not stack:
        raise ConflictError(where, none_live)
    if len(stack) < 2:
        raise ConflictError(where, first.format(version=stack[-1]))
    return stack[-2]
