"""Readers for AIS: raw NMEA 0183 ``!AIVDM``/``!AIVDO`` through pyais, and decoded CSV layouts.

Raw feeds: multi-part messages are assembled, NMEA 4 tag blocks (``\\c:<unix time>``), USCG
NAIS trailers (``...*hh,d-109,...,r003669946,<unix time>``) and Gatehouse ``$PGHP`` wrappers give
the receive time; comments, blank lines and non-AIS sentences ($GPGGA, ...) are skipped; empty
payloads are counted and skipped. Position reports (types 1-3, 18, 19, 27) become
:class:`VesselPosition`; static reports (5, 24) :class:`VesselSighting`. Other types (base
stations, safety messages, binary data) are counted, not kept. "Not available" positions
(lat 91, lon 181) are skipped and counted.
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections import Counter, OrderedDict, deque
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from importlib.resources import files
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from scheldt.domain.declarations import Flag
from scheldt.domain.identifiers import UNSET_MMSI, imo_number
from scheldt.domain.shipping import HEARD_AGAIN_WITHIN, Vessel, VesselPosition, VesselSighting
from scheldt.errors import ConfigError
from scheldt.ingest.base import FieldError, LineCounter, Rejection, csv_records, misfit_row, utc_in_range
from scheldt.yaml_text import load_yaml

if TYPE_CHECKING:  # pyais is loaded where a feed is read, not by every command line start
    from pyais.messages import AISSentence

POSITION_TYPES = {1, 2, 3, 18, 19, 27}
STATIC_TYPES = {5, 24}
_NO_TIME = Flag("observed_at", "time-unknown", "the feed gave no readable receive time in 1970-2099 for this message")
_NO_CHECKSUM = Flag("checksum", "no-checksum", "the NMEA sentence carries no *hh checksum")
#: 0°N 0°E, open sea off Ghana, is what a transponder without a position fix often sends: kept,
#: flagged, and left out of vessel tracks (store.vessels: an ingest review's 0,0 fix filled an AIS
#: gap before arrival).
NO_FIX = Flag("position", "no-fix", "position 0, 0 (open sea off Ghana) is what a transponder without a position "
              "fix sends; kept, not used in the vessel's track")


#: MMSI 000000000 is no station's (:data:`~scheldt.domain.identifiers.UNSET_MMSI`).
_NO_MMSI = Flag("mmsi", "unset-mmsi", f"MMSI {UNSET_MMSI} is no station's (an unconfigured transponder); the position "
                "cannot be tied to a vessel")


def mmsi_flags(mmsi: str) -> tuple[Flag, ...]:
    """``(_NO_MMSI,)`` for an all-zero MMSI, else nothing."""
    return (_NO_MMSI,) if mmsi and not mmsi.strip("0") else ()


def fix_flags(latitude: float, longitude: float) -> tuple[Flag, ...]:
    """``(NO_FIX,)`` for the position 0, 0, else nothing."""
    return (NO_FIX,) if latitude == 0 and longitude == 0 else ()


#: Navigational status of AIS position reports, ITU-R M.1371-5 (message 1, parameter
#: "navigational status"), in its words; 0-8, 13 and 15 as stored before (a maritime review: words
#: made from pyais's enum names read "A i s s a r t active").
NAV_STATUS = {0: "Under way using engine", 1: "At anchor", 2: "Not under command", 3: "Restricted manoeuverability",
              4: "Constrained by her draught", 5: "Moored", 6: "Aground", 7: "Engaged in fishing",
              8: "Under way sailing", 9: "Reserved for HSC", 10: "Reserved for WIG",
              11: "Power-driven vessel towing astern", 12: "Power-driven vessel pushing ahead or towing alongside",
              13: "Reserved future use", 14: "AIS-SART active", 15: "Undefined"}


def _status(value: Any) -> str:
    """The ITU wording (:data:`NAV_STATUS`) of a decoded navigational status, "" when none."""
    if value is None:
        return ""
    try:
        return NAV_STATUS.get(int(value), str(value))
    except (TypeError, ValueError):
        return str(value)


def _uscg_time(raw: bytes) -> datetime | None:
    """The unix time a USCG NAIS trailer ends with, if the sentence has one."""
    star = raw.rfind(b"*")
    tail = raw[star + 3:].split(b",") if star >= 0 else []
    for field in reversed(tail):
        if field.isdigit() and len(field) == 10:
            return _unix_time(field)
    return None


def _unix_time(raw: Any) -> datetime | None:
    """A unix time (seconds) as UTC, or None when it is not a number or falls outside the
    dates Scheldt accepts (a tag block's ``c:99999999999999`` once stopped a whole batch)."""
    try:
        return utc_in_range(datetime.fromtimestamp(int(raw), UTC), "receive time")
    except (ValueError, OverflowError, OSError, FieldError):
        return None


#: A tag block whose checksum does not match: its receive time is used, and doubted.
_BAD_TAG = Flag("tag block", "tag-block-checksum", "the NMEA tag block's *hh checksum does not match: its receive "
                "time (c:) may be corrupted")


def _received_at(msg: Any) -> tuple[datetime | None, tuple[Flag, ...]]:
    """When a message was received (a tag block's ``c:``, a Gatehouse wrapper's time or a USCG
    trailer's, in that order) and the flags that raises: a tag block whose checksum does not
    match is flagged (an ingest review's corrupted ``c:`` was used unflagged; real feeds also
    write checksums of one digit, so the time is kept and said to be doubtful)."""
    tag = getattr(msg, "tag_block", None)
    if tag is not None:
        tag.init()
        if tag.receiver_timestamp:
            return _unix_time(tag.receiver_timestamp), (() if tag.is_valid else (_BAD_TAG,))
    return _other_time(msg), ()


def _other_time(msg: Any) -> datetime | None:
    """A Gatehouse wrapper's time, else a USCG trailer's (see :func:`_received_at`)."""
    wrapper = getattr(msg, "wrapper_msg", None)
    if wrapper is not None and getattr(wrapper, "timestamp", None):
        try:  # a Gatehouse $PGHP dated 9999 was stored as is (attack review)
            return utc_in_range(wrapper.timestamp, "receive time")
        except (FieldError, OverflowError):
            return None
    return _uscg_time(msg.raw)


def nmea_checksum(raw: bytes) -> bool | None:
    """True when an NMEA sentence's ``*hh`` checksum matches (XOR of the characters between ``!``
    and ``*``), False when it does not, None when the sentence carries none. A tag block before
    the sentence and trailing fields after the checksum (USCG NAIS) are ignored."""
    start = raw.find(b"!")
    star = raw.find(b"*", start)  # after a tag block's own "*hh"
    if start < 0 or star < 0 or len(raw) < star + 3:
        return None
    value = 0
    for byte in raw[start + 1 : star]:
        value ^= byte
    try:
        return value == int(raw[star + 1 : star + 3], 16)
    except ValueError:
        return False


def _key(*parts: Any) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


class AisStats(Counter):  # type: ignore[type-arg]
    """What a feed held: sentences per outcome (positions, static, empty payload, other types...)."""


class _Lines:
    """The lines of a feed as pyais reads them, keeping what pyais would drop unseen.

    pyais skips sentences it cannot parse and fragments of multi-part messages whose other parts
    never arrive. Here each AIS-looking line is parsed first: a broken one becomes a Rejection
    naming its line; each fragment is remembered by its line until its message is assembled, and
    fragments left over (superseded or never completed) become Rejections too.
    """

    def __init__(self, lines: Iterable[bytes], source: str, stats: AisStats) -> None:
        self.lines, self.source, self.stats = lines, source, stats
        self.line = 0
        self.rejected: list[Rejection] = []
        self.pending: dict[tuple[Any, ...], list[tuple[int, bytes]]] = {}
        # fragments of NMEA 4.10 tag-block groups (g:) held until their group is whole, by group id
        self.groups: OrderedDict[str, list[tuple[int, bytes, Any]]] = OrderedDict()

    def __iter__(self) -> Iterator[bytes]:
        from pyais.exceptions import InvalidNMEAMessageException, UnknownMessageException
        from pyais.messages import AISSentence, NMEASentenceFactory

        for self.line, raw in enumerate(self.lines, 1):
            line = raw.rstrip(b"\r\n")
            if self.line == 1:  # a UTF-8 byte-order mark before the first sentence (an attack review)
                line = line.removeprefix(b"\xef\xbb\xbf")
            if b"!" in line and (b"VDM," in line or b"VDO," in line):
                try:
                    sentence = NMEASentenceFactory.produce(line)
                except (InvalidNMEAMessageException, UnknownMessageException, ValueError) as exc:
                    self._reject(self.line, "sentence", f"not a readable AIS sentence: {exc}", line)
                    continue
                if isinstance(sentence, AISSentence) and not sentence.is_single:
                    gid = _tag_group(sentence) or self._continued(sentence)
                    if gid is not None:
                        yield from self._grouped(gid, line, sentence)
                        continue
                    self._fragment(sentence, line, self.line)
            elif line.strip() and not line.lstrip().startswith((b"#", b"$PGHP")):
                # another NMEA sentence (GPS), junk: counted (a reader review's binary junk left no trace);
                # comments, and the Gatehouse wrappers that date the sentence after them, are not
                self.stats["not an AIS sentence"] += 1
            yield line
        for held in list(self.groups):
            yield from self._release(held)

    def _grouped(self, gid: str, line: bytes, part: Any) -> Iterator[bytes]:
        """Hold a fragment of tag-block group ``gid`` until every fragment of its AIS message is
        in, then yield them together, so that pyais, which joins the fragments of a sequence in
        the order they come, joins this group's (an AIS review's two groups interleaved on one
        channel without sequence ids made one ship of two, the other lost). A group begun again,
        and the oldest of too many open, go as they are; other sentences of the group (a text
        sentence) are not waited for."""
        if part.frag_num == 1 and gid in self.groups:
            yield from self._release(gid)
        if part.frag_num != 1 and gid not in self.groups:  # its first part went as it came: this one too
            self._fragment(part, line, self.line)  # (a round-4 review's message whose first g: was unreadable)
            yield line
            return
        self.groups.setdefault(gid, []).append((self.line, line, part))
        if len(self.groups[gid]) >= part.frag_cnt:
            yield from self._release(gid)
        elif len(self.groups) > MAX_OPEN_GROUPS:
            yield from self._release(next(iter(self.groups)))

    def _continued(self, part: Any) -> str | None:
        """The held group a fragment without a readable tag-block group continues: the oldest whose
        fragments are of the same sequence and end just before it, with no fragment of that
        sequence outside a group read since (a regression review's second fragment with a broken
        ``g:`` left its first held, and the message was lost; a round-4 review's plain message
        after an unfinished group gave that group its second part)."""
        slot = _slot(part)
        since = max((n for n, _ in self.pending.get(slot, ())), default=0)
        for gid, held in self.groups.items():
            n, _, last = held[-1]
            if _slot(last) == slot and part.frag_num == last.frag_num + 1 and n > since:
                return gid
        return None

    def _release(self, gid: str) -> Iterator[bytes]:
        """Yield a held group's fragment lines, each as read on its own line (a rejection of the
        message names its last line, not the one being read when it was released)."""
        now = self.line
        try:
            for n, line, part in self.groups.pop(gid, []):
                self._fragment(part, line, n)
                self.line = n
                yield line
        finally:
            self.line = now

    def _fragment(self, part: AISSentence, raw: bytes, line: int) -> None:
        slot = _slot(part)
        if part.frag_num == 1 and slot in self.pending:
            for n, earlier in self.pending.pop(slot):
                self._reject(n, "fragment", _INCOMPLETE + " (a new message started in the same sequence)", earlier)
        self.pending.setdefault(slot, []).append((line, raw))

    def assembled(self, msg: Any) -> list[int]:
        """Forget the fragment lines of a message pyais has assembled; returns those of its lines
        whose ``*hh`` checksum does not match (pyais checks none, and the assembled message's
        own ``raw`` is its first fragment: a feeds review's second fragment, altered, gave a
        vessel another name)."""
        if msg.is_single:
            return []
        return [n for n, raw in self.pending.pop(_slot(msg), []) if nmea_checksum(raw) is False]

    def finish(self) -> list[Rejection]:
        """Rejections for fragments never assembled, at the end of the feed."""
        for parts in self.pending.values():
            for n, raw in parts:
                self._reject(n, "fragment", _INCOMPLETE + " (the feed ends)", raw)
        self.pending.clear()
        return self.drain()

    def drain(self) -> list[Rejection]:
        out, self.rejected = self.rejected, []
        return out

    def _reject(self, line: int, field: str, why: str, raw: bytes = b"") -> None:
        self.stats["rejected" if field == "sentence" else "incomplete multi-part"] += 1
        self.rejected.append(Rejection(f"{self.source}:{line}", field, why, raw.decode("ascii", "replace")))


_INCOMPLETE = "part of a multi-part AIS message that was never completed"


#: Tag-block groups held open at once, at most (a feed of groups never completed holds no more).
MAX_OPEN_GROUPS = 64


def _tag_group(sentence: Any) -> str | None:
    """The group id of the NMEA 4.10 tag block's ``g:`` parameter of a sentence, if it has one
    for a group of several sentences; None otherwise. (Not with its ``s:`` source station,
    which real feeds give on a group's first sentence only: two receivers numbering groups
    alike in one file are not told apart.)"""
    block = sentence.tag_block
    if block is None:
        return None
    try:
        block.init()
        group = block.group
        if group is None:
            return None
        total = int(group.sentence_tot)
    except (AttributeError, TypeError, ValueError):  # a tag block pyais cannot read: no group
        return None
    return str(group.group_id) if total > 1 else None


def _slot(part: Any) -> tuple[Any, ...]:
    """Which stream a multi-part fragment belongs to (as pyais groups them)."""
    return (part.seq_id if part.seq_id is not None else -1, part.channel, part.talker_id, part.type, part.frag_cnt)


def read_nmea(lines: Iterable[bytes], source: str, stats: AisStats | None = None) -> Iterator[VesselPosition | VesselSighting | Rejection]:
    """Yield positions, sightings and rejections from raw NMEA lines (one ``bytes`` per line).

    A Rejection's ``where`` is ``source:line`` (for a multi-part message, its last line):
    checksum mismatches, sentences that do not parse, payloads that do not decode, and
    fragments of multi-part messages that were never completed. ``stats`` (optional) counts
    every sentence by outcome, including those skipped.
    """
    from pyais.exceptions import InvalidNMEAMessageException, MissingPayloadException, UnknownMessageException
    from pyais.stream import IterMessages

    stats = stats if stats is not None else AisStats()
    feed = _Lines(lines, source, stats)
    heard: dict[int, deque[tuple[bytes, datetime]]] = {}  # per MMSI, its last position payloads
    for msg in IterMessages(iter(feed)):
        bad_parts = feed.assembled(msg)
        yield from feed.drain()
        where = f"{source}:{feed.line}"
        check = nmea_checksum(msg.raw)
        if bad_parts or check is False:
            stats["checksum mismatch"] += 1
            lines = f" on line {', '.join(map(str, bad_parts))} of the multi-part message" if bad_parts else ""
            yield Rejection(where, "checksum", f"NMEA checksum does not match the sentence{lines}",
                            msg.raw.decode("ascii", "replace"))
            continue
        try:
            decoded = msg.decode()
        except MissingPayloadException:
            stats["empty payload"] += 1
            continue
        except (InvalidNMEAMessageException, UnknownMessageException, ValueError) as exc:
            stats["undecodable"] += 1
            yield Rejection(where, "payload", f"AIS message cannot be decoded: {exc}", msg.raw.decode("ascii", "replace"))
            continue
        kind = int(decoded.msg_type)
        at, time_flags = _received_at(msg)
        if kind in POSITION_TYPES:
            lat, lon = getattr(decoded, "lat", None), getattr(decoded, "lon", None)
            if lat is None or lon is None or lat == 91 or lon == 181:  # ITU-R M.1371: 91 / 181 = not available
                stats["position not available"] += 1
                continue
            if abs(lat) > 90 or abs(lon) > 180:
                stats["position out of range"] += 1
                yield Rejection(where, "position", f"position {lat}, {lon} is outside WGS 84 ranges and is not the "
                                "'not available' value (91, 181)", msg.raw.decode("ascii", "replace"))
                continue
            if _heard_again(heard, decoded.mmsi, msg.payload, at):
                stats["heard again (another receiver)"] += 1
                continue
            stats["positions"] += 1
            mmsi = f"{decoded.mmsi:09d}"
            speed = getattr(decoded, "speed", None)
            course = getattr(decoded, "course", None)
            heading = getattr(decoded, "heading", None)
            yield VesselPosition(
                mmsi=mmsi, observed_at=at, latitude=float(lat), longitude=float(lon),
                # ITU-R M.1371: 102.3 kn is "not available"; a long-range message 27 says so with 63 (its
                # speed is 0-62 kn; a maritime review found 63-knot fixes stored)
                speed_knots=None if speed is None or speed >= (63 if kind == 27 else 102.3) else float(speed),
                course_deg=None if course is None or course >= 360 else float(course),
                heading_deg=None if heading is None or heading >= 360 else float(heading),
                nav_status=_status(getattr(decoded, "status", None)),
                fact_key=_key(mmsi, at.isoformat() if at else msg.raw, lat, lon),
                source=where, flags=(time_flags + (() if at else (_NO_TIME,)) + (() if check else (_NO_CHECKSUM,))
                                     + fix_flags(lat, lon) + mmsi_flags(mmsi)),
            )
        elif kind in STATIC_TYPES:
            stats["static"] += 1
            imo, flag = imo_number(getattr(decoded, "imo", None) or None)
            vessel = Vessel(imo=imo, mmsi=f"{decoded.mmsi:09d}",
                            call_sign=(getattr(decoded, "callsign", "") or "").strip(),
                            name=(getattr(decoded, "shipname", "") or "").strip())
            yield VesselSighting(vessel.mmsi, vessel, at, where, ((flag,) if flag else ()) + mmsi_flags(vessel.mmsi))
        else:
            stats[f"type {kind} (not kept)"] += 1
    yield from feed.finish()


def _heard_again(heard: dict[int, deque[tuple[bytes, datetime]]], mmsi: int, payload: bytes,
                 at: datetime | None) -> bool:
    """Whether a position report of ``mmsi`` received ``at`` (UTC) is one already read, heard by
    another receiver (a maritime review: a second receiver's copy stored twice moved the start
    of a 12-hour silence by a second, under the indicator's threshold); remembers it otherwise.
    Without a receive time nothing tells them apart: never."""
    if at is None:
        return False
    recent = heard.setdefault(mmsi, deque(maxlen=8))
    if any(p == payload and abs(at - t) <= HEARD_AGAIN_WITHIN for p, t in recent):
        return True
    recent.append((payload, at))
    return False


class AisCsvLayout(BaseModel):
    """How a decoded AIS CSV export is laid out: which column holds what, time format."""

    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    time_column: str
    time_format: str
    latitude: str
    longitude: str
    mmsi: str | None = None
    vessel_id: str | None = None
    speed_knots: str | None = None
    course_deg: str | None = None
    heading_deg: str | None = None
    nav_status: str | None = None
    imo: str | None = None
    call_sign: str | None = None
    vessel_name: str | None = None
    missing_values: list[str] = []
    delimiter: str = Field(default=",", min_length=1, max_length=1)

    @model_validator(mode="after")
    def _names_a_vessel(self) -> AisCsvLayout:
        """A layout names the column that tells whose position a row is (a regression review's
        layout without one stored positions of no vessel)."""
        if not self.mmsi and not self.vessel_id:
            raise ValueError("name the vessel's column: mmsi, or vessel_id for a feed without MMSIs")
        return self


def ais_layouts() -> dict[str, AisCsvLayout]:
    """The built-in decoded-AIS CSV layouts, by name."""
    folder = files("scheldt.ingest").joinpath("ais_layouts")
    out = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".yaml"):
            layout = AisCsvLayout.model_validate(yaml.safe_load(entry.read_text("utf-8")))
            out[layout.name] = layout
    return out


