"""Captchas on ``Admin.Login`` (here needed from the first attempt): codes 4 and 5, one
use per captcha, ``Captcha.Get``, and ``DisableCaptcha`` only with a valid admin key."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable

import pytest
from PIL import Image

from tidecast.core.services import Services
from tidecast.core.users import User
from tidecast.settings import Settings

from .conftest import PASSWORD, AdminApi, codes


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(admin_captcha_after_failures=0)


async def test_missing_captcha_is_4_and_wrong_captcha_is_5(
    api: AdminApi, operator: User, services: Services
) -> None:
    body = await api.call("Admin.Login", Username="boss", Password=PASSWORD)
    assert codes(body) == [4] and body["ErrorText"] == ["Missing captcha"]
    captcha_id = services.captchas.remember("K7PQX2")
    body = await api.call(
        "Admin.Login", Username="boss", Password=PASSWORD, CaptchaID=captcha_id, Captcha="K7PQX3"
    )
    assert codes(body) == [5] and body["ErrorText"] == ["Invalid captcha"]
    # A wrong answer spent it: the right one no longer helps.
    body = await api.call(
        "Admin.Login", Username="boss", Password=PASSWORD, CaptchaID=captcha_id, Captcha="K7PQX2"
    )
    assert codes(body) == [5]
    assert codes(
        await api.call("Admin.Login", Username="boss", Password=PASSWORD, Captcha="K7PQX2")
    ) == [5]


async def test_a_solved_captcha_cannot_be_reused(
    api: AdminApi, operator: User, services: Services
) -> None:
    captcha_id = services.captchas.remember("ABCDEF")
    answer = {"CaptchaID": captcha_id, "Captcha": "abcdef"}
    await api.ok("Admin.Login", Username="boss", Password=PASSWORD, **answer)
    assert codes(await api.call("Admin.Login", Username="boss", Password=PASSWORD, **answer)) == [5]


async def test_captcha_get_answers_a_png_for_one_attempt(api: AdminApi, operator: User) -> None:
    body = await api.ok("Captcha.Get")
    prefix = "data:image/png;base64,"
    assert body["CaptchaImage"].startswith(prefix)
    image = Image.open(io.BytesIO(base64.b64decode(body["CaptchaImage"][len(prefix) :])))
    assert image.format == "PNG"
    guess = {"CaptchaID": body["CaptchaID"], "Captcha": "AAAAAA"}
    assert codes(await api.call("Admin.Login", Username="boss", Password=PASSWORD, **guess)) == [5]


async def test_disable_captcha_counts_only_with_a_valid_admin_key(
    api: AdminApi, operator: User, admin_key: str, services: Services
) -> None:
    login = {"Username": "boss", "Password": PASSWORD, "DisableCaptcha": "true"}
    assert codes(await api.call("Admin.Login", **login)) == [4]
    assert codes(await api.call("Admin.Login", **login, AdminApiKey="forged-key")) == [4]
    body = await api.ok("Admin.Login", **login, AdminApiKey=admin_key)
    assert body["AdminInfo"]["Username"] == "boss"
    # The key of an account that is no operator (any more) does not count.
    other = await services.accounts.create("helper", PASSWORD, role="admin", trusted=True)
    _info, helper_key = await services.admin_auth.create_api_key(other, "k")
    await services.accounts.edit("helper", {"type": 1}, actor=operator)
    assert codes(await api.call("Admin.Login", **login, AdminApiKey=helper_key)) == [4]
