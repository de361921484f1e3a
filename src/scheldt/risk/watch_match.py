"""Exact matching of a container trip against watchlist entries that are not names (pure).

Party names are screened fuzzily (:mod:`scheldt.risk.screening`); the other things a watchlist
entry can look for are matched here, exactly:

* a **container number**: the trip's container number, character for character;
* a **seal range** ``SL000100``-``SL000200``: a seal of the trip (on any document version or
  event) with the same prefix (letters before the final digits, case and spaces ignored) and a
  number in the range, inclusive (``SL150`` is in it: numbers compare as numbers);
* a **route** of UN/LOCODEs: the trip passes them in that order (ports of loading and discharge
  of its documents, and the ports of its load and discharge events, in time order), other
  ports in between allowed;
* an **address**: a party's address on the trip's latest document (or a later arrival notice:
  :func:`scheldt.domain.trips.screened_parties`) with the same numbers (house
  number, postcode; an address without one matches nothing) and the same words give or take
  spelling (rapidfuzz token-set ratio ≥
  :data:`ADDRESS_THRESHOLD` after transliteration to Latin letters and with case, punctuation
  and spacing folded).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz

from scheldt.domain.trips import TripFacts, screened_parties

#: Lowest rapidfuzz token-set ratio (0-100) at which two addresses are the same.
ADDRESS_THRESHOLD = 92.0
_SEAL = re.compile(r"^(.*?)([0-9]+)$")
_FOLD = re.compile(r"[^0-9a-z]+")
#: Where digits meet the letters of scripts written without spaces (Chinese, Japanese, Korean,
#: Thai, Lao, Myanmar, Khmer), which would be romanised into one word with the number
#: ("lu88hao": a regression review's No. 88 and No. 66 of one street were one address). A
#: Latin or Cyrillic letter after a house number stays part of it ("16A", "16А").
_UNSPACED = ("\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
             "\uac00-\ud7af\uf900-\ufaff")
_BESIDE_DIGITS = re.compile(f"(?<=[0-9])(?=[{_UNSPACED}])|(?<=[{_UNSPACED}])(?=[0-9])")


@dataclass(frozen=True, slots=True)
class WatchHit:
    """What matched: the entry's kind, the trip's value that matched, in words."""

    kind: str
    value: str
    why: str


def split_seal(seal: str) -> tuple[str, int] | None:
    """(prefix, number) of a seal ending in digits, case and spaces folded; None otherwise."""
    m = _SEAL.match(re.sub(r"\s+", "", seal).upper())
    return (m.group(1), int(m.group(2))) if m else None


def seal_in_range(seal: str, low: str, high: str) -> bool:
    """True when ``seal`` has the range's prefix and a number from ``low`` to ``high``."""
    s, lo, hi = split_seal(seal), split_seal(low), split_seal(high)
    if s is None or lo is None or hi is None or not s[0] == lo[0] == hi[0]:
        return False
    return lo[1] <= s[1] <= hi[1]


def trip_seals(facts: TripFacts) -> list[str]:
    """Every seal number of the trip (documents and events), each once, as first seen."""
    seals = [s for d in facts.documents for s in d.seals] + [s for e in facts.events for s in e.seals]
    return list(dict.fromkeys(s for s in seals if s.strip()))


def trip_ports(facts: TripFacts) -> list[str]:
    """The UN/LOCODEs the trip passes, in order: the latest document's port of loading, the
    ports of actual LOAD and DISC events by time, the latest document's port of discharge
    (a port repeated in a row counted once)."""
    latest = facts.latest_document()
    ports = [latest.port_of_loading] if latest and latest.port_of_loading else []
    ports += [e.unlocode for e in sorted(facts.events, key=lambda e: e.event_time)
              if e.classifier == "ACT" and e.event_type in ("LOAD", "DISC") and e.unlocode]
    if latest and latest.port_of_discharge:
        ports.append(latest.port_of_discharge)
    return [p for i, p in enumerate(ports) if i == 0 or ports[i - 1] != p]