def load_ais_layout(path: str) -> AisCsvLayout:
    """A user's AIS CSV layout from a YAML file (the fields of :class:`AisCsvLayout`).
    Raises ConfigError naming the file and the field at fault."""
    from pathlib import Path

    from pydantic import ValidationError

    file = Path(path)
    if not file.is_file():
        raise ConfigError(path, "no such AIS layout file")
    try:
        data = load_yaml(file.read_text("utf-8"))
        return AisCsvLayout.model_validate(data if isinstance(data, dict) else {})
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(path, f"not a readable YAML layout: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"{path}: {'.'.join(str(p) for p in first['loc']) or 'mmsi'}",
                          first["msg"].removeprefix("Value error, ")) from None


def layout_misses(layout: AisCsvLayout, header: list[str]) -> list[str]:
    """The columns ``layout`` names for time, position and vessel that ``header`` lacks."""
    wanted = [c for c in (layout.time_column, layout.latitude, layout.longitude, layout.mmsi, layout.vessel_id) if c]
    return [c for c in wanted if c not in header]



def detect_ais_layout(header: list[str]) -> AisCsvLayout | None:
    """The built-in layout whose columns are all in ``header``, if any."""
    return next((layout for layout in ais_layouts().values() if not layout_misses(layout, header)), None)


