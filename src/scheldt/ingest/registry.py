"""Formats Scheldt reads, and detection of a file's format from its first bytes.

A plain list, like the readers it names; later formats add an entry here.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

from scheldt.errors import InputError, require_file
from scheldt.ingest.ais import ais_layouts, detect_ais_layout, layout_misses
from scheldt.ingest.mapping import DeclarationMapping, builtin_mapping_names, load_mapping

FORMATS = ("declarations", "dcsa-events", "dcsa-documents", "ais-nmea", "ais-csv", "edifact")
_DCSA_EVENT_MARKERS = (b'"eventType"', b'"eventClassification"', b'"retractedEventID"')
#: A Track & Trace page (``{"events": [...]}``) is events even when none of them is well formed.
#: JIT Port Call 2.0 messages are ``{"events": [...]}`` pages too; they go to the document reader.
_PORT_CALL_MARKERS = (b'"portCall"', b'"terminalCall"', b'"portCallServiceTypeCode"')
_EVENTS_PAGE = re.compile(rb'^(\xef\xbb\xbf)?\s*\{\s*"events"\s*:')


@dataclass(frozen=True, slots=True)
class Detected:
    """The format of a file and, for tabular formats, the column mapping to read it with."""

    format: str
    mapping: DeclarationMapping | None


def csv_header(path: Path, delimiter: str = ",") -> list[str]:
    """The column names of a CSV file's first line (a UTF-8 byte-order mark left out), or []."""
    with path.open("rb") as fh:
        # the first line at any line end (a file with CR line ends reads as one line: an ingest review)
        first = next(iter(fh.readline(1 << 20).removeprefix(b"\xef\xbb\xbf").splitlines()), b"").decode(
            "utf-8", errors="replace")
    try:
        return [h.strip() for h in next(csv.reader([first], delimiter=delimiter), [])]
    except csv.Error:
        return []


def _is_tnt(head: bytes) -> bool:
    """Whether a JSON document's first bytes look like Track & Trace events."""
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] not in (b"{", b"["):
        return False
    if any(m in head for m in _DCSA_EVENT_MARKERS):
        return True
    return bool(_EVENTS_PAGE.match(head)) and not any(m in head for m in _PORT_CALL_MARKERS)


#: Byte-order marks of encodings other than UTF-8.
_OTHER_BOMS = {b"\xff\xfe\x00\x00": "UTF-32", b"\x00\x00\xfe\xff": "UTF-32", b"\xff\xfe": "UTF-16",
               b"\xfe\xff": "UTF-16"}


