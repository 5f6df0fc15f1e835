"""Every page of the web UI checked by axe-core at a phone's and a desktop's width, in the
light and the dark colour scheme, and driven from the keyboard alone.

axe-core comes from npm (a devDependency in ``webui/``, installed by ``scripts/build-webui``).
Without it the audits are skipped, except in CI, where a missing file fails them. The
audits run in a context that bypasses the page's CSP only to inject axe-core; the keyboard
tests run under the real CSP.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.async_api import Browser, Locator, Page, expect

from tidecast.core.playlists import NewItem
from tidecast.core.services import Services
from tidecast.engine.torrent_reader import read_transport_file

from .conftest import DESKTOP, PASSWORD, PHONE, sign_in
from support.media import make_video
from support.postgres import running_in_ci
from support.swarm import Seeder, Tracker, magnet
from support.tools import needs
from support.torrents import make_torrent

pytestmark = needs("chromium")

AXE = Path(__file__).resolve().parents[3] / "webui" / "node_modules" / "axe-core" / "axe.min.js"
NARROW = {"width": 320, "height": 640}

needs_axe = pytest.mark.skipif(
    not AXE.is_file() and not running_in_ci(),
    reason="axe-core is not installed: run scripts/build-webui",
)

# WCAG 2.0 and 2.1, levels A and AA, of which what axe-core rates serious or critical
# fails; then its best practices (landmarks, heading order, duplicate ids…), of which
# anything fails. Two of those are experimental and only ask for a human's review.
RUN_AXE = """
async (wcag) => {
  const rules = axe.getRules(["best-practice"]).map(r => r.ruleId)
    .filter(id => id !== "hidden-content" && id !== "focus-order-semantics")
    .concat(["duplicate-id", "duplicate-id-active"]);
  const result = await axe.run(document, {
    runOnly: wcag
      ? {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}
      : {type: "rule", values: rules},
    resultTypes: ["violations"],
  });
  return result.violations
    .filter(v => !wcag || v.impact === "serious" || v.impact === "critical")
    .map(v => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map(n => n.target.join(" ") + ": "
        + (n.failureSummary || "").replace(/\\s+/g, " ").trim()),
    }));
}
"""

# How wide the page is, how wide the window, and the innermost elements that stick out.
OVERFLOW = """
() => {
  const out = [...document.body.querySelectorAll("*")].filter(e =>
    e.getBoundingClientRect().right > window.innerWidth + 0.5
    && ![...e.children].some(c => c.getBoundingClientRect().right > window.innerWidth + 0.5));
  return [document.documentElement.scrollWidth, window.innerWidth,
          out.slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
            + (e.className ? "." + String(e.className).replace(/ /g, ".") : ""))];
}
"""

# WCAG 1.4.3 and 1.4.11 by hand, where axe-core does not look: a form field's border, and
# the focus outline, must stand out 3:1 from what is behind them.
CONTRAST = """
const rgb = text => (text.match(/[\\d.]+/g) || []).map(Number);
const luminance = ([r, g, b]) => {
  const linear = c => (c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
};
const ratio = (a, b) => {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light + 0.05) / (dark + 0.05);
};
const behind = element => {
  for (let node = element.parentElement; node; node = node.parentElement) {
    const colour = rgb(getComputedStyle(node).backgroundColor);
    if (colour.length < 4 || colour[3] > 0) return colour;
  }
  return [255, 255, 255];
};
"""

FIELD_BORDERS = (
    "() => {"
    + CONTRAST
    + """
  const fields = document.querySelectorAll(
    "input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=file]),"
    + " select, textarea");
  const weak = [];
  for (const field of fields) {
    if (!field.checkVisibility()) continue;
    const border = getComputedStyle(field).borderTopColor;
    const contrast = ratio(rgb(border), behind(field));
    if (contrast < 3) weak.push(`#${field.id}: border ${border}, ${contrast.toFixed(2)}:1`);
  }
  return weak;
}
"""
)

# What the keyboard focus is on, and whether it shows.
FOCUSED = (
    "() => {"
    + CONTRAST
    + """
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const style = getComputedStyle(e);
  const name = (e.getAttribute("aria-label") || (e.labels && e.labels[0] && e.labels[0].textContent)
    || e.textContent || e.value || "").replace(/\\s+/g, " ").trim();
  return {
    tag: e.tagName.toLowerCase(), id: e.id, name: name,
    outline: style.outlineStyle, outlineWidth: style.outlineWidth,
    contrast: ratio(rgb(style.outlineColor), behind(e)),
  };
}
"""
)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """What a browser sees does not depend on the database: SQLite suffices."""
    return f"sqlite:///{tmp_path / 'tidecast.db'}"


class Audit:
    """Runs axe-core, the fields' border contrast and the overflow check on the page at
    every width and colour scheme, and gathers what fails so that one assertion lists it
    all."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.problems: list[str] = []
        self.pages: list[str] = []

    async def check(self, name: str) -> None:
        assert AXE.is_file(), "axe-core is not installed: run scripts/build-webui"
        page = self.page
        self.pages.append(name)
        for scheme in ("light", "dark"):
            await page.emulate_media(color_scheme=scheme)
            for width, size in (("phone", PHONE), ("desktop", DESKTOP)):
                await page.set_viewport_size(size)
                path = page.url.split("/webui", 1)[-1].split("?")[0]
                where = f"{name} ({path}, {width}, {scheme})"
                if width == "phone":
                    # Reflow (WCAG 1.4.10) asks for 320 CSS pixels; a phone has 390.
                    for narrow in (NARROW, PHONE):
                        await page.set_viewport_size(narrow)
                        scroll, inner, out = await page.evaluate(OVERFLOW)
                        if scroll > inner:
                            self.problems.append(
                                f"{where}: horizontal overflow, {scroll}px wide in {inner}px:"
                                f" {', '.join(out)}"
                            )
                for weak in await page.evaluate(FIELD_BORDERS):
                    self.problems.append(f"{where}: a field's border is faint: {weak}")
                if not await page.evaluate("() => typeof window.axe === 'object'"):
                    await page.add_script_tag(path=AXE)
                violations: list[dict[str, Any]] = await page.evaluate(RUN_AXE, True)
                if scheme == "light":  # the markup is the same in both schemes
                    violations += await page.evaluate(RUN_AXE, False)
                for violation in violations:
                    nodes = "\n      ".join(violation["nodes"])
                    self.problems.append(
                        f"{where}: {violation['id']} ({violation['impact']}):"
                        f" {violation['help']}\n      {nodes}"
                    )
        await page.emulate_media(color_scheme="light")
        await page.set_viewport_size(DESKTOP)

    def assert_clean(self) -> None:
        assert self.pages
        assert not self.problems, f"{len(self.problems)} problems:\n" + "\n".join(self.problems)


