from __future__ import annotations

import pytest

from engine.errors import TextInputError
from engine.text import clean_text, has_speakable, speakable_name


def test_whitespace_is_normalised():
    assert clean_text("  Hello\t\tthere,   friend!  ", max_chars=100) == "Hello there, friend!"


def test_line_breaks_become_clause_ends():
    text = "Big news\n\n  The party is on Friday!\r\nBring snacks;\nsee you"
    assert clean_text(text, max_chars=200) == "Big news. The party is on Friday! Bring snacks; see you"


def test_control_and_invisible_characters_are_removed():
    text = "Hel\x00lo\x07 wo\u200brld\u202e\ufeff"
    assert clean_text(text, max_chars=100) == "Hello world"


def test_punctuation_for_prosody_is_kept():
    text = "Wait... really? Yes: it's true — 100%!"
    assert clean_text(text, max_chars=100) == text


def test_non_latin_scripts_and_joiners_are_kept():
    assert clean_text("Привет, мир! 你好。", max_chars=100) == "Привет, мир! 你好。"
    assert clean_text("می\u200cخواهم", max_chars=100) == "می\u200cخواهم"  # ZWNJ changes Persian pronunciation


def test_decomposed_accents_are_composed():
    assert clean_text("cafe\u0301", max_chars=100) == "café"


@pytest.mark.parametrize("text", ["", "   ", "\n\t\n", "\x00\x01\u200b"])
def test_empty_text(text: str):
    with pytest.raises(TextInputError, match=r"The text is empty — please write something"):
        clean_text(text, max_chars=100)


def test_text_over_the_cap_says_length_and_cap():
    with pytest.raises(TextInputError, match=r"The text is 1,500 characters long, over the 1,000-character limit"):
        clean_text("a" * 1500, max_chars=1000)


def test_cap_counts_the_cleaned_text():
    assert clean_text("word" + " " * 50, max_chars=4) == "word"


@pytest.mark.parametrize("text", ["🎉🎉🎉", "!!! ??? ...", "→ ★ ♥ 💖", "😀\u200d😀"])
def test_nothing_speakable(text: str):
    with pytest.raises(TextInputError, match=r"nothing that can be read out loud \(only emoji, symbols"):
        clean_text(text, max_chars=100)


def test_emoji_next_to_words_is_fine():
    assert clean_text("Well done 🎉", max_chars=100) == "Well done 🎉"


def test_has_speakable():
    assert has_speakable("R2D2")
    assert has_speakable("42")
    assert has_speakable("日本")
    assert not has_speakable("🙂 -- !!")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("🔥xX_Gamer_Xx🔥", "xX Gamer Xx"),
        ("Zoë 🌸", "Zoë"),
        ("Ирина💖", "Ирина"),
        ("李小龍", "李小龍"),
        ("नमस्ते", "नमस्ते"),  # combining vowel signs stay with their letters
        ("Mary-Jane O'Brien", "Mary-Jane O'Brien"),
        ("  ~~DJ  Spin~~  ", "DJ Spin"),
        ("player_42", "player 42"),
    ],
)
def test_speakable_name(name: str, expected: str):
    assert speakable_name(name, "friend") == expected


@pytest.mark.parametrize("name", ["", "🎉🎉", "★☆♪", "---", "..."])
def test_speakable_name_falls_back(name: str):
    assert speakable_name(name, "new friend") == "new friend"
