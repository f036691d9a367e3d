from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.errors import UnknownPersonaError
from engine.sprite_set import OPTIONAL_LAYERS, REQUIRED_LAYERS
from engine.types import VoiceSettings
from personas.model import load_persona
from personas.registry import BUILTIN_DIR, PersonaRegistry

BUILTINS = {"friendly": "friendly", "sakura": "anime", "neon": "cyberpunk"}


@pytest.fixture(scope="module")
def registry() -> PersonaRegistry:
    return PersonaRegistry()


def copy_builtin(builtin: str, to: Path, **changes: str) -> Path:
    """A user persona made from a built-in, with top-level TOML keys replaced."""
    shutil.copytree(BUILTIN_DIR / builtin, to)
    lines = (to / "persona.toml").read_text(encoding="utf-8").splitlines()
    for key, value in changes.items():
        lines = [f'{key} = "{value}"' if line.startswith(f"{key} =") else line for line in lines]
    (to / "persona.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return to


def test_builtins_load_with_every_layer(registry: PersonaRegistry) -> None:
    assert set(registry.names()) == set(BUILTINS)
    for persona in registry.all():
        assert persona.style == BUILTINS[persona.name]
        present = {path.stem for path in persona.sprite_dir.glob("*.png")}
        assert set(REQUIRED_LAYERS) | set(OPTIONAL_LAYERS) - {"front"} <= present
        assert persona.description and persona.system_prompt and persona.display_name


def test_builtins_are_distinct(registry: PersonaRegistry) -> None:
    personas = registry.all()
    assert len({p.fingerprint for p in personas}) == len(personas)
    bases = [np.asarray(Image.open(p.sprite_dir / "base.png").convert("RGB"), np.int16) for p in personas]
    for i in range(len(bases)):
        for j in range(i + 1, len(bases)):
            assert np.abs(bases[i] - bases[j]).mean() > 10  # clearly different art, not a recolour
    assert len({p.background for p in personas}) == len(personas)


def test_voices_suit_the_characters(registry: PersonaRegistry) -> None:
    friendly, sakura, neon = (registry.get(n).voice.to_settings() for n in ("friendly", "sakura", "neon"))
    assert isinstance(friendly, VoiceSettings) and friendly.language == "en-us"
    assert sakura.pitch > friendly.pitch > neon.pitch
    assert neon.rate > friendly.rate


def test_greetings_fill_in_name_and_server(registry: PersonaRegistry) -> None:
    for persona in registry.all():
        text = persona.format_greeting("Ann {0}", "Cafe")
        assert "Ann {0}" in text and "Cafe" in text


def test_default_is_friendly_unless_configured() -> None:
    assert PersonaRegistry().default.name == "friendly"
    assert PersonaRegistry(default="Cyberpunk").default.name == "neon"
    with pytest.raises(UnknownPersonaError):
        PersonaRegistry(default="nobody")


def test_get_by_name_or_style_ignoring_case(registry: PersonaRegistry) -> None:
    assert registry.get("SAKURA").name == "sakura"
    assert registry.get("anime").name == "sakura"
    assert registry.get(" Cyberpunk ").name == "neon"
    assert registry.get("friendly").name == "friendly"


def test_unknown_persona_lists_the_choices(registry: PersonaRegistry) -> None:
    with pytest.raises(UnknownPersonaError) as raised:
        registry.get("pirate")
    message = str(raised.value)
    assert "pirate" in message
    assert all(name in message for name in BUILTINS) and "anime" in message


def test_user_personas_add_and_override(tmp_path: Path) -> None:
    user = tmp_path / "mine"
    copy_builtin("friendly", user / "friendly", display_name="Custom Pip")
    copy_builtin("neon", user / "robo", name="robo", style="robot")
    registry = PersonaRegistry(user_dirs=[user])
    assert registry.get("friendly").display_name == "Custom Pip"
    assert registry.get("friendly").root == (user / "friendly").resolve()
    assert registry.get("Robot").name == "robo"
    assert registry.get("friendly").fingerprint != PersonaRegistry().get("friendly").fingerprint
    assert registry.default.display_name == "Custom Pip"


def test_a_single_persona_folder_works_as_a_user_dir(tmp_path: Path) -> None:
    folder = copy_builtin("sakura", tmp_path / "solo", name="solo", style="solo")
    assert PersonaRegistry(user_dirs=[folder]).get("solo").root == folder.resolve()


def test_broken_user_persona_is_skipped_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    broken = copy_builtin("friendly", tmp_path / "mine" / "broken", name="broken", style="broken")
    (broken / "sprite" / "mouth_rest.png").unlink()
    copy_builtin("friendly", tmp_path / "mine" / "fine", name="fine", style="fine")
    with caplog.at_level(logging.WARNING, logger="personas.registry"):
        registry = PersonaRegistry(user_dirs=[tmp_path / "mine", tmp_path / "missing"])
    assert "broken" not in registry and "fine" in registry
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "broken" in warnings[0] and "mouth_rest.png" in warnings[0]


def test_fingerprint_follows_the_sprite_bytes(tmp_path: Path) -> None:
    folder = copy_builtin("friendly", tmp_path / "pip")
    before = load_persona(folder).fingerprint
    assert load_persona(folder).fingerprint == before
    image = Image.open(folder / "sprite" / "mouth_ai.png")
    image.putpixel((0, 0), (1, 2, 3, 4))
    image.save(folder / "sprite" / "mouth_ai.png")
    assert load_persona(folder).fingerprint != before


@pytest.mark.parametrize(
    ("break_it", "expected"),
    [
        (lambda f: (f / "persona.toml").unlink(), r"persona\.toml: missing"),
        (lambda f: (f / "sprite" / "eyes_closed.png").unlink(), r"eyes_closed\.png"),
        (lambda f: Image.new("RGBA", (256, 256)).save(f / "sprite" / "mouth_ai.png"),
         r"mouth_ai\.png: is 256×256 .* same size"),
        (lambda f: Image.new("RGBA", (512, 500)).save(f / "sprite" / "base.png"), r"base\.png: layers must be square"),
        (lambda f: Image.new("RGB", (512, 512)).save(f / "sprite" / "eyes_open.png", format="JPEG"),
         r"eyes_open\.png: is JPEG"),
        (lambda f: (f / "sprite" / "front.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken"), r"front\.png: cannot be read"),
        (lambda f: shutil.rmtree(f / "sprite"), r"sprite folder is missing"),
    ],
)
def test_load_persona_names_the_bad_file(tmp_path: Path, break_it, expected: str) -> None:  # type: ignore[no-untyped-def]
    folder = copy_builtin("sakura", tmp_path / "sakura")
    break_it(folder)
    with pytest.raises(ValueError, match=expected):
        load_persona(folder)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"name": "Bad Name!"}, r"persona\.toml: name"),
        ({"greeting": "Hi {user}"}, r"greeting may only use \{name\} and \{server\}"),
        ({"background": "blue"}, r"background must be a colour"),
        ({"background": "background.png"}, r"sprite/background\.png is missing"),
        ({"root": "/etc"}, r"root must not be set"),
    ],
)
def test_load_persona_rejects_bad_settings(tmp_path: Path, changes: dict[str, str], expected: str) -> None:
    folder = tmp_path / "sakura"
    shutil.copytree(BUILTIN_DIR / "sakura", folder)
    text = (folder / "persona.toml").read_text(encoding="utf-8")
    head, _, voice = text.partition("[voice]")
    head = "\n".join(line for line in head.splitlines() if line.split(" =")[0] not in changes)
    extra = "".join(f'{key} = "{value}"\n' for key, value in changes.items())
    (folder / "persona.toml").write_text(f"{extra}{head}\n[voice]{voice}", encoding="utf-8")
    with pytest.raises(ValueError, match=expected):
        load_persona(folder)


