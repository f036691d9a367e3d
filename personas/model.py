"""The persona format: a folder holding ``persona.toml`` and a ``sprite/`` set of layers."""

from __future__ import annotations

import hashlib
import string
import tomllib
from dataclasses import replace
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.sprite_set import BACKGROUND_FILE, check_sprite_dir, is_hex_colour
from engine.types import VoiceSettings

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
        if sample is not None and (sample.is_absolute() or ".." in sample.parts):
            raise ValueError("must be a path inside the persona folder, e.g. \"voice.wav\"")
        return sample

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

    @property
    def sprite_dir(self) -> Path:
        return self.root / SPRITE_DIR

    def voice_settings(self) -> VoiceSettings:
        settings = self.voice.to_settings()
        return replace(settings, sample=self.root / self.voice.sample) if self.voice.sample else settings

    def format_greeting(self, name: str, server: str) -> str:
        return self.greeting.format(name=name, server=server)


def load_persona(folder: Path) -> Persona:
    """Load and validate a persona folder; ``ValueError`` says which file is wrong and how."""
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
    if data.get("background") == BACKGROUND_FILE and not (folder / SPRITE_DIR / BACKGROUND_FILE).is_file():
        raise ValueError(f"{toml_path}: background = '{BACKGROUND_FILE}' but {SPRITE_DIR}/{BACKGROUND_FILE} is missing")
    check_sprite_dir(folder / SPRITE_DIR)
    data.setdefault("name", folder.name)
    try:
        persona = Persona(**data, root=folder.resolve(), fingerprint=fingerprint(raw, folder / SPRITE_DIR))
    except ValidationError as error:
        raise ValueError(f"{toml_path}: {_describe(error)}") from error
    if persona.voice.sample is None:
        return persona
    sample = persona.root / persona.voice.sample
    _check_voice_sample(toml_path, sample)
    return persona.model_copy(update={"fingerprint": fingerprint(raw, folder / SPRITE_DIR, sample)})


def fingerprint(toml_bytes: bytes, sprite_dir: Path, voice_sample: Path | None = None) -> str:
    """sha256 over persona.toml, every sprite file (names and bytes) and the voice sample: a render cache key part."""
    digest = hashlib.sha256(toml_bytes)
    if voice_sample is not None:
        digest.update(b"voice sample\0" + voice_sample.read_bytes())
    for path in sorted(sprite_dir.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            digest.update(f"{path.relative_to(sprite_dir).as_posix()}\0{len(data)}\0".encode())
            digest.update(data)
    return digest.hexdigest()


def _check_voice_sample(toml_path: Path, sample: Path) -> None:
    from engine.errors import AudioInputError
    from engine.speakers import load_sample

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
