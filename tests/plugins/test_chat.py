"""Conversations end to end: a real agent, real speech and MP4s, fake ASR and language models."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from rich.console import Console
from sqlmodel import select

from adapters.console import LOCAL_USER, ConsoleAdapter
from core.agent import Agent
from core.config import Config
from core.events import Channel, MessageEvent, User
from core.replies import Reply, VideoReply
from core.storage import utcnow
from core.testing.testbot import (
    ADMIN,
    CHANNEL,
    MEMBER,
    RecordingResponder,
    TestBot,
    local_attachment,
)
from engine.models import MODEL_THREADS, ChatMessage, ModelHub
from engine.types import Expression, RenderRequest
from personas.memory import GLOBAL_SCOPE, PersonaMemory
from plugins import chat
from tests.media import assert_valid_mp4, speech_clip

SIZE = {"width": 160, "height": 160, "fps": 10}
DM = replace(CHANNEL, id="dm-u1", server_id="dm-u1", is_direct=True)
OTHER_SERVER = Channel(id="c9", server_id="s9", name="general", server_name="Elsewhere")


class FakeRecognizer:
    """Says a fixed transcript for any clip and keeps what it was given."""

    def __init__(self, transcript: str) -> None:
        self.transcript = transcript
        self.heard: list[bytes] = []

    def transcribe(self, audio_path: Path) -> str:
        self.heard.append(audio_path.read_bytes())
        return self.transcript


class FakeReplier:
    """Answers with the next scripted reply (or raises it) and keeps every prompt."""

    def __init__(self, *replies: str | Exception) -> None:
        self.replies = list(replies)
        self.prompts: list[list[ChatMessage]] = []
        self.limits: list[tuple[int, float]] = []

    def reply(self, messages: Sequence[ChatMessage], *, max_new_tokens: int, timeout: float) -> str:
        self.prompts.append(list(messages))
        self.limits.append((max_new_tokens, timeout))
        answer = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def bot_config(bot_config: Config) -> Config:
    engine = bot_config.engine
    engine.width, engine.height, engine.fps = SIZE["width"], SIZE["height"], SIZE["fps"]
    return bot_config


def use_models(agent: Agent, *, recognizer: object = None, replier: object = None) -> None:
    agent.models = ModelHub(agent.config.models, recognizer=recognizer, replier=replier)  # type: ignore[arg-type]


def record_requests(agent: Agent) -> list[RenderRequest]:
    requests: list[RenderRequest] = []
    submit = agent.engine.submit

    def recording_submit(request: RenderRequest, *args, **kwargs):  # type: ignore[no-untyped-def]
        requests.append(request)
        return submit(request, *args, **kwargs)

    agent.engine.submit = recording_submit  # type: ignore[method-assign]
    return requests


async def message(bot: TestBot, text: str, *, channel: Channel = CHANNEL, user: User = MEMBER,
                  mentions_bot: bool = False, replies_to_bot: bool = False,
                  files: tuple[Path, ...] = ()) -> list[Reply]:
    event = MessageEvent(bot.platform, user, channel, text=text, mentions_bot=mentions_bot,
                         replies_to_bot=replies_to_bot, attachments=tuple(local_attachment(f) for f in files))
    bot.last = RecordingResponder()
    await bot.agent.handle_message(event, bot.last)
    return bot.last.replies


def only_video(replies: list[Reply]) -> VideoReply:
    [video] = [r for r in replies if isinstance(r, VideoReply)]
    return video


def rows(agent: Agent, user_id: str = MEMBER.id) -> list[PersonaMemory]:
    with agent.storage.session() as session:
        return list(session.exec(select(PersonaMemory).where(PersonaMemory.user_id == user_id)))


# -- triggers and the video ----------------------------------------------------------------


async def test_a_direct_message_gets_a_video_reply_captioned_with_its_text(testbot: TestBot) -> None:
    video = only_video(await message(testbot, "Hi Pip! I like jazz.", channel=DM))
    assert_valid_mp4(video.path, **SIZE, duration=video.duration)
    assert video.caption.startswith("Hi Ada, nice to meet you! I'm Pip.") and "you like jazz" in video.caption
    assert testbot.last is not None
    [status] = testbot.last.statuses
    assert status.edits[0] == "Pip is thinking…" and status.finished and not status.late_edits
    assert any("rendering" in edit for edit in status.edits)


@pytest.mark.parametrize("how", ["mention", "reply", "dm", "talk"])
async def test_every_way_of_addressing_the_persona_is_answered(testbot: TestBot, how: str) -> None:
    replies = await {
        "mention": lambda: message(testbot, "<@bot> hello there", mentions_bot=True),
        "reply": lambda: message(testbot, "hello there", replies_to_bot=True),
        "dm": lambda: message(testbot, "hello there", channel=DM),
        "talk": lambda: testbot.send("!talk hello there"),
    }[how]()
    assert "Pip" in only_video(replies).caption
    assert next(t["text"] for t in rows(testbot.agent)[0].turns) == "hello there"


async def test_channel_chatter_without_a_trigger_is_left_alone(testbot: TestBot) -> None:
    assert await message(testbot, "anyone up for games tonight?") == []
    assert rows(testbot.agent) == []


async def test_switched_off_in_a_server_it_neither_answers_nor_remembers(testbot: TestBot) -> None:
    await testbot.send("!server disable chat", user=ADMIN)
    assert await message(testbot, "<@bot> hello there", mentions_bot=True) == []
    for line in ("!talk hello", "!memory", "!forget me"):
        assert testbot.texts(await testbot.send(line)) == [
            "The chat plugin is switched off in this server. An admin can switch it on with !server enable chat."]
    assert rows(testbot.agent) == []
    assert "Pip" in only_video(await message(testbot, "hello", mentions_bot=True, channel=OTHER_SERVER)).caption


async def test_talk_picks_the_persona_and_needs_something_to_say(testbot: TestBot) -> None:
    video = only_video(await testbot.send("!talk --persona neon hi"))
    assert "Neon" in video.caption
    [answer] = testbot.texts(await testbot.send("!talk"))
    assert "Tell Pip something, e.g. !talk Hi there!" in answer
    [answer] = testbot.texts(await testbot.send("!talk --persona nobody hi"))
    assert "no persona or style called 'nobody'" in answer


async def test_the_servers_persona_answers_by_default(bot_config: Config) -> None:
    bot_config.servers = {"test:s1": bot_config.server("test", "s1").model_copy(update={"persona": "sakura"})}
    async with Agent(bot_config) as agent:
        assert "Sakura" in only_video(await message(TestBot(agent), "hi", mentions_bot=True)).caption


# -- voice -----------------------------------------------------------------------------------


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return speech_clip(tmp_path / "voice.wav", "I like jazz.")


async def test_voice_without_a_speech_model_gets_told_how_to_configure_one(testbot: TestBot, clip: Path) -> None:
    [answer] = testbot.texts(await message(testbot, "", channel=DM, files=(clip,)))
    assert "needs a speech-recognition model" in answer and 'asr = "path/to/whisper"' in answer and "[models]" in answer
    assert rows(testbot.agent) == []


async def test_voice_in_video_out_with_the_transcript(testbot: TestBot, clip: Path) -> None:
    recognizer = FakeRecognizer("  I like jazz and\nI'm from Lisbon ")
    use_models(testbot.agent, recognizer=recognizer)
    requests = record_requests(testbot.agent)
    video = only_video(await testbot.send("!talk", attachments=(clip,)))
    assert recognizer.heard == [clip.read_bytes()]
    assert video.caption.startswith("You said: “I like jazz and I'm from Lisbon”\n")
    assert_valid_mp4(video.path, **SIZE, duration=video.duration)
    assert requests[0].text and requests[0].text in video.caption
    assert rows(testbot.agent)[0].facts == ["likes jazz", "is from Lisbon"]
    assert testbot.last is not None and testbot.last.statuses[0].edits[:2] == ["Pip is listening…", "Pip is thinking…"]


async def test_a_voice_message_without_words_or_sound_gets_a_clear_answer(testbot: TestBot, clip: Path,
                                                                          tmp_path: Path) -> None:
    use_models(testbot.agent, recognizer=FakeRecognizer("  "))
    [answer] = testbot.texts(await message(testbot, "", channel=DM, files=(clip,)))
    assert "couldn't hear any words" in answer
    broken = tmp_path / "broken.ogg"
    broken.write_bytes(b"not audio at all")
    [answer] = testbot.texts(await message(testbot, "", channel=DM, files=(broken,)))
    assert "audio" in answer.lower()
    assert rows(testbot.agent) == []


# -- the language model ------------------------------------------------------------------------


async def test_the_model_gets_persona_memory_and_turns_in_order(testbot: TestBot) -> None:
    await message(testbot, "My name is Ada and I like jazz.", channel=DM)  # remembered from templates
    replier = FakeReplier("[surprised] Pip: Jazz *again*? Wow!")
    use_models(testbot.agent, replier=replier)
    requests = record_requests(testbot.agent)
    video = only_video(await message(testbot, "Guess what I listened to today", channel=DM))
    [prompt] = replier.prompts
    system = prompt[0]
    assert system.role == "system"
    persona = testbot.agent.personas.get("friendly")
    assert persona.system_prompt.strip() in system.content and "your style: friendly" in system.content
    assert "likes jazz" in system.content and "is called Ada" in system.content and "[happy]" in system.content
    assert [m.role for m in prompt[1:]] == ["user", "assistant", "user"]
    assert prompt[1].content == "My name is Ada and I like jazz."
    assert prompt[-1].content == "Guess what I listened to today"
    [(tokens, seconds)] = replier.limits
    assert tokens == 80 and 19 < seconds <= 20.0  # the time budget counts from the message
    assert video.caption == "Jazz again? Wow!"
    assert requests[0].expression is Expression.SURPRISED and requests[0].text == "Jazz again? Wow!"


@pytest.mark.parametrize("failure", [RuntimeError("out of memory"), "", "🎉🎉"])
async def test_a_failing_model_falls_back_to_templates(testbot: TestBot, failure: str | Exception,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    use_models(testbot.agent, replier=FakeReplier(failure))
    with caplog.at_level(logging.WARNING, logger="plugins.chat"):
        video = only_video(await message(testbot, "Hello!", channel=DM))
    assert video.caption.startswith("Hi Ada, nice to meet you!")
    assert any("templates" in r.getMessage() for r in caplog.records)


async def test_a_model_past_its_timeout_is_not_waited_for(testbot: TestBot, monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    class StuckReplier(FakeReplier):
        def reply(self, messages: Sequence[ChatMessage], *, max_new_tokens: int, timeout: float) -> str:
            release.wait(10)
            return "[happy] too late"

    monkeypatch.setattr(chat, "TIMEOUT_GRACE", 0.0)
    testbot.agent.config.chat.reply_timeout_seconds = 0.05
    use_models(testbot.agent, replier=StuckReplier())
    try:
        video = only_video(await message(testbot, "Hello!", channel=DM))
    finally:
        release.set()
    assert "too late" not in video.caption and video.caption.startswith("Hi Ada")


async def test_the_reply_feeling_sets_the_face(testbot: TestBot) -> None:
    requests = record_requests(testbot.agent)
    for line in ("I am so sad today", "Wow, I won the lottery!", "This is stupid and unfair", "I'm not happy",
                 "Thanks, that is great!", "The bus leaves at noon"):
        await message(testbot, line, channel=DM)
    assert [r.expression for r in requests] == [Expression.SAD, Expression.SURPRISED, Expression.ANGRY,
                                                Expression.SAD, Expression.HAPPY, Expression.NEUTRAL]


# -- memory ------------------------------------------------------------------------------------


async def test_memory_survives_a_restart(bot_config: Config) -> None:
    async with Agent(bot_config) as agent:
        await message(TestBot(agent), "Hi! Call me Ada. I love jazz.", mentions_bot=True)
    async with Agent(bot_config) as agent:
        bot = TestBot(agent)
        caption = only_video(await message(bot, "hello", mentions_bot=True)).caption
        assert "again, Ada" in caption and "jazz" in caption
        [memory] = rows(agent)
        with agent.storage.session() as session:
            memory.last_seen = utcnow() - timedelta(days=3)
            session.add(memory)
            session.commit()
        assert "Welcome back, Ada" in only_video(await message(bot, "what do you remember?", mentions_bot=True)).caption


async def test_long_talks_stay_bounded_with_a_summary(bot_config: Config) -> None:
    bot_config.chat.max_turns = 4
    async with Agent(bot_config) as agent:
        bot = TestBot(agent)
        for line in ("I went hiking in the Alps.", "The weather was great.", "Tomorrow I rest."):
            await message(bot, line, channel=DM)
        [memory] = rows(agent)
    assert [t["text"] for t in memory.turns if t["role"] == "user"] == ["The weather was great.", "Tomorrow I rest."]
    assert "I went hiking in the Alps." in memory.summary


async def test_one_servers_memory_never_reaches_another(testbot: TestBot) -> None:
    await message(testbot, "I like jazz", mentions_bot=True)
    caption = only_video(await message(testbot, "what do you remember?", mentions_bot=True,
                                       channel=OTHER_SERVER)).caption
    assert "jazz" not in caption and "don't know much about you yet" in caption
    [answer] = testbot.texts(await testbot.send("!memory", channel=OTHER_SERVER))
    assert "jazz" not in answer
    assert {r.scope for r in rows(testbot.agent)} == {"s1", "s9"}


async def test_a_global_persona_remembers_across_servers(bot_config: Config) -> None:
    bot_config.chat.global_personas = ["friendly"]
    async with Agent(bot_config) as agent:
        bot = TestBot(agent)
        await message(bot, "I like jazz", mentions_bot=True)
        caption = only_video(await message(bot, "what do you remember?", mentions_bot=True,
                                           channel=OTHER_SERVER)).caption
        assert "you like jazz" in caption
        assert {r.scope for r in rows(agent)} == {GLOBAL_SCOPE}


async def test_memory_shows_and_forget_me_leaves_nothing_behind(testbot: TestBot) -> None:
    other = User(id="u2", name="Bo")
    await message(testbot, "I like jazz. My favourite food is ramen.", mentions_bot=True)
    await message(testbot, "I live in Oslo", mentions_bot=True, channel=OTHER_SERVER)
    await message(testbot, "I like tea", mentions_bot=True, user=other)
    [shown] = testbot.texts(await testbot.send("!memory"))
    assert "What Pip remembers about you here" in shown
    assert "you like jazz; your favourite food is ramen" in shown and "2 recent messages" in shown
    assert "Oslo" not in shown
    [done] = testbot.texts(await testbot.send("!forget me"))
    assert done == "Done: Pip forgot everything about you (in 2 places): 3 facts, 4 messages."
    assert rows(testbot.agent) == [] and len(rows(testbot.agent, "u2")) == 1
    [shown] = testbot.texts(await testbot.send("!memory"))
    assert "doesn't remember anything about you here yet" in shown
    [answer] = testbot.texts(await testbot.send("!forget everyone"))
    assert answer.startswith("!forget takes one of: me (got 'everyone')")


async def test_secrets_are_never_stored(testbot: TestBot) -> None:
    await message(testbot, "my password is hunter2, I like chess", channel=DM)
    [memory] = rows(testbot.agent)
    assert "hunter2" not in memory.turns_json + memory.facts_json + memory.summary


async def test_a_reply_that_cannot_be_rendered_still_arrives_as_text(bot_config: Config) -> None:
    bot_config.engine.max_text_chars = 20
    async with Agent(bot_config) as agent:
        [answer] = TestBot.texts(await message(TestBot(agent), "Hello!", channel=DM))
        assert answer.startswith("Hi Ada, nice to meet you!") and "No video this time" in answer
        assert len(rows(agent)[0].turns) == 2


# -- the console ---------------------------------------------------------------------------------


async def test_the_console_talks_by_text_and_by_voice(bot_config: Config, clip: Path) -> None:
    async with Agent(bot_config) as agent:
        use_models(agent, recognizer=FakeRecognizer("I like jazz"))
        output = io.StringIO()
        adapter = ConsoleAdapter(agent, stdin=io.StringIO(), console=Console(file=output, width=300))
        await adapter.handle_line("Hi Pip, I love tea")
        await adapter.handle_line(str(clip))
        await adapter.handle_line("!memory")
    printed = output.getvalue()
    assert printed.count("🎬") == 2 and printed.count(".mp4") == 2
    assert f"Hi {LOCAL_USER.name}, nice to meet you! I'm Pip." in printed and "You said: “I like jazz”" in printed
    assert "you love tea; you like jazz" in printed


# -- slow models and concurrency ----------------------------------------------------------


class SlowReplier(FakeReplier):
    """Holds every reply until released, like a big model on a busy machine; tells the test who is waiting."""

    def __init__(self, loop: asyncio.AbstractEventLoop, waiting_for: int) -> None:
        super().__init__("")  # nothing usable: the templates answer, too long to render here
        self.release = threading.Event()
        self.all_in = asyncio.Event()
        self.inside = 0
        self._loop, self._waiting_for, self._count = loop, waiting_for, threading.Lock()

    def reply(self, messages: Sequence[ChatMessage], *, max_new_tokens: int, timeout: float) -> str:
        with self._count:
            self.inside += 1
            if self.inside == self._waiting_for:
                self._loop.call_soon_threadsafe(self.all_in.set)
        self.release.wait(30)
        return super().reply(messages, max_new_tokens=max_new_tokens, timeout=timeout)


async def test_other_members_are_answered_while_slow_model_replies_run(testbot: TestBot) -> None:
    # More members talking at once than the default worker pool has threads, each reply taking long.
    talkers = min(32, (os.cpu_count() or 1) + 4) + 2
    replier = SlowReplier(asyncio.get_running_loop(), waiting_for=min(talkers, MODEL_THREADS))
    use_models(testbot.agent, replier=replier)
    testbot.agent.config.engine.max_text_chars = 20  # answers come back as text: no renders to wait for
    talks = [asyncio.create_task(message(TestBot(testbot.agent), "Hello!", channel=DM, user=User(f"t{i}", "Tal")))
             for i in range(talkers)]
    try:
        await asyncio.wait_for(replier.all_in.wait(), 10)
        [shown] = testbot.texts(await asyncio.wait_for(testbot.send("!memory"), 5))
        assert "doesn't remember anything about you here yet" in shown
    finally:
        replier.release.set()
    for answers in await asyncio.gather(*talks):
        [answer] = TestBot.texts(answers)
        assert answer.startswith("Hi Tal") and "No video this time" in answer
    assert replier.inside == talkers


async def test_a_member_s_quick_messages_are_answered_and_remembered_in_order(testbot: TestBot) -> None:
    await asyncio.gather(message(testbot, "I like jazz", mentions_bot=True),
                         message(testbot, "I like tea too", mentions_bot=True))
    [memory] = rows(testbot.agent)
    said = [turn["text"] for turn in memory.turns if turn["role"] == "user"]
    assert said == ["I like jazz", "I like tea too"]


async def test_forget_me_sent_while_a_reply_is_made_is_not_undone_by_it(testbot: TestBot) -> None:
    await asyncio.gather(message(testbot, "I like jazz", mentions_bot=True), testbot.send("!forget me"))
    assert rows(testbot.agent) == []
