"""Debian programs some tests drive (mpv, ffprobe, chromium): skipped without them, except in CI.

``.ci/run`` (and ``scripts/test`` when it may) installs them, so under ``CI`` a missing
program fails the test instead of skipping it.
"""

from __future__ import annotations

import shutil

import pytest

from support.postgres import running_in_ci


def needs(program: str) -> pytest.MarkDecorator:
    missing = shutil.which(program) is None
    if missing and running_in_ci():
        raise RuntimeError(f"{program} is required under CI (Debian package not installed)")
    return pytest.mark.skipif(missing, reason=f"{program} is not installed")
