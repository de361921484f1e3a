"""What partner agencies share and who may see it (pure).

Shared items are alerts (a container, consignment, vessel or party of interest, with reasons),
watchlist entries (company, address, container number, seal range, route), seizure reports
and sightings (a partner acted on an alert, and what came of it). Each carries:

* a TLP 2.0 marking (FIRST Traffic Light Protocol 2.0, 2022): CLEAR, GREEN, AMBER,
  AMBER+STRICT, RED;
* a handling code (free text agreed between agencies, e.g. "H1: not for court use");
* a source-reliability and information-credibility evaluation as law-enforcement exchange
  grades it (the 4x4 system of Europol and the UK's 3x5x2 ancestors): source A (completely
  reliable), B (usually reliable), C (not reliable), X (cannot be judged); information
  1 (known to be true without reservation), 2 (known personally to the source), 3 (not known
  personally to the source but corroborated), 4 (cannot be judged);
* a sharing group (organisations it is shared with) and, for RED, named recipients;
* a validity period (UTC).

:func:`may_see` is the one visibility rule; the store runs the same rule as an indexed query
(``scheldt.store.exchange``) for every list, and a test checks both agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache

from scheldt.errors import InputError


class Tlp(StrEnum):
    """TLP 2.0 levels, as the OASIS TLP 2.0 marking definitions name them (``tlp_2_0``)."""

    CLEAR = "clear"
    GREEN = "green"
    AMBER = "amber"
    AMBER_STRICT = "amber+strict"
    RED = "red"


#: OASIS TLP 2.0 STIX marking definitions (oasis-open/cti-stix-common-objects, extension
#: ``extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d``): fixed ids, created
#: 2022-10-01T00:00:00.000Z. The stix2 library ships only TLP 1.0, so we ship these.
TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP_CREATED = "2022-10-01T00:00:00.000Z"
TLP_MARKING_IDS: dict[Tlp, str] = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP_BY_MARKING_ID: dict[str, Tlp] = {v: k for k, v in TLP_MARKING_IDS.items()}
#: Most restrictive last: an object's level is the most restrictive of its markings.
TLP_ORDER = (Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED)

RELIABILITY = ("A", "B", "C", "X")
CREDIBILITY = ("1", "2", "3", "4")
ITEM_KINDS = ("alert", "watchlist-entry", "seizure-report", "sighting")


def tlp_marking_definition(level: Tlp) -> dict[str, object]:
    """The OASIS STIX 2.1 marking-definition object of a TLP 2.0 level (a dict)."""
    name = "TLP:" + level.value.upper()
    return {"type": "marking-definition", "spec_version": "2.1", "id": TLP_MARKING_IDS[level], "created": TLP_CREATED,
            "name": name, "extensions": {TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level.value}}}


def strictest(levels: list[Tlp]) -> Tlp:
    """The most restrictive of ``levels`` (RED over AMBER+STRICT over ... over CLEAR)."""
    if not levels:
        raise InputError("markings", "an item needs a TLP marking")
    return max(levels, key=TLP_ORDER.index)


def parse_tlp(value: str, where: str = "tlp") -> Tlp:
    """A TLP level from ``TLP:AMBER+STRICT``, ``amber+strict`` or ``AMBER_STRICT``. Raises InputError."""
    text = value.strip().lower().removeprefix("tlp:").replace("_", "+")
    try:
        return Tlp(text)
    except ValueError:
        raise InputError(where, f"{value!r} is not a TLP 2.0 level (clear, green, amber, amber+strict, red)") from None


def check_evaluation(reliability: str, credibility: str) -> tuple[str, str]:
    """Validate a source-reliability / information-credibility grade. Raises InputError."""
    if reliability not in RELIABILITY:
        raise InputError("reliability", f"{reliability!r} is not one of {', '.join(RELIABILITY)}")
    if credibility not in CREDIBILITY:
        raise InputError("credibility", f"{credibility!r} is not one of {', '.join(CREDIBILITY)}")
    return reliability, credibility


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asks for shared items: organisation id, its kind (agency / carrier / terminal), the
    organisation it is a client of (for AMBER), the user, the sharing groups the organisation
    is a member of, and whether it asks as a federation peer node (which may fetch RED items
    naming any of its organisation's users, to deliver them to those users only)."""

    organisation_id: str
    kind: str
    client_of: str | None
    username: str
    groups: frozenset[str]
    client_of_groups: frozenset[str] = frozenset()
    peer: bool = False


@dataclass(frozen=True, slots=True)
class Audience:
    """Who an item is for: its originator organisation, TLP level, sharing group (None:
    the community), and RED's named recipients as (organisation id, username) pairs."""

    owner: str
    tlp: Tlp
    group: str | None
    recipients: frozenset[tuple[str, str]] = frozenset()


#: Sharing group prefix of the alerts a watchlist match raises for one agency (no sharing group
#: can be named so).
LOCAL_GROUP = "local:"


