"""When two URLs name the same endpoint (pure): a retried subscription or a partner added again
under a spelling of its URL of its own (a regression review: ``HTTPS://``, ``:443``, an empty
``?`` and ``%63`` for ``c`` each passed as new)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = re.compile(r"%([0-9A-Fa-f]{2})")


def endpoint_key(url: str) -> tuple[str, str, int | None, str, str]:
    """``url`` as the endpoint it names, after the syntax- and scheme-based normalisation of
    RFC 3986 sections 6.2.2 and 6.2.3: scheme and host in lower case, the scheme's default port
    as no port, percent-encoded unreserved characters decoded and other escapes in upper case,
    an empty path as ``/``, an empty query as none; a trailing ``/`` is ignored. Returns
    (scheme, host, port, path, query). Raises ValueError for a URL that cannot be split."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    port = parts.port
    if port == _DEFAULT_PORTS.get(scheme):
        port = None
    path = _UNRESERVED.sub(_decoded, parts.path or "/").rstrip("/") or "/"
    return scheme, (parts.hostname or "").lower(), port, path, _UNRESERVED.sub(_decoded, parts.query)


def _decoded(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char.isascii() and (char.isalnum() or char in "-._~") else f"%{match.group(1).upper()}"


def same_endpoint(a: str, b: str) -> bool:
    """Whether two URLs name the same endpoint (:func:`endpoint_key`); URLs that cannot be split
    are the same only as the same text."""
    try:
        return endpoint_key(a) == endpoint_key(b)
    except ValueError:
        return a == b
