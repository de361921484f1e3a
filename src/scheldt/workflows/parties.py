"""Finding a party (shipper, consignee, notify party) as an officer types its name."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any

import fingerprints

from scheldt.domain.access import OrgKind, Principal
from scheldt.domain.facts import name_key
from scheldt.errors import ForbiddenError, InputError
from scheldt.risk.screening import name_keys, search_words
from scheldt.workflows.ports import UnitOfWork

#: Most document versions returned for one search.
MAX_HITS = 500


def _owned_only(uow: UnitOfWork, scope: Any, named: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The versions in ``named`` (as :func:`documents_naming` gives them) that list a container
    of a trip ``scope`` owns under the same reference: another carrier's document may carry the
    same reference (booking numbers collide), and its parties are not the requester's."""
    pairs = uow.container_trips.owned_pairs(scope, sorted({d["document_ref"] for d in named}))
    boxes = uow.documents.containers_of([d["document_id"] for d in named])
    return [d for d in named if any((d["document_ref"], c) in pairs for c in boxes.get(d["document_id"], ()))]


def refuse_terminal(principal: Principal) -> None:
    """Refuse a terminal the search of parties: it handles every line's boxes, and who ships to
    whom is the lines' business (:data:`scheldt.workflows.trip_views.COMMERCIAL_FIELDS`; a
    carrier review's terminal searched a consignee across lines). Raises ForbiddenError."""
    if principal.organisation.kind == OrgKind.TERMINAL:
        raise ForbiddenError("parties", "a terminal reads the boxes, voyages, seals and holds of its trips, not the "
                             "lines' shippers, consignees or goods")


def documents_naming(uow: UnitOfWork, name: str, scope: Any, where: str = "name") -> tuple[str, list[dict[str, Any]]]:
    """(the folded name searched for, the document versions naming a matching party that list a
    container of a trip ``scope`` (a TripScope) owns under their reference, newest first; at
    most :data:`MAX_HITS`). Names are compared as party screening folds them (case, accents,
    punctuation and legal forms: "Zaba Export B.V." is "zaba export"), in any word order, and
    the beginning of each word is enough ("Zaba" and "zaba exp" find "Zaba Export BV"). The
    stored names looked at are those with a word beginning with the first word typed that is no
    legal form, in lower case, as typed or folded (so a stored "Zába" is found by "zába" but not
    by "zaba"), in any place: "Rossi Ortofrutta" finds "Ortofrutta Rossi SRL" and
    "Rossi-Ortofrutta", "Baltiyskiy" and "OOO Baltiyskiy" find 'OOO "Baltiyskiy Frukt"' (reviews found
    only names beginning with the first word, then none after punctuation). The limit counts the
    requester's versions only: a shipping line searching a common name found nothing when the
    newest 500 versions naming it were other lines'. Raises InputError naming ``where`` when
    nothing is left of the name once folded."""
    wanted = search_words(name)
    typed = (fingerprints.clean_name_ascii(name) or "").split()
    if not wanted or not typed:
        raise InputError(where, "nothing is left of the name once legal forms and punctuation are removed")
    # the first word typed that is no legal form ("OOO Baltiyskiy" looks for "baltiyskiy": regression
    # review), as typed in Latin letters and as name_key keeps it (accents)
    keyed = [w.strip(",.;:()\"'«»") for w in name_key(name).split()]
    prefixes = {next((w for w in words if search_words(w)), words[0] if words else "")
                for words in (typed, keyed)} - {""}
    matching = (d for d in _candidates(uow, prefixes)
                if all(any(w.startswith(q) for w in _stored_words(d["name_key"])) for q in wanted))
    hits: list[dict[str, Any]] = []
    while len(hits) < MAX_HITS and (chunk := list(islice(matching, MAX_HITS))):
        hits += _owned_only(uow, scope, chunk)
    return " ".join(wanted), _as_written(uow, hits[:MAX_HITS])


def _as_written(uow: UnitOfWork, hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``hits`` each with ``name``: the party's name as its document writes it (a web review
    read the folded key, "pivecu trading sarl", and could not tell which spellings were used)."""
    written = uow.documents.parties_of([h["document_id"] for h in hits])
    return [h | {"name": next((n for role, n in written.get(h["document_id"], ())
                               if role == h["role"] and name_key(n) == h["name_key"]), h["name_key"])}
            for h in hits]


def _stored_words(stored: str) -> list[str]:
    """The words a stored name is matched on: folded as typed names are (:func:`search_words`),
    and as written (a word being typed is not folded yet: "Baze Impo" found nothing of "Baze
    Import GmbH", folded to "imp": a regression review)."""
    return search_words(stored) + name_keys(stored).spelled.split()


def _candidates(uow: UnitOfWork, prefixes: set[str]) -> Iterator[dict[str, Any]]:
    """The stored party names with a word beginning with any of ``prefixes``, newest first,
    each party of each document version once (two lines' versions of one colliding reference,
    received at the same time, were taken for one and a line lost its hit: regression review)."""
    yield from uow.documents.naming(sorted(prefixes))
