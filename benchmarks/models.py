"""Neural-model figures, measured side by side in one run on this machine.

    .venv/bin/python benchmarks/models.py [--repeats 3] [--threads N] [--real-size] [--device auto|cpu|cuda]

Builds random-weight models in a temporary folder (tiny ones by default, the test fixtures';
``--real-size``: real architectures — whisper-base, a Qwen2.5-0.5B-shaped LM, MMS-TTS VITS,
SpeechT5 + HiFi-GAN, a WavLM-base-plus x-vector encoder — for a GPU machine), loads them through
the product's ``ModelHub`` and prints, per stage, the median wall time after one warm-up:
model loading, Whisper features (torch.stft vs the feature extractor's numpy), ASR of a 5 s
clip, an LM reply, VITS and SpeechT5 speech (with the real-time factor: seconds of compute per
second of audio), a speaker embedding, and the whole text → MP4 render with each voice next
to espeak-ng's. Random weights speak noise, so durations follow the models' length bounds;
the figures measure the pipeline's own cost, not speech quality.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TEXT = "Hello everyone, welcome to the stream. Tonight we have a packed schedule."
MESSAGES = (
    ("system", "You are Sakura, a cheerful anime persona. Keep replies short. Ada likes jazz and cats."),
    ("user", "Hi Sakura! How was your day?"),
    ("assistant", "Wonderful, thank you! I painted cherry blossoms all afternoon."),
    ("user", "Nice! Any music recommendations for me?"),
)

#: Real configurations (sizes only; token ids stay those of the test tokenizers).
REAL_WHISPER = {"d_model": 512, "encoder_layers": 6, "decoder_layers": 6, "encoder_attention_heads": 8,
                "decoder_attention_heads": 8, "encoder_ffn_dim": 2048, "decoder_ffn_dim": 2048,
                "vocab_size": 51865, "max_target_positions": 448}
REAL_LM = {"vocab_size": 151936, "hidden_size": 896, "intermediate_size": 4864, "num_hidden_layers": 24,
           "num_attention_heads": 14, "num_key_value_heads": 2, "max_position_embeddings": 32768,
           "tie_word_embeddings": True}


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median seconds of ``repeats`` calls after one warm-up call, and the last result."""
    result = fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def build_models(folder: Path, real_size: bool) -> Any:
    from tests.fakes.models import build_all

    models = build_all(folder)
    if real_size:
        enlarge(models)
    return models


def enlarge(models: Any) -> None:
    """Replace each tiny model's weights by a random one of the real architecture, keeping its tokenizer."""
    import torch
    from transformers import (
        AutoConfig,
        GenerationConfig,
        Qwen2Config,
        Qwen2ForCausalLM,
        SpeechT5Config,
        SpeechT5ForTextToSpeech,
        SpeechT5HifiGan,
        SpeechT5HifiGanConfig,
        VitsConfig,
        VitsModel,
        WavLMConfig,
        WavLMForXVector,
        WhisperForConditionalGeneration,
    )

    def save(folder: Path, model: torch.nn.Module, keep_generation: bool = True) -> None:
        if keep_generation and (folder / "generation_config.json").is_file():
            model.generation_config = GenerationConfig.from_pretrained(folder)
        for old in folder.glob("*.safetensors"):
            old.unlink()
        model.save_pretrained(folder)

    tiny = AutoConfig.from_pretrained(models.whisper)
    save(models.whisper, WhisperForConditionalGeneration(type(tiny)(**{**tiny.to_dict(), **REAL_WHISPER})))
    tiny = AutoConfig.from_pretrained(models.lm)
    ids = {key: getattr(tiny, key) for key in ("bos_token_id", "eos_token_id", "pad_token_id")}
    save(models.lm, Qwen2ForCausalLM(Qwen2Config(**REAL_LM, **ids)))
    tiny = AutoConfig.from_pretrained(models.vits)
    save(models.vits, VitsModel(VitsConfig(vocab_size=tiny.vocab_size)))
    tiny = AutoConfig.from_pretrained(models.speecht5.model)
    speecht5 = SpeechT5ForTextToSpeech(SpeechT5Config(vocab_size=tiny.vocab_size))
    speecht5.speech_decoder_postnet.prob_out.bias.data.fill_(-20.0)  # random: speak to the length bound
    save(models.speecht5.model, speecht5)
    save(models.speecht5.vocoder, SpeechT5HifiGan(SpeechT5HifiGanConfig()), keep_generation=False)
    save(models.speecht5.speaker_encoder, WavLMForXVector(WavLMConfig(xvector_output_dim=512)), keep_generation=False)


