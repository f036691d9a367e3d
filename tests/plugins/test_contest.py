"""Voice contests end to end: entries rendered per persona, votes, standings, the closing
job driven by ``testbot.advance``, restarts, and the console adapter."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console

from adapters.console import ConsoleAdapter
from core.agent import Agent
from core.config import Config, ServerSettings
from core.events import User
from core.replies import PollReply, PollTally, Reply, TextReply, VideoReply
from core.testing.testbot import ADMIN, CHANNEL, MEMBER, TestBot
from plugins.contest import models, timing
from plugins.contest.models import Status
from tests.media import assert_valid_mp4, speech_clip
from tests.postgres import config_on

BOB = User(id="u2", name="Bob")
CY = User(id="u3", name="Cy")
SIZE, FPS = 128, 10


@pytest.fixture
def bot_config(tmp_path: Path, database: str | Path) -> Config:
    """Every test here runs on SQLite and on PostgreSQL."""
    config = config_on(database, tmp_path)
    config.engine.width = config.engine.height = SIZE
    config.engine.fps = FPS
    return config


@pytest.fixture
def clips(tmp_path: Path) -> dict[str, Path]:
    lines = {"ada": "Ha ha ha!", "bob": "Muah ha ha.", "cy": "Hee hee!", "ada2": "Ho ho ho!"}
    return {name: speech_clip(tmp_path / f"{name}.wav", text) for name, text in lines.items()}


def polls(replies: list[Reply]) -> list[PollReply]:
    return [r for r in replies if isinstance(r, PollReply)]


def later(**delta: float) -> datetime:
    return datetime.now(UTC) + timedelta(**delta)


async def enter(bot: TestBot, user: User, clip: Path) -> PollReply:
    replies = await bot.send("!contest enter", user=user, attachments=(clip,))
    [poll] = polls(replies)
    return poll


async def test_a_contest_from_start_to_winner(testbot: TestBot, clips: dict[str, Path]) -> None:
    [opened] = testbot.texts(await testbot.send(
        '!contest start "Best evil laugh" --ends 2h --personas friendly,neon', user=ADMIN))
    assert "«Best evil laugh»" in opened and "performed by Pip and Neon" in opened

    ada = await enter(testbot, MEMBER, clips["ada"])
    assert testbot.last is not None
    [neon_take] = testbot.videos(testbot.last.replies)
    assert ada.video is not None and "Entry by Ada" in ada.text and [o.label for o in ada.options] == ["Vote for Ada"]
    for video in (ada.video, neon_take.path):
        assert_valid_mp4(video, width=SIZE, height=SIZE, fps=FPS)
    edits = " | ".join(testbot.last.statuses[0].edits)
    assert "Pip 1/2" in edits and "Neon 2/2" in edits, edits
    assert "Your entry for «Best evil laugh» is in" in testbot.texts(testbot.last.replies)[-1]
    bob = await enter(testbot, BOB, clips["bob"])
    cy = await enter(testbot, CY, clips["cy"])
    assert len({ada.poll_id, bob.poll_id, cy.poll_id}) == 1  # one poll: one vote per member per contest

    assert "goes to Ada" in testbot.texts(await testbot.vote(ada.poll_id, ada.options[0].id, user=BOB))[0]
    refused = await testbot.vote(bob.poll_id, bob.options[0].id, user=BOB)
    assert "can't vote for your own entry" in testbot.texts(refused)[0]
    assert [r.counts for r in refused if isinstance(r, PollTally)] == [{ada.options[0].id: 1}]
    assert testbot.agent.polls.choice("test", ada.poll_id, BOB.id) == ada.options[0].id  # Bob's vote stayed
    await testbot.vote(ada.poll_id, ada.options[0].id, user=ADMIN)
    await testbot.vote(ada.poll_id, ada.options[0].id, user=CY)
    await testbot.vote(bob.poll_id, bob.options[0].id, user=CY)  # Cy changes their mind: the vote moves
    [standings] = testbot.texts(await testbot.send("!contest standings", user=CY))
    assert standings.endswith("1. Ada — 2 votes\n2. Bob — 1 vote\n3. Cy — 0 votes"), standings
    assert "left" in standings

    assert await testbot.advance(later(hours=1)) == []
    assert await testbot.advance(later(hours=3)) == ["contest-close-1"]
    [result, winner] = testbot.posts(CHANNEL.id)
    assert isinstance(result, TextReply) and "The winner is Ada with 2 votes" in result.text
    assert isinstance(winner, VideoReply) and winner.path == ada.video and winner.caption == "Winning entry by Ada"
    assert "has ended" in testbot.texts(await testbot.send("!contest standings"))[0]
    assert "has closed" in testbot.texts(await testbot.vote(cy.poll_id, cy.options[0].id, user=BOB))[0]
    assert testbot.agent.polls.choice("test", ada.poll_id, BOB.id) == ada.options[0].id
    assert testbot.agent.storage.kept_paths(datetime.now(UTC)) == set()  # the videos may be cleaned up now


async def test_a_tie_names_every_winner_with_their_video(testbot: TestBot, clips: dict[str, Path]) -> None:
    await testbot.send('!contest start "Shortest joke" --ends 1d', user=ADMIN)
    ada, bob = await enter(testbot, MEMBER, clips["ada"]), await enter(testbot, BOB, clips["bob"])
    await testbot.vote(ada.poll_id, ada.options[0].id, user=BOB)
    await testbot.vote(bob.poll_id, bob.options[0].id, user=MEMBER)
    await testbot.advance(later(days=2))
    [result, *videos] = testbot.posts(CHANNEL.id)
    assert isinstance(result, TextReply)
    assert "tie! Ada and Bob share the win with 1 vote each" in result.text
    assert "1. Ada — 1 vote\n1. Bob — 1 vote" in result.text
    assert [v.path for v in testbot.videos(videos)] == [ada.video, bob.video]


async def test_an_empty_contest_and_one_without_votes_end_clearly(testbot: TestBot, clips: dict[str, Path]) -> None:
    await testbot.send('!contest start "Nobody came" --ends 30m', user=ADMIN)
    await testbot.advance(later(hours=1))
    assert testbot.texts(testbot.posts(CHANNEL.id)) == [
        "🏁 «Nobody came» has ended without any entries. Maybe next time!"]

    await testbot.send('!contest start "Silent crowd" --ends 30m', user=ADMIN)
    await enter(testbot, MEMBER, clips["ada"])
    assert testbot.texts(await testbot.send("!contest end", user=ADMIN)) == ["Closing «Silent crowd» now."]
    last = testbot.posts(CHANNEL.id)[-1]
    assert isinstance(last, TextReply) and "ended with 1 entry but no votes, so there is no winner" in last.text
    assert testbot.agent.scheduler.get_job("contest-close-2") is None  # ending early removed the job


async def test_replacing_an_entry_keeps_the_slot_and_resets_its_votes(testbot: TestBot, clips: dict[str, Path]) -> None:
    await testbot.send('!contest start "Best laugh" --ends 2h', user=ADMIN)
    first = await enter(testbot, MEMBER, clips["ada"])
    await testbot.vote(first.poll_id, first.options[0].id, user=BOB)
    second = await enter(testbot, MEMBER, clips["ada2"])
    assert testbot.last is not None
    assert "the 1 vote(s) for the old one were reset" in testbot.texts(testbot.last.replies)[-1]
    assert "a new recording" in second.text and second.video != first.video
    assert testbot.agent.polls.tally("test", first.poll_id) == {}
    stale = await testbot.vote(first.poll_id, first.options[0].id, user=BOB)
    assert "replaced by a newer one" in testbot.texts(stale)[0]
    await testbot.vote(second.poll_id, second.options[0].id, user=BOB)
    assert len(models.entries(testbot.agent.storage, 1)) == 1
    await testbot.send("!contest end", user=ADMIN)
    [result, winner] = testbot.posts(CHANNEL.id)
    assert isinstance(result, TextReply) and "The winner is Ada with 1 vote" in result.text
    assert isinstance(winner, VideoReply) and winner.path == second.video


async def test_members_cannot_start_or_end_a_contest(testbot: TestBot) -> None:
    assert testbot.texts(await testbot.send('!contest start "Mine" --ends 2h')) == ["Only admins can start a contest."]
    await testbot.send('!contest start "Theirs" --ends 2h', user=ADMIN)
    assert testbot.texts(await testbot.send("!contest end")) == ["Only admins can end a contest early."]
    assert models.open_in(testbot.agent.storage, "test", CHANNEL.server_id) is not None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("!contest", "Use !contest start"),
        ("!contest dance", "Use !contest start"),
        ('!contest start --ends 2h', "Give the contest a theme"),
        ('!contest start "Laughs"', "Say when it ends with --ends"),
        ('!contest start "Laughs" --ends tomorrow', "couldn't read the time 'tomorrow'"),
        ('!contest start "Laughs" --ends 2001-01-01T10:00', "2001-01-01 10:00 UTC has already passed"),
        ('!contest start "Laughs" --ends 100d', "at most 60 days"),
        ('!contest start "Laughs" --ends 99999999999d', "at most 60 days"),
        ('!contest start "Laughs" --ends 0001-01-01T00:00+05:00', "couldn't read the time '0001-01-01T00:00+05:00'"),
        ('!contest start "Laughs" --ends 2031-06-01 18:00', "Add the time of day to 2031-06-01"),
        ('!contest start "Laughs" --ends 2h --personas friendly,nobody', "no persona or style called 'nobody'"),
        ('!contest start "Laughs" --ends 2h --personas ,', "Name at least one persona"),
        ("!contest enter", "There is no contest running here"),
        ("!contest standings", "No contest has run here yet"),
    ],
)
async def test_bad_input_gets_a_specific_message(testbot: TestBot, line: str, message: str) -> None:
    [answer] = testbot.texts(await testbot.send(line, user=ADMIN))
    assert message in answer
    assert models.open_in(testbot.agent.storage, "test", CHANNEL.server_id) is None


async def test_bad_entries_are_refused_and_nothing_is_saved(testbot: TestBot, tmp_path: Path) -> None:
    await testbot.send('!contest start "Laughs" --ends 2h', user=ADMIN)
    assert "Attach your voice clip" in testbot.texts(await testbot.send("!contest enter"))[0]
    not_audio = tmp_path / "cat.mp3"
    not_audio.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    await testbot.send("!contest enter", attachments=(not_audio,))
    assert testbot.last is not None and not polls(testbot.last.replies)
    assert "looks like a PNG image" in testbot.texts(testbot.last.replies)[0]
    assert models.entries(testbot.agent.storage, 1) == []
    again = await testbot.send('!contest start "Another" --ends 2h', user=ADMIN)
    assert "«Laughs» is still running here" in testbot.texts(again)[0]


async def test_the_deadline_is_read_in_the_server_time_zone(bot_config: Config) -> None:
    bot_config.servers = {f"test:{CHANNEL.server_id}": ServerSettings(timezone="Europe/Berlin")}
    day = (datetime.now(UTC) + timedelta(days=10)).date()
    async with Agent(bot_config) as agent:
        bot = TestBot(agent)
        [opened] = bot.texts(await bot.send(f'!contest start "Summer" --ends {day}T18:00', user=ADMIN))
        job = agent.scheduler.get_job("contest-close-1")
    local = datetime.fromisoformat(f"{day}T18:00").replace(tzinfo=ZoneInfo("Europe/Berlin"))
    assert job.next_run_time == local
    assert f"{day} 18:00 CE" in opened  # CEST in summer, CET in winter


async def test_a_restart_mid_contest_keeps_entries_votes_and_the_closing_job(bot_config: Config,
                                                                             clips: dict[str, Path]) -> None:
    async with Agent(bot_config) as agent:
        bot = TestBot(agent)
        await bot.send('!contest start "Restartable" --ends 2h', user=ADMIN)
        ada, bob = await enter(bot, MEMBER, clips["ada"]), await enter(bot, BOB, clips["bob"])
        await bot.vote(ada.poll_id, ada.options[0].id, user=CY)
        await bot.vote(ada.poll_id, ada.options[0].id, user=BOB)
        ends = agent.scheduler.get_job("contest-close-1").next_run_time

    async with Agent(bot_config) as agent:
        bot = TestBot(agent)
        assert agent.scheduler.get_job("contest-close-1").next_run_time == ends
        [standings] = bot.texts(await bot.send("!contest standings"))
        assert standings.endswith("1. Ada — 2 votes\n2. Bob — 0 votes")
        await bot.vote(bob.poll_id, bob.options[0].id, user=CY)  # still one vote each, still movable
        assert "can't vote for your own" in bot.texts(await bot.vote(bob.poll_id, bob.options[0].id, user=BOB))[0]
        assert await bot.advance(ends + timedelta(minutes=1)) == ["contest-close-1"]
        [result, *videos] = bot.posts(CHANNEL.id)
        assert isinstance(result, TextReply) and "tie! Ada and Bob" in result.text
        assert [v.path for v in bot.videos(videos)] == [ada.video, bob.video]


async def test_a_deadline_passed_during_downtime_closes_on_start(bot_config: Config, clips: dict[str, Path],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    async with Agent(bot_config) as agent:
        bot = TestBot(agent)
        await bot.send('!contest start "While you slept" --ends 2h', user=ADMIN)
        ada = await enter(bot, MEMBER, clips["ada"])
        await bot.vote(ada.poll_id, ada.options[0].id, user=BOB)

    woke = later(hours=5)
    monkeypatch.setattr(timing, "now", lambda: woke)
    async with Agent(bot_config) as agent:
        # Closed during start-up, before any platform was connected: the result waits for one.
        assert models.get(agent.storage, 1).status == Status.CLOSED
        assert agent.scheduler.get_job("contest-close-1") is None
        bot = TestBot(agent)
        assert bot.posts(CHANNEL.id) == []
        assert await bot.advance(woke + timedelta(minutes=2)) == ["contest-announce-1-1"]
        [result, winner] = bot.posts(CHANNEL.id)
        assert isinstance(result, TextReply) and "The winner is Ada with 1 vote" in result.text
        assert isinstance(winner, VideoReply) and winner.path == ada.video
        assert models.get(agent.storage, 1).status == Status.ANNOUNCED


async def test_a_result_that_cannot_be_posted_is_retried_then_given_up(testbot: TestBot) -> None:
    await testbot.send('!contest start "Locked out" --ends 2h', user=ADMIN)
    testbot.adapter.unavailable.add(CHANNEL.id)
    await testbot.send("!contest end", user=ADMIN)
    assert models.get(testbot.agent.storage, 1).status == Status.CLOSED
    ran = await testbot.advance(later(hours=3))
    assert len(ran) == 59 and all(r.startswith("contest-announce-1-") for r in ran)
    assert models.get(testbot.agent.storage, 1).status == Status.UNDELIVERED
    assert testbot.posts(CHANNEL.id) == []


async def test_a_contest_on_the_console(bot_config: Config, clips: dict[str, Path]) -> None:
    """The operator acts out a whole contest: members enter (:as), vote (:vote), and it closes with a winner."""
    output = io.StringIO()
    async with Agent(bot_config) as agent:
        console = ConsoleAdapter(agent, stdin=io.StringIO(), console=Console(file=output, width=300))
        agent.attach(console)
        for line in ['!contest start "Console cup" --ends 1h', ":as Ada", f"!contest enter {clips['ada']}",
                     ":vote 1", ":as Cy", ":vote 1", "!contest standings", "!contest end", ":as",
                     "!contest end", ":vote 7"]:
            await console.handle_line(line)
    printed = output.getvalue()
    assert "Voice contest: «Console cup»" in printed
    assert "🗳 Entry by Ada for «Console cup», performed by Pip\n" in printed
    assert f"   🎬 {bot_config.engine.output_dir / 'entry-by-ada-for-console-cup.mp4'}\n" in printed
    assert "   [1] Vote for Ada (:vote 1)" in printed
    assert "reading your clip…" in printed and "downloading" not in printed
    assert "You can't vote for your own entry." in printed
    assert "Your vote in «Console cup» goes to Ada." in printed and "votes: Vote for Ada 1" in printed
    assert "1. Ada — 1 vote" in printed
    assert "Only admins can end a contest early." in printed
    assert "[#console] 🏆 «Console cup» has ended! The winner is Ada with 1 vote." in printed
    assert "Say which option, e.g. :vote 1 (the numbers in brackets; 1 to 1)." in printed
