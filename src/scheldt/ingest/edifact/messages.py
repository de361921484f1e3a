"""Readers for the UN/EDIFACT messages of container shipping, one function per message type.

Segment meanings follow the UN/EDIFACT directories (D.95B to D.23A) and the SMDG (BAPLIE,
MOVINS) and ITG (COARRI, CODECO, COPRAR) message implementation guides:

- BAPLIE (bay plan) / MOVINS (stowage instruction): per LOC+147 stowage cell, the EQD
  container, MEA masses (WT/AET gross, VGM verified), LOC+9/11 ports, RFF+BM/BN, TMP.
- COARRI (loading/discharge report), COPRAR (loading/discharge order), CODECO (gate-in/out
  report): per EQD container, RFF, SEL seals, LOC, DTM; the BGM document code says which move.
- IFTSTA (status report): STS status, EQD, references, LOC, DTM.
- IFTSAI (schedule): TDT vessel and voyage, LOC port calls with DTM+132 (ETA) / 133 (ETD).
- CUSCAR (customs cargo report: one consignment per CNI group) / IFTMIN (instruction):
  consignments with B/L, parties (NAD), goods (GID, FTX, PIA, MEA), containers (EQD, SEL, SGP).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pydifact.segments import Segment

from scheldt.domain.declarations import Flag
from scheldt.domain.identifiers import container_number, imo_number, is_unlocode_shape
from scheldt.domain.shipping import (
    Consignment,
    DocumentReference,
    EquipmentEvent,
    Event,
    GoodsItem,
    Location,
    ReportReplaced,
    Retraction,
    Seal,
    ShippingParty,
    StatusEvent,
    StowagePosition,
    TransportCall,
    TransportEvent,
    Vessel,
    replaced_mark,
)
from scheldt.domain.units import MAX_CONTAINER_KG, celsius, mass_kg
from scheldt.ingest.base import EARLIEST, LATEST, Rejection, owner_code
from scheldt.ingest.edifact.envelope import KEPT_AFTER_BREAK, Message, as_received, component

Record = Event | Consignment | Retraction | ReportReplaced | Rejection

_TIME_FORMATS = {"101": "%y%m%d", "102": "%Y%m%d", "201": "%y%m%d%H%M", "203": "%Y%m%d%H%M",
                 "204": "%Y%m%d%H%M%S", "301": "%y%m%d%H%M"}
#: How many digits a value of each format has, exactly, and the format a number of digits fits.
_TIME_DIGITS = {"101": 6, "102": 8, "201": 10, "203": 12, "204": 14, "301": 10}
_FORMAT_OF_DIGITS = {6: "101", 8: "102", 10: "201", 12: "203", 14: "204"}
#: SEL sealing party (UN/EDIFACT 9303: AA consolidator, AB unknown, AC quarantine agency, CA
#: carrier, CU customs, SH shipper, TO terminal operator) → DCSA seal source (CAR, SHI, PHY, VET,
#: CUS). A consolidator seals as the shipper; a quarantine agency may be the phytosanitary or the
#: veterinary service, and an unknown party is no one: both "" (not said). A data review found
#: AB (unknown) read as a customs seal, which no one had said was there.
_SEAL_SOURCE = {"CA": "CAR", "SH": "SHI", "CU": "CUS", "AA": "SHI", "TO": "CAR"}


def _seal(seg: Segment) -> Seal:
    """The seal a SEL segment gives: its number and who sealed it (:data:`_SEAL_SOURCE`)."""
    return Seal(component(seg, 0), _SEAL_SOURCE.get(component(seg, 1, 0).strip().upper(), ""))
#: BGM document name codes (UN/EDIFACT 1001) → the container move they report or order.
_MOVES = {
    "COARRI": {"44": "DISC", "98": "DISC", "119": "DISC", "46": "LOAD", "99": "LOAD"},
    "COPRAR": {"45": "LOAD", "121": "DISC", "118": "DISC", "44": "DISC"},
    "CODECO": {"34": "GTIN", "36": "GTOT", "35": "GTOT"},
}
_CLASSIFIER = {"COARRI": "ACT", "COPRAR": "PLN", "CODECO": "ACT"}
_PARTY_ROLES = {"CZ": "shipper", "SH": "shipper", "CN": "consignee", "N1": "notify party", "N2": "notify party",
                "NI": "notify party",
                "CA": "carrier", "FW": "freight forwarder", "IM": "importer", "UC": "ultimate consignee",
                "CF": "container operator", "GO": "goods owner", "DP": "delivery party"}
#: :data:`_PARTY_ROLES` as the readers had them before 2026-12-07 (N2 not a notify party).
_EARLIER_PARTY_ROLES = {k: v for k, v in _PARTY_ROLES.items() if k != "N2"}


def edi_time(value: str, fmt: str) -> datetime | None:
    """A DTM value in format ``fmt`` (UN/EDIFACT 2379: 101, 102, 201, 203, 204; with a time
    zone 303, 304 and 205) as UTC, or in the format its number of digits fits when it does not
    fit ``fmt`` (a date alone under 203 is that date at 00:00); None if unreadable or outside
    the years Scheldt accepts (1970-2099, as every reader: an attack review's bay plan dated 9999
    was stored, and the container's page could not be shown). A time without a zone is UTC."""
    if fmt in _ZONED_FORMATS:
        return _zoned_time(value, fmt)
    if not (value.isascii() and value.isdigit()) or (fmt and fmt not in _TIME_FORMATS):
        return None
    # by its digits when they do not fit the format said: strptime takes one-digit fields, so a
    # review's "20221119" as 203 read as 2022-01-01 01:09 (a real COPRAR writes its dates so)
    code = fmt if fmt and len(value) == _TIME_DIGITS[fmt] else _FORMAT_OF_DIGITS.get(len(value))
    if code is None:
        return None
    return _in_range(value, _TIME_FORMATS[code], timedelta(0))


#: Formats with a time zone (UN/EDIFACT 2379): the digits before the zone, and their pattern.
#: 303 CCYYMMDDHHMMZZZ and 304 CCYYMMDDHHMMSSZZZ (ZZZ: UTC, GMT or an offset such as +01),
#: 205 CCYYMMDDHHMMZHHMM (an offset such as +0100).
_ZONED_FORMATS = {"303": (12, "%Y%m%d%H%M"), "304": (14, "%Y%m%d%H%M%S"), "205": (12, "%Y%m%d%H%M")}
_ZONE = re.compile(r"(?:UTC|GMT|Z)|([+-])([0-9]{2}):?([0-9]{2})?")


def _zoned_time(value: str, fmt: str) -> datetime | None:
    """A value of a zoned format (:data:`_ZONED_FORMATS`) as UTC, or None (an EDI review's CODECO
    gate-out at 16:12 +01:00 in format 303 was dated at the message's time)."""
    digits, pattern = _ZONED_FORMATS[fmt]
    stamp, zone = value[:digits], _ZONE.fullmatch(value[digits:].strip().upper())
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) == digits) or zone is None:
        return None
    sign, hours, minutes = zone.groups()
    offset = timedelta(hours=int(hours or 0), minutes=int(minutes or 0)) * (-1 if sign == "-" else 1)
    if offset > timedelta(hours=14) or offset < -timedelta(hours=14):
        return None
    return _in_range(stamp, pattern, offset)


def _in_range(stamp: str, pattern: str, offset: timedelta) -> datetime | None:
    """``stamp`` read with ``pattern`` at UTC ``offset``, as UTC; None unless a real time in
    1970-2099."""
    try:
        t = datetime.strptime(stamp, pattern).replace(tzinfo=UTC) - offset
    except ValueError:
        return None
    return t if EARLIEST <= t < LATEST else None


_DECIMAL_COMMA = re.compile(r"[+-]?[0-9]*,[0-9]+")


def edi_decimal(value: str) -> str:
    """A numeric data element value with a decimal comma written with a full stop (``"12,5"`` →
    ``"12.5"``); any other value unchanged. ISO 9735 allows either mark as the decimal sign
    (the UNA service string advice names the one a sender uses: ``UNA,+.? '`` where ``,`` is
    the decimal mark), so a receiver reads both."""
    return value.replace(",", ".") if _DECIMAL_COMMA.fullmatch(value) else value


def _dtm(seg: Segment) -> tuple[str, datetime | None]:
    """(qualifier, time as UTC or None) of a DTM segment. One with a data element after its
    C507 is not read: an unescaped ``+`` split the value (a terminal review's
    ``DTM+203:202612011200+0100:205`` was read as 12:00 UTC, one hour late, without a word)."""
    if _extra(seg):
        return component(seg, 0, 0), None
    return component(seg, 0, 0), edi_time(component(seg, 0, 1), component(seg, 0, 2))


