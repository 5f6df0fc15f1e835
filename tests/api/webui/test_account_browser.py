"""The account pages in headless Chromium: the avatar under the page's CSP, two-factor
enrolment from the QR code as a phone would read it, and the two-step sign-in after it."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
import zxingcpp
from PIL import Image
from playwright.async_api import Page, expect

from .conftest import screenshots, sign_in
from support.tools import needs

pytestmark = needs("chromium")


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """What a browser sees does not depend on the database: SQLite suffices."""
    return f"sqlite:///{tmp_path / 'tidecast.db'}"


def read_qr(png: bytes) -> str:
    """The text of the one QR code in a screenshot, decoded as a phone's camera would."""
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(found) == 1, found
    assert found[0].format == zxingcpp.BarcodeFormat.QRCode
    return str(found[0].text)


def avatar_png(tmp_path: Path) -> Path:
    path = tmp_path / "me.png"
    Image.effect_noise((64, 64), 64).convert("RGB").save(path)
    return path


async def test_the_profile_and_avatar(page: Page, tmp_path: Path) -> None:
    await sign_in(page)
    await page.get_by_role("link", name="Account").click()
    await expect(page).to_have_url(re.compile(r"/webui/account$"))
    await expect(page.get_by_role("heading", name="Your account")).to_be_visible()

    await page.get_by_label("Email").fill("not-an-address")
    await page.get_by_role("button", name="Save profile").click()
    email = page.get_by_label("Email")
    await expect(email).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#email-error")).to_have_text("Email is not a valid address.")

    await email.fill("alice@example.com")
    await page.get_by_label("Main language of series").fill("fre")
    await page.get_by_role("button", name="Save profile").click()
    await expect(page.locator("#notice")).to_have_text("Your profile is saved.")

    await page.get_by_label("New avatar").set_input_files(avatar_png(tmp_path))
    await page.get_by_role("button", name="Upload avatar").click()
    await expect(page.locator("#notice")).to_have_text("Your new avatar is saved.")
    avatar = page.get_by_role("img", name="Your current avatar")
    await expect(avatar).to_be_visible()
    # Loaded, not blocked: the CSP lets same-origin images in.
    loaded = "img => img.complete && img.naturalWidth === 64"
    await page.wait_for_function(loaded, arg=await avatar.element_handle())
    await screenshots(page, "account")


async def test_enrol_two_factor_from_the_qr_codes_secret(page: Page) -> None:
    await sign_in(page)
    await page.goto("/webui/account")
    await (
        page.get_by_role("navigation", name="Account")
        .get_by_role("link", name="Two-factor")
        .click()
    )
    await page.get_by_role("button", name="Set up two-factor").click()
    qr = page.get_by_role("img", name=re.compile("QR code of your two-factor secret"))
    await expect(qr).to_be_visible()
    uri = read_qr(await qr.screenshot())
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert "alice" in parts.path
    secret = parse_qs(parts.query)["secret"][0]
    await expect(page.locator("#tfa-secret")).to_have_text(secret)
    await screenshots(page, "account-2fa")

    await page.get_by_label("Code from your app").fill("000000")
    await page.get_by_role("button", name="Turn two-factor on").click()
    await expect(page.locator("#code-error")).to_be_visible()
    await page.get_by_label("Code from your app").fill(pyotp.TOTP(secret).now())
    await page.get_by_role("button", name="Turn two-factor on").click()
    await expect(page.locator("#recovery-codes li")).to_have_count(10)

    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(re.compile(r"/webui/login$"))
    await sign_in(page)
    await expect(page).to_have_url(re.compile(r"/webui/login/code"))
    await expect(page.get_by_text("Signed in as")).to_have_count(0)
    # A fresh code: the one that confirmed the enrolment is spent, so take the next step's.
    await page.get_by_label("Six-digit code").fill(pyotp.TOTP(secret).at(time.time() + 30))
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(r"/webui/watch$"))
    await expect(page.get_by_text("Signed in as")).to_contain_text("Alice")


async def test_continue_as_guest(page: Page) -> None:
    await page.goto("/webui/login")
    await page.get_by_role("button", name="Continue as guest").click()
    await expect(page).to_have_url(re.compile(r"/webui/watch$"))
    await expect(page.get_by_text("Signed in as")).to_contain_text("guest-")
