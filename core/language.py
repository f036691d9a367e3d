"""The language a command's words are spoken in: ``--lang``, else the server's ``language``, else found in the text."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.commands import Option

if TYPE_CHECKING:
    from core.context import Context
    from core.events import ParsedCommand

LANG_OPTION = Option.text("lang", "the language it is spoken in, e.g. es, cmn (Mandarin), yue (Cantonese); "
                                "default: the server's, else found in the text")


def chosen_language(ctx: Context, command: ParsedCommand | None = None) -> str | None:
    """``--lang`` as espeak-ng names it (an unknown one is refused with close matches), else the server's
    ``language``; None: each piece of the text is spoken in the language it is found to be in."""
    from engine.languages import canonical

    wanted = command.options.get("lang") if command is not None else None
    if isinstance(wanted, str):
        return canonical(wanted)
    return ctx.agent.server_settings(ctx.event).language or None