def _extra(seg: Segment) -> bool:
    """Whether a DTM segment holds something in a data element after its C507 (an empty
    trailing one, ``DTM+203:201602041438:203+'``, as some senders write, holds nothing: a
    regression review's moves so dated were all refused)."""
    return any(e not in ("", None, []) and (not isinstance(e, list) or any(e)) for e in seg.elements[1:])


def _dtm_why(seg: Segment) -> str:
    """Why a DTM segment's time was not read (:func:`_dtm` gave None)."""
    q, value, fmt = component(seg, 0, 0), component(seg, 0, 1), component(seg, 0, 2)
    if _extra(seg):
        return (f"DTM+{q} has a data element after its date/time ({value!r}, then {component(seg, 1, 0)!r}): a '+' "
                "in a value, such as a time zone, must be escaped as '?+'")
    return f"DTM+{q} value {value!r} (format {fmt or '?'}) is not a real date in 1970-2099"


def _vessel(seg: Segment) -> tuple[Vessel, str, list[Flag]]:
    """Vessel and voyage of a TDT segment.

    The transport identification (C222: id, code list 103 call sign / 146 or 11 IMO, agency,
    name) is the 8th element; some real files drop an empty element before it, so the last
    composite among the 7th to 9th is taken.
    """
    slot = next((i for i in (8, 7, 6) if i < len(seg.elements) and isinstance(seg.elements[i], list)), 7)
    ident, code = component(seg, slot, 0), component(seg, slot, 1)
    name = component(seg, slot, 3) or component(seg, slot, 2)
    flags: list[Flag] = []
    imo = call_sign = ""
    if code in ("146", "IMO", "11") or (ident.isdigit() and len(ident) == 7):
        imo, flag = imo_number(ident)
        if flag:
            flags.append(flag)
    else:
        call_sign = ident
    if name.isdigit():
        name = ""
    return Vessel(imo=imo, call_sign=call_sign, name=name), component(seg, 1), flags


def _event_id(message: Message, *parts: object) -> str:
    """Stable id of a fact from what it says (``parts``: vessel, voyage, port, time, container,
    cell...), never from where it sits: the same facts re-sent under another message reference,
    in another order or in another interchange get the same id (an attack review added a
    BAPLIE twice by renumbering its UNH)."""
    raw = "\x1f".join([message.type, *map(str, parts)])
    return f"edi-{message.type.lower()}-{hashlib.sha256(raw.encode()).hexdigest()[:24]}"


def _vessel_key(head: _Header) -> str:
    """The vessel and voyage a message is about, as one text for fact ids."""
    v = head.vessel
    return f"{(v.imo or v.call_sign or v.name) if v else ''}|{head.voyage}"


class _Header:
    """What the message says once for all its groups: date, vessel, voyage, ports."""

    def __init__(self, message: Message) -> None:
        self.date: datetime | None = None
        self.departure: datetime | None = None
        self.vessel: Vessel | None = None
        self.voyage = ""
        self.flags: list[Flag] = list(message.flags)
        self.ports: dict[str, str] = {}
        self.terminals: dict[str, str] = {}  # LOC qualifier -> terminal code (see _terminal)
        self.own_terminal = ""  # LOC+165 giving a terminal as its own place (see _terminal)
        self.bgm = ""
        self.function = ""  # BGM message function (UN/EDIFACT 1225): 9 original, 5 replace, 1 cancellation...
        self.document_id = ""  # BGM document number (the report's or instruction's own number)
        self.refs: list[DocumentReference] = []


def _groups(message: Message, starts: Callable[[Segment], bool]) -> tuple[_Header, list[list[Segment]]]:
    head = _Header(message)
    groups: list[list[Segment]] = []
    place = ""  # the qualifier of the last LOC: a header DTM is the date of that place ...
    dated = False  # ... once the message's own call was dated after its LOC (SMDG 3.x, :data:`_OTHER_CALLS`)
    for seg in message.segments[1:] if message.truncated else message.segments[1:-1]:
        tag = seg.tag.strip()
        if starts(seg):
            groups.append([seg])
        elif groups:
            groups[-1].append(seg)
        elif tag == "BGM":
            head.bgm = component(seg, 0, 0)
            head.function = component(seg, 2, 0)
            head.document_id = component(seg, 1, 0)
        elif tag == "DTM":
            q, t = _dtm(seg)
            if q in ("137", "178", "136", "133") and t is None and component(seg, 0, 1):
                head.flags.append(Flag("DTM", "unreadable-date", f"{_dtm_why(seg)}; ignored"))
            if q == "137":
                head.date = t
            elif q in ("178", "136", "133") and t and (place not in _OTHER_CALLS or not dated):
                head.departure = t
                dated = dated or place not in _OTHER_CALLS
        elif tag == "TDT" and head.vessel is None:
            head.vessel, head.voyage, flags = _vessel(seg)
            head.flags += flags
        elif tag == "LOC":
            place = component(seg, 0)
            _place(head.ports, seg, head.flags)
            _terminal(head, seg)
        elif tag == "RFF":
            head.refs.append(DocumentReference(component(seg, 0, 0), component(seg, 0, 1)))
    if message.truncated and not _last_group_ended(message, starts, groups):
        return head, groups[:-1]  # the last group may have lost segments at the break
    return head, groups


#: Message types whose control total (CNT) follows their segment groups (UN/EDIFACT D.95B
#: BAPLIE, MOVINS, COARRI, CODECO, COPRAR); a CUSCAR's is inside each consignment (CNI group).
_CNT_AFTER_GROUPS = frozenset({"BAPLIE", "MOVINS", "COARRI", "CODECO", "COPRAR"})


def _last_group_ended(message: Message, starts: Callable[[Segment], bool], groups: list[list[Segment]]) -> bool:
    """Whether the last of ``groups`` of a message cut short ended before the break: the segment
    cut into begins another group or is the message's UNT, or (in :data:`_CNT_AFTER_GROUPS`)
    its control total, cut into or whole after the group. An ingest review's bay plan cut inside
    its UNT, and a move report cut after its CNT, lost their last container; a regression
    review's cargo report cut after the CNT inside its last consignment kept it half read."""
    closing = {"UNT", "CNT"} if message.type in _CNT_AFTER_GROUPS else {"UNT"}
    cut = message.cut_in
    if cut is not None and (starts(cut) or cut.tag.strip() in closing):
        return True
    return bool(groups) and any(seg.tag.strip() in closing for seg in groups[-1][1:])


#: LOC qualifiers whose place is a port (UN/LOCODE) Scheldt reads: 5 place of departure, 9 port
#: of loading, 11 place/port of discharge, 12 port of discharge (UN/EDIFACT 3227), 6 the port of
#: loading of SMDG 1.x bay plans (with 12: a data review's plan had no ports), 60 place of first
#: arrival (a cargo report's port of discharge when it gives no LOC+11), 76 original port of
#: loading (others, e.g. 147 a stowage cell or 165 a terminal, are kept as given).
_PORT_QUALIFIERS = frozenset({"5", "6", "9", "11", "12", "60", "76"})
#: LOC qualifiers of another port call than the one a message reports (UN/EDIFACT 3227: 61 next
#: port of call, 94 previous port of call, 152 next port of discharge). BAPLIE D.13B (SMDG 3.1)
#: dates each call after its LOC: a data review's bay plan was dated with the arrival at the
#: next port (LOC+61 DTM+178), 34 hours after the vessel left Antwerp. So a header DTM after
#: one of these dates that call once the message's own call was dated after its LOC; SMDG 2.x
#: gives both LOCs and then the DTMs of its own call (a regression review's Del Monte Rose plan
#: lost its departure time).
_OTHER_CALLS = frozenset({"61", "94", "152"})
#: LOC qualifiers a message repeats by design, one per place: 94 previous port of call and 152
#: next port of call (an IFTSAI port rotation): not a conflict (an ingest review found every
#: event of the real HMM schedules flagged "given twice").
_LIST_QUALIFIERS = frozenset({"94", "152"})


def _port(seg: Segment) -> str:
    """The port a LOC segment names (its C517 code) in capitals without spaces, as :func:`_place`
    reads ports: a review's IFTSAI and IFTSTA re-sent with ``nlrtm`` for ``NLRTM`` added the same
    calls and statuses again."""
    return component(seg, 1, 0).strip().upper()


