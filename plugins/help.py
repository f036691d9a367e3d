"""``!help``: the command list, generated from what the plugins registered."""

from __future__ import annotations

from typing import Callable

from core.commands import Command, Option
from core.context import Context
from core.events import ParsedCommand
from core.plugins import hookimpl


async def show_help(ctx: Context, command: ParsedCommand) -> None:
    """The commands the asker may use here, or with a command's name, that command's options
    (``Agent.help``)."""
    await ctx.reply(ctx.agent.help(ctx.event, command.args[0] if command.args else ""))


@hookimpl
def register_commands(register: Callable[[Command], None]) -> None:
    register(Command("help", "list the commands, or one command's options", show_help,
                     arguments=(Option.text("command", "the command to explain, e.g. say"),), plugin="help"))
