"""Facts a member tells a persona about themselves ("I like jazz" → "likes jazz").

Facts are short third-person phrases, stored as text; each has a *slot* so that a newer
fact replaces the one it contradicts or updates ("likes tea" → "doesn't like tea";
"is from Oslo" → "is from Rome"). Secrets are never kept: ``redact`` blanks what
follows "my password is" and the like before anything is stored.
"""

from __future__ import annotations

import re

REDACTED = "[redacted]"

_SECRET = re.compile(
    r"\b(?P<lead>(?:my|our|the)\s+(?:password|passcode|passphrase|pin(?:\s+code)?|pin\s+number|"
    r"credit\s+card(?:\s+number)?|card\s+number|security\s+code|cvv|social\s+security\s+number|ssn|"
    r"iban|bank\s+account(?:\s+number)?|api\s+key|access\s+token|secret\s+key|login)"
    r"(?:\s+(?:is|was|will\s+be)|\s*[:=])\s*)(?P<value>[^.!?;\n]+)",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"[^.!?;\n]+[.!?;]*")
#: Where the object of "I like …" ends.
_CLAUSE_BREAK = re.compile(r"\s*(?:,|\band\s+(?:i|my|you)\b|\bbut\b|\bbecause\b|\bso\b|\bwhen\b|\bif\b|\bthough\b)",
                           re.IGNORECASE)
_CLAUSE = re.compile(r",?\s+\b(?:but|and|while|whereas|though)\s+(?=i\b)", re.IGNORECASE)
_TRAILING_FILLER = re.compile(r"\s+(?:too|as well|a lot|so much|very much|a bit|sometimes|really|now|these days)$",
                              re.IGNORECASE)
_PRONOUN_OBJECTS = {"it", "that", "this", "you", "them", "him", "her", "those", "these", "one", "u", "ya"}
#: Objects that open a clause ("I like how you talk", "I like to think that…") say how a member
#: feels about something just said, not what they are like.
_CLAUSE_OBJECT = re.compile(r"^(?:how|what|when|whenever|where|why|who|whom|which|whatever|the\s+way|"
                            r"to\s+(?:think|believe|imagine|say|know|hope|pretend|assume|feel|call))\b",
                            re.IGNORECASE)
#: Words that make a phrase about the persona, not the member ("I love your voice").
_ADDRESSEE = {"you", "your", "yours", "yourself", "u", "ur", "ya"}
#: "I live in fear", "I'm from the future": not places.
_NOT_A_PLACE = re.compile(r"^(?:fear|hope|denial|peace|harmony|dread|terror|shame|luxury|poverty|hiding|sin|"
                          r"the\s+(?:moment|past|present|future))\b", re.IGNORECASE)
_NAME_STOP = {"and", "but", "by", "from", "i", "im", "i'm", "not", "please", "so", "the", "because",
              # "call me later", "call me crazy, but…"
              "later", "tomorrow", "tonight", "today", "now", "soon", "back", "maybe", "sometime", "anytime",
              "crazy", "whenever", "again", "when", "if", "anything", "whatever"}
_MY_TO_THEIR = {"my": "their", "me": "them", "myself": "themselves", "mine": "theirs", "i": "they"}
_THEIR_TO_YOUR = {"their": "your", "them": "you", "themselves": "yourself", "theirs": "yours", "they": "you"}
MAX_OBJECT_WORDS = 6

_LIKE = re.compile(r"\bi\s+(?:really\s+|totally\s+|also\s+|just\s+|absolutely\s+)?"
                   r"(like|love|enjoy|adore)\s+(?P<what>.+)", re.IGNORECASE)
_DISLIKE = re.compile(
    r"\bi\s+(?:really\s+|also\s+)?(?:hate|dislike|detest|don'?t\s+like|do\s+not\s+like|can'?t\s+stand|cannot\s+stand|"
    r"don'?t\s+enjoy|do\s+not\s+enjoy)\s+(?P<what>.+)", re.IGNORECASE)
_NAME = re.compile(r"\b(?:my\s+name\s+is|call\s+me|i'?m\s+called|i\s+am\s+called|my\s+name'?s)\s+"
                   r"(?P<name>[^\W\d_][\w'-]*(?:\s+[^\W\d_][\w'-]*)?)", re.IGNORECASE)
_FROM = re.compile(r"\bi(?:'m|\s+am)\s+(?:originally\s+)?from\s+(?P<what>.+)", re.IGNORECASE)
_LIVE = re.compile(r"\bi\s+(?:currently\s+|now\s+)?live\s+in\s+(?P<what>.+)", re.IGNORECASE)
_FAVOURITE = re.compile(r"\bmy\s+fav(?:ou?rite|e)\s+(?P<thing>[\w -]{1,30}?)\s+(?:is|are)\s+(?P<what>.+)",
                        re.IGNORECASE)
