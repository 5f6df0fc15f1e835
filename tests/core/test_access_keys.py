"""Access keys: Ed25519-signed, bound to a server, expiring; every forgery refused."""

from __future__ import annotations

import base64
import json
import time

import pytest

from tidecast.core.access_keys import (
    KeyClaims,
    KeySigner,
    load_public_key,
    verify_key,
)
from tidecast.core.errors import AccessDenied
from tidecast.core.instance_secret import InstanceSecret

NOW = int(time.time())
CLAIMS = KeyClaims(
    user_id=1, device_id=7, generation=0, server_id=3, issued_at=NOW, expires_at=NOW + 3600
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture
def signer() -> KeySigner:
    return KeySigner(InstanceSecret(b"control secret"))


def test_a_key_verifies_with_the_public_key_alone(signer: KeySigner) -> None:
    key = signer.sign(CLAIMS)
    public = load_public_key(signer.public_key)
    assert verify_key(key, public, server_id=3) == CLAIMS
    assert key.startswith("tk1.") and key.isascii() and " " not in key


def test_the_signing_key_survives_restarts(signer: KeySigner) -> None:
    again = KeySigner(InstanceSecret(b"control secret"))
    assert again.public_key == signer.public_key
    assert KeySigner(InstanceSecret(b"another")).public_key != signer.public_key


def test_forged_tampered_foreign_and_expired_keys_are_refused(signer: KeySigner) -> None:
    public = load_public_key(signer.public_key)
    key = signer.sign(CLAIMS)
    prefix, payload, signature = key.split(".")
    forged = KeySigner(InstanceSecret(b"attacker")).sign(CLAIMS)
    claims = json.loads(_unb64(payload))
    tampered_payload = _b64(json.dumps({**claims, "s": 4}).encode())
    bad = {
        "forged signature": forged,
        "tampered payload": f"{prefix}.{tampered_payload}.{signature}",
        "signature of another key": f"{prefix}.{payload}.{forged.split('.')[2]}",
        "truncated signature": key[:-4],
        "no signature": f"{prefix}.{payload}",
        "garbage": "tk1.!!!.???",
        "other format": "ss://abc@host:1",
        "empty": "",
    }
    for label, candidate in bad.items():
        with pytest.raises(AccessDenied) as caught:
            verify_key(candidate, public, server_id=3)
        assert caught.value.reason == "bad_access_key", label
    with pytest.raises(AccessDenied, match="another server"):
        verify_key(key, public, server_id=4)
    with pytest.raises(AccessDenied, match="expired"):
        verify_key(key, public, server_id=3, now=CLAIMS.expires_at)
    expired = signer.sign(KeyClaims(1, 7, 0, 3, NOW - 100, NOW - 1))
    with pytest.raises(AccessDenied, match="expired"):
        verify_key(expired, public, server_id=3)


def test_a_signed_payload_with_wrong_types_is_refused(signer: KeySigner) -> None:
    # Even a validly signed payload must carry integers (e.g. after a format change).
    private = signer._private
    signed = "tk1." + _b64(
        json.dumps({"u": "1", "d": 7, "g": 0, "s": 3, "iat": 0, "exp": 9e9}).encode()
    )
    key = signed + "." + _b64(private.sign(signed.encode()))
    with pytest.raises(AccessDenied, match="malformed"):
        verify_key(key, load_public_key(signer.public_key), server_id=3)


def test_public_keys_that_are_not_keys_are_rejected() -> None:
    for text in ("", "abc", _b64(b"x" * 31)):
        with pytest.raises(ValueError):
            load_public_key(text)
