"""Credentials kept at rest sealed with a key that is not in the database.

Two secrets must be kept readable because this node uses them itself: the credential it signs in
with at a federation peer (a password or an API token of the partner's node) and the shared
secret that signs each notice to a carrier's callback (HMAC-SHA256). Hashing them, as passwords
and API tokens of our own users are, is not possible. They were kept in clear: anyone holding a
database dump or backup could sign in at a partner agency's node as this one, or forge notices
to a shipping line. Now each is stored as ``sealed:v1:<token>``, the token being Fernet (the
``cryptography`` library: AES-128-CBC encryption with an HMAC-SHA256 check, random IV) of the
secret under the node's sealing key.

The key (32 random bytes, URL-safe base64, as ``Fernet.generate_key`` writes it) is
``SCHELDT_SECRETS_KEY`` when set, else the file ``<data dir>/secrets.key``, made at the first
seal with mode 0600. Back it up apart from the database: without it the sealed credentials
cannot be read, and each must be entered again (``scheldt peer secret``, a carrier's new
subscription). Several server processes on one machine share the file; servers on several
machines need the same ``SCHELDT_SECRETS_KEY``.

A stored value without the ``sealed:v1:`` prefix is one written before migration 0023 (which
seals them) and is read as it is.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from scheldt.errors import ConfigError
from scheldt.settings import get_settings

PREFIX = "sealed:v1:"
#: File name of the sealing key in the data directory (when ``SCHELDT_SECRETS_KEY`` is not set).
KEY_FILE = "secrets.key"


def key_path() -> Path:
    """Where the sealing key is kept when ``SCHELDT_SECRETS_KEY`` is not set."""
    return get_settings().data_dir / KEY_FILE


def _fernet(create: bool) -> Fernet:
    """The node's Fernet from its key, the key file made first when ``create`` and missing.
    Raises ConfigError when the key is malformed, or missing and not to be made."""
    configured = get_settings().secrets_key.strip()
    where = "SCHELDT_SECRETS_KEY" if configured else str(key_path())
    if configured:
        key = configured.encode()
    else:
        path = key_path()
        if not path.exists() and create:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another server process made it meanwhile
                pass
            else:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(Fernet.generate_key() + b"\n")
        try:
            key = path.read_bytes().strip()
        except FileNotFoundError:
            raise ConfigError(where, "no sealing key: the credentials sealed with it cannot be read; set "
                                     "SCHELDT_SECRETS_KEY or restore the key file, or enter each credential "
                                     "again (scheldt peer credential; carriers subscribe again)") from None
    try:
        return Fernet(key)
    except ValueError:
        raise ConfigError(where, "not a sealing key (32 bytes in URL-safe base64, 44 characters)") from None


def seal(secret: str) -> str:
    """``secret`` sealed for storage: ``sealed:v1:<Fernet token>``. Makes the key file at first
    use. Raises ConfigError when the configured key is malformed."""
    return PREFIX + _fernet(create=True).encrypt(secret.encode("utf-8")).decode("ascii")


def is_sealed(stored: str) -> bool:
    """Whether ``stored`` is a sealed value (else a value kept in clear before migration 0023)."""
    return stored.startswith(PREFIX)


def unseal(stored: str) -> str:
    """The secret of a stored value (:func:`seal`'s output; a value without the prefix is
    returned as it is). Raises ConfigError when the key is missing, malformed or not the one it
    was sealed with (the message says what to do)."""
    if not is_sealed(stored):
        return stored
    fernet = _fernet(create=False)
    try:
        return fernet.decrypt(stored[len(PREFIX):].encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        where = "SCHELDT_SECRETS_KEY" if get_settings().secrets_key.strip() else str(key_path())
        raise ConfigError(where, "this sealing key is not the one the stored credential was sealed with: restore "
                                 "the key, or enter the credential again (scheldt peer credential; carriers "
                                 "subscribe again)") from None
