"""fact_digest: SHA-256 of canonical JSON (keys sorted at every level; dataclasses as objects,
tuples as arrays, datetimes as RFC 3339), the same for a dataclass tree and its plain form."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from scheldt.domain.facts import fact_digest, json_bytes, plain
from scheldt.domain.shipping import DocumentReference, Location, Seal


def test_fact_digest_exact_value() -> None:
    facts = {"z": (Seal("S1", "CUS"),), "event_time": datetime(2026, 1, 20, 14, 15, tzinfo=UTC),
             "location": Location("NLRTM", latitude=51.9), "documents": [DocumentReference("BKG", "B1")],
             "empty": None}
    canonical = (b'{"documents":[{"kind":"BKG","value":"B1"}],"empty":null,"event_time":"2026-01-20T14:15:00+00:00",'
                 b'"location":{"facility_code":"","latitude":51.9,"longitude":null,"name":"","unlocode":"NLRTM"},'
                 b'"z":[{"number":"S1","seal_type":"","source":"CUS"}]}')
    assert json_bytes(facts, sort_keys=True) == canonical
    assert fact_digest(facts) == hashlib.sha256(canonical).hexdigest()
    assert fact_digest(plain(facts)) == fact_digest(facts)
