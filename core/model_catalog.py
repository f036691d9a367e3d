"""The models ``mouthpiece models`` offers, how one is fetched from the Hugging Face Hub, and
how a model folder is checked the way the agent will load it.

Fetching happens only when the operator runs ``mouthpiece models pull``: the agent itself
never downloads anything, it loads the folders named in ``[models]``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from engine.settings import ModelSettings

#: Weights in these formats are never needed: the loaders read safetensors (or PyTorch's .bin).
_OTHER_FRAMEWORKS = ["*.h5", "*.msgpack", "*.ot", "*.onnx", "*.onnx_data", "*.tflite", "*.gguf", "*.mlmodel",
                     "onnx/*", "openvino/*", "coreml/*", "*.pt"]


@dataclass(frozen=True)
class Recommended:
    """One model of the catalog: ``key`` is the ``[models]`` setting it fills (dotted for a table)."""

    name: str
    repo: str
    key: str
    what: str
    size_mb: int  # about what the download weighs

    @property
    def setting(self) -> str:
        """The ``[models]`` field the key belongs to (``vits_languages`` for ``vits_languages.es``)."""
        return self.key.split(".")[0]


CATALOG = (
    Recommended("whisper-base", "openai/whisper-base", "asr", "voice messages → text (Whisper, multilingual)", 290),
    Recommended("qwen2.5-0.5b-instruct", "Qwen/Qwen2.5-0.5B-Instruct", "llm",
                "replies in conversations (a small chat model)", 990),
    Recommended("mms-tts-eng", "facebook/mms-tts-eng", "vits", "the vits voice, English", 145),
    Recommended("mms-tts-spa", "facebook/mms-tts-spa", "vits_languages.es", "the vits voice, Spanish", 145),
    Recommended("mms-tts-fra", "facebook/mms-tts-fra", "vits_languages.fr", "the vits voice, French", 145),
    Recommended("mms-tts-deu", "facebook/mms-tts-deu", "vits_languages.de", "the vits voice, German", 145),
    Recommended("mms-tts-por", "facebook/mms-tts-por", "vits_languages.pt", "the vits voice, Portuguese", 145),
    Recommended("speecht5-tts", "microsoft/speecht5_tts", "speecht5", "the speecht5 voice, which can clone voices",
                585),
    Recommended("speecht5-hifigan", "microsoft/speecht5_hifigan", "hifigan", "the vocoder the speecht5 voice needs",
                50),
    Recommended("wavlm-base-plus-sv", "microsoft/wavlm-base-plus-sv", "speaker_encoder",
                "voice cloning from a 3–10 s sample (!voice, --voice mine)", 380),
)
GROUPS = {
    "recommended": "every model listed",
    "cloning": "speecht5-tts, speecht5-hifigan and wavlm-base-plus-sv: members speak in their own voice",
    "voices": "the MMS voices, one per language",
}


class CatalogError(ValueError):
    """A name that is neither a model nor a group of the catalog."""


def available() -> list[Recommended]:
    """The catalog's models whose setting this version's ``[models]`` has."""
    return [model for model in CATALOG if model.setting in ModelSettings.model_fields]


def resolve(name: str) -> list[Recommended]:
    """The models a ``pull NAME`` means: one by name, or a group."""
    models = available()
    wanted = name.strip().lower()
    if wanted == "recommended":
        return models
    if wanted == "cloning":
        return [m for m in models if m.key in ("speecht5", "hifigan", "speaker_encoder")]
    if wanted == "voices":
        return [m for m in models if m.setting in ("vits", "vits_languages")]
    if chosen := [m for m in models if m.name == wanted]:
        return chosen
    names = ", ".join([*(m.name for m in models), *GROUPS])
    raise CatalogError(f"There is no model called {name!r}. Choose one of: {names} (mouthpiece models list).")


def endpoint() -> str | None:
    """The Hub to fetch from: ``HF_ENDPOINT`` when set (a mirror), else the public one."""
    return os.environ.get("HF_ENDPOINT") or None


def download(model: Recommended, folder: Path) -> Path:
    """Fetch ``model``'s files into ``folder`` (resuming a partial download), with a progress bar."""
    from huggingface_hub import HfApi, snapshot_download

    files = [s.rfilename for s in HfApi(endpoint=endpoint()).model_info(model.repo).siblings or []]
    ignore = list(_OTHER_FRAMEWORKS)
    if any(f.endswith(".safetensors") for f in files):
        ignore.append("*.bin")  # the same weights twice: keep the safer format
    snapshot_download(model.repo, local_dir=folder, ignore_patterns=ignore, endpoint=endpoint())
    return folder


def verify(key: str, folder: Path, partner: Path | None = None) -> None:
    """Load the folder as the agent would for ``key``; ``ModelError`` (naming the setting) if it can't.

    SpeechT5 and its HiFi-GAN vocoder load together when ``partner`` (the other one) is known."""
    from engine.models import ASR, LLM, SPEAKER_ENCODER, SPEECHT5, VITS, Model, ModelHub
    from engine.models.loading import check_folder, load

    setting = key.split(".")[0]
    hub = ModelHub(ModelSettings(device="cpu"))
    alone: dict[str, Model[object]] = {"asr": ASR, "llm": LLM, "vits": VITS, "vits_languages": VITS,
                                       "speaker_encoder": SPEAKER_ENCODER}
    if setting in alone:
        alone[setting].build(hub, (folder,))
    elif partner is not None:
        SPEECHT5.build(hub, (folder, partner) if setting == "speecht5" else (partner, folder))
    elif setting == "speecht5":
        from transformers import SpeechT5ForTextToSpeech

        check_folder(folder, key, kinds=("speecht5",), what="a SpeechT5 text-to-speech model")
        load(key, folder, lambda: SpeechT5ForTextToSpeech.from_pretrained(folder, local_files_only=True))
    else:
        from transformers import SpeechT5HifiGan

        check_folder(folder, key, kinds=("hifigan", "speecht5_hifigan"), what="a HiFi-GAN vocoder")
        load(key, folder, lambda: SpeechT5HifiGan.from_pretrained(folder, local_files_only=True))
