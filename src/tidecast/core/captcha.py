"""Image captchas for logins that failed too often (``Captcha.Get``, ``Admin.Login``).

A captcha is a PNG of random characters, each rotated and shifted, bent by a wave,
crossed by lines and sprinkled with noise. Only an HMAC of its answer is kept, in
memory, under a random id, until it expires or is checked: a captcha answers one check,
right or wrong, so a guess costs a new image.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import math
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFilter, ImageFont

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: they look alike
LENGTH = 6
WIDTH, HEIGHT = 220, 80
MAX_PENDING = 10_000
"""Captchas held at once; the oldest is dropped first, so a flood costs bounded memory."""
CONCURRENT_DRAWINGS = 2
"""Images drawn at once (~20 ms of a core each); a flood queues instead of taking the CPU."""


@dataclass(frozen=True, slots=True)
class Captcha:
    id: str
    png: bytes


class Captchas:
    """Issues captchas and checks answers, each once."""

    def __init__(self, lifetime_seconds: float, *, max_pending: int = MAX_PENDING) -> None:
        self._lifetime = lifetime_seconds
        self._max_pending = max_pending
        self._key = secrets.token_bytes(32)
        self._pending: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._drawing = asyncio.Semaphore(CONCURRENT_DRAWINGS)

    async def new(self) -> Captcha:
        answer = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        async with self._drawing:
            png = await asyncio.to_thread(draw, answer)
        return Captcha(self.remember(answer), png)

    def remember(self, answer: str) -> str:
        """Keep ``answer``'s digest under a new id (``new`` draws the image for it)."""
        self._expire(time.monotonic())
        while len(self._pending) >= self._max_pending:
            self._pending.popitem(last=False)
        captcha_id = secrets.token_urlsafe(16)
        self._pending[captcha_id] = (self._digest(answer), time.monotonic() + self._lifetime)
        return captcha_id

    def check(self, captcha_id: object, answer: object) -> bool:
        """Whether ``answer`` solves captcha ``captcha_id`` (letter case aside); the
        captcha is spent either way."""
        if not isinstance(captcha_id, str) or not isinstance(answer, str):
            return False
        entry = self._pending.pop(captcha_id, None)
        if entry is None or entry[1] < time.monotonic():
            return False
        return hmac.compare_digest(entry[0], self._digest(answer))

    def _digest(self, answer: str) -> str:
        normal = answer.strip().upper().encode()
        return hmac.new(self._key, normal, hashlib.sha256).hexdigest()

    def _expire(self, now: float) -> None:
        while self._pending:
            oldest_id, (_digest, expires) = next(iter(self._pending.items()))
            if expires >= now:
                return
            del self._pending[oldest_id]


def draw(text: str) -> bytes:
    """A PNG of ``text``, distorted enough to trouble a machine but read by a person."""
    rng = secrets.SystemRandom()
    image = Image.new("RGB", (WIDTH, HEIGHT), _light(rng))
    _draw_characters(image, text, rng)
    image = _wave(image, rng)
    _draw_noise(image, rng)
    image = image.filter(ImageFilter.SMOOTH)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def _light(rng: secrets.SystemRandom) -> tuple[int, int, int]:
    return (rng.randint(225, 255), rng.randint(225, 255), rng.randint(225, 255))


def _dark(rng: secrets.SystemRandom) -> tuple[int, int, int]:
    return (rng.randint(10, 110), rng.randint(10, 110), rng.randint(10, 110))


def _draw_characters(image: Image.Image, text: str, rng: secrets.SystemRandom) -> None:
    slot = (WIDTH - 20) // len(text)
    for index, char in enumerate(text):
        font = ImageFont.load_default(size=rng.randint(34, 44))
        tile = Image.new("RGBA", (slot + 24, HEIGHT), (0, 0, 0, 0))
        ImageDraw.Draw(tile).text((10, rng.randint(4, 18)), char, font=font, fill=_dark(rng))
        tile = tile.rotate(rng.uniform(-32, 32), resample=Image.Resampling.BICUBIC)
        x = 10 + index * slot + rng.randint(-4, 4) - 10
        image.paste(tile, (x, rng.randint(-6, 6)), tile)


def _wave(image: Image.Image, rng: secrets.SystemRandom) -> Image.Image:
    """Shift each column up or down along a sine wave."""
    amplitude = rng.uniform(3.0, 6.0)
    period = rng.uniform(50.0, 90.0)
    phase = rng.uniform(0, 2 * math.pi)
    out = Image.new("RGB", image.size, image.getpixel((0, 0)))
    for x in range(WIDTH):
        dy = int(amplitude * math.sin(2 * math.pi * x / period + phase))
        out.paste(image.crop((x, 0, x + 1, HEIGHT)), (x, dy))
    return out


def _draw_noise(image: Image.Image, rng: secrets.SystemRandom) -> None:
    pen = ImageDraw.Draw(image)
    for _ in range(rng.randint(3, 5)):
        points = [(rng.randint(0, WIDTH), rng.randint(0, HEIGHT)) for _ in range(3)]
        pen.line(points, fill=_dark(rng), width=rng.randint(1, 2))
    for _ in range(WIDTH * HEIGHT // 25):
        xy = (rng.randrange(WIDTH), rng.randrange(HEIGHT))
        pen.point(xy, fill=_dark(rng) if rng.random() < 0.5 else _light(rng))
