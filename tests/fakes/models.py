"""Tiny, randomly initialised neural models saved as local folders, for tests and benchmarks.

Each builder writes a folder exactly as ``save_pretrained`` on a connected machine would
(config, weights, tokenizer/processor files), so the product loads it through its real
code path with ``local_files_only=True``. Random weights speak noise and write gibberish:
assert on types, shapes, durations, determinism, timeouts and errors, never on words.

Fixtures (session-scoped: each model is built once per test run, in about a second)::

    def test_something(tiny_models):          # every model: a TinyModels of folder paths
        settings = models_config(tiny_models)  # a ModelSettings with all of them configured
        hub = ModelHub(settings)

    tiny_whisper, tiny_lm, tiny_vits, tiny_speecht5   # one model family each (Path / SpeechT5Folders)

``models_config(tiny_models, asr=False, ...)`` leaves out the models named False. Outside
pytest, ``build_all(folder)`` builds them all (the benchmark uses it).
"""

from __future__ import annotations

import json
import shutil
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from engine.settings import ModelSettings

#: Whisper's special tokens that its ``generate`` and decoding look for.
WHISPER_SPECIALS = (
    "<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|translate|>", "<|transcribe|>",
    "<|startoflm|>", "<|startofprev|>", "<|nocaptions|>", "<|notimestamps|>",
)
#: ChatML, the chat template of many instruct LMs.
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
LM_SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
_SENTENCES = (
    "Hello there, how are you today?", "The quick brown fox jumps over the lazy dog.",
    "Welcome to the server, have a lovely day!", "Pack my box with five dozen liquor jugs.",
    "Sphinx of black quartz, judge my vow.", "Numbers like 1 2 3 4 5 6 7 8 9 0 are read aloud.",
)


@dataclass(frozen=True)
class SpeechT5Folders:
    model: Path
    vocoder: Path
    speaker_encoder: Path


@dataclass(frozen=True)
class TinyModels:
    whisper: Path
    lm: Path
    vits: Path
    speecht5: SpeechT5Folders


def models_config(models: TinyModels, *, asr: bool = True, llm: bool = True, vits: bool = True,
                  speecht5: bool = True, speaker_encoder: bool = True, device: str = "cpu") -> ModelSettings:
    """A ``[models]`` table pointing at the tiny models; a family passed as False stays unset."""
    return ModelSettings(
        asr=models.whisper if asr else None,
        llm=models.lm if llm else None,
        vits=models.vits if vits else None,
        speecht5=models.speecht5.model if speecht5 else None,
        hifigan=models.speecht5.vocoder if speecht5 else None,
        speaker_encoder=models.speecht5.speaker_encoder if speaker_encoder else None,
        device=device,
    )


# -- builders ---------------------------------------------------------------------------------