def _place(places: dict[str, str], seg: Segment, flags: list[Flag]) -> None:
    """Keep a LOC segment's place by qualifier (the first one given). A port is read in capitals
    without spaces (senders write "crmob" and " CRMOB"); one not shaped as a UN/LOCODE is flagged
    and not used; a second, different place under the same qualifier is flagged (the first kept)."""
    qualifier, raw = component(seg, 0), component(seg, 1, 0)
    value = raw.strip().upper() if qualifier in _PORT_QUALIFIERS else raw
    if qualifier in _PORT_QUALIFIERS and value and not is_unlocode_shape(value):
        flags.append(Flag(f"LOC+{qualifier}", "malformed-unlocode", f"{raw[:35]!r} is not shaped like a UN/LOCODE "
                          "(country + 3 letters/digits); not used"))
        return
    if qualifier in places and value and places[qualifier] and places[qualifier] != value:
        if qualifier in _LIST_QUALIFIERS:
            return
        flags.append(Flag(f"LOC+{qualifier}", "conflicting-location", f"LOC+{qualifier} given twice: "
                          f"{places[qualifier]} and {value[:35]}; the first is kept"))
        return
    if value or qualifier not in places:
        places[qualifier] = value


def _terminal(head: _Header, seg: Segment) -> None:
    """Keep the terminal a LOC segment names (the first one per qualifier). SMDG/ITG COARRI and
    CODECO give it as the related place of the port, code list TER:
    ``LOC+11+BEANR:139:6+SIMT1:TER:ZZZ`` or ``LOC+165+BEANR:139:6+SIMT1:TER:ZZZ``; LOC+165 (the
    place of the move) also as a related place without a code list (``+K913``), or as its own
    place when that is not a UN/LOCODE (code list 139). A carrier review found the port taken
    as the terminal: trips discharged at "BEANR" belonged to no terminal."""
    qualifier = component(seg, 0)
    if related := _related_terminal(seg):
        head.terminals.setdefault(qualifier, related)
    elif qualifier == "165" and component(seg, 1, 1).strip() != "139" and not head.own_terminal:
        head.own_terminal = owner_code(component(seg, 1, 0))


def _related_terminal(seg: Segment) -> str:
    """The terminal a LOC segment gives as its related place (``LOC+11+BEANR:139:6+SIMT1:TER:ZZZ``,
    code list TER, or any related place of LOC+165), or ""."""
    related, listed = owner_code(component(seg, 2, 0)), owner_code(component(seg, 2, 1))
    return related if related and (listed == "TER" or component(seg, 0) == "165") else ""


#: Where each move happens, by LOC qualifier in order of preference (UN/EDIFACT 3227): a load
#: at the port of loading, a discharge at the port of discharge, a gate move at the place of
#: the move (165), then the port the box leaves from or arrives at; never the vessel's next or
#: previous port (an EDI review: a load at Cartagena recorded at Antwerp, the vessel's next
#: port, and the high-risk origin missed). A container group's own LOC+165 comes first; its
#: LOC+9 and 11 are the box's own ports of loading and discharge, not where this move was.
_MOVE_PLACES = {"LOAD": ("9", "165", "5"), "DISC": ("11", "165"), "GTIN": ("165", "9", "11", "5"),
                "GTOT": ("165", "11", "9", "5")}


def _move_port(move: str, ports: dict[str, str], own: dict[str, str]) -> str:
    """The UN/LOCODE where ``move`` happened, from the container group's LOC+165 or the message's
    places (:data:`_MOVE_PLACES`); "" when none names a port."""
    for place in (own.get("165", ""), *(ports.get(q, "") for q in _MOVE_PLACES[move])):
        code = place.strip().upper()
        if code and is_unlocode_shape(code):
            return code
    return ""


def _facility(head: _Header, port: str, own: str = "") -> str:
    """The terminal of a move: the message's LOC+165's, else the one given with the port used,
    else ``own``, the terminal its container group names (SMDG CODECOs put LOC+165 with the
    terminal in the EQD group: an EDI review's gate moves belonged to no terminal), else none."""
    used = next((q for q in ("11", "9", "5") if head.ports.get(q) == port), "")
    return head.terminals.get("165") or head.terminals.get(used, "") or head.own_terminal or own


def _group_terminal(group: dict[str, object], port: str) -> str:
    """The terminal a container group names for its move at ``port``: its LOC+165's, else the
    one given with its LOC of that port; "" when none (a regression review: a discharge at
    Antwerp took the group's port of loading's terminal, in Turkey)."""
    terminals: dict[str, str] = group.get("terminals") or {}  # type: ignore[assignment]
    locs: dict[str, str] = group.get("locs") or {}  # type: ignore[assignment]
    if "165" in terminals:
        return terminals["165"]
    return next((terminals[q] for q in terminals if port and locs.get(q) == port), "")


#: Full or empty indicator (UN/EDIFACT 8169) → empty?: 4 empty; 5 full, 6 no volume available,
#: 7 full with mixed consignments, 8 full with one, 1-3 volume still available (partly loaded)
#: and 9-13 part loads and invoiced loads (later directories) are all not empty (an EDI review's
#: CODECO gate-in of a full box, code 8, was read as neither).
_FULL_OR_EMPTY = {"4": True, **{str(code): False for code in (1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13)}}


def _container(group: list[Segment], where: str) -> dict[str, object]:
    """Fields of one container group (EQD, LOC, MEA, RFF, SEL, TMP, DTM)."""
    out: dict[str, object] = {"refs": [], "seals": [], "flags": [], "locs": {}}
    for seg in group:
        tag = seg.tag.strip()
        if tag == "EQD" and "number" not in out:
            raw = component(seg, 1, 0)
            if raw:
                number, flag = container_number(raw)
                out["number"] = number
                if flag:
                    out["flags"].append(flag)  # type: ignore[attr-defined]
            out["iso"] = component(seg, 2, 0)
            # full/empty indicator (8169) is the 6th element; the 5th is the equipment status
            # (8249: 4 remain on board, 5 shifter), not full or empty (an EDI review)
            out["empty"] = _FULL_OR_EMPTY.get(component(seg, 5).strip())
        elif tag == "LOC":
            _place(out["locs"], seg, out["flags"])  # type: ignore[arg-type]
            if terminal := _related_terminal(seg):  # by qualifier: the move's own place decides which
                out.setdefault("terminals", {}).setdefault(component(seg, 0), terminal)  # type: ignore[union-attr]
        elif tag == "MEA":
            what = component(seg, 1, 0) or component(seg, 0)
            if not component(seg, 2, 1):
                continue
            mass, flag = mass_kg(edi_decimal(component(seg, 2, 1)), component(seg, 2, 0), f"MEA+{component(seg, 0)}")
            if flag is not None:
                out["flags"].append(flag)  # type: ignore[attr-defined]
            if mass is None:
                continue
            if what == "VGM" or component(seg, 0) == "VGM":
                out["vgm"] = mass
            elif what in ("WT", "AET", "G", "AAE") or component(seg, 0) == "WT":
                out.setdefault("gross", mass)
        elif tag == "RFF":
            out["refs"].append(DocumentReference(component(seg, 0, 0), component(seg, 0, 1)))  # type: ignore[attr-defined]
        elif tag == "SEL":
            out["seals"].append(_seal(seg))  # type: ignore[attr-defined]
        elif tag == "TMP":
            temp, flag = celsius(edi_decimal(component(seg, 1, 0)), component(seg, 1, 1), "TMP")
            if flag is not None:
                out["flags"].append(flag)  # type: ignore[attr-defined]
            if temp is not None:
                out["temp"] = temp
        elif tag == "DTM":
            q, t = _dtm(seg)
            if q in ("203", "334", "7", "178", "132", "133", "186"):
                if t:
                    out.setdefault("time", t)
                else:
                    unread = Flag("DTM", "unreadable-date", f"{_dtm_why(seg)}; ignored")
                    out["flags"].append(unread)  # type: ignore[attr-defined]
    return out


def _docs(refs: list[DocumentReference]) -> tuple[DocumentReference, ...]:
    mapped = {"BM": "TRD", "BN": "BKG", "BH": "TRD"}
    return tuple(dict.fromkeys(DocumentReference(mapped.get(r.kind, r.kind), r.value) for r in refs if r.value))


