"""What every reader yields besides domain records: rejections, and per-file reports."""

from __future__ import annotations

import csv
import dataclasses
import functools
import hashlib
import re
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

#: Times of shipping facts Scheldt accepts, UTC: [1970-01-01, 2100-01-01). A time outside is a
#: broken field (a year 0001 or 2999 in a feed), never a real event, document or position.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


class FieldError(Exception):
    """Raised inside a reader when one field of one record is unusable; the reader turns it into
    a :class:`Rejection` of that record (never raised out of a reader)."""

    def __init__(self, field: str, why: str) -> None:
        super().__init__(why)
        self.field = field
        self.why = why


def trimmed(value: Any) -> Any:
    """Text without spaces around it (a reference " BL6 " did not join its document); anything
    else as given, for the store's check to report."""
    return value.strip() if isinstance(value, str) else value


def owner_code(value: Any) -> Any:
    """A carrier or facility code as organisations own it: capitals, no spaces around ("sima"
    and " simt1 " were stored as sent, and neither the carrier nor the terminal owned the
    trip); "" for nothing; anything else as given, for the store's check to report."""
    return value.strip().upper() if isinstance(value, str) else (value or "")


def misfit(record: Any, nul: bool = True, skip: frozenset[str] = frozenset()) -> tuple[str, str] | None:
    """(field, why) for the first field of a domain record (a dataclass, and the records and
    tuples it holds) whose value is not of the type the record declares: text (or text holding a
    NUL character, which the stores cannot keep), true/false, a number; None when every field
    fits. Readers copy what a sender wrote into records; a number where a name is meant went on
    to code that takes text, and a fuzz review's vessel name 123 or ``isToOrder: "false"``
    stopped the whole ingest, every file of the run rolled back. ``flags`` (Scheldt's own) and an
    ``earlier_reading`` (read from the same text) are not looked at; nor are times, enums and
    other types (the readers' own making). ``nul`` False: a NUL in text is not looked for;
    ``skip``: the fields (dotted paths, e.g. ``location.unlocode``) not looked at, which the
    caller's store checks in its own terms."""
    check = _checker(type(record), nul, skip)
    return None if check is None else check(record)


_Check = Callable[[Any], "tuple[str, str] | None"]
_NONE = type(None)
_SKIPPED = ("flags", "earlier_reading")


def _text(value: Any) -> tuple[str, str] | None:
    if type(value) is str:
        return ("", "holds a NUL character (U+0000), which the store does not keep in text") if "\x00" in value \
            else None
    return "", f"is {_shown_json(value)}, not text"


def _any_text(value: Any) -> tuple[str, str] | None:
    return None if type(value) is str else ("", f"is {_shown_json(value)}, not text")


def _true_or_false(value: Any) -> tuple[str, str] | None:
    return None if isinstance(value, bool) else ("", f"is {_shown_json(value)}, not true or false")


def _number(value: Any) -> tuple[str, str] | None:
    return None if isinstance(value, (int, float)) and not isinstance(value, bool) else (
        "", f"is {_shown_json(value)}, not a number")


def _under(prefix: str, found: tuple[str, str]) -> tuple[str, str]:
    return (f"{prefix}.{found[0]}" if found[0] and not found[0].startswith("[") else prefix + found[0]), found[1]


@functools.cache
def _checker(kind: Any, nul: bool = True, skip: frozenset[str] = frozenset()) -> _Check | None:
    """The check of a value of declared type ``kind`` (None: nothing to check), made once;
    ``nul`` and ``skip`` as :func:`misfit` takes them."""
    if kind is str:
        return _text if nul else _any_text
    if kind is bool:
        return _true_or_false
    if kind in (int, float):
        return _number
    if dataclasses.is_dataclass(kind):
        return _record_checker(kind, nul, skip)
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        return _union_checker(args, nul, skip)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return _tuple_checker(_checker(args[0], nul, skip))
    if origin is tuple:
        return _tuple_checker(None, tuple(_checker(a, nul, skip) for a in args))
    return None


