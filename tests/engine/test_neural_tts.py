"""Neural voices (VITS, SpeechT5 + HiFi-GAN, cloning by speaker embedding) from tiny random models,
through the hub's backends and the render pipeline: no phoneme events, so the mouth follows the audio."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from engine.audio import write_wav
from engine.backends import Backends
from engine.engine import CancelToken
from engine.errors import AudioInputError, ModelError, ModelNotConfiguredError
from engine.models import SPEAKER_ENCODER, SPEECHT5, VITS, ModelHub
from engine.models.voices import SpeechT5Voice, VitsVoice, pieces
from engine.pipeline import Pipeline
from engine.settings import EngineSettings, ModelSettings
from engine.sprite import SpriteRenderer
from engine.types import SAMPLE_RATE, RenderRequest, Viseme, VoiceSettings
from personas.model import load_persona
from personas.registry import BUILTIN_DIR, PersonaRegistry
from tests.fakes.models import TinyModels, build_vits, models_config
from tests.media import assert_valid_mp4, decode_frames, speech_clip

SIZE, FPS = 128, 25
VOICE = VoiceSettings()


@pytest.fixture(scope="module")
def hub(tiny_models: TinyModels) -> ModelHub:
    return ModelHub(models_config(tiny_models))


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sample")
    return speech_clip(folder / "voice.wav", "This is how I sound when I talk.", "Nice to meet you.", pause=0.5)


def make_persona(root: Path, name: str, voice: str) -> Path:
    """A persona folder with the friendly persona's sprites and the given [voice] table."""
    folder = root / name
    shutil.copytree(BUILTIN_DIR / "friendly" / "sprite", folder / "sprite")
    (folder / "persona.toml").write_text(
        f'name = "{name}"\ndisplay_name = "{name.title()}"\nstyle = "{name}"\n\n[voice]\n{voice}\n', encoding="utf-8")
    return folder


def pipeline_for(settings: ModelSettings, persona_root: Path, hub: ModelHub | None = None) -> Pipeline:
    backends = Backends.with_defaults()
    (hub or ModelHub(settings)).register_backends(backends)
    return Pipeline(EngineSettings(), PersonaRegistry(user_dirs=[persona_root]), backends)


def test_pieces_cut_at_sentences_within_the_limit() -> None:
    assert pieces("One two. Three four! Five", limit=12) == ["One two.", "Three four!", "Five"]
    assert pieces("One. Two.", limit=100) == ["One. Two."]
    assert all(len(p) <= 10 for p in pieces("a" * 25 + " bb cc", limit=10))


def test_vits_speaks_16k_audio_without_phoneme_events(hub: ModelHub) -> None:
    voice = hub.get(VITS)
    assert isinstance(voice, VitsVoice) and hub.get(VITS) is voice
    speech = voice.synthesize("Hello there, how are you today?", VOICE)
    assert speech.sample_rate == SAMPLE_RATE and speech.samples.dtype == np.float32 and speech.samples.ndim == 1
    assert speech.phonemes == [] and speech.words == []
    assert 0.2 < speech.duration < 20 and np.abs(speech.samples).max() <= 1.0
    again = voice.synthesize("Hello there, how are you today?", VOICE)
    assert np.array_equal(again.samples, speech.samples)  # same request, same sound (and cache entry)


def test_vits_rate_sets_the_speed(hub: ModelHub) -> None:
    voice = hub.get(VITS)
    assert voice is not None
    slow = voice.synthesize("Hello there, how are you?", dataclasses.replace(VOICE, rate=85))
    fast = voice.synthesize("Hello there, how are you?", dataclasses.replace(VOICE, rate=340))
    assert fast.duration < slow.duration


