"""The kinds of audit-log entry Scheldt writes (pure).

Every act on shared or personal data is appended to the audit log under one of these kinds;
retention (``SCHELDT_AUDIT_RETENTION_DAYS``) is set per kind, so a kind misspelt there would
silently keep its payloads for ever: settings and the log both refuse a kind not listed here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

#: kind -> what an entry of it records.
AUDIT_KINDS: dict[str, str] = {
    "read": "a user, partner node or command read data (a trip, shared objects, a federation pull)",
    "write": "data or who may do what was changed (an API write, an ingest of shared items, a switch)",
    "denied": ("a request refused (bad input, forbidden, not found, or in conflict with what is stored), "
               "with who tried what"),
    "sign-in": "a user signed in",
    "sign-in-failed": "a sign-in with an unknown username or a wrong password",
    "sign-out": "a user signed out",
    "export": "shared items handed out of Scheldt in a file (MISP export)",
    "notice": "a carrier notice sent, failed or dead-lettered",
    "purge": "audit payloads past their retention were dropped",
}


#: How entries name the credential a request was signed in with.
_CREDENTIAL = re.compile(r"(token|session) [1-9][0-9]*|password")


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """What an oversight officer looks for in the audit log ("who read container X last week",
    "what did user U do"): entries of ``kind``, of ``organisation``, at ``since`` or later and
    before ``until`` (UTC; a time without a zone is read as UTC), whose actor is ``actor``
    (exact), signed in with ``credential`` (exact,
    e.g. ``"token 17"``: what one leaked token did) and whose action, object or details mention
    ``text`` (any case). Empty fields match everything; purged entries match only on
    kind, organisation and time."""

    kind: str = ""
    organisation: str = ""
    since: datetime | None = None
    until: datetime | None = None
    actor: str = ""
    text: str = ""
    credential: str = ""

    def __post_init__(self) -> None:
        for name in ("since", "until"):  # one with a zone, one without was a TypeError (an API 500)
            t = getattr(self, name)
            if t is not None and t.tzinfo is None:
                object.__setattr__(self, name, t.replace(tzinfo=UTC))
        if self.kind and self.kind not in AUDIT_KINDS:
            raise ValueError(f"kind {self.kind!r} is not one of {', '.join(AUDIT_KINDS)}")
        if self.credential and not _CREDENTIAL.fullmatch(self.credential):
            # a typo read as "this token did nothing" (docs review)
            raise ValueError(f"credential {self.credential[:40]!r} is not 'token N', 'session N' or 'password'")
        if self.since and self.until and self.until <= self.since:
            raise ValueError(f"until {self.until.isoformat()} is not after since {self.since.isoformat()}")

    def matches_payload(self, payload: Mapping[str, Any] | None) -> bool:
        """Whether an entry's payload passes the actor and text filters (kind, organisation and
        time are filtered by the store)."""
        if not self.actor and not self.text and not self.credential:
            return True
        if payload is None:
            return False
        if self.actor and payload.get("actor") != self.actor:
            return False
        if self.credential and payload.get("credential") != self.credential:
            return False
        if self.text:
            said = " ".join(str(payload.get(k, "")) for k in ("action", "object_kind", "object_id"))
            said += " " + json.dumps(payload.get("details", {}), default=str, ensure_ascii=False)
            return self.text.casefold() in said.casefold()
        return True


def audit_payload(actor: str, organisation: str, action: str, object_kind: str = "", object_id: str = "",
                  remote_addr: str = "", details: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The payload of one audited act, in the shape every entry uses.

    ``actor``: user name (``system`` for what the node does by itself); ``organisation``: the
    actor's organisation id; ``action``: what was done, e.g. ``"GET /api/v1/trips/5"``;
    ``object_kind``/``object_id``: what it was done to
    (``"trip"``, ``"consignment"``, ``"party"``...; ids as text); ``remote_addr``: the client's IP
    address (or ``"local"`` for the command line); ``details``: anything else (JSON values).
    """
    return {"actor": actor, "organisation": organisation, "action": action, "object_kind": object_kind,
            "object_id": object_id, "remote_addr": remote_addr, "details": dict(details or {})}
