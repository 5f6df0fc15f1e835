"""Access keys: what lets a device stream from a server, signed by the control instance.

A key is ``tk1.<payload>.<signature>`` (base64url), the payload a JSON object naming the
user (``u``), device (``d``), the device's key generation (``g``), the server (``s``),
and when it was issued and expires (``iat``, ``exp``, UNIX seconds). It is signed with
Ed25519; the private key is derived from the instance secret, so keys survive restarts
and the public key is all a node needs to verify one offline.

Revocation: revoking a device moves its key generation on. The control checks the
device row itself; a node learns the generations of recently revoked devices from each
heartbeat answer, so a revoked device's key dies on a node within one interval.
"""

from __future__ import annotations

import base64
import binascii
import time
from dataclasses import dataclass

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tidecast.core.errors import AccessDenied
from tidecast.core.instance_secret import InstanceSecret

PREFIX = "tk1."
_MAX_KEY = 2048


@dataclass(frozen=True, slots=True)
class KeyClaims:
    user_id: int
    device_id: int
    generation: int
    server_id: int
    issued_at: int
    expires_at: int


class KeySigner:
    """The control instance's signing key (derived, never stored)."""

    def __init__(self, secret: InstanceSecret) -> None:
        self._private = Ed25519PrivateKey.from_private_bytes(secret.derive("access-keys"))
        self.public = self._private.public_key()
        self.public_key = public_key_text(self.public)

    def sign(self, claims: KeyClaims) -> str:
        payload = orjson.dumps(
            {
                "u": claims.user_id,
                "d": claims.device_id,
                "g": claims.generation,
                "s": claims.server_id,
                "iat": claims.issued_at,
                "exp": claims.expires_at,
            }
        )
        signed = PREFIX + _b64encode(payload)
        return signed + "." + _b64encode(self._private.sign(signed.encode()))


def public_key_text(key: Ed25519PublicKey) -> str:
    return _b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def load_public_key(text: str) -> Ed25519PublicKey:
    """The control's public key as a node stores it (raw, base64url); ValueError if bad."""
    try:
        return Ed25519PublicKey.from_public_bytes(_b64decode(text))
    except (ValueError, binascii.Error) as exc:
        raise ValueError("not an Ed25519 public key") from exc


def verify_key(
    key: str, public_key: Ed25519PublicKey, *, server_id: int, now: float | None = None
) -> KeyClaims:
    """The claims of a key signed by ``public_key`` for ``server_id`` and not expired.

    AccessDenied(reason="bad_access_key") for anything else; the message says which
    check failed but never echoes the key.
    """
    claims = _verified_claims(key, public_key)
    if claims.server_id != server_id:
        raise AccessDenied("access key is for another server", reason="bad_access_key")
    if claims.expires_at <= (time.time() if now is None else now):
        raise AccessDenied("access key expired", reason="bad_access_key")
    return claims


def _verified_claims(key: str, public_key: Ed25519PublicKey) -> KeyClaims:
    malformed = AccessDenied("malformed access key", reason="bad_access_key")
    if not key.startswith(PREFIX) or len(key) > _MAX_KEY or key.count(".") != 2:
        raise malformed
    signed, _, signature = key.rpartition(".")
    try:
        public_key.verify(_b64decode(signature), signed.encode())
    except (InvalidSignature, ValueError, binascii.Error):
        raise AccessDenied("access key signature invalid", reason="bad_access_key") from None
    try:
        payload = orjson.loads(_b64decode(signed[len(PREFIX) :]))
        fields = [payload[name] for name in ("u", "d", "g", "s", "iat", "exp")]
    except (ValueError, binascii.Error, TypeError, KeyError, orjson.JSONDecodeError):
        raise malformed from None
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in fields):
        raise malformed
    return KeyClaims(*fields)


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    if not text.isascii():
        raise ValueError("not base64")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