def _record_checker(cls: type, nul: bool, skip: frozenset[str]) -> _Check:
    hints = typing.get_type_hints(cls)
    plan = [(f.name, c) for f in dataclasses.fields(cls) if f.name not in _SKIPPED and f.name not in skip
            and (c := _checker(hints[f.name], nul, frozenset(p[len(f.name) + 1:] for p in skip
                                                             if p.startswith(f.name + ".")))) is not None]

    def check(value: Any) -> tuple[str, str] | None:
        if not isinstance(value, cls):
            return "", f"is {_shown_json(value)}, not an object"
        for name, each in plan:
            found = each(getattr(value, name))
            if found is not None:
                return _under(name, found)
        return None
    return check


def _union_checker(args: tuple[Any, ...], nul: bool, skip: frozenset[str]) -> _Check | None:
    optional = _NONE in args
    options = [c for a in args if a is not _NONE and (c := _checker(a, nul, skip)) is not None]
    if len(options) < len([a for a in args if a is not _NONE]):  # one option checks nothing: anything may fit
        return None

    def check(value: Any) -> tuple[str, str] | None:
        if value is None and optional:
            return None
        found = [c(value) for c in options]
        return None if any(f is None for f in found) else found[0]
    return check


def _tuple_checker(each: _Check | None, fixed: tuple[_Check | None, ...] = ()) -> _Check:
    def check(value: Any) -> tuple[str, str] | None:
        if not isinstance(value, tuple):
            return "", f"is {_shown_json(value)}, not a list"
        for i, item in enumerate(value):
            c = each if not fixed else (fixed[i] if i < len(fixed) else None)
            found = c(item) if c is not None else None
            if found is not None:
                return _under(f"[{i}]", found)
        return None
    return check


def _shown_json(value: Any) -> str:
    """A value as a sender's JSON named it, for a reason: ``a number (123)``, ``a list ([...])``."""
    return f"{json_kind(value, type(value).__name__)} ({str(value)[:40]})"


def storable_text(value: str) -> str:
    """``value`` as both stores keep text: a NUL character (U+0000, which PostgreSQL text cannot
    hold) and a lone surrogate (no UTF-8) each written as U+FFFD. A fuzz review's rejection
    quoting either stopped the whole ingest when it was quarantined."""
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in value)
    return value


def first_unlocode(*values: Any, field: str) -> str:
    """The first UN/LOCODE given among ``values`` ("" for none). Raises FieldError when it is
    not a string (a number or a list cannot be a UN/LOCODE; the record is quarantined)."""
    for value in values:
        if value:
            if not isinstance(value, str):
                raise FieldError(field, f"UNLocationCode {str(value)[:40]} is a {type(value).__name__}, not a string")
            return value
    return ""


def voyage_reference(value: Any) -> Any:
    """The voyage a DCSA ``VoyageNumberOrReference`` object names (T&T 3.0, VGM 1.0): its
    ``carrierVoyageNumber``, else its ``universalVoyageReference``; "" when it names neither or
    is not an object (any other JSON value inside it as given, for the store's check to report)."""
    if not isinstance(value, dict):
        return ""
    return value.get("carrierVoyageNumber") or value.get("universalVoyageReference") or ""


def iso_datetime(raw: str) -> datetime:
    """An ISO 8601 / RFC 3339 date or date-time as :meth:`datetime.fromisoformat` reads it, a
    final ``Z`` or ``z`` read as UTC (RFC 3339 §5.6 allows either case; Python 3.11 takes
    neither: an ingest review's ``2021-03-01T10:00:00z`` was refused, and a VGM declaration with
    it lost). Naive when ``raw`` has no offset. Raises ValueError."""
    text = raw.strip()
    return datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)


