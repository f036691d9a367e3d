"""Every hook in core.hookspecs, exercised through a real agent."""

from __future__ import annotations

import re
import shutil
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text
from sqlmodel import Field, SQLModel

from core import hookspecs
from core.agent import Agent
from core.commands import Command
from core.config import Config
from core.migrate import MigrationError, current
from core.plugins import hookimpl
from core.replies import TextReply
from core.testing.testbot import ADMIN, MEMBER, TestBot
from engine.types import SAMPLE_RATE, Speech

BUILTIN_PERSONAS = Path(__file__).resolve().parents[2] / "personas" / "builtin"


class RecorderNote(SQLModel, table=True):
    """The recorder's own table, made by its own revision (``RECORDER_REVISION``)."""

    __tablename__ = "recorder_note"
    id: int | None = Field(default=None, primary_key=True)
    text: str


class RecorderPlugin:
    """Implements every hook and records what it was given."""

    def __init__(self, persona_dir: Path, migrations: Path | None = None) -> None:
        self.calls: list[str] = []
        self.persona_dir = persona_dir
        self.migrations = migrations

    @hookimpl
    def startup(self, agent: Agent) -> None:
        self.calls.append("startup")

    @hookimpl
    async def shutdown(self, agent: Agent) -> None:
        self.calls.append("shutdown")

    @hookimpl
    def register_commands(self, register) -> None:  # type: ignore[no-untyped-def]
        async def ping(ctx, command) -> None:  # type: ignore[no-untyped-def]
            await ctx.reply(f"pong {command.text}")

        register(Command("ping", "answers pong", ping, plugin="recorder"))

    @hookimpl
    async def on_message(self, event, ctx) -> bool:  # type: ignore[no-untyped-def]
        await ctx.reply(f"heard: {event.text}")
        return True

    @hookimpl
    async def on_member_join(self, event, ctx) -> None:  # type: ignore[no-untyped-def]
        await ctx.reply(f"welcome {event.user.name}")

    @hookimpl
    def on_vote(self, event, ctx) -> None:  # type: ignore[no-untyped-def]
        self.calls.append(f"vote {event.poll_id}:{event.option}:{event.user.id}")

    @hookimpl
    def register_jobs(self, scheduler, agent) -> None:  # type: ignore[no-untyped-def]
        self.calls.append(f"jobs:{type(scheduler).__name__}")

    @hookimpl
    def on_leadership(self, agent: Agent) -> None:
        self.calls.append("leading")

    @hookimpl
    def register_migrations(self, register) -> None:  # type: ignore[no-untyped-def]
        if self.migrations is not None:
            register(self.migrations)

    @hookimpl
    def register_models(self, register) -> None:  # type: ignore[no-untyped-def]
        register(RecorderNote)

    @hookimpl
    def register_personas(self, register) -> None:  # type: ignore[no-untyped-def]
        register(self.persona_dir)

    @hookimpl
    def register_backends(self, register) -> None:  # type: ignore[no-untyped-def]
        register("tts", "silence", lambda text, voice: Speech(np.zeros(SAMPLE_RATE, np.float32)))


@pytest.fixture
def plugin_personas(tmp_path: Path) -> Path:
    folder = tmp_path / "plugin-personas"
    shutil.copytree(BUILTIN_PERSONAS / "friendly", folder / "robo")
    toml = folder / "robo" / "persona.toml"
    toml.write_text(toml.read_text().replace('name = "friendly"', 'name = "robo"')
                    .replace('style = "friendly"', 'style = "robot"'))
    return folder


RECORDER_REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "recorder_0001"
down_revision = None
branch_labels = ("recorder",)
depends_on = None
touches_existing_tables = False


def upgrade() -> None:
    op.create_table("recorder_note", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("text", sa.String(), nullable=False))
