"""A member's own profile picture, fetched through each platform's client (``Context.sender_picture``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from core.adapter import Adapter
from core.commands import Command
from core.context import Context
from core.events import ParsedCommand
from core.replies import FileReply
from core.testing.fakes.slack import SlackDriver
from core.testing.fakes.telegram import TelegramDriver
from core.testing.platforms import PlatformDriver
from core.testing.testbot import ADMIN, MEMBER, TestBot


async def _my_picture(ctx: Context, command: ParsedCommand) -> None:
    await ctx.reply(FileReply(await ctx.sender_picture(), caption="your picture"))


def _with_picture_command(driver: PlatformDriver | TestBot) -> None:
    """A command that answers with the sender's picture, so a test sees what the bot fetched."""
    driver.agent.commands.register(Command("mypicture", "your profile picture", _my_picture))


def _picture(path: Path, colour: tuple[int, int, int] = (200, 150, 120)) -> Path:
    pixels = np.zeros((64, 64, 3), np.uint8)
    pixels[:] = colour
    pixels[16:48, 16:48] = (40, 30, 30)
    Image.fromarray(pixels).save(path)
    return path


async def test_the_sender_gets_their_own_picture(platform_driver: PlatformDriver, tmp_path: Path) -> None:
    _with_picture_command(platform_driver)
    picture = _picture(tmp_path / "me.png")
    platform_driver.set_picture(MEMBER, picture)
    platform_driver.set_picture(ADMIN, _picture(tmp_path / "other.png", (10, 200, 10)))
    [answer] = await platform_driver.send("!mypicture", user=MEMBER)
    assert answer.kind == "file"
    [(_, data)] = answer.files
    assert data == picture.read_bytes()  # the largest size, and the sender's, not another member's


async def test_a_member_without_a_picture_is_told_so(platform_driver: PlatformDriver) -> None:
    _with_picture_command(platform_driver)
    platform_driver.set_picture(MEMBER, None)
    [answer] = await platform_driver.send("!mypicture", user=MEMBER)
    assert answer.kind == "message" and not answer.files
    assert answer.text.startswith(f"You have no profile picture on {platform_driver.platform.capitalize()}")
    assert "attach a photo" in answer.text


async def test_discord_prefers_the_server_avatar(discord_driver, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _with_picture_command(discord_driver)
    discord_driver.set_picture(MEMBER, _picture(tmp_path / "own.png"))
    in_server = _picture(tmp_path / "server.png", (0, 0, 255))
    discord_driver.set_picture(MEMBER, in_server, in_server=True)
    [answer] = await discord_driver.send("!mypicture", user=MEMBER)
    assert answer.files[0][1] == in_server.read_bytes()


async def test_a_discord_avatar_the_cdn_lost_is_explained(discord_driver, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _with_picture_command(discord_driver)
    discord_driver.set_picture(MEMBER, _picture(tmp_path / "me.png"))
    discord_driver.pictures.clear()
    [answer] = await discord_driver.send("!mypicture", user=MEMBER)
    assert answer.text.startswith("I couldn't get your profile picture: Discord wouldn't send it")


async def test_telegram_fetches_the_newest_photo_in_its_largest_size(telegram_driver: TelegramDriver,
                                                                      tmp_path: Path) -> None:
    _with_picture_command(telegram_driver)
    telegram_driver.set_picture(MEMBER, _picture(tmp_path / "old.png", (1, 2, 3)))
    newest = _picture(tmp_path / "new.png")
    telegram_driver.set_picture(MEMBER, newest)
    [answer] = await telegram_driver.send("!mypicture", user=MEMBER)
    assert answer.files[0][1] == newest.read_bytes()
    [call] = telegram_driver.api.called("getUserProfilePhotos")
    assert int(call["user_id"]) == telegram_driver.telegram_user(MEMBER)["id"]


async def test_telegram_failure_is_explained(telegram_driver: TelegramDriver, tmp_path: Path) -> None:
    _with_picture_command(telegram_driver)
    telegram_driver.set_picture(MEMBER, _picture(tmp_path / "me.png"))
    telegram_driver.api.fail("getUserProfilePhotos", 400, "Bad Request: user not found")
    [answer] = await telegram_driver.send("!mypicture", user=MEMBER)
    assert answer.text.startswith("I couldn't get your profile picture: Telegram wouldn't send it "
                                  "(User not found)")


async def test_slack_fetches_the_picture_without_the_token(slack_driver: SlackDriver, tmp_path: Path) -> None:
    _with_picture_command(slack_driver)
    picture = _picture(tmp_path / "me.png")
    slack_driver.set_picture(MEMBER, picture)
    [answer] = await slack_driver.send("!mypicture", user=MEMBER)
    assert answer.files[0][1] == picture.read_bytes()
    assert slack_driver.fake.picture_downloads == [None]  # avatars are public: the bot token stays home


async def test_slack_fetches_pictures_only_from_its_avatar_hosts(slack_driver: SlackDriver, tmp_path: Path) -> None:
    _with_picture_command(slack_driver)
    slack_driver.set_picture(MEMBER, _picture(tmp_path / "me.png"))
    slack_driver.fake.avatar_base = "http://127.0.0.2:9"
    [answer] = await slack_driver.send("!mypicture", user=MEMBER)
    assert answer.text.startswith("I couldn't get your profile picture: Slack keeps it on 127.0.0.2:9, "
                                  "which is not one of the bot's [slack] avatar_hosts")
    assert slack_driver.fake.picture_downloads == []


async def test_slack_failure_is_explained(slack_driver: SlackDriver, tmp_path: Path) -> None:
    _with_picture_command(slack_driver)
    slack_driver.set_picture(MEMBER, _picture(tmp_path / "me.png"))
    await slack_driver.send("!mypicture", user=MEMBER)  # the adapter now knows the member's name
    slack_driver.fake.fail("users.info", "user_not_found")
    [answer] = await slack_driver.send("!mypicture", user=MEMBER)
    assert answer.text.startswith("I couldn't get your profile picture: Slack wouldn't say (user_not_found)")


async def test_a_platform_without_pictures_says_so(testbot: TestBot) -> None:
    class Pictureless(Adapter):
        platform = "test"

        async def run(self) -> None: ...

    testbot.agent.attach(Pictureless(testbot.agent))
    _with_picture_command(testbot)
    [answer] = await testbot.send("!mypicture")
    assert testbot.texts([answer]) == ["I couldn't get your profile picture: there are no profile pictures on "
                                       "the test. Attach a photo of a face instead."]


async def test_testbot_members_have_pictures_a_test_gives_them(testbot: TestBot, tmp_path: Path) -> None:
    async def where(ctx: Context, command: ParsedCommand) -> None:
        picture = await ctx.sender_picture()
        await ctx.reply(f"{picture.parent == ctx._scratch()} {picture.read_bytes() == mine.read_bytes()}")

    testbot.agent.commands.register(Command("where", "where your picture went", where))
    mine = _picture(tmp_path / "me.png")
    testbot.set_picture(MEMBER, mine)
    assert testbot.texts(await testbot.send("!where")) == ["True True"]  # a copy in the request's scratch folder
    assert testbot.texts(await testbot.send("!where", user=ADMIN))[0].startswith("You have no profile picture")
