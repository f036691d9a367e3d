from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from core.config import Config, ConfigError, Secrets, load_config

REPO = Path(__file__).resolve().parents[2]


def test_shipped_config_equals_the_built_in_defaults() -> None:
    assert load_config(REPO / "config.toml") == Config()


def test_every_shipped_section_is_documented_in_the_model() -> None:
    shipped = tomllib.loads((REPO / "config.toml").read_text())
    assert set(shipped) <= set(Config.model_fields)


def test_invalid_value_names_the_setting(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[engine]\nfps = 0\n")
    with pytest.raises(ConfigError, match=r"engine\.fps"):
        load_config(path)


def test_unknown_setting_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "typo.toml"
    path.write_text("[engine]\nwidht = 640\n")
    with pytest.raises(ConfigError, match=r"engine\.widht"):
        load_config(path)


def test_broken_toml_and_missing_file_are_clear(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[engine\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_config_file_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "mine.toml"
    path.write_text("[engine]\nwidth = 320\nheight = 240\n")
    monkeypatch.setenv("MOUTHPIECE_CONFIG", str(path))
    config = load_config()
    assert (config.engine.width, config.engine.height) == (320, 240)


def test_secrets_come_from_the_environment_and_never_show() -> None:
    secrets = Secrets.from_env({"MOUTHPIECE_DISCORD_TOKEN": "abc.def.ghi", "MOUTHPIECE_SLACK_BOT_TOKEN": ""})
    assert secrets.discord_token is not None
    assert secrets.discord_token.get_secret_value() == "abc.def.ghi"
    assert secrets.slack_bot_token is None
    assert "abc.def.ghi" not in repr(secrets) and "abc.def.ghi" not in str(secrets.model_dump())


def test_render_workers_default_to_one_per_core(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.settings import EngineSettings

    monkeypatch.setattr("os.cpu_count", lambda: 6)
    assert EngineSettings().workers == 6
    monkeypatch.setattr("os.cpu_count", lambda: 64)
    assert EngineSettings().workers == 16
    monkeypatch.setattr("os.cpu_count", lambda: None)
    assert EngineSettings().workers == 1
    assert EngineSettings(workers=3).workers == 3
