"""``!help``: the command list, generated from what the plugins registered."""

from __future__ import annotations

from typing import Callable

from core.commands import Command, Option
from core.context import Context
from core.events import ParsedCommand
from core.plugins import hookimpl


async def show_help(ctx: Context, command: ParsedCommand) -> None:
    """The commands the asker may use here (no admin-only ones for members, none of a plugin
    switched off in this server), or with a command's name, that command's options; what needs
    models not configured is left out for members and marked for admins."""
    switched_off = ctx.agent.server_settings(ctx.event).disabled_plugins
    models = {key for key, value in ctx.agent.config.models if value is not None}  # the [models] set
    commands = ctx.agent.commands
    if command.args:
        await ctx.reply(commands.help_for(command.args[0], is_admin=ctx.is_admin, switched_off=switched_off,
                                          models=models))
    else:
        await ctx.reply(commands.help_text(is_admin=ctx.is_admin, switched_off=switched_off, models=models))


@hookimpl
def register_commands(register: Callable[[Command], None]) -> None:
    register(Command("help", "list the commands, or one command's options", show_help,
                     arguments=(Option.text("command", "the command to explain, e.g. say"),), plugin="help"))
