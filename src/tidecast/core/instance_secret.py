"""The instance secret: one random key from which tidecast derives what it signs and encrypts.

It comes from the ``secret_key`` setting or, when that is empty, from
``DATA_DIR/secret_key`` (created once with 32 random bytes, mode 0600). Derived keys are
HMAC-SHA256(secret, purpose), so each use has its own key and none reveals the secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from tidecast.core.errors import TidecastError

SECRET_FILE = "secret_key"  # noqa: S105 - a file name, not a secret


def load_or_create_secret(configured: str, data_dir: Path) -> bytes:
    if configured:
        return configured.encode()
    path = data_dir / SECRET_FILE
    if path.exists():
        return path.read_text().strip().encode()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value.encode()


class InstanceSecret:
    """Derives purpose-bound keys from the instance secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self._fernet = Fernet(base64.urlsafe_b64encode(self.derive("fernet-v1")))

    def derive(self, purpose: str) -> bytes:
        return hmac.new(self._secret, purpose.encode(), hashlib.sha256).digest()

    def encrypt(self, plain: str) -> str:
        if not plain:
            return ""
        return self._fernet.encrypt(plain.encode()).decode()

    def decrypt(self, token: str) -> str:
        if not token:
            return ""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise TidecastError("stored secret cannot be decrypted with this instance key") from exc


def hash_token(token: str) -> str:
    """What the credentials table stores for a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()
