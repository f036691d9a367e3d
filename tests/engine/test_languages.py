"""Speech in the text's language: detection, voices, durations and lips, for languages of many scripts."""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from dataclasses import replace

import pytest

from engine import tts
from engine.errors import InputError
from engine.languages import Piece, canonical, detect, name_of, split
from engine.multilingual import speak
from engine.timeline import from_speech, viseme_for
from engine.types import Speech, Viseme, VoiceSettings

#: A persona's voice: an English default with its own variant and pitch.
PERSONA = VoiceSettings(language="en-us", variant="f3", pitch=72, rate=175, pitch_range=80)

#: Typical sentences of each language, and the espeak-ng voice that must read them.
SENTENCES = {
    "cmn": ("你好，欢迎来到我们的服务器。今天大家都很开心。", "sit/cmn"),
    "yue": ("你好，歡迎嚟到我哋嘅伺服器。佢哋今日去咗邊度呀？", "sit/yue"),
    "es": ("Hola a todos, bienvenidos al servidor. Mañana jugamos juntos.", "roa/es"),
    "ru": ("Привет всем, добро пожаловать на сервер. Мама мыла раму.", "zle/ru"),
    "de": ("Guten Morgen zusammen, wie geht es euch heute? Schöne Grüße aus Berlin.", "gmw/de"),
    "fr": ("Bonjour à tous et bienvenue sur le serveur. Nous jouons ce soir.", "roa/fr"),
    "ja": ("こんにちは、みなさん。東京へようこそ。ありがとうございます。", "jpx/ja"),
    "ar": ("مرحبا بكم في الخادم، نتمنى لكم وقتا ممتعا مع الأصدقاء.", "sem/ar"),
}


@pytest.mark.parametrize("language", SENTENCES)
def test_a_typical_sentence_is_found_to_be_in_its_language(language: str) -> None:
    text, _ = SENTENCES[language]
    assert split(text, None, "en-us") == [Piece(text, language)]
    assert detect(text, "en-us") == language


@pytest.mark.parametrize("language", SENTENCES)
def test_it_is_spoken_by_its_espeak_voice_with_the_persona_pitch_and_variant(language: str) -> None:
    text, voice_id = SENTENCES[language]
    used: list[VoiceSettings] = []

    def speaker(piece: str, voice: VoiceSettings) -> Speech:
        used.append(voice)
        return tts.synthesize(piece, voice)

    speak(text, PERSONA, speaker)
    assert used == [replace(PERSONA, language=language)]
    assert tts._loaded().voice_ids[language] == voice_id


@pytest.mark.parametrize("language", SENTENCES)
def test_it_lasts_as_long_as_espeak_reading_it_in_that_language(language: str) -> None:
    text, _ = SENTENCES[language]
    spoken = speak(text, PERSONA, tts.synthesize)
    own_reading = tts.synthesize(text, replace(PERSONA, language=language))
    english_rules = tts.synthesize(text, PERSONA)
    assert spoken.duration == pytest.approx(own_reading.duration, rel=0.02)
    # The same phonemes as espeak-ng's reading in the language, not the English voice's letter names or rules.
    phonemes = [event.phoneme for event in spoken.phonemes]
    assert phonemes == [event.phoneme for event in own_reading.phonemes]
    assert phonemes != [event.phoneme for event in english_rules.phonemes]


def test_mandarin_is_no_longer_seventeen_seconds_of_letter_names() -> None:
    text = "你好，欢迎来到我们的服务器。"
    spoken = speak(text, PERSONA, tts.synthesize)
    assert spoken.duration < 5 < tts.synthesize(text, PERSONA).duration


# -- lips: visemes against espeak-ng's own IPA for the same phonemes ----------------------------------

_IPA_SCRIPT = """
import json, sys
from engine import tts
tts._INITIALIZE_PHONEME_EVENTS = 0x0003  # phoneme events named in IPA
from engine.types import VoiceSettings
texts = json.loads(sys.argv[1])
print(json.dumps({lang: [e.phoneme for e in tts.synthesize(text, VoiceSettings(language=lang)).phonemes]
                  for lang, text in texts.items()}))
"""
_BILABIALS = frozenset("pbmβɸ")
_OPEN = frozenset("aɑæɐʌä")
_ROUNDED = frozenset("oɔɒøœɵuʊy")
_VOWELS = _OPEN | _ROUNDED | frozenset("eɛəɜiɪɨɯɤ")