def test_vits_at_another_sampling_rate_is_resampled_to_16k(tmp_path: Path) -> None:
    voice = VitsVoice(build_vits(tmp_path / "vits-22k", sampling_rate=22_050), "cpu")
    speech = voice.synthesize("Hello there.", VOICE)
    assert speech.sample_rate == SAMPLE_RATE
    raw = voice.model(**voice.tokenizer("Hello there.", return_tensors="pt")).waveform  # noise differs; length too
    assert abs(speech.duration - raw.shape[-1] / 22_050) < 0.5


def test_text_the_voice_cannot_read_is_a_text_error(hub: ModelHub) -> None:
    from engine.errors import TextInputError

    with pytest.raises(TextInputError, match="can't read"):
        hub.get(VITS).synthesize("日本語", VOICE)  # type: ignore[union-attr]


def test_speecht5_speaks_longer_for_longer_text_and_deterministically(hub: ModelHub) -> None:
    voice = hub.get(SPEECHT5)
    assert isinstance(voice, SpeechT5Voice)
    short, longer = (voice.synthesize(text, VOICE) for text in ("Hi there.", "Hi there, how are you?"))
    assert short.sample_rate == SAMPLE_RATE and short.phonemes == []
    assert 0 < short.duration < longer.duration
    assert np.array_equal(voice.synthesize("Hi there.", VOICE).samples, short.samples)
    assert float(np.sqrt(np.mean(short.samples**2))) > 0.01  # audible


def test_a_voice_sample_changes_the_voice(hub: ModelHub, sample: Path) -> None:
    voice = hub.get(SPEECHT5)
    assert voice is not None
    plain = voice.synthesize("Hi there.", VOICE)
    cloned = voice.synthesize("Hi there.", dataclasses.replace(VOICE, sample=sample))
    assert cloned.duration == pytest.approx(plain.duration)
    assert not np.allclose(cloned.samples, plain.samples)


