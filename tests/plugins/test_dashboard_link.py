"""``!dashboard``: a one-time, server-scoped sign-in link, sent only by direct message."""

from __future__ import annotations

import re

from core import signin
from core.adapter import Adapter
from core.events import Channel
from core.testing.fakes.discord import DiscordDriver
from core.testing.fakes.slack import SlackDriver
from core.testing.fakes.telegram import TelegramDriver
from core.testing.testbot import ADMIN, CHANNEL, MEMBER, TestBot


class RunningDashboard(Adapter):
    """Stands in for the dashboard adapter: ``!dashboard`` only needs its address."""

    platform = "http"
    base_url = "https://bot.example.org"

    async def run(self) -> None:
        raise NotImplementedError


def _link(text: str) -> str:
    found = re.search(r"https://bot\.example\.org/signin/link\?code=(\S+)", text)
    assert found, text
    return found.group(1)


async def test_an_admin_gets_a_link_by_direct_message_for_this_server(testbot: TestBot) -> None:
    testbot.agent.attach(RunningDashboard(testbot.agent))
    replies = await testbot.send("!dashboard", user=ADMIN)
    assert testbot.texts(replies) == [
        "I sent you a sign-in link in a direct message. It works once, within 10 minutes."]
    [direct] = testbot.texts(testbot.adapter.directs[ADMIN.id].replies)
    assert "Test Server" in direct and "works once" in direct
    grant = signin.redeem(testbot.agent.storage, _link(direct))
    assert grant is not None and (grant.server, grant.user_id, grant.user_name) == ("test:s1", ADMIN.id, "Grace")
    assert signin.redeem(testbot.agent.storage, _link(direct)) is None  # once only


async def test_no_link_anywhere_when_the_admin_cant_get_direct_messages(testbot: TestBot) -> None:
    testbot.agent.attach(RunningDashboard(testbot.agent))
    testbot.adapter.no_direct.add(ADMIN.id)
    [answer] = testbot.texts(await testbot.send("!dashboard", user=ADMIN))
    assert "can't send you a direct message" in answer and "code=" not in answer
    assert testbot.adapter.directs == {}


async def test_members_direct_messages_and_a_stopped_dashboard_are_refused(testbot: TestBot) -> None:
    [member] = testbot.texts(await testbot.send("!dashboard", user=MEMBER))
    assert member == "Only admins can use !dashboard."
    [stopped] = testbot.texts(await testbot.send("!dashboard", user=ADMIN))
    assert "dashboard is not running" in stopped and "MOUTHPIECE_DASHBOARD_TOKEN" in stopped
    testbot.agent.attach(RunningDashboard(testbot.agent))
    direct = Channel("d1", "d1", is_direct=True)
    [in_private] = testbot.texts(await testbot.send("!dashboard", user=ADMIN, channel=direct))
    assert "in the server you want to manage" in in_private
    assert testbot.adapter.directs == {} and CHANNEL.server_id == "s1"


async def test_on_telegram_the_link_goes_to_the_admins_private_chat(telegram_driver: TelegramDriver) -> None:
    telegram_driver.agent.attach(RunningDashboard(telegram_driver.agent))
    [refused] = await telegram_driver.send("!dashboard", user=ADMIN)  # no private chat with the bot yet
    assert "can't send you a direct message" in (refused.text or "") and "code=" not in (refused.text or "")
    await telegram_driver.send("hi", user=ADMIN, private=True)  # the admin starts the bot
    delivered = await telegram_driver.send("!dashboard", user=ADMIN)
    admin_id = str(telegram_driver.telegram_user(ADMIN)["id"])
    [direct] = [d for d in delivered if d.channel_id == admin_id]
    [answer] = [d for d in delivered if d.channel_id == str(telegram_driver.chat["id"])]
    assert answer.text == "I sent you a sign-in link in a direct message. It works once, within 10 minutes."
    grant = signin.redeem(telegram_driver.agent.storage, _link(direct.text))
    assert grant is not None and grant.platform == "telegram" and grant.user_id == str(admin_id)


async def test_on_discord_the_link_goes_to_the_admins_direct_messages(discord_driver: DiscordDriver) -> None:
    discord_driver.agent.attach(RunningDashboard(discord_driver.agent))
    delivered = await discord_driver.send("!dashboard", user=ADMIN)
    [direct] = [d for d in delivered if "code=" in d.text]
    [answer] = [d for d in delivered if "code=" not in d.text]
    assert answer.text.startswith("I sent you a sign-in link in a direct message.")
    assert direct.channel_id != answer.channel_id
    grant = signin.redeem(discord_driver.agent.storage, _link(direct.text))
    assert grant is not None and grant.platform == "discord" and grant.server_id == str(discord_driver.guild.id)


async def test_on_slack_the_link_goes_to_the_admins_direct_messages(slack_driver: SlackDriver) -> None:
    slack_driver.agent.attach(RunningDashboard(slack_driver.agent))
    delivered = await slack_driver.send("!dashboard", user=ADMIN)
    [direct] = [d for d in delivered if "code=" in d.text]
    assert direct.channel_id == f"D{ADMIN.id}"
    assert any(d.text.startswith("I sent you a sign-in link") for d in delivered if d.channel_id != direct.channel_id)
    grant = signin.redeem(slack_driver.agent.storage, _link(direct.text))
    assert grant is not None and grant.platform == "slack" and grant.user_id == ADMIN.id
