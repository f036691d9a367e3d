"""The persona format: a folder holding ``persona.toml`` and the assets of its renderer.

A ``sprite`` persona has a ``sprite/`` set of layers; a ``photo`` or ``video`` persona a
face file named by ``face``. The renderer backend checks its assets and lists the files
that make the persona's fingerprint (see ``engine.renderer``).
"""

from __future__ import annotations

import hashlib
import string
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.sprite_set import BACKGROUND_FILE, is_hex_colour
from engine.types import VoiceSettings

if TYPE_CHECKING:
    from engine.renderer import RendererBackend

PERSONA_FILE = "persona.toml"
SPRITE_DIR = "sprite"
GREETING_FIELDS = frozenset({"name", "server"})
_SLUG = r"^[a-z0-9][a-z0-9_-]{0,31}$"


class VoiceConfig(BaseModel):
    """The ``[voice]`` table: the "tts" backend and its parameters (pitch and pitch range are espeak-ng's;
    rate also sets the "vits" voice's speed; ``sample`` is a 3–10 s recording, relative to the persona
    folder, whose voice the "speecht5" backend clones)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: str = Field("espeak", pattern=_SLUG)  # a registered "tts" backend
    language: str = Field("en-us", pattern=r"^[a-z]{2,3}(-[a-z0-9]{1,8})*$")
    variant: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,32}$")
    pitch: int = Field(50, ge=0, le=100)
    rate: int = Field(170, ge=80, le=450)
    pitch_range: int = Field(50, ge=0, le=100)
    sample: Path | None = None

    @field_validator("sample")
    @classmethod
    def _inside_the_folder(cls, sample: Path | None) -> Path | None:
        return inside_the_folder(sample, "voice.wav")

    def to_settings(self) -> VoiceSettings:
        return VoiceSettings(self.language, self.variant, self.pitch, self.rate, self.pitch_range)


class Persona(BaseModel):
    """A persona as loaded from its folder; ``root`` and ``fingerprint`` are set by the loader."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    name: str = Field(pattern=_SLUG)
    display_name: str = Field(min_length=1, max_length=64)
    description: str = Field("", max_length=300)
    style: str = Field(pattern=_SLUG)
    greeting: str = Field("Hi {name}, welcome to {server}!", max_length=500)
    system_prompt: str = Field("", max_length=4000)
    voice: VoiceConfig = VoiceConfig()
    background: str = "#202020"
    renderer: str = Field("sprite", pattern=_SLUG)  # a registered "renderer" backend
    face: Path | None = None  # "photo" and "video" personas: the picture or template video, in the folder
    root: Path
    fingerprint: str = Field(pattern=r"^[0-9a-f]{64}$")

    @field_validator("style", mode="before")
    @classmethod
    def _lowercase_style(cls, style: object) -> object:
        return style.strip().lower() if isinstance(style, str) else style

    @field_validator("greeting")
    @classmethod
    def _only_known_placeholders(cls, greeting: str) -> str:
        try:
            fields = {field for _, field, _, _ in string.Formatter().parse(greeting) if field is not None}
        except ValueError as error:
            raise ValueError(f"greeting is not a valid template ({error}); "
                             "write {{ and }} for literal braces") from error
        if unknown := fields - GREETING_FIELDS:
            raise ValueError(f"greeting may only use {{name}} and {{server}}, not {', '.join(sorted(unknown))}")
        return greeting

    @field_validator("background")
    @classmethod
    def _colour_or_image(cls, background: str) -> str:
        if not (is_hex_colour(background) or background == BACKGROUND_FILE):
            raise ValueError(f"background must be a colour like '#336699' or '{BACKGROUND_FILE}'")
        return background

    @field_validator("face")
    @classmethod
    def _face_inside_the_folder(cls, face: Path | None) -> Path | None:
        return inside_the_folder(face, "face.jpg")

    @property
    def sprite_dir(self) -> Path:
        return self.root / SPRITE_DIR

    @property
    def face_path(self) -> Path | None:
        return self.root / self.face if self.face is not None else None

    def voice_settings(self) -> VoiceSettings:
        settings = self.voice.to_settings()
        return replace(settings, sample=self.root / self.voice.sample) if self.voice.sample else settings

    def format_greeting(self, name: str, server: str) -> str:
        return self.greeting.format(name=name, server=server)


def inside_the_folder(path: Path | None, example: str) -> Path | None:
    if path is not None and (path.is_absolute() or ".." in path.parts):
        raise ValueError(f"must be a path inside the persona folder, e.g. \"{example}\"")
    return path


def load_persona(folder: Path, renderers: Mapping[str, RendererBackend] | None = None) -> Persona:
    """Load and validate a persona folder; ``ValueError`` says which file is wrong and how.

    ``renderers`` are the registered renderer backends (default: the built-in ones); the
    persona's own checks its assets.
    """
    from engine.backends import builtin_renderers

    folder = Path(folder)
    toml_path = folder / PERSONA_FILE
    if not toml_path.is_file():
        raise ValueError(f"{toml_path}: missing (every persona folder needs a {PERSONA_FILE})")
    raw = toml_path.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"{toml_path}: not valid TOML ({error})") from error
    if reserved := {"root", "fingerprint"} & data.keys():
        raise ValueError(f"{toml_path}: {', '.join(sorted(reserved))} must not be set (the loader computes it)")
    renderers = builtin_renderers() if renderers is None else renderers
    kind = data.get("renderer", "sprite")
    if not isinstance(kind, str) or kind not in renderers:
        raise ValueError(f"{toml_path}: renderer: no renderer called {kind!r}; "
                         f"available: {', '.join(sorted(renderers))}")
    try:
        assets = renderers[kind].assets(folder, data)
    except ValueError as error:
        raise ValueError(f"{toml_path}: {error}") from error
    data.setdefault("name", folder.name)
    try:
        persona = Persona(**data, root=folder.resolve(), fingerprint=fingerprint(raw, folder, assets))
    except ValidationError as error:
        raise ValueError(f"{toml_path}: {_describe(error)}") from error
    if persona.voice.sample is None:
        return persona
    sample = persona.root / persona.voice.sample
    _check_voice_sample(toml_path, sample)
    return persona.model_copy(update={"fingerprint": fingerprint(raw, folder, assets, sample)})


def fingerprint(toml_bytes: bytes, folder: Path, assets: Iterable[Path], voice_sample: Path | None = None) -> str:
    """sha256 over persona.toml, the renderer's asset files (names and bytes) and the voice sample:
    a render cache key part."""
    digest = hashlib.sha256(toml_bytes)
    if voice_sample is not None:
        digest.update(b"voice sample\0" + voice_sample.read_bytes())
    for path in sorted(assets):
        data = path.read_bytes()
        digest.update(f"{path.relative_to(folder).as_posix()}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def _check_voice_sample(toml_path: Path, sample: Path) -> None:
    from engine.errors import AudioInputError
    from engine.models.speakers import load_sample

    if not sample.resolve().is_relative_to(toml_path.parent.resolve()) or not sample.is_file():
        raise ValueError(f"{toml_path}: voice.sample: {sample.name} is not a file inside the persona folder")
    try:
        load_sample(sample)
    except AudioInputError as error:
        raise ValueError(f"{toml_path}: voice.sample: {error}") from error


def _describe(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "file"
        problems.append(f"{where}: {item['msg']}")
    return "; ".join(problems)