def _num(row: dict[str, str], column: str | None, missing: list[str], finite: bool = True) -> float | None:
    """The number in ``column`` (None when the layout has no such column, or the cell is empty or
    one of ``missing``). Raises FieldError for a cell that is not a number, or, with ``finite``,
    for NaN or infinity."""
    if not column:
        return None
    raw = (row.get(column) or "").strip()
    if not raw or raw in missing:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise FieldError(column, f"{column} is {raw!r}, not a number") from None
    if finite and not math.isfinite(value):
        raise FieldError(column, f"{column} is {raw!r}, not a finite number")
    return value


#: Plausible ranges of the optional motion fields of a position (AIS, ITU-R M.1371: speed
#: over ground 0-102.2 knots, course and heading 0-359.9 degrees).
_MOTION_RANGES = {"speed_knots": (0.0, 102.2), "course_deg": (0.0, 359.99), "heading_deg": (0.0, 359.99)}


#: The values AIS sends for "not available" (ITU-R M.1371: speed 102.3 kn, course 360°, heading
#: 511): a decoded export carries them as they were sent, read as not given, unflagged, as NMEA
#: reads them (a maritime review's Class B rows each drew an "implausible-value" flag for 511).
_NOT_AVAILABLE = {"speed_knots": 102.3, "course_deg": 360.0, "heading_deg": 511.0}


