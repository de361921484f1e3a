"""SQLAlchemy 2 ORM models of the store. Schema changes go through Alembic migrations.

Natural keys are the facts' own identifiers (``declaration_ref``), so re-sending the same facts
from any file finds the row that is already there.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from scheldt.domain.declarations import CODE_MAX, REF_MAX

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


UtcDateTime = DateTime(timezone=True)


class DeclarationRow(Base):
    """One goods item of an import declaration (see domain.declarations.Declaration)."""

    __tablename__ = "declaration"
    declaration_ref: Mapped[str] = mapped_column(String(REF_MAX), primary_key=True)
    filed_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    hs_code: Mapped[str] = mapped_column(String(10), index=True)
    origin_country: Mapped[str] = mapped_column(String(2))
    departure_country: Mapped[str] = mapped_column(String(2))
    net_mass_kg: Mapped[float] = mapped_column(Float)
    value: Mapped[float] = mapped_column(Float)
    currency: Mapped[str] = mapped_column(String(3), default="")
    office_code: Mapped[str] = mapped_column(String(CODE_MAX), default="")
    process_type: Mapped[str] = mapped_column(String(CODE_MAX), default="")
    import_type: Mapped[str] = mapped_column(String(CODE_MAX), default="")
    import_use: Mapped[str] = mapped_column(String(CODE_MAX), default="")
    payment_type: Mapped[str] = mapped_column(String(CODE_MAX), default="")
    transport_mode: Mapped[str] = mapped_column(String(CODE_MAX), default="")
    tax_rate_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    tax_type: Mapped[str] = mapped_column(String(CODE_MAX), default="")
    origin_indicator: Mapped[str] = mapped_column(String(CODE_MAX), default="")
    bill_of_lading_ref: Mapped[str] = mapped_column(String(REF_MAX), default="", index=True)
    container_numbers: Mapped[str] = mapped_column(Text, default="")  # space-separated
    flags: Mapped[list] = mapped_column(JSON, default=list)
    content_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)  # file:line of first receipt
    supplied_by: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DeclarationPartyRow(Base):
    """A party on a declaration in one role (declarant, importer, seller, courier)."""

    __tablename__ = "declaration_party"
    declaration_ref: Mapped[str] = mapped_column(
        ForeignKey("declaration.declaration_ref", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    party_id: Mapped[str] = mapped_column(String(REF_MAX), index=True)
    name: Mapped[str] = mapped_column(Text, default="")


class InspectionOutcomeRow(Base):
    """What the inspection of a declaration found, and when the result was received."""

    __tablename__ = "inspection_outcome"
    declaration_ref: Mapped[str] = mapped_column(
        ForeignKey("declaration.declaration_ref", ondelete="CASCADE"), primary_key=True
    )
    fraud: Mapped[bool] = mapped_column(Boolean)
    critical: Mapped[bool] = mapped_column(Boolean)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    source: Mapped[str] = mapped_column(Text)
    supplied_by: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class QuarantineRow(Base):
    """A rejected record: where it was, which field, why, and the record as received."""

    __tablename__ = "quarantine"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(Text)  # file:line
    field: Mapped[str] = mapped_column(String(64))
    why: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class ModelVersionRow(Base):
    """A trained model artefact registered in the store; at most one live per target."""

    __tablename__ = "model_version"
    version: Mapped[str] = mapped_column(String(80), primary_key=True)
    target: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    artefact_path: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    feature_contract: Mapped[str] = mapped_column(String(64))
    metrics: Mapped[dict] = mapped_column(JSON)
    live: Mapped[bool] = mapped_column(Boolean, default=False)


class ModelActivationRow(Base):
    """Which model version went live for its target when, by whom and why: ``train`` (trained
    and made live), ``activate`` (an earlier version switched back on by hand) or ``rollback``
    (append-only; the latest row of a target rules, as ``model_version.live`` shows)."""

    __tablename__ = "model_activation"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    target: Mapped[str] = mapped_column(String(16))
    version: Mapped[str] = mapped_column(ForeignKey("model_version.version"))
    action: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class RiskAssessmentRow(Base):
    """One score of one declaration by one model version, with its rank in that scoring run."""

    __tablename__ = "risk_assessment"
    __table_args__ = (
        UniqueConstraint("declaration_ref", "model_version"),
        Index("ix_risk_assessment_run", "run_id", "rank"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    declaration_ref: Mapped[str] = mapped_column(
        ForeignKey("declaration.declaration_ref", ondelete="CASCADE")
    )
    model_version: Mapped[str] = mapped_column(ForeignKey("model_version.version"))
    target: Mapped[str] = mapped_column(String(16))
    probability: Mapped[float] = mapped_column(Float)
    rank: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[str] = mapped_column(String(40))
    scored_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class ShippingEventRow(Base):
    """One Track & Trace event (equipment, transport, shipment, IoT, reefer) as received.

    Keyed on the publisher's event id per supplying organisation, so a re-sent event adds
    nothing; a retraction marks the event it withdraws (``retracted_by``, received at
    ``retracted_at``; None for those retracted before migration 0026) and never deletes it.
    """

    __tablename__ = "shipping_event"
    __table_args__ = (
        UniqueConstraint("supplied_by", "event_id"),
        Index("ix_shipping_event_container_time", "container_number", "event_time"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(100))
    fact_hash: Mapped[str] = mapped_column(String(64))  # the event's facts, to tell a re-send from a clash
    kind: Mapped[str] = mapped_column(String(16))  # EQUIPMENT, TRANSPORT, SHIPMENT, IOT, REEFER
    event_type: Mapped[str] = mapped_column(String(16))  # LOAD, ARRI, CONF, ...
    classifier: Mapped[str] = mapped_column(String(16))  # PLN, EST, ACT
    event_time: Mapped[datetime] = mapped_column(UtcDateTime)
    created_time: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    container_number: Mapped[str] = mapped_column(String(REF_MAX), default="")
    booking_ref: Mapped[str] = mapped_column(String(REF_MAX), default="", index=True)
    transport_document_ref: Mapped[str] = mapped_column(String(REF_MAX), default="", index=True)
    unlocode: Mapped[str] = mapped_column(String(REF_MAX), default="")
    facility_code: Mapped[str] = mapped_column(String(REF_MAX), default="")
    vessel_imo: Mapped[str] = mapped_column(String(REF_MAX), default="", index=True)
    vessel_name: Mapped[str] = mapped_column(String(REF_MAX * 2), default="")
    export_voyage: Mapped[str] = mapped_column(String(REF_MAX), default="")
    import_voyage: Mapped[str] = mapped_column(String(REF_MAX), default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)  # seals, documents, readings, call
    flags: Mapped[list] = mapped_column(JSON, default=list)
    retracted_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    retracted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True, index=True)
    source: Mapped[str] = mapped_column(Text)
    supplied_by: Mapped[str] = mapped_column(String(REF_MAX))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class VesselPositionRow(Base):
    """An AIS position report (or a decoded-feed row); one row per fact and supplier."""

    __tablename__ = "vessel_position"
    __table_args__ = (
        UniqueConstraint("supplied_by", "fact_key"),
        Index("ix_vessel_position_mmsi_time", "mmsi", "observed_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    fact_key: Mapped[str] = mapped_column(String(64))
    mmsi: Mapped[str] = mapped_column(String(16), default="")
    vessel_id: Mapped[str] = mapped_column(String(REF_MAX), default="")
    observed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    speed_knots: Mapped[float | None] = mapped_column(Float, nullable=True)
    course_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    heading_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    nav_status: Mapped[str] = mapped_column(String(REF_MAX), default="")
    flags: Mapped[list] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(Text)
    supplied_by: Mapped[str] = mapped_column(String(REF_MAX))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class VesselSightingRow(Base):
    """What a vessel said it is (AIS static data): MMSI with IMO number, call sign and name."""

    __tablename__ = "vessel_sighting"
    __table_args__ = (UniqueConstraint("supplied_by", "mmsi", "imo", "call_sign", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    mmsi: Mapped[str] = mapped_column(String(16), index=True)
    imo: Mapped[str] = mapped_column(String(REF_MAX), default="", index=True)
    call_sign: Mapped[str] = mapped_column(String(REF_MAX), default="")
    name: Mapped[str] = mapped_column(String(REF_MAX * 2), default="")
    observed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    flags: Mapped[list] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(Text)
    supplied_by: Mapped[str] = mapped_column(String(REF_MAX))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TransportDocumentRow(Base):
    """One version of a booking, shipping instructions, transport document (bill of lading) or
    arrival notice. An amended document is a new row with its own received time; re-sending an
    unchanged version adds nothing."""

    __tablename__ = "transport_document"
    __table_args__ = (
        UniqueConstraint("supplied_by", "document_type", "document_ref", "version_hash"),
        Index("ix_transport_document_ref", "document_ref"),
        Index("ix_transport_document_booking", "booking_ref"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_type: Mapped[str] = mapped_column(String(8))
    document_ref: Mapped[str] = mapped_column(String(REF_MAX * 2), default="")
    booking_ref: Mapped[str] = mapped_column(String(REF_MAX * 2), default="")
    version_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(REF_MAX), default="")
    to_order: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    freight_payment: Mapped[str] = mapped_column(String(16), default="")
    carrier_code: Mapped[str] = mapped_column(String(REF_MAX), default="")
    port_of_loading: Mapped[str] = mapped_column(String(REF_MAX), default="")
    port_of_discharge: Mapped[str] = mapped_column(String(REF_MAX), default="")
    vessel_imo: Mapped[str] = mapped_column(String(REF_MAX), default="")
    vessel_name: Mapped[str] = mapped_column(String(REF_MAX * 2), default="")
    voyage: Mapped[str] = mapped_column(String(REF_MAX), default="")
    #: The document's other voyages (Consignment.other_voyages); NULL on versions stored
    #: before migration 0028, which kept the first voyage only.
    other_voyages: Mapped[list | None] = mapped_column(JSON, nullable=True)
    parties: Mapped[list] = mapped_column(JSON, default=list)
    goods: Mapped[list] = mapped_column(JSON, default=list)
    containers: Mapped[list] = mapped_column(JSON, default=list)
    flags: Mapped[list] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(Text)
    supplied_by: Mapped[str] = mapped_column(String(REF_MAX))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    #: Which revision of the readers read this version (:data:`scheldt.store.documents.READER_REVISION`;
    #: 0 for versions stored before migration 0038).
    reader_revision: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    #: What an earlier reader stored of this version when it was read again by corrected readers
    #: (its content columns), NULL otherwise (:meth:`DocumentRepository._read_again`).
    first_reading: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    #: When it was read again so (UTC), NULL otherwise: its boxes are scored again then.
    read_again_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class DocumentContainerRow(Base):
    """A container listed on a transport document version (links documents to container trips)."""

    __tablename__ = "document_container"
    document_id: Mapped[int] = mapped_column(ForeignKey("transport_document.id", ondelete="CASCADE"), primary_key=True)
    container_number: Mapped[str] = mapped_column(String(REF_MAX), primary_key=True, index=True)


class RiskProfileRow(Base):
    """One version of a risk profile, as its YAML text (never changed once stored)."""

    __tablename__ = "risk_profile"
    __table_args__ = (UniqueConstraint("name", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(32))
    owner: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)  # the YAML text
    digest: Mapped[str] = mapped_column(String(64))
    stored_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ProfileActivationRow(Base):
    """Which profile version went live when, by whom and why (append-only; the latest row rules)."""

    __tablename__ = "profile_activation"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("risk_profile.id"))
    action: Mapped[str] = mapped_column(String(16))  # activate, rollback
    actor: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class TripAssessmentRow(Base):
    """A container trip's score under one profile and model version, with the facts it was
    computed from (JSON), so it can be recomputed; every re-score is a new row (history)."""

    __tablename__ = "trip_assessment"
    __table_args__ = (
        UniqueConstraint("container_number", "document_ref", "voyage", "profile", "model_version", "facts_hash"),
        Index("ix_trip_assessment_trip", "container_number", "document_ref", "voyage", "scored_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    container_number: Mapped[str] = mapped_column(String(REF_MAX))
    document_ref: Mapped[str] = mapped_column(String(128))
    voyage: Mapped[str] = mapped_column(String(REF_MAX))
    profile: Mapped[str] = mapped_column(String(100))  # name@version
    model_version: Mapped[str] = mapped_column(String(100), default="")  # "" when no container model is live
    score: Mapped[float] = mapped_column(Float)
    profile_points: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list] = mapped_column(JSON)
    facts: Mapped[dict] = mapped_column(JSON)
    facts_hash: Mapped[str] = mapped_column(String(64))
    scored_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class DocumentPartyRow(Base):
    """A party named on a transport document version, by normalised name (for party history):
    when the version was received and when the document says it was issued (UTC)."""

    __tablename__ = "document_party"
    __table_args__ = (Index("ix_document_party_name", "role", "name_key", "received_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("transport_document.id"))
    document_ref: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(64))
    name_key: Mapped[str] = mapped_column(String(256))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class WatchlistEntryRow(Base):
    """A watchlist entry (company, person, vessel, address) one organisation supplied; party
    screening reads these, and shared entries from partner agencies land here too."""

    __tablename__ = "watchlist_entry"
    __table_args__ = (UniqueConstraint("list_name", "entry_id", "supplied_by"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    list_name: Mapped[str] = mapped_column(String(128))
    entry_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(500))
    aliases: Mapped[list] = mapped_column(JSON, default=list)
    address: Mapped[str] = mapped_column(Text, default="")
    country: Mapped[str] = mapped_column(String(64), default="")
    fact_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    supplied_by: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TripOutcomeRow(Base):
    """A recorded inspection outcome of a container trip (the inspection workflow writes these;
    the simulator's ground truth can be loaded as such for demos and backtests)."""

    __tablename__ = "trip_outcome"
    __table_args__ = (UniqueConstraint("container_number", "document_ref", "voyage", "source_kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    container_number: Mapped[str] = mapped_column(String(REF_MAX))
    document_ref: Mapped[str] = mapped_column(String(128))
    voyage: Mapped[str] = mapped_column(String(REF_MAX))
    inspected: Mapped[bool] = mapped_column(Boolean)
    seizure: Mapped[bool] = mapped_column(Boolean)
    source_kind: Mapped[str] = mapped_column(String(32))  # inspection, simulated-inspection, simulated-truth
    source: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


# --- The service (issue 5): organisations, users, the trip read model, inspections, audit, jobs ---


class OrganisationRow(Base):
    """An agency or company using Scheldt. ``kind`` agency / carrier / terminal; what is its own
    is defined by codes: a carrier's SMDG liner codes and SCACs (``carrier_codes``), a terminal's
    SMDG terminal codes (``terminal_codes``); an agency owns the facts it supplied (its id)."""

    __tablename__ = "organisation"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    carrier_codes: Mapped[list] = mapped_column(JSON, default=list)
    terminal_codes: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The organisation this one is a client of (TLP:AMBER reaches recipients and their clients).
    client_of: Mapped[str | None] = mapped_column(String(64), nullable=True)


class UserRow(Base):
    """A person (or a machine account) of an organisation, with roles and an argon2 password hash."""

    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    roles: Mapped[list] = mapped_column(JSON, default=list)
    password_hash: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The organisation whose administrator disabled the user (None: enabled, or disabled on the
    # command line or before this was kept); only it enables the user again.
    disabled_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class CredentialRow(Base):
    """A sign-in session (``kind`` session) or a machine API token (``kind`` token), stored as the
    SHA-256 of the secret only; both expire, tokens may also be revoked."""

    __tablename__ = "credential"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ContainerTripRow(Base):
    """The current picture of one container trip, kept by scoring (a read model): its owners'
    codes for access checks, route, latest score and inspection state. The risk queue and the
    API's lists page through this table by (score, id) with one index per kind of owner."""

    __tablename__ = "container_trip"
    __table_args__ = (
        UniqueConstraint("container_number", "document_ref", "voyage"),
        Index("ix_container_trip_queue", "score", "id"),
        Index("ix_container_trip_carrier", "carrier_code", "score", "id"),
        Index("ix_container_trip_terminal", "terminal_code", "score", "id"),
        Index("ix_container_trip_agency", "supplied_by", "score", "id"),
        # Shipping lines and terminals page their trips by id: the risk order is customs' own.
        Index("ix_container_trip_carrier_id", "carrier_code", "id"),
        Index("ix_container_trip_terminal_id", "terminal_code", "id"),
        Index("ix_container_trip_carrier_port_id", "carrier_code", "port_of_loading", "id"),
        Index("ix_container_trip_terminal_port_id", "terminal_code", "port_of_loading", "id"),
        Index("ix_container_trip_agency_band", "supplied_by", "risk_band", "score", "id"),
        Index("ix_container_trip_agency_port", "supplied_by", "port_of_loading", "score", "id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    container_number: Mapped[str] = mapped_column(String(REF_MAX), index=True)
    document_ref: Mapped[str] = mapped_column(String(128))
    voyage: Mapped[str] = mapped_column(String(REF_MAX))
    carrier_code: Mapped[str] = mapped_column(String(REF_MAX), default="")
    terminal_code: Mapped[str] = mapped_column(String(REF_MAX), default="")
    supplied_by: Mapped[str] = mapped_column(String(REF_MAX), default="")
    port_of_loading: Mapped[str] = mapped_column(String(REF_MAX), default="")
    port_of_discharge: Mapped[str] = mapped_column(String(REF_MAX), default="")
    vessel_imo: Mapped[str] = mapped_column(String(REF_MAX), default="")
    arrival_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # When the box left the port after discharge (gate-out or onward load); None: still there or at sea.
    left_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    assessment_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    risk_band: Mapped[str] = mapped_column(String(8), default="low")
    top_reason: Mapped[str] = mapped_column(Text, default="")
    scored_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    on_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    # When scoring found the container's events no longer make this trip (regrouped: a gate-out
    # placed on its trip once the discharge arrived, a retracted event that decided a key); None:
    # a trip its events make. Marked trips keep their id and leave the lists (migration 0027).
    regrouped_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ScannerRow(Base):
    """A non-intrusive inspection (NII) scanner and how many containers it scans per shift."""

    __tablename__ = "scanner"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    site: Mapped[str] = mapped_column(String(200), default="")
    capacity_per_shift: Mapped[int] = mapped_column(Integer)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"))


class ScannerCapacityChangeRow(Base):
    """A change of a scanner's capacity per shift: when, from what (``was``) to what. A shift
    ended before a change ran with the ``was`` of the first change after its end, so a repair or
    a crew change never rewrites the capacity of shifts already worked (a figures review's
    finished shift read "6 of 3 slots taken" after a cut seven weeks later)."""

    __tablename__ = "scanner_capacity_change"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scanner_id: Mapped[str] = mapped_column(ForeignKey("scanner.id"), index=True)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    was: Mapped[int] = mapped_column(Integer)
    capacity: Mapped[int] = mapped_column(Integer)


class ScanOrderRow(Base):
    """An order to scan one container trip on a scanner in a shift, and what came of it."""

    __tablename__ = "scan_order"
    __table_args__ = (
        Index("ix_scan_order_slot", "scanner_id", "shift_date", "shift"),
        Index("ix_scan_order_trip", "trip_id"),
        Index("ix_scan_order_status", "status", "id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trip_id: Mapped[int] = mapped_column(ForeignKey("container_trip.id"))
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"))
    scanner_id: Mapped[str] = mapped_column(ForeignKey("scanner.id"))
    shift_date: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD
    shift: Mapped[str] = mapped_column(String(8))  # early, late, night
    selection: Mapped[str] = mapped_column(String(16))  # risk, exploration, manual
    status: Mapped[str] = mapped_column(String(16))
    score_at_planning: Mapped[float | None] = mapped_column(Float, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    nii_image_ref: Mapped[str] = mapped_column(String(200), default="")
    verdict: Mapped[str] = mapped_column(String(16), default="")  # clear, anomaly
    result: Mapped[str] = mapped_column(String(16), default="")  # nothing_found, irregularity, seizure
    drug_type: Mapped[str] = mapped_column(String(32), default="")
    mass_kg: Mapped[float | None] = mapped_column(Float, nullable=True)
    concealment: Mapped[str] = mapped_column(String(64), default="")
    method: Mapped[str] = mapped_column(String(32), default="", server_default="")
    seals_found: Mapped[str] = mapped_column(String(512), default="", server_default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class ScanOrderChangeRow(Base):
    """One state change of a scan order: who, when, why, from which state to which (append-only)."""

    __tablename__ = "scan_order_change"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("scan_order.id"), index=True)
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class HoldRow(Base):
    """A hold on a container trip, and its release (who, when, why for each)."""

    __tablename__ = "hold"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trip_id: Mapped[int] = mapped_column(ForeignKey("container_trip.id"), index=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"))
    placed_by: Mapped[str] = mapped_column(String(64))
    placed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reason: Mapped[str] = mapped_column(Text)
    released_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    release_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class AuditEntryRow(Base):
    """One audited read or write, hash-chained to the entry before it. ``payload`` (who, from
    where, what) may be purged after its retention period; ``payload_digest`` stays, so the chain
    still verifies: ``entry_hash = SHA-256(prev_hash|seq|at|kind|organisation_id|payload_digest)``;
    ``payload_digest = SHA-256(payload_salt|payload)``, the salt purged with the payload."""

    __tablename__ = "audit_entry"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    kind: Mapped[str] = mapped_column(String(32))  # read, write, sign-in, ...
    organisation_id: Mapped[str] = mapped_column(String(64), default="")
    payload: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # random per entry, in payload_digest, purged with the payload (scheldt.store.audit)
    payload_salt: Mapped[str | None] = mapped_column(String(32), nullable=True)
    payload_digest: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))
    purged_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class JobRunRow(Base):
    """One run of long or recurring work (ingest, training, re-scoring...) with its progress."""

    __tablename__ = "job_run"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16))  # queued, running, done, failed
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # 0..1
    message: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)



# --- Exchange (issue 6): sharing groups, shared STIX objects, peers, carrier notifications ---


class SharingGroupRow(Base):
    """A named set of organisations items are shared with; one TAXII collection each."""

    __tablename__ = "sharing_group"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    owner_org: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SharingGroupMemberRow(Base):
    """An organisation in a sharing group."""

    __tablename__ = "sharing_group_member"
    group_id: Mapped[str] = mapped_column(ForeignKey("sharing_group.id"), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class SharedObjectRow(Base):
    """One version of a shared STIX 2.1 object, as stored (never changed: a new version is a
    new row). ``seq`` is the server-assigned order of arrival, the cursor of TAXII pages and
    federation pulls, so items relayed late with older timestamps are never missed."""

    __tablename__ = "shared_object"
    __table_args__ = (
        UniqueConstraint("stix_id", "modified"),
        Index("ix_shared_object_group_seq", "group_id", "seq"),
        Index("ix_shared_object_tlp_seq", "tlp", "seq"),
        Index("ix_shared_object_owner_seq", "owner_org", "seq"),
        Index("ix_shared_object_stix_id", "stix_id", "seq"),
        Index("ix_shared_object_stix_id_modified_at", "stix_id", "modified_at"),
        Index("ix_shared_object_date_added_seq", "date_added", "seq"),
        # a collection's page reads each way a requester may see versions in seq order (migration 0039)
        Index("ix_shared_object_group_tlp_seq", "group_id", "tlp", "seq",
              postgresql_where=text("group_id IS NOT NULL"), sqlite_where=text("group_id IS NOT NULL")),
        Index("ix_shared_object_group_owner_seq", "group_id", "owner_org", "seq",
              postgresql_where=text("group_id IS NOT NULL"), sqlite_where=text("group_id IS NOT NULL")),
        Index("ix_shared_object_community_tlp_seq", "tlp", "seq",
              postgresql_where=text("group_id IS NULL"), sqlite_where=text("group_id IS NULL")),
        Index("ix_shared_object_community_owner_seq", "owner_org", "seq",
              postgresql_where=text("group_id IS NULL"), sqlite_where=text("group_id IS NULL")),
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    stix_id: Mapped[str] = mapped_column(String(100))
    modified: Mapped[str] = mapped_column(String(32))  # the STIX timestamp text, exactly as given
    # ``modified`` as a time (None when it is not a timestamp): versions are ordered by it
    modified_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    stix_type: Mapped[str] = mapped_column(String(64))
    spec_version: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(32))  # alert, watchlist-entry, seizure-report, sighting, other
    tlp: Mapped[str] = mapped_column(String(16))
    owner_org: Mapped[str] = mapped_column(String(64))
    group_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    handling_code: Mapped[str] = mapped_column(String(200), default="")
    reliability: Mapped[str] = mapped_column(String(1), default="X")
    credibility: Mapped[str] = mapped_column(String(1), default="4")
    valid_from: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    object: Mapped[dict] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(200))  # "local" or "peer:<name>" (provenance)
    date_added: Mapped[datetime] = mapped_column(UtcDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class SharedObjectRecipientRow(Base):
    """A named recipient of a TLP:RED object version: an organisation and one of its users."""

    __tablename__ = "shared_object_recipient"
    # a requester's TLP:RED versions of one collection in seq order, for its pages (migration 0039)
    __table_args__ = (Index("ix_shared_object_recipient_named", "organisation_id", "username", "place", "seq"),)
    seq: Mapped[int] = mapped_column(ForeignKey("shared_object.seq"), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    # the version's sharing group, "" for the community (a copy of shared_object.group_id: a version never moves)
    place: Mapped[str] = mapped_column(String(64), default="", server_default="")


class SharedWithdrawalRow(Base):
    """Who withdrew an item this node's organisation shared, when and why (migration 0024): for
    the originating agency's own pages; partners see only the revoked version, which names no
    one, and this row is never served to them."""

    __tablename__ = "shared_withdrawal"
    stix_id: Mapped[str] = mapped_column(String(100), primary_key=True)  # the item's main object
    organisation_id: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(200))  # a username, or "system" (an entry's alerts)
    reason: Mapped[str] = mapped_column(Text)
    withdrawn_at: Mapped[datetime] = mapped_column(UtcDateTime)


class NodeAccountRow(Base):
    """A user partner nodes pull with: it asks as its agency's federation peer, which may fetch
    TLP:RED items naming any of the agency's users (``scheldt peer allow``)."""

    __tablename__ = "node_account"
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class NodeSecretRow(Base):
    """A random value this node keeps to itself (migration 0017), e.g. the namespace of the ids
    of its local alerts, so that a partner cannot compute them and probe for them."""

    __tablename__ = "node_secret"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PeerRow(Base):
    """A partner node pulled by federation: its TAXII API root, credentials, the organisation
    its objects are attributed to here, and the server-assigned cursor reached per collection."""

    __tablename__ = "peer"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    api_root: Mapped[str] = mapped_column(Text)
    organisation_id: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(200), default="")
    secret: Mapped[str] = mapped_column(Text, default="")  # "<kind>:<sealed>"; our credential at the peer
    cursors: Mapped[dict] = mapped_column(JSON, default=dict)  # collection id -> cursor text
    last_pull_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # When the pulls of this peer began to fail (UTC; None while they go well; migration 0030).
    failing_since: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Local sharing group of objects from the peer's collections that name none (migration 0011).
    default_group: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Other organisations whose objects it may relay (migration 0018); see scheldt.exchange.federation.
    relays_for: Mapped[list] = mapped_column(JSON, default=list)


class SubscriptionRow(Base):
    """A shipping line's or terminal's callback for hold, release and alert notices."""

    __tablename__ = "subscription"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organisation_id: Mapped[str] = mapped_column(String(64), index=True)
    callback_url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(Text)  # shared HMAC-SHA256 key, needed to sign: sealed (store.sealing)
    kinds: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class NotificationRow(Base):
    """One notice to one subscription, with its delivery attempts; ``dead`` after the last try."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscription.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # hold, release, alert
    body: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))  # pending, delivered, dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class SuppliedFileRow(Base):
    """A file a shipping line or terminal sent through the API (``POST /api/v1/shipping-data``):
    who, when, what (name, SHA-256, size in bytes) and what became of its records (the
    ingest report: counts, rejections up to :data:`scheldt.workflows.supplied.REPORT_REJECTIONS`)."""

    __tablename__ = "supplied_file"
    __table_args__ = (Index("ix_supplied_file_org", "organisation_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organisation_id: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    format: Mapped[str] = mapped_column(String(32), default="")
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    added: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    flags: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[dict] = mapped_column(JSON, default=dict)


class TntFeedRow(Base):
    """A DCSA Track & Trace 2.2 subscription a shipping line or terminal made for this node at
    its own publisher: the publisher POSTs its events to the feed's callback URL, each request
    signed with the shared secret (``Notification-Signature``), and they are read as sent by the
    feed's user (:mod:`scheldt.workflows.tnt_feeds`)."""

    __tablename__ = "tnt_feed"
    __table_args__ = (Index("ix_tnt_feed_org", "organisation_id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # a random UUID, in the callback URL
    organisation_id: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(64))  # the carrier_security user the events are sent as
    secret: Mapped[str] = mapped_column(Text)  # the HMAC-SHA256 key, Base64 as DCSA gives it: sealed (store.sealing)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # who or what stopped it: "deleted by <user>", "stopped by the node's operator", "its user <user> was disabled"
    deleted_why: Mapped[str | None] = mapped_column(String(200), nullable=True)
