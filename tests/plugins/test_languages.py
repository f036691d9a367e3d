"""The language of what is spoken, from chat: --lang, a server's language, welcome templates, chat answers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.agent import Agent
from core.cli import app
from core.config import Config, ConfigError, ServerSettings, load_config
from core.events import Channel, User
from core.replies import VideoReply
from core.testing.testbot import ADMIN, CHANNEL, MEMBER, FakeClock, TestBot, test_config
from engine.types import RenderRequest
from plugins import announce, welcome
from tests.plugins.test_chat import FakeReplier, record_requests, use_models

SIZE = 64


@pytest.fixture
def bot_config(tmp_path: Path) -> Config:
    config = test_config(tmp_path)
    config.engine.width = config.engine.height = SIZE
    config.engine.fps = 10
    config.servers = {"test:s1": ServerSettings(welcome_channel="lobby")}
    return config


@pytest.fixture
def requests(testbot: TestBot) -> list[RenderRequest]:
    return record_requests(testbot.agent)


def captions(replies: list) -> list[str]:  # type: ignore[type-arg]
    return [r.caption for r in replies if isinstance(r, VideoReply)]


async def test_say_speaks_in_the_language_asked_for(testbot: TestBot, requests: list[RenderRequest]) -> None:
    replies = await testbot.send('!say --lang zh "你好，欢迎!"')
    assert captions(replies) and requests[-1].lang == "cmn"
    await testbot.send("!say Hola a todos")
    assert requests[-1].lang is None  # no server language: each piece's language is found in the text


async def test_an_unknown_language_is_refused_with_close_matches(testbot: TestBot,
                                                                 requests: list[RenderRequest]) -> None:
    [answer] = testbot.texts(await testbot.send("!say --lang spansh Hola"))
    assert "I don't know the language 'spansh'" in answer and "es (Spanish (Spain))" in answer
    assert requests == []


async def test_a_server_language_set_by_command_is_shown_used_and_reset(testbot: TestBot,
                                                                        requests: list[RenderRequest]) -> None:
    [done] = testbot.texts(await testbot.send("!server language Cantonese", user=ADMIN))
    assert done.startswith("This server's language is now Chinese (Cantonese) (yue)")
    [shown] = testbot.texts(await testbot.send("!server show", user=ADMIN))
    assert "  language: yue *" in shown
    await testbot.send("!say 你好")
    assert requests[-1].lang == "yue"
    [refused] = testbot.texts(await testbot.send("!server language klingonx", user=ADMIN))
    assert "I don't know the language 'klingonx'" in refused
    await testbot.send("!server language none", user=ADMIN)
    await testbot.send("!say 你好")
    assert requests[-1].lang is None


def test_the_config_language_is_checked_and_named_as_espeak_names_it(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[servers.default]\nlanguage = "zh"\n')
    assert load_config(path).servers["default"].language == "cmn"
    path.write_text('[servers.default]\nlanguage = "frnch"\n')
    with pytest.raises(ConfigError, match=r"servers.default.language: .*fr \(French"):
        load_config(path)


async def test_announcements_keep_their_language_until_they_are_posted(
        testbot: TestBot, requests: list[RenderRequest], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(announce, "clock", FakeClock(datetime(2026, 3, 1, 8, tzinfo=UTC)))
    await testbot.send("!announce --lang es Esta noche jugamos", user=ADMIN)
    assert requests[-1].lang == "es"
    [scheduled] = testbot.texts(await testbot.send("!announce at 2026-03-02T09:00 --lang ru Привет всем", user=ADMIN))
    assert scheduled.startswith("Scheduled announcement #")
    assert requests[-1].lang == "ru"
    [row] = announce.Announcer(testbot.agent).scheduled("test", "s1")
    assert row.lang == "ru"


async def test_a_welcome_template_in_another_language_greets_names_of_any_script(
        testbot: TestBot, requests: list[RenderRequest], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(welcome, "clock", FakeClock(datetime(2026, 3, 1, 8, tzinfo=UTC)))
    [done] = testbot.texts(await testbot.send('!welcome template --lang zh "欢迎, {name}!"', user=ADMIN))
    assert done == "New members are now greeted in Chinese (Mandarin) with: 欢迎, {name}!"
    await testbot.join(User("m1", "小明"))
    await testbot.join(User("m2", "Дмитрий"))
    assert captions(testbot.posts("lobby")) == ["欢迎, 小明!", "欢迎, Дмитрий!"]
    assert [r.lang for r in requests] == ["cmn", "cmn"]  # Mandarin for the Han script; the Cyrillic name is found
    [misplaced] = testbot.texts(await testbot.send("!welcome persona --lang es neon", user=ADMIN))
    assert misplaced.startswith("--lang goes with !welcome template")


async def test_a_name_in_another_script_is_welcomed_in_its_own_language(testbot: TestBot) -> None:
    from engine.languages import split

    text = welcome.greeting(ServerSettings(), testbot.agent.config.welcome,
                            _join_event(User("m1", "🌸 小明 🌸")))
    assert text == "Welcome to Test Server, 小明!"
    assert [p.language for p in split(text, None, "en-us")] == ["en-us", "cmn"]


def _join_event(user: User):  # type: ignore[no-untyped-def]
    from core.events import MemberJoinEvent

    return MemberJoinEvent("test", user, CHANNEL)


@pytest.mark.parametrize(("language", "said", "answer"), [
    ("cmn", "你好！", "你好"),
    ("yue", "你好！", "你好"),  # written Chinese, read in Cantonese
    ("es", "¡Hola!", "¡Hola"),
    ("", "Hello!", "Hi Ada"),
])
async def test_templates_answer_in_the_server_language(bot_config: Config, language: str, said: str,
                                                      answer: str) -> None:
    bot_config.servers["test:s1"] = ServerSettings(language=language)
    async with Agent(bot_config) as agent:
        bot = TestBot(agent)
        recorded = record_requests(agent)
        [reply] = captions(await bot.send(f"!talk {said}"))
        assert answer in reply, reply
        assert recorded[-1].lang == (language or None)


async def test_without_a_server_language_templates_answer_in_the_member_language(
        testbot: TestBot, requests: list[RenderRequest]) -> None:
    [reply] = captions(await testbot.send("!talk Hola, me llamo Ada y me gusta mucho la música de España."))
    assert "Ada" in reply and requests[-1].lang == "es"
    [forced] = captions(await testbot.send("!talk --lang zh Hello there"))
    assert any("\u4e00" <= char <= "\u9fff" for char in forced) and requests[-1].lang == "cmn"


async def test_the_language_model_is_asked_to_answer_in_the_member_language(
        testbot: TestBot, requests: list[RenderRequest]) -> None:
    replier = FakeReplier("[happy] ¡Claro que sí!")
    use_models(testbot.agent, replier=replier)
    [reply] = captions(await testbot.send("!talk ¿Puedes contarme algo sobre la música de España, por favor?"))
    assert reply == "¡Claro que sí!"
    system = replier.prompts[-1][0].content
    assert "reply in Spanish (Spain)" in system
    assert requests[-1].lang is None  # the reply's own language is found when it is spoken
    await testbot.send("!talk --lang ru Tell me something")
    assert "reply in Russian" in replier.prompts[-1][0].content


def test_cli_say_takes_a_language_and_refuses_an_unknown_one(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[agent]\ndatabase = "{tmp_path}/state.db"\n'
                      f'[engine]\nwidth = 64\nheight = 64\noutput_dir = "{tmp_path}/out"\n'
                      f'cache_dir = "{tmp_path}/cache"\n')
    runner = CliRunner()
    out = tmp_path / "zh.mp4"
    done = runner.invoke(app, ["say", "你好，欢迎来到我们的服务器。", "--lang", "zh", "-o", str(out),
                               "-c", str(config)])
    assert done.exit_code == 0, done.output
    seconds = float(done.output.split(" s of video")[0].split()[-1])
    assert 2 < seconds < 5  # Mandarin's few seconds, not 17 s of letter names
    refused = runner.invoke(app, ["say", "hola", "--lang", "spansh", "-o", str(tmp_path / "no.mp4"),
                                  "-c", str(config)])
    assert refused.exit_code == 1 and "es (Spanish (Spain))" in refused.output
    assert not (tmp_path / "no.mp4").exists()


async def test_members_in_another_channel_are_unaffected(testbot: TestBot, requests: list[RenderRequest]) -> None:
    await testbot.send("!server language es", user=ADMIN)
    await testbot.send("!say Hola", channel=Channel(id="c9", server_id="s9", server_name="Elsewhere"), user=MEMBER)
    assert requests[-1].lang is None  # another server keeps finding the language in the text
