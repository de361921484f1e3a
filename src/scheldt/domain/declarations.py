"""Customs import declarations, the parties on them, and inspection outcomes.

A :class:`Declaration` is what a declarant files before the goods are released; an
:class:`InspectionOutcome` is what an inspection of those goods found. They are kept apart
because in production the outcome arrives days after the declaration, and a risk score must
only ever use outcomes received before the moment it scores.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum


#: Longest text accepted per kind of field (characters); longer values are rejected on read.
REF_MAX = 64  # declaration, bill of lading and party references
CODE_MAX = 32  # office, process, import type, tax type and other short codes


class PartyRole(StrEnum):
    """Role a party plays on a declaration (WCO Data Model terms)."""

    DECLARANT = "declarant"  # who files the declaration: the customs broker or the importer itself
    IMPORTER = "importer"  # the consignee that imports the goods
    SELLER = "seller"  # the overseas supplier
    COURIER = "courier"  # express carrier, for express consignments


@dataclass(frozen=True, slots=True)
class Party:
    """A party on a declaration, known by the identifier the declaration gives it.

    ``party_id`` is the identifier as filed (an EORI, a national trader number or, in the
    bundled synthetic data, an anonymised code); ``name`` is empty when only the id is known.
    """

    role: PartyRole
    party_id: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class Flag:
    """A data-quality note on a kept record: well-formed but not in our reference lists.

    ``field`` names the record field, ``code`` is a stable machine code (e.g.
    ``unknown-country``) and ``why`` is a sentence for the officer.
    """

    field: str
    code: str
    why: str


@dataclass(frozen=True, slots=True)
class Declaration:
    """One goods item of an import declaration, as filed.

    Keys: ``declaration_ref`` identifies it (unique per declaring system); ``bill_of_lading_ref``
    and ``container_numbers`` link it to transport documents and container trips when the
    declaration carries them. Units: ``net_mass_kg`` in kilograms; ``value`` is the customs
    value in the declaration's currency (``currency``, ISO 4217, empty when the file does not say);
    ``tax_rate_pct`` in percent. Countries are ISO 3166-1 alpha-2; ``hs_code`` is the Harmonized
    System code as a string of 6 to 10 digits (leading zeros kept). ``filed_at`` is UTC.
    """

    declaration_ref: str
    filed_at: datetime
    hs_code: str
    origin_country: str
    departure_country: str
    net_mass_kg: float
    value: float
    parties: tuple[Party, ...] = ()
    office_code: str = ""
    process_type: str = ""
    import_type: str = ""
    import_use: str = ""
    payment_type: str = ""
    transport_mode: str = ""
    tax_rate_pct: float | None = None
    tax_type: str = ""
    origin_indicator: str = ""
    currency: str = ""
    bill_of_lading_ref: str = ""
    container_numbers: tuple[str, ...] = ()
    flags: tuple[Flag, ...] = field(default=())

    def party(self, role: PartyRole) -> Party | None:
        """The party in ``role``, or None when the declaration names none."""
        for p in self.parties:
            if p.role is role:
                return p
        return None

    def fact_hash(self) -> str:
        """SHA-256 of the declaration's facts (flags excluded): equal facts, equal hash,
        whatever file or envelope they came in."""
        facts = asdict(self)
        facts.pop("flags")
        return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()

    @property
    def duty_value(self) -> float:
        """Duty at stake: value × tax rate / 100 (0 when the rate is unknown), in ``currency``."""
        return self.value * (self.tax_rate_pct or 0.0) / 100.0


@dataclass(frozen=True, slots=True)
class InspectionOutcome:
    """What the inspection of a declaration found, and when that result reached us.

    ``fraud``: the goods did not match the declaration (an irregularity). ``critical``: the
    irregularity threatens safety or security (drugs, weapons, IP, false origin); critical
    implies fraud. ``received_at`` (UTC) decides which scores may use this outcome.
    """

    declaration_ref: str
    fraud: bool
    critical: bool
    received_at: datetime

    def __post_init__(self) -> None:
        if self.critical and not self.fraud:
            raise ValueError(f"outcome {self.declaration_ref}: critical implies fraud")