def test_speaker_embeddings_are_unit_length_and_computed_once_per_sample(
        hub: ModelHub, sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    encoder = hub.get(SPEAKER_ENCODER)
    assert encoder is not None
    first = encoder.embed(sample)
    assert first.shape == (512,) and first.dtype == np.float32
    assert np.linalg.norm(first) == pytest.approx(1.0, abs=1e-5)
    monkeypatch.setattr(encoder, "model", None)  # a second encoding would fail: the cache answers
    assert np.array_equal(encoder.embed(sample), first)


@pytest.mark.parametrize("seconds", [2.0, 12.0])
def test_samples_outside_3_to_10_seconds_are_refused(hub: ModelHub, tmp_path: Path, seconds: float) -> None:
    rng = np.random.default_rng(0)
    clip = write_wav(tmp_path / "clip.wav", (0.2 * rng.standard_normal(int(seconds * SAMPLE_RATE))).astype(np.float32))
    with pytest.raises(AudioInputError, match=f"3–10 seconds of speech; this one is {seconds:.1f} s"):
        hub.get(SPEAKER_ENCODER).embed(clip)  # type: ignore[union-attr]


def test_cloning_without_a_speaker_encoder_says_what_to_configure(tiny_models: TinyModels, sample: Path) -> None:
    voice = ModelHub(models_config(tiny_models, speaker_encoder=False)).get(SPEECHT5)
    assert voice is not None
    with pytest.raises(ModelNotConfiguredError, match=r"\[models\] speaker_encoder"):
        voice.synthesize("Hi.", dataclasses.replace(VOICE, sample=sample))


def test_a_persona_whose_voice_is_not_configured_gets_a_clear_error(tmp_path: Path) -> None:
    make_persona(tmp_path, "robo", 'backend = "vits"')
    make_persona(tmp_path, "tina", 'backend = "speecht5"')
    pipeline = pipeline_for(ModelSettings(), tmp_path)
    with pytest.raises(ModelNotConfiguredError, match=r"\[models\] vits in config.toml"):
        pipeline.plan(RenderRequest(persona="robo", text="Hello"))
    with pytest.raises(ModelNotConfiguredError, match=r"\[models\] speecht5 and hifigan"):
        pipeline.plan(RenderRequest(persona="tina", text="Hello"))


def test_a_wrong_model_folder_is_a_model_error(tiny_models: TinyModels) -> None:
    with pytest.raises(ModelError, match=r"\[models\] vits = .*'whisper' model"):
        ModelHub(ModelSettings(vits=tiny_models.whisper, device="cpu")).get(VITS)


def test_a_vits_render_is_a_valid_mp4_whose_mouth_follows_the_audio(hub: ModelHub, tiny_models: TinyModels,
                                                                    tmp_path: Path) -> None:
    make_persona(tmp_path, "robo", 'backend = "vits"')
    pipeline = pipeline_for(hub.settings, tmp_path, hub)
    voice = hub.get(VITS)
    assert voice is not None
    voice.piece_chars = 12  # two pieces, with a pause between them, in a short test
    try:
        request = RenderRequest(persona="robo", text="Hello there. How are you?", width=SIZE, height=SIZE, fps=FPS)
        plan = pipeline.plan(request)
        out = tmp_path / "vits.mp4"
        result = pipeline(request, out, lambda *_: None, CancelToken())
    finally:
        voice.piece_chars = 300
    assert result.timeline_source == plan.timeline.source == "audio"
    assert_valid_mp4(out, width=SIZE, height=SIZE, fps=FPS, duration=plan.speech.duration)
    frames = decode_frames(out)
    persona = pipeline.personas.get("robo")
    reference = SpriteRenderer(persona.sprite_dir, SIZE, SIZE, persona.background)
    closed = [c for c in plan.timeline.cues if c.viseme == Viseme.REST and c.end - c.start >= 3 / FPS]
    opened = [c for c in plan.timeline.cues if c.viseme != Viseme.REST and c.end - c.start >= 3 / FPS]
    assert closed and opened, plan.timeline.cues  # the pause between the pieces, and speech
    for cue, other in ((closed[0], Viseme.AI), (opened[0], Viseme.REST)):
        index = int((cue.start + cue.end) / 2 * FPS)
        motion = plan.track[index]
        wanted = reference.render(dataclasses.replace(motion, mouth=cue.viseme, mouth_next=cue.viseme)).astype(int)
        unwanted = reference.render(dataclasses.replace(motion, mouth=other, mouth_next=other)).astype(int)
        mouth = np.abs(wanted - unwanted).sum(axis=2) > 30
        frame = frames[index].astype(int)
        assert np.abs(frame - wanted)[mouth].mean() < np.abs(frame - unwanted)[mouth].mean(), cue


def test_a_cloned_voice_render_and_its_cache_key(hub: ModelHub, sample: Path, tmp_path: Path) -> None:
    make_persona(tmp_path, "robo", 'backend = "vits"')
    pipeline = pipeline_for(hub.settings, tmp_path, hub)
    request = RenderRequest(persona="robo", text="Hi there.", width=SIZE, height=SIZE, fps=FPS, voice_sample=sample)
    out = tmp_path / "cloned.mp4"
    result = pipeline(request, out, lambda *_: None, CancelToken())
    assert result.timeline_source == "audio"
    assert_valid_mp4(out, width=SIZE, height=SIZE, fps=FPS, duration=result.duration)

    key = pipeline.cache_key(request)
    plain = dataclasses.replace(request, voice_sample=None)
    assert pipeline.cache_key(plain) != key
    other_sample = Path(shutil.copy(sample, tmp_path / "other.wav"))
    assert pipeline.cache_key(dataclasses.replace(request, voice_sample=other_sample)) == key  # same bytes
    with other_sample.open("ab") as grown:
        grown.write(b"\0\0")
    assert pipeline.cache_key(dataclasses.replace(request, voice_sample=other_sample)) != key


def test_replacing_a_voice_model_changes_the_cache_key(tiny_models: TinyModels, tmp_path: Path) -> None:
    vits = Path(shutil.copytree(tiny_models.vits, tmp_path / "vits"))
    make_persona(tmp_path / "personas", "robo", 'backend = "vits"')
    pipeline = pipeline_for(ModelSettings(vits=vits, device="cpu"), tmp_path / "personas")
    request = RenderRequest(persona="robo", text="Hello")
    key = pipeline.cache_key(request)
    assert pipeline.cache_key(request) == key
    weights = vits / "model.safetensors"
    os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns + 10**9))
    assert pipeline.cache_key(request) != key
    assert pipeline.cache_key(RenderRequest(persona="friendly", text="Hello")) == \
        pipeline.cache_key(RenderRequest(persona="friendly", text="Hello"))


