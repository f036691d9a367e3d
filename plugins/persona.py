"""``!persona add NAME`` (admins, with a photo or a 2–30 s video of a face attached) makes a
persona of the server's own; ``!persona remove NAME`` deletes it.

The persona is kept in the database and the data folder (``personas.server_personas``), so
it survives restarts; only this server can use it (``--persona NAME``), and ``!personas``
lists it only here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from core.commands import Command, CommandError, Option
from core.context import Context
from core.events import MessageEvent, ParsedCommand
from core.plugins import hookimpl
from core.replies import TextReply


async def persona(ctx: Context, command: ParsedCommand) -> None:
    action, *names = command.args or [""]
    usage = f"{ctx.prefix}persona add NAME with a photo or video of a face attached, or {ctx.prefix}persona remove NAME"
    if action.lower() not in ("add", "remove"):
        raise CommandError(f"Use {usage}.")
    if len(names) != 1:
        raise CommandError(f"Name one persona: {usage}.")
    if action.lower() == "add":
        await _add(ctx, names[0])
    else:
        await _remove(ctx, names[0])


async def _add(ctx: Context, name: str) -> None:
    assert isinstance(ctx.event, MessageEvent)
    attachments = ctx.event.attachments
    if len(attachments) != 1:
        raise CommandError(f"Attach one photo, or one 2–30 s video, of a face to {ctx.prefix}persona add {name}: "
                           "it becomes the persona's face.")
    [face] = attachments
    cap = ctx.agent.config.engine.max_audio_bytes
    if face.size is not None and face.size > cap:
        raise CommandError(f"{face.filename} is {face.size / 2**20:.1f} MB; a face may be at most "
                           f"{cap / 2**20:.3g} MB. Send a smaller picture or a shorter video.")
    event = ctx.event
    async with ctx.working("checking the face…") as status:
        path = await ctx.download(face)
        made = await asyncio.to_thread(ctx.agent.server_personas.add, event.platform, event.channel.server_id,
                                       name, path, created_by=event.user.id)
        await status.finish(TextReply(
            f"{made.display_name} is a persona of this server now ({made.renderer}). Try it: "
            f"{ctx.prefix}say --persona {made.display_name} Hello everyone!"))


async def _remove(ctx: Context, name: str) -> None:
    event = ctx.event
    removed = await asyncio.to_thread(ctx.agent.server_personas.remove, event.platform, event.channel.server_id, name)
    await ctx.reply(f"The persona {name} is deleted." if removed
                    else f"This server has no persona of its own called {name}.")


@hookimpl
def register_commands(register: Callable[[Command], None]) -> None:
    register(Command("persona", "add a persona of this server's own from a photo or video of a face, or remove one",
                     persona, usage="add NAME + a photo or video | remove NAME",
                     arguments=(Option.text("action", "add NAME or remove NAME", raw=True),
                                Option.attachment("face", "for add: a photo or a 1–30 s video of the face",
                                                  media=("image", "video"))),
                     admin_only=True, plugin="persona"))