def persona_folder(root: Path, name: str, backend: str) -> None:
    from personas.registry import BUILTIN_DIR

    shutil.copytree(BUILTIN_DIR / "friendly" / "sprite", root / name / "sprite")
    (root / name / "persona.toml").write_text(
        f'name = "{name}"\ndisplay_name = "{name}"\nstyle = "{name}"\n\n[voice]\nbackend = "{backend}"\n',
        encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--real-size", action="store_true", help="real architectures (for a GPU machine)")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    import numpy as np
    import torch
    from transformers import WhisperFeatureExtractor

    from engine.audio import write_wav
    from engine.backends import Backends
    from engine.engine import CancelToken
    from engine.models import ASR, LLM, SPEAKER_ENCODER, SPEECHT5, VITS, ChatMessage, ModelHub
    from engine.models.asr_features import CHUNK_SAMPLES, log_mel
    from engine.pipeline import Pipeline
    from engine.settings import EngineSettings
    from engine.types import RenderRequest, VoiceSettings
    from personas.registry import PersonaRegistry
    from tests.fakes.models import models_config
    from tests.media import speech_clip

    if args.threads:
        torch.set_num_threads(args.threads)
    size = "real-size" if args.real_size else "tiny"
    rows: list[tuple[str, str]] = []

    def report(stage: str, text: str) -> None:
        rows.append((stage, text))
        print(f"{stage:<34} {text}", flush=True)

    with tempfile.TemporaryDirectory(prefix="mouthpiece-models-") as scratch:
        root = Path(scratch)
        started = time.perf_counter()
        models = build_models(root / "models", args.real_size)
        hub = ModelHub(models_config(models, device=args.device))
        print(f"{size} random models built in {time.perf_counter() - started:.1f} s; torch threads "
              f"{torch.get_num_threads()}; device {args.device}"
              f"{' (' + torch.cuda.get_device_name() + ')' if torch.cuda.is_available() else ''}\n")

        for name, kind in (("asr", ASR), ("llm", LLM), ("vits", VITS), ("speecht5 + hifigan", SPEECHT5),
                           ("speaker_encoder", SPEAKER_ENCODER)):
            started = time.perf_counter()
            loaded = hub.get(kind)
            model = getattr(loaded, "model", None)
            params = sum(p.numel() for p in model.parameters()) / 1e6 if model is not None else 0
            report(f"load {name}", f"{time.perf_counter() - started:6.2f} s  ({params:.1f} M parameters)")

        clip10 = speech_clip(root / "ten.wav", "Hello there, this is a longer clip for the features.",
                             "It goes on for a while, so that there is something to compute.", pause=1.0)
        from engine.audio import decode_audio

        samples = decode_audio(clip10, max_bytes=10**8, max_seconds=60).samples
        extractor = WhisperFeatureExtractor(feature_size=80)
        padded = np.zeros((1, CHUNK_SAMPLES), np.float32)
        padded[0, : len(samples)] = samples[:CHUNK_SAMPLES]
        ours, _ = timed(lambda: log_mel([samples], extractor.mel_filters), args.repeats)
        numpy_path, _ = timed(lambda: extractor._np_extract_fbank_features(padded, "cpu"), args.repeats)
        report("whisper features (30 s window)", f"torch.stft {ours * 1000:6.1f} ms vs extractor numpy "
               f"{numpy_path * 1000:6.1f} ms ({numpy_path / ours:.1f}× faster)")

        clip5 = speech_clip(root / "five.wav", "Hello there, how are you today?", "I am fine.", pause=0.5)
        recognizer = hub.get(ASR)
        seconds, _ = timed(lambda: recognizer.transcribe(clip5), args.repeats)  # type: ignore[union-attr]
        report("asr: 5 s clip", f"{seconds:6.3f} s")

        replier = hub.get(LLM)
        messages = [ChatMessage(role, content) for role, content in MESSAGES]
        seconds, _ = timed(lambda: replier.reply(messages, max_new_tokens=32, timeout=60), args.repeats)  # type: ignore[union-attr]
        report("reply: ≤ 32 new tokens", f"{seconds:6.3f} s")

        voice = VoiceSettings()
        for name, model in (("vits", hub.get(VITS)), ("speecht5", hub.get(SPEECHT5))):
            seconds, speech = timed(lambda model=model: model.synthesize(TEXT, voice), args.repeats)  # type: ignore[union-attr]
            report(f"tts {name}: {len(TEXT)} chars", f"{seconds:6.3f} s for {speech.duration:5.1f} s of audio "
                   f"(RTF {seconds / speech.duration:.3f})")
        sample = speech_clip(root / "sample.wav", "This is how I sound when I talk.", "Nice to meet you.", pause=0.5)
        encoder = hub.get(SPEAKER_ENCODER)

        def fresh_embedding() -> Any:
            encoder._cache.clear()  # type: ignore[union-attr]
            return encoder.embed(sample)  # type: ignore[union-attr]

        seconds, _ = timed(fresh_embedding, args.repeats)
        report("speaker embedding (uncached)", f"{seconds:6.3f} s")
        write_wav(root / "unused.wav", samples[:16000])

        personas = root / "personas"
        for backend in ("espeak", "vits", "speecht5"):
            persona_folder(personas, f"p-{backend}", backend)
        backends = Backends.with_defaults()
        hub.register_backends(backends)
        pipeline = Pipeline(EngineSettings(), PersonaRegistry(user_dirs=[personas]), backends)
        renders: dict[str, tuple[float, float]] = {}
        for backend in ("espeak", "vits", "speecht5"):
            request = RenderRequest(persona=f"p-{backend}", text=TEXT)
            out = root / f"{backend}.mp4"
            seconds, result = timed(lambda request=request, out=out: pipeline(request, out, lambda *_: None,
                                                                               CancelToken()), args.repeats)
            renders[backend] = (seconds, result.duration)
        espeak_rate = renders["espeak"][0] / renders["espeak"][1]
        for backend, (seconds, duration) in renders.items():
            rate = seconds / duration
            report(f"text → MP4 512², {backend}", f"{seconds:6.2f} s for {duration:5.1f} s of video "
                   f"({rate:.3f} s per video second, {rate / espeak_rate:.2f}× espeak's)")


if __name__ == "__main__":
    main()
