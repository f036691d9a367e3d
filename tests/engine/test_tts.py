from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from engine.errors import TextInputError
from engine.timeline import from_speech
from engine.tts import available_voices, synthesize
from engine.types import SAMPLE_RATE, Speech, Viseme, VoiceSettings

VOICE = VoiceSettings()


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples))))


def test_waveform_is_16k_mono_float_with_sound():
    speech = synthesize("Hello there, how are you today?", VOICE)

    assert speech.sample_rate == SAMPLE_RATE
    assert speech.samples.dtype == np.float32 and speech.samples.ndim == 1
    assert 1.0 < speech.duration < 4.0
    assert rms(speech.samples) > 0.05 and np.max(np.abs(speech.samples)) <= 1.0


def test_mama_closes_the_lips():
    speech = synthesize("mama", VOICE)

    phonemes = [event.phoneme for event in speech.phonemes]
    assert phonemes.count("m") == 2
    visemes = {cue.viseme for cue in from_speech(speech, 25).cues}
    assert Viseme.MBP in visemes and Viseme.AI in visemes


def test_phoneme_times_increase_within_the_duration():
    speech = synthesize("The quick brown fox jumps over the lazy dog. Then it sleeps.", VOICE)

    times = [event.time for event in speech.phonemes]
    assert len(times) > 30
    assert times == sorted(times)
    assert 0.0 <= times[0] < 0.1
    assert times[-1] <= speech.duration
    assert speech.phonemes[-1].phoneme.startswith("_")  # ends on a pause: the mouth closes


def test_phoneme_times_match_the_audio():
    """The pause between two sentences is quiet in the waveform exactly where the events put it."""
    speech = synthesize("Yes. No.", VOICE)
    pause = next(event for event in speech.phonemes if event.phoneme == "_:")
    after = next(event for event in speech.phonemes if event.time > pause.time and not event.phoneme.startswith("_"))
    start, end = (int(t * SAMPLE_RATE) for t in (pause.time, after.time))

    assert after.time - pause.time > 0.1
    assert rms(speech.samples[start + 800 : end - 400]) < 0.1 * rms(speech.samples)


def test_word_events_match_the_words():
    text = "Hello mama, Dr. Smith's e-mail has 123 apples!"
    speech = synthesize(text, VOICE)

    assert [word.text for word in speech.words] == ["Hello", "mama", "Dr", "Smith's", "e-mail", "has", "123", "apples"]
    times = [word.time for word in speech.words]
    assert times == sorted(times) and times[-1] < speech.duration


def test_word_positions_count_characters_not_bytes():
    speech = synthesize("Café señor, thé glacé.", VoiceSettings(language="fr"))

    assert [word.text for word in speech.words] == ["Café", "señor", "thé", "glacé"]


def test_words_of_scripts_without_spaces_follow_espeak():
    speech = synthesize("你好世界，我是机器人。", VoiceSettings(language="cmn"))

    words = [word.text for word in speech.words]
    assert len(words) > 3
    assert "".join(words) == "你好世界我是机器人"


def test_voice_settings_change_the_speech():
    text = "Speaking at different speeds and pitches."
    slow = synthesize(text, VoiceSettings(rate=100))
    fast = synthesize(text, VoiceSettings(rate=300))
    low = synthesize(text, VoiceSettings(pitch=10))
    high = synthesize(text, VoiceSettings(pitch=90))

    assert slow.duration > 2 * fast.duration
    assert _mean_pitch(high) > 1.3 * _mean_pitch(low)


def _mean_pitch(speech: Speech) -> float:
    """Median fundamental frequency (Hz) of the loud 40 ms frames, by autocorrelation."""
    size = 640
    frames = speech.samples[: len(speech.samples) // size * size].reshape(-1, size)
    loud = frames[np.sqrt(np.mean(frames**2, axis=1)) > 0.5 * rms(speech.samples)]
    lags = np.arange(SAMPLE_RATE // 400, SAMPLE_RATE // 60)  # 60–400 Hz
    pitches = []
    for frame in loud:
        correlation = np.correlate(frame, frame, mode="full")[size - 1 :]
        pitches.append(SAMPLE_RATE / lags[np.argmax(correlation[lags])])
    return float(np.median(pitches))


def test_other_languages():
    speech = synthesize("Привет, как дела?", VoiceSettings(language="ru"))

    assert speech.duration > 0.5
    assert [word.text for word in speech.words] == ["Привет", "как", "дела"]


def test_languages_are_found_by_their_code():
    """espeak finds voices by file name; "en-gb" is a language of the voice file "gmw/en"."""
    british = synthesize("Tomato", VoiceSettings(language="en-gb", variant="m1"))
    american = synthesize("Tomato", VoiceSettings(language="en-us", variant="m1"))

    assert [event.phoneme for event in british.phonemes] != [event.phoneme for event in american.phonemes]
    assert synthesize("Tomato", VoiceSettings(language="EN-GB")).duration > 0.3


def test_every_listed_language_can_speak():
    for language in available_voices():
        assert synthesize("1", VoiceSettings(language=language)).duration > 0.1, language


def test_unknown_voice_is_refused():
    with pytest.raises(ValueError, match=r"espeak-ng has no voice 'xx-nowhere'"):
        synthesize("Hello", VoiceSettings(language="xx-nowhere"))


def test_blank_text_is_refused():
    with pytest.raises(TextInputError, match="nothing to say"):
        synthesize("   ", VOICE)


def test_threads_synthesising_at_once_both_succeed():
    jobs = [("One two three four five.", VoiceSettings(variant="f3")), ("Mama made more muffins.", VOICE)] * 3
    alone = [synthesize(text, voice) for text, voice in jobs[:2]]

    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda job: synthesize(*job), jobs))

    for index, speech in enumerate(together):
        expected = alone[index % 2]
        assert [word.text for word in speech.words] == [word.text for word in expected.words]
        assert speech.duration == pytest.approx(expected.duration, abs=0.05)
        assert speech.phonemes[0].time < 0.1  # each call's events start from its own zero


def test_available_voices():
    voices = available_voices()

    assert {"en-us", "fr-fr", "de", "ru"} <= set(voices)
    assert voices == sorted(voices)