@pytest.fixture
async def audit(browser: Browser, live: tuple[str, Services]) -> AsyncIterator[Audit]:
    """A page in a context that lets axe-core in despite the CSP, and its audit."""
    context = await browser.new_context(base_url=live[0], viewport=DESKTOP, bypass_csp=True)
    page = await context.new_page()
    page.set_default_timeout(20_000)
    yield Audit(page)
    await context.close()


def _infohash(title: str) -> str:
    return hashlib.sha1(title.encode()).hexdigest()


@needs_axe
async def test_sign_in_and_watch_pages(
    audit: Audit, tmp_path: Path, tracker: Tracker, seeder: Seeder
) -> None:
    page = audit.page
    await page.goto("/webui/login")
    await audit.check("sign-in")
    await sign_in(page, password="not-the-password")
    await expect(page.locator("#password-error")).to_be_visible()
    await audit.check("sign-in error")
    await page.goto("/webui/no-such-page")
    await audit.check("not found, signed out")

    await sign_in(page)
    await expect(page).to_have_url(re.compile(r"/webui/watch$"))
    await audit.check("watch")
    await page.get_by_label("Play").fill("ftp://example.com/nothing")
    await page.get_by_role("button", name="Play", exact=True).click()
    await expect(page.locator("#content-error")).to_be_visible()
    await audit.check("watch error")

    folder = tmp_path / "clip"
    folder.mkdir()
    video = make_video(folder / "clip.mp4", seconds=10, bframes=0)
    torrent, root = make_torrent(
        tmp_path / "seed", {"clip.mp4": video.read_bytes()}, trackers=[tracker.url]
    )
    seeder.seed(torrent, root.parent)
    await page.get_by_label("Play").fill(magnet(read_transport_file(torrent).infohash))
    await page.get_by_role("button", name="Play", exact=True).click()
    await expect(page.get_by_role("heading", name="Now playing")).to_be_visible()
    await expect(page.locator("#stat-status")).not_to_have_text("…")
    await audit.check("watch playing")
    await page.get_by_role("button", name="Stop").click()
    await expect(page.locator("#session-ended")).to_be_visible()
    await audit.check("watch stopped")

    await page.goto("/webui/no-such-page")
    await audit.check("not found")
    await page.goto("/webui/admin/users")
    await expect(page.locator("#page-error")).to_be_visible()
    await audit.check("refused")
    audit.assert_clean()


