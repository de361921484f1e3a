"""Reader for tabular (CSV) customs declaration files, through a column mapping.

``read_declarations`` streams a file row by row (bounded memory) and yields, per row, a
:class:`Declaration` (with data-quality flags), an :class:`InspectionOutcome` when the mapping has
outcome columns and they are wanted, or a :class:`Rejection` saying file, line, field and why.
A bad row never stops the file; a bad outcome never loses its declaration.
"""

from __future__ import annotations

import contextlib
import csv
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from scheldt import reference
from scheldt.domain.codes import normalise_country, normalise_hs_code
from scheldt.domain.declarations import (
    CODE_MAX,
    REF_MAX,
    Declaration,
    Flag,
    InspectionOutcome,
    Party,
    PartyRole,
)
from scheldt.domain.identifiers import container_number
from scheldt.ingest.base import FieldError, LineCounter, Rejection, csv_records, lines_at_any_end, misfit_row
from scheldt.ingest.mapping import DeclarationMapping

Record = Declaration | InspectionOutcome | Rejection
#: What the reader yields: the record's location ("<file>:<line>") and the record.
Located = tuple[str, Record]

_PARTY_FIELDS = {
    "declarant_id": PartyRole.DECLARANT,
    "importer_id": PartyRole.IMPORTER,
    "seller_id": PartyRole.SELLER,
    "courier_id": PartyRole.COURIER,
}
_TEXT_FIELDS = (
    "office_code",
    "process_type",
    "import_type",
    "import_use",
    "payment_type",
    "transport_mode",
    "tax_type",
    "origin_indicator",
    "currency",
    "bill_of_lading_ref",
)
_TEXT_LIMITS = {"bill_of_lading_ref": REF_MAX, "currency": 3}


def parse_time(raw: str, date_format: str) -> datetime:
    """Parse a date or date-time to an aware UTC datetime.

    Tries ``date_format`` first, then ISO 8601. Naive values are taken as UTC.
    Raises ValueError when neither matches.
    """
    text = raw.strip()
    try:
        parsed = datetime.strptime(text, date_format)
    except ValueError as exc:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            detail = str(exc)
            if "does not match format" in detail or "unconverted data" in detail:
                raise ValueError(f"date {raw!r} does not match {date_format!r} or ISO 8601") from None
            raise ValueError(f"date {raw!r} is not a real date ({detail})") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _number(row: dict[str, str], mapping: DeclarationMapping, field: str) -> float | None:
    column = mapping.fields.get(field)
    raw = (row.get(column) or "").strip() if column else ""
    if not raw:
        return None
    text = raw
    if mapping.decimal == ",":
        if "." in raw:
            raise FieldError(field, f"{column!r} = {raw!r}: with the decimal comma of this mapping, write numbers "
                             "without a thousands separator")
        text = raw.replace(",", ".")
    try:
        if not _DECIMAL.fullmatch(text):  # float() also takes 1_000 and other scripts' digits (an ingest review)
            raise ValueError(text)
        value = float(text)
    except ValueError:
        hint = " (a decimal comma? set decimal: \",\" in the mapping)" if mapping.decimal == "." and "," in raw else ""
        raise FieldError(field, f"{column!r} = {raw!r} is not a number{hint}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise FieldError(field, f"{column!r} = {raw!r} is not a finite number")
    top = _PLAUSIBLE_MAX.get(field)
    if top is not None and value > top[0]:  # a review's 1e308 value made every value-recall figure 0
        raise FieldError(field, f"{column!r} = {raw!r} is beyond any real declaration ({top[1]})")
    return value


#: A number as declaration files write it (after a decimal comma became a point): ASCII digits,
#: an optional sign, point and exponent (spreadsheets write 1E+06), no digit-grouping underscores.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:nan|inf|infinity)",
                      re.IGNORECASE)

#: The largest value a declaration's number can plausibly hold, and why.
_PLAUSIBLE_MAX = {"net_mass_kg": (1e9, "at most 1,000,000 t"), "value": (1e15, "at most 10^15 in any currency"),
                  "tax_rate_pct": (1000.0, "a rate of at most 1,000 %")}


def _text(row: dict[str, str], mapping: DeclarationMapping, field: str) -> str:
    column = mapping.fields.get(field)
    return (row.get(column) or "").strip() if column else ""


