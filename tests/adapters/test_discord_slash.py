"""/avatar and /say: discord.py's command tree, with answers over HTTP to a fake of Discord on 127.0.0.1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import discord
import discord.ext.test as dpytest
import pytest

from adapters import discord_slash
from core.config import Config
from core.testing.fakes.discord import DiscordDriver
from core.testing.fakes.discord_interactions import Interaction, SlashDriver
from core.testing.testbot import MEMBER, test_config
from tests.media import assert_valid_mp4, speech_clip, wav_duration

SIZE = 128
DEFERRED_WITH_THINKING = 5


@pytest.fixture
def bot_config(tmp_path: Path) -> Config:
    config = test_config(tmp_path)
    config.engine.width = config.engine.height = SIZE
    return config


def the_video(interaction: Interaction, tmp_path: Path) -> Path:
    assert interaction.original is not None
    [(name, data)] = interaction.original.files
    assert name.endswith(".mp4")
    path = tmp_path / f"slash-{name}"
    path.write_bytes(data)
    return path


async def test_slash_say_is_acknowledged_then_answered_with_the_video(discord_interactions: SlashDriver,
                                                                      discord_driver: DiscordDriver,
                                                                      tmp_path: Path) -> None:
    interaction = await discord_interactions.invoke("say", {"text": "Hello from a slash command"}, user=MEMBER)
    assert [c["type"] for c in interaction.callbacks] == [DEFERRED_WITH_THINKING]
    persona = discord_driver.agent.personas.default.display_name
    assert interaction.original is not None and interaction.original.content == persona
    assert interaction.original.edits >= 2  # the status ("rendering…"), then the video in its place
    assert_valid_mp4(the_video(interaction, tmp_path), width=SIZE, height=SIZE, fps=25)


async def test_slash_avatar_takes_an_attachment_persona_and_mood(discord_interactions: SlashDriver,
                                                                 discord_driver: DiscordDriver, tmp_path: Path) -> None:
    clip = speech_clip(tmp_path / "voice.wav", "Slash commands are neat.")
    interaction = await discord_interactions.invoke("avatar", {"persona": "sakura", "mood": "happy"}, user=MEMBER,
                                                    attachments={"clip": clip})
    assert_valid_mp4(the_video(interaction, tmp_path), width=SIZE, height=SIZE, fps=25, duration=wav_duration(clip))
    [record] = discord_driver.agent.storage.recent_renders()
    assert record.persona == "sakura" and record.user_id == str(discord_driver.member(MEMBER).id)


@pytest.mark.parametrize("how", ["clock says so", "Discord says so"])
async def test_an_answer_after_the_token_expired_goes_to_the_channel(discord_interactions: SlashDriver,
                                                                     discord_driver: DiscordDriver,
                                                                     monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    discord_interactions.server.expire_new_tokens = True
    if how == "clock says so":  # the render took longer than the token's 15 minutes
        monkeypatch.setattr(discord_slash, "utcnow", lambda: datetime.now(UTC) + timedelta(minutes=16))
    before = discord_driver.snapshot()
    interaction = await discord_interactions.invoke("say", {"text": "Late but here"}, user=MEMBER)
    await dpytest.run_all_events()
    [posted] = [d for d in discord_driver.delivered_since(before) if d.kind == "video"]
    assert posted.channel_id == str(discord_driver.channel.id)
    assert posted.text == discord_driver.agent.personas.default.display_name
    assert interaction.original is None or not interaction.original.files


async def test_slash_avatar_without_a_clip_says_what_to_do(discord_interactions: SlashDriver) -> None:
    interaction = await discord_interactions.invoke("avatar", {}, user=MEMBER)
    assert interaction.original is not None and interaction.original.content.startswith("Attach a voice clip")
    assert not interaction.original.files


async def test_persona_suggestions_match_names_and_styles(discord_interactions: SlashDriver) -> None:
    choices = await discord_interactions.autocomplete("say", "persona", "cyber", user=MEMBER)
    assert [c["value"] for c in choices] == ["neon"]
    everyone = await discord_interactions.autocomplete("avatar", "persona", "", user=MEMBER)
    assert {c["value"] for c in everyone} == {"friendly", "neon", "sakura"}


async def test_commands_are_synced_globally_or_to_development_guilds(discord_driver: DiscordDriver,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    adapter, http = discord_driver.adapter, discord_driver.client.http
    adapter.client._connection.application_id = 4242
    synced: list[tuple[int | None, list[dict]]] = []  # type: ignore[type-arg]

    def registered(payload):  # type: ignore[no-untyped-def]
        """Discord's answer: the commands with the ids it gave them."""
        return [{**c, "id": str(n), "application_id": "4242", "version": "1"} for n, c in enumerate(payload, 1)]

    async def upsert_global(application_id, payload):  # type: ignore[no-untyped-def]
        synced.append((None, payload))
        return registered(payload)

    async def upsert_guild(application_id, guild_id, payload):  # type: ignore[no-untyped-def]
        synced.append((guild_id, payload))
        return registered(payload)

    monkeypatch.setattr(http, "bulk_upsert_global_commands", upsert_global, raising=False)
    monkeypatch.setattr(http, "bulk_upsert_guild_commands", upsert_guild, raising=False)
    await adapter.sync_commands()
    [(scope, payload)] = synced
    commands = {c["name"]: c for c in payload}
    assert scope is None and set(commands) == {c.name for c in discord_driver.agent.commands.all()}
    options = {o["name"]: o for o in commands["avatar"]["options"]}
    assert options["clip"]["type"] == 11 and options["photo"]["type"] == 11 and options["link"]["type"] == 3
    assert options["persona"]["autocomplete"] is True
    assert [c["value"] for c in options["mood"]["choices"]] == ["neutral", "happy", "sad", "surprised", "angry"]
    assert [c["value"] for c in options["face"]["choices"]] == ["me"]
    say = commands["say"]["options"]
    assert say[0]["name"] == "text" and say[0]["required"] is True  # Discord wants the required ones first
    assert not any(o.get("required") for o in say[1:])
    manage_guild = discord.Permissions(manage_guild=True).value
    assert commands["announce"]["default_member_permissions"] == manage_guild
    assert commands["say"]["default_member_permissions"] is None
    assert [o["name"] for o in commands["announce"]["options"]] == ["what", "lang"]

    synced.clear()
    adapter.settings.sync_guilds = ["1234"]
    await adapter.sync_commands()
    assert [scope for scope, _ in synced] == [1234]
