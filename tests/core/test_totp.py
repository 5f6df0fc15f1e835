"""TOTP codes and recovery codes, as pure functions."""

from __future__ import annotations

import time

from tidecast.core import totp


def test_code_of_now_and_of_neighbouring_steps_match_with_their_step() -> None:
    secret = totp.new_secret()
    now = time.time()
    step = int(now // totp.STEP_SECONDS)
    for offset in (-1, 0, 1):
        code = totp.code_at(secret, now + offset * totp.STEP_SECONDS)
        assert totp.matching_step(secret, code, now) == step + offset


def test_old_code_wrong_code_and_garbage_do_not_match() -> None:
    secret = totp.new_secret()
    now = time.time()
    old = totp.code_at(secret, now - 5 * totp.STEP_SECONDS)
    assert totp.matching_step(secret, old, now) is None
    current = totp.code_at(secret, now)
    wrong = f"{(int(current) + 1) % 1_000_000:06d}"
    assert totp.matching_step(secret, wrong, now) is None
    fullwidth = "".join(chr(0xFF10 + int(digit)) for digit in current)  # str.isdigit() says yes
    for garbage in (None, "", "12345", "1234567", "abcdef", fullwidth, 123456):
        assert totp.matching_step(secret, garbage, now) is None


def test_provisioning_uri_names_account_and_issuer() -> None:
    secret = totp.new_secret()
    uri = totp.provisioning_uri(secret, "boss", "tidecast")
    assert uri.startswith("otpauth://totp/tidecast:boss?")
    assert f"secret={secret}" in uri and "issuer=tidecast" in uri


def test_recovery_codes_are_random_and_match_normalised() -> None:
    codes = totp.new_recovery_codes()
    assert len(codes) == totp.RECOVERY_CODES == len(set(codes))
    digests = [totp.recovery_digest(code) for code in codes]
    code = codes[3]
    assert totp.find_recovery(digests, code) == 3
    assert totp.find_recovery(digests, code.upper().replace("-", "")) == 3
    assert totp.find_recovery(digests, "aaaa-bbbb-cccc") is None
    assert totp.find_recovery(digests, None) is None
    assert totp.find_recovery(digests, "") is None
    assert code not in "".join(digests)