@needs_axe
async def test_playlist_pages(audit: Audit, live: tuple[str, Services], tmp_path: Path) -> None:
    services = live[1]
    page = audit.page
    await sign_in(page)
    await expect(page).to_have_url(re.compile(r"/webui/watch$"))
    await page.goto("/webui/playlist")
    await expect(page.locator("#empty")).to_be_visible()
    await audit.check("playlist empty")

    ids = []
    for title in ("Channel One", "Channel Two", "Channel Three"):
        ids.append(
            await services.playlists.add_item(
                "alice",
                NewItem(title=title, infohash=_infohash(title), category="News", tags=["hd"]),
            )
        )
    await services.playlists.add_item(
        "alice", NewItem(title="A stream", hls_manifest_url="https://cdn.example/live/index.m3u8")
    )
    await page.goto("/webui/playlist")
    await page.get_by_role("button", name="Favorite Channel One", exact=True).click()
    await expect(page.locator("#page-notice")).to_be_visible()
    await page.get_by_role("button", name="Lock Channel Two", exact=True).click()
    await page.get_by_role("button", name="Disable Channel Three", exact=True).click()
    await expect(page.get_by_role("button", name="Enable Channel Three")).to_be_visible()
    await audit.check("playlist")
    await page.get_by_label("Favorites only").check()
    await page.get_by_role("button", name="Filter", exact=True).click()
    await audit.check("playlist filtered")

    await page.goto("/webui/playlist/add")
    await audit.check("playlist add")
    await page.get_by_label("Content").fill("ftp://example.com/nothing")
    await page.get_by_role("button", name="Add to the playlist", exact=True).click()
    await expect(page.get_by_label("Content")).to_have_attribute("aria-invalid", "true")
    await audit.check("playlist add error")
    await page.goto(f"/webui/playlist/item/{ids[0]}/edit")
    await audit.check("playlist edit")

    await page.goto("/webui/playlist/import")
    await audit.check("playlist import")
    # The extra attributes of an input are attributes, not text.
    await expect(page.get_by_label("M3U file")).to_have_attribute("accept", re.compile(r"^\.m3u,"))
    m3u = tmp_path / "list.m3u"
    m3u.write_text(
        '#EXTM3U\n#EXTINF:-1 group-title="Sports",Imported\n'
        f"acestream://{_infohash('Imported')}\nnot a line\n"
    )
    await page.get_by_label("M3U file").set_input_files(m3u)
    await page.get_by_role("button", name="Import", exact=True).click()
    await expect(page.get_by_role("heading", name="Done")).to_be_visible()
    await audit.check("playlist task")

    await page.goto("/webui/playlist/external")
    await audit.check("playlist external, none")
    interval = page.get_by_label("Update every (minutes)")
    await expect(interval).to_have_attribute("min", re.compile(r"^\d+$"))
    await expect(page.get_by_label("URL", exact=True)).to_have_attribute("autocomplete", "off")
    await services.external.add(
        "alice",
        type="broadcast",
        category="TV",
        name="A list",
        url="http://127.0.0.1:9/list.m3u",
        update_interval=3600,
        update_now=False,
        caller_is_local=True,
    )
    await page.goto("/webui/playlist/external")
    await page.get_by_role("button", name="Add and update now").click()
    await expect(page.locator("#name-error")).to_be_visible()
    await audit.check("playlist external")

    await page.goto("/webui/playlist/trash")
    await audit.check("playlist trash, empty")
    await page.goto("/webui/playlist")
    await page.get_by_role("button", name="Delete Channel One", exact=True).click()
    await page.get_by_role("link", name="Trash").click()
    await expect(page.get_by_role("cell", name="Channel One", exact=True)).to_be_visible()
    await audit.check("playlist trash")
    audit.assert_clean()


