"""Time-based one-time passwords (RFC 6238) and recovery codes, as pure functions.

Codes are the usual six digits over 30-second steps, accepted one step either side of
now (clocks drift). :func:`matching_step` answers *which* step a code belongs to, so
the caller can refuse a step it accepted before: a code is good once.

Recovery codes are random, shown once, and kept only as SHA-256 digests of their
normalised form (lower case, no separators), so ``ABCD-EFGH-JKMN`` and ``abcdefghjkmn``
are the same code.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper
_RECOVERY_GROUPS = 3
_RECOVERY_GROUP_LENGTH = 4


def new_secret() -> str:
    """A random base32 secret (160 bits, as RFC 4226 recommends)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The ``otpauth://totp/…`` URI an authenticator app reads from a QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=issuer
    )


def code_at(secret: str, when: float) -> str:
    """The code for the step holding ``when`` (tests and enrolment checks use it)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).at(when)


def matching_step(secret: str, code: object, now: float | None = None) -> int | None:
    """The time step whose code ``code`` is (now, or one step either side); None if none."""
    if not isinstance(code, str):
        return None
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    found = None
    # Every candidate is compared, so the time taken tells nothing about which matched.
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def new_recovery_codes(count: int = RECOVERY_CODES) -> list[str]:
    """Codes like ``k7pq-x2mz-4hbn`` (about 71 bits each)."""
    return [_recovery_code() for _ in range(count)]


def _recovery_code() -> str:
    groups = (
        "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_GROUP_LENGTH))
        for _ in range(_RECOVERY_GROUPS)
    )
    return "-".join(groups)


def recovery_digest(code: str) -> str:
    """What is stored for a recovery code: SHA-256 of its normalised form, hex."""
    normal = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(normal.encode()).hexdigest()


def find_recovery(digests: list[str], code: object) -> int | None:
    """The index of ``code``'s digest among ``digests``; None if it is not one of them."""
    if not isinstance(code, str) or not code.strip() or len(code) > 64:
        return None
    wanted = recovery_digest(code)
    found = None
    for index, digest in enumerate(digests):
        if hmac.compare_digest(digest, wanted):
            found = index
    return found
