"""YAML text read safely: what an explicit tag cannot build is a YAML error, not a traceback."""

from __future__ import annotations

from typing import Any

import yaml

#: What PyYAML's safe constructors raise for a value their tag cannot build (``!!int abc``
#: ValueError, ``!!bool maybe`` KeyError, ``!!float ''`` IndexError, ``!!timestamp foo``
#: AttributeError; a regression review got each as a traceback or an API 500).
TAG_FAILURES = (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load(text)``. Raises yaml.YAMLError for malformed YAML and for a value an
    explicit tag cannot build."""
    try:
        return yaml.safe_load(text)
    except TAG_FAILURES as exc:
        raise yaml.constructor.ConstructorError(None, None, f"a value its tag cannot make "
                                                f"({type(exc).__name__}: {exc})") from None