def _check_length(field: str, value: str, limit: int) -> str:
    """``value`` when it has at most ``limit`` characters, all printable. Raises FieldError (an
    attack review's declarant id with a newline or a NUL inside quotes made a party of it)."""
    if len(value) > limit:
        raise FieldError(field, f"{field} is {len(value)} characters long, at most {limit} are accepted")
    if not value.isprintable():
        bad = next(c for c in value if not c.isprintable())
        raise FieldError(field, f"{field} {value[:40]!r} holds a control character ({bad!r}); an identifier or "
                         "code is one line of printable text")
    return value


def _required_text(row: dict[str, str], mapping: DeclarationMapping, field: str) -> str:
    value = _text(row, mapping, field)
    if not value:
        raise FieldError(field, f"required column {mapping.fields[field]!r} is empty")
    return value


def _flags(decl_hs: str, origin: str, departure: str, filed_at: datetime) -> tuple[Flag, ...]:
    flags = []
    if not reference.is_known_hs6(decl_hs):
        flags.append(Flag("hs_code", "unknown-hs-code", reference.hs_flag_text(decl_hs, filed_at.date())))
    for field, code in (("origin_country", origin), ("departure_country", departure)):
        if not reference.is_known_country(code):
            flags.append(
                Flag(field, "unknown-country", f"{code} is not in the ISO 3166-1 reference list")
            )
    return tuple(flags)


def _future_flag(filed_at: datetime, loaded_at: datetime | None) -> tuple[Flag, ...]:
    if loaded_at is not None and filed_at > loaded_at + timedelta(days=1):
        return (Flag("filed_at", "filed-in-future",
                     f"filed {filed_at:%Y-%m-%d}, after it was received ({loaded_at:%Y-%m-%d})"),)
    return ()


def _container_flags(containers: tuple[str, ...]) -> tuple[Flag, ...]:
    """A flag for each container number that is not a valid ISO 6346 number in normal form
    (capitals, no spaces or dashes): kept as written, it links to no container trip (a
    declarations review: "cmau1026750", "CMAU-1026750", a wrong check digit and a number
    written with spaces, read as three, were never linked and never flagged)."""
    flags = []
    for written in containers:
        number, problem = container_number(written)
        if problem is not None:
            flags.append(Flag("container_numbers", "invalid-container-number",
                              f"{written}: {problem.why.split(': ', 1)[-1]}; linked to no container trip"))
        elif number != written:
            flags.append(Flag("container_numbers", "container-number-not-normal",
                              f"{written} is written as {number} on shipping data; kept as written, it is linked to "
                              f"no container trip: send {number}"))
    return tuple(flags)


def _bill_flags(bill: str) -> tuple[Flag, ...]:
    """A flag for a bill-of-lading reference with spaces inside: shipping data write references
    without them, and a declaration links to a trip only by the reference as written (a review:
    "mscu 123456" linked to nothing, without a word). Lower case alone is not flagged: some
    carriers write their references so (the DCSA sample's reserved-HHL123)."""
    normal = "".join(bill.split())
    if normal == bill:
        return ()
    return (Flag("bill_of_lading_ref", "bill-of-lading-not-normal",
                 f"{bill} has spaces inside, which shipping data do not write in references ({normal}); kept as "
                 "written, it links only to a trip whose documents or events write it the same way"),)


