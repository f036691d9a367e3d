"""Chat commands: the registry plugins fill, the parser, and the generated help."""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Awaitable, Callable

from core.events import ParsedCommand

if TYPE_CHECKING:
    from core.context import Context

Handler = Callable[["Context", ParsedCommand], Awaitable[None]]


class CommandError(ValueError):
    """A command line the user must fix; the message says how."""


@dataclass(frozen=True)
class Option:
    name: str
    help: str
    takes_value: bool = True
    choices: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()  # ``[models]`` keys this option works only with, e.g. ("asr",)


@dataclass(frozen=True)
class Command:
    name: str
    summary: str
    handler: Handler
    usage: str = ""  # e.g. "[--persona NAME] <text>"
    options: tuple[Option, ...] = ()
    admin_only: bool = False
    plugin: str = ""
    #: ``[models]`` keys the command (or the part ``needs_for`` names) works only with; ``!help`` marks it
    #: until they are configured.
    needs: tuple[str, ...] = ()
    needs_for: str = ""  # e.g. "voice messages": only that part needs the models


@dataclass
class CommandRegistry:
    prefix: str = "!"
    _commands: dict[str, Command] = field(default_factory=dict)

    def register(self, command: Command) -> None:
        if command.name in self._commands:
            raise ValueError(f"command {command.name!r} is already registered "
                             f"by {self._commands[command.name].plugin!r}")
        self._commands[command.name] = command

    def get(self, name: str) -> Command | None:
        return self._commands.get(name)

    def all(self) -> list[Command]:
        return sorted(self._commands.values(), key=lambda c: c.name)

    def is_command(self, text: str) -> bool:
        stripped = text.lstrip()
        return (stripped.startswith(self.prefix) and len(stripped) > len(self.prefix)
                and not stripped[len(self.prefix)].isspace())

    def parse(self, text: str) -> tuple[Command, ParsedCommand]:
        """Split ``!name args --opt value`` into its command and parsed arguments."""
        try:
            words = shlex.split(_APOSTROPHE.sub(r"\\'", text.strip()[len(self.prefix):]))
        except ValueError:
            raise CommandError("I couldn't read that command: a quote is not closed. "
                               f"Close it, e.g. {self.prefix}say \"hello there\".") from None
        name, rest = words[0].lower(), words[1:]
        command = self._commands.get(name)
        if command is None:
            raise CommandError(self._unknown(name))
        return command, ParsedCommand(name, *_split_options(command, rest, self.prefix))

    def _unknown(self, name: str) -> str:
        close = difflib.get_close_matches(name, list(self._commands), n=1)
        hint = f" Did you mean {self.prefix}{close[0]}?" if close else ""
        return f"There is no command {self.prefix}{name}.{hint} Send {self.prefix}help to see them all."

    def help_text(self, is_admin: bool = False, switched_off: Collection[str] = (),
                  models: Collection[str] | None = None) -> str:
        """The commands one may use: admin-only ones for admins, none of a plugin in ``switched_off``.

        Given the configured ``models`` (``[models]`` keys), what needs others is not offered to
        members (a part of a command, ``needs_for``, is marked) and is marked for admins with the
        keys to set."""
        lines = ["Commands:"]
        marked = False
        for command in self.all():
            if (command.admin_only and not is_admin) or command.plugin in switched_off:
                continue
            note = _not_set_up(command.needs, models, is_admin, command.needs_for)
            if note is None:
                continue
            lines.append(f"  {self.usage_of(command)} — {command.summary}{note}")
            options = [(o, _not_set_up(o.needs, models, is_admin)) for o in command.options]
            if shown := [f"--{o.name}{n}" for o, n in options if n is not None]:
                # named only: their help is one !help COMMAND away (a chat message is short)
                lines.append(f"      options: {', '.join(shown)}")
            marked = marked or bool(note) or any(n for _, n in options)
        if marked and is_admin:
            lines.append("Set up the models with: mouthpiece models list (see the README's Models section).")
        lines.append(f"Send {self.prefix}help COMMAND for what a command's options do.")
        return "\n".join(lines)

    def help_for(self, name: str, is_admin: bool = False, switched_off: Collection[str] = (),
                 models: Collection[str] | None = None) -> str:
        """One command's usage, summary and options; ``CommandError`` for one the asker can't use.
        What needs models not configured is marked, as in ``help_text``."""
        command = self.get(name.removeprefix(self.prefix).lower())
        if command is None or (command.admin_only and not is_admin) or command.plugin in switched_off:
            raise CommandError(self._unknown(name.removeprefix(self.prefix).lower()))
        unset = " (not set up on this bot yet)"
        note = _not_set_up(command.needs, models, is_admin, command.needs_for)
        lines = [f"{self.usage_of(command)} — {command.summary}{unset if note is None else note}"]
        for o in command.options:
            option_note = _not_set_up(o.needs, models, is_admin)
            lines.append(f"  --{o.name}{' ' + o.name.upper() if o.takes_value else ''}: {o.help}"
                         f"{unset if option_note is None else option_note}")
        return "\n".join(lines)

    def usage_of(self, command: Command) -> str:
        return f"{self.prefix}{command.name} {command.usage}".rstrip()


def _not_set_up(needs: tuple[str, ...], models: Collection[str] | None, is_admin: bool, part: str = "") -> str | None:
    """A note for help on what is missing: empty when nothing is, None when a member isn't offered it at all."""
    missing = [key for key in needs if models is not None and key not in models]
    if not missing:
        return ""
    if is_admin:
        return f" ({part + ': ' if part else ''}needs [models] {', '.join(missing)})"
    return f" ({part} not set up here)" if part else None


#: An apostrophe inside a word ("I'm", "don't") is text, not the start of a quote.
_APOSTROPHE = re.compile(r"(?<=\w)'(?=\w)")


def _split_options(command: Command, words: list[str], prefix: str) -> tuple[list[str], dict[str, str | bool]]:
    known = {o.name: o for o in command.options}
    args: list[str] = []
    options: dict[str, str | bool] = {}
    i = 0
    while i < len(words):
        word = words[i]
        if not word.startswith("--") or word == "--":
            args.append(word)
            i += 1
            continue
        name, _, inline_value = word[2:].partition("=")
        option = known.get(name)
        if option is None:
            choices = ", ".join(f"--{o}" for o in known) or "none"
            raise CommandError(f"{prefix}{command.name} has no option --{name}. Its options: {choices}.")
        if not option.takes_value:
            options[name] = True
            i += 1
            continue
        if inline_value:
            value, i = inline_value, i + 1
        elif i + 1 < len(words) and not words[i + 1].startswith("--"):
            value, i = words[i + 1], i + 2
        else:
            raise CommandError(f"--{name} needs a value, e.g. {prefix}{command.name} --{name} {name.upper()}.")
        if option.choices and value.lower() not in option.choices:
            raise CommandError(f"--{name} must be one of: {', '.join(option.choices)} (got {value!r}).")
        options[name] = value
    return args, options
