"""``mouthpiece models``: pulled from a fake Hub on 127.0.0.1 (HF_ENDPOINT) through the real client,
checked by loading, and written into the config."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.cli import app
from core.config import load_config
from tests.fakes.hf_hub import FakeHub, serve
from tests.fakes.models import TinyModels

runner = CliRunner()


@pytest.fixture
def hub(tiny_models: TinyModels, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    repos = {"openai/whisper-base": tiny_models.whisper, "Qwen/Qwen2.5-0.5B-Instruct": tiny_models.lm,
             "facebook/mms-tts-eng": tiny_models.vits, "microsoft/speecht5_tts": tiny_models.speecht5.model,
             "microsoft/speecht5_hifigan": tiny_models.speecht5.vocoder,
             "microsoft/wavlm-base-plus-sv": tiny_models.speecht5.speaker_encoder}
    with serve(FakeHub(repos)) as fake:
        monkeypatch.setenv("HF_ENDPOINT", fake.url)
        monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        yield fake


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "config.toml"
    path.write_text('[agent]\nname = "Test"  # keep me\n\n[models]\n# asr = "models/whisper-base"\ndevice = "cpu"\n')
    return path


def test_pull_downloads_checks_and_writes_the_config(hub: FakeHub, config: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["models", "pull", "whisper-base", "-c", str(config)])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "models" / "whisper-base"
    assert (folder / "config.json").is_file() and "    whisper-base loads: ok" in result.output
    assert f"{config}: [models] asr = \"models/whisper-base\"" in result.output
    assert load_config(config).models.asr == Path("models/whisper-base")
    assert '# keep me' in config.read_text() and '# asr = "models/whisper-base"' in config.read_text()
    assert any(r.startswith("GET /openai/whisper-base/resolve/") for r in hub.requests)  # through the client


def test_pull_a_group_loads_speecht5_with_its_vocoder(hub: FakeHub, config: Path) -> None:
    result = runner.invoke(app, ["models", "pull", "cloning", "-c", str(config)])
    assert result.exit_code == 0, result.output
    models = load_config(config).models
    assert (models.speecht5, models.hifigan, models.speaker_encoder) == (
        Path("models/speecht5-tts"), Path("models/speecht5-hifigan"), Path("models/wavlm-base-plus-sv"))
    checked = runner.invoke(app, ["models", "check", "-c", str(config)])
    assert checked.exit_code == 0, checked.output
    assert checked.output.count(": loads") == 3
    listed = runner.invoke(app, ["models", "list", "-c", str(config)])
    assert [line.split()[4] for line in listed.output.splitlines()[1:4]] == ["-", "-", "-"]
    assert "speecht5-tts speecht5 ~585 MB configured" in " ".join(listed.output.split())


def test_a_model_that_does_not_load_is_not_configured(hub: FakeHub, config: Path, tiny_models: TinyModels) -> None:
    hub.repos["facebook/mms-tts-eng"] = tiny_models.whisper  # the wrong kind of model
    result = runner.invoke(app, ["models", "pull", "mms-tts-eng", "-c", str(config)])
    assert result.exit_code == 1
    assert "mms-tts-eng does not load: [models] vits = \"models/mms-tts-eng\": that folder holds a 'whisper' model" \
           in result.output.replace("\n", " ")
    assert load_config(config).models.vits is None


@pytest.mark.parametrize(("name", "message"), [
    ("nonsense", "There is no model called 'nonsense'. Choose one of: whisper-base,"),
    ("qwen2.5-0.5b-instruct", "could not download it: RepositoryNotFoundError"),
])
def test_unknown_names_and_missing_repositories_are_reported(hub: FakeHub, config: Path, name: str,
                                                             message: str) -> None:
    del hub.repos["Qwen/Qwen2.5-0.5B-Instruct"]
    before = config.read_text()
    result = runner.invoke(app, ["models", "pull", name, "-c", str(config)])
    assert result.exit_code == 1 and message in result.output.replace("\n", " "), result.output
    assert config.read_text() == before


def test_check_reports_a_broken_folder(config: Path, tmp_path: Path) -> None:
    assert "No models are configured" in runner.invoke(app, ["models", "check", "-c", str(config)]).output
    (tmp_path / "empty").mkdir()
    config.write_text(config.read_text().replace('device = "cpu"', 'device = "cpu"\nllm = "empty"'))
    result = runner.invoke(app, ["models", "check", "-c", str(config)])
    assert result.exit_code == 1, result.output
    assert '[models] llm = "empty": the model there could not be loaded' in result.output.replace("\n", " ")
    assert "Traceback" not in result.output


def test_config_lines_keep_the_file_and_fill_tables(tmp_path: Path) -> None:
    import tomllib

    from core.config_edit import set_model_paths

    path = tmp_path / "config.toml"
    path.write_text('[agent]\nname = "X"  # mine\n\n[models]\ndevice = "cpu"\n\n[chat]\nmax_turns = 4\n')
    set_model_paths(path, {"asr": "models/w", "vits_languages.es": "models/es", "vits_languages.fr": "models/fr"})
    set_model_paths(path, {"asr": "models/w2"})
    text = path.read_text()
    assert tomllib.loads(text) == {"agent": {"name": "X"}, "chat": {"max_turns": 4}, "models": {
        "device": "cpu", "asr": "models/w2", "vits_languages": {"es": "models/es", "fr": "models/fr"}}}
    assert '# mine' in text and "\n\n[chat]" in text
    fresh = tmp_path / "new.toml"
    set_model_paths(fresh, {"llm": "models/l"})
    assert tomllib.loads(fresh.read_text()) == {"models": {"llm": "models/l"}}


def test_a_voice_per_language_fills_its_table(hub: FakeHub, config: Path, tiny_models: TinyModels) -> None:
    hub.repos["facebook/mms-tts-spa"] = tiny_models.vits
    result = runner.invoke(app, ["models", "pull", "mms-tts-spa", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert load_config(config).models.vits_languages == {"es": Path("models/mms-tts-spa")}
    checked = runner.invoke(app, ["models", "check", "-c", str(config)])
    assert checked.exit_code == 0 and checked.output.split() == ["vits_languages.es", "models/mms-tts-spa:", "loads"]
