"""Password hashing: argon2id (argon2-cffi's defaults), run off the event loop."""

from __future__ import annotations

import asyncio
import threading
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from tidecast.core.errors import InvalidInput

MIN_LENGTH = 8
MAX_LENGTH = 1024
_HASHER = PasswordHasher()  # argon2id; stateless, safe to share
CONCURRENT_HASHES = 2
# Each argon2id run takes 64 MiB and a core for ~0.1 s: at most this many run at once, so
# a flood of logins or sign-ups queues instead of exhausting memory and CPU.
_SLOTS = threading.BoundedSemaphore(CONCURRENT_HASHES)


@cache
def _dummy_hash() -> str:
    """Verified against when an account does not exist, so a miss costs what a hit costs."""
    return _HASHER.hash("tidecast-timing-equaliser")


def _hash(password: str) -> str:
    with _SLOTS:
        return _HASHER.hash(password)


def check_strength(password: object) -> None:
    if not isinstance(password, str):
        raise InvalidInput("password must be text", field="password")
    if len(password) < MIN_LENGTH:
        raise InvalidInput(
            f"password must have at least {MIN_LENGTH} characters",
            field="password",
            reason="password_too_short",
        )
    if len(password) > MAX_LENGTH:
        raise InvalidInput("password is too long", field="password")


async def hash_password(password: str) -> str:
    check_strength(password)
    return await asyncio.to_thread(_hash, password)


async def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant work whether or not there is a hash to check against.

    A password no account could have (not text, or over :data:`MAX_LENGTH`) is refused
    without hashing, so nobody makes the server hash megabytes.
    """
    if not isinstance(password, str) or len(password) > MAX_LENGTH:
        return False
    return await asyncio.to_thread(_verify, stored_hash, password)


def _verify(stored_hash: str | None, password: str) -> bool:
    against = stored_hash or _dummy_hash()
    with _SLOTS:
        try:
            return _HASHER.verify(against, password) and stored_hash is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
