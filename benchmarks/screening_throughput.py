"""Party screening: 100,000 watchlist entries against a day's parties (35,000 names), 2 cores.

Entries and parties are generated (pseudo-words from syllables, legal forms of several
countries); 1,000 of the parties are planted variants of entries: a spelling slip, another
way of writing the legal form, the name in Cyrillic, or the words in another order. Reported:
index build time, screening time, recall on the planted variants, matches among the other
parties, and beside it the same in-run baseline: rapidfuzz ``process.cdist`` over all pairs
(workers=2) timed on a sample of parties and scaled to all of them.

Goal (issue 4): <= 30 s for 100,000 entries x 35,000 names; recall >= 0.95 on the variants.
Usage: python benchmarks/screening_throughput.py [--entries 100000] [--names 35000] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import time

from _common import THREADS
from rapidfuzz import fuzz, process

from scheldt.risk.screening import WatchlistEntry, WatchlistIndex, name_keys

SYLLABLES = [c + v for c in "bcdfgklmnprstvz" for v in "aeiou"] + ["tra", "gra", "ber", "lin", "mar", "sol", "nor"]
WORDS = ["trading", "import", "export", "logistics", "fruit", "shipping", "global", "international", "holding",
         "agro", "marine", "pacific", "atlantic", "group", "services", "industrial", "fresh", "coffee", "cargo"]
FORMS = [("Ltd", "Limited"), ("GmbH", "Gesellschaft mit beschränkter Haftung"), ("S.A.", "Sociedad Anonima"),
         ("BV", "B.V."), ("NV", "Naamloze Vennootschap"), ("LLC", "L.L.C."), ("SARL", "S.à r.l."), ("OOO", "ООО")]
CYRILLIC = {"a": "а", "b": "б", "v": "в", "g": "г", "d": "д", "e": "е", "z": "з", "i": "и", "k": "к", "l": "л",
            "m": "м", "n": "н", "o": "о", "p": "п", "r": "р", "s": "с", "t": "т", "u": "у", "f": "ф", "c": "ц"}


def word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def company(rng: random.Random) -> tuple[str, int]:
    parts = [word(rng) for _ in range(rng.randint(1, 3))] + [w.capitalize() for w in rng.sample(WORDS, rng.randint(0, 2))]
    form = rng.randrange(len(FORMS))
    return " ".join(parts) + " " + FORMS[form][0], form


def variant(name: str, form: int, kind: str, rng: random.Random) -> str:
    base = name.rsplit(" ", 1)[0]
    if kind == "spelling":
        words = base.split()
        i = max(range(len(words)), key=lambda k: len(words[k]))
        w = words[i]
        j = rng.randrange(1, len(w) - 1)
        words[i] = w[:j] + w[j + 1:] if rng.random() < 0.5 else w[:j] + w[j] + w[j:]
        return " ".join(words) + " " + FORMS[form][0]
    if kind == "legal":
        return base + " " + FORMS[form][1]
    if kind == "cyrillic":
        return "".join(CYRILLIC.get(ch, ch) for ch in base.lower()) + " " + FORMS[form][0]
    words = base.split()
    rng.shuffle(words)
    return " ".join(words) + " " + FORMS[form][0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--names", type=int, default=35_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    listed = [company(rng) for _ in range(args.entries)]
    entries = [WatchlistEntry("bench", f"e{i}", n) for i, (n, _) in enumerate(listed)]
    planted = []
    for k, i in enumerate(rng.sample(range(args.entries), 1000)):
        kind = ("spelling", "legal", "cyrillic", "order")[k % 4]
        planted.append((variant(listed[i][0], listed[i][1], kind, rng), f"e{i}", kind))
    others = [company(rng)[0] for _ in range(args.names - len(planted))]
    names = [p[0] for p in planted] + others

    t = time.perf_counter()
    index = WatchlistIndex(entries)
    build = time.perf_counter() - t
    t = time.perf_counter()
    results = index.screen_many(names)
    screen = time.perf_counter() - t
    by_kind: dict[str, list[bool]] = {}
    for text, entry_id, kind in planted:
        by_kind.setdefault(kind, []).append(any(m.entry.entry_id == entry_id for m in results[text]))
    found = sum(sum(v) for v in by_kind.values())
    other_hits = sum(1 for n in others if results[n])
    print(f"{len(entries):,} entries, {len(names):,} party names (1,000 planted variants), {THREADS} cores")
    print(f"Scheldt: index {build:.1f} s + screening {screen:.1f} s = {build + screen:.1f} s (goal <= 30 s)")
    print(f"recall on planted variants {found / len(planted):.3f} (goal >= 0.95): "
          + ", ".join(f"{k} {sum(v) / len(v):.3f}" for k, v in by_kind.items()))
    print(f"other parties with a match >= 85: {other_hits} of {len(others):,}")

    sample = names[:300]
    keys_e = [name_keys(e.name).core for e in entries]
    t = time.perf_counter()
    process.cdist([name_keys(n).core for n in sample], keys_e, scorer=fuzz.token_sort_ratio, score_cutoff=85,
                  workers=THREADS, dtype="uint8")
    brute = (time.perf_counter() - t) * len(names) / len(sample)
    print(f"baseline: exhaustive rapidfuzz cdist, {THREADS} workers, scaled from {len(sample)} names: {brute:.0f} s; "
          f"ratio Scheldt / baseline {(build + screen) / brute:.3f}")


if __name__ == "__main__":
    main()
