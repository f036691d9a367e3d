"""The REST API through an HTTP client against the real app (one agent, engine and database)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from adapters.http.app import build_app
from core.agent import Agent
from core.config import Config
from core.events import Channel, User, VoteEvent
from plugins.announce import Announcer
from plugins.contest import models
from tests.dashboard_kit import SERVER, SMALL, TOKEN, Api, dashboard_config, dashboard_secrets
from tests.faces import save_picture
from tests.media import assert_valid_mp4, speech_clip

LATER = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")


async def test_every_route_needs_the_token(api: Api) -> None:
    for header, why in ((None, "Sign in first"), (f"Bearer {TOKEN[:-1]}", "not valid"),
                        (f"Basic {TOKEN}", "Bearer TOKEN")):
        api.client.headers.pop("Authorization", None)
        if header is not None:
            api.client.headers["Authorization"] = header
        for method, path in (("GET", "/api/v1/personas"), ("POST", "/api/v1/renders"),
                             ("DELETE", f"/api/v1/servers/{SERVER}/announcements/1")):
            response = await api.client.request(method, path)
            assert response.status_code == 401 and why in response.json()["error"], (header, path)
            assert response.headers["www-authenticate"].startswith("Bearer")
    api.client.headers["Authorization"] = f"Bearer {TOKEN}"
    assert (await api.client.get("/api/v1/personas")).status_code == 200


async def test_a_render_from_text_goes_from_queued_to_the_mp4(api: Api, tmp_path: Path) -> None:
    created = await api.client.post("/api/v1/renders", json={"text": "Hello from the API", "persona": "anime",
                                                             "mood": "happy"})
    assert created.status_code == 202
    render_id = created.json()["id"]
    done = await api.wait_render(render_id)
    assert done["status"] == "done" and done["persona"] == "sakura" and done["duration"] > 0.5
    assert any(seen["status"] == "rendering" for seen in api.seen) or len(api.seen) == 1
    video = await api.client.get(done["video_url"])
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    (tmp_path / "api.mp4").write_bytes(video.content)
    assert_valid_mp4(tmp_path / "api.mp4", width=SMALL, height=SMALL, fps=25)
    [record] = api.agent.storage.recent_renders()
    assert (record.platform, record.persona) == ("http", "sakura")
    listed = (await api.client.get("/api/v1/renders")).json()
    assert [r["id"] for r in listed] == [render_id]


async def test_a_render_from_an_uploaded_clip(api: Api, tmp_path: Path) -> None:
    clip = speech_clip(tmp_path / "hello.wav", "Hello there")
    with clip.open("rb") as data:
        created = await api.client.post("/api/v1/renders", data={"persona": "neon"},
                                        files={"clip": ("hello.wav", data, "audio/wav")})
    assert created.status_code == 202, created.text
    done = await api.wait_render(created.json()["id"])
    assert done["status"] == "done" and done["source"] == "hello.wav" and done["duration"] == pytest.approx(
        1.0, abs=0.6)


async def test_a_render_in_a_language_with_an_uploaded_face(api: Api, tmp_path: Path) -> None:
    face = save_picture(tmp_path / "me.png")
    with face.open("rb") as data:
        created = await api.client.post("/api/v1/renders", data={"text": "Hola a todos", "lang": "es"},
                                        files={"face": ("me.png", data, "image/png")})
    assert created.status_code == 202, created.text
    done = await api.wait_render(created.json()["id"])
    assert done["status"] == "done" and done["source"] == "Hola a todos", done
    video = await api.client.get(done["video_url"])
    (tmp_path / "face.mp4").write_bytes(video.content)
    assert_valid_mp4(tmp_path / "face.mp4", width=SMALL, height=SMALL, fps=25)
    json_lang = await api.client.post("/api/v1/renders", json={"text": "Hola otra vez", "lang": "Spanish"})
    assert json_lang.status_code == 202, json_lang.text


async def test_a_face_that_is_not_a_face_fails_with_its_message(api: Api, tmp_path: Path) -> None:
    notes = tmp_path / "notes.png"
    notes.write_bytes(bytes(range(256)) * 8)
    created = await api.client.post("/api/v1/renders", data={"text": "Hi"},
                                    files={"face": ("notes.png", notes.read_bytes(), "image/png")})
    assert created.status_code == 202, created.text
    failed = await api.wait_render(created.json()["id"])
    assert failed["status"] == "failed" and "neither a picture nor a video" in failed["error"], failed
    stray = await api.client.post("/api/v1/renders", data={"text": "Hi"},
                                  files={"photo": ("me.png", b"x", "image/png")})
    assert stray.status_code == 422 and "'face'" in stray.json()["error"]


@pytest.mark.parametrize(("body", "status", "message"), [
    ({"text": "hi", "lang": "spansh"}, 422, "Did you mean es"),
    ({"text": "hi", "persona": "nobody"}, 422, "There is no persona or style called 'nobody'"),
    ({"text": "x" * 1500}, 422, "over the 1,000-character limit"),
    ({"text": "🎉🎉"}, 422, "nothing that can be read out loud"),
    ({"text": "hi", "mood": "bored"}, 422, "mood"),
    ({"persona": "anime"}, 422, "text"),
    ({"text": "hi", "colour": "red"}, 422, "colour"),
])
async def test_bad_render_requests_get_clear_errors(api: Api, body: dict, status: int, message: str) -> None:  # type: ignore[type-arg]
    response = await api.client.post("/api/v1/renders", json=body)
    assert response.status_code == status and message in response.json()["error"], response.text
    assert not api.agent.storage.recent_renders()


async def test_wrong_types_unknown_ids_and_broken_bodies(api: Api) -> None:
    plain = await api.client.post("/api/v1/renders", content=b"hello", headers={"Content-Type": "text/plain"})
    assert plain.status_code == 415 and "application/json" in plain.json()["error"]
    broken = await api.client.post("/api/v1/renders", content=b"{not json",
                                   headers={"Content-Type": "application/json"})
    assert broken.status_code == 422 and "JSON" in broken.json()["error"]
    for path in ("/api/v1/renders/nope", "/api/v1/renders/nope/video"):
        missing = await api.client.get(path)
        assert missing.status_code == 404 and "no render 'nope'" in missing.json()["error"]
    assert (await api.client.delete("/api/v1/renders/nope")).status_code == 404
    unknown = await api.client.get("/api/v1/nothing-here")
    assert unknown.status_code == 404 and unknown.json() == {"error": "Not Found"}
    bad_server = await api.client.get("/api/v1/servers/no-colon/settings")
    assert bad_server.status_code == 422 and "server" in bad_server.json()["error"]


async def test_oversized_uploads_are_refused_while_streaming(api: Api) -> None:
    sent = 0

    async def endless():  # type: ignore[no-untyped-def]
        nonlocal sent
        yield b'--b\r\nContent-Disposition: form-data; name="clip"; filename="big.wav"\r\n\r\n'
        for _ in range(10_000):  # 640 MB if nobody stopped reading
            sent += 65536
            yield b"\0" * 65536

    response = await api.client.post("/api/v1/renders", content=endless(),
                                     headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert response.status_code == 413 and "MB limit" in response.json()["error"]
    assert sent < 60 * 2**20  # refused at the app's cap (50 MB and a form's overhead), not at the end
    declared = await api.client.post("/api/v1/renders", content=b"x" * 10,
                                     headers={"Content-Type": "multipart/form-data; boundary=b",
                                              "Content-Length": str(10**12)})
    assert declared.status_code == 413
    assert not api.agent.storage.recent_renders()


async def test_a_clip_over_the_engine_cap_is_refused(api: Api, tmp_path: Path) -> None:
    api.agent.config.engine.max_audio_bytes = 1000
    response = await api.client.post("/api/v1/renders", files={"clip": ("big.wav", b"\0" * 5000, "audio/wav")})
    assert response.status_code == 413 and "the limit is" in response.json()["error"]


async def test_renders_are_rate_limited_as_in_chat(api: Api) -> None:
    api.agent.limits.settings.user_concurrent_jobs = 0
    api.agent.limits.per_user.limit = 2
    for n in range(2):
        assert (await api.client.post("/api/v1/renders", json={"text": f"number {n}"})).status_code == 202
    refused = await api.client.post("/api/v1/renders", json={"text": "number three"})
    assert refused.status_code == 429 and "Slow down a little: try again in" in refused.json()["error"]


async def test_one_render_at_a_time_per_caller_and_cancelling(api: Api) -> None:
    first = (await api.client.post("/api/v1/renders", json={"text": "A longer sentence to keep it busy. " * 8})).json()
    second = await api.client.post("/api/v1/renders", json={"text": "Me too"})
    assert second.status_code == 429 and "already have a video rendering" in second.json()["error"]
    cancelled = await api.client.delete(f"/api/v1/renders/{first['id']}")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    final = await api.wait_render(first["id"])
    assert final["status"] == "cancelled" and final["video_url"] is None
    assert (await api.client.delete(f"/api/v1/renders/{first['id']}")).status_code == 409
    assert (await api.client.get(f"/api/v1/renders/{first['id']}/video")).status_code == 409
    await asyncio.sleep(0)  # the render's task hands its place back
    assert (await api.client.post("/api/v1/renders", json={"text": "Now me"})).status_code == 202


async def test_personas_and_their_preview_clips(api: Api, tmp_path: Path) -> None:
    personas = (await api.client.get("/api/v1/personas")).json()
    assert {p["name"] for p in personas} >= {"friendly", "sakura", "neon"}
    preview = await api.client.get(personas[0]["preview_url"])
    assert preview.status_code == 200 and preview.headers["content-type"] == "video/mp4"
    (tmp_path / "preview.mp4").write_bytes(preview.content)
    assert_valid_mp4(tmp_path / "preview.mp4", width=SMALL, height=SMALL, fps=25)
    assert (await api.client.get("/api/v1/personas/nobody/preview")).status_code == 404


async def test_announcements_are_scheduled_listed_and_cancelled(api: Api) -> None:
    base = f"/api/v1/servers/{SERVER}/announcements"
    no_channel = await api.client.post(base, json={"text": "Hi", "at": LATER})
    assert no_channel.status_code == 422 and "no announcement channel" in no_channel.json()["error"]
    created = await api.client.post(base, json={"text": "Movie night on Friday!", "at": LATER, "channel": "c7"})
    assert created.status_code == 201, created.text
    announcement = created.json()
    assert announcement["channel"] == "c7" and announcement["text"] == "Movie night on Friday!"
    row = Announcer(api.agent).get(announcement["id"])
    assert row is not None and Path(row.video_path).is_file()  # rendered ahead of time, as in chat
    assert [a["id"] for a in (await api.client.get(base)).json()] == [announcement["id"]]
    assert (await api.client.delete(f"{base}/{announcement['id']}")).status_code == 204
    assert (await api.client.get(base)).json() == []
    again = await api.client.delete(f"{base}/{announcement['id']}")
    assert again.status_code == 404 and "no scheduled announcement" in again.json()["error"]


@pytest.mark.parametrize(("body", "status", "message"), [
    ({"text": "Hi", "at": "2001-01-01T09:00"}, 400, "is in the past"),
    ({"text": "Hi", "at": "soon"}, 400, "couldn't read the time 'soon'"),
    ({"text": "Hi", "cron": "* * * * *"}, 400, "more often than once an hour"),
    ({"text": "Hi", "at": LATER, "cron": "0 9 * * MON"}, 422, "not both"),
    ({"text": "", "at": LATER}, 422, "text"),
])
async def test_bad_announcements_get_the_chat_messages(api: Api, body: dict, status: int, message: str) -> None:  # type: ignore[type-arg]
    response = await api.client.post(f"/api/v1/servers/{SERVER}/announcements", json={**body, "channel": "c7"})
    assert response.status_code == status and message in response.json()["error"], response.text


async def test_server_settings_are_read_and_changed_as_by_command(api: Api) -> None:
    url = f"/api/v1/servers/{SERVER}/settings"
    assert (await api.client.get(url)).json()["timezone"] == "UTC"
    wrong = await api.client.patch(url, json={"timezone": "Mars/Olympus"})
    assert wrong.status_code == 400 and "unknown time zone 'Mars/Olympus'" in wrong.json()["error"]
    nobody = await api.client.patch(url, json={"persona": "nobody"})
    assert nobody.status_code == 422 and "no persona or style called 'nobody'" in nobody.json()["error"]
    api.platform.channel_servers["elsewhere"] = "s2"
    foreign = await api.client.patch(url, json={"announce_channel": "elsewhere"})
    assert foreign.status_code == 400 and "in another server" in foreign.json()["error"]
    changed = await api.client.patch(url, json={"timezone": "Europe/Berlin", "persona": "neon",
                                                "announce_channel": "c5", "disabled_plugins": ["contest"]})
    assert changed.status_code == 200, changed.text
    settings = changed.json()
    assert (settings["timezone"], settings["persona"], settings["announce_channel"]) == ("Europe/Berlin", "neon", "c5")
    assert settings["disabled_plugins"] == ["contest"] and "timezone" in settings["changed"]
    assert api.agent.servers.settings("test", "s1").timezone == "Europe/Berlin"  # what chat sees too
    reset = (await api.client.patch(url, json={"persona": None, "announce_channel": None,
                                               "disabled_plugins": []})).json()
    assert (reset["persona"], reset["announce_channel"], reset["disabled_plugins"]) == ("", "", [])


async def test_a_plugin_switched_off_in_the_server_is_refused(api: Api) -> None:
    await api.client.patch(f"/api/v1/servers/{SERVER}/settings", json={"disabled_plugins": ["announce"]})
    refused = await api.client.post(f"/api/v1/servers/{SERVER}/announcements",
                                    json={"text": "Hi", "at": LATER, "channel": "c7"})
    assert refused.status_code == 409 and "switched off in this server" in refused.json()["error"]


async def test_contests_are_listed_with_their_standings(api: Api) -> None:
    storage = api.agent.storage
    contest = storage.add(models.Contest(platform="test", server_id="s1", channel_id="c1", theme="Best laugh",
                                         personas_csv="friendly", ends_at=datetime.now(UTC) + timedelta(days=1),
                                         started_by="a1"))
    assert isinstance(contest, models.Contest) and contest.id is not None
    video = models.EntryVideo("friendly", "/nowhere.mp4", 1.0)
    ada, _ = models.save_entry(storage, contest.id, User("u1", "Ada"), [video])
    bob, _ = models.save_entry(storage, contest.id, User("u2", "Bob"), [video])
    for voter in ("v1", "v2"):
        api.agent.polls.record(VoteEvent("test", User(voter, voter), Channel("c1", "s1"), poll_id=contest.poll_id,
                                         option=bob.option))
    listed = (await api.client.get(f"/api/v1/servers/{SERVER}/contests")).json()
    assert [(c["theme"], c["status"]) for c in listed] == [("Best laugh", "open")]
    assert [(s["name"], s["votes"]) for s in listed[0]["standings"]] == [("Bob", 2), ("Ada", 0)]
    one = await api.client.get(f"/api/v1/servers/{SERVER}/contests/{contest.id}")
    assert one.status_code == 200 and one.json()["standings"][0]["entry_id"] == bob.id
    assert (await api.client.get(f"/api/v1/servers/{SERVER}/contests/999")).status_code == 404
    servers = (await api.client.get("/api/v1/servers")).json()
    assert [s["server"] for s in servers] == [SERVER]
    assert ada.id is not None


async def test_an_internal_error_never_shows_a_stack_trace(api: Api, monkeypatch: pytest.MonkeyPatch,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    from adapters.http import community

    def broken(*args: object) -> None:
        raise RuntimeError("secret internals /home/bot/db.sqlite")

    monkeypatch.setattr(community, "known_servers", broken)
    response = await api.client.get("/api/v1/servers")
    assert response.status_code == 500
    assert response.json() == {"error": "Something went wrong on our side; the details are in the log."}
    assert "secret internals" in caplog.text  # the operator gets the details, the client doesn't


async def test_the_openapi_document_describes_every_route(api: Api) -> None:
    api.client.headers.pop("Authorization")
    document = (await api.client.get("/api/v1/openapi.json")).json()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    paths = document["paths"]
    assert {"/api/v1/renders", "/api/v1/renders/{render_id}", "/api/v1/renders/{render_id}/video",
            "/api/v1/personas", "/api/v1/servers/{server}/settings", "/api/v1/servers/{server}/announcements",
            "/api/v1/servers/{server}/contests"} <= set(paths)
    assert set(paths["/api/v1/renders"]["post"]["requestBody"]["content"]) == {"application/json",
                                                                                "multipart/form-data"}
    assert all("401" in op["responses"] for path in paths.values() for op in path.values())
    assert not any(p.startswith("/dashboard") or p.startswith("/signin") for p in paths)
    json.dumps(document)


@pytest.mark.parametrize("filename", ["..", ".", "a/../../etc/passwd", "x" * 500 + ".wav", "c:\\clips\\hi.wav"])
async def test_any_upload_name_is_stored_safely(api: Api, filename: str) -> None:
    response = await api.client.post("/api/v1/renders", files={"clip": (filename, b"not audio", "audio/wav")})
    assert response.status_code == 202, response.text
    failed = await api.wait_render(response.json()["id"])
    assert failed["status"] == "failed" and failed["error"] and "Traceback" not in failed["error"]
    assert "/" not in failed["source"] and "\\" not in failed["source"] and len(failed["source"]) <= 100


async def test_plugins_not_loaded_leave_their_routes_empty_or_refused(bot_config: Config) -> None:
    bot_config.plugins.disabled = ["housekeeping", "announce", "contest"]
    agent = Agent(dashboard_config(bot_config), dashboard_secrets())
    async with agent:
        transport = httpx.ASGITransport(app=build_app(agent, TOKEN))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1",
                                     headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            assert (await client.get(f"/api/v1/servers/{SERVER}/announcements")).json() == []
            assert (await client.get(f"/api/v1/servers/{SERVER}/contests")).json() == []
            assert (await client.get("/api/v1/servers")).json() == []
            refused = await client.post(f"/api/v1/servers/{SERVER}/announcements",
                                        json={"text": "Hi", "at": LATER, "channel": "c7"})
            assert refused.status_code == 409 and "not loaded" in refused.json()["error"]
