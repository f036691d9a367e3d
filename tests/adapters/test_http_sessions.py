"""Signing in to the dashboard: the token, one-time links, the session cookie, CSRF and expiry."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import httpx
import sqlmodel

from core import signin
from core.storage import utcnow
from core.testing.testbot import FakeClock
from tests.dashboard_kit import SERVER, TOKEN, Api


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" content="([^"]+)"', page)
    assert found, "the page has no CSRF token"
    return found.group(1)


async def _sign_in(client: httpx.AsyncClient, token: str = TOKEN) -> httpx.Response:
    client.headers.pop("Authorization", None)
    return await client.post("/signin", data={"token": token})


async def test_a_wrong_token_is_refused_and_the_right_one_opens_a_strict_session(api: Api) -> None:
    wrong = await _sign_in(api.client, TOKEN[:-1] + "x")
    assert wrong.status_code == 401 and "That token is not right." in wrong.text and "set-cookie" not in wrong.headers
    assert (await api.client.get("/dashboard")).headers["location"] == "/signin?expired=1"
    right = await _sign_in(api.client)
    assert right.status_code == 303 and right.headers["location"] == "/dashboard"
    cookie = right.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and TOKEN.lower() not in cookie
    page = await api.client.get("/dashboard")
    assert page.status_code == 200 and "Render a clip" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "https://" not in page.text  # nothing is loaded from elsewhere


async def test_session_changes_need_the_pages_csrf_token(api: Api) -> None:
    await _sign_in(api.client)
    csrf = _csrf((await api.client.get("/dashboard")).text)
    assert (await api.client.get("/api/v1/personas")).status_code == 200  # reading needs no token
    forged = await api.client.post("/api/v1/renders", json={"text": "hello"})
    assert forged.status_code == 403 and "CSRF" in forged.json()["error"]
    allowed = await api.client.post("/api/v1/renders", json={"text": "hello"}, headers={"X-CSRF-Token": csrf})
    assert allowed.status_code == 202
    form = await api.client.post(f"/dashboard/servers/{SERVER}/settings", data={"csrf": "wrong", "timezone": "UTC"})
    assert form.status_code == 403
    other_site = await api.client.post(f"/dashboard/servers/{SERVER}/settings", data={"csrf": csrf},
                                       headers={"Origin": "https://evil.example"})
    assert other_site.status_code == 403 and "another site" in other_site.json()["error"]


async def test_an_expired_session_goes_back_to_sign_in(api: Api) -> None:
    sessions = api.client._transport.app.state.sessions  # type: ignore[attr-defined]
    clock = FakeClock(utcnow())
    sessions.clock = clock
    await _sign_in(api.client)
    assert (await api.client.get("/dashboard")).status_code == 200
    clock.now += sessions.lifetime + timedelta(seconds=1)
    expired = await api.client.get("/dashboard")
    assert expired.status_code == 303 and expired.headers["location"] == "/signin?expired=1"
    assert "session has ended" in (await api.client.get("/signin?expired=1")).text
    api_call = await api.client.get("/api/v1/renders")
    assert api_call.status_code == 401 and "Sign in first" in api_call.json()["error"]


async def test_a_link_signs_in_once_and_only_to_its_server(api: Api) -> None:
    grant = signin.Grant("test", "s1", "Test Server", "a1", "Grace")
    code = signin.issue(api.agent.storage, grant, timedelta(minutes=10))
    api.client.headers.pop("Authorization")
    preview = await api.client.get(f"/signin/link?code={code}")  # as a chat's link preview fetches it
    assert preview.status_code == 200 and "set-cookie" not in preview.headers
    signed_in = await api.client.post("/signin/link", data={"code": code})
    assert signed_in.status_code == 303
    csrf = _csrf((await api.client.get("/dashboard")).text)
    assert [s["server"] for s in (await api.client.get("/api/v1/servers")).json()] == [SERVER]
    assert (await api.client.get(f"/api/v1/servers/{SERVER}/settings")).status_code == 200
    other = await api.client.get("/api/v1/servers/test:s2/settings")
    assert other.status_code == 403 and "another server" in other.json()["error"]
    assert (await api.client.patch("/api/v1/servers/test:s2/settings", json={"timezone": "UTC"},
                                   headers={"X-CSRF-Token": csrf})).status_code == 403
    assert (await api.client.get("/dashboard/servers/test:s2/settings")).status_code == 403
    api.client.cookies.clear()
    again = await api.client.post("/signin/link", data={"code": code})
    assert again.status_code == 401 and "expired or was already used" in again.text


async def test_an_expired_link_signs_nobody_in(api: Api) -> None:
    grant = signin.Grant("test", "s1", "", "a1", "Grace")
    code = signin.issue(api.agent.storage, grant, timedelta(minutes=10), now=utcnow() - timedelta(minutes=11))
    api.client.headers.pop("Authorization")
    response = await api.client.post("/signin/link", data={"code": code})
    assert response.status_code == 401 and "set-cookie" not in response.headers
    assert signin.redeem(api.agent.storage, "made-up") is None


async def test_pages_schedule_a_recurring_announcement_and_show_contests(api: Api) -> None:
    await _sign_in(api.client)
    csrf = _csrf((await api.client.get(f"/dashboard/servers/{SERVER}/announcements")).text)
    scheduled = await api.client.post(f"/dashboard/servers/{SERVER}/announcements", data={
        "csrf": csrf, "text": "Weekly sync", "kind": "at", "at": "", "cron": "0 9 * * MON", "channel": "c3"})
    assert scheduled.status_code == 303
    page = (await api.client.get(scheduled.headers["location"])).text
    assert "Scheduled announcement #1" in page and "0 9 * * MON" in page and "Weekly sync" in page
    refused = await api.client.post(f"/dashboard/servers/{SERVER}/announcements", data={
        "csrf": csrf, "text": "<b>Bold</b> claim", "kind": "cron", "cron": "* * * * *", "channel": "c3"})
    assert refused.status_code == 400 and "more often than once an hour" in refused.text
    assert "&lt;b&gt;Bold&lt;/b&gt; claim" in refused.text and "<b>Bold</b>" not in refused.text  # escaped
    contests = await api.client.get(f"/dashboard/servers/{SERVER}/contests")
    assert contests.status_code == 200 and "No contests yet" in contests.text
    personas = await api.client.get("/dashboard/personas")
    assert personas.text.count('<video controls playsinline preload="metadata"') >= 3


async def test_a_session_outlives_a_restart_but_not_a_new_token(api: Api) -> None:
    """Sessions are in the database: a new app over it (a restart) keeps the session and its CSRF
    token; one with a new token signs everyone out. The database holds neither id nor token."""
    import sqlite3

    from adapters.http.app import build_app
    from core.dashboard_sessions import DashboardSession

    await _sign_in(api.client)
    csrf = _csrf((await api.client.get("/dashboard")).text)
    cookie = api.client.cookies["mouthpiece_session"]

    async def as_restarted(token: str) -> httpx.AsyncClient:
        app = build_app(api.agent, token)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1",
                                 cookies={"mouthpiece_session": cookie})

    async with await as_restarted(TOKEN) as restarted:
        page = await restarted.get("/dashboard")
        assert page.status_code == 200 and _csrf(page.text) == csrf
        changed = await restarted.post("/api/v1/renders", json={"text": "hello"}, headers={"X-CSRF-Token": csrf})
        assert changed.status_code == 202
    async with await as_restarted(TOKEN[::-1]) as new_token:
        assert (await new_token.get("/dashboard")).headers["location"] == "/signin?expired=1"
    with api.agent.storage.session() as db:
        [row] = db.exec(sqlmodel.select(DashboardSession)).all()
    database = api.agent.config.agent.database
    stored = sqlite3.connect(database).execute("SELECT * FROM dashboardsession").fetchall()
    assert row.key != cookie and all(cookie not in str(value) and TOKEN not in str(value) for value in stored[0])


async def test_signing_out_ends_the_session_everywhere(api: Api) -> None:
    await _sign_in(api.client)
    cookie = api.client.cookies["mouthpiece_session"]
    csrf = _csrf((await api.client.get("/dashboard")).text)
    assert (await api.client.post("/signout", data={"csrf": csrf})).status_code == 303
    app = api.client._transport.app  # type: ignore[attr-defined]
    assert app.state.sessions.get(cookie) is None


async def test_the_settings_page_offers_the_servers_own_personas(api: Api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.faces import save_picture

    platform, server_id = SERVER.split(":")
    api.agent.server_personas.add(platform, server_id, "bob", save_picture(tmp_path / "bob.png"), created_by="ada")
    await _sign_in(api.client)
    page = (await api.client.get(f"/dashboard/servers/{SERVER}/settings")).text
    assert '<option value="bob" >bob (this server\'s)</option>' in html.unescape(page) and ">Neon</option>" in page
    saved = await api.client.post(f"/dashboard/servers/{SERVER}/settings",
                                  data={"csrf": _csrf(page), "persona": "bob", "timezone": "UTC"})
    assert saved.status_code == 303
    assert api.agent.servers.settings(platform, server_id).persona == "bob"
    again = (await api.client.get(f"/dashboard/servers/{SERVER}/settings")).text
    assert '<option value="bob" selected>bob (this server\'s)</option>' in html.unescape(again)
