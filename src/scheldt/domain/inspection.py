"""The life of a scan order (pure): planned → scanned → searched, or cleared, waived, cancelled.

An officer plans a container trip onto a scanner in a shift (``early`` 06:00-14:00, ``late``
14:00-22:00, ``night`` 22:00-06:00, port local time). The scanner operator records the
non-intrusive inspection (NII): the image reference and a verdict (clear / anomaly). A clear
image may be cleared without opening the box; otherwise the search team records the physical
search: nothing found, an irregularity, or a seizure (drug type, mass in kg, where in the
container it was hidden). A risk pick may be waived with a written reason; any open order may be
cancelled with one; a searched or cleared order whose record was of another box is withdrawn
with one (cancelled: no inspection). Every change names who, when and why.

Outcomes feed the container model: ``searched`` and ``cleared`` orders are inspections (a
seizure is a positive), ``waived`` and ``cancelled`` orders are not.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scheldt.errors import ConflictError, InputError

SHIFTS = ("early", "late", "night")
SELECTIONS = ("risk", "exploration", "manual")
VERDICTS = ("clear", "anomaly")
RESULTS = ("nothing_found", "irregularity", "seizure")
# Drug types as seizure reports name them (EMCDDA/UNODC reporting groups, simplified).
DRUG_TYPES = ("cocaine", "cannabis", "heroin", "amphetamine", "methamphetamine", "mdma", "precursors", "other")
# Where in the container, as search teams report it (domain brief section 1: rip-on/rip-off bags
# behind the doors, inside the cover load, in the structure or the reefer unit).
CONCEALMENTS = ("behind_doors", "in_cargo", "cargo_packaging", "container_structure", "reefer_unit", "other")
# How the drugs came to be in the box (modus operandi, domain brief section 2.1): a rip-on/rip-off
# in a legitimate shipment, a cover load of a front company, a box to be collected with a
# misappropriated release (PIN) code, or another way. Optional with a seizure ("" when not said):
# what the search team can tell at once; a partner's seizure report names it as "method".
METHODS = ("rip_on_rip_off", "cover_load", "release_code_fraud", "other")
MAX_SEIZURE_KG = 100_000.0  # more than any container can hold (max gross mass of a 45' box is ~34 t)
MIN_SEIZURE_KG = 0.001  # one gram: a smaller find is a trace (record an irregularity), and 1e-300 kg is a typo
MAX_TEXT = 2000
try:
    PORT_TIME = ZoneInfo("Europe/Brussels")  # Antwerp-Bruges: shifts are port local time
except ZoneInfoNotFoundError:  # a machine without a time zone database: shifts in UTC
    PORT_TIME = ZoneInfo("UTC")
#: Start hour of each shift, port local time; each lasts 8 hours.
_SHIFT_START = {"early": 6, "late": 14, "night": 22}


def current_shift(now: datetime) -> tuple[date, str]:
    """The shift running at ``now`` (aware) in port local time: early 06-14, late 14-22,
    night 22-06 (a night shift after midnight belongs to the day before)."""
    local = now.astimezone(PORT_TIME)
    if time(6) <= local.time() < time(14):
        return local.date(), "early"
    if time(14) <= local.time() < time(22):
        return local.date(), "late"
    if local.time() >= time(22):
        return local.date(), "night"
    return date.fromordinal(local.date().toordinal() - 1), "night"


def shift_end(day: date, shift: str) -> datetime:
    """When ``shift`` of ``day`` ends (aware, port local time): when the next shift starts by
    the port's clock (14:00, 22:00, 06:00 the next day). Shifts last 8 hours, except the night
    shifts when the clocks change: 7 hours in March, 9 in October (a scan-team review: 8 hours
    by UTC ended the night shift at 05:00 or 07:00 port time on those nights)."""
    nxt = {"early": (day, 14), "late": (day, 22), "night": (day + timedelta(days=1), 6)}[shift]
    return datetime.combine(nxt[0], time(nxt[1]), tzinfo=PORT_TIME)


#: How far ahead a scan may be planned, days: a box is in port for days, not months (an attack
#: review planned the top of the queue into 9999-12-31, taking it out of every later shift).
MAX_DAYS_AHEAD = 31


def check_shift_ahead(day: date, shift: str, now: datetime) -> None:
    """Refuse to plan into a shift that has ended by ``now`` (aware), or that starts more than
    :data:`MAX_DAYS_AHEAD` days after it. Raises InputError naming ``shift_date``."""
    if day > now.astimezone(PORT_TIME).date() + timedelta(days=MAX_DAYS_AHEAD):
        raise InputError("shift_date", f"{day} is more than {MAX_DAYS_AHEAD} days ahead: plan into a shift of the "
                         "coming month")
    ended = shift_end(day, shift)
    if ended <= now:
        raise InputError("shift_date", f"the {shift} shift of {day} ended at {ended.date().isoformat()} {ended:%H:%M} port time: "
                         "plan into the current shift or a later one")


#: Exploration picks are drawn for the running shift and the next ones up to this many shifts
#: (24 hours): a carrier review read the draws of all 93 shifts of the month on the plan page,
#: found the low-scoring box it wanted in one of them, planned it from that draw and scanned it at
#: once, so a hand-picked box counted in the hit rate of random picks.
EXPLORATION_SHIFTS = 4


def exploration_shift(day: date, shift: str, now: datetime) -> bool:
    """Whether the ``shift`` of ``day`` is one exploration picks are drawn for at ``now``
    (aware): the running shift or one of the next :data:`EXPLORATION_SHIFTS` - 1."""
    running = shift_end(*current_shift(now))
    return shift_end(day, shift) <= running + timedelta(hours=8 * (EXPLORATION_SHIFTS - 1) + 1)


def scanned_early(planned_day: date, planned_shift: str, done: datetime) -> bool:
    """Whether a scan done at ``done`` (aware) came in a shift before the one planned."""
    return shift_end(*current_shift(done)) < shift_end(planned_day, planned_shift)


class Status(StrEnum):
    """Where a scan order is."""

    PLANNED = "planned"
    SCANNED = "scanned"
    SEARCHED = "searched"
    CLEARED = "cleared"
    WAIVED = "waived"
    CANCELLED = "cancelled"


FINAL = frozenset({Status.SEARCHED, Status.CLEARED, Status.WAIVED, Status.CANCELLED})
# Orders that take a scanner slot: a waived or cancelled order frees its slot, and so does one
# searched without a scan, unless it was cancelled or searched after its scan (it keeps its
# image; the store counts those too).
TAKES_SLOT = frozenset({Status.PLANNED, Status.SCANNED, Status.CLEARED})

# action → (states it may start from, state it leads to)
_MOVES: dict[str, tuple[frozenset[Status], Status]] = {
    "scan": (frozenset({Status.PLANNED}), Status.SCANNED),
    "search": (frozenset({Status.PLANNED, Status.SCANNED}), Status.SEARCHED),
    "clear": (frozenset({Status.SCANNED}), Status.CLEARED),
    "waive": (frozenset({Status.PLANNED}), Status.WAIVED),
    "cancel": (frozenset({Status.PLANNED, Status.SCANNED}), Status.CANCELLED),
    "correct": (frozenset({Status.SEARCHED}), Status.SEARCHED),
    # a scanned, searched or cleared order's record was of another box: withdrawn, the order is
    # cancelled, holds no image or result any more, and is no inspection (a scan-team review's
    # search recorded on the wrong order stayed one in hit rates and training data; its image on
    # the wrong order could not be recorded on the right one). Its own word, not "cancel": a
    # cancel racing a record must still find the order moved on (a concurrency review), and a
    # cancelled order keeps its image (a regression review's cancelled box's image cleared another).
    # A cancelled order that holds its scan (cancelled after the scan) is withdrawn too: a review's
    # operator keyed an image on the wrong box's order, the officer cancelled it, and the image
    # could then be recorded on no order, the right box's included.
    "withdraw": (frozenset({Status.SCANNED, Status.SEARCHED, Status.CLEARED, Status.CANCELLED}), Status.CANCELLED),
}
#: The search fields a correction replaces (all of them: a seizure corrected to "nothing found"
#: loses its drug, mass and hiding place).
SEARCH_FIELDS = ("result", "drug_type", "mass_kg", "concealment", "method", "seals_found", "notes")
#: What a withdrawn record's order holds afterwards: no image, verdict or result (the change
#: keeps what it said).
WITHDRAWN: dict[str, Any] = {"nii_image_ref": "", "verdict": "", "result": "", "drug_type": "", "mass_kg": None,
                             "concealment": "", "method": "", "seals_found": "", "notes": ""}
ACTIONS = tuple(_MOVES)
#: The fields each action records; any other field given is refused, not dropped without a word
#: (a review's search with an image reference and a reason answered 200 and kept neither).
_FIELDS = {"scan": frozenset({"nii_image_ref", "verdict"}), "search": frozenset({*SEARCH_FIELDS, "reason"}),
           "clear": frozenset(), "waive": frozenset({"reason"}), "cancel": frozenset({"reason"}),
           "withdraw": frozenset({"reason"}),
           "correct": frozenset({*SEARCH_FIELDS, "reason", "nii_image_ref", "verdict"})}  # the last two: below


@dataclass(frozen=True, slots=True)
class Change:
    """What one action sets on an order: the new status and the fields it records."""

    to_status: Status
    fields: dict[str, Any] = field(default_factory=dict)


#: Characters that show nothing though Unicode does not class them as spaces or format
#: characters: Braille pattern blank, Hangul fillers (a regression review's reason was U+2800).
_BLANKS = frozenset("\u2800\u3164\u115f\u1160\uffa0")
#: Unicode categories that show nothing on their own: format characters (zero-width spaces and
#: joiners, byte-order marks, soft hyphens), controls, and combining marks (U+034F, the
#: combining grapheme joiner, made one image reference two: a regression review).
_UNSEEN = frozenset({"Cf", "Cc", "Mn", "Me"})


#: Combining marks that never change a letter (the combining grapheme joiner, Mongolian and
#: standard variation selectors): left out of an image reference, where the marks that spell a
#: letter (Devanagari vowel signs, Hebrew points) are kept (a regression review).
_INVISIBLE_MARKS = frozenset("\u034f\u180b\u180c\u180d\u180f") | frozenset(map(chr, range(0xFE00, 0xFE10)))


def _visible(text: str) -> str:
    """``text`` without characters that show nothing on their own (:data:`_UNSEEN`,
    :data:`_BLANKS`) and without surrounding white space: whether a text says anything."""
    return "".join(c for c in text if c not in _BLANKS and unicodedata.category(c) not in _UNSEEN).strip()


def _text(value: Any, name: str, *, required: bool, limit: int = MAX_TEXT) -> str:
    """Free text as typed, without surrounding white space; a required one must hold something
    visible (an officer review's manual pick gave a zero-width space as its reason). Raises
    InputError naming ``name``."""
    text = "" if value is None else str(value).strip()
    if required and not _visible(text):
        raise InputError(name, "is required")
    if len(text) > limit:
        raise InputError(name, f"is {len(text)} characters long; at most {limit}")
    return text


def image_ref(value: Any) -> str:
    """An NII image reference as the scanner's archive names it: NFKC-normalised (full-width
    ``ＳＣ-2`` is ``SC-2``), characters that show nothing left out (format characters, blanks,
    :data:`_INVISIBLE_MARKS`; a control character refused), no surrounding white space,
    at most 200 characters. An officer review recorded one image for two boxes by adding a
    zero-width space or typing it full-width. Raises InputError (``nii_image_ref``)."""
    text = unicodedata.normalize("NFKC", "" if value is None else str(value)).strip()
    if any(unicodedata.category(c) == "Cc" for c in text):
        raise InputError("nii_image_ref", "holds a control character (a tab, a line break): give the reference as the "
                         "scanner's archive names it")
    text = "".join(c for c in text
                   if c not in _BLANKS and c not in _INVISIBLE_MARKS and unicodedata.category(c) != "Cf")
    if not _visible(text):
        raise InputError("nii_image_ref", "is required")
    return _text(text, "nii_image_ref", required=True, limit=200)


def _choice(value: Any, name: str, allowed: tuple[str, ...]) -> str:
    if value in (None, ""):
        raise InputError(name, f"is required: one of {', '.join(allowed)}")
    if value not in allowed:
        raise InputError(name, f"{value!r} is not one of {', '.join(allowed)}")
    return str(value)


def check_plan(selection: str, shift: str, reason: str) -> str:
    """Validate a new order's selection type and shift; a manual pick needs a written reason.
    Returns the cleaned reason. Raises InputError naming the field."""
    _choice(selection, "selection", SELECTIONS)
    _choice(shift, "shift", SHIFTS)
    return _text(reason, "reason", required=selection == "manual")


def apply(status: Status, selection: str, action: str, data: dict[str, Any], verdict: str = "") -> Change:
    """Check ``action`` (scan / search / clear / waive / cancel) on an order in ``status``
    (its scan ``verdict`` once scanned) and return the change it makes. ``data`` holds the
    action's fields:

    * scan: ``nii_image_ref`` (required), ``verdict`` clear / anomaly;
    * search: ``result`` nothing_found / irregularity / seizure; a seizure needs ``drug_type``,
      ``mass_kg`` (1 g to 100,000 kg) and ``concealment``, and may say its ``method``
      (:data:`METHODS`); ``notes`` and ``seals_found`` (:func:`seal_numbers`) optional; a search of an
      order never scanned (a tip-off, the scanner down) needs a ``reason``;
    * clear: nothing (the image was clear: the box goes without a physical search); refused
      after an ``anomaly`` verdict, which is searched or cancelled with a reason (a review
      cleared one, and it went into training data as "nothing found");
    * waive (risk picks only), cancel and withdraw: ``reason`` (required); withdraw takes back the
      record of a scanned, searched or cleared order, or of a cancelled one holding its scan;
    * correct (a searched order): the search fields again, and ``reason`` (required): the
      search team mistyped the mass or the result; the change keeps both (the workflow fills in
      the notes and method a correction does not give: :func:`scheldt.workflows.inspections.act`).

    Raises InputError naming the field, ConflictError saying which states the action needs.
    """
    if action not in _MOVES:
        raise InputError("action", f"{action!r} is not one of {', '.join(ACTIONS)}")
    sources, target = _MOVES[action]
    if status not in sources:
        raise ConflictError("action", f"cannot {action} an order that is {status.value}; "
                         f"it must be {' or '.join(sorted(s.value for s in sources))}")
    stray = sorted(k for k, v in data.items() if k not in _FIELDS[action] and v not in (None, ""))
    if stray:
        records = ", ".join(sorted(_FIELDS[action])) or "nothing but the move"
        raise InputError(stray[0], f"is not recorded with a {action} (a {action} records {records})")
    if action == "clear" and verdict == "anomaly":
        raise ConflictError("action", "the scan image shows an anomaly: the container is searched (record the search) "
                            "or the order cancelled with a reason, never cleared on the image")
    if action == "scan":
        return Change(target, {"nii_image_ref": image_ref(data.get("nii_image_ref")),
                               "verdict": _choice(data.get("verdict"), "verdict", VERDICTS)})
    if action == "search":
        if status == Status.PLANNED:  # searched without a scan: a review's seizure on a box never scanned
            why = _text(data.get("reason"), "reason", required=False)
            if not _visible(why):
                raise InputError("reason", "this order was never scanned: record the scan first, or say why the box "
                                 "was searched without one (a tip-off, the scanner down)")
            return Change(target, _search_fields(data) | {"reason": why})
        if data.get("reason") not in (None, ""):
            raise InputError("reason", "is recorded with a search without a scan only (this order was scanned)")
        return Change(target, _search_fields(data))
    if action == "correct":
        for name in ("nii_image_ref", "verdict"):  # an attack review's were dropped without a word
            if data.get(name) not in (None, ""):
                raise InputError(name, "a correction is of the search record only; the scan stays as recorded")
        fields = _search_fields(data)
        return Change(target, {"drug_type": "", "mass_kg": None, "concealment": "", "method": ""} | fields
                      | {"reason": _text(data.get("reason"), "reason", required=True)})
    if action == "waive" and selection != "risk":
        raise InputError("action", f"only risk picks can be waived; this is a {selection} pick (cancel it instead)")
    if action == "withdraw":  # the record was of another box: what it said goes
        if status == Status.CANCELLED and not verdict:
            raise ConflictError("action", "cannot withdraw an order that is cancelled and holds no scan: there is no "
                                "record to withdraw")
        return Change(target, {"reason": _text(data.get("reason"), "reason", required=True), **WITHDRAWN})
    if action in ("waive", "cancel"):
        return Change(target, {"reason": _text(data.get("reason"), "reason", required=True)})
    return Change(target, {"result": "nothing_found"})


def _search_fields(data: dict[str, Any]) -> dict[str, Any]:
    result = _choice(data.get("result"), "result", RESULTS)
    # line breaks as \n: a browser sends a form's as \r\n, and an unchanged correction form then went
    # through as a correction of notes written through the API (a regression review)
    notes = _text(data.get("notes"), "notes", required=False).replace("\r\n", "\n").replace("\r", "\n")
    out: dict[str, Any] = {"result": result, "notes": notes, "seals_found": seal_numbers(data.get("seals_found"))}
    if result != "seizure":
        for name in ("drug_type", "mass_kg", "concealment", "method"):
            if data.get(name) not in (None, ""):
                raise InputError(name, f"is only recorded with a seizure, not with {result.replace('_', ' ')}")
        return out
    out["drug_type"] = _choice(data.get("drug_type"), "drug_type", DRUG_TYPES)
    out["concealment"] = _choice(data.get("concealment"), "concealment", CONCEALMENTS)
    out["method"] = "" if data.get("method") in (None, "") else _choice(data.get("method"), "method", METHODS)
    mass = data.get("mass_kg")
    if mass in (None, ""):
        raise InputError("mass_kg", "is required with a seizure: the mass in kilograms")
    if isinstance(mass, bool) or not isinstance(mass, int | float) or not math.isfinite(mass):
        raise InputError("mass_kg", f"{mass!r} is not a number of kilograms")
    if not MIN_SEIZURE_KG <= mass <= MAX_SEIZURE_KG:
        raise InputError("mass_kg", f"{mass:g} kg must be at least {MIN_SEIZURE_KG:g} (one gram) and at most "
                         f"{MAX_SEIZURE_KG:,.0f}")
    out["mass_kg"] = float(mass)
    return out


#: A seal number as printed on the seal: letters and digits, with dots, dashes or slashes inside.
_SEAL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9./-]{0,38}[A-Za-z0-9])?")
#: Seals one search may record (a box carries two or three; a few more when some were cut).
MAX_SEALS_FOUND = 10


def seal_numbers(value: Any) -> str:
    """The seal numbers a search team read on the box (``"SL123456, SL999888"``), as one text,
    numbers in capitals, separated by ", "; "" when none given. Commas, semicolons and spaces
    separate them. For rip-on/rip-off the seal replaced on the way is the evidence, and partners
    match seal numbers against their watchlists' seal ranges (a search team review could put
    them only in the notes, which no seizure report carries). Raises InputError naming
    ``seals_found`` for a number that is none (1-40 letters and digits, with . - / inside) or
    more than :data:`MAX_SEALS_FOUND` of them."""
    if value in (None, ""):
        return ""
    if not isinstance(value, str):
        raise InputError("seals_found", "give the seal numbers as text, e.g. SL123456, SL999888")
    numbers = [n for n in re.split(r"[,;\s]+", value.strip()) if n]
    bad = next((n for n in numbers if not _SEAL.fullmatch(n)), None)
    if bad is not None:
        raise InputError("seals_found", f"{bad[:40]!r} is not a seal number (letters and digits, with . - / inside, "
                         "at most 40); separate numbers with commas")
    if len(numbers) > MAX_SEALS_FOUND:
        raise InputError("seals_found", f"{len(numbers)} seal numbers: at most {MAX_SEALS_FOUND}")
    return ", ".join(dict.fromkeys(n.upper() for n in numbers))


def heaviest_known_load(facts: dict[str, Any] | None) -> tuple[float | None, str]:
    """The most a trip's load can weigh (kg) by its stored facts, and how that is known: its
    verified gross mass less the box's tare where a VGM declaration gives it (the lightest
    given), else the VGM itself (box and load: the tare unknown); else the heaviest cargo
    gross mass on its transport documents (without the box). (None, "") when no mass is
    known. An officer review's seizure as heavy as the box with its steel was accepted."""
    if not facts:
        return None, ""
    events = facts.get("events", ())
    vgm = [e["verified_gross_mass_kg"] for e in events if e.get("verified_gross_mass_kg")]
    if vgm:
        tares = [float(e["tare_kg"]) for e in events if e.get("tare_kg")]
        if tares and min(tares) < max(vgm):
            return float(max(vgm)) - min(tares), (f"{max(vgm):,.0f} kg gross by its VGM less the box's declared "
                                                  f"tare of {min(tares):,.0f} kg")
        return float(max(vgm)), f"{max(vgm):,.0f} kg gross by its VGM, box and load together"
    docs = [d["gross_mass_kg"] for d in facts.get("documents", ()) if d.get("gross_mass_kg")]
    if docs:
        return float(max(docs)), f"{max(docs):,.0f} kg of cargo by its transport document"
    return None, ""