def declaration_from_row(
    row: dict[str, str], mapping: DeclarationMapping, loaded_at: datetime | None = None
) -> Declaration:
    """Map one CSV row to a Declaration. Raises FieldError(field, why) on a bad value.

    A filing time more than a day after ``loaded_at`` is kept and flagged ``filed-in-future``.
    """
    ref = _check_length("declaration_ref", _required_text(row, mapping, "declaration_ref"), REF_MAX)
    try:
        filed_at = parse_time(_required_text(row, mapping, "filed_at"), mapping.date_format)
    except ValueError as exc:
        raise FieldError("filed_at", str(exc)) from None
    if not 1970 <= filed_at.year <= 2099:  # a review's year 0020 was stored, as shipping data never is
        raise FieldError("filed_at", f"filed {filed_at.date().isoformat()}: outside 1970-2099")
    try:
        hs_code = normalise_hs_code(_required_text(row, mapping, "hs_code"))
    except ValueError as exc:
        raise FieldError("hs_code", str(exc)) from None
    countries = {}
    for field in ("origin_country", "departure_country"):
        try:
            countries[field] = normalise_country(_required_text(row, mapping, field))
        except ValueError as exc:
            raise FieldError(field, str(exc)) from None
    mass = _number(row, mapping, "net_mass_kg")
    if mass is None:
        raise FieldError("net_mass_kg", f"required column {mapping.fields['net_mass_kg']!r} is empty")
    if mass < 0:
        raise FieldError("net_mass_kg", f"net mass {mass:g} kg is negative")
    value = _number(row, mapping, "value")
    if value is None:
        raise FieldError("value", f"required column {mapping.fields['value']!r} is empty")
    if value < 0:
        raise FieldError("value", f"value {value:g} is negative")
    tax_rate = _number(row, mapping, "tax_rate_pct")
    if tax_rate is not None and tax_rate < 0:
        raise FieldError("tax_rate_pct", f"tax rate {tax_rate:g}% is negative")
    parties = tuple(
        Party(role, _check_length(field, pid, REF_MAX))
        for field, role in _PARTY_FIELDS.items()
        if (pid := _text(row, mapping, field))
    )
    texts = {f: _check_length(f, _text(row, mapping, f), _TEXT_LIMITS.get(f, CODE_MAX)) for f in _TEXT_FIELDS}
    containers = tuple(_text(row, mapping, "container_numbers").replace(",", " ").split())
    return Declaration(
        declaration_ref=ref,
        filed_at=filed_at,
        hs_code=hs_code,
        origin_country=countries["origin_country"],
        departure_country=countries["departure_country"],
        net_mass_kg=mass,
        value=value,
        parties=parties,
        tax_rate_pct=tax_rate,
        container_numbers=containers,
        flags=_flags(hs_code, countries["origin_country"], countries["departure_country"], filed_at)
        + _future_flag(filed_at, loaded_at) + _container_flags(containers) + _bill_flags(texts["bill_of_lading_ref"]),
        **texts,
    )


def _label(row: dict[str, str], column: str, true_values: list[str], false_values: list[str]) -> bool:
    raw = (row.get(column) or "").strip()
    if raw in true_values:
        return True
    if raw in false_values:
        return False
    raise FieldError(
        column, f"{column!r} = {raw!r} is not one of {sorted(true_values + false_values)}"
    )


def outcome_from_row(
    row: dict[str, str], mapping: DeclarationMapping, ref: str, filed_at: datetime | None,
    loaded_at: datetime | None = None, not_before: datetime | None = None,
) -> InspectionOutcome | None:
    """Map the outcome columns of one row to an InspectionOutcome. ``filed_at``: the filing of
    the declaration read with it (a receipt without a time column is taken that many days
    after it); ``not_before``: when the declaration was filed, if known otherwise (an outcome
    read alone), which a stated receipt may not precede.

    Returns None when every outcome column is empty (not yet inspected).
    Raises FieldError on an unreadable or inconsistent value.
    """
    spec = mapping.outcomes
    assert spec is not None
    if all(not (row.get(c) or "").strip() for c in spec.columns):
        return None
    fraud = _label(row, spec.fraud.column, spec.fraud.true_values, spec.fraud.false_values)
    critical = (
        _label(row, spec.critical.column, spec.critical.true_values, spec.critical.false_values)
        if spec.critical
        else False
    )
    if critical and not fraud:
        raise FieldError(
            spec.critical.column if spec.critical else "critical",
            "critical fraud without fraud: the two outcome columns contradict each other",
        )
    if spec.received_at:
        try:
            received = parse_time(row.get(spec.received_at) or "", mapping.date_format)
        except ValueError as exc:
            raise FieldError(spec.received_at, str(exc)) from None
        # An ingest review stored outcomes received in the years 1 and 9999 and before their
        # declaration was filed: the first counts as known at every moment (look-ahead in the
        # features), the second never, and a stored outcome is not replaced.
        if not 1970 <= received.year <= 2099:
            raise FieldError(spec.received_at, f"received {received.date().isoformat()}: outside 1970-2099")
        filed = filed_at or not_before
        if filed is not None and received < filed:
            raise FieldError(spec.received_at, f"received {received.date().isoformat()}, before the declaration "
                             f"was filed ({filed.date().isoformat()}): an outcome comes after its declaration")
    elif filed_at is not None:
        received = filed_at + timedelta(days=spec.received_after_days)
    else:
        received = loaded_at or datetime.now(UTC)
    return InspectionOutcome(ref, fraud=fraud, critical=critical, received_at=received)


