"""Captchas: a real PNG, answers kept hashed, each captcha good for one check."""

from __future__ import annotations

import io
import time

from PIL import Image

from tidecast.core.captcha import HEIGHT, LENGTH, WIDTH, Captchas, draw


async def test_new_captcha_is_a_png_and_its_id_is_random() -> None:
    captchas = Captchas(60)
    first, second = await captchas.new(), await captchas.new()
    image = Image.open(io.BytesIO(first.png))
    assert image.format == "PNG" and image.size == (WIDTH, HEIGHT)
    assert first.id != second.id and len(first.id) >= 20


def test_images_differ_for_the_same_text() -> None:
    """Noise and distortion are random: the same answer never draws the same image."""
    assert draw("ABCDEF") != draw("ABCDEF")


def test_right_answer_passes_once_whatever_its_case() -> None:
    captchas = Captchas(60)
    captcha_id = captchas.remember("K7PQX2")
    assert captchas.check(captcha_id, " k7pqx2 ")
    assert not captchas.check(captcha_id, "K7PQX2")  # spent


def test_wrong_answer_spends_the_captcha() -> None:
    captchas = Captchas(60)
    captcha_id = captchas.remember("K7PQX2")
    assert not captchas.check(captcha_id, "K7PQX3")
    assert not captchas.check(captcha_id, "K7PQX2")


def test_unknown_id_and_wrong_types_fail() -> None:
    captchas = Captchas(60)
    assert not captchas.check("nope", "ABCDEF")
    assert not captchas.check(None, "ABCDEF")
    assert not captchas.check(captchas.remember("ABCDEF"), None)


def test_expired_captcha_fails() -> None:
    captchas = Captchas(0.05)
    captcha_id = captchas.remember("ABCDEF")
    time.sleep(0.1)
    assert not captchas.check(captcha_id, "ABCDEF")


def test_answers_are_not_kept_in_clear() -> None:
    captchas = Captchas(60)
    captchas.remember("ZXCVBN")
    assert "ZXCVBN" not in repr(vars(captchas))


def test_pending_captchas_are_bounded() -> None:
    captchas = Captchas(60, max_pending=3)
    ids = [captchas.remember("ABCDEF") for _ in range(5)]
    assert not captchas.check(ids[0], "ABCDEF")  # the oldest were dropped
    assert captchas.check(ids[-1], "ABCDEF")


def test_answer_length() -> None:
    assert LENGTH >= 5