def check_seizure_mass(mass_kg: float, load: tuple[float | None, str]) -> None:
    """Refuse a seized mass heavier than the container's load can be (``load``, see
    :func:`heaviest_known_load`): a figure with extra digits (99,999 kg in an 11 t box, a
    figures review) would otherwise dominate the kg-seized figures. Raises InputError."""
    most, how = load
    if most is not None and mass_kg > most:
        raise InputError("mass_kg", f"{mass_kg:,.3f}".rstrip("0").rstrip(".") + " kg is more than the container's "
                         f"load can weigh ({most:,.0f} kg: {how}): check the figure")


def outcome(status: Status, result: str) -> tuple[bool, bool] | None:
    """(inspected, seizure) that a final order teaches the model, or None (not an inspection)."""
    if status == Status.SEARCHED:
        return True, result == "seizure"
    if status == Status.CLEARED:
        return True, False
    return None


def risk_band(score: float) -> str:
    """``high`` (score ≥ 40), ``medium`` (≥ 20) or ``low``: bands of the 0-100 blended score
    for the queue's filter. The cut-offs are Scheldt's: with the built-in profile on simulated
    Antwerp traffic about the top 2 % of trips score 40 or more and the top 20 % score 20 or
    more (``tests/api`` store, seed 4)."""
    if score >= 40:
        return "high"
    if score >= 20:
        return "medium"
    return "low"
