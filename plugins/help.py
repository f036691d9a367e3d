"""``!help``: the command list, generated from what the plugins registered."""

from __future__ import annotations

from typing import Callable

from core.commands import Command
from core.context import Context
from core.events import ParsedCommand
from core.plugins import hookimpl
from engine.settings import MODEL_KEYS


async def show_help(ctx: Context, command: ParsedCommand) -> None:
    """The commands the asker may use here: no admin-only ones for members, none of a
    plugin switched off in this server; what needs models not configured is marked."""
    switched_off = ctx.agent.server_settings(ctx.event).disabled_plugins
    models = {key for key in MODEL_KEYS if getattr(ctx.agent.config.models, key) is not None}
    await ctx.reply(ctx.agent.commands.help_text(is_admin=ctx.is_admin, switched_off=switched_off, models=models))


@hookimpl
def register_commands(register: Callable[[Command], None]) -> None:
    register(Command("help", "list the commands", show_help, plugin="help"))
