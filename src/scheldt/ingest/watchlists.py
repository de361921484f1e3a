"""Watchlist readers: CSV and FollowTheMoney (FtM) entities, into :class:`WatchlistEntry`.

CSV: a header row with at least ``name``; optional ``id``, ``aliases`` (separated by ``;``),
``kind``, ``address``, ``country``. Without ``id`` an entry's id is a hash of its name.

FtM: the entity format of OpenSanctions and Aleph (https://followthemoney.tech), one JSON
object per line (``entities.ftm.json``), objects written over several lines one after another
(a pretty-printed export), or a JSON array: ``{"id", "schema", "properties":
{"name": [...], "alias": [...], "weakAlias": [...], "previousName": [...], "address": [...],
"country": [...]}}``. Entities of the schemas that name something a trip can carry (Company,
Organization, LegalEntity, Person, Vessel, Address) are kept; the others (Sanction, Ownership,
Directorship...) are counted as skipped.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from scheldt.ingest.base import Rejection
from scheldt.risk.screening import WatchlistEntry

#: Longest list name and entry id the store keeps.
MAX_ID = 128
FTM_KINDS = {"Company": "company", "Organization": "company", "LegalEntity": "company", "PublicBody": "company",
             "Person": "person", "Vessel": "vessel", "Address": "address"}
_MAX_NAME = 500
#: The kinds of entry a CSV list may give (``kind`` column; company when empty): what party
#: screening matches. Containers, seal ranges and routes come as shared watchlist entries.
CSV_KINDS = ("company", "person", "vessel", "address")


def read_watchlist_csv(data: bytes, source: str, list_name: str) -> Iterator[WatchlistEntry | Rejection]:
    """Entries of a watchlist CSV, or a Rejection (file:line) per unusable row. ``line`` is
    the physical line a row begins on (a quoted address over three lines moved every later
    line number: screening review). Read strictly: a quote never closed is a rejection naming
    the lines it swallowed, not a field holding the rest of the file (a review's stray quote
    delisted the three entries after it without a word), and a quote that closes in the middle
    of a field (``"ab"c``) is one too."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        yield Rejection(f"{source}:1", "", f"not UTF-8 text: {exc}")
        return
    rows = csv.reader(io.StringIO(text), strict=True)
    try:
        header = [h.strip().lower() for h in next(rows, [])]
    except csv.Error as exc:
        yield Rejection(f"{source}:1", "", f"header is not readable CSV: {exc}")
        return
    if "name" not in header:
        yield Rejection(f"{source}:1", "name", f"no 'name' column in the header ({', '.join(header)[:200]})")
        return
    twice = sorted({h for h in header if h and header.count(h) > 1})
    if twice:  # the last one was read and the first lost without a word (analyst review)
        yield Rejection(f"{source}:1", twice[0], f"column {twice[0]!r} is given {header.count(twice[0])} times in the "
                        "header: which one holds it?")
        return
    col = {h: i for i, h in enumerate(header)}
    seen: dict[str, str] = {}
    while True:
        line = rows.line_num + 1
        try:
            cells = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:
            yield Rejection(f"{source}:{line}", "", _unreadable(str(exc), line, rows.line_num))
            continue
        if not any(c.strip() for c in cells):
            continue
        where = f"{source}:{line}"
        if len(cells) != len(header):
            yield Rejection(where, "", f"{len(cells)} cells, the header has {len(header)}", ",".join(cells)[:500])
            continue
        value = lambda key: cells[col[key]].strip() if key in col else ""  # noqa: E731
        name = value("name")
        if not name or len(name) > _MAX_NAME:
            yield Rejection(where, "name", "empty name" if not name else f"name longer than {_MAX_NAME} characters")
            continue
        entry_id = value("id") or hashlib.sha256(name.encode()).hexdigest()[:16]
        if len(entry_id) > MAX_ID:
            yield Rejection(where, "id", f"id longer than {MAX_ID} characters")
            continue
        if entry_id in seen:
            yield Rejection(where, "id", f"entry {entry_id} already given at {seen[entry_id]}; the first is kept")
            continue
        kind = value("kind").lower() or "company"
        if kind not in CSV_KINDS:  # a review's "container" row was stored and never matched
            yield Rejection(where, "kind", f"{value('kind')[:40]!r} is not a kind a list file carries "
                            f"({', '.join(CSV_KINDS)}); containers, seal ranges and routes are matched as watchlist "
                            "entries shared through the exchange")
            continue
        seen[entry_id] = where
        aliases = tuple(a.strip() for a in value("aliases").split(";") if a.strip())
        yield WatchlistEntry(list_name, entry_id, name, kind, aliases, value("address"), value("country").upper(),
                             where)