def read_declarations(
    lines: Iterable[str] | Iterable[bytes],
    mapping: DeclarationMapping,
    source: str,
    *,
    outcomes: bool = True,
    declarations: bool = True,
    loaded_at: datetime | None = None,
) -> Iterator[Located]:
    """Yield ``(where, record)``: Declarations, InspectionOutcomes and Rejections from CSV lines.

    ``lines`` is any iterable of text lines, or of byte lines decoded here as UTF-8 so that one
    undecodable line is rejected alone (a file opened in binary mode streams with bounded memory);
    ``source`` names the file in ``Rejection.where`` as ``"<source>:<line>"`` (line 1 is the
    header; ``"<source>:<first>-<last>"`` for a record over several lines). With
    ``declarations=False`` only outcomes are read (``scheldt ingest outcomes``); their receipt
    time is the mapped column, else ``loaded_at`` (default: now). With ``outcomes=False`` outcome
    columns are ignored. Raises InputError-free: a missing column is one Rejection for line 1.
    """
    counter = LineCounter(lines_at_any_end(lines))
    reader = csv.DictReader(counter, delimiter=mapping.delimiter)
    try:
        header = [h.lstrip("\ufeff").strip() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        yield f"{source}:1", Rejection(f"{source}:1", "header", f"unreadable CSV header: {exc}")
        return
    if not header:
        yield f"{source}:1", Rejection(f"{source}:1", "header", "file is empty")
        return
    if 1 in counter.undecodable:
        yield f"{source}:1", Rejection(f"{source}:1", "header", counter.undecodable[1])
        return
    duplicated = sorted({h for h in header if header.count(h) > 1 and h})
    if duplicated:
        yield f"{source}:1", Rejection(f"{source}:1", "header", f"column(s) {duplicated} appear more than once")
        return
    reader.fieldnames = header
    want_outcomes = outcomes and mapping.outcomes is not None
    missing = mapping.missing_columns(header, with_outcomes=want_outcomes) if declarations else (
        [c for c in [mapping.fields["declaration_ref"], *mapping.outcomes.columns] if c not in header]
        if mapping.outcomes
        else ["(mapping has no outcome columns)"]
    )
    if missing:
        where = f"{source}:1"
        yield where, Rejection(where, "header", f"mapping {mapping.name!r} needs column(s) {missing}")
        return
    for where, row, refused, text in csv_records(counter, reader, source):
        if row is None or refused:
            yield where, Rejection(where, "", refused, text)
            continue
        if why := misfit_row(row, len(header)):
            yield where, Rejection(where, "", why, text)
            continue
        if all(not (v or "").strip() for v in row.values()):
            continue
        for record in _read_row(row, text, mapping, where, want_outcomes, declarations, loaded_at):
            yield where, record


def _read_row(
    row: dict[str, str],
    text: str,
    mapping: DeclarationMapping,
    where: str,
    want_outcomes: bool,
    declarations: bool,
    loaded_at: datetime | None,
) -> Iterator[Record]:
    filed_at = not_before = None
    if declarations:
        try:
            decl = declaration_from_row(row, mapping, loaded_at)
        except FieldError as exc:
            yield Rejection(where, exc.field, exc.why, text)
            return
        filed_at = decl.filed_at
        yield decl
        ref = decl.declaration_ref
    else:
        ref = (row.get(mapping.fields["declaration_ref"]) or "").strip()
        if not ref:
            yield Rejection(where, "declaration_ref", "declaration reference is empty", text)
            return
        with contextlib.suppress(ValueError, KeyError):  # the filing, when the row says it, bounds the receipt
            not_before = parse_time(row.get(mapping.fields["filed_at"]) or "", mapping.date_format)
    if want_outcomes:
        try:
            outcome = outcome_from_row(row, mapping, ref, filed_at, loaded_at, not_before)
        except FieldError as exc:
            yield Rejection(where, exc.field, f"outcome not read: {exc.why}", text)
            return
        if outcome is not None:
            yield outcome
