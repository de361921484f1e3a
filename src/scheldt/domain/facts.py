"""Facts as plain values: canonical JSON form, digests, name keys (pure)."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from operator import attrgetter
from typing import Any

import orjson

#: Per dataclass: its field names and one C-level getter returning their values as a tuple.
_FIELDS: dict[type, tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]] = {}


def _field_getter(cls: type) -> tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]:
    names = tuple(f.name for f in dataclasses.fields(cls))
    if len(names) == 1:
        one = attrgetter(names[0])
        getter: Callable[[Any], tuple[Any, ...]] = lambda obj: (one(obj),)  # noqa: E731
    elif names:
        getter = attrgetter(*names)
    else:
        getter = lambda obj: ()  # noqa: E731
    _FIELDS[cls] = names, getter
    return names, getter


def fields_dict(obj: Any) -> dict[str, Any]:
    """A dataclass instance's fields as a dict in field order, values as they are (not
    converted: nested dataclasses, tuples and datetimes stay); what orjson would write for it.
    Raises TypeError if ``obj`` is not a dataclass instance."""
    try:
        names, getter = _FIELDS[type(obj)]
    except KeyError:
        if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
            raise TypeError(f"{type(obj).__name__} is not a dataclass instance") from None
        names, getter = _field_getter(type(obj))
    return dict(zip(names, getter(obj)))


def _default(obj: Any) -> Any:
    """orjson ``default``: dataclasses as dicts of their fields (orjson's own walk over slotted
    dataclasses is several times slower), anything else orjson cannot write as ``str(obj)``."""
    if type(obj) in _FIELDS or (dataclasses.is_dataclass(obj) and not isinstance(obj, type)):
        return fields_dict(obj)
    return str(obj)


#: orjson options with which :func:`_default` sees dataclasses; the same with keys sorted.
_OPTS = orjson.OPT_PASSTHROUGH_DATACLASS
_SORTED = _OPTS | orjson.OPT_SORT_KEYS
_sha256 = hashlib.sha256


def json_bytes(value: Any, sort_keys: bool = False) -> bytes:
    """``value`` as UTF-8 JSON: dataclasses as objects in field order, datetimes as RFC 3339,
    tuples as arrays, other unknown types as ``str``; keys sorted at every level when
    ``sort_keys``. Raises orjson.JSONEncodeError for what cannot be written (e.g. NaN keys)."""
    return orjson.dumps(value, default=_default, option=_SORTED if sort_keys else _OPTS)


def plain(value: Any) -> Any:
    """A dataclass tree as plain dicts, lists, strings and numbers (datetimes as RFC 3339
    strings, enums as their values), ready for a JSON column.

    Serialised and read back by orjson, which walks the tree in C: a recursive
    ``dataclasses.asdict`` dominated ingest time on large event streams.
    """
    return orjson.loads(json_bytes(value))


def fact_digest(facts: Any) -> str:
    """SHA-256 (hex) of ``facts`` as canonical JSON (keys sorted): equal facts, equal digest.

    ``facts`` may be plain values or still hold dataclasses, tuples and datetimes: both give
    the digest of their :func:`plain` form."""
    return _sha256(orjson.dumps(facts, default=_default, option=_SORTED)).hexdigest()  # json_bytes(facts, True)


def name_key(name: str) -> str:
    """A party name as compared for history: lower case, single spaces, at most 256 characters."""
    return " ".join(name.lower().split())[:256]