def _unreadable(why: str, line: int, last: int) -> str:
    """Why a CSV row beginning on ``line`` cannot be read (the reader stopped at ``last``)."""
    if why == "unexpected end of data":
        swallowed = f"lines {line}-{last}" if last > line else f"line {line}"
        return (f"a quote opened in this row is never closed: the rest of the file ({swallowed}) would be one cell; "
                "none of it is loaded (close the quote)")
    return f"not readable CSV: {why}"


def read_ftm(data: bytes, source: str, list_name: str, skipped: Counter[str] | None = None) -> Iterator[WatchlistEntry | Rejection]:
    """Entries of FtM entities (JSON lines, objects over several lines, or a JSON array); a
    Rejection per unusable entity.
    ``skipped`` counts entities kept out by schema."""
    skipped = skipped if skipped is not None else Counter()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        yield Rejection(f"{source}:1", "", f"not UTF-8 text: {exc}")
        return
    if text.lstrip().startswith("["):
        try:
            items: list[tuple[str, Any]] = [(f"{source}$[{i}]", e) for i, e in enumerate(json.loads(text))]
        except (json.JSONDecodeError, RecursionError, TypeError) as exc:
            why = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            yield Rejection(f"{source}$", "", f"not a JSON array of entities: {why}")
            return
    else:
        items = []
        for where, entity in _entities(text, source):
            if isinstance(entity, Rejection):
                yield entity
            else:
                items.append((where, entity))
    seen: dict[str, str] = {}
    for where, entity in items:
        for rec in _entity(entity, where, list_name, skipped):
            if isinstance(rec, WatchlistEntry):
                if rec.entry_id in seen:
                    rec = Rejection(where, "id", f"entity {rec.entry_id} already given at {seen[rec.entry_id]}; "
                                    "the first is kept")
                else:
                    seen[rec.entry_id] = where
            yield rec


def _entities(text: str, source: str) -> Iterator[tuple[str, Any]]:
    """(where, entity) of each JSON value in ``text`` one after another: JSON lines, or entities
    written over several lines (pretty-printed), ``where`` the line each begins on. A value that
    cannot be read is a Rejection for its line; reading goes on at the next line."""
    decoder, blank = json.JSONDecoder(), re.compile(r"\s*")
    pos, line, counted = 0, 1, 0
    while (pos := blank.match(text, pos).end()) < len(text):  # type: ignore[union-attr]
        line += text.count("\n", counted, pos)
        counted = pos
        try:
            entity, pos = decoder.raw_decode(text, pos)
        except (json.JSONDecodeError, RecursionError) as exc:
            why = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            end = text.find("\n", pos)
            end = len(text) if end < 0 else end
            yield f"{source}:{line}", Rejection(f"{source}:{line}", "", f"not a JSON entity: {why}", text[pos:end][:500])
            pos = end
            continue
        yield f"{source}:{line}", entity


def _address_names(texts: Any) -> list[str]:
    """What names an FtM Address entity, which has no ``name``: its ``full`` text, else its parts
    (street, postal code, city) joined (a targeting review: every OpenSanctions-style Address was
    refused as nameless, and a list holding one could never lose a delisted entry)."""
    parts = " ".join(p for key in ("street", "street2", "postalCode", "city") for p in texts(key)[:1])
    return texts("full") or ([parts] if parts else [])


def _entity(entity: Any, where: str, list_name: str, skipped: Counter[str]) -> Iterator[WatchlistEntry | Rejection]:
    if not isinstance(entity, dict) or not isinstance(entity.get("properties"), dict):
        yield Rejection(where, "properties", "an FtM entity is an object with id, schema and properties")
        return
    schema = entity.get("schema")
    if schema not in FTM_KINDS:
        skipped[f"schema {schema}"] += 1
        return
    props = entity["properties"]
    bad = next((k for k, v in props.items() if not isinstance(v, (list, str))), None)
    if bad is not None:
        yield Rejection(where, f"properties.{bad}", "FtM property values are lists of strings")
        return
    texts = lambda key: [v for v in ([props[key]] if isinstance(props.get(key), str) else props.get(key) or [])  # noqa: E731
                         if isinstance(v, str) and v.strip()]
    names = texts("name") or (_address_names(texts) if schema == "Address" else [])
    if len(str(entity.get("id", ""))) > MAX_ID:
        yield Rejection(where, "id", f"id longer than {MAX_ID} characters")
        return
    if not entity.get("id") or not names:
        yield Rejection(where, "id" if not entity.get("id") else "properties.name", f"{schema} entity without "
                        + ("an id" if not entity.get("id") else "a name"))
        return
    aliases = tuple(dict.fromkeys(n for n in names[1:] + texts("alias") + texts("weakAlias") + texts("previousName")
                                  if len(n) <= _MAX_NAME))
    yield WatchlistEntry(list_name, str(entity["id"])[:128], names[0][:_MAX_NAME], FTM_KINDS[schema], aliases,
                         "; ".join(texts("address"))[:1000], ",".join(texts("country")).upper()[:64], where)
