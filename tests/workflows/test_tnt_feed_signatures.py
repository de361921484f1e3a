"""The DCSA Track & Trace 2.2 ``Notification-Signature`` check (DCSA EVENT_DOMAIN: ``sha256=<hex>``,
HMAC-SHA256 of the whole body under the Base64 secret's bytes), property-based: a signature made
with the standard library's hmac over the body passes, in either case of hex and with
surrounding spaces; any changed body byte, another key or a cut signature fails."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheldt.errors import AuthError
from scheldt.workflows.tnt_feeds import body_mac, check_signature


def _mac(key: bytes, body: bytes) -> object:
    mac = body_mac(key)
    for start in range(0, len(body), 7):  # fed in pieces, as a body streams in
        mac.update(body[start:start + 7])
    return mac


@given(key=st.binary(min_size=1, max_size=64), body=st.binary(max_size=2000), upper=st.booleans())
def test_a_signature_over_the_body_passes(key: bytes, body: bytes, upper: bool) -> None:
    hexed = hmac.new(key, body, hashlib.sha256).hexdigest()
    check_signature(f"  {'SHA256' if upper else 'sha256'}={hexed.upper() if upper else hexed} ", key, _mac(key, body))


@given(key=st.binary(min_size=1, max_size=64), body=st.binary(min_size=1, max_size=2000), at=st.integers(0, 10**6),
       flip=st.integers(1, 255))
def test_a_changed_body_fails(key: bytes, body: bytes, at: int, flip: int) -> None:
    signed = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
    changed = bytearray(body)
    changed[at % len(body)] ^= flip
    with pytest.raises(AuthError) as refused:
        check_signature(signed, key, _mac(key, bytes(changed)))
    assert refused.value.where == "header.notification-signature"
    assert refused.value.why.startswith("does not match the body")


@pytest.mark.parametrize(("header", "why"), [
    (None, "missing: DCSA T&T 2.2 signs each callback"),
    ("", "missing: DCSA T&T 2.2 signs each callback"),
    ("sha1=00", "'sha1=00': give sha256=<hex>"),
    ("a2b4", "'a2b4': give sha256=<hex>"),
    ("sha256=xyz", "the signature after sha256= is not hexadecimal"),
    ("sha256=" + "00" * 31, "does not match the body"),  # a cut signature
])
def test_what_is_wrong_with_a_signature_is_said(header: str | None, why: str) -> None:
    with pytest.raises(AuthError) as refused:
        check_signature(header, b"k" * 32, _mac(b"k" * 32, b"[]"))
    assert refused.value.why.startswith(why)
    assert refused.value.status == 401
