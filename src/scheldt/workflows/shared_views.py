"""What the workbench's exchange pages show of shared items: the items a user may see, newest
first, one row per item (its newest version), and one item with its parts and versions.

Every object goes through the one visibility policy (:meth:`ExchangeRepository.recent`,
:meth:`ExchangeRepository.versions`) and is served as the requester may see it (fields under
granular markings it may not see removed: :func:`scheldt.workflows.sharing.served`).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from scheldt.domain.exchange import Requester
from scheldt.exchange.stix_mapping import ALERT_EXTENSION_ID, RESULT_LABEL, SEIZURE_TYPE, item_kind
from scheldt.workflows.sharing import served

#: STIX types of items' main objects (alert, watchlist entry, seizure report, sighting).
#: The sharing kind of STIX objects that are no Scheldt item.
OTHER = "other"
MAIN_TYPES = ("grouping", "indicator", SEIZURE_TYPE, "sighting")
#: Item kinds as the pages name them; ``other``: STIX objects that are no Scheldt item (a
#: partner's plain indicator, a MISP event imported as a note), listed too (an exchange review
#: found them served by the API and missing from the Exchange page without a word).
KINDS = ("alert", "watchlist-entry", "seizure-report", "sighting", OTHER)
#: How many stored versions one list page reads to find its items (several versions per item).
READ_FACTOR = 4
#: How many times one list page reads that many before it shows what it found.
READ_ROUNDS = 5


def _title(kind: str, obj: dict[str, Any]) -> str:
    if kind == "seizure-report":
        mass = obj.get("mass_kg")
        amount = f" {mass:g} kg" if isinstance(mass, int | float) else ""
        # a partner's words, at most 64 characters each in a title (a regression review's 20,000-character
        # method, sent over MISP, filled the exchange list)
        said = [str(obj.get(k) or "").replace("_", " ")[:64] for k in ("concealment", "method")]
        return f"Seizure: {obj.get('drug_type', '?')}{amount}" + "".join(f", {s}" for s in said if s)
    if kind == "sighting":
        result = next((str(lab)[len(RESULT_LABEL):] for lab in obj.get("labels") or [] if str(lab).startswith(RESULT_LABEL)),
                      "?")
        return f"Feedback: {result.replace('_', ' ')}"
    if kind == OTHER:
        return f"{obj.get('type', 'object')}: {obj.get('name') or obj.get('abstract') or obj.get('id')}"
    return str(obj.get("name") or obj.get("id"))


def _lines(kind: str, obj: dict[str, Any]) -> list[str]:
    """The item's text as an analyst reads it: an alert's reasons, a note, a description."""
    if kind == "alert":
        reasons = ((obj.get("extensions") or {}).get(ALERT_EXTENSION_ID) or {}).get("reasons") or []
        return [str(r.get("text", "")) for r in reasons if isinstance(r, dict) and r.get("text")]
    shown = ("description", "content", "pattern") if kind == OTHER else ("description",)  # a note's text, a pattern
    lines = [str(obj[k]) for k in shown if obj.get(k)]
    if kind == "seizure-report":
        lines += [f"{k.replace('_', ' ')}: {_as_read(obj[k])}" for k in ("port_of_loading", "origin_country",
                                                                       "seized_at", "selection") if obj.get(k)]
    if kind == "sighting" and obj.get("sighting_of_ref"):
        lines.append(f"on {obj['sighting_of_ref']}")
    return lines


def _as_read(value: Any) -> str:
    """A STIX value as the workbench writes it elsewhere: a timestamp as ``2026-12-04 01:14
    UTC`` (a review read 2026-12-04T01:14:58.576Z here and "01:14 UTC" everywhere else)."""
    text = str(value)
    if _STIX_TIME.fullmatch(text):
        return f"{text[:10]} {text[11:16]} UTC"
    return text


_STIX_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def shown_kind(stored: Any) -> str | None:
    """The kind a list shows a stored version as: its item's kind, ``other`` for an object that
    is no Scheldt item's main object nor part, None for an item's part."""
    return item_kind(stored.object) or (OTHER if stored.kind == OTHER else None)


def item_row(stored: Any, obj: dict[str, Any], org_id: str) -> dict[str, Any]:
    """One item as a list shows it (``obj``: its main object as served to the requester)."""
    kind = item_kind(obj) or stored.kind
    return {"id": stored.stix_id, "kind": kind, "title": _title(kind, obj), "lines": _lines(kind, obj),
            "owner": stored.owner_org, "tlp": stored.tlp, "group": stored.group_id or "",
            "evaluation": f"{stored.reliability}{stored.credibility}", "handling": stored.handling_code,
            "valid_until": stored.valid_until, "added": stored.date_added, "modified": stored.modified,
            "withdrawn": stored.revoked, "source": stored.source, "mine": stored.owner_org == org_id}


def recent_items(uow: Any, requester: Requester, kind: str = "", limit: int = 50,
                 before_seq: int | None = None) -> tuple[list[dict[str, Any]], int | None]:
    """Items the requester may see, newest arrival first: each item once, as its newest
    version among those read (:data:`READ_FACTOR` × ``limit`` versions of the kind's STIX type
    at a time, before ``before_seq``, at most :data:`READ_ROUNDS` times until ``limit`` items
    are found); ``kind`` one of :data:`KINDS` or "" for all. Returns (rows, the ``before_seq``
    of the next page or None at the end)."""
    if kind == OTHER:
        types: tuple[str, ...] = ()
    else:
        types = (MAIN_TYPES[KINDS.index(kind)],) if kind in KINDS else MAIN_TYPES
    other = OTHER if kind in ("", OTHER) else None
    newest: dict[str, Any] = {}
    before, full = before_seq, False
    for _ in range(READ_ROUNDS):  # a review's 205 sightings hid every alert behind "nothing shared"
        versions = uow.exchange.recent(requester, types, limit * READ_FACTOR, before, also_kind=other)
        for v in versions:
            if shown_kind(v) is None or (kind and shown_kind(v) != kind):
                continue
            if v.stix_id not in newest or v.modified > newest[v.stix_id].modified:
                newest[v.stix_id] = v
        full = len(versions) == limit * READ_FACTOR
        before = versions[-1].seq if versions else before
        if len(newest) >= limit or not full:
            break
    ordered = sorted(newest.values(), key=lambda v: -v.seq)[:limit]
    rows = [item_row(v, served(uow, requester, v), requester.organisation_id) for v in ordered]
    more = full or len(newest) > limit
    if not more:
        return rows, None
    return rows, (ordered[-1].seq if len(ordered) == limit else before)


def item_page(uow: Any, requester: Requester, stix_id: str) -> dict[str, Any] | None:
    """One item: its newest visible version as a row, every visible version (newest first:
    modified, marking, withdrawn) and its parts' objects as served, or None when the
    requester may see no version of it (or it is not an item's main object). ``withdrawal``:
    for a withdrawn item of the requester's own organisation, who withdrew it, when and why
    (None when not recorded: withdrawn before migration 0024); partners get None."""
    versions = uow.exchange.versions(requester, stix_id)
    if not versions or shown_kind(versions[-1]) is None:
        return None
    latest = versions[-1]
    obj = served(uow, requester, latest)
    refs = [r for k, v in obj.items() if k.endswith("_refs") and isinstance(v, list) for r in v if isinstance(r, str)]
    refs += [v for k, v in obj.items() if k.endswith("_ref") and k != "created_by_ref" and isinstance(v, str)]
    parts = []
    for ref in dict.fromkeys(refs):
        seen = uow.exchange.versions(requester, ref)
        if seen:
            parts.append(served(uow, requester, seen[-1]))
    # to whom a TLP:RED version goes (a review: shown only inside the parts' JSON); only those
    # named and the originator see such a version
    recipients = [f"{o}/{u}" for o, u in sorted(uow.exchange.recipients(latest.seq))] if latest.tlp == "red" else []
    withdrawal = (uow.exchange.withdrawal(stix_id) if latest.revoked and latest.owner_org == requester.organisation_id
                  else None)
    return {"row": item_row(latest, obj, requester.organisation_id), "object": obj, "parts": parts,
            "recipients": recipients, "withdrawal": withdrawal,
            "versions": [{"modified": v.modified, "tlp": v.tlp, "group": v.group_id or "", "withdrawn": v.revoked,
                          "added": v.date_added} for v in reversed(versions)]}


def withdrawable(row: dict[str, Any]) -> bool:
    """Whether the requester's organisation may withdraw the item here: its own, made on this
    node (not a peer's copy), not withdrawn yet."""
    return bool(row["mine"] and not row["withdrawn"] and not str(row["source"]).startswith("peer:")
                and row["kind"] != OTHER)


def is_expired(row: dict[str, Any], now: datetime) -> bool:
    """Whether the item's validity ended before ``now`` (UTC)."""
    return row["valid_until"] is not None and row["valid_until"] < now
