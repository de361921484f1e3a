"""Typed values from the text that HTML forms and query strings send; a bad value is an
InputError naming the field, shown next to the form that sent it."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from scheldt.domain.inspection import PORT_TIME
from scheldt.errors import InputError


def text(value: str | None, limit: int = 2000) -> str:
    """Trimmed text ("" for nothing), at most ``limit`` characters (longer is an error, not cut)."""
    out = (value or "").strip()
    if len(out) > limit:
        raise InputError("text", f"{len(out)} characters; at most {limit}")
    return out


def day(value: str | None, field: str) -> date | None:
    """A date written YYYY-MM-DD, or None when empty."""
    raw = (value or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InputError(field, f"{raw[:40]!r} is not a date (YYYY-MM-DD)") from None


def port_time(value: str | None, field: str) -> datetime | None:
    """A time of day written YYYY-MM-DDTHH:MM (a browser's ``datetime-local``) by the port's
    clock (:data:`scheldt.domain.inspection.PORT_TIME`), as an aware time; None when empty.
    Raises InputError for a time the port's clock skips or shows twice when it changes (02:30
    on the last Sunday of March or October; a review's scan at the second 02:30 was filed an
    hour early, before its box left): one shown twice is given with its UTC offset through the
    API."""
    raw = (value or "").strip()
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise InputError(field, f"{raw[:40]!r} is not a time (YYYY-MM-DDTHH:MM, port time)") from None
    if parsed.tzinfo is not None:
        return parsed
    first, second = parsed.replace(tzinfo=PORT_TIME), parsed.replace(tzinfo=PORT_TIME, fold=1)
    if first.utcoffset() != second.utcoffset():  # shown twice (October) or skipped (March)
        if first.utcoffset() > second.utcoffset():  # type: ignore[operator]
            raise InputError(field, f"{raw[:16].replace('T', ' ')} port time came twice that night (the clocks went "
                             "back): record it through the API with its UTC offset (done_at "
                             f"{first.isoformat(timespec='minutes')} for the first, "
                             f"{second.isoformat(timespec='minutes')[-6:]} for the second)")
        raise InputError(field, f"{raw[:16].replace('T', ' ')} port time did not exist that night (the clocks went "
                         "forward an hour at 02:00): check the time")
    return first


def choice(value: str | None, field: str, allowed: tuple[str, ...]) -> str | None:
    """One of ``allowed``, or None when empty."""
    raw = (value or "").strip()
    if not raw:
        return None
    if raw not in allowed:
        raise InputError(field, f"{raw[:40]!r} is not one of {', '.join(allowed)}")
    return raw


def yes_no(value: str | None, field: str) -> bool | None:
    """``yes`` / ``no`` as True / False, None when empty."""
    picked = choice(value, field, ("yes", "no"))
    return None if picked is None else picked == "yes"


#: A whole number of 1-3 digits, then one separator and exactly three digits: 1.250 is 1.25 kg
#: with a decimal point and 1,250 kg with a Belgian thousands separator.
AMBIGUOUS_MASS = re.compile(r"[1-9]\d{0,2}[.,]\d{3}")


#: A number as people type one: ASCII digits with at most one decimal comma or point.
PLAIN_DECIMAL = re.compile(r"-?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)")


def kilograms(value: str | None, field: str = "mass_kg") -> float | None:
    """A mass in kg (a decimal comma is accepted), None when empty. Raises InputError for text
    that is no number, and for a number that reads two ways (``1.250``: 1.25 kg, or 1,250 kg
    written with a thousands separator, as a Belgian user writes it; a review saved 1.25 kg)."""
    raw = (value or "").strip()
    if AMBIGUOUS_MASS.fullmatch(raw):
        raise InputError(field, f"{raw!r} reads two ways: {raw.replace(',', '.').rstrip('0').rstrip('.')} kg, or "
                         f"{int(raw.replace(',', '').replace('.', '')):,} kg with a thousands separator; write it "
                         "without one (e.g. 1250 or 1.25)")
    if raw.count(",") + raw.count(".") > 1:
        raise InputError(field, f"{raw[:40]!r} has a thousands separator: write the kilograms without one "
                         "(e.g. 1250,5 or 1250.5)")
    if not raw:
        return None
    if not PLAIN_DECIMAL.fullmatch(raw):  # float() took 1_5 as 15, 1e3 and Arabic-Indic digits (search team review)
        raise InputError(field, f"{raw[:40]!r} is not a number of kilograms (digits, with a decimal comma or point)")
    return float(raw.replace(",", "."))


def whole(value: str | None, field: str) -> int | None:
    """A whole number, None when empty."""
    raw = (value or "").strip()
    if not raw:
        return None
    if not re.fullmatch(r"-?[0-9]{1,12}", raw):  # ASCII digits: str.isdigit() takes "١٥" and "²"
        raise InputError(field, f"{raw[:40]!r} is not a whole number")
    return int(raw)


def filled(values: dict[str, Any]) -> dict[str, Any]:
    """The entries that were filled in (not None, not empty text)."""
    return {k: v for k, v in values.items() if v is not None and v != ""}
