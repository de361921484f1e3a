"""One error tree for Scheldt.

Every error says *where* (a file and line, a segment, a field, a setting) and *why*. The edges
(CLI, later the API) turn these into exit codes or HTTP status codes in one place.

    ScheldtError
    ├── InputError          bad input from a user or a file (status 400)
    │   ├── TooLargeError       a request body over its limit (status 413)
    │   └── BodyTimeoutError    a request body that stopped coming (status 408)
    ├── AuthError           not signed in, or a credential refused (status 401)
    ├── ForbiddenError      signed in, but the roles do not allow it (status 403)
    ├── NotFoundError       a named thing does not exist (status 404)
    ├── ConflictError       the request clashes with the current state (status 409)
    ├── ConfigError         a setting, mapping or profile is invalid (status 500 at run time)
    │   └── StoreUnavailable    the database cannot be reached just now (status 503)
    └── ModelMismatchError  a model artefact does not fit the running code (status 409)
"""

from __future__ import annotations

from pathlib import Path


class ScheldtError(Exception):
    """Base of all Scheldt errors: carries ``where`` and ``why`` and an HTTP-like ``status``."""

    status = 500

    def __init__(self, where: str, why: str) -> None:
        super().__init__(f"{where}: {why}")
        self.where = where
        self.why = why


class InputError(ScheldtError):
    """Input that cannot be used as given (unreadable file, bad option value)."""

    status = 400


class TooLargeError(InputError):
    """A request body over its limit (a file streamed to the server, counted as it comes)."""

    status = 413


class BodyTimeoutError(InputError):
    """A request body of which nothing came for too long (a client that stalls mid-upload)."""

    status = 408


class NotFoundError(ScheldtError):
    """A named record, model version or file does not exist."""

    status = 404


class ConfigError(ScheldtError):
    """A setting, column mapping or other configuration is invalid."""

    status = 500


class StoreUnavailable(ConfigError):
    """The database cannot be reached just now (restarted, connection cut, locked): try again."""

    status = 503


class ModelMismatchError(ScheldtError):
    """A saved model artefact does not match the feature contract or libraries of this code."""

    status = 409


class AuthError(ScheldtError):
    """Not signed in, or a sign-in, session or token refused."""

    status = 401


class ForbiddenError(ScheldtError):
    """Signed in, but the user's roles or organisation do not allow this."""

    status = 403


class TooManyAttempts(ScheldtError):
    """Refused for a while: too many failed attempts (sign-ins from one address), or too much at
    once (files one organisation sends); ``retry_after``: seconds until it is worth trying again."""

    status = 429

    def __init__(self, where: str, why: str, retry_after: int) -> None:
        super().__init__(where, why)
        self.retry_after = max(1, retry_after)


class ConflictError(ScheldtError):
    """The request clashes with the current state (a full scanner shift, an order already closed)."""

    status = 409


#: Refusals audited as ``denied`` wherever a request is refused (API, workbench, TAXII): for
#: what it asked (400: a field the workflow refused), for the requester's role, for a thing not
#: theirs, or against what is stored (an audit review: a carrier's loopback callback URL and an
#: administrator's ingest job at /etc/passwd, both 400, left no trace).
REFUSALS = (InputError, ForbiddenError, NotFoundError, ConflictError, ModelMismatchError)


def require_file(path: Path) -> None:
    """Raise InputError naming ``path`` unless it is a file: a folder is said to be one (an
    operator review's `profile validate /tmp` read "no such file")."""
    if path.is_dir():
        raise InputError(str(path), "is a folder, not a file")
    if not path.is_file():
        raise InputError(str(path), "no such file")
