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
  number, postcode; an address without one matches nothing; numbers written together in the
  same order) and the same words give or take
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
_FOUR_DIGITS = re.compile(r"[0-9]{4}")
_COMPASS = frozenset({"ne", "nw", "se", "sw", "no", "so"})
#: Digit counts of the two parts of postcodes written with a dash or space (Brazil's CEP 5+3,
#: Japan 3+4, Portugal 4+3, Poland 2+3, US ZIP+4 5+4).
_POSTCODE_PARTS = frozenset({(5, 3), (3, 4), (4, 3), (2, 3), (5, 4)})
_UK_INWARD = re.compile(r"[0-9][a-z]{2}")
#: Words that only say a number follows ("No. 10", "Nr 5", "Núm. 3"), folded.
_NUMBER_SIGNS = frozenset({"no", "nr", "nro", "num", "numero", "number"})
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
    ("no32", "n32", "d16": 32, 32, 16), a single letter after it joined to it ("16 a" is
    "16a"), as are the two letters after four digits that make a Dutch postcode ("3011 AB" is
    "3011ab"; not a compass direction or letters before another number: "1234 NW 79th Ave"); an
    "n" between two numbers is a number sign, as "N°" reads ("Calle 5 N° 10-20"). A regression
    review: "N°32-16" did not match "No 32-16", nor "д16" "д. 16"."""
    out: list[str] = []
    for i, w in enumerate(words):
        numbered_next = i + 1 < len(words) and any(c.isdigit() for c in words[i + 1])
        after_number = bool(out) and out[-1][-1:].isdigit()
        if any(c.isdigit() for c in w):
            out.append(w.lstrip("abcdefghijklmnopqrstuvwxyz") or w)
        elif w == "n" and after_number and numbered_next:
            continue
        elif after_number and (len(w) == 1 or len(w) == 2 and _FOUR_DIGITS.fullmatch(out[-1]) is not None
                               and w not in _COMPASS and not numbered_next):
            out[-1] += w
        else:
            out.append(w)
    return out


def _postcodes(runs: list[list[str]], from_end: bool = True) -> list[list[str]]:
    """``runs`` with a postcode written in two parts joined into one, as when written without
    its space or dash: two numbers of the digit counts of a postcode (5+3 Brazil, 3+4 Japan,
    4+3 Portugal, 2+3 Poland, 5+4 a US ZIP+4: "01310-100" is "01310100"), or a British outward
    code and the inward code after it ("SW1A 2AA" is "1a2aa", "M1 1AE" "11ae"); joined from the
    end of a run, where a postcode follows the house number (a regression review's "Rua do
    Ouro 235, 1100-062" joined the house number instead), or, ``from_end`` false, from its
    start ("CEP 01310-100, nº 1000")."""
    out = []
    for run in runs:
        joined: list[str] = []
        for n in reversed(run) if from_end else run:
            if joined and (_split_postcode(n, joined[-1]) if from_end else _split_postcode(joined[-1], n)):
                joined[-1] = n + joined[-1] if from_end else joined[-1] + n
            else:
                joined.append(n)
        out.append(joined[::-1] if from_end else joined)
    return out


def _split_postcode(a: str, b: str) -> bool:
    if a.isdigit() and b.isdigit():
        return (len(a), len(b)) in _POSTCODE_PARTS
    # an inward code, not an ordinal ("2, 1st Floor" is not "21st Floor": a regression review)
    return (_UK_INWARD.fullmatch(b) is not None and b[1:] not in ("st", "nd", "rd", "th")
            and (a[-1:].isalpha() or len(a) <= 2))


def _number_runs(words: list[str]) -> list[list[str]]:
    """The numbers of folded address words in runs: numbers with only punctuation, spaces or a
    number sign ("no", "nr") between them are one run, in the order written ("Calle 5 #10-20":
    one run 5, 10, 20)."""
    runs: list[list[str]] = [[]]
    for w in words:
        if any(c.isdigit() for c in w):
            runs[-1].append(w)
        elif w not in _NUMBER_SIGNS and runs[-1]:
            runs.append([])
    return [r for r in runs if r]


def _ordered_pairs(runs: list[list[str]]) -> set[tuple[str, str]]:
    """(x, y) for every two different numbers of a run with x written before y (``runs`` as
    :func:`_counted` makes them)."""
    return {(r[i], r[j]) for r in runs for i in range(len(r)) for j in range(i + 1, len(r)) if r[i] != r[j]}


def _same_numbers(words_a: list[str], words_b: list[str]) -> bool:
    """True when two addresses' numbers are the same (at least one): the same numbers, any two
    of them written together in the same order in both ("Calle 5 #10-20" is not "Calle 10
    #5-20", a screening review: Colombian street, cross street and house numbers compared as a
    set matched another block of the same city), or so once the postcodes are written without
    their space or dash in both (:func:`_postcodes`). Numbers are never joined otherwise:
    "Calle 12 # 34-56" is not "Calle 123 4-56" (a regression review)."""
    runs_a, runs_b = _number_runs(words_a), _number_runs(words_b)
    return _agree(runs_a, runs_b) or any(_agree(_postcodes(runs_a, end), _postcodes(runs_b, end))
                                         for end in (True, False))


def _agree(runs_a: list[list[str]], runs_b: list[list[str]]) -> bool:
    numbers_a = sorted(n for r in runs_a for n in r)
    if not numbers_a or numbers_a != sorted(n for r in runs_b for n in r):
        return False
    pairs_b = _ordered_pairs(_counted(runs_b))
    return not any((y, x) in pairs_b for x, y in _ordered_pairs(_counted(runs_a)))


def _counted(runs: list[list[str]]) -> list[list[str]]:
    """``runs`` with each number told from its repeats in its run by the count of its
    occurrences so far ("Calle 26 # 13-26": 26, 13, 26#2), so that an address repeating a
    number matches itself and not the same numbers in another order (regression reviews:
    "Calle 26 # 13-26" matched nothing, then "Calle 5 # 10-10" matched "Calle 10 # 5-10"; counted
    over the address, "Apto 10, Calle 5 # 10-20" matched "Calle 10 # 5-20 Apto 10")."""
    out = []
    for run in runs:
        seen: dict[str, int] = {}
        out.append([])
        for n in run:
            seen[n] = seen.get(n, 0) + 1
            out[-1].append(n if seen[n] == 1 else f"{n}#{seen[n]}")
    return out


def address_numbers(address: str) -> str:
    """The digits of an address's numbers (house number, postcode...) in sorted order, e.g.
    "16a, 2030" gives "01236": two addresses with other digits are never the same
    (:func:`same_address`), so this is a key to find the watched addresses that may be. A house
    number with a letter counted as none: "Lenina 16A" matched no address, not even itself (a
    regression review)."""
    return "".join(sorted(c for c in "".join(_folded(address)) if c.isdigit()))


def same_address(a: str, b: str) -> bool:
    """True when two addresses have the same numbers (house number, postcode; at least one;
    :func:`_same_numbers`) and the same words, give or take spelling (see the module
    docstring). Without a number an address is a street or a city: "Antwerpen" matched every
    party in Antwerp (a regression review), as one set of words holding the other scores 100."""
    ta, tb = _folded(a), _folded(b)
    if not _same_numbers(ta, tb):
        return False
    words_a = " ".join(t for t in ta if not any(c.isdigit() for c in t) and t not in _NUMBER_SIGNS)
    words_b = " ".join(t for t in tb if not any(c.isdigit() for c in t) and t not in _NUMBER_SIGNS)
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