def sequence_number(raw: Any, field: str = "transportCall.transportCallSequenceNumber") -> int | None:
    """A call's sequence number (DCSA: an integer; T&T ``transportCallSequenceNumber``, port
    call ``terminalCall.sequenceNumber``), or None when not given. Raises FieldError naming
    ``field`` for another value (an ingest review's "one" was stored as sent, and 10**400
    rejected the event without naming the field; a later review found the port call reader
    taking both)."""
    if raw is None:
        return None
    number = int(raw) if type(raw) is float and raw.is_integer() else raw  # 1.0: an integer to JSON Schema 6+
    if type(number) is int and 0 <= number <= 2**31 - 1:
        return number
    name = field.rsplit(".", 1)[-1]
    raise FieldError(field, f"{name} {str(raw)[:24]} is not a whole number from 0 to 2,147,483,647")


def utc_in_range(ts: datetime, field: str, raw: object = None) -> datetime:
    """``ts`` as aware UTC (a naive one is taken as UTC). Raises FieldError naming ``field``
    when it falls outside [:data:`EARLIEST`, :data:`LATEST`) or cannot be expressed in UTC
    (year 1 with a positive offset, year 9999 with a negative one)."""
    shown = ts.isoformat() if raw is None else raw
    try:
        utc = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
    except OverflowError:
        raise FieldError(field, f"{field} {shown!r} is outside the range of dates Scheldt accepts "
                                "(1970-2099)") from None
    if not EARLIEST <= utc < LATEST:
        raise FieldError(field, f"{field} {shown!r} is outside the range of dates Scheldt accepts (1970-2099)")
    return utc


#: The JSON kind DCSA gives fields of these names wherever they occur (T&T 2.2 and 3.0, Booking
#: 2.0, eBL 3.0, arrival notice, VGM, schedules), for saying which field of a record of the
#: wrong shape is wrong (:func:`misshapen`). Fields DCSA gives in more than one kind across
#: versions (documentParties, weight, displayedAddress) are left out.
DCSA_FIELD_KINDS: dict[str, type] = {
    **dict.fromkeys(("eventClassification", "equipmentDetails", "transportCall", "vesselTransport", "location",
                     "eventLocation", "shipmentDetails", "transportDetails", "iotDetails", "reeferDetails",
                     "metadata", "geoCoordinate", "address", "party", "transports", "portOfLoading",
                     "portOfDischarge", "placeOfReceipt", "placeOfDelivery", "vesselVoyage", "equipment",
                     "invoicePayableAt", "facility", "portCall", "terminalCall", "transportDocument", "document",
                     "outerPackaging", "serviceCodeOrReference", "documentReference"), dict),
    **dict.fromkeys(("documentReferences", "relatedDocumentReferences", "references", "seals", "consignmentItems",
                     "cargoItems", "utilizedTransportEquipments", "requestedEquipments", "vesselVoyages",
                     "identifyingCodes", "charges", "partyContactDetails", "events", "arrivalNotices",
                     "VGMDeclarations", "commodities", "legs", "transportCalls", "vesselSchedules", "timestamps",
                     "carrierBookingReferences", "shipmentLocations", "customsReferences",
                     "additionalDocumentReferences"), list),
    **dict.fromkeys(("transportDocumentReference", "shippingInstructionsReference", "carrierBookingReference",
                     "carrierBookingRequestReference", "equipmentReference", "UNLocationCode", "carrierCode",
                     "transportDocumentStatus", "vesselName", "carrierExportVoyageNumber",
                     "carrierImportVoyageNumber", "sealNumber", "declarationReference", "eventType",
                     "equipmentEventTypeCode", "transportEventTypeCode", "shipmentEventTypeCode"), str),
}
_KIND_NAMES = {dict: "an object", list: "a list", str: "a text"}
#: Lists of DCSA records whose items are objects (a review's ``"seals": ["SEAL1"]`` was refused
#: naming no field).
DCSA_OBJECT_ITEMS = frozenset({
    "documentReferences", "relatedDocumentReferences", "references", "seals", "consignmentItems", "cargoItems",
    "utilizedTransportEquipments", "requestedEquipments", "vesselVoyages", "identifyingCodes", "charges",
    "partyContactDetails", "arrivalNotices", "VGMDeclarations", "commodities", "legs", "transportCalls",
    "vesselSchedules", "timestamps", "shipmentLocations", "customsReferences", "additionalDocumentReferences"})