@pytest.fixture(scope="module")
def ipa() -> dict[str, list[str]]:
    """The IPA names espeak-ng gives the phonemes of each sentence (it can't switch naming in one process)."""
    texts = json.dumps({language: text for language, (text, _) in SENTENCES.items()})
    done = subprocess.run([sys.executable, "-c", _IPA_SCRIPT, texts], capture_output=True, text=True, check=True,
                          timeout=120)
    return json.loads(done.stdout)


def _letters(ipa_name: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", ipa_name) if c not in "ˈˌː-" and not
                   unicodedata.category(c).startswith("M"))


@pytest.mark.parametrize("language", SENTENCES)
def test_visemes_follow_the_articulation_of_each_phoneme(language: str, ipa: dict[str, list[str]]) -> None:
    text, _ = SENTENCES[language]
    speech = tts.synthesize(text, VoiceSettings(language=language))
    names = ipa[language]
    assert len(names) == len(speech.phonemes)
    timeline = from_speech(speech, fps=25)
    checked = {"closed": 0, "open": 0}
    for index, (event, name) in enumerate(zip(speech.phonemes, names, strict=True)):
        letters = _letters(name)
        if not letters:
            continue
        shape = viseme_for(event.phoneme)
        if letters[0] in _BILABIALS:
            assert shape == Viseme.MBP, (event.phoneme, name)
            checked["closed"] += 1
        elif letters[0] in _VOWELS:
            assert shape in {Viseme.AI, Viseme.E, Viseme.O, Viseme.U}, (event.phoneme, name)
            if set(letters) & _OPEN:
                assert shape == Viseme.AI, (event.phoneme, name)
            elif set(letters) <= _ROUNDED:
                assert shape in {Viseme.O, Viseme.U}, (event.phoneme, name)
            checked["open"] += 1
        else:
            continue
        end = speech.phonemes[index + 1].time if index + 1 < len(speech.phonemes) else speech.duration
        if end > event.time:  # the mouth holds that shape while the phoneme sounds
            middle = (event.time + end) / 2
            cue = next(c for c in timeline.cues if c.start <= middle < c.end)
            assert cue.viseme == shape, (event.phoneme, name, middle)
    assert checked["open"] >= 5
    assert checked["closed"] >= 1, checked


def test_lips_of_a_few_languages_printed_for_a_look(capsys: pytest.CaptureFixture[str]) -> None:
    for language in ("cmn", "ru", "fr"):
        speech = tts.synthesize(SENTENCES[language][0], VoiceSettings(language=language))
        print(language, " ".join(f"{e.phoneme}:{viseme_for(e.phoneme).value}" for e in speech.phonemes[:16]))
    shown = capsys.readouterr().out
    assert "'Au:ai" in shown and "m:mbp" in shown and "b:mbp O~:o" in shown


# -- mixed text and names ---------------------------------------------------------------------------


def test_a_mixed_message_is_spoken_piece_by_piece_in_each_language() -> None:
    text = "Hello everyone, welcome to the server! ¡Hola a todos, bienvenidos al servidor! 欢迎大家！"
    pieces = split(text, None, "en-gb")
    assert [p.language for p in pieces] == ["en-gb", "es", "cmn"]  # the persona's English accent is kept
    spoken = speak(text, replace(PERSONA, language="en-gb"), tts.synthesize)
    alone = [tts.synthesize(p.text, replace(PERSONA, language=p.language)) for p in pieces]
    assert spoken.duration == pytest.approx(sum(s.duration for s in alone), abs=0.02)
    times = [event.time for event in spoken.phonemes]
    assert times == sorted(times) and times[-1] <= spoken.duration
    assert [e.phoneme for e in spoken.phonemes] == [e.phoneme for s in alone for e in s.phonemes]
    spanish_start = spoken.phonemes[len(alone[0].phonemes)].time
    assert spanish_start == pytest.approx(spoken.duration - alone[1].duration - alone[2].duration, abs=0.02)


