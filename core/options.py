"""What a command takes, declared with types: the parser converts with them, help and every
adapter's native form (slash commands, menus, argument help) are built from them.

A command declares ``--options`` (``Command.options``) and, in order, the arguments that follow
them (``Command.arguments``): words, or the files that come with the message (attachments)::

    Command("remind", "a persona reminds you on video", remind,
            arguments=(Option.text("text", "what to say", required=True),),
            options=(Option.persona(), Option.duration("in", "when, e.g. 10m or 1h30m", required=True)))
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

#: What a handler finds in ``ParsedCommand.options``: text (also a persona's name or a choice),
#: True for a flag, an int or float for a number, a timedelta for a duration.
Value = str | bool | int | float | timedelta


class CommandError(ValueError):
    """A command line the user must fix; the message says how."""


class Kind(StrEnum):
    TEXT = "text"
    ATTACHMENT = "attachment"  # a file that comes with the message (or a slash command's file option)
    PERSONA = "persona"  # a persona's name: adapters suggest the ones the asker can use
    CHOICE = "choice"
    NUMBER = "number"
    DURATION = "duration"  # "90s", "5m", "1h30m", "2d"
    FLAG = "flag"  # no value: given or not


#: Lower-case letters, digits, "_" and "-": what Discord allows in an option's name, at most 32.
_NAME = re.compile(r"[a-z0-9_-]{1,32}")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([wdhms])")
_DURATION_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


@dataclass(frozen=True)
class Option:
    """One ``--option`` or argument of a command; build it with the kind's constructor
    (``Option.number(...)``), or give ``kind`` (choices alone make a choice)."""

    name: str
    help: str
    kind: Kind = Kind.TEXT
    choices: tuple[str, ...] = ()
    required: bool = False
    #: Numbers: the bounds (inclusive) and whether only whole numbers are taken; durations: bounds in seconds.
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    #: Attachments: the kinds of file taken, as MIME type families ("audio", "video", "image"); () any.
    media: tuple[str, ...] = ()
    #: Attachments: the file the command works on (``!avatar``'s clip). Where a command can't carry a
    #: file (Slack's slash commands), the member's newest one of its kind in the channel is taken.
    primary: bool = False
    #: Text: the member's words as typed, for a command with a grammar of its own ("at TIME TEXT");
    #: a slash command passes them on unquoted.
    raw: bool = False
    placeholder: str = ""  # the value as usage shows it ("a voice clip"); default the name in capitals
    example: str = ""  # a value for error messages; default one per kind
    needs: tuple[str, ...] = ()  # ``[models]`` keys this works only with, e.g. ("asr",)

    def __post_init__(self) -> None:
        if self.choices and self.kind is Kind.TEXT:
            object.__setattr__(self, "kind", Kind.CHOICE)
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"option name {self.name!r}: 1–32 lower-case letters, digits, '_' or '-'")
        if (self.kind is Kind.CHOICE) != bool(self.choices):
            raise ValueError(f"option {self.name!r}: a choice, and only a choice, has choices")
        if (self.minimum is not None or self.maximum is not None) and self.kind not in (Kind.NUMBER, Kind.DURATION):
            raise ValueError(f"option {self.name!r}: only numbers and durations have bounds")
        if (self.media or self.primary) and self.kind is not Kind.ATTACHMENT or self.raw and self.kind is not Kind.TEXT:
            raise ValueError(f"option {self.name!r}: media and primary are for attachments, raw for text")
        if self.kind is Kind.FLAG and self.required:
            raise ValueError(f"option {self.name!r}: a flag can't be required")

    # -- constructors, one per kind ----------------------------------------------------------

    @classmethod
    def text(cls, name: str, help: str, *, required: bool = False, raw: bool = False, placeholder: str = "",
             example: str = "", needs: tuple[str, ...] = ()) -> Option:
        return cls(name, help, Kind.TEXT, required=required, raw=raw, placeholder=placeholder, example=example,
                   needs=needs)

    @classmethod
    def persona(cls, name: str = "persona", help: str = "who says it (see !personas)", *,
                required: bool = False) -> Option:
        return cls(name, help, Kind.PERSONA, required=required)

    @classmethod
    def choice(cls, name: str, help: str, choices: tuple[str, ...], *, required: bool = False, placeholder: str = "",
               needs: tuple[str, ...] = ()) -> Option:
        return cls(name, help, Kind.CHOICE, tuple(c.lower() for c in choices), required=required,
                   placeholder=placeholder, needs=needs)

    @classmethod
    def number(cls, name: str, help: str, *, minimum: float | None = None, maximum: float | None = None,
               integer: bool = False, required: bool = False) -> Option:
        return cls(name, help, Kind.NUMBER, required=required, minimum=minimum, maximum=maximum, integer=integer)

    @classmethod
    def duration(cls, name: str, help: str, *, minimum: timedelta | None = None, maximum: timedelta | None = None,
                 required: bool = False) -> Option:
        return cls(name, help, Kind.DURATION, required=required,
                   minimum=minimum.total_seconds() if minimum is not None else None,
                   maximum=maximum.total_seconds() if maximum is not None else None)

    @classmethod
    def flag(cls, name: str, help: str, *, needs: tuple[str, ...] = ()) -> Option:
        return cls(name, help, Kind.FLAG, needs=needs)

    @classmethod
    def attachment(cls, name: str, help: str, *, media: tuple[str, ...] = (), primary: bool = False,
                   required: bool = False, placeholder: str = "") -> Option:
        return cls(name, help, Kind.ATTACHMENT, required=required, media=media, primary=primary,
                   placeholder=placeholder)

    # -- what help and errors show ---------------------------------------------------------

    @property
    def takes_value(self) -> bool:
        return self.kind is not Kind.FLAG

    @property
    def metavar(self) -> str:
        """The value as help shows it: the placeholder, a choice's one value ("--batch all"), else NAME."""
        if self.placeholder:
            return self.placeholder
        return self.choices[0] if self.kind is Kind.CHOICE and len(self.choices) == 1 else self.name.upper()

    @property
    def sample(self) -> str:
        """A value that would be accepted, for examples in error messages."""
        if self.example:
            return self.example
        match self.kind:
            case Kind.CHOICE:
                return self.choices[0]
            case Kind.NUMBER:
                return _number_text(self.minimum if self.minimum is not None else 3)
            case Kind.DURATION:
                return "1h30m"
            case Kind.PERSONA:
                return "sakura"
        return self.metavar

    def bounds(self) -> str:
        """" from 1 to 10", " of at least 1"…, or "" when unbounded."""
        show = _number_text if self.kind is Kind.NUMBER else describe_duration
        low, high = self.minimum, self.maximum
        if low is not None and high is not None:
            return f" from {show(low)} to {show(high)}"
        if low is not None:
            return f" of at least {show(low)}"
        return f" of at most {show(high)}" if high is not None else ""

    # -- reading a value -----------------------------------------------------------------

    def convert(self, word: str, label: str, example: str) -> Value:
        """``word`` as this option's kind, else ``CommandError`` naming ``label`` (``--days``, ``!roll SIDES``)
        with ``example``, a whole command line that would do."""
        match self.kind:
            case Kind.CHOICE:
                if word.lower() not in self.choices:
                    verb = "must be" if label.startswith("--") else "takes"
                    raise CommandError(f"{label} {verb} one of: {', '.join(self.choices)} (got {word!r}) "
                                       f"— {self.help}.")
                return word.lower()
            case Kind.NUMBER:
                value = _number(word, self.integer)
                if value is None:
                    what = "a whole number" if self.integer else "a number"
                    raise CommandError(f"{label} takes {what}{self.bounds()} (got {word!r}), e.g. {example}.")
                return self._in_bounds(value, word, label)
            case Kind.DURATION:
                seconds = parse_duration(word)
                if seconds is None:
                    raise CommandError(f"{label} takes a duration such as 90s, 5m or 1h30m (got {word!r}), "
                                       f"e.g. {example}.")
                return timedelta(seconds=self._in_bounds(seconds, word, label))
        return word

    def _in_bounds(self, value: float, word: str, label: str) -> float:
        if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
            raise CommandError(f"{label} must be{self.bounds().replace(' of', '')} (got {word}).")
        return value


def parse_duration(text: str) -> float | None:
    """Seconds in "90s", "5m", "1h30m", "1.5h", "2d" (w, d, h, m, s); None for anything else."""
    compact = text.strip().lower().replace(" ", "")
    if not compact or not re.fullmatch(rf"(?:{_DURATION_PART.pattern})+", compact):
        return None
    return sum(float(amount) * _DURATION_UNITS[unit] for amount, unit in _DURATION_PART.findall(compact))


def describe_duration(seconds: float) -> str:
    """90 → "1m30s": the form ``parse_duration`` reads back."""
    rest, parts = round(seconds), list[str]()
    for unit, size in _DURATION_UNITS.items():
        if unit == "w":  # "7d" reads better than "1w"
            continue
        if rest >= size or (unit == "s" and not parts):
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(parts)


def _number(word: str, integer: bool) -> float | None:
    try:
        value = int(word) if integer else float(word)
    except ValueError:
        return None
    return value if math.isfinite(value) else None  # not "nan" or "inf"


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
