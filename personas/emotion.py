"""The feeling of a reply, which sets the face a persona makes while saying it.

Two sources, in order: an explicit tag at the very start of a language model's reply
(``[happy] That's great news!``, the convention the system prompt asks for; the tag is
stripped before the reply is spoken), else a small lexicon that reads the words
themselves, with negation ("not happy" is sad, "not angry" is nothing) and
intensifiers ("so happy" counts double).
"""

from __future__ import annotations

import re

from engine.types import Expression


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Tag words a model may use, and the expression each one stands for.
TAG_WORDS: dict[str, Expression] = {
    **{e.value: e for e in Expression},
    "joy": Expression.HAPPY, "joyful": Expression.HAPPY, "excited": Expression.HAPPY, "cheerful": Expression.HAPPY,
    "glad": Expression.HAPPY, "sorrow": Expression.SAD, "unhappy": Expression.SAD, "upset": Expression.SAD,
    "surprise": Expression.SURPRISED, "shocked": Expression.SURPRISED, "amazed": Expression.SURPRISED,
    "anger": Expression.ANGRY, "annoyed": Expression.ANGRY, "mad": Expression.ANGRY, "calm": Expression.NEUTRAL,
}
_TAG = re.compile(r"^\s*[\[(]\s*(?P<word>[a-z]+)\s*[\])]\s*[:\-–—]?\s*", re.IGNORECASE)

_LEXICON: dict[Expression, frozenset[str]] = {
    Expression.HAPPY: _words(
        "happy glad great awesome wonderful fantastic amazing love loved lovely yay hooray nice cool fun "
        "excellent brilliant delighted excited exciting enjoy enjoyed enjoying congrats congratulations "
        "thanks thank welcome beautiful perfect joy cheers yatta preem haha lol smile glorious proud"),
    Expression.SAD: _words(
        "sad sorry unhappy miss missed missing lonely cry crying cried tears depressed upset hurt "
        "tired exhausted sick alone unfortunately disappointed disappointing heartbroken grief "
        "regret bad awful terrible worse worst"),
    Expression.SURPRISED: _words(
        "wow whoa woah omg surprise surprised surprising unexpected incredible unbelievable "
        "shocked shocking suddenly kyaa astonishing"),
    Expression.ANGRY: _words(
        "angry mad furious annoyed annoying hate hated rage outrageous unfair stupid ridiculous "
        "frustrated frustrating frustration irritated livid grr ugh scam"),
}
#: What a negated feeling becomes: "not happy" reads as sad; a negated other feeling is no feeling.
_NEGATED = {Expression.HAPPY: Expression.SAD}
_NEGATIONS = _words("not no never nothing hardly barely isn't aren't wasn't weren't don't doesn't didn't "
                    "can't cannot won't wouldn't shouldn't couldn't isnt arent dont doesnt didnt cant wont")
_INTENSIFIERS = _words("very so really super extremely totally absolutely incredibly truly such")
_NEGATION_REACH = 3  # words after a negation that it still applies to, within its clause
_TOKEN = re.compile(r"[a-z']+|[.,;:!?]")


def split_tag(text: str) -> tuple[Expression | None, str]:
    """A leading ``[feeling]`` tag, as an expression (None when absent or unknown), and the text
    without it; a bracketed word we don't know is stripped too, so it is never read aloud."""
    match = _TAG.match(text)
    if match is None:
        return None, text
    return TAG_WORDS.get(match.group("word").lower()), text[match.end():]


def expression_of(text: str) -> Expression:
    """The feeling the words of ``text`` carry, by the lexicon; neutral when none stands out."""
    scores = dict.fromkeys(Expression, 0.0)
    words = _TOKEN.findall(text.lower().replace("’", "'"))
    negated_until = -1
    for index, word in enumerate(words):
        if not word[0].isalpha() and word[0] != "'":
            negated_until = -1  # punctuation ends a negation's clause: "oh no, I'm so happy"
            continue
        if word in _NEGATIONS or word.endswith("n't"):
            negated_until = index + _NEGATION_REACH
            continue
        feeling = _feeling_of(word)
        if feeling is None:
            continue
        weight = 2.0 if index and words[index - 1] in _INTENSIFIERS else 1.0
        if index <= negated_until:
            feeling = _NEGATED.get(feeling)
            if feeling is None:
                continue
        scores[feeling] += weight
    if "!" in text:
        for feeling in (Expression.HAPPY, Expression.SURPRISED, Expression.ANGRY):
            if scores[feeling]:
                scores[feeling] += 0.5
    best = max(scores, key=lambda e: scores[e])
    return best if scores[best] > 0 else Expression.NEUTRAL


def reply_expression(text: str) -> tuple[Expression, str]:
    """The expression for a reply and the reply to speak: the tag's, else the lexicon's."""
    tagged, rest = split_tag(text)
    return (tagged or expression_of(rest)), rest


def _feeling_of(word: str) -> Expression | None:
    for feeling, words in _LEXICON.items():
        if word in words:
            return feeling
    return None
