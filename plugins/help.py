"""``!help``: the command list, generated from what the plugins registered."""

from __future__ import annotations

from typing import Callable

from core.commands import Command
from core.context import Context
from core.events import ParsedCommand
from core.plugins import hookimpl


async def show_help(ctx: Context, command: ParsedCommand) -> None:
    await ctx.reply(ctx.agent.commands.help_text(is_admin=ctx.is_admin))


@hookimpl
def register_commands(register: Callable[[Command], None]) -> None:
    register(Command("help", "list the commands", show_help, plugin="help"))
