"""A third-party plugin: ``!hello`` greets the member."""

import pluggy

from core.commands import Command

hookimpl = pluggy.HookimplMarker("mouthpiece")


async def hello(ctx, command):
    await ctx.reply(f"Hello, {ctx.event.user.name}!")


@hookimpl
def register_commands(register):
    register(Command("hello", "says hello", hello, plugin="greeter"))