def read_stowage(message: Message) -> Iterator[Record]:
    """BAPLIE (on board at departure, ACT) and MOVINS (planned, PLN): one StowagePosition per cell."""
    head, groups = _groups(message, lambda s: s.tag.strip() == "LOC" and component(s, 0) == "147")
    when = head.departure or head.date
    if when is None:
        yield Rejection(message.where, "DTM", f"{message.type} message {message.ref} has no readable date "
                        "(DTM+137/178)", as_received(message.segments))
        return
    call = TransportCall(unlocode=head.ports.get("5", ""), export_voyage=head.voyage, vessel=head.vessel)
    cells = [(component(group[0], 1, 0), _container(group, message.where)) for group in groups]
    doubled = _doubled(cells) if message.type == "BAPLIE" else [[] for _ in cells]
    stated: set[str] = set()
    for (cell, c), more in zip(cells, doubled, strict=True):
        c["flags"].extend(more)  # type: ignore[attr-defined]
        if not c.get("number") and message.type == "BAPLIE":  # a MOVINS plans slots by type, without numbers
            c["flags"].append(Flag("EQD", "no-container-number", f"stowage cell {cell or '?'} names no container "  # type: ignore[attr-defined]
                                   "number (an empty EQD, a lost stowage position, or a release character ? before "
                                   "a segment terminator that joined the next segment to this one)"))
        locs: dict[str, str] = c["locs"]  # type: ignore[assignment]
        event_id = _event_id(message, _vessel_key(head), head.ports.get("5", ""), when.isoformat(), cell,
                             c.get("number", ""))
        stated.add(event_id)
        yield StowagePosition(
            event_id=event_id,
            classifier="PLN" if message.type == "MOVINS" else "ACT",
            event_time=when, created_time=head.date, location=Location(unlocode=head.ports.get("5", "")),
            transport_call=call, documents=_docs(c["refs"]),  # type: ignore[arg-type]
            source=_reported(message, head, f"cell {cell}"),
            flags=tuple(head.flags) + tuple(c["flags"]),  # type: ignore[arg-type]
            event_type=message.type, container_number=str(c.get("number", "")), iso_equipment_code=str(c.get("iso", "")),
            empty=c.get("empty"), stowage_cell=cell,  # type: ignore[arg-type]
            port_of_loading=locs.get("9") or locs.get("6", ""), port_of_discharge=locs.get("11") or locs.get("12", ""),
            gross_mass_kg=c.get("gross"), verified_gross_mass_kg=c.get("vgm"),  # type: ignore[arg-type]
            temperature_celsius=c.get("temp"), seals=tuple(c["seals"]),  # type: ignore[arg-type]
        )
    yield from _replacing(message, head, stated)


def _doubled(cells: list[tuple[str, dict[str, Any]]]) -> list[list[Flag]]:
    """Flags, per cell in ``cells`` (cell, container group), for what no real bay plan holds:
    one container in two cells, two containers in one cell (an attack review's plan had both,
    unflagged; a box that is in two places at once is a forged or badly merged plan)."""
    by_number: dict[str, list[str]] = {}
    by_cell: dict[str, list[str]] = {}
    for cell, c in cells:
        if number := str(c.get("number") or ""):
            by_number.setdefault(number, []).append(cell or "?")
            if cell:
                by_cell.setdefault(cell, []).append(number)
    out: list[list[Flag]] = []
    for cell, c in cells:
        number, flags = str(c.get("number") or ""), []
        if number and len(by_number[number]) > 1:
            flags.append(Flag("LOC+147", "box-in-two-cells", f"container {number} is stowed in "
                              f"{len(by_number[number])} cells of this bay plan: {', '.join(by_number[number])}"))
        if number and cell and len(set(by_cell[cell])) > 1:
            flags.append(Flag("LOC+147", "cell-used-twice", f"cell {cell} holds {len(set(by_cell[cell]))} containers "
                              f"in this bay plan: {', '.join(sorted(set(by_cell[cell])))}"))
        out.append(flags)
    return out


def read_moves(message: Message) -> Iterator[Record]:
    """COARRI, COPRAR, CODECO: one EquipmentEvent per EQD container group. A cancellation or
    deletion (BGM message function 1 or 3) gives instead a Retraction of each move as the
    message states it (same vessel, voyage, place, time and container: the same event id): an
    EDI review's cancelled gate-out was stored as an actual one, and the box counted as gone."""
    head, groups = _groups(message, lambda s: s.tag.strip() == "EQD")
    move = _MOVES[message.type].get(head.bgm)
    if move is None:
        yield Rejection(message.where, "BGM", f"{message.type} message {message.ref}: document code {head.bgm!r} is "
                        f"not one of {sorted(_MOVES[message.type])}, so the move (load, discharge, gate) is unknown",
                        as_received(message.segments))
        return
    stated: set[str] = set()
    unread: set[str] = set()  # boxes whose move this message states but could not be read
    for i, group in enumerate(groups):
        c = _container(group, message.where)
        if not c.get("number"):
            yield Rejection(f"{message.where} EQD {i + 1}", "EQD", f"{message.type} message {message.ref}: equipment "
                            f"group {i + 1} names no container number")
            continue
        port = _move_port(move, head.ports, c["locs"])  # type: ignore[arg-type]
        call = TransportCall(unlocode=port, export_voyage=head.voyage, vessel=head.vessel) if head.vessel else None
        # a move time given but unreadable rejects the move: another date of the message is not
        # its time (an EDI review's discharge in 2150 was dated at the vessel's arrival)
        dated = [f.why for f in c["flags"] if f.code == "unreadable-date"]  # type: ignore[attr-defined]
        when = c.get("time") or (None if dated else head.departure or head.date)
        if when is None:
            why = "no readable date for this move" + (f": {dated[0].removesuffix('; ignored')}" if dated else "")
            yield Rejection(f"{message.where} EQD {c.get('number', '')}", "DTM", why, as_received(message.segments))
            unread.add(str(c.get("number", "")))
            continue
        event_id = _event_id(message, move, _vessel_key(head), port, head.ports.get("165", ""), when.isoformat(),
                             c.get("number", ""))
        if head.function in _CANCELLING:  # the move reported before, as it said it, is withdrawn
            # one without a time of its own was dated by its message, whose date this one does not
            # repeat (a review: such a cancellation matched nothing, quarantined as never sent)
            untimed = None if c.get("time") or head.departure else (
                str(c["number"]), move, port, head.voyage if head.vessel else "",
                tuple(d.value for d in _docs(head.refs + c["refs"])  # type: ignore[operator]
                      if d.kind in ("TRD", "BKG")))  # the B/L or booking a stored move keeps
            yield Retraction(f"{event_id}-{_CANCELLING[head.function]}", event_id, head.date,
                             f"{message.where} EQD {c.get('number', '')}", untimed)
            continue
        stated.add(event_id)
        yield EquipmentEvent(
            event_id=event_id, classifier=_CLASSIFIER[message.type],
            event_time=when, created_time=head.date,  # type: ignore[arg-type]
            location=Location(unlocode=port, facility_code=_facility(head, port, _group_terminal(c, port))),
            transport_call=call,
            documents=_docs(head.refs + c["refs"]),  # type: ignore[operator]
            source=_reported(message, head, f"EQD {c.get('number', '')}"),
            flags=tuple(head.flags) + tuple(c["flags"]),  # type: ignore[arg-type]
            event_type=move, container_number=str(c.get("number", "")), iso_equipment_code=str(c.get("iso", "")),
            empty=c.get("empty"), seals=tuple(c["seals"]),  # type: ignore[arg-type]
            # the box's masses and set temperature (a data review found them read and dropped)
            verified_gross_mass_kg=c.get("vgm"), gross_mass_kg=c.get("gross"),  # type: ignore[arg-type]
            temperature_celsius=c.get("temp"),  # type: ignore[arg-type]
        )
    yield from _replacing(message, head, stated, unread)


def _reported(message: Message, head: _Header, part: str) -> str:
    """The source of a move or stowage position: the message, its report's BGM document number
    when it gives one (what a replacement of the report finds it by: :func:`_replacing`), and
    ``part`` (its EQD or cell)."""
    return f"{message.where}{f' BGM {head.document_id}' if head.document_id else ''} {part}"


def _replacing(message: Message, head: _Header, stated: set[str],
               unread: set[str] | None = None) -> Iterator[ReportReplaced]:
    """A :class:`ReportReplaced` when the message replaces its report (BGM message function 5)
    and names it (a BGM document number), but not when it was cut short (what it no longer
    states is not known); the boxes in ``unread`` (groups it states but that could not be read)
    keep what the report said of them. A terminal review's corrected discharge report and
    re-stowed bay plan left the facts they replaced standing beside them (a box never there in
    the queue, a box in two cells)."""
    if head.function == "5" and head.document_id and not message.truncated:
        yield ReportReplaced(replaced_mark(message.type, head.document_id, head.date), message.type,
                             head.document_id, frozenset(stated), head.date, f"{message.where} BGM",
                             frozenset(unread or ()))


def read_status(message: Message) -> Iterator[Record]:
    """IFTSTA: one StatusEvent per container the report covers, each status group (STS, with
    its dates, places and EQD containers, as D00B nests them in consignments, CNI) with its own
    status, time and place (a regression review's second consignment, and a second status in
    one consignment, took the first's); the consignment's and the message's segments before it
    stand in for what it does not say, and containers outside every status group take the
    first status (as before). A status is at its own time (DTM+334), or without one at the first
    arrival or departure date (DTM+178, 186). A DTM+334 that is no date rejects its status
    group's containers with the value: an ingest review's unreadable status time took the
    departure date of the port of loading ten days earlier, unflagged."""
    head, _ = _groups(message, lambda s: s.tag.strip() == "EQD")
    body = message.segments[1:] if message.truncated else message.segments[1:-1]
    units, outside = _status_groups(body)
    if not units:
        yield from _statuses(message, head, _Unit([], [], body), [], message.where)
        return
    for k, unit in enumerate(units, start=1):
        where = f"{message.where} STS {k}" if len(units) > 1 else message.where
        yield from _statuses(message, head, unit, outside if k == 1 else [], where)


