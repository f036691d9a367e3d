"""Persona memory: facts learned, secrets never kept, feelings read, bounded turns and summaries."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from core.storage import Storage
from engine.types import Expression
from personas.emotion import expression_of, reply_expression, split_tag
from personas.facts import (
    extract_facts,
    merge_facts,
    preferred_name,
    redact,
    second_person,
)
from personas.memory import MemoryKey, MemoryStore, PersonaMemory, digest


@pytest.mark.parametrize(
    ("text", "facts"),
    [
        ("Hi! My name is ada and I like jazz a lot.", ["is called Ada", "likes jazz"]),
        ("I love my cat. I hate pineapple pizza, but I enjoy tea",
         ["loves their cat", "doesn't like pineapple pizza", "enjoys tea"]),
        ("I'm from Lisbon, Portugal and I live in Berlin now.", ["is from Lisbon", "lives in Berlin"]),
        ("My favourite colour is deep blue!", ["favourite colour is deep blue"]),
        ("call me Max please. I work as a nurse", ["is called Max", "works as a nurse"]),
        ("I have a dog named Rex", ["has a dog named Rex"]),
        ("Do I like jazz? I like it. I'd like a coffee.", []),
    ],
)
def test_facts_are_learned_from_what_members_say(text: str, facts: list[str]) -> None:
    assert extract_facts(text) == facts


@pytest.mark.parametrize(
    "text",
    [
        "I like to think that we are friends.",  # a way of speaking, not a taste
        "I like how you talk. I like what you did there. I like the way you sing.",  # about the persona
        "I enjoy talking to you. I love your voice.",
        "Call me later. Call me crazy, but it works.",
        "I live in fear of spiders.",
        "I work as hard as I can.",
    ],
)
def test_figures_of_speech_and_remarks_about_the_persona_are_no_facts(text: str) -> None:
    assert extract_facts(text) == []


def test_secrets_are_redacted_and_never_become_facts() -> None:
    said = "My password is hunter2 and I like cheese. The PIN code: 1234"
    assert "hunter2" not in redact(said) and "1234" not in redact(said)
    assert redact(said).startswith("My password is [redacted]")
    assert extract_facts(said) == []
    assert extract_facts("my credit card number is 4111 1111. I like tea.") == ["likes tea"]


def test_a_newer_fact_replaces_the_one_it_updates_and_the_count_is_bounded() -> None:
    known = ["likes tea", "is from Oslo", "is called Bo"]
    merged = merge_facts(known, ["doesn't like tea", "is from Rome", "likes jazz"], limit=3)
    assert merged == ["doesn't like tea", "is from Rome", "likes jazz"]
    assert merge_facts(["likes Jazz"], ["likes jazz"], limit=5) == ["likes jazz"]
    assert preferred_name(["is called Bo", "likes tea", "is called Max"]) == "Max"
    assert second_person("loves their cat") == "you love your cat"


@pytest.mark.parametrize(
    ("text", "expression"),
    [
        ("I'm so happy for you!", Expression.HAPPY),
        ("I am not happy about this", Expression.SAD),
        ("I'm not angry at all", Expression.NEUTRAL),
        ("Oh no, I'm sorry you feel sad", Expression.SAD),
        ("Wow, that's unexpected!", Expression.SURPRISED),
        ("That is stupid and unfair", Expression.ANGRY),
        ("The meeting is at noon", Expression.NEUTRAL),
    ],
)
def test_the_lexicon_reads_the_feeling(text: str, expression: Expression) -> None:
    assert expression_of(text) is expression


def test_a_leading_tag_wins_and_is_stripped() -> None:
    assert reply_expression("[Surprised] I love it!") == (Expression.SURPRISED, "I love it!")
    assert reply_expression("(excited): Let's go") == (Expression.HAPPY, "Let's go")
    assert split_tag("[pondering] Hmm.") == (None, "Hmm.")  # unknown tag: stripped, lexicon decides
    assert reply_expression("No tag, just great news!") == (Expression.HAPPY, "No tag, just great news!")


@pytest.fixture
def store(database: str | Path):  # type: ignore[no-untyped-def]
    storage = Storage(database)
    yield MemoryStore(storage, max_turns=4, max_facts=3, max_summary_chars=200)
    storage.close()


KEY = MemoryKey("friendly", "test", "s1", "u1")


def test_turns_are_bounded_and_older_ones_summarised(store: MemoryStore) -> None:
    for n in range(3):
        store.record(KEY, user_name="Ada", user_text=f"Message number {n} is here.", reply_text=f"Reply {n}", facts=[])
    memory = store.recall(KEY)
    assert memory is not None
    assert [t["text"] for t in memory.turns] == [
        "Message number 1 is here.", "Reply 1", "Message number 2 is here.", "Reply 2"]
    assert memory.summary == "Ada said: “Message number 0 is here.”"


def test_a_given_summarizer_folds_the_overflow(store: MemoryStore) -> None:
    calls = []

    def summarize(summary: str, turns: list[dict[str, str]], name: str) -> str:
        calls.append((summary, [t["text"] for t in turns], name))
        return "x" * 500

    for n in range(3):
        store.record(KEY, user_name="Ada", user_text=f"u{n}", reply_text=f"r{n}", facts=[], summarize=summarize)
    assert calls == [("", ["u0", "r0"], "Ada")]
    memory = store.recall(KEY)
    assert memory is not None and len(memory.summary) <= 200


def test_forget_deletes_every_scope_of_that_member_only(store: MemoryStore) -> None:
    store.record(KEY, user_name="Ada", user_text="I like jazz", reply_text="ok", facts=["likes jazz"])
    store.record(MemoryKey("friendly", "test", "s2", "u1"), user_name="Ada", user_text="hi", reply_text="hey", facts=[])
    store.record(MemoryKey("friendly", "test", "s1", "u2"), user_name="Bo", user_text="hi", reply_text="hey", facts=[])
    store.record(MemoryKey("neon", "test", "s1", "u1"), user_name="Ada", user_text="hi", reply_text="hey", facts=[])
    gone = store.forget("friendly", "test", "u1")
    assert (gone.places, gone.facts, gone.turns) == (2, 1, 4)
    with store.storage.session() as session:
        left = {(r.persona, r.scope, r.user_id) for r in session.exec(select(PersonaMemory))}
    assert left == {("friendly", "s1", "u2"), ("neon", "s1", "u1")}


def test_digest_keeps_what_the_member_said() -> None:
    turns = [{"role": "user", "text": "I went hiking today. It was long."}, {"role": "persona", "text": "Nice!"}]
    assert digest("Earlier bits.", turns, "Ada") == "Earlier bits. Ada said: “I went hiking today.”"
