"""Fuzzing the command parser and the link finder with what members might type.

Whatever the text, a command parses or is refused with a ``CommandError`` the member
can read, and a link in it becomes an attachment or nothing: never another exception.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.commands import CommandError, CommandRegistry
from core.fetch import SafeFetcher, link_attachment
from core.plugins import build_plugin_manager

REGISTRY = CommandRegistry(prefix="!")
build_plugin_manager().hook.register_commands(register=REGISTRY.register)
OPTIONS = sorted({f"--{option.name}" for command in REGISTRY.all() for option in command.options})

#: Pieces members type, and pieces that break naive parsers.
PIECES = st.one_of(
    st.sampled_from([c.name for c in REGISTRY.all()] + [c.name.upper() for c in REGISTRY.all()]),
    st.sampled_from(OPTIONS + ["--", "---", "--=", "--persona=", "--nope", "-p"]),
    st.sampled_from(['"', "'", "\\", "I'm", "don't", '""', "''", "!", "#", "\u00a0", "\n", "\t", "\r", "\x00",
                     "http://[oops", "https://h:99999/x.ogg", "http://a:b:c/", "https://\u2488.example/v.ogg",
                     "<https://x.example/v.ogg>", "😀", "\u202e", "ｓａｙ"]),
    st.text(max_size=12),
)
MESSAGES = st.builds(lambda lead, pieces, gaps: lead + "".join(p + g for p, g in zip(pieces, gaps, strict=False)),
                     st.sampled_from(["!", " !", "!!", "", "! "]), st.lists(PIECES, max_size=8),
                     st.lists(st.sampled_from([" ", "", "  ", "\n"]), min_size=8, max_size=8))


@settings(max_examples=300, deadline=None, database=None)
@given(text=MESSAGES)
def test_any_message_parses_or_is_refused_clearly(text: str) -> None:
    if REGISTRY.is_command(text):
        try:
            command, parsed = REGISTRY.parse(text)
        except CommandError as refusal:
            assert str(refusal).strip()
        else:
            assert parsed.name == command.name and all(isinstance(a, str) for a in parsed.args)
            assert set(parsed.options) <= {option.name for option in (*command.options, *command.arguments)}
    attachment = link_attachment(text, SafeFetcher(max_bytes=1))
    assert attachment is None or attachment.filename