def _motion(name: str, column: str, value: float | None, flags: list[Flag]) -> float | None:
    """``value`` when within :data:`_MOTION_RANGES`, None for AIS's "not available" value
    (:data:`_NOT_AVAILABLE`), else None with a flag naming ``column``."""
    low, high = _MOTION_RANGES[name]
    if value is None or low <= value <= high:
        return value
    if math.isclose(value, _NOT_AVAILABLE[name]):
        return None
    flags.append(Flag(column, "implausible-value", f"{column} {value:g} is outside {low:g}-{high:g}; not used"))
    return None


def _cells(row: dict[Any, Any]) -> list[str]:
    """A CSV row's cells in order, those past the header's last column included."""
    return [c for v in row.values() for c in (v if isinstance(v, list) else [v]) if isinstance(c, str)]


def read_ais_csv(data: bytes, layout: AisCsvLayout, source: str,
                 stats: AisStats | None = None) -> Iterator[VesselPosition | VesselSighting | Rejection]:
    """Yield positions from a decoded AIS CSV in ``layout``; a Rejection per unreadable row;
    and, where the layout maps an IMO number, call sign or name beside the MMSI, a
    VesselSighting the first time each identity appears in the file (a linking review: a vessel
    known here only from such a CSV never got its track on its trips). A row at AIS's own "not
    available" position (latitude 91 or longitude 181, ITU-R M.1371, as decoders export it) is
    skipped and counted in ``stats`` as "position not available", as in NMEA (a maritime
    review's DMA file filled the quarantine with them)."""
    stats = stats if stats is not None else AisStats()
    counter = LineCounter(data.splitlines(keepends=True))  # a line not UTF-8 costs its row (an ingest review's
    reader = csv.DictReader(counter, delimiter=layout.delimiter)  # Latin-1 vessel name was stored as \ufffdLBORG)
    if reader.fieldnames is None:
        yield Rejection(f"{source}:1", "header", "file is empty")
        return
    if 1 in counter.undecodable:
        yield Rejection(f"{source}:1", "header", counter.undecodable[1])
        return
    reader.fieldnames = [h.strip() for h in reader.fieldnames]
    seen: set[tuple[str, str, str, str]] = set()
    for where, row, refused, text in csv_records(counter, reader, source):
        refused = refused or (misfit_row(row, len(reader.fieldnames)) if row is not None else "")
        if refused and row is not None and not any(c.strip() for c in _cells(row)):
            continue  # a line of white space holds no row (a regression review's was quarantined)
        if row is None or refused:
            yield Rejection(where, "", refused, text)
            continue
        try:
            try:
                at = utc_in_range(datetime.strptime((row.get(layout.time_column) or "").strip(), layout.time_format),
                                  layout.time_column)
            except ValueError as exc:
                raise FieldError(layout.time_column, f"{layout.time_column}: {exc}") from None
            lat = _num(row, layout.latitude, layout.missing_values)
            lon = _num(row, layout.longitude, layout.missing_values)
            if lat == 91 or lon == 181:
                stats["position not available"] += 1
                continue
            for column, value, top in ((layout.latitude, lat, 90), (layout.longitude, lon, 180)):
                if value is None or abs(value) > top:  # the column at fault (a review's bad longitude blamed Latitude)
                    raise FieldError(column, f"position {lat}, {lon}: {column} is missing or outside WGS 84 ranges "
                                             f"(-{top} to {top})")
            flags: list[Flag] = list(fix_flags(lat, lon))
            # a motion value out of range, NaN and infinity included, is flagged and not used: the
            # position stands (a reader review's row with course "nan" was lost whole)
            speed, course, heading = (_motion(name, str(column), _num(row, column, layout.missing_values, False), flags)
                                      for name, column in (("speed_knots", layout.speed_knots),
                                                           ("course_deg", layout.course_deg),
                                                           ("heading_deg", layout.heading_deg)))
        except FieldError as exc:
            yield Rejection(where, exc.field, exc.why, text)
            continue
        mmsi = (row.get(layout.mmsi) or "").strip() if layout.mmsi else ""
        vessel_id = (row.get(layout.vessel_id) or "").strip() if layout.vessel_id else ""
        if not mmsi and not vessel_id:  # a position of no vessel was stored (regression review)
            yield Rejection(where, str(layout.mmsi or layout.vessel_id), "no MMSI or vessel id: the position belongs "
                            "to no vessel", text)
            continue
        if mmsi and not (mmsi.isdigit() and len(mmsi) == 9):
            flags.append(Flag(str(layout.mmsi), "malformed-mmsi", f"MMSI {mmsi[:20]!r} is not 9 digits"))
        flags += mmsi_flags(mmsi)
        status = (row.get(layout.nav_status) or "").strip() if layout.nav_status else ""
        yield VesselPosition(
            mmsi=mmsi, observed_at=at, latitude=lat, longitude=lon, speed_knots=speed, course_deg=course,
            heading_deg=heading, nav_status="" if status in layout.missing_values else status,
            vessel_id=f"{layout.name}:{vessel_id}" if vessel_id else "",
            fact_key=_key(mmsi, vessel_id and f"{layout.name}:{vessel_id}", at.isoformat(), lat, lon),
            source=where, flags=tuple(flags),
        )
        sighting = _csv_sighting(row, layout, mmsi, at, where)
        if sighting is not None and (key := (mmsi, sighting.vessel.imo, sighting.vessel.call_sign,
                                             sighting.vessel.name)) not in seen:
            seen.add(key)
            yield sighting


def _csv_sighting(row: dict[str, Any], layout: AisCsvLayout, mmsi: str, at: datetime,
                  where: str) -> VesselSighting | None:
    """Who the vessel of a decoded AIS CSV row says it is (IMO, call sign, name beside a 9-digit
    MMSI), or None when the layout maps none of them or the row has none."""
    def cell(column: str | None) -> str:
        value = (row.get(column) or "").strip() if column else ""
        return "" if value in layout.missing_values else value

    raw_imo, call_sign, name = cell(layout.imo), cell(layout.call_sign), cell(layout.vessel_name)
    if not (mmsi.isdigit() and len(mmsi) == 9) or not (raw_imo or call_sign or name):
        return None
    imo, flag = imo_number(raw_imo or None)
    return VesselSighting(mmsi, Vessel(imo=imo, mmsi=mmsi, call_sign=call_sign, name=name), at, where,
                          (flag,) if flag else ())


def layout_or_error(name: str) -> AisCsvLayout:
    """A built-in layout by name; ConfigError listing the known ones otherwise."""
    layouts = ais_layouts()
    if name not in layouts:
        raise ConfigError(f"AIS layout {name!r}", f"unknown; known: {', '.join(sorted(layouts))}")
    return layouts[name]