def _other_encoding(head: bytes) -> str:
    """Why a file's first bytes are in an encoding no reader reads (UTF-16, UTF-32: a byte-order
    mark, or a NUL byte beside every other byte), or ""."""
    encoding = next((name for bom, name in _OTHER_BOMS.items() if head.startswith(bom)), "")
    # without a byte-order mark, UTF-16 text has a NUL beside each ASCII character; a few NULs
    # only (an AIS receiver's capture padded with them) are not it (a regression review)
    if encoding or max(head[:64:2].count(0), head[1:64:2].count(0)) >= max(2, len(head[:64]) // 4):
        return (f"the file is in {encoding or 'an encoding with NUL bytes (UTF-16 or UTF-32?)'}: Scheldt reads JSON, "
                "CSV and NMEA in UTF-8 (EDIFACT in its own character sets); save it as UTF-8")
    return ""


def _not_a_format(head: bytes) -> str:
    """Why a file's first bytes are none of the formats, in the sender's terms, or "" when they
    may be a declaration CSV (a carrier review's UTF-16 JSON, a bare "hello" and a file of
    blank lines were all told to write a declaration mapping)."""
    if other := _other_encoding(head):
        return other
    if not head.strip(b"\xef\xbb\xbf \t\r\n"):
        return "the file holds only blank space"
    try:  # the whole file when it is this short; a quoted CSV header is not JSON
        value = json.loads(head.decode("utf-8-sig"))
    except ValueError:
        return ""
    except RecursionError:  # nested too deeply to look at here: its reader says so (an attack review's
        return ""  # 990 levels crashed the whole ingest, files before it rolled back)
    if not isinstance(value, dict | list):
        return ("the file is a single JSON value (text, a number, true, false or null), not a JSON object or list "
                "of DCSA events or documents")
    return ""


def _ais_csv_misfit(header: list[str]) -> str:
    """Why a file given as ``--format ais-csv`` fits no built-in layout: the columns of time,
    position and vessel that the layout it comes nearest to lacks."""
    misses = sorted(((layout_misses(layout, header), name) for name, layout in ais_layouts().items()),
                    key=lambda m: (len(m[0]), m[1]))
    if not misses:
        return "no built-in AIS CSV layout; describe its columns in a YAML file and pass --ais-layout FILE.yaml"
    lacking, name = misses[0]
    return (f"not a known AIS CSV layout: the header lacks {', '.join(map(repr, lacking))} of the {name} layout "
            "(time, position and vessel columns); describe another layout in a YAML file and pass "
            "--ais-layout FILE.yaml")


def detect(path: Path, format: str = "auto", mapping: str | None = None,
           outcomes_only: bool = False) -> Detected:
    """Decide how to read ``path``.

    ``format`` is ``auto`` or one of :data:`FORMATS`; ``mapping`` a built-in mapping name or a
    YAML file. Without a mapping, the first built-in mapping whose declaration columns (with
    ``outcomes_only``: reference and outcome columns) are all in the file's header is used.
    Raises InputError saying why when nothing fits.
    """
    if format not in ("auto", *FORMATS):
        raise InputError(f"--format {format}", f"unknown format; known: auto, {', '.join(FORMATS)}")
    require_file(path)
    if path.stat().st_size == 0:
        raise InputError(f"{path}:1", "file is empty")
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    if other := _other_encoding(head):  # whatever reads it (a feeds review: a UTF-16 declaration file read
        raise InputError(f"{path}:1", other)  # through --mapping said "universal-newline mode")
    if mapping is not None:
        return Detected("declarations", load_mapping(mapping))
    unreadable = _not_a_format(head)
    if unreadable and format == "auto":
        raise InputError(f"{path}:1", unreadable)
    if format == "dcsa-events" or (format == "auto" and _is_tnt(head)):
        return Detected("dcsa-events", None)
    if format == "edifact" or (format == "auto" and head.lstrip(b"\xef\xbb\xbf \t\r\n")[:3] in (b"UNA", b"UNB", b"UNH")):
        return Detected("edifact", None)
    if format == "ais-nmea" or (format == "auto" and (b"!AIVDM" in head or b"!AIVDO" in head)):
        return Detected("ais-nmea", None)
    if format in ("auto", "ais-csv") and detect_ais_layout(csv_header(path)) is not None:
        return Detected("ais-csv", None)
    if format == "ais-csv":  # said to be one: name what the nearest built-in layout misses (ingest review)
        raise InputError(f"{path}:1", _ais_csv_misfit(csv_header(path)))
    if format == "dcsa-documents" or (format == "auto" and head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[")):
        return Detected("dcsa-documents", None)
    header = csv_header(path)
    for name in builtin_mapping_names():
        candidate = load_mapping(name)
        if outcomes_only and candidate.outcomes is not None:
            wanted = [candidate.fields["declaration_ref"], *candidate.outcomes.columns]
            if all(c in header for c in wanted):
                return Detected("declarations", candidate)
        elif not candidate.missing_columns(header, with_outcomes=False):
            return Detected("declarations", candidate)
    raise InputError(
        f"{path}:1",
        "format not recognised: not JSON, UN/EDIFACT (UNA, UNB or UNH), AIS NMEA (!AIVDM) or a known AIS CSV "
        "layout, and the header matches no built-in declaration mapping "
        f"({', '.join(builtin_mapping_names())}); describe the layout in a YAML file and pass "
        "--mapping FILE.yaml (declarations) or --ais-layout FILE.yaml (a decoded AIS CSV)",
    )