_WORK = re.compile(r"\bi\s+work\s+as\s+(?P<what>.+)", re.IGNORECASE)
_PET = re.compile(r"\bi\s+have\s+(?P<what>(?:an?|two|three|\d+)\s+(?:cats?|dogs?|rabbits?|hamsters?|birds?|parrots?|"
                  r"fish|turtles?|snakes?|guinea\s+pigs?|horses?)(?:\s+(?:called|named)\s+[^\W\d_][\w'-]*)?)",
                  re.IGNORECASE)
_LIKE_VERBS = {"like": "likes", "love": "loves", "enjoy": "enjoys", "adore": "loves"}


def redact(text: str) -> str:
    """``text`` with secrets ("my password is …") replaced by ``[redacted]``."""
    return _SECRET.sub(lambda m: m.group("lead") + REDACTED, text)


def extract_facts(text: str) -> list[str]:
    """The facts in a member's message, in the order said, with secrets never among them."""
    facts: list[str] = []
    for sentence in _SENTENCE.findall(redact(text)):
        if REDACTED in sentence or sentence.rstrip().endswith("?"):
            continue  # a question ("do I like jazz?") tells us nothing yet
        for clause in _CLAUSE.split(sentence.strip()):
            facts.extend(_facts_in(clause))
    return merge_facts([], facts, limit=len(facts) or 1)


def _facts_in(sentence: str) -> list[str]:
    found: list[str] = []
    if match := _NAME.search(sentence):
        words = [w for w in match.group("name").split()]
        kept = []
        for word in words:
            if word.lower() in _NAME_STOP:
                break
            kept.append(word[:1].upper() + word[1:])
        if kept:
            found.append(f"is called {' '.join(kept)}")
    dislike = _DISLIKE.search(sentence)
    if dislike and (what := _object(dislike.group("what"))):
        found.append(f"doesn't like {what}")
    elif (like := _LIKE.search(sentence)) and (what := _object(like.group(2))):
        found.append(f"{_LIKE_VERBS[like.group(1).lower()]} {what}")
    for pattern, phrase in ((_FROM, "is from"), (_LIVE, "lives in"), (_WORK, "works as")):
        if (match := pattern.search(sentence)) and (what := _object(match.group("what"))):
            if phrase == "works as" and "as" in what.lower().split():
                continue  # "I work as hard as I can"
            if phrase != "works as" and _NOT_A_PLACE.match(what):
                continue
            found.append(f"{phrase} {what}")
    if (match := _FAVOURITE.search(sentence)) and (what := _object(match.group("what"))):
        found.append(f"favourite {match.group('thing').strip().lower()} is {what}")
    if match := _PET.search(sentence):
        found.append(f"has {match.group('what').strip()}")
    return found


def _object(raw: str) -> str:
    """The object of a clause: cut at the next clause, fillers dropped, "my" made "their"."""
    text = _CLAUSE_BREAK.split(raw, maxsplit=1)[0].strip(" \t'\".!?;:")
    text = _TRAILING_FILLER.sub("", text).strip()
    words = text.split()
    if not words or words[0].lower() in _PRONOUN_OBJECTS or len(words) > MAX_OBJECT_WORDS:
        return ""
    if _CLAUSE_OBJECT.match(text) or any(w.lower() in _ADDRESSEE for w in words):
        return ""
    return " ".join(_MY_TO_THEIR.get(w.lower(), w) for w in words)


def fact_slot(fact: str) -> str:
    """What a fact is about: a newer fact with the same slot replaces the older one."""
    lowered = fact.lower()
    for verb in ("likes ", "loves ", "enjoys ", "doesn't like "):
        if lowered.startswith(verb):
            return "taste:" + lowered[len(verb):]
    for prefix in ("is called", "is from", "lives in", "works as"):
        if lowered.startswith(prefix):
            return prefix
    if lowered.startswith("favourite "):
        return lowered.split(" is ", 1)[0]
    return lowered


def merge_facts(known: list[str], new: list[str], *, limit: int) -> list[str]:
    """``known`` updated with ``new`` (same slot: the new one wins and moves to the end),
    then only the newest ``limit``."""
    merged = list(known)
    for fact in new:
        slot = fact_slot(fact)
        merged = [old for old in merged if fact_slot(old) != slot]
        merged.append(fact)
    return merged[-limit:]


def preferred_name(facts: list[str]) -> str | None:
    """The name a member asked to be called by, if they told us one."""
    for fact in reversed(facts):
        if fact.startswith("is called "):
            return fact[len("is called "):]
    return None


def second_person(fact: str) -> str:
    """A stored fact said back to the member: "likes their cat" → "you like your cat"."""
    for third, second in (("likes ", "you like "), ("loves ", "you love "), ("enjoys ", "you enjoy "),
                          ("doesn't like ", "you don't like "), ("is called ", "your name is "),
                          ("is from ", "you're from "), ("lives in ", "you live in "),
                          ("works as ", "you work as "), ("has ", "you have "), ("favourite ", "your favourite ")):
        if fact.startswith(third):
            rest = " ".join(_THEIR_TO_YOUR.get(w.lower(), w) for w in fact[len(third):].split())
            return second + rest
    return fact