@pytest.mark.parametrize(("greeting", "given", "expected"), [
    ("Welcome to our server, 小明!", None, [("Welcome to our server,", "en-us"), ("小明!", "cmn")]),
    ("欢迎, 小明", "cmn", [("欢迎, 小明", "cmn")]),
    ("¡Bienvenido, Дмитрий!", "es", [("¡Bienvenido,", "es"), ("Дмитрий!", "ru")]),
    ("Welcome, محمد!", None, [("Welcome,", "en-us"), ("محمد!", "ar")]),
    ("Willkommen, さくら!", "de", [("Willkommen,", "de"), ("さくら!", "ja")]),
])
def test_a_name_in_another_script_is_said_in_its_own_language(greeting: str, given: str | None,
                                                                expected: list[tuple[str, str]]) -> None:
    assert [(p.text, p.language) for p in split(greeting, given, "en-us")] == expected


def test_the_given_language_wins_for_its_script_and_short_text_falls_back() -> None:
    assert split("Hello everyone, welcome to the server!", "es", "en-us") == [
        Piece("Hello everyone, welcome to the server!", "es")]
    assert split("hola", None, "en-us") == [Piece("hola", "en-us")]  # too short to tell
    assert split("hola", "es", "en-us") == [Piece("hola", "es")]


def test_japanese_kanji_are_read_as_kana() -> None:
    speech = tts.synthesize("東京", VoiceSettings(language="ja"))
    names = [event.phoneme for event in speech.phonemes]
    assert "(en)" not in names  # not spelled out as "Chinese letter" in English
    assert speech.duration < 1.5


# -- codes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "language"), [("zh", "cmn"), ("zh-CN", "cmn"), ("Cantonese", "yue"),
                                                ("Spanish", "es"), ("es_MX", "es-mx"), ("jp", "ja"), ("RU", "ru")])
def test_codes_and_names_people_use(code: str, language: str) -> None:
    assert canonical(code) == language


def test_an_unknown_language_lists_close_matches() -> None:
    with pytest.raises(InputError, match=r"'spansh'.*es \(Spanish"):
        canonical("spansh")
    with pytest.raises(InputError, match=r"cmn \(Mandarin\)"):
        canonical("klingonese-7")


def test_language_names_for_prompts() -> None:
    assert name_of("cmn") == "Chinese (Mandarin)"
    assert name_of("es") == "Spanish (Spain)"


def test_the_language_is_part_of_the_cache_key() -> None:
    from engine.cache import cache_key
    from engine.types import RenderRequest

    keys = {cache_key(RenderRequest(persona="friendly", text="Hola", lang=lang), "f" * 64, "2")
            for lang in (None, "es", "cmn")}
    assert len(keys) == 3


def test_the_compact_identifier_decides_as_the_full_model() -> None:
    """Dropping unspeakable columns and narrowing the automaton leaves every decision as it was."""
    import numpy as np
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    from engine import language_model, languages

    full = LanguageIdentifier.from_model_file(MODEL_DIR / MODEL_FILE, norm_probs=True)
    compact = languages._identifier()
    targets = np.frombuffer(full.tk_nextmove, dtype=f"u{full.tk_nextmove.itemsize}")
    sample = np.random.default_rng(0).integers(0, len(targets), 5000)
    assert [compact.tk_nextmove[int(i)] for i in sample] == targets[sample].tolist()
    speakable = set(compact.nb_classes)
    texts = ["Bonjour à tous et bienvenue sur le serveur. Nous jouons ce soir.", "Hello everyone, welcome!",
             "Guten Morgen zusammen, wie geht es euch heute?", "Hola a todos, bienvenidos al servidor.",
             "Ciao a tutti, benvenuti nel server stasera.", "Witajcie wszyscy, zapraszamy na serwer dziś.",
             "Привет всем, добро пожаловать на сервер!", "Goedemorgen allemaal, welkom op de server."]
    for text in texts:
        ranked = [(label, score) for label, score in full.rank(text) if label in speakable]
        total = sum(score for _, score in ranked)
        mine = compact.rank(text)
        assert mine[0][0] == ranked[0][0]
        assert mine[0][1] == pytest.approx(ranked[0][1] / total, rel=1e-3)
    with pytest.raises(ValueError, match="17-bit"):
        language_model._Transitions(np.array([1 << 17], dtype=np.uint32))
