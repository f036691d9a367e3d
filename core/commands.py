"""Chat commands: the registry plugins fill, the parser, and the generated help.

What a command takes is declared with types (``core.options``): the parser converts and checks
the values, and help, usage and every adapter's native form are built from the same declarations.
"""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Awaitable, Callable

from core.events import ParsedCommand
from core.options import CommandError, Kind, Option, Value

__all__ = ["Command", "CommandError", "CommandRegistry", "Handler", "Kind", "Option", "Value"]

if TYPE_CHECKING:
    from core.context import Context

Handler = Callable[["Context", ParsedCommand], Awaitable[None]]


@dataclass(frozen=True)
class Command:
    name: str
    summary: str
    handler: Handler
    #: Only for a grammar of its own ("at TIME TEXT | list"); else made from the declarations.
    usage: str = ""
    options: tuple[Option, ...] = ()  # the ``--options``
    #: What follows the options, in order: words (the last text one takes the rest of the line), and
    #: the files that come with the message (attachments, in any position).
    arguments: tuple[Option, ...] = ()
    admin_only: bool = False
    plugin: str = ""
    #: ``[models]`` keys the command (or the part ``needs_for`` names) works only with; ``!help`` marks it
    #: until they are configured.
    needs: tuple[str, ...] = ()
    needs_for: str = ""  # e.g. "voice messages": only that part needs the models

    def __post_init__(self) -> None:
        names = [o.name for o in (*self.options, *self.arguments)]
        if duplicates := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"command {self.name!r}: options and arguments share names {duplicates}")
        if any(o.kind is Kind.FLAG for o in self.arguments) or any(o.kind is Kind.ATTACHMENT for o in self.options):
            raise ValueError(f"command {self.name!r}: a flag is an option, an attachment an argument")
        required = [a.required for a in self.words]
        if required != sorted(required, reverse=True):  # "A [B] C" can't tell B from C
            raise ValueError(f"command {self.name!r}: optional arguments come after the required ones")

    @property
    def words(self) -> tuple[Option, ...]:
        """The arguments typed as words, in order (not the attachments)."""
        return tuple(a for a in self.arguments if a.kind is not Kind.ATTACHMENT)

    @property
    def attachments(self) -> tuple[Option, ...]:
        return tuple(a for a in self.arguments if a.kind is Kind.ATTACHMENT)


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
        args, options = _split_options(command, rest, self.prefix)
        return command, ParsedCommand(name, args, {**options, **_read_arguments(command, args, self.prefix)})

    def check_files(self, command: Command, count: int) -> None:
        """Refuse a command that needs files with fewer than it needs (they come with the message)."""
        needed = [a for a in command.attachments if a.required]
        if len(needed) > count:
            missing = needed[count]
            raise CommandError(f"{self.prefix}{command.name} needs {missing.metavar} ({missing.help}): "
                               "attach it to the message.")

    def _unknown(self, name: str, prefix: str | None = None) -> str:
        p = self.prefix if prefix is None else prefix
        close = difflib.get_close_matches(name, list(self._commands), n=1)
        hint = f" Did you mean {p}{close[0]}?" if close else ""
        return f"There is no command {p}{name}.{hint} Send {p}help to see them all."

    def help_text(self, is_admin: bool = False, switched_off: Collection[str] = (),
                  models: Collection[str] | None = None, prefix: str | None = None) -> str:
        """The commands one may use: admin-only ones for admins, none of a plugin in ``switched_off``.

        Given the configured ``models`` (``[models]`` keys), what needs others is not offered to
        members (a part of a command, ``needs_for``, is marked) and is marked for admins with the
        keys to set. ``prefix``: how the commands are invoked where it is shown (``/mouthpiece ``)."""
        p = self.prefix if prefix is None else prefix
        lines = ["Commands:"]
        marked = False
        for command in self.all():
            if (command.admin_only and not is_admin) or command.plugin in switched_off:
                continue
            note = _not_set_up(command.needs, models, is_admin, command.needs_for)
            if note is None:
                continue
            lines.append(f"  {self.usage_of(command, p)} — {command.summary}{note}")
            options = [(o, _not_set_up(o.needs, models, is_admin)) for o in command.options]
            if shown := [f"--{o.name}{n}" for o, n in options if n is not None]:
                # named only: their help is one !help COMMAND away (a chat message is short)
                lines.append(f"      options: {', '.join(shown)}")
            marked = marked or bool(note) or any(n for _, n in options)
        if marked and is_admin:
            lines.append("Set up the models with: mouthpiece models list (see the README's Models section).")
        lines.append(f"Send {p}help COMMAND for what a command's options do.")
        return "\n".join(lines)

    def help_for(self, name: str, is_admin: bool = False, switched_off: Collection[str] = (),
                 models: Collection[str] | None = None, prefix: str | None = None) -> str:
        """One command's usage, summary and options; ``CommandError`` for one the asker can't use.
        What needs models not configured is marked, as in ``help_text``."""
        p = self.prefix if prefix is None else prefix
        name = name.removeprefix(self.prefix).lower()
        command = self.get(name)
        if command is None or (command.admin_only and not is_admin) or command.plugin in switched_off:
            raise CommandError(self._unknown(name, p))
        unset = " (not set up on this bot yet)"
        note = _not_set_up(command.needs, models, is_admin, command.needs_for)
        lines = [f"{self.usage_of(command, p)} — {command.summary}{unset if note is None else note}"]
        for o in (*command.arguments, *command.options):
            option_note = _not_set_up(o.needs, models, is_admin)
            lines.append(f"  {_shown(o, command)}{_described(o)}{unset if option_note is None else option_note}")
        return "\n".join(lines)

    def usage_of(self, command: Command, prefix: str | None = None) -> str:
        return f"{self.prefix if prefix is None else prefix}{command.name} {usage(command)}".rstrip()