@dataclass
class _Unit:
    """One IFTSTA status group: the message's segments before any consignment (``lead``), its
    consignment's before its STS (``consignment``), and its own from STS to the next STS or CNI."""

    lead: list[Segment]
    consignment: list[Segment]
    own: list[Segment]


def _status_groups(body: list[Segment]) -> tuple[list[_Unit], list[Segment]]:
    """The status groups of an IFTSTA's segments, and the segments of the EQD container groups
    that lie outside every status group (before any STS, in the message's or a consignment's
    own segments)."""
    lead: list[Segment] = []
    consignment: list[Segment] | None = None
    consignments: list[list[Segment]] = []
    units: list[_Unit] = []
    current: _Unit | None = None
    for seg in body:
        tag = seg.tag.strip()
        if tag == "CNI":
            current, consignment = None, [seg]
            consignments.append(consignment)
        elif tag == "STS":
            current = _Unit(list(lead), list(consignment or []), [seg])
            units.append(current)
        elif current is not None:
            current.own.append(seg)
        else:
            (consignment if consignment is not None else lead).append(seg)
    return units, [seg for segs in (lead, *consignments) for seg in _eqd_segments(segs)]


def _eqd_segments(segs: list[Segment]) -> list[Segment]:
    """The segments of the EQD groups among ``segs`` (each EQD and what follows it)."""
    out: list[Segment] = []
    for seg in segs:
        if seg.tag.strip() == "EQD" or out:
            out.append(seg)
    return out


def _statuses(message: Message, head: _Header, unit: _Unit, outside: list[Segment],
              where: str) -> Iterator[Record]:
    """The StatusEvents of one status group's containers (and of ``outside``, containers of no
    status group), or a Rejection located at ``where``."""
    status = text = ""
    when: datetime | None = None
    unreadable = ""
    status_time = False
    refs = [DocumentReference(component(seg, 0, 0), component(seg, 0, 1))
            for seg in [*unit.lead, *unit.consignment, *unit.own] if seg.tag.strip() == "RFF"]
    port = ""
    for seg in [*unit.own, *unit.consignment, *unit.lead]:
        tag = seg.tag.strip()
        if tag == "STS" and not status:
            status, text = component(seg, 1, 0), component(seg, 1, 3) or component(seg, 1, 2)
        elif tag == "DTM" and component(seg, 0, 0) == "334" and not unreadable:
            stated = _dtm(seg)[1]
            if stated is None:
                unreadable = f"{_dtm_why(seg)}: the status has no time"
            elif when is None or not status_time:
                when, status_time = stated, True
        elif tag == "DTM" and component(seg, 0, 0) in ("178", "186") and when is None:
            when = _dtm(seg)[1]
        elif tag == "LOC" and not port and component(seg, 0) in ("175", "5", "9", "11", "165"):
            port = _port(seg)
    groups: list[list[Segment]] = []
    for seg in [*unit.own, *outside]:
        if seg.tag.strip() == "EQD":
            groups.append([seg])
        elif groups:
            groups[-1].append(seg)
    containers = [_container(g, message.where) for g in groups]
    if unreadable:
        yield Rejection(where, "DTM", f"IFTSTA message {message.ref}: {unreadable}")
        return
    when = when or head.date
    if not status or when is None:
        yield Rejection(where, "STS", f"IFTSTA message {message.ref} has no status (STS) or no date")
        return
    for i, c in enumerate(containers):
        if not c.get("number"):  # as the move readers do (a review: stored with an empty container number)
            yield Rejection(f"{message.where} EQD {i + 1}", "EQD", f"IFTSTA message {message.ref}: equipment group "
                            f"{i + 1} names no container number")
            continue
        yield StatusEvent(
            event_id=_event_id(message, status, port, when.isoformat(), c.get("number", "")), classifier="ACT",
            event_time=when,
            created_time=head.date, location=Location(unlocode=port), documents=_docs(refs),
            source=f"{message.where} EQD {c.get('number', '')}", flags=tuple(head.flags) + tuple(c["flags"]),  # type: ignore[arg-type]
            event_type=status, container_number=str(c.get("number", "")), status_text=text,
        )


def read_schedule(message: Message) -> Iterator[Record]:
    """IFTSAI: estimated arrival (DTM+132) and departure (DTM+133) per port call of the voyage."""
    head, _ = _groups(message, lambda s: False)
    if head.vessel is None:
        yield Rejection(message.where, "TDT", f"IFTSAI message {message.ref} names no vessel (TDT)",
                        as_received(message.segments))
        return
    port = ""
    n = 0
    for seg in message.segments:
        tag = seg.tag.strip()
        if tag == "LOC":
            port = _port(seg)
        elif tag == "DTM" and port and component(seg, 0, 0) in ("132", "133"):
            when = _dtm(seg)[1]
            if when is None:  # a review: the ETA was dropped without a word
                yield Rejection(f"{message.where} LOC {port}", f"DTM+{component(seg, 0, 0)}",
                                f"IFTSAI message {message.ref}: {_dtm_why(seg)}: the estimated "
                                f"{'arrival at' if component(seg, 0, 0) == '132' else 'departure from'} {port} "
                                "is not read")
                continue
            n += 1
            kind = "ARRI" if component(seg, 0, 0) == "132" else "DEPA"
            call = TransportCall(unlocode=port, export_voyage=head.voyage, vessel=head.vessel)
            yield TransportEvent(event_id=_event_id(message, _vessel_key(head), port, kind, when.isoformat()),
                                 classifier="EST",
                                 event_time=when, created_time=head.date, location=Location(unlocode=port),
                                 transport_call=call, source=f"{message.where} LOC {port}", flags=tuple(head.flags),
                                 event_type=kind)