def test_invalid_toml_is_reported(tmp_path: Path) -> None:
    folder = copy_builtin("neon", tmp_path / "neon")
    (folder / "persona.toml").write_text("name = [unclosed", encoding="utf-8")
    with pytest.raises(ValueError, match=r"persona\.toml: not valid TOML"):
        load_persona(folder)


def test_name_and_style_default_and_normalise(tmp_path: Path) -> None:
    folder = tmp_path / "my-bot"
    shutil.copytree(BUILTIN_DIR / "neon", folder)
    text = (folder / "persona.toml").read_text(encoding="utf-8")
    text = text.replace('name = "neon"\n', "").replace('style = "cyberpunk"', 'style = " Robot "')
    (folder / "persona.toml").write_text(text, encoding="utf-8")
    persona = load_persona(folder)
    assert (persona.name, persona.style) == ("my-bot", "robot")


def test_builtin_lists_only_shipped_personas(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    shutil.copytree(BUILTIN_DIR / "neon", mine / "glitch")
    toml = mine / "glitch" / "persona.toml"
    toml.write_text(toml.read_text().replace('name = "neon"', 'name = "glitch"'))
    registry = PersonaRegistry(user_dirs=[mine])
    assert "glitch" in registry.names()
    assert sorted(p.name for p in registry.builtin()) == ["friendly", "neon", "sakura"]