def misshapen(value: Any, path: str = "", depth: int = 0) -> tuple[str, str] | None:
    """The first field of a DCSA record (parsed JSON) whose value is not of the kind DCSA gives
    it (:data:`DCSA_FIELD_KINDS`; null allowed), or the first item of one of the lists of
    objects (:data:`DCSA_OBJECT_ITEMS`) that is no object, as (path from the record, why), e.g.
    ``("equipmentDetails", "equipmentDetails holds a list where an object belongs")`` or
    ``("seals[0]", "seals[0] holds a text where an object belongs")``; None when every named
    field has its kind. A feeds review: a reader's error on such a record named no field ("a
    field holds a list where an object belongs"), or said Python's words."""
    if depth > 40:
        return None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, inner in items:
        at = f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}" if path else str(key)
        kind = DCSA_FIELD_KINDS.get(key) if isinstance(key, str) else None
        if kind is not None and inner is not None and type(inner) is not kind:
            held = _JSON_NAMES.get(type(inner).__name__, "a number")
            return at, f"{at} holds {held} where {_KIND_NAMES[kind]} belongs"
        if key in DCSA_OBJECT_ITEMS and isinstance(inner, list):
            odd = next((i for i, x in enumerate(inner) if type(x) is not dict), None)
            if odd is not None:
                held = _JSON_NAMES.get(type(inner[odd]).__name__, "a number")
                return f"{at}[{odd}]", f"{at}[{odd}] holds {held} where an object belongs"
        if isinstance(inner, dict | list) and (found := misshapen(inner, at, depth + 1)):
            return found
    return None


_JSON_NAMES = {"str": "a text", "NoneType": "null", "int": "a number", "float": "a number", "bool": "true/false",
               "list": "a list", "tuple": "a list", "dict": "an object", "Decimal": "a number"}


def json_kind(value: Any, unknown: str = "a number") -> str:
    """How a sender's JSON names the kind of ``value`` ("a text", "null", "a list", "an object",
    "true/false", "a number"); ``unknown`` for a value of any other type."""
    return _JSON_NAMES.get(type(value).__name__, unknown)


def structure_why(exc: Exception) -> str:
    """Why a record whose JSON has the wrong shape could not be read, in the sender's terms
    ("null where an object belongs") rather than Python's, from the exception a reader hit."""
    text = str(exc)
    found = re.search(r"'(\w+)' object", text)
    name = _JSON_NAMES.get(found.group(1), found.group(1)) if found else ""
    if found and ("has no attribute" in text or "is not subscriptable" in text):
        return f"a field holds {name} where an object belongs"
    if found and "is not iterable" in text:
        return f"a field holds {name} where a list belongs"
    if isinstance(exc, ArithmeticError):
        return "a number is out of range"
    return f"{type(exc).__name__}: {text[:120]}"


