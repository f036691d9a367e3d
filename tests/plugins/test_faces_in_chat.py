"""Faces in chat: ``--face me`` (the member's own profile picture), a photo attached next to the clip,
and a server's own personas (``!persona add NAME`` / ``!persona remove NAME``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.agent import Agent
from core.config import Config
from core.events import Channel
from core.replies import VideoReply
from core.testing.testbot import ADMIN, CHANNEL, MEMBER, TestBot, test_config
from personas.server_personas import SERVER_PERSONAS_DIR
from tests.faces import swaying_template
from tests.media import decode_frames, speech_clip

SIZE = 128
OTHER_SERVER = Channel(id="c9", server_id="s9", name="general", server_name="Another Server")


@pytest.fixture
def bot_config(tmp_path: Path) -> Config:
    config = test_config(tmp_path)
    config.engine.width = config.engine.height = SIZE
    return config


@pytest.fixture
def no_face(tmp_path: Path) -> Path:
    path = tmp_path / "sunset.png"
    gradient = np.linspace(0, 255, 256, dtype=np.uint8)
    Image.fromarray(np.stack([np.tile(gradient, (256, 1))] * 3, axis=-1)).save(path)
    return path


def only_video(replies: list) -> VideoReply:  # type: ignore[type-arg]
    [video] = [r for r in replies if isinstance(r, VideoReply)]
    return video


def first_frame(video: VideoReply) -> np.ndarray:
    return decode_frames(video.path)[0].astype(np.float32)


def differ(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())


# -- one-off faces -------------------------------------------------------------------------------


async def test_face_me_animates_the_members_own_picture(testbot: TestBot, face: Path) -> None:
    testbot.set_picture(MEMBER, face)
    own = only_video(await testbot.send("!say --face me Hello everyone"))
    attached = only_video(await testbot.send("!say Hello everyone", attachments=(face,)))
    sprite = only_video(await testbot.send("!say Hello everyone"))
    # The same face either way, and not the persona's drawn art.
    assert differ(first_frame(own), first_frame(attached)) < 3
    assert differ(first_frame(own), first_frame(sprite)) > 20
    assert own.caption == testbot.agent.personas.default.display_name


async def test_a_photo_next_to_the_clip_is_the_face(testbot: TestBot, face: Path, tmp_path: Path) -> None:
    clip = speech_clip(tmp_path / "voice.wav", "Hello there.")
    with_face = only_video(await testbot.send("!avatar", attachments=(face, clip)))
    without = only_video(await testbot.send("!avatar", attachments=(clip,)))
    assert differ(first_frame(with_face), first_frame(without)) > 20


async def test_a_member_without_a_picture_is_told_so(testbot: TestBot) -> None:
    [answer] = testbot.texts(await testbot.send("!say --face me Hi"))
    assert answer == "You have no profile picture on Test. Set one, or attach a photo of a face instead."


@pytest.mark.parametrize("someone", ["@Grace", "<@1234>", "Grace", "mine"])
async def test_nobody_animates_another_members_face(testbot: TestBot, face: Path, someone: str) -> None:
    testbot.set_picture(ADMIN, face)
    [answer] = testbot.texts(await testbot.send(f"!say --face {someone} Hi"))
    assert answer == (f"--face must be one of: me (got '{someone}') — your own profile picture says it "
                      "(nobody can make another member's face talk).")
    assert not testbot.videos(testbot.last.replies if testbot.last else [])


async def test_face_me_and_an_attached_photo_are_one_too_many(testbot: TestBot, face: Path) -> None:
    testbot.set_picture(MEMBER, face)
    assert testbot.texts(await testbot.send("!say --face me Hi", attachments=(face,))) == [
        "Use --face me or attach a photo, not both."]


async def test_a_picture_without_a_face_is_refused_clearly(testbot: TestBot, no_face: Path) -> None:
    testbot.set_picture(MEMBER, no_face)
    [answer] = testbot.texts(await testbot.send("!say --face me Hi"))
    assert "face" in answer.lower() and "sprite" in answer.lower(), answer
    assert not testbot.agent.storage.recent_renders()


# -- a server's own personas ---------------------------------------------------------------------


def persona_folders(config: Config) -> list[Path]:
    folder = config.agent.database.parent / SERVER_PERSONAS_DIR
    return sorted(folder.iterdir()) if folder.is_dir() else []


async def test_an_admin_adds_a_persona_only_their_server_sees(bot_config: Config, face: Path) -> None:
    async with Agent(bot_config) as agent:
        bot = TestBot(agent)
        [answer] = bot.texts(await bot.send("!persona add Commander", user=ADMIN, attachments=(face,)))
        assert answer.startswith("commander is a persona of this server now (photo).")
        video = only_video(await bot.send("!say --persona commander Liftoff"))
        assert video.caption == "commander"
        [listing] = bot.texts(await bot.send("!personas"))
        assert listing.endswith("This server's own:\n• commander (photo)")
        # Another server neither lists it nor can use it.
        [elsewhere] = bot.texts(await bot.send("!personas", channel=OTHER_SERVER))
        assert "commander" not in elsewhere
        [refused] = bot.texts(await bot.send("!say --persona commander Hi", channel=OTHER_SERVER))
        assert refused.startswith("There is no persona or style called 'commander'.")
        # Its registry name (a random key, the only way to reach it from elsewhere) is never shown.
        [key] = persona_folders(bot_config)
        assert len(key.name) == 31 and key.name not in answer + listing + video.caption
        assert key.name not in " ".join(agent.personas.names())
    # After a restart it is still there, and still this server's only.
    async with Agent(bot_config) as agent:
        bot = TestBot(agent)
        again = only_video(await bot.send("!say --persona commander Liftoff"))
        assert again.caption == "commander"
        assert "commander" not in bot.texts(await bot.send("!personas", channel=OTHER_SERVER))[0]
        removed = bot.texts(await bot.send("!persona remove commander", user=ADMIN))
        assert removed == ["The persona commander is deleted."]
        [gone] = bot.texts(await bot.send("!say --persona commander Hi"))
        assert gone.startswith("There is no persona or style called 'commander'.")
    assert persona_folders(bot_config) == []


async def test_a_server_persona_from_a_video(testbot: TestBot, face: Path, tmp_path: Path) -> None:
    clip = swaying_template(tmp_path / "me.mp4", 2.0, fps=10)
    [answer] = testbot.texts(await testbot.send("!persona add moving", user=ADMIN, attachments=(clip,)))
    assert answer.startswith("moving is a persona of this server now (video).")
    video = only_video(await testbot.send("!say --persona moving Hello"))
    assert video.caption == "moving" and len(decode_frames(video.path)) > 10


async def test_only_admins_add_or_remove_personas(testbot: TestBot, face: Path) -> None:
    assert testbot.texts(await testbot.send("!persona add mine", attachments=(face,))) == [
        "Only admins can use !persona."]
    assert testbot.texts(await testbot.send("!persona remove friendly")) == ["Only admins can use !persona."]


@pytest.mark.parametrize(
    ("command", "files", "expected"),
    [
        ("!persona add bob", (), "Attach one photo, or one 2–30 s video, of a face to !persona add bob"),
        ("!persona add", ("face",), "Name one persona: !persona add NAME"),
        ("!persona add two words", ("face",), "Name one persona: !persona add NAME"),
        ("!persona rename bob", (), "Use !persona add NAME with a photo or video of a face attached"),
        ("!persona add friendly", ("face",), "There is already a persona called friendly on this bot"),
        ("!persona add Bob!", ("face",), "'bob!' can't be a persona name"),
        ("!persona remove nobody", (), "This server has no persona of its own called nobody."),
    ],
)
async def test_persona_commands_explain_what_is_wrong(testbot: TestBot, face: Path, command: str,
                                                    files: tuple[str, ...], expected: str) -> None:
    [answer] = testbot.texts(await testbot.send(command, user=ADMIN, attachments=tuple(face for _ in files)))
    assert answer.startswith(expected), answer
    assert persona_folders(testbot.agent.config) == []


async def test_bad_faces_leave_nothing_behind(testbot: TestBot, no_face: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture")
    for bad in (no_face, notes):
        [answer] = testbot.texts(await testbot.send("!persona add bob", user=ADMIN, attachments=(bad,)))
        assert "face" in answer.lower() or "picture" in answer.lower(), answer
    assert persona_folders(testbot.agent.config) == []
    assert "bob" not in testbot.texts(await testbot.send("!personas"))[0]


async def test_a_face_too_big_is_refused_before_it_is_fetched(bot_config: Config, face: Path) -> None:
    bot_config.engine.max_audio_bytes = 100_000  # the bot's cap on any file a member sends
    async with Agent(bot_config) as agent:
        bot = TestBot(agent)
        size = face.stat().st_size / 2**20
        expected = f"astronaut.png is {size:.1f} MB; a face may be at most {100_000 / 2**20:.3g} MB."
        [answer] = bot.texts(await bot.send("!say Hi", attachments=(face,)))
        assert answer.startswith(expected + " Send a smaller picture."), answer
        [answer] = bot.texts(await bot.send("!persona add big", user=ADMIN, attachments=(face,)))
        assert answer.startswith(expected + " Send a smaller picture or a shorter video."), answer
        assert not bot.videos(bot.last.replies if bot.last else []) and persona_folders(bot_config) == []


async def test_a_name_is_taken_once_per_server(testbot: TestBot, face: Path) -> None:
    await testbot.send("!persona add bob", user=ADMIN, attachments=(face,))
    [again] = testbot.texts(await testbot.send("!persona add bob", user=ADMIN, attachments=(face,)))
    assert again == "This server already has a persona called bob. Remove it first to replace it."
    other_admin_channel = Channel(id="c9", server_id="s9")
    [there] = testbot.texts(await testbot.send("!persona add bob", user=ADMIN, channel=other_admin_channel,
                                               attachments=(face,)))
    assert there.startswith("bob is a persona of this server now")
    assert len(persona_folders(testbot.agent.config)) == 2
    assert CHANNEL.server_id != other_admin_channel.server_id


async def test_a_server_persona_speaks_for_its_server_everywhere(testbot: TestBot, face: Path) -> None:
    """A server's own persona can speak for the server (!server persona), talk, announce, greet and
    perform in contests; once removed, the default persona speaks again."""
    from sqlmodel import col, select

    from core.storage import RenderRecord

    agent = testbot.agent

    def last_persona() -> str:
        with agent.storage.session() as db:
            return db.exec(select(RenderRecord).order_by(col(RenderRecord.id).desc())).first().persona  # type: ignore[union-attr]

    await testbot.send("!persona add bob", user=ADMIN, attachments=(face,))
    bob = agent.server_personas.find(testbot.platform, CHANNEL.server_id, "bob")
    assert bob is not None
    assert testbot.texts(await testbot.send("!server persona bob", user=ADMIN)) == ["bob now speaks for this server."]
    assert "persona: bob" in testbot.texts(await testbot.send("!server show", user=ADMIN))[0]
    only_video(await testbot.send("!talk Hello there"))
    assert last_persona() == bob.name
    await testbot.send("!announce The stream starts at eight", user=ADMIN)
    assert last_persona() == bob.name
    assert testbot.texts(await testbot.send("!welcome persona bob", user=ADMIN)) == ["bob now greets new members."]
    [started] = testbot.texts(await testbot.send('!contest start "Best laugh" --ends 2h --personas bob,neon',
                                                 user=ADMIN))
    assert "bob and Neon" in started, started
    assert testbot.texts(await testbot.send("!persona remove bob", user=ADMIN)) == ["The persona bob is deleted."]
    only_video(await testbot.send("!talk Are you still there?"))
    assert last_persona() == agent.personas.default.name
