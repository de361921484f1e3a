"""Tiny builders for test records (override only what a test is about)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scheldt.domain.declarations import Declaration, InspectionOutcome, Party, PartyRole
from tests.conftest import SHARED


def shift_day(days_ahead: int) -> str:
    """A shift date ``days_ahead`` days after today (UTC) as YYYY-MM-DD: scans are planned
    into shifts that have not ended."""
    return (datetime.now(UTC).date() + timedelta(days=days_ahead)).isoformat()


def declaration(ref: str = "D1", day: int = 1, **overrides: Any) -> Declaration:
    """A declaration filed on 2021-03-<day> UTC; HS 610910 (T-shirts) from CN, 100 kg, value 1000."""
    fields: dict[str, Any] = {
        "declaration_ref": ref,
        "filed_at": datetime(2021, 3, day, tzinfo=UTC),
        "hs_code": "610910",
        "origin_country": "CN",
        "departure_country": "CN",
        "net_mass_kg": 100.0,
        "value": 1000.0,
        "tax_rate_pct": 8.0,
        "tax_type": "A",
        "parties": (Party(PartyRole.IMPORTER, "IMP1"), Party(PartyRole.DECLARANT, "DEC1")),
    }
    fields.update(overrides)
    return Declaration(**fields)


def outcome(ref: str, day: int, fraud: bool = True, critical: bool = False) -> InspectionOutcome:
    """An outcome of ``ref`` received on 2021-03-<day> 00:00 UTC."""
    return InspectionOutcome(ref, fraud, critical, datetime(2021, 3, day, tzinfo=UTC))


#: The real DCSA T&T 3.0 equipment-event sample that dcsa_event varies (where tests.conftest finds ../shared).
_TNT_SAMPLE = SHARED / "fixtures" / "dcsa-tnt" / "tnt-v3.0-notification-equipment-load.json"


def dcsa_event(event_id: str, **changes: object) -> dict[str, object]:
    """The first event of the DCSA T&T 3.0 equipment sample with its ``eventID`` set and fields
    changed: a keyword is a path with ``__`` between keys (``eventLocation__facilityCode``),
    missing parents are created, and a value of None removes the field."""
    e = json.loads(_TNT_SAMPLE.read_text())["events"][0]
    e["eventID"] = event_id
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = e
        for p in parents:
            node = node.setdefault(p, {})
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return e


def broker_declarations(folder: Path, rows: list[str]) -> tuple[Path, Path]:
    """A customs broker's declaration CSV (``rows``: MRN,Date,HS,Origin,Dispatch,Kg,Value,BL,
    Containers) and the YAML mapping that reads it, written in ``folder``: (mapping, csv)."""
    mapping = folder / "broker.yaml"
    mapping.write_text("name: broker\nfields: {declaration_ref: MRN, filed_at: Date, hs_code: HS, origin_country: Origin, "
                       "departure_country: Dispatch, net_mass_kg: Kg, value: Value, bill_of_lading_ref: BL, "
                       "container_numbers: Containers}\n")
    decl = folder / "decl.csv"
    decl.write_text("MRN,Date,HS,Origin,Dispatch,Kg,Value,BL,Containers\n" + "".join(r + "\n" for r in rows))
    return mapping, decl