def own_item(r: Requester, a: Audience) -> bool:
    """True when the requester's organisation is the item's originator and sees it as such: not
    for a TLP:RED local alert (an agency's alert of a partner's RED watchlist entry, to the
    agency's users the entry names), which only they may read (an exchange review: every user
    of the agency read a US entry's RED case note sent to one Belgian analyst)."""
    return r.organisation_id == a.owner and not (a.tlp == Tlp.RED and (a.group or "").startswith(LOCAL_GROUP))


def may_see(r: Requester, a: Audience) -> bool:
    """TLP 2.0 semantics over Scheldt's organisations:

    * the originator organisation always sees its own items (:func:`own_item`: but for the
      RED alerts raised from a partner's RED entry, which only its named recipients see);
    * CLEAR: everyone; GREEN: the community, i.e. every agency (shipping lines and terminals
      are not in the law-enforcement community);
    * AMBER: the sharing group's member organisations and their clients (organisations whose
      ``client_of`` is a member); AMBER+STRICT: the member organisations only;
    * RED: the named recipients only (a peer node may fetch those naming its own users).
    """
    if own_item(r, a):
        return True
    if a.tlp == Tlp.CLEAR:
        return True
    if a.tlp == Tlp.GREEN:
        return r.kind == "agency"
    if a.tlp in (Tlp.AMBER, Tlp.AMBER_STRICT):
        if a.group is not None and a.group in r.groups:
            return True
        return a.tlp == Tlp.AMBER and a.group is not None and a.group in r.client_of_groups
    return any(org == r.organisation_id and (user == r.username or r.peer) for org, user in a.recipients)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Handling code, source reliability (A/B/C/X), information credibility (1-4), validity (UTC)."""

    handling_code: str
    reliability: str
    credibility: str
    valid_from: datetime
    valid_until: datetime | None = None


#: A STIX timestamp as STIX 2.1 §3.2 writes it: two digits a field, at most six of a fraction.
_PLAIN_STIX_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?[Zz]")


def stix_timestamp(text: str) -> datetime | None:
    """A STIX 2.1 timestamp (§3.2: RFC 3339 in UTC, ``Z``, any sub-second precision, read to
    the microsecond) or another ISO 8601 time with an offset, as an aware UTC datetime; None
    when ``text`` is neither. Object versions are ordered by this (``modified``)."""
    value = str(text).strip()
    if _PLAIN_STIX_TIME.fullmatch(value):  # the common form, read without strptime (a profile of Add
        try:  # Objects found strptime a tenth of the server's time)
            return datetime.fromisoformat(f"{value[:10]}T{value[11:-1]}").replace(tzinfo=UTC)
        except ValueError:  # a day or hour out of range: read below as before
            pass
    if value.endswith(("Z", "z")) and "T" in value.upper():
        head, _, frac = value[:-1].partition(".")
        try:
            t = datetime.strptime(head.upper(), "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            t = None
        if t is not None and (not frac or frac.isdigit()):
            return t.replace(microsecond=int(frac[:6].ljust(6, "0")) if frac else 0, tzinfo=UTC)
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return t.astimezone(UTC) if t.tzinfo else t.replace(tzinfo=UTC)


def version_key(modified: object) -> str:
    """What names an object version among its id's versions: its ``modified`` as the instant
    it stands for (:func:`stix_timestamp`, written ``YYYY-MM-DDTHH:MM:SS.ffffffZ``), or the text
    itself when it is not a timestamp. ``2026-01-01T00:00:00.000Z`` and ``2026-01-01T00:00:00Z``
    are one version (STIX 2.1 §3.6 versions by the ``modified`` timestamp): a TAXII review stored
    both, with other content, and ``match[version]=last`` served two objects for one id."""
    return _version_key(str(modified))


@lru_cache(maxsize=16_384)
def _version_key(text: str) -> str:
    """:func:`version_key` of a text, remembered: an envelope asks for the key of each of its
    versions several times (its status, its de-duplication, its insert), 8 % of a TAXII Add
    Objects request's time when read each time."""
    at = stix_timestamp(text)
    if at is None:
        return text
    if at.year < 1000:  # strftime writes such a year without its zeros
        return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"{at.replace(tzinfo=None).isoformat(timespec='microseconds')}Z"


def has_version(stored: Iterable[tuple[str, str]], modified: object) -> bool:
    """Whether ``stored`` ((owner, modified) of an id's stored versions) holds the version
    ``modified`` names (by :func:`version_key`)."""
    key = version_key(modified)
    return any(version_key(m) == key for _, m in stored)


@dataclass(frozen=True, slots=True)
class VersionFilter:
    """Which versions of each object a list keeps (TAXII ``match[version]``, §3.5.1): the
    ``first`` and/or ``last`` (by ``modified``) among the versions the requester may see in
    the same place (sharing group, or community), and those ``modified`` at one of ``at`` (UTC).
    A version whose ``modified`` is not a timestamp matches none of them."""

    first: bool = False
    last: bool = True
    at: tuple[datetime, ...] = ()


#: The property marking a stored version's content as deleted: what the store keeps of a deleted
#: version is its identity and this (:func:`scheldt.store.exchange.tombstone`).
DELETED_MARK = "x_scheldt_deleted"
