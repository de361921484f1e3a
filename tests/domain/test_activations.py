"""rollback_target: which version a rollback returns to, from an activation log."""

from __future__ import annotations

import pytest

from scheldt.domain.activations import rollback_target
from scheldt.errors import ConflictError


def test_rollbacks_walk_back_and_a_switch_goes_on_top() -> None:
    log = [("train", "a"), ("train", "b"), ("activate", "c")]
    assert rollback_target(log, "w", "none", "{version} first") == "b"
    log += [("rollback", "b")]
    assert rollback_target(log, "w", "none", "{version} first") == "a"
    log += [("rollback", "a"), ("activate", "c")]
    assert rollback_target(log, "w", "none", "{version} first") == "a"


def test_nothing_or_only_the_first_version_cannot_be_rolled_back() -> None:
    with pytest.raises(ConflictError, match="none"):
        rollback_target([], "w", "none", "{version} first")
    with pytest.raises(ConflictError, match="a first"):
        rollback_target([("train", "a"), ("train", "b"), ("rollback", "a")], "w", "none", "{version} first")


def test_making_the_live_version_live_again_is_not_a_switch_to_roll_back() -> None:
    # Logs written before a repeated activation was refused can hold one (a review found a
    # rollback that then changed nothing): the rollback still goes to the version before it.
    log = [("activate", "a"), ("activate", "b"), ("activate", "b")]
    assert rollback_target(log, "w", "none", "{version} first") == "a"
    with pytest.raises(ConflictError, match="a first"):
        rollback_target([("activate", "a"), ("activate", "a")], "w", "none", "{version} first")
