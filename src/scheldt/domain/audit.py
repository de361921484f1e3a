"""The kinds of audit-log entry Scheldt writes (pure).

Every act on shared or personal data is appended to the audit log under one of these kinds;
retention (``SCHELDT_AUDIT_RETENTION_DAYS``) is set per kind, so a kind misspelt there would
silently keep its payloads for ever: settings and the log both refuse a kind not listed here.
"""

from __future__ import annotations

#: kind -> what an entry of it records.
AUDIT_KINDS: dict[str, str] = {
    "read": "a user, partner node or command read data (a trip, shared objects, a federation pull)",
    "write": "data or who may do what was changed (an API write, an ingest of shared items, a switch)",
    "denied": "a request refused (forbidden or not found), with who tried what",
    "sign-in": "a user signed in",
    "sign-in-failed": "a sign-in with an unknown username or a wrong password",
    "sign-out": "a user signed out",
    "export": "shared items handed out of Scheldt in a file (MISP export)",
    "notice": "a carrier notice sent, failed or dead-lettered",
    "purge": "audit payloads past their retention were dropped",
}
