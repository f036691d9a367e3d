"""The dashboard in a real browser: Debian's Chromium driven by Playwright (sync API, so these
are plain functions), against the real server on a free 127.0.0.1 port in a thread of its own.

Screenshots go to ``$MOUTHPIECE_SCREENSHOTS`` when it is set (to look at them), else to a
temporary folder."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from core.testing.testbot import test_config
from tests.dashboard_kit import SERVER, TOKEN, LiveDashboard
from tests.faces import save_picture
from tests.media import speech_clip

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
WAIT_MS = 60_000


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveDashboard]:
    with LiveDashboard(test_config(tmp_path_factory.mktemp("live"))) as dashboard:
        yield dashboard


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, live: LiveDashboard) -> Iterator[Page]:
    context = browser.new_context(base_url=live.url, viewport={"width": 1100, "height": 900})
    context.set_default_timeout(WAIT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("MOUTHPIECE_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _sign_in(page: Page, token: str = TOKEN) -> None:
    page.goto("/signin")
    page.fill("#token", token)
    page.click("button[type=submit]")


def test_browser_sign_in_refuses_a_wrong_token(page: Page, shots: Path) -> None:
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/signin\?expired=1$"))
    _sign_in(page, "not-the-token")
    expect(page.locator(".error")).to_have_text("That token is not right.")
    page.screenshot(path=shots / "signin-refused.png")
    assert page.context.cookies() == []
    _sign_in(page)
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.locator("h1")).to_have_text("Render a clip")
    [cookie] = page.context.cookies()
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # out of reach of scripts


def test_browser_renders_from_text_and_plays_the_video(page: Page, shots: Path) -> None:
    _sign_in(page)
    page.select_option("#persona", "neon")
    page.select_option("#mood", "happy")
    page.fill("#text", "Hello from the dashboard! This clip was rendered while you watched the progress bar.")
    # Every value the progress bar and its caption show on the way, seen by the page itself.
    page.evaluate("""() => { window.seen = [];
        const bar = document.getElementById('render-progress'), stage = document.getElementById('render-stage');
        new MutationObserver(() => window.seen.push([bar.value, stage.textContent]))
          .observe(document.getElementById('render-status'), {attributes: true, childList: true, subtree: true}); }""")
    video = page.locator("#render-video")
    expect(video).to_be_hidden()
    page.click("#render-button")
    expect(page.locator("#render-status")).to_be_visible()
    page.screenshot(path=shots / "render-progress.png")
    page.wait_for_function("() => { const v = document.getElementById('render-video');"
                           " return v.readyState >= 2 && !v.paused && v.currentTime > 0.2; }")
    expect(video).to_be_visible()
    page.screenshot(path=shots / "render-playing.png")
    seen = page.evaluate("window.seen")
    values = [value for value, _ in seen]
    assert values == sorted(values) and values[-1] == 100, seen
    assert any(re.fullmatch(r"(waiting in the queue.*|[a-z ]+ \d+%.*)", text) for _, text in seen), seen
    assert seen[-1][1].startswith("done · ")
    assert page.evaluate("document.getElementById('render-video').videoWidth") == 128
    page.reload()
    expect(page.locator("table").first).to_contain_text("neon")  # in the recent renders


def test_browser_renders_an_uploaded_voice_clip(page: Page, tmp_path: Path, shots: Path) -> None:
    clip = speech_clip(tmp_path / "my-voice.wav", "This is my own voice, said by a sprite.")
    _sign_in(page)
    page.set_input_files("#clip", clip)
    page.click("#render-button")
    page.wait_for_function("() => { const v = document.getElementById('render-video');"
                           " return v.readyState >= 2 && !v.paused && v.currentTime > 0.2; }")
    expect(page.locator("#render-stage")).to_contain_text("done")
    page.screenshot(path=shots / "render-clip.png")
    page.set_input_files("#clip", {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a sound"})
    page.click("#render-button")
    expect(page.locator("#render-error")).to_contain_text("notes.txt")
    expect(page.locator("#render-video")).to_be_hidden()


def test_browser_renders_text_in_a_language_on_an_uploaded_face(page: Page, tmp_path: Path, shots: Path) -> None:
    _sign_in(page)
    page.fill("#text", "Hola a todos, bienvenidos.")
    page.fill("#lang", "es")
    page.set_input_files("#face", save_picture(tmp_path / "me.png"))
    page.click("#render-button")
    page.wait_for_function("() => { const v = document.getElementById('render-video');"
                           " return v.readyState >= 2 && !v.paused && v.currentTime > 0.2; }")
    expect(page.locator("#render-stage")).to_contain_text("done")
    page.screenshot(path=shots / "render-face.png")
    page.fill("#lang", "spansh")
    page.click("#render-button")
    expect(page.locator("#render-error")).to_contain_text("Did you mean es")


def test_browser_schedules_and_cancels_an_announcement(page: Page, live: LiveDashboard, shots: Path) -> None:
    _sign_in(page)
    page.goto(f"/dashboard/servers/{SERVER}/announcements")
    expect(page.locator("#no-announcements")).to_be_visible()
    later = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    page.fill("#text", "Game night this Friday at eight!")
    page.fill("#at", later)
    page.fill("#channel", "c42")
    page.get_by_role("button", name="Schedule", exact=True).click()
    expect(page.locator(".notice")).to_contain_text("Scheduled announcement #")
    expect(page.locator("#announcements")).to_contain_text("Game night this Friday at eight!")
    page.screenshot(path=shots / "announcement-scheduled.png")
    [row] = live.call(_announcements(live))
    assert row.channel_id == "c42" and Path(row.video_path).is_file()
    page.get_by_role("button", name=f"Cancel #{row.id}").click()
    expect(page.locator(".notice")).to_have_text(f"Cancelled announcement #{row.id}.")
    expect(page.locator("#no-announcements")).to_be_visible()
    assert live.call(_announcements(live)) == []
    page.fill("#text", "Too late")
    page.fill("#at", "2001-01-01T09:00")
    page.fill("#channel", "c42")
    page.get_by_role("button", name="Schedule", exact=True).click()
    expect(page.locator(".error")).to_contain_text("is in the past")
    expect(page.locator("#text")).to_have_value("Too late")  # what was typed is kept
    page.screenshot(path=shots / "announcement-refused.png")


def test_browser_changes_a_server_setting(page: Page, live: LiveDashboard, shots: Path) -> None:
    _sign_in(page)
    page.goto("/dashboard/servers")
    page.fill("#go", SERVER)
    page.get_by_role("button", name="Open", exact=True).click()
    expect(page).to_have_url(re.compile(f"/dashboard/servers/{SERVER}/settings$"))
    page.fill("#timezone", "Mars/Olympus")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".error")).to_contain_text("unknown time zone 'Mars/Olympus'")
    page.fill("#timezone", "Europe/Lisbon")
    page.select_option("#persona", "sakura")
    page.uncheck("input[name=plugin-contest]")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".notice")).to_have_text("Settings saved.")
    expect(page.locator("#timezone")).to_have_value("Europe/Lisbon")
    page.screenshot(path=shots / "settings-saved.png", full_page=True)
    settings = live.agent.servers.settings("test", "s1")
    assert (settings.timezone, settings.persona, settings.disabled_plugins) == ("Europe/Lisbon", "sakura", ["contest"])
    page.check("input[name=plugin-contest]")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".notice")).to_have_text("Settings saved.")
    assert live.agent.servers.settings("test", "s1").disabled_plugins == []


def test_browser_personas_page_plays_a_preview(page: Page, shots: Path) -> None:
    _sign_in(page)
    page.goto("/dashboard/personas")
    first = page.locator(".persona video").first
    expect(page.locator(".persona")).to_have_count(len(page.locator(".persona").all()))
    first.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("() => { const v = document.querySelector('.persona video');"
                           " return v.readyState >= 2 && v.currentTime > 0.2; }")
    page.screenshot(path=shots / "personas.png", full_page=True)


def _announcements(live: LiveDashboard):  # type: ignore[no-untyped-def]
    async def rows():  # type: ignore[no-untyped-def]
        from plugins.announce import Announcer

        return Announcer(live.agent).scheduled("test", "s1")

    return rows()
