"""Votes are counted once per member per poll, survive a restart and are shown as a tally (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from core.agent import Agent
from core.config import Config
from core.plugins import hookimpl
from core.replies import PollReply, PollTally, VoteOption
from core.testing.testbot import ADMIN, MEMBER, TestBot
from tests.postgres import config_on


@pytest.fixture
def bot_config(database, tmp_path) -> Config:  # type: ignore[no-untyped-def]
    """Every test here runs on SQLite and on PostgreSQL."""
    return config_on(database, tmp_path)


def tallies(replies):  # type: ignore[no-untyped-def]
    return [r.counts for r in replies if isinstance(r, PollTally)]


async def test_a_member_is_counted_once_and_can_change_their_vote(testbot) -> None:  # type: ignore[no-untyped-def]
    assert tallies(await testbot.vote("p1", "a")) == [{"a": 1}]
    assert await testbot.vote("p1", "a") == []  # pressing the same button again changes nothing
    assert tallies(await testbot.vote("p1", "a", user=ADMIN)) == [{"a": 2}]
    assert tallies(await testbot.vote("p1", "b")) == [{"a": 1, "b": 1}]
    assert tallies(await testbot.vote("p1", "b", added=False)) == [{"a": 1}]
    assert await testbot.vote("p1", "a", added=False) == []  # withdrawing an option one never chose


async def test_votes_and_poll_messages_survive_a_restart(bot_config) -> None:  # type: ignore[no-untyped-def]
    poll = PollReply("p9", "Best voice?", (VoteOption("x", "X"), VoteOption("y", "Y")))
    async with Agent(bot_config) as agent:
        await TestBot(agent).vote("p9", "y")
        agent.polls.remember_message("test", "m-77", poll)
    async with Agent(bot_config) as agent:
        assert agent.polls.tally("test", "p9") == {"y": 1}
        assert agent.polls.choice("test", "p9", MEMBER.id) == "y"
        assert agent.polls.poll_for_message("test", "m-77") == ("p9", ["x", "y"])
        assert agent.polls.poll_for_message("test", "m-78") is None


class SelfVoteRefuser:
    """A plugin with its own rule: the poll's author may not vote in it."""

    @hookimpl
    def on_vote(self, event, ctx) -> None:  # type: ignore[no-untyped-def]
        if event.user.id == MEMBER.id:
            ctx.agent.polls.withdraw(event.platform, event.poll_id, event.user.id)


async def test_a_plugin_can_withdraw_a_vote_it_does_not_allow(bot_config) -> None:  # type: ignore[no-untyped-def]
    async with Agent(bot_config, extra_plugins=[SelfVoteRefuser()]) as agent:
        bot = TestBot(agent)
        assert tallies(await bot.vote("p2", "a")) == [{}]
        assert tallies(await bot.vote("p2", "a", user=ADMIN)) == [{"a": 1}]


async def test_revert_gives_back_the_previous_choice(testbot) -> None:  # type: ignore[no-untyped-def]
    polls = testbot.agent.polls
    await testbot.vote("p3", "a")
    await testbot.vote("p3", "b")
    assert polls.revert("test", "p3", MEMBER.id) == "a"
    assert polls.choice("test", "p3", MEMBER.id) == "a"
    assert polls.revert("test", "p3", MEMBER.id) is None  # no earlier choice: no vote at all
    assert polls.choice("test", "p3", MEMBER.id) is None
    assert polls.revert("test", "p3", MEMBER.id) is None


async def test_clear_option_removes_its_votes_and_forgets_it_as_a_previous_choice(testbot) -> None:  # type: ignore[no-untyped-def]
    polls = testbot.agent.polls
    await testbot.vote("p4", "old", user=ADMIN)
    await testbot.vote("p4", "old")
    await testbot.vote("p4", "other")
    assert polls.clear_option("test", "p4", "old") == 1
    assert polls.tally("test", "p4") == {"other": 1}
    assert polls.revert("test", "p4", MEMBER.id) is None  # "old" is not handed back
    assert polls.tally("test", "p4") == {}