class _DocumentParts:
    """What a run of CUSCAR/IFTMIN segments says about goods and their documents: parties (NAD),
    references (RFF), goods items (GID with FTX+AAA, PIA, MEA, and PAC for a count GID lacks),
    equipment with its seals (EQD and the SEL segments of its group), containers a goods item is
    placed in (SGP), transport document numbers (DOC: document name code, number), places (LOC
    by qualifier) and the flags raised."""

    def __init__(self, earlier: bool = False) -> None:
        #: read as the readers did before 2026-12-07 (:func:`_read_consignments`): a party's first
        #: name line only, any PIA as the HS code, a goods item's mass within one container's
        self.earlier = earlier
        self.parties: list[ShippingParty] = []
        self.refs: list[DocumentReference] = []
        self.goods: list[GoodsItem] = []
        self.equipment: dict[str, tuple[Seal, ...]] = {}
        self.placed: list[str] = []
        self.documents: list[tuple[str, str]] = []
        self.ports: dict[str, str] = {}
        self.flags: list[Flag] = []
        #: each goods item's gross masses read (value, unit, field), checked once its
        #: consignment's containers are known (:func:`_plausible_goods`)
        self.masses: dict[int, list[tuple[object, str, str]]] = {}
        #: the containers each goods item is placed in (its SGP segments)
        self.goods_placed: dict[int, list[str]] = {}

    def read(self, segments: list[Segment], places: bool = False) -> _DocumentParts:
        """Read ``segments`` into these parts (LOC places too with ``places``). Returns self."""
        box = None  # the container whose equipment group is being read, for its SEL segments
        item = ""  # the number of the goods item being read (GID)
        weighing = False  # whether an MEA weighs the last goods item (not a split of it or a container)
        for seg in segments:
            tag = seg.tag.strip()
            if tag in _ENDS_EQUIPMENT:
                box = None
            if tag in ("SGP", "EQD", "CNI", "CNT"):
                weighing = False
            if tag == "NAD":
                self._party(seg)
            elif tag == "RFF":
                self.refs.append(DocumentReference(component(seg, 0, 0), component(seg, 0, 1)))
            elif tag == "GID":
                item = component(seg, 0)  # the goods item's number in the message, as flags name it
                self.goods.append(GoodsItem(packages=self._packages(seg, component(seg, 1, 0), item)))
                weighing = True
            elif tag == "PAC" and self.goods and weighing and self.goods[-1].packages is None and component(
                    seg, 1, 0).strip() not in _INNER_PACKAGING:
                # a goods item's count in its own PAC (7224), as US CBP's ACE manifests write it;
                # the outer packages, as GID counts them (inner cartons are not: a review's 2,000)
                last = self.goods[-1]
                count = self._packages(seg, component(seg, 0, 0), item)
                self.goods[-1] = GoodsItem(last.hs_code, last.description, count, last.gross_mass_kg)
            elif tag in ("FTX", "PIA") and self.goods or tag == "MEA" and self.goods and weighing:
                self._describe(seg, tag)
            elif tag == "EQD":
                box = self._equipment(component(seg, 1, 0))
            elif tag == "SEL" and box is not None:
                self.equipment[box] += (_seal(seg),)
            elif tag == "SGP" and component(seg, 0, 0):
                number, flag = container_number(component(seg, 0, 0))
                if flag:
                    self.flags.append(flag)
                self.placed.append(number)
                if self.goods and not self.earlier:
                    self.goods_placed.setdefault(len(self.goods) - 1, []).append(number)
            elif tag == "DOC" and component(seg, 1, 0):
                self.documents.append((component(seg, 0, 0), component(seg, 1, 0)))
            elif tag == "LOC" and places:
                _place(self.ports, seg, self.flags)
        return self

    def containers(self, sealed: dict[str, tuple[Seal, ...]]) -> dict[str, tuple[Seal, ...]]:
        """The containers of these parts with their seals: those of their own EQD (with their
        own SEL, else the seals ``sealed`` gives them, e.g. a cargo report's header equipment),
        then those their goods are placed in (SGP) with the seals ``sealed`` gives them."""
        out = {number: seals or sealed.get(number, ()) for number, seals in self.equipment.items()}
        for number in self.placed:
            out.setdefault(number, sealed.get(number, ()))
        return out

    def _packages(self, seg: Segment, raw: str, item: str) -> int | None:
        """The package count ``raw`` of goods item ``item`` (a whole number below a billion), or
        None, flagged ``unreadable-packages`` when it is something else."""
        if raw.isascii() and raw.isdigit() and len(raw) <= 9:
            return int(raw)
        if raw:
            self.flags.append(Flag(seg.tag.strip(), "unreadable-packages", f"goods item {item[:10] or '?'}: "
                                   f"{raw[:20]!r} packages is not a whole number below a billion; not used"))
        return None

    def _party(self, seg: Segment) -> None:
        """A NAD party: role (UN/EDIFACT 3035 as Scheldt names it), name (party name, else the
        first name and address line), its id, address, country. A NAD naming no one (no id, no
        name) is flagged, not kept as a party."""
        if self.earlier:
            self._party_as_read_before(seg)
            return
        role = _PARTY_ROLES.get(component(seg, 0), component(seg, 0))
        # C080 repeats the party name (3036) up to five times for a name longer than 35
        # characters (an EDI review's was cut after its first 35, so screening saw another
        # company); C058 gives the name and address in unstructured lines (3124): its first line
        # is the name when C080 gives none, the others (all, beside a C080 name) address lines
        # (a CLI review found the ACE manifest's "1234 MAIN STREET" dropped)
        lines = [t.strip() for t in _components(seg, 2)[:5] if t.strip()]
        structured = _joined(seg, 3, 5)
        name = structured or (lines[0] if lines else "")
        if not name.strip() and not component(seg, 1, 0).strip():
            self.flags.append(Flag("NAD", "empty-party", f"NAD+{component(seg, 0)[:3] or '?'} names no party "
                                   "(no identifier, no name); not kept"))
            return
        address = " ".join(filter(None, [*(lines if structured else lines[1:]), _joined(seg, 4, 4), component(seg, 5),
                                         component(seg, 7)]))
        self.parties.append(ShippingParty(role, name, component(seg, 1, 0), address, component(seg, 8)))

    def _party_as_read_before(self, seg: Segment) -> None:
        """:meth:`_party` as it read before 2026-12-07: first name line, first street line, no N2."""
        role = _EARLIER_PARTY_ROLES.get(component(seg, 0), component(seg, 0))
        name = component(seg, 3, 0) or component(seg, 2, 0)
        if not name.strip() and not component(seg, 1, 0).strip():
            self.flags.append(Flag("NAD", "empty-party", f"NAD+{component(seg, 0)[:3] or '?'} names no party "
                                   "(no identifier, no name); not kept"))
            return
        address = " ".join(filter(None, [component(seg, 4, 0), component(seg, 5), component(seg, 7)]))
        self.parties.append(ShippingParty(role, name, component(seg, 1, 0), address, component(seg, 8)))

    def _equipment(self, raw: str) -> str | None:
        """Start the equipment group of EQD container ``raw``: its number (None, flagged, when
        the EQD names none)."""
        if not raw.strip():
            self.flags.append(Flag("EQD", "no-container-number", "an EQD segment names no container; its seals "
                                   "are not used"))
            return None
        number, flag = container_number(raw)
        if flag:
            self.flags.append(flag)
        self.equipment.setdefault(number, ())
        return number

    def _describe(self, seg: Segment, tag: str) -> None:
        last = self.goods[-1]
        if tag == "FTX" and component(seg, 0) == "AAA":
            text = _joined(seg, 3)
            described = f"{last.description} {text}" if last.description and text else last.description or text
            self.goods[-1] = GoodsItem(last.hs_code, described, last.packages, last.gross_mass_kg)
        elif tag == "PIA" and self.earlier and component(seg, 1, 0):
            self.goods[-1] = GoodsItem(component(seg, 1, 0).replace(".", ""), last.description, last.packages,
                                       last.gross_mass_kg)
        elif tag == "PIA" and not self.earlier and not last.hs_code and (code := _hs_identification(seg)):
            self.goods[-1] = GoodsItem(code, last.description, last.packages, last.gross_mass_kg)
        elif tag == "MEA" and component(seg, 2, 1) and (component(seg, 1, 0) in _GROSS_MASS or (
                component(seg, 0) in _WEIGHT_PURPOSES and not component(seg, 1, 0))):
            unit = component(seg, 2, 0)
            value, code = edi_decimal(component(seg, 2, 1)), _ACE_UNITS.get(unit, unit)
            field = f"MEA+{component(seg, 0)}"
            if not self.earlier:  # a goods item may fill several containers: its mass is checked
                # against theirs, and flagged, once the consignment's are known (:func:`_plausible_goods`)
                self.masses.setdefault(len(self.goods) - 1, []).append((value, code, field))
                return
            mass, flag = mass_kg(value, code, field)
            if flag:
                self.flags.append(flag)
            elif last.gross_mass_kg is None:  # the first gross mass given for the item
                self.goods[-1] = GoodsItem(last.hs_code, last.description, last.packages, mass)


def _hs_identification(seg: Segment) -> str:
    """The HS code a PIA segment gives (without dots), or "": the first of its item numbers
    (C212, up to five) whose type (7143) is HS, the Harmonized System, or that names no type
    and is a number of 4 to 10 digits (written with dots or spaces or not). Another
    identification (SA, the supplier's article number; an EDI review's SKU was stored as the
    goods' HS code) is not one."""
    for element in range(1, 6):
        number = "".join(component(seg, element, 0).replace(".", "").split())  # "8471.30.00", "8471 30 00"
        kind = component(seg, element, 1).strip()
        if number and (kind.upper() == "HS" or not kind and number.isascii() and number.isdigit()
                       and 4 <= len(number) <= 10):
            return number
    return ""


#: PAC packaging levels (UN/EDIFACT 7075) that count what is inside a goods item's packages,
#: not the packages GID counts: 1 (inner) and 2 (intermediate). Any other (3 outer, 4 no
#: hierarchy, none given) is the goods item's count (a regression review's level 4 was dropped).
_INNER_PACKAGING = frozenset({"1", "2"})
#: Segments after which a SEL no longer seals the container of the last EQD: the next
#: equipment, a consignment, a goods item, a control total, a transport stage.
_ENDS_EQUIPMENT = frozenset({"CNI", "GID", "CNT", "TDT", "UNT"})
#: MEA measured attributes (UN/EDIFACT 6313) that are a goods item's gross mass: G gross weight,
#: AAD consignment gross weight (a volume, e.g. AAW, or a net weight is not its gross mass).
_GROSS_MASS = frozenset({"G", "AAD"})
#: MEA measurement purposes (UN/EDIFACT 6311) that are a weight without an attribute: WT
#: weights, AAI item weight (as US CBP ACE manifests send it).
_WEIGHT_PURPOSES = frozenset({"WT", "AAI"})
#: Mass units of US CBP ACE manifests (ANSI X12 355 codes): K kilograms, L pounds.
_ACE_UNITS = {"K": "KGM", "L": "LBR"}


def _joined(seg: Segment, element: int, repeats: int | None = None) -> str:
    """The first ``repeats`` (all without it) components of a segment's data element ``element``
    that are given, joined by a space (a name, a street or a text written over several lines)."""
    return " ".join(t.strip() for t in _components(seg, element)[:repeats] if t.strip())


def _components(seg: Segment, element: int) -> list[str]:
    """Every component of a segment's data element ``element`` (a lone value as one)."""
    value = seg.elements[element] if len(seg.elements) > element else ""
    return [str(v or "") for v in value] if isinstance(value, list) else [str(value or "")]


