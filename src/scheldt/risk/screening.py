"""Party screening: shipper, consignee and notify party names against watchlist entries (pure).

Names are normalised by the ``fingerprints`` library (OpenSanctions/Aleph): transliteration to
ASCII (Cyrillic, Greek, Chinese...), case and punctuation folded, legal forms in many languages
mapped to one short form ("Gesellschaft mit beschränkter Haftung" → "gmbh", "Limited" → "ltd") or
removed. Each name gives two keys: ``full`` (legal forms kept, canonical) and ``core`` (legal
forms removed). Candidates come from an inverted index on core tokens and 4-letter token prefixes
and one-letter deletions (frequent keys, in more than :data:`MAX_TOKEN_SHARE` of entries, are not
used to block unless a name has nothing else); each candidate is scored with rapidfuzz's
token-sort ratio: the better of 0.75 × core + 0.25 × full and the ratio of the names as
spelt (legal forms unfolded), 0-100.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

#: Tokens in more than this share of entries ("trading", "import") do not select candidates alone.
MAX_TOKEN_SHARE = 0.01
#: Default lowest score reported as a match.
DEFAULT_THRESHOLD = 85.0
#: Beginning of the names of the lists that hold the watchlist entries partners share
#: (``shared:<sharing group>``, :mod:`scheldt.workflows.share`); lists loaded from files never.
SHARED_PREFIX = "shared:"


@dataclass(frozen=True, slots=True)
class WatchlistEntry:
    """A name to look for: ``entry_id`` unique within ``list_name``; ``kind`` company, person,
    vessel, address...; ``aliases`` other names of the same entry."""

    list_name: str
    entry_id: str
    name: str
    kind: str = "company"
    aliases: tuple[str, ...] = ()
    address: str = ""
    country: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True)
class Match:
    """A screened name matched to an entry (``matched_name`` is the entry name or alias that
    scored best), score 0-100."""

    query: str
    entry: WatchlistEntry
    matched_name: str
    score: float


@dataclass(frozen=True, slots=True)
class NameKeys:
    """The normalised forms of a name (see the module docstring); ``spelled`` keeps every word
    as written, legal forms unfolded (a misspelt "Internatonal" is not folded to "intl")."""

    full: str
    core: str
    spelled: str


#: Words fingerprints folds with the company types that say what a company does, not its legal
#: form ("Export", "Import", "International", "Enterprise"). Screening leaves them out of a
#: name's core, as the legal forms (a listed "Baze Import Export GmbH" trading as "Baze Import
#: GmbH" is still found: a regression review); a party search keeps them, since "Baze Import
#: GmbH" and "Baze Export SARL" are two companies (a workbench review's search for "Baze Export"
#: listed Baze Import's documents).
TRADE_WORDS = frozenset({"exp", "imp", "intl", "ent"})


#: Legal forms of the South American fruit and coffee routes written out in full that
#: fingerprints' type list does not fold (it reads "sociedad anonima cerrada" as "sa cerrada"),
#: as folded text (Latin letters, lower case) → their abbreviation: Colombia's S.A.S. (Law 1258
#: of 2008), Peru's S.A.C. and S.A.A. (Ley General de Sociedades 26887, arts. 234 and 249),
#: Mexico's S.A. de C.V. A screening review's spelled-out forms scored 82-83, under the
#: threshold, against the listed abbreviations.
SPELLED_FORMS = {"sociedad por acciones simplificada": "sas", "sociedad anonima cerrada": "sac",
                 "sociedad anonima abierta": "saa", "sociedad anonima de capital variable": "sa de cv"}
_SPELLED = re.compile(r"\b(" + "|".join(re.escape(k) for k in SPELLED_FORMS) + r")\b")
#: Abbreviations of :data:`SPELLED_FORMS` that fingerprints' type list lacks.
_EXTRA_FORMS = frozenset({"sac", "saa"})


def _abbreviated(name: str) -> str:
    """``name`` in Latin letters and lower case with :data:`SPELLED_FORMS` abbreviated (the
    name itself when it holds none)."""
    if "sociedad" not in name.casefold():  # every form of the list begins so: most names go no further
        return name
    from normality import ascii_text

    folded = " ".join((ascii_text(name) or "").lower().split())
    return _SPELLED.sub(lambda m: SPELLED_FORMS[m.group(1)], folded) if _SPELLED.search(folded) else name


@lru_cache(maxsize=1)
def _legal_forms() -> frozenset[str]:
    """The one-word canonical company types fingerprints folds names to ("ltd", "gmbh", "sa"...,
    and the :data:`TRADE_WORDS`), and :data:`_EXTRA_FORMS`."""
    import fingerprints
    from fingerprints.types.data import TYPES

    mains = {fingerprints.generate(t["main"]) or "" for t in TYPES["types"]}
    return frozenset(m for m in mains if m and " " not in m) | _EXTRA_FORMS


def is_legal_form(word: str) -> bool:
    """Whether ``word`` (as :func:`name_keys` folds it) is a legal form ("bv", "ltd", "gmbh"...),
    not one of the :data:`TRADE_WORDS`."""
    return word in _legal_forms() and word not in TRADE_WORDS


def search_words(name: str) -> list[str]:
    """The words of ``name`` as :func:`name_keys` folds it, legal forms left out and
    :data:`TRADE_WORDS` kept: what a party search compares."""
    return [w for w in name_keys(name).full.split() if not is_legal_form(w)]


@lru_cache(maxsize=200_000)
def name_keys(name: str) -> NameKeys:
    """Normalised keys of a name; empty strings when nothing is left (e.g. only punctuation)."""
    import fingerprints  # the matching libraries load where names are screened, not at every start

    full = fingerprints.generate(_abbreviated(name)) or ""
    forms = _legal_forms()
    core = " ".join(t for t in full.split() if t not in forms)
    spelled = " ".join(sorted((fingerprints.clean_name_ascii(name) or "").split())) if full else ""
    return NameKeys(full, core or full, spelled)


def warm() -> None:
    """Load the name-matching libraries and build their tables now (about 0.13 s of one core,
    on their first use) rather than when the first name is screened: a server's first envelope
    of watchlist entries paid for it (benchmarks/taxii_load.py's first Add Objects)."""
    name_keys("Scheldt Warm-Up Trading Company Ltd.")


#: Roman numerals ships of a series are told apart by ("MSC ANNA II").
_ROMAN = frozenset({"i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii"})


def name_numbers(name: str) -> frozenset[str]:
    """The numbers in a name, as words: digit runs (leading zeros dropped) and Roman numerals.
    Two vessels whose names differ only in them are two ships of a series (SIM VEGA 41 and SIM
    VEGA 47 scored 91 as names: a regression review's vessel entry matched the wrong ship)."""
    words = re.findall(r"[0-9]+|[^\W\d_]+", name)
    return frozenset((w.lstrip("0") or "0") if w.isdigit() else w.casefold() for w in words
                     if w.isdigit() or w.casefold() in _ROMAN)


def _block_keys(core: str) -> set[str]:
    """Exact tokens; the first and last four letters of long ones (a slip in a word still
    leaves one of the two intact); for a one-word name, every one-letter deletion of it when
    short (a slip still shares one deletion with the right spelling)."""
    tokens = core.split()
    keys = {t for t in tokens if len(t) > 1}
    for t in tokens:
        if len(t) >= 6:
            keys |= {"^" + t[:4], t[-4:] + "$"}
        elif len(t) >= 3 and len(tokens) == 1:
            keys |= {"~" + t[:i] + t[i + 1:] for i in range(len(t))} | {"~" + t}
    return keys


class WatchlistIndex:
    """Entries indexed for screening. Build once per set of entries; :meth:`screen` is read-only."""

    def __init__(self, entries: Iterable[WatchlistEntry]) -> None:
        self.names: list[tuple[WatchlistEntry, str, NameKeys]] = []
        postings: dict[str, list[int]] = defaultdict(list)
        for entry in entries:
            for name in (entry.name, *entry.aliases):
                keys = name_keys(name)
                if not keys.full:
                    continue
                i = len(self.names)
                self.names.append((entry, name, keys))
                for k in _block_keys(keys.core):
                    postings[k].append(i)
        limit = max(50, int(MAX_TOKEN_SHARE * len(self.names)))
        self.postings = dict(postings)
        self.frequent = {k for k, ids in postings.items() if len(ids) > limit}

    def __len__(self) -> int:
        return len(self.names)

    def candidates(self, keys: NameKeys) -> set[int]:
        """Indices of entry names sharing a selective block key with ``keys``."""
        blocks = _block_keys(keys.core)
        selective = blocks - self.frequent or blocks
        out: set[int] = set()
        for k in selective:
            out.update(self.postings.get(k, ()))
        return out

    def screen(self, name: str, threshold: float = DEFAULT_THRESHOLD) -> list[Match]:
        """Entries matching ``name`` at ``threshold`` or above, best first, one per entry."""
        import numpy as np
        from rapidfuzz import fuzz, process

        keys = name_keys(name)
        if not keys.full:
            return []
        best: dict[tuple[str, str], Match] = {}
        cands = sorted(self.candidates(keys))
        if not cands:
            return []
        others = [self.names[i][2] for i in cands]
        core = process.cdist([keys.core], [o.core for o in others], scorer=fuzz.token_sort_ratio, workers=1)[0]
        spelled = process.cdist([keys.spelled], [o.spelled for o in others], scorer=fuzz.token_sort_ratio, workers=1)[0]
        for k in np.flatnonzero((0.75 * core + 25 >= threshold) | (spelled >= threshold)):
            entry, matched, other = self.names[cands[k]]
            score = max(0.75 * float(core[k]) + 0.25 * fuzz.token_sort_ratio(keys.full, other.full), float(spelled[k]))
            if score >= threshold:
                ident = (entry.list_name, entry.entry_id)
                if ident not in best or score > best[ident].score:
                    best[ident] = Match(name, entry, matched, round(score, 1))
        return sorted(best.values(), key=lambda m: (-m.score, m.entry.entry_id))

    def screen_many(self, names: Sequence[str], threshold: float = DEFAULT_THRESHOLD) -> dict[str, list[Match]]:
        """:meth:`screen` for many names (each distinct name screened once)."""
        return {n: self.screen(n, threshold) for n in dict.fromkeys(names)}