def test_a_persona_voice_sample_is_validated_and_part_of_its_fingerprint(sample: Path, tmp_path: Path) -> None:
    plain = load_persona(make_persona(tmp_path, "plain", 'backend = "speecht5"'))
    folder = make_persona(tmp_path, "cloned", 'backend = "speecht5"\nsample = "voice.wav"')
    shutil.copy(sample, folder / "voice.wav")
    cloned = load_persona(folder)
    assert cloned.voice_settings().sample == folder.resolve() / "voice.wav"
    assert plain.voice_settings().sample is None
    before = cloned.fingerprint
    write_wav(folder / "voice.wav", np.concatenate([np.zeros(SAMPLE_RATE // 2, np.float32),
                                                     np.random.default_rng(0).uniform(-0.3, 0.3, 4 * SAMPLE_RATE)
                                                     .astype(np.float32)]))
    assert load_persona(folder).fingerprint != before

    for line, message in (('sample = "../voice.wav"', "inside the persona folder"),
                          ('sample = "missing.wav"', "not a file inside the persona folder"),
                          ('sample = "short.wav"', "3–10 seconds")):
        folder = tmp_path / line.split('"')[1].replace("/", "_").replace(".", "_")
        bad = make_persona(folder, "bad", f'backend = "speecht5"\n{line}')
        write_wav(bad / "short.wav", np.random.default_rng(0).uniform(-0.3, 0.3, SAMPLE_RATE).astype(np.float32))
        with pytest.raises(ValueError, match=message):
            load_persona(bad)


def test_each_language_can_have_its_own_vits_folder(tiny_models: TinyModels, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    spanish = build_vits(tmp_path / "vits-spa", sampling_rate=22_050)
    settings = ModelSettings(vits=tiny_models.vits, vits_languages={"es": spanish, "zh": tiny_models.vits},
                             device="cpu")
    hub = ModelHub(settings)
    assert hub.get(VITS, "es").model_dir == spanish and hub.get(VITS, "es-419") is hub.get(VITS, "es")
    assert hub.get(VITS, "en-us").model_dir == tiny_models.vits  # a language not listed: the default folder
    assert VITS.folders(settings, "cmn") == (tiny_models.vits,)  # "zh" is Mandarin, as espeak-ng names it
    spoken: list[Path] = []
    synthesize = VitsVoice.synthesize

    def recording(voice: VitsVoice, text: str, settings: VoiceSettings):  # type: ignore[no-untyped-def]
        spoken.append(voice.model_dir)
        return synthesize(voice, text, settings)

    monkeypatch.setattr(VitsVoice, "synthesize", recording)
    make_persona(tmp_path / "personas", "robo", 'backend = "vits"')
    pipeline = pipeline_for(settings, tmp_path / "personas", hub)
    text = "Hello everyone, welcome to the server! ¡Hola a todos, bienvenidos al servidor!"
    speech = pipeline._speech(RenderRequest(persona="robo", text=text), pipeline.personas.get("robo"))
    assert spoken == [tiny_models.vits, spanish] and speech.phonemes == []  # the mouth follows the audio
    key = pipeline.cache_key(RenderRequest(persona="robo", text="Hola"))
    weights = spanish / "model.safetensors"
    os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns + 10**9))
    assert pipeline.cache_key(RenderRequest(persona="robo", text="Hola")) != key
