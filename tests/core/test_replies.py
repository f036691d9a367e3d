"""Long texts are split for platforms that cap one message's length."""

from __future__ import annotations

from core.replies import split_text


def test_split_text_breaks_at_line_ends_and_never_exceeds_the_limit() -> None:
    text = "first line\nsecond line\n" + "x" * 25
    pieces = split_text(text, 12)
    assert pieces[:2] == ["first line", "second line"]
    assert all(len(piece) <= 12 for piece in pieces)
    assert "".join(pieces[2:]) == "x" * 25
    assert split_text("short", 12) == ["short"]
    assert split_text("", 12) == [""]
    assert split_text("exactly12chr\n", 12) == ["exactly12chr"]  # no empty message after the last line
