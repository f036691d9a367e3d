"""The neural models the operator supplies (speech recognition, the chat LM, neural voices, lip-sync),
apart from the render pipeline that uses them.

``ModelHub`` loads each once per process and serves it to every caller: ``hub.get(ASR)``, and
``await hub.load(LLM)`` from async code. ``kinds`` declares each kind of model (its settings and
builder); the implementations are ``asr`` (Whisper, with ``asr_features``), ``dialogue`` (a causal
LM), ``voices`` (VITS, SpeechT5) and ``speakers`` (x-vectors for cloning), served as "tts" backends
by ``voice_backend``; ``lipsync`` holds the Wav2Lip network, its audio features, the batcher every
render shares and a Ray cluster's actor for it. ``loading`` and ``devices`` are what every loader
shares. Importing this package imports no model library: each loads when its model is first built.
"""

from engine.models.hub import MODEL_THREADS, ModelHub
from engine.models.kinds import (
    ASR,
    LIPSYNC,
    LLM,
    SPEAKER_ENCODER,
    SPEECHT5,
    VITS,
    ChatMessage,
    FaceBatcher,
    FaceTicket,
    Model,
    Replier,
    SpeechRecognizer,
)
from engine.models.voice_backend import CLONING_BACKEND

__all__ = ["ASR", "CLONING_BACKEND", "LIPSYNC", "LLM", "MODEL_THREADS", "SPEAKER_ENCODER", "SPEECHT5", "VITS",
           "ChatMessage", "FaceBatcher", "FaceTicket", "Model", "ModelHub", "Replier", "SpeechRecognizer"]