@needs_axe
async def test_account_pages(audit: Audit, live: tuple[str, Services]) -> None:
    services = live[1]
    await services.devices.login(
        "alice", PASSWORD, client_id="tv-1", name="Living room", address=None
    )
    page = audit.page
    await sign_in(page)
    await expect(page).to_have_url(re.compile(r"/webui/watch$"))
    await page.goto("/webui/account")
    await audit.check("account profile")
    await page.get_by_label("Email").fill("not-an-address")
    await page.get_by_role("button", name="Save profile").click()
    await expect(page.locator("#email-error")).to_be_visible()
    await audit.check("account profile error")

    await page.goto("/webui/account/password")
    await page.get_by_role("button", name="Change password").click()
    await audit.check("account password error")

    await page.goto("/webui/account/two-factor")
    await audit.check("account two-factor")
    await page.get_by_role("button", name="Set up two-factor").click()
    await expect(page.locator("#tfa-secret")).to_be_visible()
    await audit.check("account two-factor enrolment")
    secret = await page.locator("#tfa-secret").inner_text()
    await page.get_by_label("Code from your app").fill(pyotp.TOTP(secret).now())
    await page.get_by_role("button", name="Turn two-factor on").click()
    await expect(page.locator("#recovery-codes li")).to_have_count(10)
    await audit.check("account recovery codes")
    await page.goto("/webui/account/two-factor")
    await audit.check("account two-factor on")

    await page.goto("/webui/account/devices")
    await audit.check("account devices")
    await page.goto("/webui/account/subscription")
    await audit.check("account subscription")

    await page.get_by_role("button", name="Sign out").click()
    await sign_in(page)
    await expect(page).to_have_url(re.compile(r"/webui/login/code"))
    await audit.check("sign-in code")
    await page.get_by_label("Six-digit code").fill("000000")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_label("Six-digit code")).to_have_attribute("aria-invalid", "true")
    await audit.check("sign-in code error")
    audit.assert_clean()


@needs_axe
async def test_admin_pages(audit: Audit, live: tuple[str, Services], operator: str) -> None:
    services = live[1]
    await services.devices.login(
        "alice", PASSWORD, client_id="tv-1", name="Living room", address=None
    )
    token = await services.servers.create_join_token()
    await services.servers.register(token, base_url="https://node1.example", name="node1")
    page = audit.page
    await sign_in(page, operator)
    await expect(page).to_have_url(re.compile(r"/webui/watch$"))

    await page.goto("/webui/admin/users")
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_label("Login", exact=True)).to_have_attribute("aria-invalid", "true")
    await audit.check("admin users")

    await page.goto("/webui/admin/plans")
    await audit.check("admin plans, none")
    await page.get_by_label("Name", exact=True).fill("Family")
    await page.get_by_label("Days", exact=True).fill("30")
    await page.get_by_role("button", name="Create plan").click()
    await expect(page.get_by_role("link", name="Family")).to_be_visible()
    await audit.check("admin plans")
    await page.get_by_role("link", name="Family").click()
    await audit.check("admin plan")

    alice = await services.accounts.get("alice")
    await page.goto(f"/webui/admin/users/{alice.id}")
    await page.get_by_label("Plan", exact=True).select_option(label="Family (30 days)")
    await page.get_by_role("button", name="Grant plan").click()
    await expect(page.locator("#current-plan")).to_contain_text("Family")
    await audit.check("admin user")

    await page.goto("/webui/admin/servers")
    await page.get_by_role("button", name="Create a join token").click()
    await expect(page.locator("#join-command")).to_be_visible()
    await audit.check("admin servers")
    await page.goto("/webui/admin/access")
    await audit.check("admin access")
    await page.goto("/webui/admin/audit")
    await audit.check("admin audit")
    await page.goto("/webui/admin/audit?action=user.create")
    await audit.check("admin audit, none")

    # What alice sees of her grant, now that she has one.
    await page.get_by_role("button", name="Sign out").click()
    await sign_in(page)
    await page.goto("/webui/account/subscription")
    await expect(page.locator("#subscription")).to_be_visible()
    await audit.check("account subscription")
    audit.assert_clean()


async def tab_to(page: Page, target: Locator, limit: int = 80) -> list[str]:
    """Press Tab until ``target`` has the focus; every stop on the way must show its focus.
    The names of the stops, in order."""
    stops: list[str] = []
    for _ in range(limit):
        await page.keyboard.press("Tab")
        focused = await page.evaluate(FOCUSED)
        if focused is None:
            continue
        label = f"{focused['tag']}#{focused['id']} {focused['name']!r}"
        assert focused["outline"] != "none" and focused["outlineWidth"] != "0px", (
            f"the focus does not show on {label}"
        )
        assert focused["contrast"] >= 3, (
            f"the focus outline on {label} is faint: {focused['contrast']:.2f}:1"
        )
        stops.append(focused["name"])
        if await target.evaluate("e => e === document.activeElement"):
            return stops
    raise AssertionError(f"Tab never reached {target}; it went through {stops}")