"""


@pytest.fixture
def plugin_migrations(tmp_path: Path) -> Path:
    folder = tmp_path / "recorder-migrations"
    folder.mkdir()
    (folder / "recorder_0001_notes.py").write_text(RECORDER_REVISION)
    return folder


def test_every_hookspec_is_implemented_by_the_recorder() -> None:
    specs = _hookspec_names()
    implemented = {name for name in dir(RecorderPlugin) if hasattr(getattr(RecorderPlugin, name), "mouthpiece_impl")}
    assert specs and specs == implemented


async def test_hooks_reach_the_plugin(bot_config: Config, plugin_personas: Path, plugin_migrations: Path) -> None:
    recorder = RecorderPlugin(plugin_personas, plugin_migrations)
    agent = Agent(bot_config, extra_plugins=[recorder])
    with agent.storage.engine.connect() as connection:  # the plugin's own table, made by its own revision
        assert "recorder_0001" in current(connection)
        connection.execute(text("INSERT INTO recorder_note (text) VALUES ('hello')"))
    async with agent:
        bot = TestBot(agent)
        assert bot.texts(await bot.send("!ping one")) == ["pong one"]
        assert bot.texts(await bot.send("just chatting")) == ["heard: just chatting"]
        assert bot.texts(await bot.join(MEMBER)) == ["welcome Ada"]
        await bot.vote("poll-7", "2", user=ADMIN)
        assert agent.personas.get("robot").name == "robo"
        assert "silence" in agent.engine_backends.tts
    assert recorder.calls == ["jobs:AsyncIOScheduler", "startup", "leading", "vote poll-7:2:a1", "shutdown"]


def test_a_declared_model_without_its_migration_is_refused(bot_config: Config, plugin_personas: Path) -> None:
    with pytest.raises(MigrationError, match="no migration makes the table.s. recorder_note"):
        Agent(bot_config, extra_plugins=[RecorderPlugin(plugin_personas)])


async def test_a_failing_plugin_does_not_break_the_agent(testbot: TestBot) -> None:
    class Broken:
        @hookimpl
        def on_message(self, event, ctx) -> None:  # type: ignore[no-untyped-def]
            raise RuntimeError("boom")

    testbot.agent.pm.register(Broken())
    replies = await testbot.send("hello")
    assert "something went wrong" in testbot.texts(replies)[0]
    assert "Commands:" in testbot.texts(await testbot.send("!help"))[0]


def test_render_plugins_names_every_builtin_plugin_that_shapes_renders() -> None:
    """The CLI's render commands load only ``RENDER_PLUGINS`` of the built-in ones."""
    import importlib

    from core.plugins import BUILTIN_PLUGINS, RENDER_HOOKS, RENDER_PLUGINS

    shaping = {name for name in BUILTIN_PLUGINS
               if any(hasattr(importlib.import_module(name), hook) for hook in RENDER_HOOKS)}
    assert shaping == set(RENDER_PLUGINS)


def test_disabled_plugins_are_not_loaded(bot_config: Config) -> None:
    bot_config.plugins.disabled = ["avatar"]
    agent = Agent(bot_config)
    assert agent.commands.get("say") is None and agent.commands.get("help") is not None