#: Transport document name codes (UN/EDIFACT 1001) of a DOC segment: 705 bill of lading, 706
#: original, 707 copy, 714 house bill of lading, 703 house waybill, 740 air waybill, 741 master
#: air waybill, 730 road consignment note.
_TRANSPORT_DOCUMENTS = ("705", "706", "707", "714", "703", "740", "741", "730")
_HOUSE_DOCUMENTS = ("714", "703")


def read_consignments(message: Message) -> Iterator[Record]:
    """CUSCAR and IFTMIN: one Consignment per transport document.

    A CUSCAR reports the consignments of one conveyance, each in a CNI group (UN/EDIFACT
    CUSCAR segment group 7: CNI with its references, places, parties and goods items; a goods
    item names the containers it is placed in with SGP), after the message's header, whose
    parties, transport (TDT, LOC) and equipment (EQD with SEL) apply to all of them: one
    Consignment per CNI group, with the header's parties and its own, and as containers its
    own EQD and those its goods are placed in (seals from the header's EQD, a different seal
    flagged); the header's equipment is a consignment's only when the message holds that one.
    A container of the header's equipment that no consignment holds is a Rejection naming it
    (an ingest review: it was dropped without a word, so the officer never saw the box).
    Its bill of lading and kind are :func:`_cni_bill`'s; a bill given twice in one report is
    flagged. A message without CNI (IFTMIN, a CUSCAR of one consignment) is one Consignment:
    bill of lading :func:`_named_bill`, else its first reference, else its BGM document number
    (else the message reference), with the containers of its EQD and SGP segments (shipping
    instructions, BGM 340, naming no bill: shipping instructions under their BGM number);
    a house bill when it names one (RFF+BH). A message cut short keeps its complete CNI groups,
    and nothing when it has none. Each Consignment read otherwise before 2026-12-07 carries that
    reading as its ``earlier_reading`` (:func:`_read_consignments` with ``earlier``), so that the
    store reads a version stored so again in place (a regression review's re-sent message made
    new versions)."""
    records = list(_read_consignments(message))
    earlier = [r for r in _read_consignments(message, earlier=True) if isinstance(r, Consignment)]
    if len(earlier) != sum(isinstance(r, Consignment) for r in records):
        yield from records
        return
    readings = iter(earlier)
    for record in records:
        if isinstance(record, Consignment):
            before = next(readings)
            yield record if before == record else replace(record, earlier_reading=before)
        else:
            yield record


def _read_consignments(message: Message, earlier: bool = False) -> Iterator[Record]:
    """:func:`read_consignments`' records; with ``earlier``, as read before 2026-12-07: a
    party's first name and street line (no N2), any PIA as the HS code, a goods item's mass
    within one container's, LOC+9 the port of loading and LOC+11 (else 60) of discharge
    whatever the transport stage, shipping instructions filed as a bill."""
    if not any(seg.tag.strip() == "CNI" for seg in message.segments):
        if message.truncated:  # one consignment cut short: nothing of it is kept (its Rejection says so)
            return
        head, _ = _groups(message, lambda s: False)
        _main_carriage(head, message.segments, places=not earlier)
        parts = _DocumentParts(earlier).read(message.segments)
        if not earlier and head.bgm == _SHIPPING_INSTRUCTIONS and head.document_id.strip() \
                and not _named_bill(parts.refs):
            yield _consignment(head, parts, head.document_id.strip(), False, list(parts.containers({}).items()),
                               head.ports, message.where, "SHI")
            return
        bl = _named_bill(parts.refs) or next((r.value for r in parts.refs if r.value), head.document_id or message.ref)
        yield _consignment(head, parts, bl, _named_house(parts.refs), list(parts.containers({}).items()),
                           head.ports, message.where, earlier=earlier)
        return
    head, groups = _groups(message, lambda s: s.tag.strip() == "CNI")
    first = next(i for i, seg in enumerate(message.segments) if seg.tag.strip() == "CNI")
    header = _DocumentParts(earlier).read(message.segments[1:first])
    _main_carriage(head, message.segments[1:first], places=not earlier)
    bills: dict[str, str] = {}  # bill of lading -> the CNI group that gave it first
    linked: set[str] = set()  # containers some consignment holds
    for n, group in enumerate(groups, 1):
        item = component(group[0], 0, 0) or f"#{n}"
        parts = _DocumentParts(earlier).read(group[1:], places=True)
        parts.parties[:0] = header.parties
        containers = parts.containers(header.equipment)
        parts.flags += _seal_conflicts(parts.equipment, header.equipment)
        if not containers and len(groups) == 1 and not message.truncated:  # the one consignment: the conveyance's
            containers = dict(header.equipment)                              # equipment is its own
            parts.flags[:0] = header.flags
        bl, house = _cni_bill(message, head, group[0], item, parts)
        if bl in bills:
            parts.flags.append(Flag("CNI", "bill-repeated-in-report", f"CNI {item} names bill {bl}, as CNI {bills[bl]} "
                                    "of the same report did: stored as a later version of it"))
        bills.setdefault(bl, item)
        linked.update(containers)
        yield _consignment(head, parts, bl, house, list(containers.items()),
                           {**head.ports, **{q: v for q, v in parts.ports.items() if v}}, f"{message.where} CNI {item}",
                           earlier=earlier)
    if message.truncated:
        return  # the groups cut off may have named them
    for number in (n for n in header.equipment if n not in linked):
        yield Rejection(f"{message.where} EQD {number}", "EQD",
                        f"{message.type} message {message.ref}: container {number} is in the report's equipment, "
                        "but no consignment (CNI group) names it or places goods in it (SGP): it is linked to no "
                        "bill of lading", as_received(message.segments))


#: BGM document name code (UN/EDIFACT 1001) of shipping instructions: an IFTMIN sent as such
#: that names no bill of lading is filed as shipping instructions (SHI) under its BGM document
#: number, as the DCSA reader files eBL shipping instructions under their reference (an EDI
#: review's were filed as a bill of lading under the forwarder's reference, RFF+FF); one naming
#: its bill (RFF+BM, BH) is filed under that bill, so that the bill's moves find it.
_SHIPPING_INSTRUCTIONS = "340"


def _main_carriage(head: _Header, segments: list[Segment], places: bool = True) -> None:
    """Take the vessel and voyage of a consignment's main carriage: the first TDT of transport
    stage 20 (UN/EDIFACT 8051) among ``segments`` when the message gives one, instead of its
    first TDT (an IFTMIN lists pre-carriage, 10, before it: a truck's plate was read as the
    vessel). Kept to consignments: event ids of other messages are made of their vessel."""
    main = next((seg for seg in segments if seg.tag.strip() == "TDT" and component(seg, 0) == "20"), None)
    if main is not None:
        head.vessel, head.voyage, flags = _vessel(main)
        head.flags += [f for f in flags if f not in head.flags]
        if places:
            _main_carriage_places(head, segments)


#: Segments that end a transport stage's group (a TDT and its LOC, DTM, TSR, RFF...) in IFTMIN
#: and CUSCAR: the next stage, parties, goods, equipment, a consignment, the control total.
_ENDS_STAGE = frozenset({"TDT", "NAD", "GID", "EQD", "CNI", "CNT", "UNT", "GOR", "TCC", "DOC", "TOD", "SGP"})
#: LOC qualifiers of a transport stage's ports of loading and discharge (UN/EDIFACT 3227: 9, 11,
#: 12, 60): another stage's are not the document's when the main carriage gives places (a
#: regression review's pre-carriage LOC+11 was taken over the main carriage's LOC+12).
_STAGE_PORTS = frozenset({"9", "11", "12", "60"})
#: Flags :func:`_place` raises.
_PLACE_FLAGS = frozenset({"conflicting-location", "malformed-unlocode"})


def _main_carriage_places(head: _Header, segments: list[Segment]) -> None:
    """Take a message's places from its main carriage when it has other transport stages: the
    LOCs of the stage-20 TDT's group first, then those outside any stage's group, then another
    stage's for a qualifier neither gives (UN/EDIFACT IFTMIN segment group 11: each LOC belongs
    to its own stage's TDT). An EDI review's instruction took its ports of loading and discharge
    from the pre-carriage (a feeder to the hub) with the main carriage's vessel, flagging the
    main carriage's ports as conflicting. Another stage gives no port of loading or discharge
    (:data:`_STAGE_PORTS`) then."""
    main: list[Segment] = []
    others: list[Segment] = []
    unstaged: list[Segment] = []
    stage: str | None = None
    for seg in segments:
        tag = seg.tag.strip()
        if tag in _ENDS_STAGE:
            stage = component(seg, 0) if tag == "TDT" else None
        elif tag == "LOC":
            (unstaged if stage is None else main if stage == "20" else others).append(seg)
    if not others or not main:
        return
    places: dict[str, str] = {}
    flags: list[Flag] = []
    for seg in [*main, *unstaged]:
        _place(places, seg, flags)
    for seg in others:  # never a port of loading or discharge: the main carriage's are the document's
        if component(seg, 0) not in places and component(seg, 0) not in _STAGE_PORTS:
            _place(places, seg, flags)
    head.ports = places
    head.flags = [f for f in head.flags if f.code not in _PLACE_FLAGS] + flags