async def test_the_keyboard_goes_through_the_watch_page_in_order(page: Page) -> None:
    await sign_in(page)
    await expect(page).to_have_url(re.compile(r"/webui/watch$"))
    await page.goto("/webui/watch")
    stops = await tab_to(page, page.get_by_role("button", name="Play", exact=True))
    assert stops == [
        "Skip to content",
        "tidecast",
        "Watch",
        "Playlist",
        "Account",
        "Sign out",
        "Play",
        "Play",
    ], stops
    await expect(page.get_by_role("link", name="Skip to content")).not_to_be_in_viewport()

    # The skip link takes the focus past the header, to the paste field next.
    await page.goto("/webui/watch")
    await page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    await expect(skip).to_be_focused()
    await expect(skip).to_be_in_viewport()
    await page.keyboard.press("Enter")
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Play")).to_be_focused()
    await page.keyboard.type("ftp://example.com/nothing")
    await page.keyboard.press("Enter")
    await expect(page.get_by_label("Play")).to_have_attribute("aria-invalid", "true")


async def test_the_keyboard_works_the_playlists_row_buttons(
    page: Page, live: tuple[str, Services]
) -> None:
    services = live[1]
    for title in ("Channel One", "Channel Two"):
        await services.playlists.add_item(
            "alice", NewItem(title=title, infohash=_infohash(title), category="News")
        )
    await sign_in(page)
    await expect(page).to_have_url(re.compile(r"/webui/watch$"))
    await page.goto("/webui/playlist")
    row = page.locator("tr", has_text="Channel Two")
    await tab_to(page, page.get_by_role("button", name="Favorite Channel Two", exact=True))
    await page.keyboard.press("Enter")
    await expect(page.locator("#page-notice")).to_have_text("Added to your favorites.")
    await expect(row.get_by_text("Favorite", exact=True)).to_be_visible()

    await tab_to(page, page.get_by_role("button", name="Lock Channel Two", exact=True))
    await page.keyboard.press("Space")
    await expect(page.locator("#page-notice")).to_contain_text("The item is locked")
    await expect(page.get_by_role("button", name="Unlock Channel Two", exact=True)).to_be_visible()

    await tab_to(page, page.get_by_role("link", name="Edit Channel One"))
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/webui/playlist/item/\d+/edit$"))
    await tab_to(page, page.get_by_label("Title"))
    await page.keyboard.press("ControlOrMeta+a")
    await page.keyboard.type("Channel 1")
    await page.keyboard.press("Enter")
    await expect(page.locator("#page-notice")).to_have_text("The item was saved.")
    await expect(page.get_by_role("cell", name="Channel 1", exact=True)).to_be_visible()


async def test_the_keyboard_works_the_admin_forms(
    page: Page, live: tuple[str, Services], operator: str
) -> None:
    services = live[1]
    await sign_in(page, operator)
    await expect(page).to_have_url(re.compile(r"/webui/watch$"))
    await page.goto("/webui/admin/plans")
    await tab_to(page, page.get_by_label("Name", exact=True))
    await page.keyboard.type("Family")
    await tab_to(page, page.get_by_label("Days", exact=True))
    await page.keyboard.type("30")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("link", name="Family")).to_be_visible()

    alice = await services.accounts.get("alice")
    await page.goto(f"/webui/admin/users/{alice.id}")
    await tab_to(page, page.get_by_label("Plan", exact=True))
    await page.keyboard.press("ArrowDown")
    await expect(page.get_by_label("Plan", exact=True)).to_have_value(re.compile(r"\d+"))
    await tab_to(page, page.get_by_role("button", name="Grant plan"))
    await page.keyboard.press("Enter")
    await expect(page.locator("#current-plan")).to_contain_text("Family")

    await page.goto("/webui/admin/access")
    await tab_to(page, page.get_by_role("button", name="Turn remote access on"))
    await page.keyboard.press("Enter")
    await expect(page.locator("#remote-state")).to_have_text("on")
    assert services.switches.allow_remote
