"""Credentials kept at rest sealed with a key that is not in the database.

Three secrets must be kept readable because this node uses them itself: the credential it signs
in with at a federation peer (a password or an API token of the partner's node), the shared
secret that signs each notice to a carrier's callback (HMAC-SHA256), and the secret a line's DCSA
Track & Trace 2.2 publisher signs its callbacks to a feed with (:mod:`scheldt.workflows.tnt_feeds`).
Hashing them, as passwords and API tokens of our own users are, is not possible. They were kept in
clear: anyone holding a database dump or backup could sign in at a partner agency's node as this
one, or forge notices to a shipping line. Now each is stored as ``sealed:v1:<token>``, the token
being Fernet (the ``cryptography`` library: AES-128-CBC encryption with an HMAC-SHA256 check,
random IV) of the secret under the node's sealing key.

The key (32 random bytes, URL-safe base64, as ``Fernet.generate_key`` writes it) is
``SCHELDT_SECRETS_KEY`` when set, else the file ``<data dir>/secrets.key``, made at the first
seal with mode 0600, and never made again while the store holds values sealed with one (that
would orphan them without a word: a review lost the file, and the next ``peer add`` made a
new key). Back it up apart from the database: without it the sealed credentials cannot be
read; ``scheldt secrets new-key`` makes a new one on purpose, and each credential must then be
entered again (``scheldt peer credential``, a carrier's new subscription or feed; ``scheldt
secrets check`` lists them). Several server processes on one machine share the file; servers on
several machines need the same ``SCHELDT_SECRETS_KEY``.

A stored value without the ``sealed:v1:`` prefix is one written before migration 0023 (which
seals them) and is read as it is.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheldt.errors import ConfigError
from scheldt.settings import get_settings
from scheldt.store.models import PeerRow, SubscriptionRow, TntFeedRow

if TYPE_CHECKING:  # cryptography loads where a secret is sealed or unsealed, not with every command
    from cryptography.fernet import Fernet

log = logging.getLogger(__name__)

PREFIX = "sealed:v1:"
#: File name of the sealing key in the data directory (when ``SCHELDT_SECRETS_KEY`` is not set).
KEY_FILE = "secrets.key"
#: Key files already warned of as readable by others.
_WARNED: set[str] = set()


def key_path() -> Path:
    """Where the sealing key is kept when ``SCHELDT_SECRETS_KEY`` is not set."""
    return get_settings().data_dir / KEY_FILE


def make_key() -> Path:
    """Make the key file (:func:`key_path`, mode 0600) with a new random key, atomically: written
    to a temporary file, then linked into place, so another process never reads it half
    written (a review: four processes sealing at once, one read an empty file). Returns its
    path. Raises FileExistsError when there is one already."""
    from cryptography.fernet import Fernet

    path = key_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # the data folder, as a new store makes it
    fd, tmp = tempfile.mkstemp(prefix=".secrets-", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(Fernet.generate_key() + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, path)  # fails if another process linked its key first
    finally:
        os.unlink(tmp)
    return path


def _fernet(may_make_key: bool) -> Fernet:
    """The node's Fernet from its key; the key file made first when missing and
    ``may_make_key``. Raises ConfigError when the key is malformed, or missing and not to be
    made."""
    from cryptography.fernet import Fernet

    configured = get_settings().secrets_key.strip()
    where = "SCHELDT_SECRETS_KEY" if configured else str(key_path())
    if configured:
        key = configured.encode()
    else:
        path = key_path()
        if may_make_key and not path.exists():
            with contextlib.suppress(FileExistsError):  # another process made it meanwhile
                make_key()
        try:
            key = path.read_bytes().strip()
            if path.stat().st_mode & 0o077 and str(path) not in _WARNED:  # once: unsealed at every pull
                _WARNED.add(str(path))
                log.warning("%s can be read by other users than its owner: chmod 600 it", path)
        except FileNotFoundError:
            raise ConfigError(where, "no sealing key: the credentials sealed with it cannot be read; set "
                                     "SCHELDT_SECRETS_KEY or restore the key file; if it is lost for good, make a "
                                     "new one (scheldt secrets new-key) and enter each credential again (scheldt "
                                     "peer credential; carriers give each subscription a new secret)") from None
    try:
        return Fernet(key)
    except ValueError:
        raise ConfigError(where, "not a sealing key (32 bytes in URL-safe base64, 44 characters)") from None


def is_sealed(stored: str) -> bool:
    """Whether ``stored`` is a sealed value (else a value kept in clear before migration 0023)."""
    return stored.startswith(PREFIX)


def seal(secret: str, *, may_make_key: bool = True) -> str:
    """``secret`` sealed for storage: ``sealed:v1:<Fernet token>``. Makes the key file at first
    use when ``may_make_key`` (callers pass False when the store holds sealed values already:
    :func:`holds_sealed`; a new key would silently orphan them). Raises ConfigError when the
    key is malformed, or missing and not to be made."""
    return PREFIX + _fernet(may_make_key).encrypt(secret.encode("utf-8")).decode("ascii")


def unseal(stored: str) -> str:
    """The secret of a stored value (:func:`seal`'s output; a value without the prefix is
    returned as it is). Raises ConfigError when the key is missing, malformed or not the one it
    was sealed with (the message says what to do)."""
    if not is_sealed(stored):
        return stored
    from cryptography.fernet import InvalidToken

    fernet = _fernet(may_make_key=False)
    try:
        return fernet.decrypt(stored[len(PREFIX):].encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        where = "SCHELDT_SECRETS_KEY" if get_settings().secrets_key.strip() else str(key_path())
        raise ConfigError(where, "this sealing key is not the one the stored credential was sealed with: restore "
                                 "the key, or enter the credential again (scheldt peer credential; carriers "
                                 "give each subscription a new secret)") from None


def holds_sealed(session: Session) -> bool:
    """Whether the store holds a sealed credential still in use: a peer's, an active
    subscription's or an active DCSA Track & Trace feed's (a deleted one's secret is never used
    again; a review found one holding up every new seal while ``scheldt secrets check``, which
    lists the active ones, said nothing)."""
    peer = select(PeerRow.name).where(PeerRow.secret.contains(":" + PREFIX, autoescape=True)).limit(1)
    sub = select(SubscriptionRow.id).where(SubscriptionRow.secret.startswith(PREFIX, autoescape=True),
                                           SubscriptionRow.active.is_(True)).limit(1)
    feed = select(TntFeedRow.id).where(TntFeedRow.secret.startswith(PREFIX, autoescape=True),
                                       TntFeedRow.deleted_at.is_(None)).limit(1)
    return any(session.scalar(q) is not None for q in (peer, sub, feed))


def seal_for(session: Session, secret: str) -> str:
    """:func:`seal` for a store: the key file is made only when the store holds no sealed
    credential yet."""
    return seal(secret, may_make_key=not holds_sealed(session))


def credential_status(stored: str) -> str:
    """Whether the node's key opens a stored value: ``"opens"``, ``"in clear"`` (kept before
    migration 0023) or ``"cannot be opened: <why>"``."""
    if not is_sealed(stored):
        return "in clear"
    try:
        unseal(stored)
    except ConfigError as exc:
        return f"cannot be opened: {exc.why.split(':')[0]}"
    return "opens"


def stored_credentials(session: Session) -> list[dict[str, str]]:
    """Each stored credential (every peer's, every active subscription's and DCSA feed's) with
    :func:`credential_status` and how to enter it again: ``{"kind", "name", "status", "to_mend"}``."""
    out = [{"kind": "peer", "name": name, "to_mend": f"scheldt peer credential {name} ...",
            "status": credential_status(secret.partition(":")[2])}
           for name, secret in session.execute(select(PeerRow.name, PeerRow.secret).order_by(PeerRow.name))]
    out += [{"kind": "subscription", "name": f"{sid} of {org}",
             "to_mend": f"{org} gives it a new secret (PUT /api/v1/subscriptions/{sid}/secret)",
             "status": credential_status(secret)}
            for sid, org, secret in session.execute(
                select(SubscriptionRow.id, SubscriptionRow.organisation_id, SubscriptionRow.secret)
                .where(SubscriptionRow.active.is_(True)).order_by(SubscriptionRow.id))]
    out += [{"kind": "tnt-feed", "name": f"{fid} of {org}",
             "to_mend": f"{org} deletes it, makes a new feed (POST /api/v1/dcsa/tnt/v2/feeds) and subscribes it at its "
                        "publisher",
             "status": credential_status(secret)}
            for fid, org, secret in session.execute(
                select(TntFeedRow.id, TntFeedRow.organisation_id, TntFeedRow.secret)
                .where(TntFeedRow.deleted_at.is_(None)).order_by(TntFeedRow.id))]
    return out