def usage(command: Command) -> str:
    """What follows the command's name: its own usage, else made from the declarations: required
    options, then the arguments (``[optional]``, files as ``+ a voice clip``); other options are
    listed apart (``!help COMMAND``)."""
    if command.usage:
        return command.usage
    parts = [f"--{o.name} {o.metavar}" for o in command.options if o.required]
    for argument in (*command.words, *command.attachments):
        shown = _shown(argument, command)
        parts.append(shown if argument.required else f"[{shown}]")
    return " ".join(parts)


def _shown(option: Option, command: Command) -> str:
    if option.kind is Kind.ATTACHMENT:
        return f"+ {option.metavar}"
    if option in command.arguments:
        return option.metavar
    return f"--{option.name}{' ' + option.metavar if option.takes_value else ''}"


def _described(option: Option) -> str:
    """": the face it makes", with the values a choice, number or duration takes."""
    extra = ""
    if option.kind is Kind.CHOICE and len(option.choices) > 1:
        extra = f" ({', '.join(option.choices)})"
    elif option.kind is Kind.NUMBER:
        extra = f" ({'a whole number' if option.integer else 'a number'}{option.bounds()})"
    elif option.kind is Kind.DURATION:
        extra = f" (a duration{option.bounds()}, e.g. 90s, 5m, 1h30m)"
    return f": {option.help}{extra}"


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


def _split_options(command: Command, words: list[str], prefix: str) -> tuple[list[str], dict[str, Value]]:
    known = {o.name: o for o in command.options}
    args: list[str] = []
    options: dict[str, Value] = {}
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
            raise CommandError(f"--{name} needs a value, e.g. {prefix}{command.name} --{name} {option.sample}.")
        options[name] = option.convert(value, f"--{name}", f"{prefix}{command.name} --{name} {option.sample}")
    for option in command.options:
        if option.required and option.name not in options:
            raise CommandError(f"{prefix}{command.name} needs --{option.name} ({option.help}), "
                               f"e.g. {prefix}{command.name} --{option.name} {option.sample}.")
    return args, options


def _read_arguments(command: Command, args: list[str], prefix: str) -> dict[str, Value]:
    """The declared arguments' values, by name, from the words that aren't options; the last text
    argument takes the rest of them (words past the declared ones are left to the handler)."""
    values: dict[str, Value] = {}
    declared, rest = command.words, list(args)
    for index, argument in enumerate(declared):
        if not rest:
            if argument.required:
                raise CommandError(f"{prefix}{command.name} needs {argument.metavar} ({argument.help}), "
                                   f"e.g. {prefix}{command.name} {argument.sample}.")
            break
        if argument.kind is Kind.TEXT and index == len(declared) - 1:
            values[argument.name], rest = " ".join(rest), []
            continue
        word = rest.pop(0)
        label = prefix + command.name + ("" if argument.kind is Kind.CHOICE else f" {argument.metavar}")
        values[argument.name] = argument.convert(word, label, f"{prefix}{command.name} {argument.sample}")
    return values
