"""Receive and serve shared STIX objects under the one visibility policy.

:func:`ingest_objects` is how objects enter a node (TAXII POST, federation pull, MISP import,
a local share): each is parsed by the stix2 library, its sharing terms read
(:mod:`scheldt.exchange.objects`), and stored as a version keyed on (id, modified), so a
re-sent or relayed version adds nothing. A bad object is reported with its id and why; the
others in the same envelope are kept. :func:`visible_objects` and :func:`served` are how
every reader gets them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import stix2
from stix2.exceptions import STIXError

from scheldt.domain.exchange import Requester
from scheldt.errors import InputError
from scheldt.exchange import stix_mapping  # noqa: F401 - registers Scheldt's STIX types with stix2 before parsing
from scheldt.exchange.objects import redact, sharing_of, stored_values

#: Objects in one envelope, at most (TAXII servers announce a max content length; this bounds memory).
MAX_OBJECTS = 10_000
#: Deepest nesting of lists and objects in one STIX object (the store's JSON writer stops at 255;
#: STIX objects, extensions included, need a handful).
MAX_DEPTH = 64


def _depth(obj: Any) -> int:
    """How deeply lists and objects nest in ``obj`` (a scalar: 0), read without recursion."""
    deepest, todo = 0, [(obj, 1)]
    while todo:
        value, level = todo.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        if level <= MAX_DEPTH:
            todo.extend((c, level + 1) for c in children)
    return deepest


@dataclass
class IngestReport:
    """What happened to each object of an envelope: added (id, modified, seq), already stored
    (id, modified), failed (id or index, why)."""

    added: list[tuple[str, str, int]] = field(default_factory=list)
    known: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def parse_object(obj: Any, where: str) -> dict[str, Any]:
    """Check one STIX 2.1 object with the stix2 library (custom objects and extensions allowed)
    and return it as a plain dict. Raises InputError with the library's reason."""
    if not isinstance(obj, dict):
        raise InputError(where, "not a JSON object")
    if obj.get("spec_version", "2.1") != "2.1" and obj.get("type") not in ("bundle",):
        raise InputError(f"{where}.spec_version", f"{obj.get('spec_version')!r}: only STIX 2.1 is accepted")
    if _depth(obj) > MAX_DEPTH:
        raise InputError(where, f"nests lists and objects more than {MAX_DEPTH} levels deep")
    extensions = obj.get("extensions", {})
    if not isinstance(extensions, dict) or not all(isinstance(e, dict) for e in extensions.values()):
        raise InputError(f"{where}.extensions", "must map extension ids to objects of properties")
    try:
        stix2.parse(obj, allow_custom=True, version="2.1")
    except (STIXError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InputError(where, f"not valid STIX 2.1: {exc}") from None
    return obj


def ingest_objects(uow: Any, objects: list[Any], owner_org: str, source: str, default_group: str | None,
                   now: datetime) -> IngestReport:
    """Store each object version (see the module docstring). ``owner_org``: the organisation
    the objects come from (the requester of a TAXII POST, the peer of a pull); ``source``:
    provenance (``local``, ``taxii:<user>``, ``peer:<name>``); ``default_group``: the sharing
    group of objects that name none (the collection posted to). Raises InputError when
    ``objects`` is not a list or holds more than :data:`MAX_OBJECTS`."""
    if not isinstance(objects, list):
        raise InputError("objects", "give a list of STIX objects")
    if len(objects) > MAX_OBJECTS:
        raise InputError("objects", f"{len(objects):,} objects; at most {MAX_OBJECTS:,} per envelope")
    report = IngestReport()
    batch: list[tuple[dict[str, Any], tuple[tuple[str, str], ...]]] = []
    for i, obj in enumerate(objects):
        label = str(obj.get("id", f"objects[{i}]")) if isinstance(obj, dict) else f"objects[{i}]"
        try:
            parsed = parse_object(obj, label)
            sharing = sharing_of(parsed, default_group, label)
            values = stored_values(parsed, sharing, owner_org, source, now)
        except InputError as exc:
            report.failed.append((label, f"{exc.where}: {exc.why}"))
            continue
        batch.append((values, sharing.recipients))
    for (values, _), seq in zip(batch, uow.exchange.add_versions(batch), strict=True):
        if seq is None:
            report.known.append((values["stix_id"], values["modified"]))
        else:
            report.added.append((values["stix_id"], values["modified"], seq))
    return report


def visible_objects(uow: Any, requester: Requester, **filters: Any) -> list[Any]:
    """Stored versions the requester may see (filters as ``ExchangeRepository.page``)."""
    return uow.exchange.page(requester, **filters)


def served(uow: Any, requester: Requester, stored: Any) -> dict[str, Any]:
    """A stored version as the requester may see it: fields under granular markings the
    requester may not see are removed."""
    if not stored.object.get("granular_markings"):
        return stored.object
    return redact(stored.object, requester, uow.exchange.audience(stored))