def _carrier_code(parts: _DocumentParts) -> str:
    """The carrier responsible for a consignment, as carriers are known here (an SMDG liner
    code or a SCAC: 2-4 letters): the identifier of its carrier party (NAD+CA); "" when it names
    none. An ingest review found every CUSCAR and IFTMIN document without a carrier, so no
    shipping line saw trips known from them (a line owns the trips of documents carrying its
    codes). Not the main carriage's TDT carrier: that is the vessel's operator, which under a
    vessel-sharing agreement is not the carrier that issued the bill (a regression review's
    manifest took the trip from the bill's carrier that way)."""
    named = [p.identifier for p in parts.parties if p.role == "carrier"]
    return next((code for code in (owner_code(n) for n in named) if _CARRIER_SHAPE.fullmatch(code)), "")


#: An SMDG liner code (3 letters) or a SCAC (2-4 letters).
_CARRIER_SHAPE = re.compile(r"[A-Z]{2,4}")


def _cni_bill(message: Message, head: _Header, cni: Segment, item: str, parts: _DocumentParts) -> tuple[str, bool]:
    """(bill of lading, house?) of a CUSCAR CNI group: its own house bill (RFF+BH), else the
    CNI's document number, else its RFF+BM or AWB, else a transport document's DOC number,
    else its first reference that is not its master's (RFF+MB links a house bill to its
    master bill, which is another consignment), else one made of the vessel and the voyage (or,
    without them, the report's own BGM number) and the CNI item number (``item``; the same
    whenever the report is re-sent, whatever its message reference). A house bill: one
    given by RFF+BH or by a house document (DOC 714, 703), or one whose master RFF+MB names
    (a master listing its houses' DOC 714 stays a master)."""
    by_kind = {r.kind: r.value for r in reversed(parts.refs) if r.value}
    documents = [number for code, number in parts.documents if code in _TRANSPORT_DOCUMENTS]
    made = (f"{_vessel_key(head).replace('|', '/')}/CNI {item}" if head.vessel or head.voyage
            else f"{head.document_id or message.ref}/CNI {item}")
    bl = (by_kind.get("BH") or component(cni, 1, 0) or by_kind.get("BM") or by_kind.get("AWB")
          or next(iter(documents), "") or next((r.value for r in parts.refs if r.value and r.kind != "MB"), "")
          or made)
    house = (by_kind.get("BH") == bl or by_kind.get("MB", bl) != bl
             or any(code in _HOUSE_DOCUMENTS and number == bl for code, number in parts.documents))
    return bl, house


#: BGM message functions (UN/EDIFACT 1225) that withdraw what a message reported.
_CANCELLING = {"1": "cancellation", "3": "deletion"}


def _named_bill(refs: list[DocumentReference]) -> str:
    """The document's own bill of lading or waybill number among ``refs``: its house bill
    (RFF+BH), else its bill (BM), else its air waybill (AWB), else its master's (MB, when it
    names no bill of its own); "" when none."""
    by_kind = {r.kind: r.value for r in reversed(refs) if r.value}
    return next((by_kind[k] for k in ("BH", "BM", "AWB", "MB") if k in by_kind), "")


def _named_house(refs: list[DocumentReference]) -> bool:
    """Whether the document is a house bill: it names a house bill (RFF+BH)."""
    return any(r.kind == "BH" and r.value for r in refs)


def _seal_conflicts(own: dict[str, tuple[Seal, ...]], header: dict[str, tuple[Seal, ...]]) -> list[Flag]:
    """Flags for containers whose seals in a consignment's own EQD differ from those the
    report's header gives the same container (a seal changed, or a typing error: an officer
    wants to see both)."""
    return [Flag("SEL", "seal-conflict", f"{number}: sealed {', '.join(s.number for s in seals)} in this consignment, "
                 f"{', '.join(s.number for s in header[number])} in the report's equipment")
            for number, seals in own.items()
            if seals and header.get(number) and {s.number for s in seals} != {s.number for s in header[number]}]


def _plausible_goods(parts: _DocumentParts, boxes: int) -> tuple[GoodsItem, ...]:
    """``parts``' goods items, each with the containers its SGP segments place it in, and with
    the first gross mass read for it that ``boxes`` containers can hold (at least one:
    :data:`MAX_CONTAINER_KG` each); every mass above that is flagged into ``parts.flags`` and
    not used. The goods of one item may fill several containers (an EDI review's 75 t in three
    boxes was refused), and a wrong first mass does not hide a right second one (a regression
    review's 19,800 t before 19,800 kg)."""
    limit = MAX_CONTAINER_KG * max(1, boxes)
    out = []
    for n, g in enumerate(parts.goods):
        if placed := parts.goods_placed.get(n):  # the containers its SGP segments name
            g = GoodsItem(g.hs_code, g.description, g.packages, g.gross_mass_kg, tuple(dict.fromkeys(placed)))
        for value, unit, field in parts.masses.get(n, ()):
            mass, flag = mass_kg(value, unit, field, limit)
            if flag is not None:
                parts.flags.append(flag)
            elif g.gross_mass_kg is None:
                g = GoodsItem(g.hs_code, g.description, g.packages, mass, g.containers)
        out.append(g)
    return tuple(out)


def _consignment(head: _Header, parts: _DocumentParts, bl: str, house: bool,
                 containers: list[tuple[str, tuple[Seal, ...]]], ports: dict[str, str], source: str,
                 document_type: str = "", earlier: bool = False) -> Consignment:
    """The Consignment of bill of lading ``bl`` (or, with ``document_type`` SHI, shipping
    instructions ``bl``) made of ``parts`` under the message's ``head``; flagged when the
    message cancels or deletes what it reports (BGM function 1 or 3)."""
    cancelled = [Flag("BGM", "cancelled-by-sender", f"the sender cancels this report of {bl} (BGM message function "
                      f"{head.function}: {_CANCELLING[head.function]}); earlier versions are kept")
                 ] if head.function in _CANCELLING else []
    goods = _plausible_goods(parts, len(containers))  # before the flags are taken
    return Consignment(
        # a house bill is filed as one (HBL), as the eBL reader files them: the store keeps the
        # type, not the kind, and a data review's CUSCAR house bill was shared as a master
        bill_of_lading=bl, kind="house" if house else "master",
        document_type=document_type or ("HBL" if house else "TRD"),
        booking_ref=next((r.value for r in [*parts.refs, *head.refs] if r.kind == "BN"), ""),
        parties=tuple(parts.parties), goods=goods, containers=tuple(containers),
        port_of_loading=ports.get("9", "") if earlier else ports.get("76", "") or ports.get("9", ""),
        port_of_discharge=ports.get("11", "") or ("" if earlier else ports.get("12", "")) or ports.get("60", ""),
        vessel=head.vessel, voyage=head.voyage, issued_at=head.date, source=source,
        # once each: a container named by SGP and by two EQD segments was flagged three times
        carrier_code=_carrier_code(parts), flags=tuple(dict.fromkeys((*head.flags, *parts.flags, *cancelled))),
    )


READERS: dict[str, Callable[[Message], Iterator[Record]]] = {
    "BAPLIE": read_stowage,
    "MOVINS": read_stowage,
    "COARRI": read_moves,
    "COPRAR": read_moves,
    "CODECO": read_moves,
    "IFTSTA": read_status,
    "IFTSAI": read_schedule,
    "CUSCAR": read_consignments,
    "IFTMIN": read_consignments,
}


#: Message types read one group at a time: a truncated one keeps its complete groups.
GROUPED = frozenset(KEPT_AFTER_BREAK)


def read_edifact(data: bytes, source: str) -> Iterator[Record]:
    """Every record of every message in an interchange; a Rejection per unreadable message."""
    from scheldt.ingest.edifact.envelope import read_messages

    for item in read_messages(data, source):
        if isinstance(item, Rejection):
            yield item
            continue
        reader = READERS.get(item.type)
        if item.truncated and item.type not in GROUPED:
            continue  # only container groups can be kept from before a break (its Rejection says so)
        if reader is None:
            yield Rejection(item.where, "UNH", f"message type {item.type!r} is not one Scheldt reads "
                            f"({', '.join(sorted(READERS))})", as_received(item.segments))
            continue
        yield from reader(item)
