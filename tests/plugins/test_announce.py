"""!announce: now and scheduled, with time driven by the test, across restarts, on the console."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from rich.console import Console

from adapters.console import ConsoleAdapter
from core.agent import Agent
from core.config import Config, ServerSettings
from core.events import Channel
from core.replies import VideoReply
from core.schedules import WallClockCronTrigger
from core.testing.testbot import ADMIN, MEMBER, FakeClock, TestBot
from plugins import announce
from plugins.announce import Announcement, Announcer, job_id
from plugins.housekeeping import run_retention
from tests.media import assert_valid_mp4
from tests.postgres import config_on

#: A Monday, well after the real clock, so the scheduler never fires a job on its own.
NOW = datetime(2031, 3, 3, 12, 0, tzinfo=UTC)
SIZE, FPS = 160, 10


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock(NOW)
    monkeypatch.setattr(announce, "clock", fake)
    return fake


@pytest.fixture
def bot_config(tmp_path: Path, database: str | Path) -> Config:
    """Every test here runs on SQLite and on PostgreSQL."""
    config = config_on(database, tmp_path)
    config.engine.width = config.engine.height = SIZE
    config.engine.fps = FPS
    config.servers = {"test:s1": ServerSettings(announce_channel="news", timezone="Europe/Berlin")}
    return config


def videos(replies: list) -> list[VideoReply]:  # type: ignore[type-arg]
    return [r for r in replies if isinstance(r, VideoReply)]


def rows(agent: Agent) -> list[Announcement]:
    return Announcer(agent).scheduled("test", "s1")


def render_count(agent: Agent) -> int:
    return len(agent.storage.recent_renders(limit=1000))


async def test_an_admin_announces_now_in_the_announcement_channel(testbot: TestBot, clock: FakeClock) -> None:
    replies = await testbot.send('!announce "The server moves on Friday!"', user=ADMIN)
    assert testbot.texts(replies) == ["Announced in channel news."]
    [video] = videos(testbot.posts("news"))
    assert video.caption == "The server moves on Friday!"
    assert_valid_mp4(video.path, width=SIZE, height=SIZE, fps=FPS, duration=video.duration)
    assert testbot.agent.storage.recent_renders()[0].persona == "friendly"


async def test_without_an_announcement_channel_it_posts_where_the_command_was_given(
        testbot: TestBot, clock: FakeClock) -> None:
    elsewhere = Channel(id="c9", server_id="s2", server_name="Other")
    await testbot.send("!server persona sakura", user=ADMIN, channel=elsewhere)
    replies = await testbot.send("!announce now list of winners", user=ADMIN, channel=elsewhere)
    assert testbot.texts(replies) == ["Announced in this channel."]
    [video] = videos(testbot.posts("c9"))
    assert video.caption == "list of winners"
    assert testbot.agent.storage.recent_renders()[0].persona == "sakura"


@pytest.mark.parametrize("line", [
    "!announce Free pizza", "!announce at 2031-03-04T09:00 Free pizza", '!announce cron "0 9 * * MON" Pizza',
    "!announce list", "!announce cancel 1",
])
async def test_members_who_are_not_admins_are_refused(testbot: TestBot, clock: FakeClock, line: str) -> None:
    assert testbot.texts(await testbot.send(line, user=MEMBER)) == ["Only admins can use !announce."]
    assert testbot.posts("news") == [] and rows(testbot.agent) == [] and render_count(testbot.agent) == 0


async def test_configured_admins_may_announce(bot_config: Config, clock: FakeClock) -> None:
    bot_config.servers["test:s1"].admins = [MEMBER.id]
    async with Agent(bot_config) as agent:
        bot = TestBot(agent)
        assert bot.texts(await bot.send("!announce Hello", user=MEMBER)) == ["Announced in channel news."]
        refused = await bot.send("!announce Hello", user=MEMBER, channel=Channel(id="c2", server_id="s2"))
        assert bot.texts(refused) == ["Only admins can use !announce."]


async def test_a_one_off_is_rendered_ahead_and_posted_at_its_time_in_the_server_zone(
        testbot: TestBot, clock: FakeClock) -> None:
    replies = await testbot.send("!announce at 2031-03-04T09:00 Standup in five minutes", user=ADMIN)
    [answer] = testbot.texts(replies)
    assert answer.startswith("Scheduled announcement #1 for Tue 4 Mar 2031, 09:00 (Europe/Berlin) in channel news.")
    [row] = rows(testbot.agent)
    due = datetime(2031, 3, 4, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
    assert testbot.agent.scheduler.get_job(job_id(row.id)).next_run_time == due  # type: ignore[arg-type]
    assert Path(row.video_path).is_file() and render_count(testbot.agent) == 1

    assert await testbot.advance(due - timedelta(seconds=1)) == []
    assert await testbot.advance(due) == ["announce-1"]
    [video] = videos(testbot.posts("news"))
    assert (video.path, video.caption) == (Path(row.video_path), "Standup in five minutes")
    assert render_count(testbot.agent) == 1  # the video made ahead of time was posted
    assert rows(testbot.agent) == [] and testbot.agent.scheduler.get_job("announce-1") is None


async def test_a_cron_announcement_posts_every_time(testbot: TestBot, clock: FakeClock) -> None:
    [answer] = testbot.texts(await testbot.send('!announce cron "0 9 * * MON" Weekly meeting at ten', user=ADMIN))
    assert 'on the schedule "0 9 * * MON", first on Mon 10 Mar 2031, 09:00 (Europe/Berlin)' in answer
    ran = await testbot.advance(datetime(2031, 3, 24, 12, 0, tzinfo=UTC))
    assert ran == ["announce-1"] * 3
    assert [v.caption for v in videos(testbot.posts("news"))] == ["Weekly meeting at ten"] * 3
    [row] = rows(testbot.agent)
    assert row.next_post_at.replace(tzinfo=UTC) == datetime(2031, 3, 31, 7, 0, tzinfo=UTC)  # summer time
    assert render_count(testbot.agent) == 1


async def test_a_daily_announcement_in_the_hour_repeated_when_clocks_go_back_posts_once_a_day(
        bot_config: Config, clock: FakeClock) -> None:
    clock.now = datetime(2031, 10, 22, 12, 0, tzinfo=UTC)  # Berlin goes back an hour on Sun 26 Oct
    async with Agent(bot_config) as agent:
        bot = TestBot(agent)
        await bot.send('!announce cron "30 2 * * *" Night shift', user=ADMIN)
        job = agent.scheduler.get_job("announce-1")  # as an earlier version stored it:
        job.modify(trigger=CronTrigger.from_crontab("30 2 * * *", timezone="Europe/Berlin"))
    async with Agent(bot_config) as agent:
        bot = TestBot(agent)
        assert isinstance(agent.scheduler.get_job("announce-1").trigger, WallClockCronTrigger)
        assert await bot.advance(datetime(2031, 10, 29, 12, 0, tzinfo=UTC)) == ["announce-1"] * 7
        assert len(videos(bot.posts("news"))) == 7
        [row] = rows(agent)
        assert row.next_post_at.replace(tzinfo=UTC) == datetime(2031, 10, 30, 1, 30, tzinfo=UTC)


async def test_list_and_cancel(testbot: TestBot, clock: FakeClock) -> None:
    await testbot.send('!announce cron "30 18 * * FRI" Games night', user=ADMIN)
    await testbot.send("!announce at 2031-03-04T09:00 The big update", user=ADMIN)
    [listing] = testbot.texts(await testbot.send("!announce list", user=ADMIN))
    assert listing.splitlines() == [
        "Scheduled announcements:",
        "#2 · Tue 4 Mar 2031, 09:00 (Europe/Berlin) · The big update",
        '#1 · Fri 7 Mar 2031, 18:30 (Europe/Berlin) (repeats "30 18 * * FRI", Europe/Berlin) · Games night',
    ]
    other = Channel(id="c7", server_id="s2")
    assert testbot.texts(await testbot.send("!announce cancel 1", user=ADMIN, channel=other)) == [
        "There is no scheduled announcement #1 in this server. See !announce list."]
    assert testbot.texts(await testbot.send("!announce list", user=ADMIN, channel=other)) == [
        "No announcements are scheduled in this server."]
    assert testbot.texts(await testbot.send("!announce cancel 1", user=ADMIN)) == ["Cancelled announcement #1."]
    assert testbot.agent.scheduler.get_job("announce-1") is None
    assert [r.id for r in rows(testbot.agent)] == [2]
    assert await testbot.advance(datetime(2031, 4, 1, tzinfo=UTC)) == ["announce-2"]
    assert [v.caption for v in videos(testbot.posts("news"))] == ["The big update"]


@pytest.mark.parametrize(("line", "message"), [
    ("!announce at tomorrow Hello", "I couldn't read the time 'tomorrow'. Write it as YYYY-MM-DDTHH:MM"),
    ("!announce at 2031-03-01T09:00 Hello", ("Sat 1 Mar 2031, 09:00 (Europe/Berlin) is in the past; it is now "
                                           "Mon 3 Mar 2031, 13:00 (Europe/Berlin)")),
    ("!announce at 2031-03-05 Hello", "Add the time of day to 2031-03-05"),
    ("!announce at 9999-12-31T23:59-05:00 Hello", "I couldn't read the time '9999-12-31T23:59-05:00'"),
    ("!announce at 0001-01-01T00:00+05:00 Hello", "I couldn't read the time '0001-01-01T00:00+05:00'"),
    ("!announce at 2031-03-05 09:00", "Tell me what to announce"),
    ("!announce at", "Say when"),
    ('!announce cron "0 9 * *" Hello', "Write the schedule as five crontab fields in quotes"),
    ('!announce cron "0 9 * * 1" Hello', "Write the day of the week as names"),
    ('!announce cron "0 25 * * MON" Hello', "I couldn't read the schedule '0 25 * * MON'"),
    ('!announce cron "*/5 * * * *" Hello', "fires more often than once an hour"),
    ("!announce cancel soon", "Say which one, e.g. !announce cancel 3"),
    ("!announce 🎉🎉🎉", "nothing that can be read out loud"),
])
async def test_bad_input_gets_a_specific_answer(testbot: TestBot, clock: FakeClock, line: str, message: str) -> None:
    [answer] = testbot.texts(await testbot.send(line, user=ADMIN))
    assert message in answer, answer
    assert rows(testbot.agent) == [] and testbot.posts("news") == []


async def test_at_accepts_date_and_time_as_two_words_and_an_explicit_offset(testbot: TestBot, clock: FakeClock) -> None:
    await testbot.send("!announce at 2031-03-05 09:00 Two words", user=ADMIN)
    await testbot.send("!announce at 2031-03-05T09:00+00:00 With offset", user=ADMIN)
    due = {r.text: r.next_post_at.replace(tzinfo=UTC) for r in rows(testbot.agent)}
    assert due == {"Two words": datetime(2031, 3, 5, 8, 0, tzinfo=UTC),
                   "With offset": datetime(2031, 3, 5, 9, 0, tzinfo=UTC)}


async def test_scheduled_announcements_survive_a_restart(bot_config: Config, clock: FakeClock) -> None:
    async with Agent(bot_config) as agent:
        bot = TestBot(agent)
        await bot.send("!announce at 2031-03-04T09:00 After the restart", user=ADMIN)
        await bot.send('!announce cron "0 9 * * MON" Every Monday', user=ADMIN)
        prepared = {row.text: row.video_path for row in rows(agent)}
    async with Agent(bot_config) as agent:
        bot = TestBot(agent)
        jobs = {job.id: job.next_run_time for job in agent.scheduler.get_jobs()}
        assert jobs == {"announce-1": datetime(2031, 3, 4, 8, 0, tzinfo=UTC),
                        "announce-2": datetime(2031, 3, 10, 8, 0, tzinfo=UTC)}
        assert sorted(await bot.advance(datetime(2031, 3, 11, tzinfo=UTC))) == ["announce-1", "announce-2"]
        posted = {v.caption: str(v.path) for v in videos(bot.posts("news"))}
        assert posted == prepared
        assert render_count(agent) == 2  # both renders were made before the restart


async def test_a_post_missed_while_down_goes_out_late_within_the_grace_window(
        bot_config: Config, clock: FakeClock) -> None:
    async with Agent(bot_config) as agent:
        await TestBot(agent).send("!announce at 2031-03-04T09:00 Doors open", user=ADMIN)
    clock.now = datetime(2031, 3, 4, 8, 10, tzinfo=UTC)  # ten minutes after it was due; grace is 15
    async with Agent(bot_config) as agent:
        bot = TestBot(agent)
        assert agent.scheduler.get_job("announce-1").next_run_time == clock.now
        assert await bot.advance(clock.now) == ["announce-1"]
        assert [v.caption for v in videos(bot.posts("news"))] == ["Doors open"]
        assert rows(agent) == []


async def test_a_post_missed_beyond_the_grace_window_is_skipped_with_a_note(
        bot_config: Config, clock: FakeClock) -> None:
    async with Agent(bot_config) as agent:
        bot = TestBot(agent)
        await bot.send("!announce at 2031-03-04T09:00 Doors open", user=ADMIN)
        await bot.send('!announce cron "0 9 * * TUE" Tuesday tips', user=ADMIN)
    clock.now = datetime(2031, 3, 4, 10, 0, tzinfo=UTC)
    async with Agent(bot_config) as agent:
        bot = TestBot(agent)
        assert sorted(await bot.advance(clock.now)) == ["announce-1", "announce-2"]
        assert videos(bot.posts("news")) == []
        notes = bot.texts(bot.posts("c1"))
        assert len(notes) == 2 and all("more than the 15-minute grace window ago, so I skipped it" in n for n in notes)
        assert ("Announcement #1 was due at Tue 4 Mar 2031, 09:00 (Europe/Berlin) while I was offline"
                in notes[0] + notes[1])
        [weekly] = rows(agent)  # the recurring one goes on next week
        assert weekly.next_post_at.replace(tzinfo=UTC) == datetime(2031, 3, 11, 8, 0, tzinfo=UTC)
        assert await bot.advance(datetime(2031, 3, 11, 8, 0, tzinfo=UTC)) == ["announce-2"]
        assert [v.caption for v in videos(bot.posts("news"))] == ["Tuesday tips"]


async def test_a_channel_the_bot_cannot_post_in(testbot: TestBot, clock: FakeClock) -> None:
    testbot.adapter.unavailable.add("news")
    [answer] = testbot.texts(await testbot.send("!announce Hello", user=ADMIN))
    assert answer.startswith("I can't post in the announcement channel news: no permission to post in news.")
    testbot.adapter.unavailable.clear()
    await testbot.send("!announce at 2031-03-04T09:00 Later", user=ADMIN)
    testbot.adapter.unavailable.add("news")  # permission taken away before the post
    await testbot.advance(datetime(2031, 3, 5, tzinfo=UTC))
    assert testbot.posts("news") == []
    [note] = testbot.texts(testbot.posts("c1"))
    assert note.startswith("I couldn't post announcement #1 in channel news: no permission")


async def test_a_post_the_platform_refuses_is_not_lost_silently(
        testbot: TestBot, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    await testbot.send("!announce at 2031-03-04T09:00 Doors open", user=ADMIN)

    async def refuse(self: Announcer, row: Announcement) -> None:
        raise ConnectionError("upload failed")

    monkeypatch.setattr(Announcer, "post", refuse)
    assert await testbot.advance(datetime(2031, 3, 4, 8, 0, tzinfo=UTC)) == ["announce-1"]
    [note] = [t for t in testbot.texts(testbot.posts("c1")) if "#1" in t and "Scheduled" not in t]
    assert note == "I couldn't post announcement #1: something went wrong while posting it. The details are in the log."
    assert rows(testbot.agent) == []


async def test_a_channel_of_another_server_is_never_posted_in(testbot: TestBot, clock: FakeClock) -> None:
    await testbot.send("!announce at 2031-03-04T09:00 Later", user=ADMIN)
    testbot.adapter.channel_servers["news"] = "s2"  # e.g. the config names another server's channel
    [answer] = testbot.texts(await testbot.send("!announce Hello", user=ADMIN))
    assert answer.startswith("I can't post in the announcement channel news: channel news is in another server.")
    await testbot.advance(datetime(2031, 3, 5, tzinfo=UTC))
    assert testbot.posts("news") == []
    [note] = testbot.texts(testbot.posts("c1"))
    assert note.startswith("I couldn't post announcement #1 in channel news: channel news is in another server.")


async def test_a_server_that_switched_announce_off(testbot: TestBot, clock: FakeClock) -> None:
    await testbot.send("!announce at 2031-03-04T09:00 Quietly", user=ADMIN)
    assert testbot.texts(await testbot.send("!server disable announce", user=ADMIN)) == [
        "The announce plugin is switched off in this server."]
    assert testbot.texts(await testbot.send("!announce Hello", user=ADMIN)) == [
        "The announce plugin is switched off in this server. An admin can switch it on with !server enable announce."]
    await testbot.advance(datetime(2031, 3, 5, tzinfo=UTC))
    assert testbot.posts("news") == [] and rows(testbot.agent) == []


async def test_on_the_console(bot_config: Config, clock: FakeClock) -> None:
    output = io.StringIO()
    async with Agent(bot_config) as agent:
        console = ConsoleAdapter(agent, stdin=io.StringIO(), console=Console(file=output, width=300))
        agent.attach(console)
        await console.handle_line("!announce Hello from the console")
        await console.handle_line("!announce at 2031-03-04T09:00 Console later")
        await console.handle_line("!announce list")
        await TestBot(agent).advance(datetime(2031, 3, 5, tzinfo=UTC))
    printed = output.getvalue()
    assert "[#console] 🎬 " in printed and "\n   Hello from the console\n" in printed
    assert "Scheduled announcement #1 for Tue 4 Mar 2031, 09:00 (UTC) in this channel." in printed
    assert "#1 · Tue 4 Mar 2031, 09:00 (UTC) · Console later" in printed
    assert "\n   Console later\n" in printed and (bot_config.engine.output_dir / "console-later.mp4").is_file()


def age_rendered_files(config: Config, hours: float) -> None:
    """Make every rendered file look ``hours`` old to the retention job."""
    then = datetime.now(UTC).timestamp() - hours * 3600
    for folder in (config.engine.output_dir, config.engine.cache_dir):
        for path in folder.rglob("*"):
            if path.is_file():
                os.utime(path, (then, then))


async def test_housekeeping_keeps_a_pending_announcements_video_until_it_is_posted(
        testbot: TestBot, clock: FakeClock) -> None:
    agent = testbot.agent
    agent.config.housekeeping.max_age_days = 1 / 24  # an hour
    await testbot.send("!announce at 2031-03-04T09:00 Kept until posted", user=ADMIN)
    await testbot.send('!announce cron "0 9 * * MON" Kept every week', user=ADMIN)
    await testbot.send("!announce at 2031-03-05T09:00 Kept until cancelled", user=ADMIN)
    prepared = {row.text: Path(row.video_path) for row in rows(agent)}
    age_rendered_files(agent.config, hours=48)

    report = await run_retention(agent)
    # Only the decoded sprite layers went (they are made again when needed); each video stays with its metadata.
    assert all(path.parent.name == "layers" for path in report.deleted) and report.kept == 2 * len(prepared)
    assert all(path.is_file() for path in prepared.values())
    await testbot.send("!announce cancel 3", user=ADMIN)
    assert await testbot.advance(datetime(2031, 3, 4, 8, 0, tzinfo=UTC)) == ["announce-1"]
    [video] = videos(testbot.posts("news"))
    assert (video.path, video.caption) == (prepared["Kept until posted"], "Kept until posted")
    assert render_count(agent) == 3  # posted with the video made ahead of time

    age_rendered_files(agent.config, hours=48)
    await run_retention(agent)
    assert [text for text, path in prepared.items() if path.is_file()] == ["Kept every week"]
    assert agent.storage.kept_paths(datetime.now(UTC)) == {prepared["Kept every week"].resolve()}


async def test_announcements_scheduled_before_videos_were_kept_are_kept_after_a_restart(
        bot_config: Config, clock: FakeClock) -> None:
    async with Agent(bot_config) as agent:
        await TestBot(agent).send("!announce at 2031-03-04T09:00 From an older version", user=ADMIN)
        agent.storage.release_files(announce.file_owner(1))  # as an older version left it
    async with Agent(bot_config) as agent:
        [row] = rows(agent)
        assert agent.storage.kept_paths(datetime.now(UTC)) == {Path(row.video_path).resolve()}