#: Longest ``where``, ``why`` and ``raw`` a :class:`Rejection` keeps (characters).
MAX_WHERE, MAX_WHY, MAX_RAW = 1_000, 2_000, 200_000


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record that could not be read, and why; it is quarantined, the rest of the file loads.

    ``where`` is ``"<file>:<line>"`` (``"<file>:<first>-<last>"`` for a CSV record over several
    lines; a segment or JSON path in other formats), ``field`` the record field at fault (empty
    for whole-record problems), ``why`` a sentence, and ``raw`` the record as received so it can
    be corrected and re-sent.
    """

    where: str
    field: str
    why: str
    raw: str = ""

    def __post_init__(self) -> None:
        # an attack review's 50 MB NMEA line was quoted whole in ``why`` and kept twice in the
        # quarantine; every reader's rejection is cut here (a message's raw text up to 200,000
        # characters, as the EDIFACT reader keeps a broken message)
        for name, most in (("where", MAX_WHERE), ("why", MAX_WHY), ("raw", MAX_RAW)):
            value = getattr(self, name)
            if len(value) > most:
                object.__setattr__(self, name, value[:most] + f"... ({len(value):,} characters, cut)")

    @property
    def fingerprint(self) -> str:
        """Key of this rejection's facts (raw record, field, reason), independent of file name.
        Without the raw record, where it was read stands in for it: rejections of different
        records for the same reason were kept as one (a review's 642 rejected containers of a
        bay plan left one quarantine record)."""
        key = self.raw if self.raw else f"@{self.where}"
        # a lone surrogate (JSON "\\ud800") has no UTF-8: a fuzz review's rejection stopped the run
        return hashlib.sha256(f"{key}\x1f{self.field}\x1f{self.why}".encode("utf-8", "surrogatepass")).hexdigest()

    def fingerprint_in(self, file_digest: str, place: str) -> str:
        """:attr:`fingerprint` of a rejection without its raw record read from a file whose
        content has SHA-256 ``file_digest``, ``place`` being where in it (``where`` without the
        file's name): the same file sent again under another name (every file a line sends
        through the API has a name of its own) is quarantined once, two files' records at the
        same place are two."""
        if self.raw:
            return self.fingerprint
        return hashlib.sha256(f"@{file_digest}{place}\x1f{self.field}\x1f{self.why}".encode(
            "utf-8", "surrogatepass")).hexdigest()


@dataclass(slots=True)
class FileReport:
    """Counts for one input file, as printed by ``scheldt ingest``.

    ``accepted`` counts records read (new or already known), ``added`` the ones new to the store,
    ``rejected`` the quarantined ones, ``flags`` the data-quality flags on kept records and
    ``flag_kinds`` how many of each kind (its ``code``), with the first one's field and why, and
    ``flag_fields`` how many of each kind on each field.
    """

    path: str
    format: str
    accepted: int = 0
    added: int = 0
    rejected: int = 0
    flags: int = 0
    outcomes_accepted: int = 0
    outcomes_added: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  # read but not kept, by reason
    flag_kinds: dict[str, tuple[int, str, str]] = field(default_factory=dict)  # code -> (count, field, why)
    #: code -> field -> count: the fields each kind was raised on (an ingest review read every
    #: unknown country of a file as its origin_country, the first example's field)
    flag_fields: dict[str, dict[str, int]] = field(default_factory=dict)
    #: code -> where the first example's record was read (file and line, JSON path, EDIFACT
    #: message and segment): an EDIFACT review could not tell which message's UNT count was wrong
    flag_sources: dict[str, str] = field(default_factory=dict)

    def add_flags(self, flags: Sequence[Any], source: str = "") -> None:
        """Count the flags of one kept record (objects with ``code``, ``field`` and ``why``)
        read at ``source``."""
        if not flags:
            return
        self.flags += len(flags)
        for f in flags:
            count, where, why = self.flag_kinds.get(f.code, (0, f.field, f.why))
            self.flag_kinds[f.code] = (count + 1, where, why)
            self.flag_sources.setdefault(f.code, source)
            fields = self.flag_fields.setdefault(f.code, {})
            fields[f.field] = fields.get(f.field, 0) + 1

    def fields_flagged(self, code: str) -> str:
        """The fields flags of kind ``code`` were raised on, with counts when more than one:
        ``"origin_country"`` or ``"origin_country 1, departure_country 1"``."""
        fields = self.flag_fields.get(code, {})
        return next(iter(fields)) if len(fields) == 1 else ", ".join(f"{k} {n}" for k, n in fields.items())

    def as_dict(self, max_rejections: int = 100) -> dict[str, object]:
        """JSON-ready dict; lists at most ``max_rejections`` rejections (the count is complete)."""
        return {
            "path": self.path,
            "format": self.format,
            "accepted": self.accepted,
            "added": self.added,
            "rejected": self.rejected,
            "flags": self.flags,
            "flag_kinds": {code: {"count": n, "field": where, "example": why,
                                  "example_source": self.flag_sources.get(code) or None,
                                  "fields": dict(self.flag_fields.get(code, {}))}
                           for code, (n, where, why) in sorted(self.flag_kinds.items())},
            "outcomes": {"accepted": self.outcomes_accepted, "added": self.outcomes_added},
            "skipped": dict(sorted(self.skipped.items())),
            "rejections": [
                {"where": r.where, "field": r.field, "why": r.why}
                for r in self.rejections[:max_rejections]
            ],
        }


def lines_at_any_end(lines: Iterable[bytes] | Iterable[str]) -> Iterator[bytes] | Iterator[str]:
    """``lines`` split at a lone CR too (a file saved with classic Mac line ends, or mixing them
    in, is read line by line: an ingest review's CR-only declarations file was "format not
    recognised", and a mixed one lost every row as one CSV error). A binary file (anything with
    ``read``) is read in 1 MiB pieces and split at CR, LF and CRLF as it goes, so a CR-only file
    streams in bounded memory as an LF one does (a regression review: split after reading, a
    CR-only file was held whole); CRLF stays one line end. Other iterables are split line by line."""
    if hasattr(lines, "read"):
        yield from _split_pieces(lines)  # type: ignore[arg-type]
        return
    for line in lines:
        if (b"\r" if isinstance(line, bytes) else "\r") in line.rstrip(b"\r\n" if isinstance(line, bytes) else "\r\n"):
            yield from line.splitlines(keepends=True)  # type: ignore[misc]
        else:
            yield line  # type: ignore[misc]


_LINE_END = re.compile(rb"\r\n|\r|\n")


def _split_pieces(fh: Any, size: int = 1 << 20) -> Iterator[bytes]:
    """The lines of binary file ``fh``, each with its line end (CR, LF or CRLF), read ``size``
    bytes at a time."""
    rest = b""
    while piece := fh.read(size):
        rest += piece
        start = 0
        for m in _LINE_END.finditer(rest):
            if m.end() == len(rest) and m.group() == b"\r":
                break  # a CR at the end of the piece may be the first half of a CRLF
            yield rest[start:m.end()]
            start = m.end()
        rest = rest[start:]
    if rest:
        yield rest


class LineCounter:
    """Iterates lines (text, or bytes decoded as UTF-8) and remembers the number of the last one
    handed out (1-based). A byte line that is not UTF-8 is decoded with replacement characters
    and its number and reason kept in ``undecodable``, so the record it belongs to is rejected.
    A CSV record can span lines (a quoted field with a line break): ``start`` is the first line
    of the record read last, once :meth:`next_record` was called before reading it.
    """

    def __init__(self, lines: Iterable[str] | Iterable[bytes], first_line: int = 1) -> None:
        self._it = iter(lines)
        self.line = first_line - 1
        self.start = 0
        self._at_boundary = True
        self.undecodable: dict[int, str] = {}
        #: The text of each line of the record read last (for re-reading a record that ran on).
        self.texts: list[str] = []

    def next_record(self) -> None:
        """Say that the next line handed out begins a record (blank lines before it, which the
        CSV reader skips, move the start on)."""
        self._at_boundary = True

    def where(self, source: str) -> str:
        """``"<source>:<line>"`` of the record read last, ``"<source>:<first>-<last>"`` when it
        spans lines."""
        first = self.start or self.line
        return f"{source}:{self.line}" if first >= self.line else f"{source}:{first}-{self.line}"

    def __iter__(self) -> LineCounter:
        return self

    def __next__(self) -> str:
        item = next(self._it)
        self.line += 1
        if isinstance(item, bytes):
            if self.line == 1 and item.startswith(b"\xef\xbb\xbf"):
                item = item[3:]
            try:
                text = item.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.undecodable[self.line] = (
                    f"line {self.line} is not UTF-8 (byte 0x{item[exc.start]:02x} at position {exc.start + 1}): "
                    "save the file as UTF-8 (a Latin-1 or Windows-1252 export?)"
                )
                text = item.decode("utf-8", errors="replace")
        else:
            text = item
        if self._at_boundary:
            self.start = self.line
            self.texts = []
            self._at_boundary = not text.strip("\r\n")  # a blank line: the record starts after it
        self.texts.append(text)
        return text

    def record_text(self) -> str:
        """The record read last as it stands in the file, its lines joined, without the final
        line end (what a quarantined row keeps, so it can be corrected and sent again)."""
        return "".join(self.texts).rstrip("\r\n")


#: How many times a record that ran on is split again within the lines it swallowed (each
#: split re-reads at most those lines, so the work stays within this many passes of the file).
_RESPLITS = 4


def _swallows_rows(counter: LineCounter, width: int, delimiter: str, row: dict[str, Any] | None) -> bool:
    """Whether the record just read (``row``, None where the reader gave up on it) runs over
    several lines, one of its later lines holds at least as many delimiters as a row of
    ``width`` cells (a row a stray quote swallowed, not the rest of an address), and it is
    malformed: its cells do not fit the header, or a quote in it is followed by neither a
    delimiter nor a line end (two stray quotes; a regression review's valid description over
    two lines, the second listing eight fruits, had been split)."""
    if counter.line <= counter.start or width < 2 or not any(
            text.count(delimiter) >= width - 1 for text in counter.texts[1:]):
        return False
    if row is None or None in row or None in row.values():
        return True
    try:
        list(csv.reader(counter.texts, delimiter=delimiter, strict=True))
    except csv.Error:
        return True
    return False


def misfit_row(row: dict[Any, Any], width: int) -> str:
    """Why a ``csv.DictReader`` row does not fit a header of ``width`` columns ("row has 23
    cells, header has 22"), or "" when it does. A cell too many or too few shifts every cell
    after it into the wrong column: a decimal comma in an AIS longitude (``11,61773``) was read
    as longitude 11 with the speed taken from the rate of turn (a reader review). Empty cells
    after the last column, as a delimiter ending each line gives, fit."""
    extra = row.get(None) or []
    if None not in row.values() and not any(str(c).strip() for c in extra):
        return ""  # empty cells past the header (a delimiter ending the line) shift nothing
    cells = width + len(extra) - sum(v is None for v in row.values())
    return f"row has {cells} cells, header has {width}"


def csv_records(counter: LineCounter, reader: Any, source: str,
                _depth: int = 0) -> Iterator[tuple[str, dict[str, Any] | None, str, str]]:
    """The records of ``reader`` (a ``csv.DictReader`` reading through ``counter``) as
    ``(where, row, why, text)``: ``why`` is "" for a row to read, else why it is refused: a
    record the CSV reader cannot read (``row`` None), or one holding a line that is not UTF-8;
    ``text`` is the record as in the file (its delimiter and quotes kept: an ingest review's
    semicolon-separated AIS row was quarantined re-joined with commas).

    A quote opening a field that never closes on its line makes the CSV reader run the
    following lines into that field, up to the next quote (an ingest review: one stray quote
    in line 3 lost every later declaration as one rejection; a regression review: a second one
    in the same column, ten lines on, closed the field, and the ten rows between were one
    record that fitted the header). A malformed record over several lines one of whose later
    lines holds a row's worth of delimiters (:func:`_swallows_rows`) is therefore split: its
    first line is refused, naming the quote, and the lines after it are read again as records
    of their own. A quoted field with a line break in it (an address) is read as one, as before."""
    width = len(reader.fieldnames or [])
    delimiter = reader.reader.dialect.delimiter
    while True:
        counter.next_record()
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if _swallows_rows(counter, width, delimiter, None) and _depth < _RESPLITS:
                yield from _split(counter, reader, source, _depth, None)
                continue
            yield counter.where(source), None, f"unreadable CSV: {exc}", counter.record_text()
            continue
        if _depth < _RESPLITS and _swallows_rows(counter, width, delimiter, row):
            yield from _split(counter, reader, source, _depth, row)
            continue
        bad = [why for n, why in counter.undecodable.items() if n <= counter.line]
        counter.undecodable.clear()
        yield counter.where(source), row, bad[-1] if bad else "", counter.record_text()


def _split(counter: LineCounter, reader: Any, source: str, depth: int,
           merged: dict[str, Any] | None) -> Iterator[tuple[str, dict[str, Any] | None, str, str]]:
    """Refuse the first line of the record just read (lines ``counter.start``-``counter.line``,
    ``merged`` its row, None where the reader gave up on it) and read its other lines again."""
    first, last, texts = counter.start, counter.line, counter.texts
    cells = "" if merged is None else f" ({_cells(merged)} cells where the header has {len(reader.fieldnames)})"
    why = (
        f"a quote opens a field on line {first} and does not close on it, so lines {first}-{last} "
        f"read as one record{cells}: line {first} is refused (remove or double the stray quote) "
        + (f"and line {last} is read on its own" if last == first + 1 else
           f"and lines {first + 1}-{last} are read on their own"))
    head = next(csv.DictReader(texts[:1], fieldnames=reader.fieldnames, delimiter=reader.reader.dialect.delimiter),
                None)
    yield f"{source}:{first}", head, why, texts[0].rstrip("\r\n")
    undecodable = {n: w for n, w in counter.undecodable.items() if n > first}
    counter.undecodable.clear()
    again = LineCounter(texts[1:], first_line=first + 1)
    again.undecodable = undecodable
    again_reader = csv.DictReader(again, fieldnames=reader.fieldnames, delimiter=reader.reader.dialect.delimiter)
    yield from csv_records(again, again_reader, source, depth + 1)


def _cells(row: dict[str, Any]) -> int:
    """Cells in a DictReader row (extra cells under the key None, missing ones as None values)."""
    return sum(v is not None for k, v in row.items() if k is not None) + len(row.get(None) or [])


#: What surrogateescape makes of bytes that are not UTF-8 (a text decoded so holds these).
UNDECODED = re.compile("[\udc80-\udcff]")


#: Digits in a row from which Python makes no integer (``sys.get_int_max_str_digits``, 4,300 by
#: default): the json module raises ValueError on such a number and ijson's C parser crashed
#: the process (an ingest review).
HUGE_DIGITS = 4_300
_DIGITS_AS_ZEROS = bytes.maketrans(b"0123456789", b"0" * 10)
_HUGE_RUN = b"0" * HUGE_DIGITS
#: A JSON string (taken whole: digits in it are text), or an integer of a huge digit run: no
#: fraction, no exponent (those parse as floats, whatever their length: a regression review's
#: 2.111... of 4,400 digits, quoted from its point on, lost its whole file).
_STRING_OR_HUGE_NUMBER = re.compile(rb'"(?:[^"\\]|\\.)*"|(?<![0-9.eE+\-])-?[0-9]{%d,}(?![0-9.eE])'
                                    % HUGE_DIGITS)


def has_huge_number(data: bytes) -> bool:
    """Whether ``data`` holds :data:`HUGE_DIGITS` ASCII digits in a row (in a text too)."""
    return _HUGE_RUN in data.translate(_DIGITS_AS_ZEROS)


def huge_numbers_as_text(data: bytes) -> bytes:
    """JSON ``data`` with each integer of :data:`HUGE_DIGITS` digits or more written as a JSON
    string of its own text (no float holds it either); strings and numbers with a fraction or
    an exponent are left alone. The record holding one then has a text where a number belongs:
    that field's error, the other records read. ``data`` unchanged when it holds no such run."""
    if not has_huge_number(data):
        return data
    return _STRING_OR_HUGE_NUMBER.sub(lambda m: m.group(0) if m.group(0)[:1] == b'"' else b'"' + m.group(0) + b'"',
                                      data)