def passes_route(ports: list[str], route: tuple[str, ...]) -> bool:
    """True when ``ports`` contains every port of ``route`` in that order."""
    i = 0
    for p in ports:
        if i < len(route) and p == route[i]:
            i += 1
    return bool(route) and i == len(route)


def _folded(address: str) -> list[str]:
    """The words of an address in Latin letters (normality's transliteration: "São João" is
    "sao joao", "Straße" "strasse", Cyrillic and Greek romanised), case, punctuation and
    spacing folded. A screening review: letters outside a-z were deleted, so "Rua São João 500"
    never matched "Rua Sao Joao 500", nor a Cyrillic address itself."""
    from normality import ascii_text  # loaded where addresses are matched, not at every start

    # full-width digits as digits, "5ª" as "5a" (NFKC); "建国路88号": the number kept apart from
    # the romanised syllables
    spaced = _BESIDE_DIGITS.sub(" ", unicodedata.normalize("NFKC", address))
    return _numbered(_FOLD.sub(" ", (ascii_text(spaced) or "").lower()).split())


def _numbered(words: list[str]) -> list[str]:
    """``words`` with each number as written in one way: letters before its digits dropped
    ("no32", "n32", "d16": 32, 32, 16), and a single letter after it joined to it ("16 a" is
    "16a"). A regression review: "N°32-16" did not match "No 32-16", nor "д16" "д. 16"."""
    out: list[str] = []
    for w in words:
        if any(c.isdigit() for c in w):
            out.append(w.lstrip("abcdefghijklmnopqrstuvwxyz") or w)
        elif len(w) == 1 and out and out[-1][-1:].isdigit():
            out[-1] += w
        else:
            out.append(w)
    return out


def address_numbers(address: str) -> frozenset[str]:
    """The numbers of an address (house number with its letter, "16a"; postcode...), case and
    punctuation folded: two addresses are the same only when these are (:func:`same_address`).
    A house number with a letter counted as none: "Lenina 16A" matched no address, not even
    itself (a regression review)."""
    return frozenset(t for t in _folded(address) if any(c.isdigit() for c in t))


def same_address(a: str, b: str) -> bool:
    """True when two addresses have the same numbers (house number, postcode; at least one) and
    the same words, give or take spelling (see the module docstring). Without a number an
    address is a street or a city: "Antwerpen" matched every party in Antwerp (a regression
    review), as one set of words holding the other scores 100."""
    ta, tb = _folded(a), _folded(b)
    numbers = address_numbers(a)
    if not ta or not tb or not numbers or numbers != address_numbers(b):
        return False
    words_a = " ".join(t for t in ta if not any(c.isdigit() for c in t))
    words_b = " ".join(t for t in tb if not any(c.isdigit() for c in t))
    return fuzz.token_set_ratio(words_a, words_b) >= ADDRESS_THRESHOLD


def match(facts: TripFacts, kind: str, *, container_number: str = "", seal_from: str = "", seal_to: str = "",
          route: tuple[str, ...] = (), address: str = "") -> WatchHit | None:
    """The trip's match to one entry of ``kind`` container, seal-range, route or address, or None
    (other kinds are screened as names, not here)."""
    if kind == "container" and facts.key.container_number == container_number:
        return WatchHit(kind, container_number, f"container {container_number} is on the watchlist")
    if kind == "seal-range":
        seal = next((s for s in trip_seals(facts) if seal_in_range(s, seal_from, seal_to)), None)
        if seal is not None:
            return WatchHit(kind, seal, f"seal {seal} is in the watched range {seal_from} to {seal_to}")
    if kind == "route":
        ports = trip_ports(facts)
        if passes_route(ports, route):
            return WatchHit(kind, " > ".join(ports), f"the trip passes {' > '.join(route)} (watched route)")
    if kind == "address":
        for party in screened_parties(facts.documents):
            if same_address(party.address, address):
                return WatchHit(kind, party.address, f"the {party.role} {party.name} is at a watched address")
    return None