def build_whisper(folder: Path) -> Path:
    """WhisperForConditionalGeneration (d_model 32, one layer each side) + WhisperProcessor."""
    import torch
    from transformers import (
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizer,
    )

    vocab, merges = _byte_level_vocab()
    ids = {token: len(vocab) + i for i, token in enumerate(WHISPER_SPECIALS)}
    tokenizer = WhisperTokenizer(vocab={**vocab, **ids}, merges=merges, extra_special_tokens=list(WHISPER_SPECIALS[1:]))
    processor = WhisperProcessor(WhisperFeatureExtractor(feature_size=80), tokenizer)
    eot, sot = ids["<|endoftext|>"], ids["<|startoftranscript|>"]
    config = WhisperConfig(
        vocab_size=len(vocab) + len(ids), num_mel_bins=80, d_model=32, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
        max_source_positions=1500, max_target_positions=128, pad_token_id=eot, bos_token_id=eot,
        eos_token_id=eot, decoder_start_token_id=sot, suppress_tokens=[], begin_suppress_tokens=[eot],
    )
    torch.manual_seed(0)
    model = WhisperForConditionalGeneration(config).eval()
    generation = model.generation_config
    generation.decoder_start_token_id = sot
    generation.eos_token_id = eot
    generation.pad_token_id = eot
    generation.no_timestamps_token_id = ids["<|notimestamps|>"]
    generation.lang_to_id = {"<|en|>": ids["<|en|>"]}
    generation.task_to_id = {"transcribe": ids["<|transcribe|>"], "translate": ids["<|translate|>"]}
    generation.is_multilingual = True
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def build_lm(folder: Path) -> Path:
    """A GPT-2-style causal LM (2 layers, width 32) with a ChatML chat template."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2Tokenizer

    vocab, merges = _byte_level_vocab()
    ids = {token: len(vocab) + i for i, token in enumerate(LM_SPECIALS)}
    tokenizer = GPT2Tokenizer(vocab={**vocab, **ids}, merges=merges, unk_token="<|endoftext|>",
                              bos_token="<|endoftext|>", eos_token="<|im_end|>", pad_token="<|endoftext|>",
                              extra_special_tokens=["<|im_start|>"])
    tokenizer.chat_template = CHAT_TEMPLATE
    config = GPT2Config(vocab_size=len(vocab) + len(ids), n_positions=512, n_embd=32, n_layer=2, n_head=2,
                        initializer_range=0.5,  # varied output: the default near-uniform logits repeat one token
                        bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"],
                        pad_token_id=ids["<|endoftext|>"])
    torch.manual_seed(0)
    model = GPT2LMHeadModel(config).eval()
    model.generation_config.eos_token_id = [ids["<|im_end|>"], ids["<|endoftext|>"]]
    model.generation_config.pad_token_id = ids["<|endoftext|>"]
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def build_vits(folder: Path, sampling_rate: int = 16_000) -> Path:
    """An MMS-TTS-style VitsModel (hidden size 16, one layer per stack) + a character VitsTokenizer."""
    import torch
    from transformers import VitsConfig, VitsModel, VitsTokenizer

    symbols = ["<pad>", "<unk>", " ", *"abcdefghijklmnopqrstuvwxyz'.,!?-"]
    source = folder / "source"
    source.mkdir(parents=True, exist_ok=True)
    vocab_file = source / "vocab.json"
    vocab_file.write_text(json.dumps({s: i for i, s in enumerate(symbols)}), encoding="utf-8")
    tokenizer = VitsTokenizer(str(vocab_file), language="eng", add_blank=True, normalize=True, phonemize=False)
    config = VitsConfig(
        vocab_size=len(symbols), hidden_size=16, num_hidden_layers=1, num_attention_heads=2, window_size=2,
        ffn_dim=32, flow_size=16, spectrogram_bins=33, upsample_initial_channel=16,
        upsample_rates=[8, 8, 4], upsample_kernel_sizes=[16, 16, 8], resblock_kernel_sizes=[3],
        resblock_dilation_sizes=[[1, 3]], prior_encoder_num_flows=1, prior_encoder_num_wavenet_layers=1,
        posterior_encoder_num_wavenet_layers=1, duration_predictor_num_flows=1,
        duration_predictor_filter_channels=16, depth_separable_num_layers=1, sampling_rate=sampling_rate,
    )
    torch.manual_seed(0)
    model = VitsModel(config).eval()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def build_speecht5(folder: Path) -> SpeechT5Folders:
    """SpeechT5ForTextToSpeech (width 32) + a SpeechT5HifiGan vocoder + a WavLM x-vector speaker encoder,
    each in its own folder as the operator would keep them; the tokenizer is a sentencepiece model
    trained here on a few sentences."""
    import torch
    from transformers import (
        SpeechT5Config,
        SpeechT5FeatureExtractor,
        SpeechT5ForTextToSpeech,
        SpeechT5HifiGan,
        SpeechT5HifiGanConfig,
        SpeechT5Processor,
        SpeechT5Tokenizer,
        Wav2Vec2FeatureExtractor,
        WavLMConfig,
        WavLMForXVector,
    )

    model_dir, vocoder_dir, encoder_dir = folder / "speecht5", folder / "hifigan", folder / "speaker-encoder"
    tokenizer = SpeechT5Tokenizer(str(_train_sentencepiece(folder / "source")))
    processor = SpeechT5Processor(SpeechT5FeatureExtractor(), tokenizer)
    config = SpeechT5Config(
        vocab_size=len(tokenizer), hidden_size=32, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
        speech_decoder_prenet_units=32, speech_decoder_postnet_layers=2, speech_decoder_postnet_units=32,
        speaker_embedding_dim=512, num_mel_bins=80, reduction_factor=2, max_text_positions=600,
        max_speech_positions=1200, positional_dropout=0.0, hidden_dropout=0.0,
    )
    torch.manual_seed(0)
    model = SpeechT5ForTextToSpeech(config).eval()
    # Random weights would stop at once or anywhere; this one never says "stop", so it speaks until
    # the length bound the product sets: a duration that follows the text, as a real model's does.
    model.speech_decoder_postnet.prob_out.bias.data.fill_(-20.0)
    model.save_pretrained(model_dir)
    processor.save_pretrained(model_dir)
    vocoder_config = SpeechT5HifiGanConfig(
        initializer_range=0.2,  # audible output (about -20 dB): the default random vocoder whispers at -140 dB
        model_in_dim=80, upsample_initial_channel=16, upsample_rates=[4, 4, 4, 4],
        upsample_kernel_sizes=[8, 8, 8, 8], resblock_kernel_sizes=[3], resblock_dilation_sizes=[[1, 3]],
    )
    SpeechT5HifiGan(vocoder_config).eval().save_pretrained(vocoder_dir)
    encoder_config = WavLMConfig(
        hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
        conv_dim=(32, 32), conv_stride=(5, 4), conv_kernel=(10, 8), num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2, tdnn_dim=(32, 32), tdnn_kernel=(5, 1), tdnn_dilation=(1, 1),
        xvector_output_dim=512, num_buckets=32, max_bucket_distance=64,
    )
    WavLMForXVector(encoder_config).eval().save_pretrained(encoder_dir)
    Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16_000, padding_value=0.0, do_normalize=True,
                             return_attention_mask=True).save_pretrained(encoder_dir)
    return SpeechT5Folders(model_dir, vocoder_dir, encoder_dir)


def build_all(folder: Path, *, letters_only: bool = False) -> TinyModels:
    """Every tiny model under ``folder`` (outside pytest, e.g. for the benchmark); ``letters_only``: Whisper
    and the LM write only letters and spaces (see ``speaking``)."""
    whisper, lm = build_whisper(folder / "whisper"), build_lm(folder / "lm")
    return TinyModels(
        whisper=speaking(whisper) if letters_only else whisper, lm=speaking(lm) if letters_only else lm,
        vits=build_vits(folder / "vits"), speecht5=build_speecht5(folder / "speecht5-voices"),
    )


def speaking(model: Path, folder: Path | None = None) -> Path:
    """A copy of a tiny Whisper or LM folder (``folder``, by default next to it) whose generation writes only
    lowercase letters and spaces: every other token is suppressed in its generation config. Its random
    words are then text a voice reads and a recogniser's transcript is speech, so a conversation through
    the real models always takes the same path (never the fallback for unspeakable text)."""
    from transformers import AutoTokenizer, GenerationConfig

    target = Path(shutil.copytree(model, folder or model.with_name(model.name + "-speaking")))
    vocabulary = AutoTokenizer.from_pretrained(target, local_files_only=True).get_vocab()
    generation = GenerationConfig.from_pretrained(target)
    ends = generation.eos_token_id if isinstance(generation.eos_token_id, list) else [generation.eos_token_id]
    readable = set(string.ascii_lowercase) | {_bytes_to_unicode()[ord(" ")]}
    generation.suppress_tokens = sorted(i for token, i in vocabulary.items()
                                        if i not in ends and not set(token) <= readable)
    generation.save_pretrained(target)
    return target


# -- fixtures ---------------------------------------------------------------------------------


def _one_torch_thread() -> None:
    """Tiny models run thousands of microscopic ops: on a busy machine, threads only wait for each other."""
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_whisper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _one_torch_thread()
    return build_whisper(tmp_path_factory.mktemp("whisper"))


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _one_torch_thread()
    return build_lm(tmp_path_factory.mktemp("lm"))


@pytest.fixture(scope="session")
def tiny_vits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _one_torch_thread()
    return build_vits(tmp_path_factory.mktemp("vits"))


@pytest.fixture(scope="session")
def tiny_speecht5(tmp_path_factory: pytest.TempPathFactory) -> SpeechT5Folders:
    _one_torch_thread()
    return build_speecht5(tmp_path_factory.mktemp("speecht5"))


@pytest.fixture(scope="session")
def tiny_models(tiny_whisper: Path, tiny_lm: Path, tiny_vits: Path, tiny_speecht5: SpeechT5Folders) -> TinyModels:
    return TinyModels(tiny_whisper, tiny_lm, tiny_vits, tiny_speecht5)


# -- tokenizer material -------------------------------------------------------------------------


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte → printable character table (every byte-level BPE vocabulary has it)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            table[byte] = chr(byte)
        else:
            table[byte] = chr(256 + extra)
            extra += 1
    return table


def _byte_level_vocab() -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Every byte as a token plus a few merges (word-initial letters, common pairs): encodes any string."""
    vocab = {char: i for i, char in enumerate(_bytes_to_unicode().values())}
    space = _bytes_to_unicode()[ord(" ")]
    merges = [(space, letter) for letter in "abcdefghijklmnopqrstuvwxyz"]
    merges += [("t", "h"), ("h", "e"), ("e", "r"), ("o", "u"), ("i", "n"), ("a", "n")]
    for first, second in merges:
        vocab[first + second] = len(vocab)
    return vocab, merges


def _train_sentencepiece(folder: Path) -> Path:
    """A character-level sentencepiece model, like SpeechT5's own (``spm_char.model``)."""
    import sentencepiece

    folder.mkdir(parents=True, exist_ok=True)
    corpus = folder / "corpus.txt"
    corpus.write_text("\n".join(_SENTENCES * 4), encoding="utf-8")
    options: dict[str, Any] = {
        "input": str(corpus), "model_prefix": str(folder / "spm_char"), "model_type": "char", "vocab_size": 48,
        "character_coverage": 1.0, "bos_id": 0, "pad_id": 1, "eos_id": 2, "unk_id": 3, "minloglevel": 2,
    }
    try:
        sentencepiece.SentencePieceTrainer.train(**options)
    except RuntimeError:  # fewer distinct characters than asked for: take what the corpus has
        options["vocab_size"] = 40
        options["use_all_vocab"] = True
        sentencepiece.SentencePieceTrainer.train(**options)
    return folder / "spm_char.model"