def test_entry_point_plugins_are_found(bot_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    (site / "mp_hello-1.0.dist-info").mkdir(parents=True)
    (site / "mp_hello-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: mp-hello\nVersion: 1.0\n")
    (site / "mp_hello-1.0.dist-info" / "entry_points.txt").write_text("[mouthpiece.plugins]\nhello = mp_hello\n")
    (site / "mp_hello.py").write_text(textwrap.dedent("""
        import pluggy
        from core.commands import Command
        hookimpl = pluggy.HookimplMarker("mouthpiece")

        async def hello(ctx, command):
            await ctx.reply("hi from a third-party plugin")

        @hookimpl
        def register_commands(register):
            register(Command("hello", "says hi", hello, plugin="hello"))
    """))
    monkeypatch.syspath_prepend(str(site))
    agent = Agent(bot_config)
    assert agent.commands.get("hello") is not None
    assert "hello" in dict(agent.pm.list_name_plugin())
    sys.modules.pop("mp_hello", None)


async def test_admin_only_commands_are_refused_to_members(bot_config: Config) -> None:
    class AdminPlugin:
        @hookimpl
        def register_commands(self, register) -> None:  # type: ignore[no-untyped-def]
            async def secret(ctx, command) -> None:  # type: ignore[no-untyped-def]
                await ctx.reply("done")

            register(Command("secret", "admins only", secret, admin_only=True))

    bot_config.agent.admins = ["test:u2"]
    async with Agent(bot_config, extra_plugins=[AdminPlugin()]) as agent:
        bot = TestBot(agent)
        assert bot.texts(await bot.send("!secret")) == ["Only admins can use !secret."]
        assert bot.texts(await bot.send("!secret", user=ADMIN)) == ["done"]
        configured = type(MEMBER)(id="u2", name="Configured admin")
        assert bot.texts(await bot.send("!secret", user=configured)) == ["done"]
        assert isinstance((await bot.send("!secret", user=ADMIN))[0], TextReply)


async def test_the_first_plugin_that_handles_a_message_is_the_only_one_that_answers(bot_config: Config) -> None:
    class Echo:
        """Registered first, so asked last: only sees what the other declines."""

        @hookimpl
        async def on_message(self, event, ctx) -> bool:  # type: ignore[no-untyped-def]
            await ctx.reply(f"echo: {event.text}")
            return True

    class Shouter:
        def __init__(self) -> None:
            self.asked: list[str] = []

        @hookimpl
        async def on_message(self, event, ctx) -> bool:  # type: ignore[no-untyped-def]
            self.asked.append(event.text)
            if not event.text.isupper():
                return False  # awaited before the next plugin is asked: declining passes it on
            await ctx.reply("NO NEED TO SHOUT")
            return True

    shouter = Shouter()
    bot_config.plugins.disabled = ["chat"]
    async with Agent(bot_config, extra_plugins=[Echo(), shouter]) as agent:
        bot = TestBot(agent)
        assert bot.texts(await bot.send("HELLO")) == ["NO NEED TO SHOUT"]
        assert bot.texts(await bot.send("hello")) == ["echo: hello"]
    assert shouter.asked == ["HELLO", "hello"]


async def test_tryfirst_puts_an_earlier_plugin_in_front(bot_config: Config) -> None:
    class Early:
        @hookimpl(tryfirst=True)
        def on_message(self, event, ctx) -> object:  # type: ignore[no-untyped-def]
            return ctx.reply("early")

    class Late:
        @hookimpl
        def on_message(self, event, ctx) -> object:  # type: ignore[no-untyped-def]
            return ctx.reply("late")

    async def answered(*plugins: object) -> list[str]:
        async with Agent(bot_config, extra_plugins=plugins) as agent:
            bot = TestBot(agent)
            return bot.texts(await bot.send("hi"))

    bot_config.plugins.disabled = ["chat"]

    class Claiming(Early):
        @hookimpl(tryfirst=True)
        async def on_message(self, event, ctx) -> bool:  # type: ignore[no-untyped-def]
            await ctx.reply("early")
            return True

    assert await answered(Claiming(), Late()) == ["early"]
    # a plugin that answers but does not say so passes the message on: both answer
    assert await answered(Early(), Late()) == ["early", "late"]


#: Which test above exercises each hook through a real agent (datasette keeps the same registry).
HOOK_TESTS = {
    "startup": "test_hooks_reach_the_plugin",
    "shutdown": "test_hooks_reach_the_plugin",
    "register_commands": "test_hooks_reach_the_plugin",
    "on_message": "test_the_first_plugin_that_handles_a_message_is_the_only_one_that_answers",
    "on_member_join": "test_hooks_reach_the_plugin",
    "on_vote": "test_hooks_reach_the_plugin",
    "register_jobs": "test_hooks_reach_the_plugin",
    "on_leadership": "test_hooks_reach_the_plugin",
    "register_migrations": "test_hooks_reach_the_plugin",
    "register_models": "test_a_declared_model_without_its_migration_is_refused",
    "register_personas": "test_hooks_reach_the_plugin",
    "register_backends": "test_hooks_reach_the_plugin",
}


def _hookspec_names() -> set[str]:
    return {name for name in dir(hookspecs) if getattr(getattr(hookspecs, name), "mouthpiece_spec", None)}


def test_every_hookspec_has_a_test_that_exercises_it() -> None:
    assert set(HOOK_TESTS) == _hookspec_names()
    for hook, test_name in HOOK_TESTS.items():
        assert callable(globals().get(test_name)), f"{hook}: no test named {test_name}"


def test_every_hookspec_is_listed_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    listing = re.search(r"The hooks, each documented in .*?: (.*?)\. ", readme, re.DOTALL)
    assert listing is not None, "the README's list of hooks is missing"
    assert set(re.findall(r"`(\w+)`", listing.group(1))) == _hookspec_names()
