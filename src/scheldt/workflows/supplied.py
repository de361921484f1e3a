"""Shipping data a shipping line or terminal sends the node itself: a DCSA Track & Trace events
page, a DCSA transport document (booking, shipping instructions, bill of lading, arrival notice,
VGM declaration) or a UN/EDIFACT interchange (BAPLIE, COARRI, CODECO, COPRAR, CUSCAR, IFTMIN,
IFTSTA ...), posted to ``POST /api/v1/shipping-data`` or through the workbench's "Send data" page.

What a sender may supply is what the command line takes from it under its name
(:func:`scheldt.workflows.shipping.ingest_dcsa_events`): a line its own documents and the events
about its own shipments, a terminal the moves of boxes and no transport document. Every fact is
recorded as supplied by the sender's organisation and received now; bad records are quarantined
with where and why, the rest is kept; the same facts sent again add nothing. The trips the file
touches are re-scored at once. Declarations and AIS are not taken from shipping firms here
(declarations come from declarants through customs; AIS from the node's own feeds).

The unit of work is duck-typed (``uow.events``, ``uow.supplied_files``, ...): workflows import
no store code.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from scheldt.domain.access import Permission, Principal
from scheldt.errors import InputError
from scheldt.ingest.base import FileReport
from scheldt.ingest.registry import detect
from scheldt.workflows.accounts import require
from scheldt.workflows.ports import UnitOfWork
from scheldt.workflows.shipping import ingest_dcsa_events
from scheldt.workflows.trip_scoring import rescore_received

#: The formats a shipping line or terminal may send (names as ``scheldt ingest --format`` takes them).
SUPPLIED_FORMATS = ("dcsa-events", "dcsa-documents", "edifact")
#: Largest file taken, in bytes (64 MiB: a month of a line's Track & Trace events at a large port
#: is a few MiB; bigger is split).
MAX_BYTES = 64 * 1024 * 1024
#: Rejections kept in a file's stored report and shown (all are counted, and all are quarantined).
REPORT_REJECTIONS = 500


def _kept(c: str) -> bool:
    """Whether a sent file's name keeps ``c``: letters, marks and digits of any script (Unicode
    categories L, M, N: "हिन्दी" needs its vowel signs), dot, dash and underscore; not spaces,
    slashes, controls nor format characters such as a right-to-left override."""
    return c in "._-" or unicodedata.category(c)[0] in "LMN"


def file_name(given: str | None) -> str:
    """A safe name for a sent file: the last part of ``given`` (a client may send a whole path),
    in composed form (NFC: a macOS name's "é" is one letter), each run of characters it does not
    keep (:func:`_kept`) replaced by ``_``, at most 100 characters, never starting with a dot,
    a mark or ``_`` nor ending with ``_``; ``"upload"`` when nothing is left (``"Été 事件.json"``
    → ``"Été_事件.json"``; ``"_.htaccess"`` → ``"htaccess"``)."""
    last = unicodedata.normalize("NFC", re.split(r"[\\/]", (given or "").strip())[-1])
    name = re.sub(r"_+", "_", "".join(c if _kept(c) else "_" for c in last))[-100:]
    while name and (name[0] in "._" or unicodedata.category(name[0])[0] == "M"):
        name = name[1:]
    return name.rstrip("_") or "upload"


def check_sender(principal: Principal, size: int, format: str) -> None:
    """Refuse a sending before anything is stored. Raises ForbiddenError when ``principal``
    may not supply data (users of shipping lines and terminals with ``carrier_security`` may),
    InputError for an empty file, one over :data:`MAX_BYTES`, or a ``format`` other than
    ``auto`` and :data:`SUPPLIED_FORMATS`."""
    require(principal, Permission.SUPPLY_DATA)
    if format not in ("auto", *SUPPLIED_FORMATS):
        raise InputError("format", f"{format[:40]!r} is not a format you can send; give auto or one of "
                         f"{', '.join(SUPPLIED_FORMATS)}")
    if size == 0:
        raise InputError("body", "the file is empty")
    if size > MAX_BYTES:
        raise InputError("body", f"{size:,} bytes; at most {MAX_BYTES:,} (64 MiB) per file: split it")


def supply_file(uow: UnitOfWork, principal: Principal, file_id: int, path: Path, name: str, format: str,
                now: datetime) -> FileReport:
    """Read the file at ``path`` (recorded as ``file_id``, named ``name``; every fact's source
    and rejection names it ``<organisation>/<file_id>/<name>``) as supplied by ``principal``'s
    organisation and received at ``now`` (UTC), re-score the trips it touches, and store its
    report with the file's record.

    Raises InputError when the file is no format Scheldt reads, or a format shipping firms do
    not send here (declarations, AIS), naming the file by ``name`` alone (nothing is stored, and
    its number goes to the next file: a review quoted it and found another file); record
    problems are not raised: they are quarantined and listed in the report."""
    check_sender(principal, path.stat().st_size, format)
    label = f"{principal.organisation.id}/{file_id}/{name}"
    uow.events.lock_ingest()
    try:
        detected = detect(path, format)
    except InputError as exc:
        raise InputError(exc.where.replace(str(path), name), _for_senders(exc.why)) from None
    if detected.format not in SUPPLIED_FORMATS:
        raise InputError(name, f"reads as {detected.format}: send DCSA Track & Trace events, DCSA transport "
                         "documents or UN/EDIFACT (declarations come from declarants through customs, AIS from "
                         "the node's own feeds)")
    try:
        report = ingest_dcsa_events(uow, path, now, principal.organisation.id, detected.format, label=label)
    except InputError as exc:  # the file as a whole (too big a document file)
        raise InputError(exc.where.replace(label, name), exc.why) from None
    rescore_received(uow, now, now)
    counts = {"accepted": report.accepted, "added": report.added, "rejected": report.rejected, "flags": report.flags}
    uow.supplied_files.finish(file_id, detected.format, counts, report_of(report))
    return report


def _for_senders(why: str) -> str:
    """``why`` a file is no format Scheldt reads, told to a shipping line or terminal: the
    command line's own advice (``--mapping``, ``--ais-layout``) is no use to them."""
    if why.startswith("format not recognised"):
        return "format not recognised: neither DCSA JSON nor UN/EDIFACT (UNA, UNB or UNH)"
    return why


def report_of(report: FileReport, most: int | None = None) -> dict[str, Any]:
    """What the sender is told of its file: counts, flags by kind, records skipped, and the
    first ``most`` (default :data:`REPORT_REJECTIONS`) rejections (where, field, why) in the
    order of the file (by the numbers in their places: line, JSON index, message and segment)."""
    most = REPORT_REJECTIONS if most is None else most
    ordered = sorted(report.rejections, key=lambda r: _in_file_order(r.where))
    out = replace(report, rejections=ordered).as_dict(max_rejections=most)
    out.pop("outcomes", None)  # declarations' inspection outcomes: never in shipping data
    out["rejections_listed"] = min(report.rejected, most)
    return out


def _in_file_order(where: str) -> list[tuple[int, str]]:
    """A sort key putting ``$.events[5]`` after ``$.events[3]`` and ``[10]`` after ``[9]``."""
    return [(int(part), "") if part.isdigit() else (0, part) for part in re.split(r"(\d+)", where)]
