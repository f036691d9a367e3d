"""Slack's community events through the real adapter: joins, votes by reaction, who is who."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.adapter import ChannelUnavailable
from core.commands import Command
from core.context import Context
from core.events import MessageEvent, ParsedCommand, User
from core.plugins import hookimpl
from core.replies import PollReply, TextReply, VoteOption
from core.testing.fakes.slack import SlackDriver, running_driver
from core.testing.fakes.slack_server import FakeSlack
from core.testing.testbot import ADMIN, MEMBER, test_config
from tests.media import assert_valid_mp4

BOB = User(id="U0BOB", name="Bob")


class CommunityPlugin:
    """A poll and who-am-I, for checking what the adapter tells plugins (greetings come
    from the real welcome plugin)."""

    @hookimpl
    def register_commands(self, register):  # type: ignore[no-untyped-def]
        register(Command("poll", "a poll", self.poll, plugin="community"))
        register(Command("whoami", "who and where", self.whoami, plugin="community"))

    async def poll(self, ctx: Context, command: ParsedCommand) -> None:
        await ctx.reply(PollReply("best", "Which is best?", (VoteOption("a", "Apples"), VoteOption("b", "Bananas"))))

    async def whoami(self, ctx: Context, command: ParsedCommand) -> None:
        event = ctx.event
        assert isinstance(event, MessageEvent)
        await ctx.reply(f"{event.user.name} admin={ctx.is_admin} direct={event.channel.is_direct} "
                        f"mention={event.mentions_bot} reply={event.replies_to_bot} "
                        f"where={event.channel.server_id}/{event.channel.name}")


@pytest.fixture
async def driver(slack_api: FakeSlack, tmp_path: Path) -> AsyncIterator[SlackDriver]:
    async for running in running_driver(slack_api, test_config(tmp_path), plugins=[CommunityPlugin()]):
        yield running


async def test_a_member_joining_gets_a_greeting_clip(driver: SlackDriver, tmp_path: Path) -> None:
    [greeting] = await driver.join(BOB)
    assert greeting.kind == "video" and greeting.text == "Welcome to Test Workspace, Bob!"
    [(name, content)] = greeting.files
    (tmp_path / name).write_bytes(content)
    assert_valid_mp4(tmp_path / name, width=512, height=512, fps=25)


async def test_a_join_slack_delivers_again_is_greeted_once(driver: SlackDriver) -> None:
    [greeting] = await driver.join(BOB)
    assert await driver.redeliver(retry=1) == []
    assert await driver.redeliver(retry=2) == []
    assert len(driver.agent.storage.recent_renders()) == 1


async def test_a_reaction_slack_delivers_again_is_counted_once(driver: SlackDriver) -> None:
    [poll] = await driver.send("!poll", user=MEMBER)
    await driver.vote(poll, 0, user=MEMBER)
    await driver.vote(poll, 0, user=MEMBER, added=False)
    await driver.redeliver(-2)  # the late retry of the added reaction must not bring the vote back
    assert driver.agent.polls.tally("slack", "best") == {}


async def test_bots_joining_are_not_greeted(driver: SlackDriver) -> None:
    assert await driver.join(User(id="U0OTHERBOT", name="Other bot", is_bot=True)) == []


async def test_a_vote_is_counted_once_per_member(driver: SlackDriver) -> None:
    [poll] = await driver.send("!poll", user=MEMBER)
    assert poll.options == ["one", "two"]
    assert ":one: Apples" in poll.text and ":two: Bananas" in poll.text
    polls = driver.agent.polls
    await driver.vote(poll, 0, user=MEMBER)
    await driver.vote(poll, 0, user=MEMBER)  # the same reaction again counts nothing
    await driver.vote(poll, 0, user=BOB)
    assert polls.tally("slack", "best") == {"a": 2}
    await driver.vote(poll, 1, user=MEMBER)  # a second reaction moves the member's one vote
    assert polls.tally("slack", "best") == {"a": 1, "b": 1}
    await driver.vote(poll, 1, user=MEMBER, added=False)
    assert polls.tally("slack", "best") == {"a": 1}


async def test_other_reactions_are_not_votes(driver: SlackDriver) -> None:
    [poll] = await driver.send("!poll", user=MEMBER)
    fake = driver.fake
    await driver.event(fake.react(MEMBER.id, poll.channel_id, poll.message_id, "tada"))
    await driver.event(fake.react(MEMBER.id, poll.channel_id, poll.message_id, "three"))  # no third option
    assert driver.agent.polls.tally("slack", "best") == {}


async def test_workspace_admins_and_owners_are_admins(driver: SlackDriver) -> None:
    [answer] = await driver.send("!whoami", user=ADMIN)
    assert answer.text.startswith("Grace admin=True direct=False")
    assert "where=T0TEST/general" in answer.text
    [answer] = await driver.send("!whoami", user=MEMBER)
    assert answer.text.startswith("Ada admin=False")


async def test_direct_messages_are_direct_and_answered_in_place(driver: SlackDriver) -> None:
    driver.fake.add_channel("D0ADA", "")
    driver.member(MEMBER)
    message = driver.fake.post_as(MEMBER.id, "D0ADA", "!whoami")
    [answer] = await driver.event(driver.fake.message_event(message, channel_type="im"))
    assert "direct=True" in answer.text and "where=D0ADA/" in answer.text
    assert driver.fake.message("D0ADA", answer.message_id).thread_ts is None


async def test_a_mention_is_answered_once_though_slack_sends_two_events(driver: SlackDriver) -> None:
    driver.member(MEMBER)
    message = driver.fake.post_as(MEMBER.id, driver.channel, f"<@{driver.fake.bot_user_id}> !whoami")
    [answer] = await driver.event(driver.fake.message_event(message))
    assert "mention=True" in answer.text
    assert await driver.event(driver.fake.message_event(message, event_type="app_mention")) == []


async def test_a_reply_in_the_bots_thread_is_a_reply_to_the_bot(driver: SlackDriver) -> None:
    [first] = await driver.send("!whoami", user=MEMBER)
    assert "reply=False" in first.text
    reply = driver.fake.post_as(MEMBER.id, driver.channel, "!whoami", thread_ts=first.message_id)
    [answer] = await driver.event(driver.fake.message_event(reply))
    assert "reply=True" in answer.text
    assert driver.fake.message(driver.channel, answer.message_id).thread_ts == first.message_id


async def test_edits_and_bot_posts_are_not_commands(driver: SlackDriver) -> None:
    driver.member(MEMBER)
    message = driver.fake.post_as(MEMBER.id, driver.channel, "!whoami")
    edited = driver.fake.message_event(message) | {"subtype": "message_changed"}
    assert await driver.event(edited) == []
    from_bot = driver.fake.message_event(message) | {"bot_id": "B0OTHER"}
    assert await driver.event(from_bot) == []


async def test_the_agent_can_post_into_a_channel_unprompted(driver: SlackDriver) -> None:
    driver.fake.add_channel("C0NEWS", "news")
    driver.fake.add_channel("C0PRIVATE", "private", is_member=False)
    responder = await driver.agent.open_channel("slack", "C0NEWS")
    await responder.send(TextReply("Hello, news!"))
    assert [m.text for m in driver.fake.messages if m.channel == "C0NEWS"] == ["Hello, news!"]
    for unavailable in ("C0PRIVATE", "C0GONE"):
        with pytest.raises(ChannelUnavailable):
            await driver.agent.open_channel("slack", unavailable)


async def test_a_channel_of_another_workspace_is_refused(driver: SlackDriver) -> None:
    driver.fake.add_channel("C0NEWS", "news")
    driver.fake.add_channel("C0ELSEWHERE", "elsewhere", team_id="T0OTHER")
    team = driver.fake.team_id
    await driver.agent.open_channel("slack", "C0NEWS", server_id=team)
    with pytest.raises(ChannelUnavailable, match="another workspace"):
        await driver.agent.open_channel("slack", "C0ELSEWHERE", server_id=team)
    driver.fake.channels["C0ELSEWHERE"]["shared_team_ids"] = ["T0OTHER", team]  # shared with us: ours too
    await driver.agent.open_channel("slack", "C0ELSEWHERE", server_id=team)


async def test_a_slash_command_where_the_bot_cannot_post_is_answered_privately(driver: SlackDriver) -> None:
    driver.fake.add_channel("C0PRIVATE", "private", is_member=False)
    driver.channel = "C0PRIVATE"
    assert await driver.command("/say", "Hello", user=MEMBER) == []
    [answer] = driver.fake.responses
    assert answer["response_type"] == "ephemeral" and "/invite <@UBOT>" in answer["text"]
