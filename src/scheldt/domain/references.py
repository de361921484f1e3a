"""The one written form of a document reference (pure): bills of lading, bookings, shipping
instructions.

Carriers print these references in capitals (a SCAC or SMDG liner code and a serial number,
e.g. ``MAEU123456789``), but senders retype them: a terminal's message or a declarant's file
may carry ``maeu123456789`` or `` MAEU123456789 ``. Records keep one form so that such facts
join the same trip and document (a linking review: a lower-case B/L on a declaration did not
link it, and a lower-case booking on a carrier's event split the box's trip in two).
"""

from __future__ import annotations


def document_reference(raw: str) -> str:
    """``raw`` without surrounding spaces, in capitals (``" maeu1234 "`` → ``"MAEU1234"``).
    Spaces inside are kept: they may be part of what the carrier issued. Anything that is not
    a string is returned as given, for the caller's own check to report."""
    return raw.strip().upper() if isinstance(raw, str) else raw
